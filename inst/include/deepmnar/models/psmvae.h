// PSMVAE (Ghalebikesabi, Cornish, Holmes and Kelly, AISTATS 2021): a mixture
// over k missingness pattern sets r, each with a latent code z | r of its own
// learned prior, separate heads for x_obs and x_mis, and a mask model.
//
// Generative model, for pattern set r (uniform prior 1/k):
//   z | r ~ N(mu_r, diag exp(lv_r));  x_obs,j, x_mis,j | z, r ~ N(decoder(z, r))
//   (b) s_j | z, r ~ Bern(sigmoid(decoder(z, r)))
//   (a) s_j | x, r ~ Bern(sigmoid(-d_j softplus(w_rj) (x_j - b_rj))), x_j =
//       x_obs,j where observed and x_mis,j where missing: a self-masking
//       logistic regression per pattern set, with the direction d_j = +1 when
//       high values go missing (as not-MIWAE's selfmask_known). The paper
//       leaves p(m | x, r) open; its authors' code has a linear layer on
//       [x, onehot(r)], whose sign is not identified (on banknote it learned
//       that low values go missing and imputed 3 sd below the truth).
// Recognition: q(r | x, s) (softmax), q(z | x, s, r), q(x_mis | x, s, z, r),
// all reading the zero-filled row and the mask or, with the set encoder, one
// summed code of the row's observed (item, value) pairs (SetCode), shared by
// the three networks.
//
// Ratings (obs "rating"): both heads' means are lower + width sigmoid(.) on
// the rating columns (RatingRanges), so neither can leave the scale; the
// heads keep their own scales per sample.
//
// Categorical (and ordered) variables: both heads give the levels' logits
// (ordered ones through cutpoints of their own, OrdinalBlocks), q(x_mis)
// gives logits too, and its draw is a Gumbel-softmax relaxation in training
// (Gumbel-max when imputing). The draw term of a categorical variable is the
// exact -KL(q || p) over its levels rather than a one-draw estimate; the mask
// reads the relaxed draw, and a variable's mask logits are pooled into one
// (as in the other models).
//
// Objective (the ELBO of the paper's Table 1, r summed out exactly):
//   L = sum_r q(r) [ E_q[A_r] + log(1/k) - log q(r) ],
//   A_r = sum_{j obs} log p(x_j | z, r) + log p(z | r) - log q(z | r)
//       + log p(s | ...)
//       + sum_j a_j [log p(x~_j | z, r) - log q(x~_j | z, r)]
//       + (1 - pi') sum_{j obs} log p(x_mis,j = x_j | z, r),
// with x~ ~ q(x_mis | ...), a_j = 1 for missing cells and pi' for observed
// ones: an observed value also supervises the x_mis head with probability
// 1 - pi' (the paper's probabilistic semi-supervision). E_q[A_r] is the mean
// over K reparameterised draws of z (and of x~ for each z).
//
// Imputation targets p(x_mis | x_obs, s) = sum_r p(r, x_mis | x_obs, s). Draws
// z_l come from the proposal q(z | x, s) = sum_r q(r) q(z | x, s, r); every
// pattern set r' is then evaluated at z_l, so the samples are the pairs
// (l, r') with x_mis ~ p(x_mis | z_l, r') and
//   log w_lr' = log(1/k) + log p(z_l | r') + log p(x_obs | z_l, r')
//             + log p(s | z_l, r' [, x]) - log sum_r q(r) q(z_l | r).
// Self-normalised over all (l, r'), these weights estimate the conditional
// mean consistently. In (b) they do not involve x_mis, so decoder means may
// replace the draws; in (a) the mask term reads x_mis, and conditional means
// integrate each missing cell instead (marginalise_missing_cells).
#ifndef DEEPMNAR_MODELS_PSMVAE_H
#define DEEPMNAR_MODELS_PSMVAE_H

#include "../bound.h"
#include "../components.h"
#include "../missing_models.h"
#include "../set_encoder.h"

namespace deepmnar {

class Psmvae {
 public:
  struct Workspace {
    // Read by the imputer: the x_mis head (mu, scale), the filled rows, the
    // log-weights (training: one ELBO per row).
    ObservationParams obs;
    RowMat xfill;
    Eigen::VectorXd lw;
    int K = 1;
    // Pattern sets.
    // What the three recognition networks read of a row: [zero-filled row,
    // mask], or the set encoder's summed code.
    RowMat enc_in, d_enc_in, d_r_in, d_z_in;
    SetCache set;
    RowMat log_q_r, q_r, contribution, d_r_logits;
    MlpCache r_cache;
    // z | r.
    RowMat z_in, eps, z;
    EncoderOutput z_enc;
    std::vector<int> set_of;  // pattern set of every sample
    // Decoder p(x_obs, x_mis, s | z, r).
    RowMat dec_in, mu_o, scale_o, logits, d_dec, d_dec_in;
    RowMat slope_o, slope_m;  // obs "rating": d mean / d location of the two heads
    MlpCache dec_cache;
    // q(x_mis | x, s, z, r).
    RowMat xq_in, x_eps, x_draw, d_xq_in;
    EncoderOutput x_enc;
    // Per-sample terms shared by forward and backward.
    RowMat seen, x_rep, u_o, u_draw, u_sup, weight_draw;
    // Categorical variables: level probabilities of the x_obs head and of
    // q(x_mis); ordered variables' locations in both heads.
    RowMat prob_o, q_prob, ordinal_o, ordinal_m;
    RowMat mask_in_buffer;
    const RowMat* mask_in = nullptr;  // what variant (a)'s mask model reads (Categories::mask_input)
    Eigen::VectorXd objective_terms, g_sample;
    RowMat d_z, d_mu_q, d_log_var_q, d_mu_x, d_log_var_x;
    // Imputing conditional means (variant a): the columns whose missing
    // cells are integrated over instead of drawn (marginalise_missing_cells).
    std::vector<char> marginal_columns;
  };

  explicit Psmvae(const deepmnar_io::ModelSpec& spec)
      : p_(spec.p), latent_(spec.latent), k_(spec.k), variant_a_(spec.variant == deepmnar_io::psmvae_a),
        set_(spec.encoder == deepmnar_io::encoder_set), pi_(spec.pi_prime), temperature_(spec.temperature),
        cats_(spec.category_group, spec.category_value), ratings_(spec.rating_lower, spec.rating_upper),
        floor_(Eigen::Map<const RowVec>(spec.sigma_floor.data(), Eigen::Index(spec.sigma_floor.size()))),
        direction_(Eigen::Map<const RowVec>(spec.direction.data(), Eigen::Index(spec.direction.size()))) {
    const Activation act = activation_from(spec.activation);
    ParamLayout layout(spec.precision == deepmnar_io::precision_float);
    if (set_) code_ = SetCode(p_, spec.set_embedding, spec.set_code, layout);
    in_width_ = set_ ? code_.width() : 2 * p_;
    layout.part("set_encoder");  // q(r | x, s): the pattern sets, not the set code
    r_encoder_ = Mlp(in_width_, spec.hidden, k_, act, layout);
    layout.part("z_encoder");
    z_encoder_ = GaussianEncoder(in_width_ + k_, spec.hidden, latent_, act, layout);
    layout.part("prior");
    prior_offset_ = layout.take(std::size_t(2) * k_ * latent_);
    layout.part("decoder");
    decoder_ = Mlp(latent_ + k_, spec.hidden, (variant_a_ ? 4 : 5) * p_, act, layout);
    ordinal_o_ = OrdinalBlocks(cats_, spec.category_ordinal, layout);
    ordinal_m_ = OrdinalBlocks(cats_, spec.category_ordinal, layout);
    continuous_ = RowVec::Ones(p_);
    for (int j = 0; j < p_; ++j)
      if (cats_.in(j)) continuous_(j) = 0.0;
    layout.part("x_encoder");
    x_encoder_ = GaussianEncoder(in_width_ + latent_ + k_, spec.hidden, p_, act, layout);
    layout.part("mask_model");
    if (variant_a_) mask_offset_ = layout.take(std::size_t(2) * k_ * p_);
    blocks_ = layout.blocks();
    n_params_ = layout.size();
  }

  std::size_t n_params() const { return n_params_; }
  const std::vector<deepmnar_io::ParamBlock>& blocks() const { return blocks_; }
  bool student_t() const { return false; }
  int samples_per_row(int) const { return 1; }  // one ELBO per row
  bool weights_use_missing_draws() const { return variant_a_; }

  // Prior means start close together (0.1 N(0, 1)): drawn N(0, 1), whichever
  // set the encoder's first outputs happened to sit near took every row at
  // once and the other never trained (q(r) ~ 1e-7 on wdbc). The small spread
  // still breaks the symmetry between sets. Log-variances start at 0.
  void init(double* theta, Rng& rng) const {
    if (set_) code_.init(theta, rng);
    r_encoder_.init(theta, rng);
    z_encoder_.init(theta, rng);
    for (int i = 0; i < k_ * latent_; ++i) theta[prior_offset_ + i] = 0.1 * rng.normal();
    for (int i = 0; i < k_ * latent_; ++i) theta[prior_offset_ + k_ * latent_ + i] = 0.0;
    decoder_.init(theta, rng);
    ordinal_o_.init(theta);
    ordinal_m_.init(theta);
    x_encoder_.init(theta, rng);
    if (variant_a_) std::fill(theta + mask_offset_, theta + mask_offset_ + std::size_t(2) * k_ * p_, 0.0);
  }

  // Variant (a): every set's midpoint where P(observed) at the column's
  // observed mean (0, standardised) is the column's observed share, so that
  // the mask model starts as MCAR fitted, as not-MIWAE's does. Started at
  // P(observed) = 1/2, rating columns 10-30% observed were explained by
  // moving the missing cells' draws, and with them the x_mis head, to the
  // end of the scale (MSE 5.24 on MovieLens against 0.81 for item means).
  void start_from_data(double* theta, const deepmnar_io::MaskStart& start) const {
    if (!variant_a_) return;
    const CMapRowMat raw = mask_slope_raw(theta);
    MapRowMat midpoint(theta + mask_offset_ + std::size_t(k_) * p_, k_, p_);
    for (int r = 0; r < k_; ++r)
      for (int j = 0; j < p_; ++j)
        if (start.incomplete[std::size_t(j)])
          midpoint(r, j) = logit(start.share[std::size_t(j)]) / (direction_(j) * softplus(raw(r, j)));
  }

  void forward(const double* theta, RowBlock& b, int K, bool imputing, Workspace& w) const {
    if (imputing) forward_imputation(theta, b, K, w);
    else forward_elbo(theta, b, K, w);
  }

  // Training: w.lw[i] is the ELBO of row i (K draws of z per pattern set).
  void forward_elbo(const double* theta, RowBlock& b, int K, Workspace& w) const {
    const int R = int(b.x.rows());
    w.K = K;
    pattern_posterior(theta, b, w);
    encode_z(theta, b, w);
    reparameterised_draws(w.z_enc, K, b.rng, k_, w.eps, w.z);
    w.set_of.resize(w.z.rows());
    for (Eigen::Index n = 0; n < w.z.rows(); ++n) w.set_of[n] = int(n / K) % k_;
    expand_rows(b, K * k_, w);
    decode(theta, w);
    draw_x_posterior(theta, b, w);
    fill_rows(w.x_draw, w);
    mask_logits(theta, w);
    sample_objectives(theta, b, w);
    w.contribution.resize(R, k_);
    w.lw.resize(R);
    for (int i = 0; i < R; ++i) {
      for (int r = 0; r < k_; ++r)
        w.contribution(i, r) = w.objective_terms.segment((Eigen::Index(i) * k_ + r) * K, K).mean() -
                               std::log(double(k_)) - w.log_q_r(i, r);
      w.lw[i] = w.q_r.row(i).dot(w.contribution.row(i));
    }
  }

  // Imputation of one row: K draws of z from the mixture proposal, each
  // evaluated under every pattern set (sample l * k + r').
  void forward_imputation(const double* theta, RowBlock& b, int K, Workspace& w) const {
    const int d = latent_;
    w.K = K;
    pattern_posterior(theta, b, w);
    encode_z(theta, b, w);
    Rng& rng = b.rng[0];
    w.eps.resize(K, d);
    w.z.resize(K, d);
    Eigen::VectorXd log_proposal(K);
    std::vector<double> terms(k_);
    for (int l = 0; l < K; ++l) {
      const int r = categorical_draw(w.q_r.row(0), rng.uniform());
      for (int j = 0; j < d; ++j) w.eps(l, j) = rng.normal();
      w.z.row(l) = w.z_enc.mu.row(r).array() + w.z_enc.sd.row(r).array() * w.eps.row(l).array();
      for (int s = 0; s < k_; ++s)
        terms[s] = w.log_q_r(0, s) + diagonal_normal_log_density(w.z.row(l), w.z_enc.mu.row(s), w.z_enc.log_var.row(s));
      log_proposal[l] = log_mean_exp(terms.data(), k_) + std::log(double(k_));
    }
    const Eigen::Index N = Eigen::Index(K) * k_;
    w.set_of.resize(N);
    for (Eigen::Index n = 0; n < N; ++n) w.set_of[n] = int(n % k_);
    RowMat z_each(N, d);
    for (Eigen::Index n = 0; n < N; ++n) z_each.row(n) = w.z.row(n / k_);
    w.z.swap(z_each);
    expand_rows(b, int(N), w);
    decode(theta, w);
    w.x_draw.resize(N, p_);
    for (Eigen::Index n = 0; n < N; ++n)
      for (int j = 0; j < p_; ++j) {
        if (!cats_.in(j)) {
          w.x_draw(n, j) = w.obs.mu(n, j) + w.obs.scale(n, j) * rng.normal();
        } else if (cats_.leads(j)) {
          const int k = cats_.size[std::size_t(j)];
          draw_category(w.obs.mu.row(n).segment(j, k), true, temperature_, rng, w.x_draw.row(n).segment(j, k));
        }
      }
    fill_rows(w.x_draw, w);
    mask_logits(theta, w);
    w.lw = observed_log_density(w) + bernoulli_log_likelihoods(w.logits, b.observed, int(N), cats_.counted);
    const CMapRowMat mu_p = prior_mean(theta);
    const RowMat lv_p = prior_log_var(theta);
    for (Eigen::Index n = 0; n < N; ++n) {
      const int r = w.set_of[n];
      w.lw[n] += -std::log(double(k_)) - log_proposal[n / k_] +
                 diagonal_normal_log_density(w.z.row(n), mu_p.row(r), lv_p.row(r));
    }
    if (variant_a_ && !w.marginal_columns.empty()) marginalise_missing_cells(theta, b, w);
  }

  // Variant (a), conditional means: a missing cell's mask logit reads only
  // its own value, so given (z_l, r') the cell is integrated over
  // (marginal_missing_cell) instead of drawn, as not-MIWAE's self-masking
  // models are. The target is the same, but with a draw in every missing
  // cell the weights multiply ~100 random mask terms on sparse rating rows
  // (MovieLens: median ESS 13 of 10,000 samples) and the imputations are
  // close to single draws. Categorical cells (pooled logits) keep theirs.
  void marginalise_missing_cells(const double* theta, const RowBlock& b, Workspace& w) const {
    const RowMat slope = mask_slopes(theta);
    const CMapRowMat midpoint = mask_midpoint(theta);
    const Eigen::Index per_row = w.xfill.rows() / b.x.rows();
    for (Eigen::Index n = 0; n < w.xfill.rows(); ++n) {
      const int r = w.set_of[n];
      for (int j = 0; j < p_; ++j) {
        if (b.observed(n / per_row, j) > 0 || cats_.in(j) || !w.marginal_columns[std::size_t(j)]) continue;
        // logit = -slope (x - midpoint): own part -slope x, the rest slope midpoint
        OwnLogit own;
        own.separable = true;
        own.b = -slope(r, j);
        const MarginalMissingCell cell =
            marginal_missing_cell(w.obs.mu(n, j), w.obs.scale(n, j), slope(r, j) * midpoint(r, j), own);
        if (!cell.valid) continue;
        w.lw[n] += cell.log_z - log_missing_probability(w.logits(n, j));
        w.xfill(n, j) = cell.mean;
      }
    }
  }

  void backward(const double* theta, const RowBlock& b, const Eigen::VectorXd& g, Workspace& w, double* grad) const {
    const int R = int(b.x.rows()), K = w.K;
    const Eigen::Index N = w.z.rows();
    // d L / d A_n = g_i q(r | row i) / K.
    w.g_sample.resize(N);
    for (Eigen::Index n = 0; n < N; ++n) {
      const int i = int(n / (Eigen::Index(K) * k_));
      w.g_sample[n] = g[i] * w.q_r(i, w.set_of[n]) / K;
    }
    // Pattern-set posterior: d/d logit_r of sum_r q_r c_r = q_r (c_r - sum q c).
    w.d_r_logits.resize(R, k_);
    for (int i = 0; i < R; ++i) {
      const double mean_c = w.q_r.row(i).dot(w.contribution.row(i));
      w.d_r_logits.row(i) = g[i] * (w.q_r.row(i).array() * (w.contribution.row(i).array() - mean_c)).matrix();
    }
    r_encoder_.backward(theta, w.enc_in, w.r_cache, w.d_r_logits, grad, set_ ? &w.d_r_in : nullptr);

    const auto gs = w.g_sample.array();
    const auto seen = w.seen.array();
    // Decoder outputs: x_obs head on observed cells; x_mis head on the draws
    // (weight a_j) and, with weight 1 - pi', on the observed values.
    w.d_dec.resize(N, decoder_.out_dim());
    auto d_mu_o = w.d_dec.leftCols(p_).array();
    auto d_raw_o = w.d_dec.middleCols(p_, p_).array();
    auto d_mu_m = w.d_dec.middleCols(2 * p_, p_).array();
    auto d_raw_m = w.d_dec.middleCols(3 * p_, p_).array();
    const auto so = w.scale_o.array();
    const auto sm = w.obs.scale.array();
    const auto uo = w.u_o.array(), ud = w.u_draw.array(), us = w.u_sup.array(), a = w.weight_draw.array();
    const auto cont = continuous_.array();
    d_mu_o = ((seen * uo / so).colwise() * gs).rowwise() * cont;
    d_raw_o = (((seen * (uo.square() - 1.0) / so).colwise() * gs) *
               logistic(w.dec_cache.out.back().middleCols(p_, p_))).rowwise() * cont;
    d_mu_m = (((a * ud + (1.0 - pi_) * seen * us) / sm).colwise() * gs).rowwise() * cont;
    d_raw_m = ((((a * (ud.square() - 1.0) + (1.0 - pi_) * seen * (us.square() - 1.0)) / sm).colwise() * gs) *
               logistic(w.dec_cache.out.back().middleCols(3 * p_, p_))).rowwise() * cont;
    // The draw x~ = mu_x + sd_x eps: d/dx~ of a_j log p(x~ | z, r).
    RowMat d_draw = (((-(a * ud / sm)).colwise() * gs).rowwise() * cont).matrix();
    RowMat d_logits;
    bernoulli_logit_gradients(w.logits, b.observed, w.g_sample, K * k_, 1.0, cats_.counted, d_logits);
    cats_.unpool(d_logits);
    if (variant_a_) {
      self_masking_backward(theta, d_logits, w, d_draw, grad);
    } else {
      w.d_dec.rightCols(p_) = d_logits;
    }
    // q(x_mis): the draw's path, and + a_j log_var / 2 from -log q(x~).
    w.d_mu_x = d_draw;
    w.d_log_var_x = (0.5 * (d_draw.array() * w.x_eps.array() * w.x_enc.sd.array() + a.colwise() * gs)).matrix();
    w.d_log_var_x.array().rowwise() *= cont;
    if (cats_.any) categorical_backward(d_draw, w);
    ordinal_backward(theta, w, grad);
    if (ratings_.any()) {
      w.d_dec.leftCols(p_).array() *= w.slope_o.array();
      w.d_dec.middleCols(2 * p_, p_).array() *= w.slope_m.array();
    }
    decoder_.backward(theta, w.dec_in, w.dec_cache, w.d_dec, grad, &w.d_dec_in);
    w.d_z = w.d_dec_in.leftCols(latent_);

    x_encoder_.backward(theta, w.xq_in, w.x_enc, w.d_mu_x, w.d_log_var_x, grad, &w.d_xq_in);
    w.d_z += w.d_xq_in.middleCols(in_width_, latent_);

    prior_backward(theta, w, grad);
    reparameterisation_backward(w.d_z, w.eps, w.z_enc, w.g_sample, R * k_, K, latent_, w.d_mu_q, w.d_log_var_q);
    z_encoder_.backward(theta, w.z_in, w.z_enc, w.d_mu_q, w.d_log_var_q, grad, set_ ? &w.d_z_in : nullptr);
    if (set_) set_code_backward(theta, R, w, grad);
  }

  // P(observed) per cell for each sample of the last forward pass.
  void sample_mask_probability(const Workspace& w, RowMat& out) const { out = logistic(w.logits).matrix(); }

  // q(r | x, s) for every row (n x k).
  void pattern_probabilities(const double* theta, const RowBlock& b, RowMat& out) const {
    Workspace w;
    pattern_posterior(theta, b, w);
    out = w.q_r;
  }

  // Posterior means of z: sum_r q(r | x, s) E[z | x, s, r] (n x latent).
  void latent_means(const double* theta, const RowBlock& b, RowMat& out) const {
    Workspace w;
    pattern_posterior(theta, b, w);
    encode_z(theta, b, w);
    out.setZero(b.x.rows(), latent_);
    for (Eigen::Index i = 0; i < b.x.rows(); ++i)
      for (int r = 0; r < k_; ++r) out.row(i) += w.q_r(i, r) * w.z_enc.mu.row(i * k_ + r);
  }

 private:
  template <class A>
  static auto logistic(const A& a) -> decltype(1.0 / (1.0 + (-a.array()).exp())) {
    return 1.0 / (1.0 + (-a.array()).exp());
  }

  CMapRowMat prior_mean(const double* theta) const { return CMapRowMat(theta + prior_offset_, k_, latent_); }
  RowMat prior_log_var(const double* theta) const {
    return CMapRowMat(theta + prior_offset_ + std::size_t(k_) * latent_, k_, latent_)
        .array()
        .max(-kLogVarClip)
        .min(kLogVarClip)
        .matrix();
  }

  template <class Z, class M, class V>
  static double diagonal_normal_log_density(const Z& z, const M& mu, const V& log_var) {
    return (-0.5 * (z.array() - mu.array()).square() * (-log_var.array()).exp() - 0.5 * log_var.array() -
            0.5 * kLogTwoPi)
        .sum();
  }

  template <class Row>
  static int categorical_draw(const Row& probabilities, double u) {
    double cumulative = 0.0;
    for (Eigen::Index r = 0; r + 1 < probabilities.size(); ++r) {
      cumulative += probabilities(r);
      if (u < cumulative) return int(r);
    }
    return int(probabilities.size()) - 1;
  }

  // [zero-filled row, mask] (MLP), or the summed code of the row's observed
  // cells (set encoder: the cost grows with those cells, not with p).
  void recognition_input(const double* theta, const RowBlock& b, Workspace& w) const {
    if (set_) {
      code_.forward(theta, b.x, b.observed, w.set);
      w.enc_in = w.set.pooled;
      return;
    }
    w.enc_in.resize(b.x.rows(), 2 * p_);
    w.enc_in << b.x, b.observed;
  }

  // The three recognition networks' gradients in their shared input, summed
  // per row (over pattern sets and samples), into the set code.
  void set_code_backward(const double* theta, int R, Workspace& w, double* grad) const {
    w.d_enc_in = w.d_r_in;
    for (Eigen::Index i = 0; i < R; ++i)
      for (int r = 0; r < k_; ++r) w.d_enc_in.row(i) += w.d_z_in.row(i * k_ + r).head(in_width_);
    const Eigen::Index per_row = w.xq_in.rows() / R;
    for (Eigen::Index n = 0; n < w.xq_in.rows(); ++n) w.d_enc_in.row(n / per_row) += w.d_xq_in.row(n).head(in_width_);
    w.set.d_pooled = w.d_enc_in;
    code_.backward(theta, grad, w.set);
  }

  // q(r | x, s) from what the recognition networks read of each row.
  void pattern_posterior(const double* theta, const RowBlock& b, Workspace& w) const {
    recognition_input(theta, b, w);
    const RowMat& logits = r_encoder_.forward(theta, w.enc_in, w.r_cache);
    w.log_q_r.resize(logits.rows(), k_);
    w.q_r.resize(logits.rows(), k_);
    for (Eigen::Index i = 0; i < logits.rows(); ++i) {
      const double m = logits.row(i).maxCoeff();
      const double log_total = m + std::log((logits.row(i).array() - m).exp().sum());
      w.log_q_r.row(i) = logits.row(i).array() - log_total;
      w.q_r.row(i) = w.log_q_r.row(i).array().exp();
    }
  }

  // q(z | x, s, r) for every row and pattern set (row i * k + r).
  void encode_z(const double* theta, const RowBlock& b, Workspace& w) const {
    const Eigen::Index R = b.x.rows();
    w.z_in.setZero(R * k_, in_width_ + k_);
    for (Eigen::Index i = 0; i < R; ++i)
      for (int r = 0; r < k_; ++r) {
        w.z_in.row(i * k_ + r).head(in_width_) = w.enc_in.row(i);
        w.z_in(i * k_ + r, in_width_ + r) = 1.0;
      }
    z_encoder_.forward(theta, w.z_in, w.z_enc);
  }

  // Row i's values and mask repeated for its `per` samples.
  void expand_rows(const RowBlock& b, int per, Workspace& w) const {
    const Eigen::Index N = w.z.rows();
    w.seen.resize(N, p_);
    w.x_rep.resize(N, p_);
    for (Eigen::Index n = 0; n < N; ++n) {
      w.seen.row(n) = b.observed.row(n / per);
      w.x_rep.row(n) = b.x.row(n / per);
    }
  }

  // Decoder on [z, onehot(r)]: heads [mu_obs | scale_obs | mu_mis | scale_mis | logits (b)].
  void decode(const double* theta, Workspace& w) const {
    const Eigen::Index N = w.z.rows();
    w.dec_in.setZero(N, latent_ + k_);
    w.dec_in.leftCols(latent_) = w.z;
    for (Eigen::Index n = 0; n < N; ++n) w.dec_in(n, latent_ + w.set_of[n]) = 1.0;
    const RowMat& h = decoder_.forward(theta, w.dec_in, w.dec_cache);
    w.mu_o = h.leftCols(p_);
    w.scale_o = (softplus_array(h.middleCols(p_, p_).array()).rowwise() + floor_.array()).matrix();
    w.obs.mu = h.middleCols(2 * p_, p_);
    w.obs.scale = (softplus_array(h.middleCols(3 * p_, p_).array()).rowwise() + floor_.array()).matrix();
    if (ratings_.any()) {
      ratings_.bound(w.mu_o, w.slope_o);
      ratings_.bound(w.obs.mu, w.slope_m);
    }
    if (ordinal_o_.any()) ordinal_o_.forward(theta, w.mu_o, w.ordinal_o);
    if (ordinal_m_.any()) ordinal_m_.forward(theta, w.obs.mu, w.ordinal_m);
    w.obs.cats = &cats_;
    if (cats_.any) {
      cats_.softmax(w.mu_o, w.prob_o);
      cats_.softmax(w.obs.mu, w.obs.level_prob);
    }
    if (variant_a_) return;
    w.logits = h.rightCols(p_);
    cats_.pool(w.logits);
  }

  // x~ ~ q(x_mis | x, s, z, r) for every cell of every sample.
  void draw_x_posterior(const double* theta, RowBlock& b, Workspace& w) const {
    const Eigen::Index N = w.z.rows();
    const int per_row = int(N / b.x.rows());
    w.xq_in.setZero(N, in_width_ + latent_ + k_);
    for (Eigen::Index n = 0; n < N; ++n) {
      w.xq_in.row(n).head(in_width_) = w.enc_in.row(n / per_row);
      w.xq_in(n, in_width_ + latent_ + w.set_of[n]) = 1.0;
    }
    w.xq_in.middleCols(in_width_, latent_) = w.z;
    x_encoder_.forward(theta, w.xq_in, w.x_enc);
    reparameterised_draws(w.x_enc, 1, b.rng, per_row, w.x_eps, w.x_draw);
    if (!cats_.any) return;
    cats_.softmax(w.x_enc.mu, w.q_prob);
    for (Eigen::Index n = 0; n < N; ++n)
      for (int f = 0; f < p_; ++f) {
        if (!cats_.leads(f)) continue;
        const int k = cats_.size[std::size_t(f)];
        draw_category(w.x_enc.mu.row(n).segment(f, k), false, temperature_, b.rng[std::size_t(n / per_row)],
                      w.x_draw.row(n).segment(f, k));
      }
  }

  // The full row of every sample: observed values, and `draws` where missing.
  void fill_rows(const RowMat& draws, Workspace& w) const {
    w.xfill = (w.seen.array() * w.x_rep.array() + (1.0 - w.seen.array()) * draws.array()).matrix();
  }

  CMapRowMat mask_slope_raw(const double* theta) const { return CMapRowMat(theta + mask_offset_, k_, p_); }
  CMapRowMat mask_midpoint(const double* theta) const {
    return CMapRowMat(theta + mask_offset_ + std::size_t(k_) * p_, k_, p_);
  }
  // Variant (a)'s signed slope per pattern set and column: d_j softplus(w_rj).
  RowMat mask_slopes(const double* theta) const {
    return (softplus_array(mask_slope_raw(theta).array()).rowwise() * direction_.array()).matrix();
  }

  // Variant (a): logit_j = -d_j softplus(w_rj) (x_j - b_rj) on the filled row.
  void mask_logits(const double* theta, Workspace& w) const {
    if (!variant_a_) return;
    const Eigen::Index N = w.xfill.rows();
    const RowMat slope = mask_slopes(theta);
    const CMapRowMat b = mask_midpoint(theta);
    w.mask_in = &cats_.mask_input(w.xfill, w.mask_in_buffer);
    const RowMat& in = *w.mask_in;
    w.logits.resize(N, p_);
    for (Eigen::Index n = 0; n < N; ++n) {
      const int r = w.set_of[n];
      w.logits.row(n) = -(slope.row(r).array() * (in.row(n) - b.row(r)).array());
    }
    cats_.pool(w.logits);
  }

  // Variant (a): gradients of the self-masking logits in their parameters and
  // in the draws of the missing cells.
  void self_masking_backward(const double* theta, const RowMat& d_logits, const Workspace& w, RowMat& d_draw,
                             double* grad) const {
    const CMapRowMat raw = mask_slope_raw(theta), b = mask_midpoint(theta);
    const RowMat slope = mask_slopes(theta);
    MapRowMat d_raw(grad + mask_offset_, k_, p_);
    MapRowMat d_b(grad + mask_offset_ + std::size_t(k_) * p_, k_, p_);
    const RowMat& in = *w.mask_in;
    RowMat d_in(d_logits.rows(), p_);
    for (Eigen::Index n = 0; n < d_logits.rows(); ++n) {
      const int r = w.set_of[n];
      const auto dl = d_logits.row(n).array();
      const auto centred = (in.row(n) - b.row(r)).array();
      d_raw.row(r).array() -= dl * centred * direction_.array() / (1.0 + (-raw.row(r).array()).exp());
      d_b.row(r).array() += dl * slope.row(r).array();
      d_in.row(n) = (-(dl * slope.row(r).array())).matrix();
    }
    cats_.mask_input_backward(d_in);
    d_draw.array() += (1.0 - w.seen.array()) * d_in.array();
  }

  // sum over observed cells of log p(x_j | x_obs head), for every sample.
  Eigen::VectorXd observed_log_density(Workspace& w) const {
    w.u_o = ((w.x_rep - w.mu_o).array() / w.scale_o.array()).matrix();
    Eigen::VectorXd out =
        ((w.seen.array() * (-0.5 * w.u_o.array().square() - w.scale_o.array().log() - 0.5 * kLogTwoPi)).rowwise() *
         continuous_.array())
            .matrix()
            .rowwise()
            .sum();
    if (cats_.any) out += observed_level_log_likelihood(w.mu_o, w);
    return out;
  }

  // sum over observed categorical variables of log softmax(logits)[level].
  Eigen::VectorXd observed_level_log_likelihood(const RowMat& logits, const Workspace& w) const {
    Eigen::VectorXd out = Eigen::VectorXd::Zero(logits.rows());
    for (Eigen::Index n = 0; n < logits.rows(); ++n)
      for (int f = 0; f < p_; ++f) {
        if (cats_.leads(f) && w.seen(n, f) > 0) out[n] += cats_.level_log_likelihood(logits, n, f, w.x_rep.row(n));
      }
    return out;
  }

  // -KL(q || p) over the levels of the variable starting at column f, q the
  // posterior q(x_mis) and p the x_mis head, at sample n; `terms` receives
  // log p_u - log q_u.
  double negative_kl(const Workspace& w, Eigen::Index n, int f, Eigen::VectorXd& terms) const {
    const int k = cats_.size[std::size_t(f)];
    const double log_zp = cats_.log_normaliser(w.obs.mu, n, f), log_zq = cats_.log_normaliser(w.x_enc.mu, n, f);
    terms = (w.obs.mu.row(n).segment(f, k).array() - log_zp - w.x_enc.mu.row(n).segment(f, k).array() + log_zq)
                .matrix()
                .transpose();
    return w.q_prob.row(n).segment(f, k).dot(terms);
  }

  // Categorical variables' gradients: the x_obs head on observed levels; the
  // x_mis head and q(x_mis) through a_j (-KL(q || p)) and the supervision
  // (1 - pi') log p_mis(level); the relaxed draw's gradient (from the mask)
  // into q's logits.
  void categorical_backward(const RowMat& d_draw, Workspace& w) const {
    Eigen::VectorXd terms;
    for (Eigen::Index n = 0; n < w.z.rows(); ++n) {
      const double gn = w.g_sample[n];
      for (int f = 0; f < p_; ++f) {
        if (!cats_.leads(f)) continue;
        const int k = cats_.size[std::size_t(f)];
        const bool seen = w.seen(n, f) > 0;
        const double a = w.weight_draw(n, f);
        const auto x = w.x_rep.row(n).segment(f, k).array();
        const auto p = w.obs.level_prob.row(n).segment(f, k).array();
        const auto q = w.q_prob.row(n).segment(f, k).array();
        auto d_o = w.d_dec.row(n).segment(f, k).array();
        auto d_m = w.d_dec.row(n).segment(2 * p_ + f, k).array();
        if (seen) d_o = gn * (x - w.prob_o.row(n).segment(f, k).array());
        d_m = a * gn * (q - p);
        if (seen) d_m += (1.0 - pi_) * gn * (x - p);
        const double expected = negative_kl(w, n, f, terms);
        auto d_q = w.d_mu_x.row(n).segment(f, k);
        d_q = (a * gn * q * (terms.transpose().array() - expected)).matrix();
        add_relaxed_category_gradient(w.x_draw.row(n).segment(f, k), d_draw.row(n).segment(f, k), temperature_, d_q);
      }
    }
  }

  // Ordered variables: the heads' gradients in their log level probabilities
  // back to the locations and cutpoints.
  void ordinal_backward(const double* theta, Workspace& w, double* grad) const {
    if (ordinal_o_.any()) {
      RowMat d = w.d_dec.leftCols(p_);
      ordinal_o_.backward(theta, w.ordinal_o, d, grad);
      w.d_dec.leftCols(p_) = d;
    }
    if (ordinal_m_.any()) {
      RowMat d = w.d_dec.middleCols(2 * p_, p_);
      ordinal_m_.backward(theta, w.ordinal_m, d, grad);
      w.d_dec.middleCols(2 * p_, p_) = d;
    }
  }

  // A_n of every sample (see the header), keeping the standardised residuals.
  void sample_objectives(const double* theta, const RowBlock& b, Workspace& w) const {
    const Eigen::Index N = w.z.rows();
    const auto seen = w.seen.array();
    const auto sm = w.obs.scale.array();
    w.objective_terms = observed_log_density(w);
    // log p(s | ...).
    w.objective_terms += bernoulli_log_likelihoods(w.logits, b.observed, w.K * k_, cats_.counted);
    // log p(z | r) - log q(z | r); the 2 pi terms cancel.
    const CMapRowMat mu_p = prior_mean(theta);
    const RowMat lv_p = prior_log_var(theta);
    for (Eigen::Index n = 0; n < N; ++n) {
      const int r = w.set_of[n];
      const Eigen::Index e = n / w.K;
      w.objective_terms[n] += (-0.5 * (w.z.row(n) - mu_p.row(r)).array().square() * (-lv_p.row(r).array()).exp() -
                               0.5 * lv_p.row(r).array())
                                  .sum() +
                              0.5 * w.eps.row(n).squaredNorm() + 0.5 * w.z_enc.log_var.row(e).sum();
    }
    // a_j [log p(x~ | z, r) - log q(x~)]: the 2 pi terms cancel.
    w.weight_draw = (seen * pi_ + (1.0 - seen)).matrix();
    w.u_draw = ((w.x_draw - w.obs.mu).array() / sm).matrix();
    const auto cont = continuous_.array();
    w.objective_terms += ((w.weight_draw.array() * (-0.5 * w.u_draw.array().square() - sm.log() +
                                                      0.5 * w.x_eps.array().square() + 0.5 * w.x_enc.log_var.array()))
                              .rowwise() *
                          cont)
                             .matrix()
                             .rowwise()
                             .sum();
    // (1 - pi') log p(x_mis,j = x_j | z, r) on observed cells.
    w.u_sup = ((w.x_rep - w.obs.mu).array() / sm).matrix();
    w.objective_terms +=
        (((1.0 - pi_) * seen * (-0.5 * w.u_sup.array().square() - sm.log() - 0.5 * kLogTwoPi)).rowwise() * cont)
            .matrix()
            .rowwise()
            .sum();
    if (!cats_.any) return;
    w.objective_terms += (1.0 - pi_) * observed_level_log_likelihood(w.obs.mu, w);
    Eigen::VectorXd terms;
    for (Eigen::Index n = 0; n < N; ++n)
      for (int f = 0; f < p_; ++f)
        if (cats_.leads(f)) w.objective_terms[n] += w.weight_draw(n, f) * negative_kl(w, n, f, terms);
  }

  // Gradients of log p(z | r) in the prior's parameters and in z.
  void prior_backward(const double* theta, Workspace& w, double* grad) const {
    const CMapRowMat mu_p = prior_mean(theta);
    const RowMat lv_p = prior_log_var(theta);
    const CMapRowMat raw_lv(theta + prior_offset_ + std::size_t(k_) * latent_, k_, latent_);
    MapRowMat d_mu_p(grad + prior_offset_, k_, latent_);
    MapRowMat d_lv_p(grad + prior_offset_ + std::size_t(k_) * latent_, k_, latent_);
    for (Eigen::Index n = 0; n < w.z.rows(); ++n) {
      const int r = w.set_of[n];
      const double gn = w.g_sample[n];
      const auto precision = (-lv_p.row(r).array()).exp();
      const auto diff = (w.z.row(n) - mu_p.row(r)).array();
      w.d_z.row(n).array() -= gn * diff * precision;
      d_mu_p.row(r).array() += gn * diff * precision;
      d_lv_p.row(r).array() += (raw_lv.row(r).array().abs() > kLogVarClip)
                                   .select(0.0, gn * (0.5 * diff.square() * precision - 0.5));
    }
  }

  int p_, latent_, k_;
  bool variant_a_, set_;
  int in_width_ = 0;
  double pi_, temperature_;
  Categories cats_;
  RatingRanges ratings_;
  SetCode code_;
  OrdinalBlocks ordinal_o_, ordinal_m_;  // the x_obs and x_mis heads' cutpoints
  RowVec floor_, direction_, continuous_;
  Mlp r_encoder_, decoder_;
  GaussianEncoder z_encoder_, x_encoder_;
  std::size_t prior_offset_ = 0, mask_offset_ = 0, n_params_ = 0;
  std::vector<deepmnar_io::ParamBlock> blocks_;
};

// The imputer's request for integrated missing cells (imputer.h).
inline void request_marginal_cells(Psmvae::Workspace& w, const std::vector<char>& columns) {
  w.marginal_columns = columns;
}

}  // namespace deepmnar

#endif

// What every model of the package shares: z ~ q(z | x^o) from the zero-filled
// row (and, with spec.encoder_mask, the mask beside it) or, with the set
// encoder, from the observed cells alone, the observation
// decoder p(x | z), and the MIWAE part of the log-weight,
//   log p(x^o | z_k) + log p(z_k) - log q(z_k | x^o),
// with reparameterised draws of the missing cells when a model needs them.
// GNR's auxiliary u (its Eq. 13) is an optional second layer of the
// generative model: one draw u ~ p(u | z_k) per z_k, decoders reading [z, u].
// u is drawn from its own conditional, so p(u | z) cancels from the weights.
// Its backward pass is split in stages so that a model can add the gradients
// of its own terms (in z, in the decoder's outputs, in the filled row) before
// the decoder and the encoder are back-propagated.
#ifndef DEEPMNAR_MODELS_LATENT_CORE_H
#define DEEPMNAR_MODELS_LATENT_CORE_H

#include "../components.h"
#include "../set_encoder.h"

namespace deepmnar {

struct CoreState {
  EncoderOutput enc;
  RowMat eps, z;
  EncoderOutput aux;        // p(u | z) of each z sample
  RowMat eps_u, u, zu;      // u's noise, u, and the decoders' input [z, u]
  RowMat d_u, d_mu_u, d_log_var_u, d_z_aux;
  ObservationParams obs;
  RowMat enc_in;  // the encoder's input when it also reads the mask
  SetCache set;   // the set encoder's pairs
  RowMat xfill, draw_d_mu, draw_d_scale, draw_d_df, draw_d_spike;
  Eigen::VectorXd lw;  // Eigen storage: aligned, so reductions are reproducible
  int K = 0;
  bool relaxed = false;  // the last fill drew categories by their relaxation
  RowMat d_mu, d_scale, d_df, d_spike, d_z, d_z_decoder, d_mu_q, d_log_var;
};

class LatentCore {
 public:
  LatentCore() = default;
  LatentCore(const deepmnar_io::ModelSpec& spec, ParamLayout& layout)
      : p_(spec.p),
        latent_(spec.latent),
        encoder_mask_(spec.encoder_mask != 0),
        aux_(spec.aux),
        set_(spec.encoder == deepmnar_io::encoder_set) {
    const Activation act = activation_from(spec.activation);
    if (set_) {
      set_encoder_ = SetEncoder(spec.p, spec.set_embedding, spec.set_code, spec.hidden, spec.latent, act, layout);
    } else {
      layout.part("encoder");
      encoder_ = GaussianEncoder(encoder_width(spec), spec.hidden, spec.latent, act, layout);
    }
    if (aux_ > 0) {
      layout.part("auxiliary");
      aux_net_ = GaussianEncoder(spec.latent, {spec.hidden.front()}, aux_, act, layout);
    }
    layout.part("decoder");
    decoder_ = ObservationDecoder(spec, decoder_width(), layout);
  }

  // The width of what the decoders read: z, or [z, u].
  int decoder_width() const { return latent_ + aux_; }
  const RowMat& decoder_input(const CoreState& w) const { return aux_ > 0 ? w.zu : w.z; }

  // A model's gradient in the decoders' input goes to z and, with u, to u.
  void add_decoder_input_gradient(const RowMat& d, CoreState& w) const {
    if (aux_ == 0) {
      w.d_z += d;
      return;
    }
    w.d_z += d.leftCols(latent_);
    w.d_u += d.rightCols(aux_);
  }

  // The zero-filled row alone cannot tell a missing cell from an observed one
  // at the column mean; with the mask beside it the encoder can move the
  // proposal for rows whose values went missing because of what they are.
  static int encoder_width(const deepmnar_io::ModelSpec& spec) { return spec.encoder_mask ? 2 * spec.p : spec.p; }

  // The encoder's input for rows x with mask `observed`: x, or [x, observed].
  static const RowMat& encoder_input(bool with_mask, const RowMat& x, const RowMat& observed, RowMat& buffer) {
    if (!with_mask) return x;
    buffer.resize(x.rows(), 2 * x.cols());
    buffer << x, observed;
    return buffer;
  }

  // Posterior means of z for rows x with mask `observed`.
  void latent_means(const double* theta, const RowMat& x, const RowMat& observed, RowMat& out) const {
    RowMat buffer;
    SetCache set;
    EncoderOutput e;
    encode(theta, x, observed, buffer, set, e);
    out = e.mu;
  }

  const ObservationDecoder& decoder() const { return decoder_; }
  int latent() const { return latent_; }

  void init(double* theta, Rng& rng) const {
    if (set_) set_encoder_.init(theta, rng);
    else encoder_.init(theta, rng);
    if (aux_ > 0) aux_net_.init(theta, rng);
    decoder_.init(theta, rng);
  }

  // K draws of z per row and their MIWAE log-weights (row r's samples are
  // r*K ... r*K + K - 1).
  void forward(const double* theta, RowBlock& b, int K, CoreState& w) const {
    const int R = int(b.x.rows());
    w.K = K;
    encode(theta, b.x, b.observed, w.enc_in, w.set, w.enc);
    reparameterised_draws(w.enc, K, b.rng, 1, w.eps, w.z);
    if (aux_ > 0) draw_aux(theta, K, b, w);
    decoder_.forward(theta, decoder_input(w), w.obs);
    // log p(z) - log q(z | x): the 2 pi terms cancel.
    w.lw = -0.5 * (w.z.rowwise().squaredNorm() - w.eps.rowwise().squaredNorm());
    for (int r = 0; r < R; ++r) {
      w.lw.segment(r * K, K).array() += 0.5 * w.enc.log_var.row(r).sum();
      decoder_.add_observed_log_density(w.obs, r * K, K, b.x.row(r), b.observed.row(r), w.lw.segment(r * K, K));
    }
  }

  // Fills the missing cells of every sample with a reparameterised draw from
  // p(x^m | z_k), keeping the derivatives of each draw for the backward pass.
  // `exact` draws a point mass's indicator itself (imputation) instead of its
  // relaxation (training).
  void fill_missing(RowBlock& b, CoreState& w, bool exact = false) const {
    const int R = int(b.x.rows()), K = w.K;
    const Eigen::Index N = Eigen::Index(R) * K;
    const PointMasses& spikes = decoder_.point_masses();
    w.xfill.resize(N, p_);
    w.draw_d_mu.setOnes(N, p_);
    w.draw_d_scale.setZero(N, p_);
    w.draw_d_df.setZero(N, p_);
    w.draw_d_spike.setZero(N, spikes.count);
    const bool t = decoder_.student_t();
    const Categories& cats = decoder_.categories();
    w.relaxed = !exact;
    for (Eigen::Index n = 0; n < N; ++n) {
      const int r = int(n / K);
      for (int j = 0; j < p_; ++j) {
        if (b.observed(r, j) > 0) {
          w.xfill(n, j) = b.x(r, j);
          continue;
        }
        if (cats.in(j)) {
          w.draw_d_mu(n, j) = 0.0;
          if (cats.leads(j)) {
            const int k = cats.size[std::size_t(j)];
            draw_category(w.obs.mu.row(n).segment(j, k), exact, decoder_.temperature(), b.rng[r],
                          w.xfill.row(n).segment(j, k));
          }
          continue;
        }
        const DrawNoise e = draw_noise(t, t ? w.obs.df(n, j) : 0.0, b.rng[r]);
        const DrawGrad dg = decoder_.draw(w.obs, n, j, e);
        w.xfill(n, j) = dg.x;
        w.draw_d_scale(n, j) = dg.d_scale;
        w.draw_d_df(n, j) = dg.d_df;
        const int s = spikes.slot[std::size_t(j)];
        if (s < 0) continue;
        if (spikes.binary(j)) {
          // no continuous part: the alternative to the mass is the other level
          w.xfill(n, j) = spikes.other[std::size_t(j)];
          w.draw_d_scale(n, j) = w.draw_d_df(n, j) = 0.0;
        }
        mix_point_mass(spikes.value[std::size_t(j)], w.obs.spike_logit(n, s), exact, b.rng[r], n, j, s, w);
        if (spikes.binary(j)) w.draw_d_mu(n, j) = 0.0;
      }
    }
  }

  // Turns the continuous draw of cell (n, j) into b v + (1 - b) x with b the
  // point-mass indicator (relaxed unless `exact`), with its derivatives.
  void mix_point_mass(double v, double logit, bool exact, Rng& rng, Eigen::Index n, int j, int s,
                      CoreState& w) const {
    const double u = rng.uniform();
    const double noisy = logit + std::log(u) - std::log1p(-u);
    const double tau = decoder_.temperature();
    const double b = exact ? (noisy > 0 ? 1.0 : 0.0) : sigmoid(noisy / tau);
    const double x = w.xfill(n, j);
    w.xfill(n, j) = b * v + (1.0 - b) * x;
    w.draw_d_mu(n, j) = 1.0 - b;
    w.draw_d_scale(n, j) *= 1.0 - b;
    w.draw_d_df(n, j) *= 1.0 - b;
    w.draw_d_spike(n, s) = exact ? 0.0 : (v - x) * b * (1.0 - b) / tau;
  }

  // Stage 1: gradients of the MIWAE terms in the decoder's outputs and in z;
  // g is d objective / d log-weight of each z sample.
  void begin_backward(const RowBlock& b, const Eigen::VectorXd& g, CoreState& w) const {
    const int K = w.K;
    const Eigen::Index N = w.z.rows();
    w.d_mu.setZero(N, p_);
    w.d_scale.setZero(N, p_);
    w.d_df.setZero(N, p_);
    w.d_spike.setZero(N, decoder_.point_masses().count);
    w.d_z = -(w.z.array().colwise() * g.array()).matrix();
    w.d_u.setZero(N, aux_);
    if (!decoder_.student_t()) {
      gaussian_observed_gradient(b, g, w);
    } else {
      for (Eigen::Index n = 0; n < N; ++n) {
        const int r = int(n / K);
        for (int j = 0; j < p_; ++j) {
          if (!(b.observed(r, j) > 0)) continue;
          const LogDensityGrad ld = decoder_.log_density(w.obs, n, j, b.x(r, j));
          w.d_mu(n, j) += g[n] * ld.d_mu;
          w.d_scale(n, j) += g[n] * ld.d_scale;
          w.d_df(n, j) += g[n] * ld.d_df;
        }
      }
    }
    if (decoder_.point_masses().any()) point_mass_observed_gradient(b, g, w);
    if (decoder_.categories().any) categorical_observed_gradient(b, g, w);
  }

  // Observed categorical variables: d log softmax(l)[level] / d l_u =
  // x_u - softmax(l)_u; the scale heads of their columns are unused.
  void categorical_observed_gradient(const RowBlock& b, const Eigen::VectorXd& g, CoreState& w) const {
    const Categories& cats = decoder_.categories();
    for (Eigen::Index n = 0; n < w.z.rows(); ++n) {
      const int r = int(n / w.K);
      for (int j = 0; j < p_; ++j) {
        if (!cats.in(j)) continue;
        w.d_mu(n, j) = w.d_scale(n, j) = w.d_df(n, j) = 0.0;
        if (!(b.observed(r, j) > 0)) continue;
        w.d_mu(n, j) = g[n] * (b.x(r, j) - w.obs.level_prob(n, j));
      }
    }
  }

  // Observed cells of point-mass columns: the logit's gradient, and no
  // continuous gradient for the cells at the point mass.
  void point_mass_observed_gradient(const RowBlock& b, const Eigen::VectorXd& g, CoreState& w) const {
    const PointMasses& spikes = decoder_.point_masses();
    const int K = w.K;
    for (Eigen::Index n = 0; n < w.z.rows(); ++n) {
      const int r = int(n / K);
      for (int j = 0; j < p_; ++j) {
        const int s = spikes.slot[std::size_t(j)];
        if (s < 0 || !(b.observed(r, j) > 0)) continue;
        const double prob = sigmoid(w.obs.spike_logit(n, s));
        const bool at = spikes.at(j, b.x(r, j));
        if (at || spikes.binary(j)) w.d_mu(n, j) = w.d_scale(n, j) = w.d_df(n, j) = 0.0;
        w.d_spike(n, s) = at ? g[n] * (1.0 - prob) : -g[n] * prob;
      }
    }
  }

  // d log N(x; mu, scale) / d mu = r / scale and / d scale = (r^2 - 1) / scale,
  // r = (x - mu) / scale, on observed cells, for all samples of a row at once.
  void gaussian_observed_gradient(const RowBlock& b, const Eigen::VectorXd& g, CoreState& w) const {
    const int K = w.K;
    for (Eigen::Index r = 0; r < b.x.rows(); ++r) {
      const auto scale = w.obs.scale.middleRows(r * K, K).array();
      const auto z = ((-w.obs.mu.middleRows(r * K, K).array()).rowwise() + b.x.row(r).array()) / scale;
      const auto weight = g.segment(r * K, K).array();
      const auto seen = b.observed.row(r).array();
      w.d_mu.middleRows(r * K, K) = ((z / scale).rowwise() * seen).colwise() * weight;
      w.d_scale.middleRows(r * K, K) = (((z.square() - 1.0) / scale).rowwise() * seen).colwise() * weight;
    }
  }

  // Stage 2 (optional): a gradient in the filled row flows through the draws
  // of its missing cells into the decoder's outputs.
  void add_filled_row_gradient(const RowBlock& b, const RowMat& d_xfill, CoreState& w) const {
    const int K = w.K;
    const Categories& cats = decoder_.categories();
    for (Eigen::Index n = 0; n < d_xfill.rows(); ++n) {
      const int r = int(n / K);
      for (int j = 0; j < p_; ++j) {
        if (b.observed(r, j) > 0) continue;
        if (cats.in(j)) {
          if (!cats.leads(j) || !w.relaxed) continue;
          const int k = cats.size[std::size_t(j)];
          add_relaxed_category_gradient(w.xfill.row(n).segment(j, k), d_xfill.row(n).segment(j, k),
                                        decoder_.temperature(), w.d_mu.row(n).segment(j, k));
          continue;
        }
        const double dx = d_xfill(n, j);
        w.d_mu(n, j) += dx * w.draw_d_mu(n, j);
        w.d_scale(n, j) += dx * w.draw_d_scale(n, j);
        w.d_df(n, j) += dx * w.draw_d_df(n, j);
        const int s = decoder_.point_masses().slot[std::size_t(j)];
        if (s >= 0) w.d_spike(n, s) += dx * w.draw_d_spike(n, s);
      }
    }
  }

  // Stage 3: back-propagates the decoder and the encoder. Models add their
  // own gradient in z to w.d_z before calling this.
  void end_backward(const double* theta, const RowBlock& b, const Eigen::VectorXd& g, CoreState& w,
                    double* grad) const {
    const int R = int(b.x.rows()), d = latent_, K = w.K;
    decoder_.backward(theta, decoder_input(w), w.obs, w.d_mu, w.d_scale, w.d_df, w.d_spike, grad, &w.d_z_decoder);
    add_decoder_input_gradient(w.d_z_decoder, w);
    if (aux_ > 0) aux_backward(theta, w, grad);
    reparameterisation_backward(w.d_z, w.eps, w.enc, g, R, K, d, w.d_mu_q, w.d_log_var);
    // forward() left the encoder's input in w.enc_in when it reads the mask.
    if (set_) set_encoder_.backward(theta, w.enc, w.d_mu_q, w.d_log_var, grad, w.set);
    else encoder_.backward(theta, encoder_mask_ ? w.enc_in : b.x, w.enc, w.d_mu_q, w.d_log_var, grad, nullptr);
  }

 private:
  // One u ~ p(u | z_k) per z sample, from the row's own stream after its z
  // draws, so a fit does not depend on how rows are split among threads.
  void draw_aux(const double* theta, int K, RowBlock& b, CoreState& w) const {
    aux_net_.forward(theta, w.z, w.aux);
    reparameterised_draws(w.aux, 1, b.rng, K, w.eps_u, w.u);
    w.zu.resize(w.z.rows(), decoder_width());
    w.zu << w.z, w.u;
  }

  // u = mu(z) + sd(z) eps: the gradient in u reaches p(u | z)'s network and
  // z; no log-density term, since p(u | z) is also u's proposal.
  void aux_backward(const double* theta, CoreState& w, double* grad) const {
    w.d_mu_u = w.d_u;
    w.d_log_var_u = (0.5 * w.d_u.array() * w.eps_u.array() * w.aux.sd.array()).matrix();
    aux_net_.backward(theta, w.z, w.aux, w.d_mu_u, w.d_log_var_u, grad, &w.d_z_aux);
    w.d_z += w.d_z_aux;
  }

  // q(z | x^o) of rows x with mask `observed`; `buffer` and `set` keep what
  // the backward pass needs.
  void encode(const double* theta, const RowMat& x, const RowMat& observed, RowMat& buffer, SetCache& set,
              EncoderOutput& e) const {
    if (set_) set_encoder_.forward(theta, x, observed, e, set);
    else encoder_.forward(theta, encoder_input(encoder_mask_, x, observed, buffer), e);
  }

  int p_ = 0, latent_ = 0, aux_ = 0;
  bool encoder_mask_ = false;
  bool set_ = false;  // the set encoder instead of the MLP on the zero-filled row
  GaussianEncoder encoder_;
  GaussianEncoder aux_net_;  // p(u | z)
  SetEncoder set_encoder_;
  ObservationDecoder decoder_;
};

}  // namespace deepmnar

#endif

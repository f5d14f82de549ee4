// not-MIWAE (Ipsen, Mattei and Frellsen, 2021) and, with no missing model,
// MIWAE. For row i and K draws z_k ~ q(z | x^o), x^m_k ~ p(x^m | z_k):
//   log w_k = log p(x^o | z_k) + log p(s | x^o, x^m_k) + log p(z_k) - log q(z_k | x^o).
#ifndef DEEPMNAR_MODELS_NOTMIWAE_H
#define DEEPMNAR_MODELS_NOTMIWAE_H

#include "../missing_models.h"
#include "latent_core.h"

namespace deepmnar {

class NotMiwae {
 public:
  struct Workspace : CoreState {
    RowMat logits_buffer, pooled, d_logits, d_xfill, d_latent, mask_in_buffer;
    const RowMat* mask_in = nullptr;
    MlpCache missing_cache;
    const RowMat* logits = nullptr;
    // Set by the imputer for conditional means: the columns whose missing
    // cells may be integrated over (see marginalise_missing_cells).
    std::vector<char> marginal_columns;
  };

  explicit NotMiwae(const deepmnar_io::ModelSpec& spec) : p_(spec.p) {
    ParamLayout layout(spec.precision == deepmnar_io::precision_float);
    core_ = LatentCore(spec, layout);
    missing_ = MissingModel(spec, layout, core_.decoder_width());
    blocks_ = layout.blocks();
    n_params_ = layout.size();
  }

  std::size_t n_params() const { return n_params_; }
  const std::vector<deepmnar_io::ParamBlock>& blocks() const { return blocks_; }
  bool student_t() const { return core_.decoder().student_t(); }
  int samples_per_row(int K) const { return K; }
  // The weights depend on the draws of the missing values through p(s | x)
  // (an MCAR mask term does not read them).
  bool weights_use_missing_draws() const { return missing_.reads_values(); }

  void init(double* theta, Rng& rng) const {
    core_.init(theta, rng);
    missing_.init(theta, rng);
  }
  void start_from_data(double* theta, const deepmnar_io::MaskStart& start) const {
    missing_.start_from_data(theta, start);
  }
  bool start_reads_directions() const { return missing_.start_reads_directions(); }

  // Log-weights of K samples for every row of the block. With `imputing`
  // the missing cells are drawn even when the bound does not need them.
  void forward(const double* theta, RowBlock& b, int K, bool imputing, Workspace& w) const {
    core_.forward(theta, b, K, w);
    if (missing_.active() || imputing) core_.fill_missing(b, w, imputing);
    if (!missing_.active()) return;
    w.mask_in = &categories().mask_input(w.xfill, w.mask_in_buffer);
    w.logits = &variable_logits(
        categories(), missing_.logits(theta, *w.mask_in, &core_.decoder_input(w), w.missing_cache, w.logits_buffer),
        w.pooled);
    w.lw += bernoulli_log_likelihoods(*w.logits, b.observed, K, categories().counted);
    if (imputing && !w.marginal_columns.empty() && missing_.reads_values()) marginalise_missing_cells(theta, b, K, w);
  }

  // Rao-Blackwellised conditional means: a missing cell whose value only its
  // own mask logit reads (OwnLogit) has its draw and the draw's mask term
  // replaced by the sum over its levels (categorical, ordinal, binary) or the
  // integral over its Gaussian part (marginal_missing_cell), given the
  // sample's z and the rest of its row. The target is the same; the draws'
  // noise leaves the weights and the values. Cells it cannot integrate (a
  // Student-t part, a curve too steep for the quadrature) keep their draws.
  void marginalise_missing_cells(const double* theta, const RowBlock& b, int K, Workspace& w) const {
    std::vector<OwnLogit> own(static_cast<std::size_t>(p_));
    for (int j = 0; j < p_; ++j) own[std::size_t(j)] = missing_.own_logit(theta, j);
    const Categories& cats = categories();
    for (Eigen::Index r = 0; r < b.x.rows(); ++r) {
      for (int j = 0; j < p_; ++j) {
        if (b.observed(r, j) > 0 || !w.marginal_columns[std::size_t(j)]) continue;
        if (cats.in(j)) {
          if (cats.leads(j) && block_separable(own, j))
            for (Eigen::Index n = r * K; n < (r + 1) * K; ++n) sum_over_levels(own, j, n, w);
        } else if (own[std::size_t(j)].separable) {
          for (Eigen::Index n = r * K; n < (r + 1) * K; ++n) integrate_cell(own[std::size_t(j)], j, n, w);
        }
      }
    }
  }

  void backward(const double* theta, const RowBlock& b, const Eigen::VectorXd& g, Workspace& w, double* grad) const {
    core_.begin_backward(b, g, w);
    if (missing_.active()) {
      bernoulli_logit_gradients(*w.logits, b.observed, g, w.K, 1.0, categories().counted, w.d_logits);
      categories().unpool(w.d_logits);
      missing_.backward(theta, *w.mask_in, core_.decoder_input(w), w.missing_cache, w.d_logits, grad, w.d_xfill,
                        w.d_latent);
      categories().mask_input_backward(w.d_xfill);
      core_.add_filled_row_gradient(b, w.d_xfill, w);
      if (missing_.reads_latent()) core_.add_decoder_input_gradient(w.d_latent, w);
    }
    core_.end_backward(theta, b, g, w, grad);
  }

  // P(observed) per cell for each sample of the last forward pass.
  void sample_mask_probability(const Workspace& w, RowMat& out) const {
    if (missing_.active()) out = w.logits->unaryExpr([](double v) { return sigmoid(v); });
    else out.setConstant(w.z.rows(), p_, 1.0);
  }

  // P(observed) of each cell of complete rows under the missing model.
  void mask_probability(const double* theta, const RowMat& rows, RowMat& out) const {
    MlpCache cache;
    RowMat buffer, pooled, input;
    out = variable_logits(categories(),
                          missing_.logits(theta, categories().mask_input(rows, input), nullptr, cache, buffer), pooled)
              .unaryExpr([](double v) { return sigmoid(v); });
  }

 private:
  const Categories& categories() const { return core_.decoder().categories(); }

  // The own part of the pooled logit of the categorical variable whose block
  // starts at f, at its level u: what the mask model reads of the level is
  // its value in the block's first column (rating levels) or its one-hot
  // code (see Categories::mask_input).
  double level_own_logit(const std::vector<OwnLogit>& own, int f, int u) const {
    const Categories& cats = categories();
    if (cats.valued(f)) return own[std::size_t(f)].at(cats.value[std::size_t(f + u)]);
    return own[std::size_t(f + u)].at(1.0);
  }
  bool block_separable(const std::vector<OwnLogit>& own, int f) const {
    for (int u = 0; u < categories().size[std::size_t(f)]; ++u)
      if (!own[std::size_t(f + u)].separable) return false;
    return true;
  }

  // Swaps sample n's mask term of its drawn value (logit `drawn_logit`) for
  // log Z, the log of its marginal probability of being missing.
  static void replace_mask_term(Workspace& w, Eigen::Index n, double drawn_logit, double log_z) {
    w.lw[n] += log_z - log_missing_probability(drawn_logit);
  }

  // The levels u of the variable at f: P(u | z) P(missing | u) / Z, with Z
  // their sum; the rest of the pooled logit is what the drawn level leaves.
  void sum_over_levels(const std::vector<OwnLogit>& own, int f, Eigen::Index n, Workspace& w) const {
    const int k = categories().size[std::size_t(f)];
    Eigen::Index drawn = 0;
    w.xfill.row(n).segment(f, k).maxCoeff(&drawn);
    const double pooled = (*w.logits)(n, f), rest = pooled - level_own_logit(own, f, int(drawn));
    Eigen::ArrayXd log_joint(k);
    for (int u = 0; u < k; ++u)
      log_joint(u) = std::log(w.obs.level_prob(n, f + u)) + log_missing_probability(rest + level_own_logit(own, f, u));
    const double log_z = log_sum_exp(log_joint);
    if (!std::isfinite(log_z)) return;
    w.xfill.row(n).segment(f, k) = (log_joint - log_z).exp().matrix().transpose();
    replace_mask_term(w, n, pooled, log_z);
  }

  // A column's missing cell: its point mass (a binary column's two levels)
  // summed, its Gaussian part integrated.
  void integrate_cell(const OwnLogit& own, int j, Eigen::Index n, Workspace& w) const {
    const PointMasses& spikes = core_.decoder().point_masses();
    const double logit = (*w.logits)(n, j), rest = logit - own.at(w.xfill(n, j));
    const int s = spikes.slot[std::size_t(j)];
    double log_part[2], value[2];
    int parts = 0;
    double log_continuous = 0.0;
    if (s >= 0) {
      const double v = spikes.value[std::size_t(j)], l = w.obs.spike_logit(n, s);
      log_part[parts] = -softplus(-l) + log_missing_probability(rest + own.at(v));
      value[parts++] = v;
      log_continuous = -softplus(l);
    }
    if (s >= 0 && spikes.binary(j)) {
      const double other = spikes.other[std::size_t(j)];
      log_part[parts] = log_continuous + log_missing_probability(rest + own.at(other));
      value[parts++] = other;
    } else {
      if (student_t()) return;
      const MarginalMissingCell cell = marginal_missing_cell(w.obs.mu(n, j), w.obs.scale(n, j), rest, own);
      if (!cell.valid) return;
      log_part[parts] = log_continuous + cell.log_z;
      value[parts++] = cell.mean;
    }
    const double top = parts == 2 ? std::max(log_part[0], log_part[1]) : log_part[0];
    if (!std::isfinite(top)) return;
    double total = 0.0, mean = 0.0;
    for (int q = 0; q < parts; ++q) {
      const double share = std::exp(log_part[q] - top);
      total += share;
      mean += share * value[q];
    }
    w.xfill(n, j) = mean / total;
    replace_mask_term(w, n, logit, top + std::log(total));
  }

  int p_;
  LatentCore core_;
  MissingModel missing_;
  std::size_t n_params_ = 0;
  std::vector<deepmnar_io::ParamBlock> blocks_;
};

// The imputer's request for integrated missing cells (imputer.h).
inline void request_marginal_cells(NotMiwae::Workspace& w, const std::vector<char>& columns) {
  w.marginal_columns = columns;
}

}  // namespace deepmnar

#endif

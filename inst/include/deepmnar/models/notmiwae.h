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
    RowMat logits_buffer, pooled, d_logits, d_xfill, mask_in_buffer;
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
    missing_ = MissingModel(spec, layout);
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
    w.logits = &variable_logits(categories(), missing_.logits(theta, *w.mask_in, w.missing_cache, w.logits_buffer),
                                w.pooled);
    w.lw += bernoulli_log_likelihoods(*w.logits, b.observed, K, categories().counted);
    if (imputing && !w.marginal_columns.empty()) marginalise_missing_cells(theta, b, K, w);
  }

  // Rao-Blackwellised conditional means under a self-masking model: each
  // missing cell's draw and its mask term are replaced by the integral over
  // the cell (marginal_missing_cell), which removes the draws' noise from
  // both the weights and the values. Cells it cannot integrate keep theirs.
  bool can_marginalise() const {
    return missing_.self_masking() && !student_t() && !categories().any;
  }
  void marginalise_missing_cells(const double* theta, const RowBlock& b, int K, Workspace& w) const {
    if (!can_marginalise()) return;
    const PointMasses& spikes = core_.decoder().point_masses();
    for (Eigen::Index r = 0; r < b.x.rows(); ++r) {
      for (int j = 0; j < p_; ++j) {
        if (b.observed(r, j) > 0 || !w.marginal_columns[std::size_t(j)] || spikes.slot[std::size_t(j)] >= 0) continue;
        const double slope = missing_.slope(theta, j), location = missing_.location(theta, j);
        for (Eigen::Index n = r * K; n < (r + 1) * K; ++n) {
          const MarginalMissingCell cell = marginal_missing_cell(w.obs.mu(n, j), w.obs.scale(n, j), slope, location);
          if (!cell.valid) continue;
          // the draw's mask term, log P(missing | x) = -softplus(logit), out
          w.lw[n] += cell.log_z + softplus((*w.logits)(n, j));
          w.xfill(n, j) = cell.mean;
        }
      }
    }
  }

  void backward(const double* theta, const RowBlock& b, const Eigen::VectorXd& g, Workspace& w, double* grad) const {
    core_.begin_backward(b, g, w);
    if (missing_.active()) {
      bernoulli_logit_gradients(*w.logits, b.observed, g, w.K, 1.0, categories().counted, w.d_logits);
      categories().unpool(w.d_logits);
      missing_.backward(theta, *w.mask_in, w.missing_cache, w.d_logits, grad, w.d_xfill);
      categories().mask_input_backward(w.d_xfill);
      core_.add_filled_row_gradient(b, w.d_xfill, w);
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
    out = variable_logits(categories(), missing_.logits(theta, categories().mask_input(rows, input), cache, buffer),
                          pooled)
              .unaryExpr([](double v) { return sigmoid(v); });
  }

 private:
  const Categories& categories() const { return core_.decoder().categories(); }

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

// GNR (Chen, Xu et al., 2023), the conjunction model: data and mask are
// decoded in parallel from the same z, and the mask's log-likelihood enters
// the importance weights with weight alpha:
//   log w_k = log p(x^o | z_k) + alpha log p(s | z_k) + log p(z_k) - log q(z_k | x^o).
// The encoder sees the zero-filled row only (not the mask); the mask decoder
// is an MLP of its own (no trunk shared with the data decoder). With
// spec.aux > 0 the paper's auxiliary u ~ p(u | z) (Eq. 13) joins z as the
// input of both decoders, p(x | u, z) and p(s | u, z); without it, u is
// omitted, as the paper allows. alpha = 0 is MIWAE.
#ifndef DEEPMNAR_MODELS_GNR_H
#define DEEPMNAR_MODELS_GNR_H

#include "latent_core.h"

namespace deepmnar {

class Gnr {
 public:
  struct Workspace : CoreState {
    MlpCache mask_cache;
    RowMat pooled, d_logits, d_z_mask;
    const RowMat* logits = nullptr;
  };

  explicit Gnr(const deepmnar_io::ModelSpec& spec) : p_(spec.p), alpha_(spec.alpha) {
    ParamLayout layout(spec.precision == deepmnar_io::precision_float);
    core_ = LatentCore(spec, layout);
    layout.part("mask_decoder");
    mask_decoder_ = Mlp(core_.decoder_width(), spec.hidden, spec.p, activation_from(spec.activation), layout);
    blocks_ = layout.blocks();
    n_params_ = layout.size();
  }

  std::size_t n_params() const { return n_params_; }
  const std::vector<deepmnar_io::ParamBlock>& blocks() const { return blocks_; }
  bool student_t() const { return core_.decoder().student_t(); }
  int samples_per_row(int K) const { return K; }
  bool weights_use_missing_draws() const { return false; }

  void init(double* theta, Rng& rng) const {
    core_.init(theta, rng);
    mask_decoder_.init(theta, rng);
  }

  void forward(const double* theta, RowBlock& b, int K, bool imputing, Workspace& w) const {
    core_.forward(theta, b, K, w);
    if (imputing) core_.fill_missing(b, w, true);
    w.logits = &variable_logits(categories(), mask_decoder_.forward(theta, core_.decoder_input(w), w.mask_cache), w.pooled);
    w.lw += alpha_ * bernoulli_log_likelihoods(*w.logits, b.observed, K, categories().counted);
  }

  void backward(const double* theta, const RowBlock& b, const Eigen::VectorXd& g, Workspace& w, double* grad) const {
    core_.begin_backward(b, g, w);
    bernoulli_logit_gradients(*w.logits, b.observed, g, w.K, alpha_, categories().counted, w.d_logits);
    categories().unpool(w.d_logits);
    mask_decoder_.backward(theta, core_.decoder_input(w), w.mask_cache, w.d_logits, grad, &w.d_z_mask);
    core_.add_decoder_input_gradient(w.d_z_mask, w);
    core_.end_backward(theta, b, g, w, grad);
  }

  // P(observed) per cell for each sample of the last forward pass.
  void sample_mask_probability(const Workspace& w, RowMat& out) const {
    out = w.logits->unaryExpr([](double v) { return sigmoid(v); });
  }

 private:
  const Categories& categories() const { return core_.decoder().categories(); }

  int p_;
  double alpha_;
  LatentCore core_;
  Mlp mask_decoder_;
  std::size_t n_params_ = 0;
  std::vector<deepmnar_io::ParamBlock> blocks_;
};

}  // namespace deepmnar

#endif

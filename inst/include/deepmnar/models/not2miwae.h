// not-2-MIWAE: the mask has a latent model of its own. For each draw
// (z_k, x^m_k) ~ q(z | x^o) p(x^m | z), K2 draws eta_kl ~ q(eta | x_k), where
// x_k is the row filled with x^m_k, and
//   log w_kl = log p(x^o | z_k) + log p(z_k) - log q(z_k | x^o)
//            + log p(s | eta_kl) + log p(eta_kl) - log q(eta_kl | x_k);
// the bound is log (1/(K K2)) sum_kl w_kl. Imputation weighs each (z_k, x^m_k)
// by the eta-marginal weight w_k = (1/K2) sum_l w_kl, so the mask model counts.
#ifndef DEEPMNAR_MODELS_NOT2MIWAE_H
#define DEEPMNAR_MODELS_NOT2MIWAE_H

#include "../bound.h"
#include "latent_core.h"

namespace deepmnar {

class Not2Miwae {
 public:
  struct Workspace : CoreState {
    Eigen::VectorXd lw_core, lw_eta;
    EncoderOutput eta_enc;
    RowMat eta_eps, eta;
    MlpCache mask_cache;
    RowMat pooled, d_logits, d_eta, d_mu_eta, d_log_var_eta, d_xfill;
    const RowMat* logits = nullptr;
    Eigen::VectorXd g_core;
    int K2 = 1;
  };

  explicit Not2Miwae(const deepmnar_io::ModelSpec& spec) : p_(spec.p), K2_(spec.K2) {
    ParamLayout layout(spec.precision == deepmnar_io::precision_float);
    core_ = LatentCore(spec, layout);
    const Activation act = activation_from(spec.activation);
    layout.part("eta_encoder");
    eta_encoder_ = GaussianEncoder(spec.p, spec.hidden, spec.eta_dim, act, layout);
    layout.part("mask_decoder");
    mask_decoder_ = Mlp(spec.eta_dim, spec.hidden, spec.p, act, layout);
    blocks_ = layout.blocks();
    n_params_ = layout.size();
  }

  std::size_t n_params() const { return n_params_; }
  const std::vector<deepmnar_io::ParamBlock>& blocks() const { return blocks_; }
  bool student_t() const { return core_.decoder().student_t(); }
  int samples_per_row(int K) const { return K * K2_; }
  bool weights_use_missing_draws() const { return true; }

  void init(double* theta, Rng& rng) const {
    core_.init(theta, rng);
    eta_encoder_.init(theta, rng);
    mask_decoder_.init(theta, rng);
  }

  // Training: lw holds K * K2 log-weights per row (z sample k, eta sample l at
  // k * K2 + l). Imputing: lw holds the K eta-marginal log-weights.
  void forward(const double* theta, RowBlock& b, int K, bool imputing, Workspace& w) const {
    core_.forward(theta, b, K, w);
    core_.fill_missing(b, w, imputing);
    w.lw_core = w.lw;
    w.K2 = K2_;
    eta_encoder_.forward(theta, w.xfill, w.eta_enc);
    reparameterised_draws(w.eta_enc, K2_, b.rng, K, w.eta_eps, w.eta);
    w.logits = &variable_logits(categories(), mask_decoder_.forward(theta, w.eta, w.mask_cache), w.pooled);
    // log p(s | eta) + log p(eta) - log q(eta | x): the 2 pi terms cancel.
    w.lw_eta = bernoulli_log_likelihoods(*w.logits, b.observed, K * K2_, categories().counted) -
               0.5 * (w.eta.rowwise().squaredNorm() - w.eta_eps.rowwise().squaredNorm());
    const Eigen::Index N1 = w.xfill.rows();
    const int R = int(b.x.rows());
    for (Eigen::Index n1 = 0; n1 < N1; ++n1)
      w.lw_eta.segment(n1 * K2_, K2_).array() += 0.5 * w.eta_enc.log_var.row(n1).sum();
    if (imputing) {
      for (Eigen::Index n1 = 0; n1 < N1; ++n1)
        w.lw[n1] = w.lw_core[n1] + log_mean_exp(w.lw_eta.data() + n1 * K2_, K2_);
      return;
    }
    w.lw.resize(Eigen::Index(R) * K * K2_);
    for (Eigen::Index n2 = 0; n2 < w.lw.size(); ++n2) w.lw[n2] = w.lw_core[n2 / K2_] + w.lw_eta[n2];
  }

  void backward(const double* theta, const RowBlock& b, const Eigen::VectorXd& g, Workspace& w, double* grad) const {
    const int K = w.K;
    const Eigen::Index N1 = w.xfill.rows();
    w.g_core.resize(N1);
    for (Eigen::Index n1 = 0; n1 < N1; ++n1) w.g_core[n1] = g.segment(n1 * K2_, K2_).sum();
    // The eta branch: mask decoder, p(eta), and q(eta | filled row).
    bernoulli_logit_gradients(*w.logits, b.observed, g, K * K2_, 1.0, categories().counted, w.d_logits);
    categories().unpool(w.d_logits);
    mask_decoder_.backward(theta, w.eta, w.mask_cache, w.d_logits, grad, &w.d_eta);
    w.d_eta -= (w.eta.array().colwise() * g.array()).matrix();
    reparameterisation_backward(w.d_eta, w.eta_eps, w.eta_enc, g, int(N1), K2_, int(w.eta.cols()), w.d_mu_eta,
                                w.d_log_var_eta);
    eta_encoder_.backward(theta, w.xfill, w.eta_enc, w.d_mu_eta, w.d_log_var_eta, grad, &w.d_xfill);
    // The z branch, with the filled row's gradient flowing into the draws.
    core_.begin_backward(b, w.g_core, w);
    core_.add_filled_row_gradient(b, w.d_xfill, w);
    core_.end_backward(theta, b, w.g_core, w, grad);
  }

  // P(observed) per cell for each z sample: the eta draws averaged with their
  // self-normalised weights.
  void sample_mask_probability(const Workspace& w, RowMat& out) const {
    const RowMat& l = *w.logits;
    const Eigen::Index N1 = w.xfill.rows();
    out.setZero(N1, p_);
    std::vector<double> a(K2_);
    for (Eigen::Index n1 = 0; n1 < N1; ++n1) {
      scaled_softmax(w.lw_eta.data() + n1 * K2_, K2_, 1.0, a.data());
      for (int k2 = 0; k2 < K2_; ++k2)
        for (int j = 0; j < p_; ++j) out(n1, j) += a[k2] * sigmoid(l(n1 * K2_ + k2, j));
    }
  }

  // Posterior means of eta for complete rows: the eta encoder's means.
  void eta_means(const double* theta, const RowMat& rows, RowMat& out) const {
    EncoderOutput e;
    eta_encoder_.forward(theta, rows, e);
    out = e.mu;
  }

 private:
  const Categories& categories() const { return core_.decoder().categories(); }

  int p_, K2_;
  LatentCore core_;
  GaussianEncoder eta_encoder_;
  Mlp mask_decoder_;
  std::size_t n_params_ = 0;
  std::vector<deepmnar_io::ParamBlock> blocks_;
};

}  // namespace deepmnar

#endif

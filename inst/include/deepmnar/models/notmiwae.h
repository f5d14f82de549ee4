// not-MIWAE (Ipsen, Mattei and Frellsen, 2021) and, with no missing model,
// MIWAE. For row i and K draws z_k ~ q(z | x^o), x^m_k ~ p(x^m | z_k):
//   log w_k = log p(x^o | z_k) + log p(s | x^o, x^m_k) + log p(z_k) - log q(z_k | x^o).
#ifndef DEEPMNAR_MODELS_NOTMIWAE_H
#define DEEPMNAR_MODELS_NOTMIWAE_H

#include <vector>

#include "../components.h"
#include "../missing_models.h"

namespace deepmnar {

class NotMiwae {
 public:
  struct Workspace {
    EncoderOutput enc;
    RowMat eps, z;
    ObservationParams obs;
    RowMat xfill, logits_buffer, draw_d_scale, draw_d_df;
    MlpCache missing_cache;
    const RowMat* logits = nullptr;
    Eigen::VectorXd lw;  // Eigen storage: aligned, so reductions are reproducible
    int K = 0;
    // backward scratch
    RowMat d_mu, d_scale, d_df, d_logits, d_xfill, d_z, d_z_decoder, d_mu_q, d_log_var;
  };

  explicit NotMiwae(const deepmnar_io::ModelSpec& spec) : spec_(spec) {
    ParamLayout layout;
    const Activation act = activation_from(spec.activation);
    encoder_ = GaussianEncoder(spec.p, spec.hidden, spec.latent, act, layout);
    decoder_ = ObservationDecoder(spec, spec.latent, layout);
    missing_ = MissingModel(spec, layout);
    n_params_ = layout.size();
  }

  std::size_t n_params() const { return n_params_; }
  int p() const { return spec_.p; }
  const ObservationDecoder& decoder() const { return decoder_; }

  void init(double* theta, Rng& rng) const {
    encoder_.init(theta, rng);
    decoder_.init(theta, rng);
    missing_.init(theta, rng);
  }

  // Log-weights of K samples for every row of the block, row-major (row r's
  // samples are r*K ... r*K + K - 1). With `draw_missing` the missing cells of
  // every sample are drawn even when the bound does not need them (imputation).
  void forward(const double* theta, RowBlock& b, int K, bool draw_missing, Workspace& w) const {
    const int R = int(b.x.rows()), p = spec_.p, d = spec_.latent;
    const Eigen::Index N = Eigen::Index(R) * K;
    w.K = K;
    encoder_.forward(theta, b.x, w.enc);
    w.eps.resize(N, d);
    w.z.resize(N, d);
    for (int r = 0; r < R; ++r) {
      for (int k = 0; k < K; ++k)
        for (int j = 0; j < d; ++j) w.eps(r * K + k, j) = b.rng[r].normal();
      w.z.middleRows(r * K, K) =
          ((w.eps.middleRows(r * K, K).array().rowwise() * w.enc.sd.row(r).array()).rowwise() +
           w.enc.mu.row(r).array())
              .matrix();
    }
    decoder_.forward(theta, w.z, w.obs);

    Eigen::VectorXd& lw = w.lw;
    // log p(z) - log q(z | x): the 2 pi terms cancel.
    lw = -0.5 * (w.z.rowwise().squaredNorm() - w.eps.rowwise().squaredNorm());
    for (int r = 0; r < R; ++r) {
      lw.segment(r * K, K).array() += 0.5 * w.enc.log_var.row(r).sum();
      decoder_.add_observed_log_density(w.obs, r * K, K, b.x.row(r), b.observed.row(r), lw.segment(r * K, K));
    }
    if (missing_.active() || draw_missing) fill_missing(b, K, w);
    if (missing_.active()) add_mask_likelihood(theta, b, K, w);
  }

  // True when the weights depend on the draws of the missing values, so that
  // E[x^m | z] under p(x^m | z) is not the conditional mean given the mask.
  bool weights_use_missing_draws() const { return missing_.active(); }

  // dlw: d objective / d log-weight per sample. Accumulates into grad.
  void backward(const double* theta, const RowBlock& b, const Eigen::VectorXd& dlw, Workspace& w, double* grad) const {
    const int R = int(b.x.rows()), p = spec_.p, d = spec_.latent, K = w.K;
    const Eigen::Index N = Eigen::Index(R) * K;
    w.d_mu.setZero(N, p);
    w.d_scale.setZero(N, p);
    w.d_df.setZero(N, p);
    for (Eigen::Index n = 0; n < N; ++n) {
      const int r = int(n / K);
      for (int j = 0; j < p; ++j) {
        if (!(b.observed(r, j) > 0)) continue;
        const LogDensityGrad g = decoder_.log_density(w.obs, n, j, b.x(r, j));
        w.d_mu(n, j) += dlw[n] * g.d_mu;
        w.d_scale(n, j) += dlw[n] * g.d_scale;
        w.d_df(n, j) += dlw[n] * g.d_df;
      }
    }
    if (missing_.active()) mask_backward(theta, b, dlw, w, grad);

    const Eigen::VectorXd& g = dlw;
    w.d_z = -(w.z.array().colwise() * g.array()).matrix();
    decoder_.backward(theta, w.z, w.obs, w.d_mu, w.d_scale, w.d_df, grad, &w.d_z_decoder);
    w.d_z += w.d_z_decoder;

    w.d_mu_q.resize(R, d);
    w.d_log_var.resize(R, d);
    for (int r = 0; r < R; ++r) {
      const auto dz = w.d_z.middleRows(r * K, K);
      w.d_mu_q.row(r) = dz.colwise().sum();
      // z = mu + exp(log_var / 2) * eps, and -log q contributes +1/2 per dimension.
      w.d_log_var.row(r) =
          (0.5 * (dz.array() * w.eps.middleRows(r * K, K).array()).colwise().sum() * w.enc.sd.row(r).array())
              .matrix();
      w.d_log_var.row(r).array() += 0.5 * g.segment(r * K, K).sum();
    }
    encoder_.backward(theta, b.x, w.enc, w.d_mu_q, w.d_log_var, grad);
  }

 private:
  // Fills the missing cells of every sample with a reparameterised draw from
  // p(x^m | z_k), keeping the derivatives of each draw for the backward pass.
  void fill_missing(RowBlock& b, int K, Workspace& w) const {
    const int R = int(b.x.rows()), p = spec_.p;
    const Eigen::Index N = Eigen::Index(R) * K;
    w.xfill.resize(N, p);
    w.draw_d_scale.setZero(N, p);
    w.draw_d_df.setZero(N, p);
    const bool t = decoder_.student_t();
    for (Eigen::Index n = 0; n < N; ++n) {
      const int r = int(n / K);
      for (int j = 0; j < p; ++j) {
        if (b.observed(r, j) > 0) {
          w.xfill(n, j) = b.x(r, j);
          continue;
        }
        const DrawNoise e = draw_noise(t, t ? w.obs.df(n, j) : 0.0, b.rng[r]);
        const DrawGrad dg = decoder_.draw(w.obs, n, j, e);
        w.xfill(n, j) = dg.x;
        w.draw_d_scale(n, j) = dg.d_scale;
        w.draw_d_df(n, j) = dg.d_df;
      }
    }
  }

  void add_mask_likelihood(const double* theta, const RowBlock& b, int K, Workspace& w) const {
    w.logits = &missing_.logits(theta, w.xfill, w.missing_cache, w.logits_buffer);
    const RowMat& l = *w.logits;
    Eigen::VectorXd& lw = w.lw;
    // log Bernoulli(s | sigmoid(l)) = s l - softplus(l), summed over columns.
    lw -= softplus_array(l.array()).matrix().rowwise().sum();
    for (int r = 0; r < int(b.x.rows()); ++r)
      lw.segment(r * K, K) += l.middleRows(r * K, K) * b.observed.row(r).transpose();
  }

  void mask_backward(const double* theta, const RowBlock& b, const Eigen::VectorXd& dlw, Workspace& w, double* grad) const {
    const RowMat& l = *w.logits;
    const int K = w.K;
    w.d_logits.resize(l.rows(), spec_.p);
    for (Eigen::Index n = 0; n < l.rows(); ++n) {
      const int r = int(n / K);
      for (int j = 0; j < spec_.p; ++j) w.d_logits(n, j) = dlw[n] * bernoulli_logit_grad(b.observed(r, j), l(n, j));
    }
    missing_.backward(theta, w.xfill, w.missing_cache, w.d_logits, grad, w.d_xfill);
    for (Eigen::Index n = 0; n < l.rows(); ++n) {
      const int r = int(n / K);
      for (int j = 0; j < spec_.p; ++j) {
        if (b.observed(r, j) > 0) continue;
        const double dx = w.d_xfill(n, j);
        w.d_mu(n, j) += dx;
        w.d_scale(n, j) += dx * w.draw_d_scale(n, j);
        w.d_df(n, j) += dx * w.draw_d_df(n, j);
      }
    }
  }

  deepmnar_io::ModelSpec spec_;
  GaussianEncoder encoder_;
  ObservationDecoder decoder_;
  MissingModel missing_;
  std::size_t n_params_ = 0;
};

}  // namespace deepmnar

#endif

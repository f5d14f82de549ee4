// The not-MIWAE missing models p(s | x): logits of P(observed) per cell, given
// the row filled with the draws of its missing values.
#ifndef DEEPMNAR_MISSING_MODELS_H
#define DEEPMNAR_MISSING_MODELS_H

#include <vector>

#include "nn.h"
#include "special.h"

namespace deepmnar {

class MissingModel {
 public:
  MissingModel() = default;
  MissingModel(const deepmnar_io::ModelSpec& spec, ParamLayout& layout)
      : kind_(spec.missing), p_(spec.p), direction_(spec.direction) {
    if (direction_.size() != std::size_t(p_)) direction_.assign(p_, 1.0);
    switch (kind_) {
      case deepmnar_io::missing_selfmask:
      case deepmnar_io::missing_selfmask_known:
      case deepmnar_io::missing_selfmask_shared:
        n_slopes_ = kind_ == deepmnar_io::missing_selfmask_shared ? 1 : p_;
        layout.part("mask_slope");
        offset_ = layout.take(std::size_t(n_slopes_));
        layout.part("mask_location");
        layout.take(std::size_t(p_));
        break;
      case deepmnar_io::missing_linear:
        layout.part("missing_model");
        mlp_ = Mlp(p_, {}, p_, Activation::identity, layout);
        break;
      case deepmnar_io::missing_nonlinear:
        layout.part("missing_model");
        mlp_ = Mlp(p_, spec.missing_hidden, p_, Activation::tanh, layout);
        break;
      default:
        break;
    }
  }

  bool active() const { return kind_ != deepmnar_io::missing_none; }
  bool self_masking() const {
    return kind_ == deepmnar_io::missing_selfmask || kind_ == deepmnar_io::missing_selfmask_known ||
           kind_ == deepmnar_io::missing_selfmask_shared;
  }

  // Self-masking slopes and locations start Glorot-uniform, as TF1 variables did
  // in the authors' code.
  void init(double* theta, Rng& rng) const {
    if (self_masking()) {
      const double limit = std::sqrt(6.0 / (1.0 + p_));
      for (int j = 0; j < n_slopes_ + p_; ++j) theta[offset_ + j] = limit * (2.0 * rng.uniform() - 1.0);
    } else if (active()) {
      mlp_.init(theta, rng);
    }
  }

  // Logit slope of column j: logit = -slope * (x - location). A slope whose
  // sign is known is direction * softplus(raw); a shared one is one raw
  // value for every column, its sign known unless the direction is 0.
  double slope(const double* theta, int j) const {
    const double w = theta[offset_ + slope_index(j)];
    return signed_slope() ? direction_[std::size_t(j)] * softplus(w) : w;
  }
  double location(const double* theta, int j) const { return theta[offset_ + n_slopes_ + j]; }

  const RowMat& logits(const double* theta, const RowMat& xfill, MlpCache& cache, RowMat& out) const {
    if (!self_masking()) return mlp_.forward(theta, xfill, cache);
    const RowVec w = slopes(theta), b = locations(theta);
    out = -((xfill.array().rowwise() - b.array()).rowwise() * w.array()).matrix();
    return out;
  }

  // d_logits is consumed; d_xfill receives d loss / d filled row.
  void backward(const double* theta, const RowMat& xfill, MlpCache& cache, RowMat& d_logits, double* grad,
                RowMat& d_xfill) const {
    if (!self_masking()) {
      mlp_.backward(theta, xfill, cache, d_logits, grad, &d_xfill);
      return;
    }
    const RowVec w = slopes(theta), b = locations(theta);
    const RowVec d_slope = -(d_logits.array() * (xfill.array().rowwise() - b.array())).colwise().sum().matrix();
    const RowVec d_location = d_logits.colwise().sum().cwiseProduct(w);
    for (int j = 0; j < p_; ++j) {
      const int k = slope_index(j);
      const double raw = theta[offset_ + k];
      grad[offset_ + k] += signed_slope() ? d_slope(j) * direction_[std::size_t(j)] * sigmoid(raw) : d_slope(j);
      grad[offset_ + n_slopes_ + j] += d_location(j);
    }
    d_xfill = -(d_logits.array().rowwise() * w.array()).matrix();
  }

 private:
  RowVec slopes(const double* theta) const {
    RowVec w(p_);
    for (int j = 0; j < p_; ++j) w(j) = slope(theta, j);
    return w;
  }
  RowVec locations(const double* theta) const { return CMapRowVec(theta + offset_ + n_slopes_, p_); }
  int slope_index(int j) const { return kind_ == deepmnar_io::missing_selfmask_shared ? 0 : j; }
  bool signed_slope() const {
    return kind_ == deepmnar_io::missing_selfmask_known ||
           (kind_ == deepmnar_io::missing_selfmask_shared && direction_[0] != 0.0);
  }

  int kind_ = deepmnar_io::missing_none;
  int p_ = 0, n_slopes_ = 0;
  std::vector<double> direction_;
  std::size_t offset_ = 0;
  Mlp mlp_;
};

}  // namespace deepmnar

#endif

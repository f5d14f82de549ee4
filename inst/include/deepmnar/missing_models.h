// The not-MIWAE missing models p(s | x): logits of P(observed) per cell, given
// the row filled with the draws of its missing values.
#ifndef DEEPMNAR_MISSING_MODELS_H
#define DEEPMNAR_MISSING_MODELS_H

#include <vector>

#include "nn.h"
#include "special.h"

namespace deepmnar {

// A missing cell of a self-masking column, x ~ N(mu, sd^2) given z and
// P(missing | x) = sigmoid(slope (x - location)), integrated over x instead
// of drawn: z's weight carries log Z, Z = E[P(missing | x)], and its value is
// the mean of x reweighted by P(missing | x), mu + slope sd^2 E[sigmoid'] / Z
// (Stein's lemma). Gauss-Hermite with 20 nodes, against adaptive quadrature
// over |slope (mu - location)| <= 12: while |slope| sd <= 2, Z within a
// relative 1.6e-5 and the mean within 1.3e-4 sd; up to 3, 8.5e-4 and 6.4e-3
// sd (far below the imputation's default Monte Carlo tolerance of 0.05 sd);
// at 4 the mean could be off by 0.05 sd, so beyond 3 `valid` is false and
// the cell keeps its draw.
struct MarginalMissingCell {
  bool valid = false;
  double log_z = 0.0, mean = 0.0;
};

// The 20 Gauss-Hermite nodes and weights for a standard normal variable
// (nodes symmetric about 0).
struct StandardNormalQuadrature {
  Eigen::Array<double, 20, 1> node, weight;
  StandardNormalQuadrature() {
    const double half_node[10] = {0.34696415708135958, 1.042945348802756,  1.7452473208141304, 2.458663611172367,
                                  3.18901481655339,    3.9439673506573154, 4.7345813340460552, 5.5787388058932033,
                                  6.5105901570136551,  7.6190485416797591};
    const double half_weight[10] = {0.26079306344955377,   0.16173933398399828,    0.061506372063977341,
                                    0.013997837447101143,  0.0018301031310805011,  0.00012882627996193101,
                                    4.4021210902309018e-06, 6.1274902599829015e-08, 2.4820623623151916e-10,
                                    1.2578006724379254e-13};
    for (int g = 0; g < 10; ++g) {
      node(2 * g) = half_node[g];
      node(2 * g + 1) = -half_node[g];
      weight(2 * g) = weight(2 * g + 1) = half_weight[g];
    }
  }
};

inline MarginalMissingCell marginal_missing_cell(double mu, double sd, double slope, double location) {
  static const StandardNormalQuadrature quadrature;
  MarginalMissingCell out;
  const double spread = slope * sd;
  if (!(std::fabs(spread) <= 3.0) || !std::isfinite(mu)) return out;
  // sigmoid at the 20 nodes at once (vectorised exp); |spread| <= 3 keeps the
  // arguments far from exp's overflow unless the centre itself is extreme,
  // where 1 / (1 + inf) = 0 is the right limit.
  const Eigen::Array<double, 20, 1> s =
      (1.0 + (-(slope * (mu - location) + spread * quadrature.node)).exp()).inverse();
  const double z = (quadrature.weight * s).sum();
  if (!(z > 0.0)) return out;
  out.valid = true;
  out.log_z = std::log(z);
  out.mean = mu + slope * sd * sd * (quadrature.weight * s * (1.0 - s)).sum() / z;
  return out;
}

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

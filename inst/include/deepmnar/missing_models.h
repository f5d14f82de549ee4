// The not-MIWAE missing models p(s | x): logits of P(observed) per cell, given
// the row filled with the draws of its missing values.
#ifndef DEEPMNAR_MISSING_MODELS_H
#define DEEPMNAR_MISSING_MODELS_H

#include <algorithm>
#include <vector>

#include "nn.h"
#include "special.h"

namespace deepmnar {

// The part of a column's logit of P(observed) that reads the column's own
// value, b x - c x^2, when no other column's logit reads that value: then,
// given the rest of its row, a missing cell can be summed or integrated out
// instead of drawn (see NotMiwae::marginalise_missing_cells).
struct OwnLogit {
  bool separable = false;
  double b = 0.0, c = 0.0;
  double at(double x) const { return b * x - c * x * x; }
};

// log P(missing) = log sigmoid(-logit).
inline double log_missing_probability(double logit) { return -softplus(logit); }

// A missing cell with x ~ N(mu, sd^2) given z and logit of P(observed)
// rest + b x - c x^2, integrated over x instead of drawn: z's weight carries
// log Z, Z = E[P(missing | x)], and its value is the mean of x reweighted by
// P(missing | x). In t = (x - mu) / sd the logit is alpha + beta t - gamma t^2,
// and the mean is mu + sd E[h'(t)] / Z with h = P(missing) (Stein's lemma).
// Gauss-Hermite with 20 nodes. For the linear logit (gamma = 0), against
// adaptive quadrature over |alpha| <= 12: while |beta| <= 2, Z within a
// relative 1.6e-5 and the mean within 1.3e-4 sd; up to 3, 8.5e-4 and
// 6.4e-3 sd (far below the imputation's default Monte Carlo tolerance of
// 0.05 sd); at 4 the mean could be off by 0.05 sd. So the steepest slope of
// the logit over t in [-3, 3], |beta| + 6 gamma, must stay within 3, or
// `valid` is false and the cell keeps its draw (test-marginal-mask.R checks
// the curved case against integrate()).
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

inline MarginalMissingCell marginal_missing_cell(double mu, double sd, double rest, const OwnLogit& own) {
  static const StandardNormalQuadrature quadrature;
  MarginalMissingCell out;
  const double alpha = rest + own.at(mu), beta = (own.b - 2.0 * own.c * mu) * sd, gamma = own.c * sd * sd;
  if (!(std::fabs(beta) + 6.0 * gamma <= 3.0) || !std::isfinite(alpha)) return out;
  // P(missing) at the 20 nodes at once (vectorised exp); the bound on the
  // slope keeps the arguments far from exp's overflow unless the centre
  // itself is extreme, where 1 / (1 + inf) = 0 is the right limit.
  const Eigen::Array<double, 20, 1> t = quadrature.node;
  const Eigen::Array<double, 20, 1> h = (1.0 + (alpha + beta * t - gamma * t.square()).exp()).inverse();
  const double z = (quadrature.weight * h).sum();
  if (!(z > 0.0)) return out;
  out.valid = true;
  out.log_z = std::log(z);
  out.mean = mu - sd * (quadrature.weight * h * (1.0 - h) * (beta - 2.0 * gamma * t)).sum() / z;
  return out;
}

// Mask models whose logit of P(observed) adds a column's rate to effects of
// the filled row, each part switched on by the kind:
//   mcar                c_j
//   mar                 c_j + sum_{k outside j's variable, k readable} W_jk x_k
//   selfmask_quadratic  c_j + w_j x_j - softplus(q_j) x_j^2
//   selfmask_mar        both: c_j + w_j x_j - softplus(q_j) x_j^2 + sum_k W_jk x_k
// (selfmask_mar is self-masking beside a MAR dependence on the always-
// observed columns: unlike a mask network, no logit reads another missing
// value, so imputation can still integrate every missing cell.)
// mcar and mar carry a mask term so that their held-out likelihood of
// (x_obs, s) is comparable with the self-masking models'; the quadratic
// self-mask learns either direction, both tails (q large) or none (w = 0,
// q -> -inf: mcar), so the data can end it at no self-dependence.
class AdditiveMask {
 public:
  AdditiveMask() = default;
  AdditiveMask(const deepmnar_io::ModelSpec& spec, ParamLayout& layout) : kind_(spec.missing), p_(spec.p) {
    layout.part("mask_rate");
    rate_at_ = layout.take(std::size_t(p_));
    if (reads_others()) {
      layout.part("mask_others");
      others_at_ = layout.take(std::size_t(p_) * std::size_t(p_));
      // a column's own variable (itself, or the other levels of its factor)
      // never enters its logit: that would be self-masking
      allowed_ = RowMat::Ones(p_, p_);
      for (int j = 0; j < p_; ++j)
        for (int k = 0; k < p_; ++k) {
          const int gj = group_of(spec, j), gk = group_of(spec, k);
          const bool readable = spec.mask_reads.empty() || spec.mask_reads[std::size_t(k)] == 1;
          if (j == k || (gj > 0 && gj == gk) || !readable) allowed_(j, k) = 0.0;
        }
    }
    if (reads_self()) {
      layout.part("mask_slope");
      slope_at_ = layout.take(std::size_t(p_));
      layout.part("mask_curvature");
      curvature_at_ = layout.take(std::size_t(p_));
    }
  }

  bool reads_values() const { return kind_ != deepmnar_io::missing_mcar; }

  OwnLogit own_logit(const double* theta, int j) const {
    OwnLogit own;
    own.separable = !reads_others() || allowed_.col(j).isZero();
    if (reads_self()) {
      own.b = theta[slope_at_ + j];
      own.c = softplus(theta[curvature_at_ + j]);
    }
    return own;
  }

  // Rates and effects start at 0 and the curvature near 0 (softplus(-4) =
  // 0.018): every model starts as MCAR at P(observed) = 1/2, until
  // start_from_data() sets the rates from the data.
  void init(double* theta) const {
    std::fill(theta + rate_at_, theta + rate_at_ + p_, 0.0);
    if (reads_others()) std::fill(theta + others_at_, theta + others_at_ + std::size_t(p_) * p_, 0.0);
    if (reads_self()) {
      std::fill(theta + slope_at_, theta + slope_at_ + p_, 0.0);
      std::fill(theta + curvature_at_, theta + curvature_at_ + p_, -4.0);
    }
  }

  // Each rate at its column's observed share, so that the model starts as
  // MCAR fitted; the quadratic self-mask's slope as the learned self-mask's
  // (1.5 with the sign the data suggest), its curvature near 0.
  void start_from_data(double* theta, const deepmnar_io::MaskStart& start) const {
    for (int j = 0; j < p_; ++j) theta[rate_at_ + j] = logit(start.share[std::size_t(j)]);
    if (!reads_self()) return;
    for (int j = 0; j < p_; ++j)
      if (start.incomplete[std::size_t(j)]) theta[slope_at_ + j] = -1.5 * start.direction[std::size_t(j)];
  }
  bool start_reads_directions() const { return reads_self(); }

  void logits(const double* theta, const RowMat& xfill, RowMat& out) const {
    out.resize(xfill.rows(), p_);
    out.rowwise() = CMapRowVec(theta + rate_at_, p_);
    if (reads_others()) out.noalias() += xfill * others(theta).transpose();
    if (reads_self()) {
      const RowVec w = CMapRowVec(theta + slope_at_, p_), c = curvatures(theta);
      out.array() += xfill.array().rowwise() * w.array() - xfill.array().square().rowwise() * c.array();
    }
  }

  void backward(const double* theta, const RowMat& xfill, const RowMat& d_logits, double* grad, RowMat& d_xfill) const {
    MapRowVec(grad + rate_at_, p_) += d_logits.colwise().sum();
    d_xfill.setZero(xfill.rows(), p_);
    if (reads_others()) {
      const RowMat w = others(theta);
      Eigen::Map<RowMat>(grad + others_at_, p_, p_) += (d_logits.transpose() * xfill).cwiseProduct(allowed_);
      d_xfill.noalias() += d_logits * w;
    }
    if (reads_self()) {
      const RowVec w = CMapRowVec(theta + slope_at_, p_), c = curvatures(theta);
      MapRowVec(grad + slope_at_, p_) += (d_logits.array() * xfill.array()).colwise().sum().matrix();
      const RowVec d_c = -(d_logits.array() * xfill.array().square()).colwise().sum().matrix();
      for (int j = 0; j < p_; ++j) grad[curvature_at_ + j] += d_c(j) * sigmoid(theta[curvature_at_ + j]);
      const RowVec twice_c = 2.0 * c;
      d_xfill.array() += d_logits.array().rowwise() * w.array() -
                         (d_logits.array() * xfill.array()).rowwise() * twice_c.array();
    }
  }

 private:
  bool reads_others() const {
    return kind_ == deepmnar_io::missing_mar || kind_ == deepmnar_io::missing_selfmask_mar;
  }
  bool reads_self() const {
    return kind_ == deepmnar_io::missing_selfmask_quadratic || kind_ == deepmnar_io::missing_selfmask_mar;
  }
  static int group_of(const deepmnar_io::ModelSpec& spec, int j) {
    return spec.category_group.size() == std::size_t(spec.p) ? spec.category_group[std::size_t(j)] : 0;
  }
  RowMat others(const double* theta) const {
    return Eigen::Map<const RowMat>(theta + others_at_, p_, p_).cwiseProduct(allowed_);
  }
  RowVec curvatures(const double* theta) const {
    RowVec c(p_);
    for (int j = 0; j < p_; ++j) c(j) = softplus(theta[curvature_at_ + j]);
    return c;
  }

  int kind_ = deepmnar_io::missing_none;
  int p_ = 0;
  std::size_t rate_at_ = 0, others_at_ = 0, slope_at_ = 0, curvature_at_ = 0;
  RowMat allowed_;
};

// selfmask_activity is selfmask_shared plus a row's activity a' z, read from
// its latent variable z (the decoder's input): how much a row has observed
// need not come from its values, as users who rate little need not dislike
// what they leave unrated. Without it a self-masking model can only explain
// a sparse row by low (or high) values, and over-corrects.
class MissingModel {
 public:
  MissingModel() = default;
  // `latent_width`: the width of the latent variable a mask model may read.
  MissingModel(const deepmnar_io::ModelSpec& spec, ParamLayout& layout, int latent_width = 0)
      : kind_(spec.missing), p_(spec.p), direction_(spec.direction) {
    if (direction_.size() != std::size_t(p_)) direction_.assign(p_, 1.0);
    switch (kind_) {
      case deepmnar_io::missing_selfmask:
      case deepmnar_io::missing_selfmask_known:
      case deepmnar_io::missing_selfmask_shared:
      case deepmnar_io::missing_selfmask_activity:
        n_slopes_ = shared_slope() ? 1 : p_;
        layout.part("mask_slope");
        offset_ = layout.take(std::size_t(n_slopes_));
        layout.part("mask_location");
        layout.take(std::size_t(p_));
        if (reads_latent()) {
          layout.part("mask_activity");
          latent_width_ = latent_width;
          activity_at_ = layout.take(std::size_t(latent_width));
          activity_columns_ = variable_leads(spec);
        }
        break;
      case deepmnar_io::missing_linear:
        layout.part("missing_model");
        mlp_ = Mlp(p_, {}, p_, Activation::identity, layout);
        break;
      case deepmnar_io::missing_nonlinear:
        layout.part("missing_model");
        mlp_ = Mlp(p_, spec.missing_hidden, p_, Activation::tanh, layout);
        break;
      case deepmnar_io::missing_mcar:
      case deepmnar_io::missing_mar:
      case deepmnar_io::missing_selfmask_quadratic:
      case deepmnar_io::missing_selfmask_mar:
        additive_ = AdditiveMask(spec, layout);
        break;
      default:
        break;
    }
  }

  bool active() const { return kind_ != deepmnar_io::missing_none; }
  // The mask's likelihood depends on the values (every model but mcar).
  bool reads_values() const { return active() && (!additive() || additive_.reads_values()); }
  bool self_masking() const {
    return kind_ == deepmnar_io::missing_selfmask || kind_ == deepmnar_io::missing_selfmask_known || shared_slope();
  }
  // The logits read the latent variable as well as the filled row.
  bool reads_latent() const { return kind_ == deepmnar_io::missing_selfmask_activity; }
  // How column j's logit reads x_j (not separable for the networks, which
  // read every column).
  OwnLogit own_logit(const double* theta, int j) const {
    if (additive()) return additive_.own_logit(theta, j);
    OwnLogit own;
    if (!self_masking()) return own;
    own.separable = true;
    own.b = -slope(theta, j);
    return own;
  }

  // Self-masking slopes and locations start Glorot-uniform, as TF1 variables did
  // in the authors' code.
  void init(double* theta, Rng& rng) const {
    if (self_masking()) {
      const double limit = std::sqrt(6.0 / (1.0 + p_));
      for (int j = 0; j < n_slopes_ + p_; ++j) theta[offset_ + j] = limit * (2.0 * rng.uniform() - 1.0);
      // no activity at the start: the shared self-mask
      if (reads_latent()) std::fill(theta + activity_at_, theta + activity_at_ + latent_width_, 0.0);
    } else if (additive()) {
      additive_.init(theta);
    } else if (active()) {
      mlp_.init(theta, rng);
    }
  }

  // Starts from the data (MaskStart) where the mask model learns which way
  // values go missing: a learned self-masking slope starts at 1.5 with the
  // sign the data suggest (one sign for a shared slope, the incomplete
  // columns' majority), and its location where P(observed) at the column's
  // observed mean equals its observed share. The additive models start at
  // MCAR fitted.
  void start_from_data(double* theta, const deepmnar_io::MaskStart& start) const {
    if (additive()) {
      additive_.start_from_data(theta, start);
      return;
    }
    if (!learns_direction()) return;
    std::vector<int> incomplete;
    for (int j = 0; j < p_; ++j)
      if (start.incomplete[std::size_t(j)]) incomplete.push_back(j);
    if (incomplete.empty()) return;
    std::vector<double> slope(static_cast<std::size_t>(p_));
    for (int j = 0; j < p_; ++j) slope[std::size_t(j)] = 1.5 * start.direction[std::size_t(j)];
    if (n_slopes_ == 1) {
      double sum = 0.0;
      for (int j : incomplete) sum += slope[std::size_t(j)];
      std::fill(slope.begin(), slope.end(), sum < 0 ? -1.5 : 1.5);
      theta[offset_] = slope[0];
    } else {
      for (int j : incomplete) theta[offset_ + j] = slope[std::size_t(j)];
    }
    for (int j : incomplete) theta[offset_ + n_slopes_ + j] = logit(start.share[std::size_t(j)]) / slope[std::size_t(j)];
  }
  bool start_reads_directions() const {
    return learns_direction() || (additive() && additive_.start_reads_directions());
  }

  // `latent`: one row per row of `xfill` (nullptr where there is none, as for
  // complete rows scored without a posterior: the activity is then 0, z's
  // prior mean).
  const RowMat& logits(const double* theta, const RowMat& xfill, const RowMat* latent, MlpCache& cache,
                       RowMat& out) const {
    if (additive()) {
      additive_.logits(theta, xfill, out);
      return out;
    }
    if (!self_masking()) return mlp_.forward(theta, xfill, cache);
    const RowVec w = slopes(theta), b = locations(theta);
    out = -((xfill.array().rowwise() - b.array()).rowwise() * w.array()).matrix();
    if (reads_latent() && latent != nullptr) out.noalias() += (*latent * activity(theta)) * activity_columns_;
    return out;
  }

  // d_logits is consumed; d_xfill receives d loss / d filled row and, where
  // the logits read it, d_latent d loss / d latent.
  void backward(const double* theta, const RowMat& xfill, const RowMat& latent, MlpCache& cache, RowMat& d_logits,
                double* grad, RowMat& d_xfill, RowMat& d_latent) const {
    if (additive()) {
      additive_.backward(theta, xfill, d_logits, grad, d_xfill);
      return;
    }
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
    if (reads_latent()) {
      const Eigen::VectorXd per_sample = d_logits * activity_columns_.transpose();
      Eigen::Map<Eigen::VectorXd>(grad + activity_at_, latent_width_) += latent.transpose() * per_sample;
      d_latent.noalias() = per_sample * activity(theta).transpose();
    }
  }

 private:
  // Logit slope of column j: logit = -slope * (x - location). A slope whose
  // sign is known is direction * softplus(raw); a shared one is one raw
  // value for every column, its sign known unless the direction is 0.
  double slope(const double* theta, int j) const {
    const double w = theta[offset_ + slope_index(j)];
    return signed_slope() ? direction_[std::size_t(j)] * softplus(w) : w;
  }

  RowVec slopes(const double* theta) const {
    RowVec w(p_);
    for (int j = 0; j < p_; ++j) w(j) = slope(theta, j);
    return w;
  }
  RowVec locations(const double* theta) const { return CMapRowVec(theta + offset_ + n_slopes_, p_); }
  bool additive() const {
    return kind_ == deepmnar_io::missing_mcar || kind_ == deepmnar_io::missing_mar ||
           kind_ == deepmnar_io::missing_selfmask_quadratic || kind_ == deepmnar_io::missing_selfmask_mar;
  }
  int slope_index(int j) const { return shared_slope() ? 0 : j; }
  bool shared_slope() const { return deepmnar_io::has_code(deepmnar_io::shared_slope_mask_models(), kind_); }
  bool learns_direction() const {
    return kind_ == deepmnar_io::missing_selfmask || (shared_slope() && !signed_slope());
  }
  bool signed_slope() const {
    return kind_ == deepmnar_io::missing_selfmask_known || (shared_slope() && direction_[0] != 0.0);
  }
  Eigen::Map<const Eigen::VectorXd> activity(const double* theta) const {
    return Eigen::Map<const Eigen::VectorXd>(theta + activity_at_, latent_width_);
  }
  // 1 at the column of each variable whose logit carries the activity: every
  // column, but only the first of a factor's level columns, whose logits are
  // summed into the factor's one (Categories::pool).
  static RowVec variable_leads(const deepmnar_io::ModelSpec& spec) {
    RowVec leads = RowVec::Ones(spec.p);
    if (spec.category_group.size() != std::size_t(spec.p)) return leads;
    for (int j = 1; j < spec.p; ++j) {
      const int g = spec.category_group[std::size_t(j)];
      if (g > 0 && g == spec.category_group[std::size_t(j - 1)]) leads(j) = 0.0;
    }
    return leads;
  }

  int kind_ = deepmnar_io::missing_none;
  int p_ = 0, n_slopes_ = 0, latent_width_ = 0;
  std::vector<double> direction_;
  std::size_t offset_ = 0, activity_at_ = 0;
  RowVec activity_columns_;
  Mlp mlp_;
  AdditiveMask additive_;
};

}  // namespace deepmnar

#endif

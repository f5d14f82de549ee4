// Building blocks every model shares: the Gaussian encoder q(z | x) and the
// observation decoder p(x | z) (Gaussian or Student-t, MLP or linear).
#ifndef DEEPMNAR_COMPONENTS_H
#define DEEPMNAR_COMPONENTS_H

#include <algorithm>
#include <cmath>
#include <vector>

#include "distributions.h"
#include "nn.h"

namespace deepmnar {

// The authors' code clips the encoder's log-variance to [-10, 10].
constexpr double kLogVarClip = 10.0;

struct EncoderOutput {
  RowMat mu, log_var, sd;
  Eigen::Array<bool, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> clipped;
  MlpCache cache;
};

class GaussianEncoder {
 public:
  GaussianEncoder() = default;
  GaussianEncoder(int in, const std::vector<int>& hidden, int latent, Activation act, ParamLayout& layout)
      : latent_(latent), mlp_(in, hidden, 2 * latent, act, layout) {}

  int latent() const { return latent_; }
  void init(double* theta, Rng& rng) const { mlp_.init(theta, rng); }

  template <class In>
  void forward(const double* theta, const Eigen::MatrixBase<In>& x, EncoderOutput& e) const {
    const RowMat& h = mlp_.forward(theta, x, e.cache);
    e.mu = h.leftCols(latent_);
    const auto raw = h.rightCols(latent_).array();
    e.clipped = raw.abs() > kLogVarClip;
    e.log_var = raw.max(-kLogVarClip).min(kLogVarClip).matrix();
    e.sd = (0.5 * e.log_var.array()).exp().matrix();
  }

  // d_mu and d_log_var are gradients per input row; the clip stops gradients.
  // d_x, if not null, receives the gradient in the input.
  template <class In>
  void backward(const double* theta, const Eigen::MatrixBase<In>& x, EncoderOutput& e, const RowMat& d_mu,
                const RowMat& d_log_var, double* grad, RowMat* d_x) const {
    RowMat d_out(d_mu.rows(), 2 * latent_);
    d_out.leftCols(latent_) = d_mu;
    d_out.rightCols(latent_) = (e.clipped).select(0.0, d_log_var.array()).matrix();
    mlp_.backward(theta, x, e.cache, d_out, grad, d_x);
  }

 private:
  int latent_ = 0;
  Mlp mlp_;
};

// Vectorised softplus: max(x, 0) + log(1 + exp(-|x|)).
template <class A>
inline auto softplus_array(const A& a) -> decltype(a.max(0.0) + ((-a.abs()).exp() + 1.0).log()) {
  return a.max(0.0) + ((-a.abs()).exp() + 1.0).log();
}

// Categorical variables: a block of adjacent columns, one per level, holding
// the one-hot code of the observed level (zeros when missing). The decoder's
// location head gives the levels' logits, and the variable has one mask
// entry: the mask models' logits of its columns are summed into one (a
// logistic model of P(observed) with an effect per level), counted once.
// log sum exp(a) of an array, its largest term factored out (NaN when every
// term is -inf).
template <class A>
double log_sum_exp(const A& a) {
  const double top = a.maxCoeff();
  return top + std::log((a - top).exp().sum());
}

struct Categories {
  std::vector<int> first, size;  // per column: its block's first column and size (-1, 0: not categorical)
  RowVec counted;                // per column: 1 if its mask logit enters the likelihood
  std::vector<double> value;     // per column: the level's value (rating levels), NaN for none
  bool any = false, any_valued = false;

  Categories() = default;
  Categories(const std::vector<int>& group, const std::vector<double>& values)
      : first(group.size(), -1), size(group.size(), 0), counted(RowVec::Ones(Eigen::Index(group.size()))),
        value(values) {
    if (value.size() != group.size()) value.assign(group.size(), NAN);
    for (std::size_t j = 0; j < group.size(); ++j) {
      if (group[j] == 0) continue;
      any = true;
      first[j] = (j > 0 && group[j - 1] == group[j]) ? first[j - 1] : int(j);
      if (first[j] != int(j)) counted(Eigen::Index(j)) = 0.0;
    }
    for (std::size_t j = 0; j < group.size(); ++j)
      if (first[j] >= 0) ++size[std::size_t(first[j])];
    for (std::size_t j = 0; j < group.size(); ++j)
      if (first[j] >= 0) size[j] = size[std::size_t(first[j])];
    for (std::size_t j = 0; j < group.size(); ++j) any_valued = any_valued || (first[j] >= 0 && !std::isnan(value[j]));
  }
  bool valued(int j) const { return any_valued && in(j) && !std::isnan(value[std::size_t(j)]); }

  // What the mask models read: the filled row, with each variable of rating
  // levels (obs = "categorical") as its value sum_u value_u y_u in its first
  // column and 0 in the others, so that a self-masking slope acts on the
  // rating itself; on the one-hot levels a slope shared by the levels would
  // see the same sum whatever the level. Returns `rows` when nothing is valued.
  const RowMat& mask_input(const RowMat& rows, RowMat& buffer) const {
    if (!any_valued) return rows;
    buffer = rows;
    for (int f = 0; f < int(first.size()); ++f) {
      if (!leads(f) || !valued(f)) continue;
      const int k = size[std::size_t(f)];
      buffer.col(f) = rows.middleCols(f, k) * Eigen::Map<const Eigen::VectorXd>(value.data() + f, k);
      buffer.middleCols(f + 1, k - 1).setZero();
    }
    return buffer;
  }
  // A gradient in the mask models' input, in place, to one in the filled row.
  void mask_input_backward(RowMat& d) const {
    if (!any_valued) return;
    for (int f = 0; f < int(first.size()); ++f) {
      if (!leads(f) || !valued(f)) continue;
      const Eigen::VectorXd d_value = d.col(f);
      for (int u = 0; u < size[std::size_t(f)]; ++u) d.col(f + u) = d_value * value[std::size_t(f + u)];
    }
  }
  bool in(int j) const { return any && first[std::size_t(j)] >= 0; }
  bool leads(int j) const { return any && first[std::size_t(j)] == j; }

  // Every column of a block gets the block's summed logit.
  void pool(RowMat& logits) const {
    for (int j = 0; j < int(first.size()); ++j) {
      if (!leads(j)) continue;
      const int k = size[std::size_t(j)];
      logits.col(j) = logits.middleCols(j, k).rowwise().sum();
      for (int u = j + 1; u < j + k; ++u) logits.col(u) = logits.col(j);
    }
  }
  // The gradient in the pooled logits (counted at the block's first column)
  // back to each column's own logit.
  void unpool(RowMat& d) const {
    for (int j = 0; j < int(first.size()); ++j)
      if (in(j) && !leads(j)) d.col(j) = d.col(first[std::size_t(j)]);
  }
  // Each block's softmax of `logits`, row by row, into the same columns of
  // `out` (the level probabilities; other columns are left at 0).
  void softmax(const RowMat& logits, RowMat& out) const {
    out.setZero(logits.rows(), logits.cols());
    for (int f = 0; f < int(first.size()); ++f) {
      if (!leads(f)) continue;
      const int k = size[std::size_t(f)];
      for (Eigen::Index n = 0; n < logits.rows(); ++n) {
        const auto l = logits.row(n).segment(f, k).array();
        auto prob = out.row(n).segment(f, k).array();
        prob = (l - l.maxCoeff()).exp();
        prob /= prob.sum();
      }
    }
  }
  // log softmax(logits)[level] at row n of the variable whose block starts at
  // column f, `onehot` holding the level's one-hot code in the same columns.
  template <class Row>
  double level_log_likelihood(const RowMat& logits, Eigen::Index n, int f, const Row& onehot) const {
    return logits.row(n).segment(f, size[std::size_t(f)]).dot(onehot.segment(f, size[std::size_t(f)])) -
           log_normaliser(logits, n, f);
  }
  // log sum_k exp(logit_k) of the block that starts at column f.
  double log_normaliser(const RowMat& logits, Eigen::Index n, int f) const {
    return log_sum_exp(logits.row(n).segment(f, size[std::size_t(f)]).array());
  }
};

// The one-hot code y of a level drawn from softmax(logits) by the Gumbel-max
// trick; relaxed (training), softmax((logits + Gumbel noise) / temperature)
// (Jang et al. 2017; Maddison et al. 2017), which keeps a gradient in the
// logits.
template <class Logits, class Out>
inline void draw_category(const Logits& logits, bool exact, double temperature, Rng& rng, Out&& y) {
  for (Eigen::Index u = 0; u < logits.size(); ++u) y(u) = logits(u) - std::log(-std::log(rng.uniform()));
  Eigen::Index best = 0;
  const double top = y.maxCoeff(&best);
  if (exact) {
    y.setZero();
    y(best) = 1.0;
    return;
  }
  y = ((y.array() - top) / temperature).exp().matrix();
  y /= y.sum();
}

// A relaxed draw y = softmax((l + noise) / tau) has dy_i / dl_u = y_i
// (delta_iu - y_u) / tau: adds d l_u = y_u (dy_u - sum_i dy_i y_i) / tau.
template <class Y, class DY, class Out>
inline void add_relaxed_category_gradient(const Y& y, const DY& dy, double temperature, Out&& d_logits) {
  const double through = dy.dot(y);
  d_logits.array() += y.array() * (dy.array() - through) / temperature;
}

// log Bernoulli(s | sigmoid(l)) = s l - softplus(l), summed over the columns
// that count (`counted`: 1 or 0 per column), for every sample: rows r*per ...
// r*per + per - 1 of `logits` belong to row r of `observed`.
inline Eigen::VectorXd bernoulli_log_likelihoods(const RowMat& logits, const RowMat& observed, int per,
                                                 const RowVec& counted) {
  Eigen::VectorXd out = -(softplus_array(logits.array()).rowwise() * counted.array()).matrix().rowwise().sum();
  for (Eigen::Index r = 0; r < observed.rows(); ++r)
    out.segment(r * per, per) += logits.middleRows(r * per, per) * observed.row(r).cwiseProduct(counted).transpose();
  return out;
}

// d log Bernoulli(s | sigmoid(l)) / d l = s - sigmoid(l) for every sample of
// every row, times the sample's weight g (0 for columns that do not count):
// rows r*per ... r*per + per - 1 of `logits` belong to row r of `observed`.
inline void bernoulli_logit_gradients(const RowMat& logits, const RowMat& observed, const Eigen::VectorXd& g, int per,
                                      double scale, const RowVec& counted, RowMat& out) {
  out.resize(logits.rows(), logits.cols());
  for (Eigen::Index r = 0; r < observed.rows(); ++r) {
    const auto l = logits.middleRows(r * per, per).array();
    const auto sig = 1.0 / (1.0 + (-l).exp());
    out.middleRows(r * per, per) =
        (((-sig).rowwise() + observed.row(r).array()).colwise() * (scale * g.segment(r * per, per).array()))
            .rowwise() * counted.array();
  }
}

inline Eigen::VectorXd bernoulli_log_likelihoods(const RowMat& logits, const RowMat& observed, int per) {
  return bernoulli_log_likelihoods(logits, observed, per, RowVec::Ones(logits.cols()));
}
inline void bernoulli_logit_gradients(const RowMat& logits, const RowMat& observed, const Eigen::VectorXd& g, int per,
                                      double scale, RowMat& out) {
  bernoulli_logit_gradients(logits, observed, g, per, scale, RowVec::Ones(logits.cols()), out);
}

// The mask's logits per variable: `unit` itself without categorical
// variables, else a pooled copy in `buffer`.
inline const RowMat& variable_logits(const Categories& cats, const RowMat& unit, RowMat& buffer) {
  if (!cats.any) return unit;
  buffer = unit;
  cats.pool(buffer);
  return buffer;
}

// Where a column's point mass sits: its slot among the point-mass logits
// (-1 for none) and its standardised value. A binary column is a point mass
// whose alternative is its other level (`other`) rather than a continuous
// part; `other` is NaN for a hurdle column.
struct PointMasses {
  std::vector<int> slot;
  std::vector<double> value, other;
  int count = 0;

  PointMasses() = default;
  PointMasses(const std::vector<double>& values, const std::vector<double>& others)
      : slot(values.size(), -1), value(values), other(others) {
    for (std::size_t j = 0; j < values.size(); ++j)
      if (!std::isnan(values[j])) slot[j] = count++;
  }
  bool any() const { return count > 0; }
  bool binary(int j) const { return slot[std::size_t(j)] >= 0 && !std::isnan(other[std::size_t(j)]); }
  // Exact equality in the original units may not survive standardisation.
  bool at(int j, double x) const { return slot[std::size_t(j)] >= 0 && std::fabs(x - value[std::size_t(j)]) < 1e-9; }
};

// Per-sample parameters of p(x | z): location, scale, (Student-t) df and the
// logits of the point masses, P(x_j = its point mass | z) = sigmoid(logit).
struct ObservationParams {
  RowMat mu, scale, df, scale_raw, df_raw, spike_logit;
  RowMat ordinal_location;  // per sample, per ordinal variable: its cumulative-logit location
  RowMat level_prob;        // per sample, the levels' probabilities (softmax of mu's blocks)
  RowMat mean_slope;        // obs "rating": d mu / d location output (1 off the rating columns)
  const PointMasses* spikes = nullptr;
  const Categories* cats = nullptr;
  MlpCache cache;

  // E[x_j | z] of sample n (for a level of a categorical variable, its
  // probability).
  double mean(Eigen::Index n, int j) const {
    if (cats && cats->in(j)) return level_prob(n, j);
    const int s = spikes ? spikes->slot[std::size_t(j)] : -1;
    if (s < 0) return mu(n, j);
    const double w = sigmoid(spike_logit(n, s));
    const double rest = spikes->binary(j) ? spikes->other[std::size_t(j)] : mu(n, j);
    return w * spikes->value[std::size_t(j)] + (1.0 - w) * rest;
  }
};

// Ordered categorical variables as cumulative logits. An ordered variable
// with K levels: P(Y <= k | z) = sigmoid(c_k - eta(z)), eta the location
// output of its first level, cutpoints c_1 < ... < c_{K-1} (c_1 free, then
// softplus steps; K - 1 parameters of their own). The block's logits become
// log P(Y = k | z), so the categorical likelihood, draws and imputation apply
// unchanged (their softmax is P itself).
class OrdinalBlocks {
 public:
  OrdinalBlocks() = default;
  OrdinalBlocks(const Categories& cats, const std::vector<int>& ordinal, ParamLayout& layout) {
    for (int j = 0; j < int(ordinal.size()); ++j) {
      if (!cats.leads(j) || ordinal[std::size_t(j)] != 1) continue;
      first_.push_back(j);
      size_.push_back(cats.size[std::size_t(j)]);
      offset_.push_back(layout.take(std::size_t(size_.back() - 1)));
    }
  }

  bool any() const { return !first_.empty(); }

  // cutpoints -1, -1 + log 2, ...: spread around 0 on the logit scale
  void init(double* theta) const {
    for (std::size_t b = 0; b < first_.size(); ++b)
      for (int c = 0; c < size_[b] - 1; ++c) theta[offset_[b] + std::size_t(c)] = c == 0 ? -1.0 : 0.0;
  }

  // Replaces each ordered block of `logits` by its log level probabilities,
  // keeping each row's eta in `location` (samples x ordered variables).
  void forward(const double* theta, RowMat& logits, RowMat& location) const {
    const Eigen::Index n = logits.rows();
    location.resize(n, Eigen::Index(first_.size()));
    std::vector<double> c;
    for (std::size_t b = 0; b < first_.size(); ++b) {
      const int f = first_[b], k = size_[b];
      cutpoints(theta, b, c);
      for (Eigen::Index r = 0; r < n; ++r) {
        const double eta = logits(r, f);
        location(r, Eigen::Index(b)) = eta;
        for (int level = 0; level < k; ++level) logits(r, f + level) = std::log(cell(eta, c, level).prob);
      }
    }
  }

  // Gradients in the blocks' log-probabilities back to eta (the first
  // level's location output; the block's other outputs are unused) and to
  // the cutpoints' raw parameters.
  void backward(const double* theta, const RowMat& location, RowMat& d_logits, double* grad) const {
    std::vector<double> c, d_c;
    for (std::size_t b = 0; b < first_.size(); ++b) {
      const int f = first_[b], k = size_[b];
      cutpoints(theta, b, c);
      d_c.assign(std::size_t(k - 1), 0.0);
      for (Eigen::Index r = 0; r < d_logits.rows(); ++r) {
        const double eta = location(r, Eigen::Index(b));
        double d_eta = 0.0;
        for (int level = 0; level < k; ++level) {
          const double g = d_logits(r, f + level);
          const Cell p = cell(eta, c, level);
          d_eta += g * p.d_eta;
          if (level > 0) d_c[std::size_t(level - 1)] += g * p.d_lower;
          if (level < k - 1) d_c[std::size_t(level)] += g * p.d_upper;
          d_logits(r, f + level) = 0.0;
        }
        d_logits(r, f) = d_eta;
      }
      // c_i = a_0 + sum_{j=1..i} softplus(a_j): d a_j = sum_{i >= j} d c_i (times sigmoid(a_j) for j > 0)
      double tail = 0.0;
      for (int i = k - 2; i >= 0; --i) {
        tail += d_c[std::size_t(i)];
        const double a = theta[offset_[b] + std::size_t(i)];
        grad[offset_[b] + std::size_t(i)] += i == 0 ? tail : tail * sigmoid(a);
      }
    }
  }

 private:
  void cutpoints(const double* theta, std::size_t b, std::vector<double>& c) const {
    c.resize(std::size_t(size_[b] - 1));
    for (int i = 0; i < size_[b] - 1; ++i) {
      const double a = theta[offset_[b] + std::size_t(i)];
      c[std::size_t(i)] = i == 0 ? a : c[std::size_t(i - 1)] + softplus(a);
    }
  }

  // sigmoid(a) - sigmoid(b) with a = upper - eta > b = lower - eta (the ends
  // at inf / -inf), computed as sigmoid(a) sigmoid(-b) (1 - exp(b - a)) so
  // that it keeps its precision where both sigmoids are near 0 or 1.
  struct Cell {
    double prob, d_eta, d_lower, d_upper;
  };
  static Cell cell(double eta, const std::vector<double>& c, int level) {
    const int k = int(c.size()) + 1;
    const bool top = level == k - 1, bottom = level == 0;
    const double a = top ? 0.0 : c[std::size_t(level)] - eta, b = bottom ? 0.0 : c[std::size_t(level - 1)] - eta;
    const double su = top ? 1.0 : sigmoid(a), sl = bottom ? 0.0 : sigmoid(b);
    const double du = top ? 0.0 : su * sigmoid(-a), dl = bottom ? 0.0 : sl * sigmoid(-b);
    const double gap = (top || bottom) ? 1.0 : -std::expm1(b - a);
    const double prob = std::max(su * (bottom ? 1.0 : sigmoid(-b)) * gap, 1e-300);
    return {prob, (dl - du) / prob, -dl / prob, du / prob};
  }

  std::vector<int> first_, size_;      // first column and number of levels of each ordered variable
  std::vector<std::size_t> offset_;    // where its K - 1 cutpoint parameters start
};

// The rating columns of a spec (both ends of `rating_lower`/`rating_upper`
// finite): a Gaussian mean lower + (upper - lower) sigmoid(location) cannot
// leave the column's scale.
class RatingRanges {
 public:
  RatingRanges() = default;
  RatingRanges(const std::vector<double>& lower, const std::vector<double>& upper) {
    for (std::size_t j = 0; j < lower.size(); ++j) {
      if (std::isnan(lower[j])) continue;
      columns_.push_back(int(j));
      lower_.push_back(lower[j]);
      width_.push_back(upper[j] - lower[j]);
    }
  }

  bool any() const { return !columns_.empty(); }

  // Maps the locations in `mu` to bounded means on the rating columns,
  // keeping d mu / d location in `slope` (1 off the rating columns).
  void bound(RowMat& mu, RowMat& slope) const {
    slope.setOnes(mu.rows(), mu.cols());
    for (std::size_t k = 0; k < columns_.size(); ++k) {
      const int j = columns_[k];
      for (Eigen::Index n = 0; n < mu.rows(); ++n) {
        const double location = mu(n, j), up = sigmoid(location);
        mu(n, j) = lower_[k] + width_[k] * up;
        slope(n, j) = width_[k] * up * sigmoid(-location);
      }
    }
  }

 private:
  std::vector<int> columns_;
  std::vector<double> lower_, width_;
};

// The decoder's heads share one output layer: [mu | scale | df | point-mass
// logits], the last with one column per column that has a point mass. The
// linear (PPCA-like) decoder maps z to [mu | point-mass logits] with one dense
// layer and learns one scale (and one df) shared by all columns, as in the
// paper's PPCA variant.
//
// Ratings (obs "rating", the not-MIWAE paper's Yahoo! model): a Gaussian
// whose mean lower + (upper - lower) sigmoid(location) cannot leave the
// column's scale, with one scale per column shared by all rows ("shared
// variances per dimension"), so the output layer is [mu | point-mass
// logits] and the p scales are parameters of their own.
//
// A column with a point mass (a hurdle model) has density
//   sigmoid(l) at the point mass, (1 - sigmoid(l)) p_continuous(x) elsewhere;
// its point-mass cells cannot pull the continuous scale towards zero. A
// missing cell's draw is the mixture b v + (1 - b) x_cont with b ~
// Bernoulli(sigmoid(l)); in training b is relaxed to sigmoid((l + logistic
// noise) / temperature) so the mask model's gradient reaches l.
class ObservationDecoder {
 public:
  ObservationDecoder() = default;
  ObservationDecoder(const deepmnar_io::ModelSpec& spec, int latent, ParamLayout& layout)
      : p_(spec.p), student_t_(spec.obs == deepmnar_io::obs_student_t),
        linear_(spec.decoder == deepmnar_io::decoder_linear), rating_(spec.obs == deepmnar_io::obs_rating),
        temperature_(spec.temperature), spikes_(spec.point_mass, spec.binary_other), cats_(spec.category_group, spec.category_value),
        ratings_(spec.rating_lower, spec.rating_upper) {
    floor_ = Eigen::Map<const Eigen::RowVectorXd>(spec.sigma_floor.data(), Eigen::Index(spec.sigma_floor.size()));
    if (linear_) {
      mlp_ = Mlp(latent, {}, p_ + spikes_.count, Activation::identity, layout);
    } else {
      mlp_ = Mlp(latent, spec.hidden, heads() * p_ + spikes_.count, activation_from(spec.activation), layout);
    }
    if (shared_scale()) shared_offset_ = layout.take(std::size_t(rating_ ? p_ : (student_t_ ? 2 : 1)));
    ordinal_ = OrdinalBlocks(cats_, spec.category_ordinal, layout);
  }

  bool student_t() const { return student_t_; }
  int heads() const { return rating_ ? 1 : student_t_ ? 3 : 2; }
  // The scales (and the linear decoder's df) are parameters, not outputs.
  bool shared_scale() const { return linear_ || rating_; }
  const PointMasses& point_masses() const { return spikes_; }
  const Categories& categories() const { return cats_; }
  double temperature() const { return temperature_; }

  void init(double* theta, Rng& rng) const {
    mlp_.init(theta, rng);
    ordinal_.init(theta);
    if (rating_) {
      std::fill(theta + shared_offset_, theta + shared_offset_ + p_, 0.0);
    } else if (linear_) {
      theta[shared_offset_] = 0.0;
      if (student_t_) theta[shared_offset_ + 1] = 0.0;
    }
  }

  // Student-t degrees of freedom are 3 + softplus(raw): finite variance, and a
  // shape >= 1.5 for the Marsaglia-Tsang draw.
  static double df_of(double raw) { return 3.0 + softplus(raw); }

  template <class In>
  void forward(const double* theta, const Eigen::MatrixBase<In>& z, ObservationParams& o) const {
    const RowMat& h = mlp_.forward(theta, z, o.cache);
    const Eigen::Index n = z.rows();
    o.mu = h.leftCols(p_);
    if (rating_) {
      o.scale_raw = CMapRowVec(theta + shared_offset_, p_).replicate(n, 1);
    } else if (linear_) {
      o.scale_raw.setConstant(n, p_, theta[shared_offset_]);
      if (student_t_) o.df_raw.setConstant(n, p_, theta[shared_offset_ + 1]);
    } else {
      o.scale_raw = h.middleCols(p_, p_);
      if (student_t_) o.df_raw = h.middleCols(2 * p_, p_);
    }
    o.scale = (softplus_array(o.scale_raw.array()).rowwise() + floor_.array()).matrix();
    if (student_t_) o.df = o.df_raw.unaryExpr([](double r) { return df_of(r); });
    o.spike_logit = h.rightCols(spikes_.count);
    if (rating_) ratings_.bound(o.mu, o.mean_slope);
    o.spikes = &spikes_;
    o.cats = &cats_;
    if (ordinal_.any()) ordinal_.forward(theta, o.mu, o.ordinal_location);
    if (cats_.any) cats_.softmax(o.mu, o.level_prob);
  }

  // Gradients in mu, scale, df and the point-mass logits per sample are
  // consumed; d_z receives the gradient in the decoder input.
  template <class In>
  void backward(const double* theta, const Eigen::MatrixBase<In>& z, ObservationParams& o, RowMat& d_mu,
                RowMat& d_scale, RowMat& d_df, const RowMat& d_spike, double* grad, RowMat* d_z) const {
    const auto sig = [](double r) { return sigmoid(r); };
    if (ordinal_.any()) ordinal_.backward(theta, o.ordinal_location, d_mu, grad);
    if (rating_) d_mu.array() *= o.mean_slope.array();
    d_scale.array() *= o.scale_raw.unaryExpr(sig).array();
    if (student_t_) d_df.array() *= o.df_raw.unaryExpr(sig).array();
    const int c = spikes_.count;
    if (shared_scale()) {
      // a scale shared by rows (and, linear, by columns) sums their gradients
      if (rating_) {
        for (int j = 0; j < p_; ++j) grad[shared_offset_ + std::size_t(j)] += d_scale.col(j).sum();
      } else {
        grad[shared_offset_] += d_scale.sum();
        if (student_t_) grad[shared_offset_ + 1] += d_df.sum();
      }
      if (c == 0) {
        mlp_.backward(theta, z, o.cache, d_mu, grad, d_z);
        return;
      }
      RowMat d_out(z.rows(), p_ + c);
      d_out << d_mu, d_spike;
      mlp_.backward(theta, z, o.cache, d_out, grad, d_z);
      return;
    }
    RowMat d_out(z.rows(), heads() * p_ + c);
    d_out.leftCols(p_) = d_mu;
    d_out.middleCols(p_, p_) = d_scale;
    if (student_t_) d_out.middleCols(2 * p_, p_) = d_df;
    if (c > 0) d_out.rightCols(c) = d_spike;
    mlp_.backward(theta, z, o.cache, d_out, grad, d_z);
  }

  // Adds sum_j observed_j log p(x_j | z) for the `count` samples from `first`.
  template <class Row, class Out>
  void add_observed_log_density(const ObservationParams& o, Eigen::Index first, Eigen::Index count, const Row& x,
                                const Row& observed, Out&& out) const {
    const int p = int(x.size());
    for (int j = 0; j < p; ++j) {
      if (!(observed(j) > 0)) continue;
      if (cats_.in(j)) {
        if (cats_.leads(j)) add_categorical_log_density(o, first, count, x, j, out);
        continue;
      }
      const int s = spikes_.slot[std::size_t(j)];
      if (s >= 0) {
        // log sigmoid(l) at the point mass, log sigmoid(-l) (+ the continuous
        // density for a hurdle column) elsewhere.
        const bool at = spikes_.at(j, x(j)), binary = spikes_.binary(j);
        for (Eigen::Index n = first; n < first + count; ++n) {
          const double l = o.spike_logit(n, s);
          out(n - first) += at ? -softplus(-l) : -softplus(l) + (binary ? 0.0 : log_density(o, n, j, x(j)).value);
        }
        continue;
      }
      if (student_t_) {
        for (Eigen::Index n = first; n < first + count; ++n) out(n - first) += log_density(o, n, j, x(j)).value;
      } else {
        const auto sc = o.scale.col(j).segment(first, count).array();
        const auto r = (x(j) - o.mu.col(j).segment(first, count).array()) / sc;
        out.array() += -0.5 * r.square() - sc.log() - 0.5 * kLogTwoPi;
      }
    }
  }

  // log softmax(logits)[observed level] of the categorical variable whose
  // block starts at column f.
  template <class Row, class Out>
  void add_categorical_log_density(const ObservationParams& o, Eigen::Index first, Eigen::Index count, const Row& x,
                                   int f, Out& out) const {
    for (Eigen::Index n = first; n < first + count; ++n) out(n - first) += cats_.level_log_likelihood(o.mu, n, f, x);
  }

  LogDensityGrad log_density(const ObservationParams& o, Eigen::Index r, int j, double x) const {
    return student_t_ ? student_t_log_density(x, o.mu(r, j), o.scale(r, j), o.df(r, j))
                      : gaussian_log_density(x, o.mu(r, j), o.scale(r, j));
  }

  DrawGrad draw(const ObservationParams& o, Eigen::Index r, int j, const DrawNoise& e) const {
    return student_t_ ? student_t_draw(o.mu(r, j), o.scale(r, j), o.df(r, j), e)
                      : gaussian_draw(o.mu(r, j), o.scale(r, j), e);
  }

 private:
  int p_ = 0;
  bool student_t_ = false, linear_ = false, rating_ = false;
  double temperature_ = 0.5;
  Eigen::RowVectorXd floor_;
  PointMasses spikes_;
  Categories cats_;
  OrdinalBlocks ordinal_;
  RatingRanges ratings_;
  std::size_t shared_offset_ = 0;
  Mlp mlp_;
};

// Draws u = mu + sd * eps, `per` of them for each encoded row, and their
// contribution -log q(u) = 1/2 sum(eps^2) + 1/2 sum(log_var) + const.
inline void reparameterised_draws(const EncoderOutput& e, int per, std::vector<Rng>& rng, int rows_per_stream,
                                  RowMat& eps, RowMat& u) {
  const Eigen::Index R = e.mu.rows(), d = e.mu.cols();
  eps.resize(R * per, d);
  u.resize(R * per, d);
  for (Eigen::Index r = 0; r < R; ++r) {
    Rng& g = rng[std::size_t(r / rows_per_stream)];
    for (int k = 0; k < per; ++k)
      for (Eigen::Index j = 0; j < d; ++j) eps(r * per + k, j) = g.normal();
    u.middleRows(r * per, per) =
        ((eps.middleRows(r * per, per).array().rowwise() * e.sd.row(r).array()).rowwise() + e.mu.row(r).array())
            .matrix();
  }
}

// Gradient of u = mu + exp(log_var / 2) * eps in (mu, log_var), summed over
// the `per` draws of each row; g adds d(-log q)/d(log_var) = 1/2 per
// dimension for each draw's log-weight gradient.
inline void reparameterisation_backward(const RowMat& d_u, const RowMat& eps, const EncoderOutput& e,
                                        const Eigen::VectorXd& g, int R, int per, int d, RowMat& d_mu,
                                        RowMat& d_log_var) {
  d_mu.resize(R, d);
  d_log_var.resize(R, d);
  for (int r = 0; r < R; ++r) {
    const auto du = d_u.middleRows(r * per, per);
    d_mu.row(r) = du.colwise().sum();
    d_log_var.row(r) =
        (0.5 * (du.array() * eps.middleRows(r * per, per).array()).colwise().sum() * e.sd.row(r).array()).matrix();
    d_log_var.row(r).array() += 0.5 * g.segment(r * per, per).sum();
  }
}

// Rows of a minibatch (or one row being imputed) in the layout the models use.
struct RowBlock {
  RowMat x;         // standardised values, missing cells zero
  RowMat observed;  // 1 observed, 0 missing
  std::vector<Rng> rng;  // one stream per row
};

}  // namespace deepmnar

#endif

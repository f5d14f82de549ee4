// The importance-weighted bound of one row: log (1/K) sum_k exp(lw_k), and its
// gradient in the log-weights, softmax(lw).
#ifndef DEEPMNAR_BOUND_H
#define DEEPMNAR_BOUND_H

#include <algorithm>
#include <cmath>

namespace deepmnar {

inline double log_mean_exp(const double* lw, int K) {
  double m = lw[0];
  for (int k = 1; k < K; ++k) m = std::max(m, lw[k]);
  if (!std::isfinite(m)) return m;
  double s = 0.0;
  for (int k = 0; k < K; ++k) s += std::exp(lw[k] - m);
  return m + std::log(s / K);
}

// Monte Carlo variance of log_mean_exp(lw, K) as an estimate of log E[w],
// by the delta method: Var(mean w) / mean(w)^2 = sum_k wn_k^2 - 1/K, wn the
// normalised weights (0 when they are equal, 1 - 1/K when one dominates).
inline double monte_carlo_variance(const double* lw, int K) {
  double m = lw[0];
  for (int k = 1; k < K; ++k) m = std::max(m, lw[k]);
  if (!std::isfinite(m)) return NAN;
  double s = 0.0, s2 = 0.0;
  for (int k = 0; k < K; ++k) {
    const double w = std::exp(lw[k] - m);
    s += w;
    s2 += w * w;
  }
  return std::max(0.0, s2 / (s * s) - 1.0 / K);
}

// Writes scale * softmax(lw) into `out`.
inline void scaled_softmax(const double* lw, int K, double scale, double* out) {
  double m = lw[0];
  for (int k = 1; k < K; ++k) m = std::max(m, lw[k]);
  double s = 0.0;
  for (int k = 0; k < K; ++k) {
    out[k] = std::exp(lw[k] - m);
    s += out[k];
  }
  for (int k = 0; k < K; ++k) out[k] *= scale / s;
}

// Running log-sum-exp over a stream of weights with weighted sums alongside,
// rescaled whenever the maximum grows, so any number of samples fits in
// constant memory.
class StreamingWeights {
 public:
  explicit StreamingWeights(int width = 0) : sums_(width, 0.0) {}
  void reset(int width) {
    sums_.assign(width, 0.0);
    max_ = -INFINITY;
    total_ = 0.0;
  }
  // Returns the factor to apply to this sample's values before add_value.
  double add(double lw) {
    if (lw > max_) {
      const double rescale = std::isfinite(max_) ? std::exp(max_ - lw) : 0.0;
      for (double& s : sums_) s *= rescale;
      total_ *= rescale;
      max_ = lw;
    }
    const double w = std::exp(lw - max_);
    total_ += w;
    return w;
  }
  void add_value(int j, double weighted) { sums_[j] += weighted; }
  double mean(int j) const { return sums_[j] / total_; }
  double log_total() const { return max_ + std::log(total_); }
  bool empty() const { return !(total_ > 0.0) || !std::isfinite(max_); }

 private:
  std::vector<double> sums_;
  double max_ = -INFINITY;
  double total_ = 0.0;
};

}  // namespace deepmnar

#endif

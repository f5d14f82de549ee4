// Imputation by self-normalised importance sampling with the training
// weights, from draws (z_l, x^m_l) ~ q(z | x^o) p(x^m | z). Samples are decoded
// in chunks; the conditional mean and the multiple imputations
// (sampling-importance-resampling done as a streaming weighted reservoir) keep
// memory flat in L. The median keeps, per row being imputed, the weights and
// the per-sample values of that row's missing cells.
//
// When the weights do not depend on x^m (MIWAE), E[x^m | z_l] may replace the
// draw (Rao-Blackwellisation): the mean averages the conditional means and
// the median solves the weighted mixture CDF = 1/2 (from the draws for a
// column with a point mass). When they do (a mask model
// p(s | x)), the target's x^m given z is p(x^m | z) reweighted by p(s | x), so
// the decoder means would converge to the wrong value; the draws themselves
// are averaged, and the median is the weighted median of the draws.
#ifndef DEEPMNAR_IMPUTER_H
#define DEEPMNAR_IMPUTER_H

#include <algorithm>
#include <cmath>
#include <vector>

#include "bound.h"
#include "data.h"

namespace deepmnar {

// Draws, per multiple imputation, one sample with probability proportional to
// its weight from a stream of samples.
class Reservoir {
 public:
  void reset(int draws, int width) {
    log_total_.assign(draws, -INFINITY);
    values_.assign(std::size_t(draws) * width, NAN);
    width_ = width;
  }
  template <class Values>
  void offer(double lw, const Values& values, Rng& rng) {
    for (std::size_t d = 0; d < log_total_.size(); ++d) {
      const double lt = log_total_[d];
      const double new_total = lw > lt ? lw + std::log1p(std::exp(lt - lw)) : lt + std::log1p(std::exp(lw - lt));
      log_total_[d] = new_total;
      if (rng.uniform() < std::exp(lw - new_total))
        for (int j = 0; j < width_; ++j) values_[d * width_ + j] = values(j);
    }
  }
  double value(int draw, int j) const { return values_[std::size_t(draw) * width_ + j]; }

 private:
  std::vector<double> log_total_, values_;
  int width_ = 0;
};

// Parameters of p(x_j | z_l) for one missing cell, for the median.
struct MixtureComponent {
  double lw, mu, scale, df;
};

// Replaces each component's log-weight by its self-normalised weight.
inline void normalise_weights(std::vector<MixtureComponent>& comps) {
  double m = -INFINITY;
  for (const auto& c : comps) m = std::max(m, c.lw);
  double total = 0.0;
  for (auto& c : comps) {
    c.lw = std::exp(c.lw - m);
    total += c.lw;
  }
  for (auto& c : comps) c.lw /= total;
}

inline double mixture_median(bool student_t, std::vector<MixtureComponent>& comps) {
  normalise_weights(comps);
  // Drop samples whose normalised weight cannot move the answer.
  std::vector<MixtureComponent> kept;
  double lo = INFINITY, hi = -INFINITY, x = 0.0;
  for (const auto& c : comps) {
    const double a = c.lw;
    if (a < 1e-14) continue;
    kept.push_back({a, c.mu, c.scale, c.df});
    lo = std::min(lo, c.mu - 40.0 * c.scale);
    hi = std::max(hi, c.mu + 40.0 * c.scale);
    x += a * c.mu;
  }
  auto cdf_and_density = [&](double t, double& F, double& f) {
    F = 0.0;
    f = 0.0;
    for (const auto& c : kept) {
      const double u = (t - c.mu) / c.scale;
      if (student_t) {
        F += c.lw * student_t_cdf(u, c.df);
        f += c.lw * std::exp(student_t_log_density(t, c.mu, c.scale, c.df).value);
      } else {
        F += c.lw * normal_cdf(u);
        f += c.lw * std::exp(-0.5 * u * u - 0.5 * kLogTwoPi) / c.scale;
      }
    }
  };
  // Newton's method safeguarded by bisection on the bracket [lo, hi].
  for (int iter = 0; iter < 200; ++iter) {
    double F, f;
    cdf_and_density(x, F, f);
    const double g = F - 0.5;
    if (std::fabs(g) < 1e-13) break;
    if (g > 0) hi = x;
    else lo = x;
    double next = (f > 0) ? x - g / f : 0.5 * (lo + hi);
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (std::fabs(next - x) < 1e-12 * (1.0 + std::fabs(x))) {
      x = next;
      break;
    }
    x = next;
  }
  return x;
}

// Weighted median of the draws: the smallest value whose cumulative
// normalised weight reaches 1/2.
inline double weighted_median_of_draws(std::vector<MixtureComponent>& comps) {
  normalise_weights(comps);
  std::sort(comps.begin(), comps.end(), [](const MixtureComponent& a, const MixtureComponent& b) { return a.mu < b.mu; });
  double cumulative = 0.0;
  for (const auto& c : comps) {
    cumulative += c.lw;
    if (cumulative >= 0.5) return c.mu;
  }
  return comps.back().mu;
}

// The Monte Carlo error of self-normalised estimates, from a second stream
// of the squared weights: ESS = (sum w)^2 / sum w^2, and the variance of the
// estimate of E[v] is E_{w^2}[(v - mean)^2] / ESS (the delta method).
class PrecisionTracker {
 public:
  void reset(int width) { squares_.reset(2 * width); }
  // Returns the factor (the squared weight) to pass to add_value.
  double add(double lw) { return squares_.add(2.0 * lw); }
  void add_value(int a, double squared_weight, double value) {
    squares_.add_value(2 * a, squared_weight * value);
    squares_.add_value(2 * a + 1, squared_weight * value * value);
  }
  double ess(const StreamingWeights& weights) const {
    return std::exp(2.0 * weights.log_total() - squares_.log_total());
  }
  double standard_error(const StreamingWeights& weights, int a) const {
    const double mean = weights.mean(a);
    const double spread = squares_.mean(2 * a + 1) - 2.0 * mean * squares_.mean(2 * a) + mean * mean;
    return std::sqrt(std::max(spread, 0.0) / ess(weights));
  }

 private:
  StreamingWeights squares_;
};

// Every imputed cell of the row known to within `tolerance` (one Monte Carlo
// standard error), from weights with an ESS of at least 20 so that the
// error's own estimate can be trusted. `log_scale(a)` is s for a cell of a
// log column, whose estimate is of E[exp(s x)] and whose imputation is
// log(E[exp(s x)]) / s: its error is the estimate's error / (mean s) (the
// delta method), in the units of the other cells.
template <class LogScale>
bool precise_enough(const PrecisionTracker& precision, const StreamingWeights& stream, int m, double tolerance,
                    const LogScale& log_scale) {
  if (!(precision.ess(stream) >= 20.0)) return false;
  for (int a = 0; a < m; ++a) {
    const double s = log_scale(a);
    const double error = precision.standard_error(stream, a) / (s > 0 ? s * stream.mean(a) : 1.0);
    if (!(error <= tolerance)) return false;
  }
  return true;
}

// Models whose weights read drawn missing values may integrate those cells
// out for conditional means (not-MIWAE defines an overload for its
// workspace, used by its separable mask models); the others draw.
template <class Workspace>
void request_marginal_cells(Workspace&, const std::vector<char>&) {}

// The missing columns of a one-row block, or of those in `wanted` alone.
inline void missing_cells(const RowBlock& block, const std::vector<int>* wanted, std::vector<int>& missing) {
  missing.clear();
  const int p = int(block.observed.cols());
  if (!wanted) {
    for (int j = 0; j < p; ++j)
      if (!(block.observed(0, j) > 0)) missing.push_back(j);
    return;
  }
  for (int j : *wanted)
    if (j >= 0 && j < p && !(block.observed(0, j) > 0)) missing.push_back(j);
}

// Imputes the `count` rows listed in `rows`, in standardised units, into
// outputs with one row per listed row of the call (`out_rows` of them; these
// `count` are rows first_out, first_out + 1, ...), so a few rows of a large
// table need no n x p buffer. `point_out` is out_rows x p, column-major
// (missing cells only); `draws_out`, if not null, out_rows x p x draws;
// `mask_out`, if not null, out_rows x p; `ess_out` and `samples_out` (length
// out_rows) the effective sample size of each row's weights and the samples
// drawn. Random streams follow the data's row index, not the output's.
// With `opt.wanted`, only the cells asked for are imputed (the rest stay
// as they were in `point_out`).
template <class Model>
void impute_rows(const Model& model, const double* theta, const RowData& data, const int* rows, int count,
                 int first_out, int out_rows, const deepmnar_io::ImputeOptions& opt,
                 const std::vector<double>& log_scale, const deepmnar_io::ParallelFor& par, double* point_out,
                 double* draws_out, double* mask_out, double* ess_out, double* samples_out) {
  const int n = out_rows, p = data.p();
  const bool rao_blackwell = !model.weights_use_missing_draws();
  const auto log_s = [&](int j) { return log_scale.empty() ? 0.0 : log_scale[std::size_t(j)]; };
  par.run(std::size_t(count), [&](std::size_t begin, std::size_t end) {
    typename Model::Workspace ws;
    // Conditional means alone (no draws, medians or mask probabilities) may
    // integrate the missing cells; a log column's mean is of exp(s x), which
    // the integral does not give, so it keeps its draws.
    if (opt.marginal_mask && opt.type == deepmnar_io::impute_mean && opt.draws == 0 && !mask_out) {
      std::vector<char> columns(std::size_t(p), 1);
      for (int j = 0; j < p; ++j) columns[std::size_t(j)] = log_s(j) == 0;
      request_marginal_cells(ws, columns);
    }
    // A point mass makes p(x_j | z) a mixture with an atom: its median comes
    // from the draws. (Read after a forward pass, which sets ws.obs.spikes.)
    const auto median_from_mixture = [&](int j) {
      return rao_blackwell && !(ws.obs.spikes && ws.obs.spikes->slot[std::size_t(j)] >= 0);
    };
    // A level of a categorical variable has no median: its point estimate is
    // always its probability, from which R takes the mode.
    const auto categorical = [&](int j) { return ws.obs.cats && ws.obs.cats->in(j); };
    RowBlock block;
    StreamingWeights stream;
    Reservoir reservoir;
    std::vector<int> missing;
    std::vector<std::vector<MixtureComponent>> comps;
    StreamingWeights mask_stream;
    PrecisionTracker precision;
    RowMat mask_prob;
    for (std::size_t t = begin; t < end; ++t) {
      const int i = rows[t], o = first_out + int(t);
      gather_rows(data, &i, 1, block);
      missing_cells(block, opt.wanted.empty() ? nullptr : &opt.wanted[std::size_t(o)], missing);
      if (missing.empty() && !mask_out) continue;
      const int m = int(missing.size());
      stream.reset(m);
      precision.reset(m);
      mask_stream.reset(mask_out ? p : 0);
      // Only conditional means stop early: medians, draws and mask
      // predictions use all L samples.
      const bool adaptive = opt.tolerance > 0 && opt.type == deepmnar_io::impute_mean && opt.draws == 0 && !mask_out;
      long drawn = 0;
      reservoir.reset(opt.draws, m);
      comps.assign(opt.type == deepmnar_io::impute_median ? m : 0, {});
      Rng resample_rng(opt.seed, stream_resample_row, std::uint64_t(i));
      const int n_chunks = (opt.L + opt.chunk - 1) / opt.chunk;
      for (int c = 0; c < n_chunks; ++c) {
        const int size = std::min(opt.chunk, opt.L - c * opt.chunk);
        gather_rows(data, &i, 1, block);
        block.rng.assign(1, Rng(opt.seed, stream_impute_row, std::uint64_t(i), std::uint64_t(c)));
        model.forward(theta, block, size, true, ws);
        const RowMat& mu = ws.obs.mu;
        if (mask_out) model.sample_mask_probability(ws, mask_prob);
        for (int l = 0; l < int(ws.lw.size()); ++l) {
          const double lw = ws.lw[l];
          if (std::isnan(lw)) continue;
          if (mask_out) {
            const double wm = mask_stream.add(lw);
            for (int j = 0; j < p; ++j) mask_stream.add_value(j, wm * mask_prob(l, j));
          }
          // A log column's mean is that of exp(s x): given z, a Gaussian x
          // has E[exp(s x)] = exp(s mu + s^2 sd^2 / 2).
          const auto value = [&](int j) {
            const double s = log_s(j);
            if (s == 0) return rao_blackwell ? ws.obs.mean(l, j) : ws.xfill(l, j);
            if (!rao_blackwell) return std::exp(s * ws.xfill(l, j));
            const double sd = ws.obs.scale(l, j);
            return std::exp(s * mu(l, j) + 0.5 * s * s * sd * sd);
          };
          const double w = stream.add(lw), w2 = precision.add(lw);
          for (int a = 0; a < m; ++a) {
            const double v = value(missing[a]);
            stream.add_value(a, w * v);
            precision.add_value(a, w2, v);
          }
          if (opt.draws > 0) reservoir.offer(lw, [&](int a) { return ws.xfill(l, missing[a]); }, resample_rng);
          for (std::size_t a = 0; a < comps.size(); ++a) {
            const int j = missing[a];
            if (categorical(j)) continue;
            comps[a].push_back({lw, median_from_mixture(j) ? mu(l, j) : ws.xfill(l, j), ws.obs.scale(l, j),
                                model.student_t() ? ws.obs.df(l, j) : 0.0});
          }
        }
        drawn += long(ws.lw.size());
        if (adaptive && m > 0 && !stream.empty() &&
            precise_enough(precision, stream, m, opt.tolerance, [&](int a) { return log_s(missing[a]); }))
          break;
      }
      if (ess_out) ess_out[o] = (stream.empty() || m == 0) ? NAN : precision.ess(stream);
      if (samples_out) samples_out[o] = double(drawn);
      if (mask_out)
        for (int j = 0; j < p; ++j) mask_out[o + std::size_t(n) * j] = mask_stream.empty() ? NAN : mask_stream.mean(j);
      for (int a = 0; a < m; ++a) {
        const int j = missing[a];
        double value = stream.empty() ? NAN : stream.mean(a);
        if (log_s(j) > 0) value = std::log(value) / log_s(j);
        if (!comps.empty() && !stream.empty() && !categorical(j))
          value = median_from_mixture(j) ? mixture_median(model.student_t(), comps[a])
                                         : weighted_median_of_draws(comps[a]);
        point_out[o + std::size_t(n) * j] = value;
        for (int d = 0; d < opt.draws; ++d)
          draws_out[o + std::size_t(n) * j + std::size_t(n) * p * d] = reservoir.value(d, a);
      }
    }
  });
}

}  // namespace deepmnar

#endif

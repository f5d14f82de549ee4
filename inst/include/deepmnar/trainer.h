// Minibatch training by Adam ascent on the importance-weighted bound. A batch
// is cut into tasks of a fixed number of rows; each task owns its workspace and
// gradient buffer and draws its noise from per-row streams, and the task
// gradients are added in task order, so the result is the same for any number
// of threads.
#ifndef DEEPMNAR_TRAINER_H
#define DEEPMNAR_TRAINER_H

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "adam.h"
#include "bound.h"
#include "data.h"

namespace deepmnar {

// Rows per task: two tasks for the papers' batch of 16, one per core here.
constexpr int kRowsPerTask = 8;

template <class Model>
struct TaskState {
  typename Model::Workspace ws;
  RowBlock block;
  Eigen::VectorXd grad, dlw;  // Eigen storage: aligned, so reductions are reproducible
  double bound_sum = 0.0;
};

// Tasks evaluated at once: each holds a workspace for its rows' K samples of
// every column, so scoring a few thousand held-out rows of a wide table all at
// once would hold gigabytes (2,000 rows x 20 samples x 1,000 items); waves of
// this many tasks keep memory flat in the number of rows.
constexpr int kTasksPerWave = 8;

// Bound (sum over the given rows of log mean_k w_ik) and, if `grad` is not
// null, its gradient times `grad_scale`, accumulated over tasks in order
// (wave after wave, so in the same order whatever the thread count). If
// `row_scores` is not null it receives, for the r-th row given, its estimate
// log mean_k w_ik at [r] and that estimate's Monte Carlo variance at
// [n_rows + r] (delta method: sum_k wn_k^2 - 1/K for the normalised weights).
template <class Model>
double bound_over_rows(const Model& model, const double* theta, const RowData& data, const std::vector<int>& rows,
                       int K, std::uint64_t seed, std::uint64_t purpose, std::uint64_t stream_a, double grad_scale,
                       double* grad, std::vector<TaskState<Model>>& tasks, int rows_per_task,
                       const deepmnar_io::ParallelFor& par, double* row_scores = nullptr) {
  const int n_rows = int(rows.size());
  const int n_tasks = (n_rows + rows_per_task - 1) / rows_per_task;
  if (int(tasks.size()) < std::min(n_tasks, kTasksPerWave)) tasks.resize(std::min(n_tasks, kTasksPerWave));
  const std::size_t np = model.n_params();
  const int S = model.samples_per_row(K);
  if (grad) std::fill(grad, grad + np, 0.0);
  double total = 0.0;
  for (int wave_start = 0; wave_start < n_tasks; wave_start += kTasksPerWave) {
    const int in_wave = std::min(kTasksPerWave, n_tasks - wave_start);
    par.run(in_wave, [&](std::size_t begin, std::size_t end) {
      for (std::size_t w = begin; w < end; ++w) {
        TaskState<Model>& ts = tasks[w];
        const int first = (wave_start + int(w)) * rows_per_task;
        const int count = std::min(rows_per_task, n_rows - first);
        gather_rows(data, rows.data() + first, count, ts.block);
        ts.block.rng.clear();
        for (int r = 0; r < count; ++r)
          ts.block.rng.emplace_back(seed, purpose, stream_a,
                                    std::uint64_t(purpose == stream_train_row ? first + r : rows[first + r]));
        model.forward(theta, ts.block, K, false, ts.ws);
        ts.bound_sum = 0.0;
        ts.dlw.resize(Eigen::Index(count) * S);
        for (int r = 0; r < count; ++r) {
          const double* lw = ts.ws.lw.data() + std::size_t(r) * S;
          const double row_bound = log_mean_exp(lw, S);
          ts.bound_sum += row_bound;
          if (grad) scaled_softmax(lw, S, grad_scale, ts.dlw.data() + std::size_t(r) * S);
          if (row_scores) {
            row_scores[first + r] = row_bound;
            row_scores[n_rows + first + r] = monte_carlo_variance(lw, S);
          }
        }
        if (grad && std::isfinite(ts.bound_sum)) {
          ts.grad.setZero(Eigen::Index(np));
          model.backward(theta, ts.block, ts.dlw, ts.ws, ts.grad.data());
        }
      }
    });
    for (int w = 0; w < in_wave; ++w) total += tasks[w].bound_sum;
    if (grad && std::isfinite(total))
      for (int w = 0; w < in_wave; ++w)
        for (std::size_t i = 0; i < np; ++i) grad[i] += tasks[w].grad[i];
  }
  return total;
}

inline Eigen::VectorXd aligned_copy(const std::vector<double>& x) {
  return Eigen::Map<const Eigen::VectorXd>(x.data(), Eigen::Index(x.size()));
}

// Mean over every row of `data` of the bound with K samples, drawn for the
// bound (stream_bound_row, by row) from `seed`, so the same theta always
// scores the same; with `grad`, the gradient of that mean; with `row_scores`,
// each row's estimate and its Monte Carlo variance (see bound_over_rows).
template <class Model>
double mean_bound(const Model& model, const std::vector<double>& theta, const RowData& data, int K,
                  std::uint64_t seed, const deepmnar_io::ParallelFor& par, std::vector<double>* grad = nullptr,
                  std::vector<double>* row_scores = nullptr) {
  std::vector<int> rows(data.n());
  std::iota(rows.begin(), rows.end(), 0);
  std::vector<TaskState<Model>> tasks;
  const Eigen::VectorXd th = aligned_copy(theta);
  if (grad) grad->assign(model.n_params(), 0.0);
  if (row_scores) row_scores->assign(2 * std::size_t(data.n()), 0.0);
  const double total = bound_over_rows(model, th.data(), data, rows, K, seed, stream_bound_row, 0, 1.0 / data.n(),
                                       grad ? grad->data() : nullptr, tasks, 16, par,
                                       row_scores ? row_scores->data() : nullptr);
  return total / data.n();
}

// The batch schedule: epochs of a shuffled order, consecutive slices, the last
// partial batch of every epoch skipped (as in the authors' code).
class BatchSchedule {
 public:
  BatchSchedule(int n, int batch_size, std::uint64_t seed)
      : n_(n), batch_(std::min(batch_size, n)), per_epoch_(std::max(1, n / std::min(batch_size, n))), seed_(seed) {}

  int batch_size() const { return batch_; }

  void rows_of(long iteration, std::vector<int>& rows) {
    const long epoch = iteration / per_epoch_;
    if (epoch != epoch_) shuffle(epoch);
    const int start = int(iteration % per_epoch_) * batch_;
    rows.assign(order_.begin() + start, order_.begin() + start + batch_);
  }

 private:
  void shuffle(long epoch) {
    order_.resize(n_);
    std::iota(order_.begin(), order_.end(), 0);
    Rng rng(seed_, stream_shuffle, std::uint64_t(epoch));
    for (int i = n_ - 1; i > 0; --i) std::swap(order_[i], order_[rng.below(std::uint64_t(i) + 1)]);
    epoch_ = epoch;
  }

  int n_, batch_, per_epoch_;
  std::uint64_t seed_;
  long epoch_ = -1;
  std::vector<int> order_;
};

// Runs `iterations` Adam steps from state.iteration on, or fewer if the
// monitor says stop; returns the minibatch bound (mean over rows) of each
// step done. Throws NonFiniteBound.
template <class Model>
std::vector<double> train_iterations(const Model& model, const RowData& data, deepmnar_io::TrainState& st,
                                     long iterations, const deepmnar_io::TrainOptions& opt,
                                     const deepmnar_io::ParallelFor& par, deepmnar_io::ProgressMonitor& monitor) {
  const std::size_t np = model.n_params();
  BatchSchedule schedule(data.n(), opt.batch_size, opt.seed);
  std::vector<TaskState<Model>> tasks;
  std::vector<int> rows;
  std::vector<double> trace;
  trace.reserve(iterations);
  // Aligned copies: vectorised loops then split the same way on every call.
  Eigen::VectorXd theta = aligned_copy(st.theta), m = aligned_copy(st.adam_m), v = aligned_copy(st.adam_v);
  Eigen::VectorXd grad(np);
  AdamConfig cfg;
  cfg.lr = opt.lr;
  bool finite = true;
  for (long it = 0; it < iterations; ++it, ++st.iteration) {
    schedule.rows_of(st.iteration, rows);
    const double B = double(rows.size());
    const double total = bound_over_rows(model, theta.data(), data, rows, opt.K, opt.seed, stream_train_row,
                                         std::uint64_t(st.iteration), 1.0 / B, grad.data(), tasks, kRowsPerTask, par);
    const double bound = total / B;
    finite = std::isfinite(bound) && grad.allFinite();
    if (!finite) break;
    adam_ascent(theta.data(), m.data(), v.data(), grad.data(), np, st.iteration + 1, cfg);
    trace.push_back(bound);
    if (!monitor.keep_going(st.iteration + 1, bound)) {
      ++st.iteration;
      break;
    }
  }
  st.theta.assign(theta.data(), theta.data() + np);
  st.adam_m.assign(m.data(), m.data() + np);
  st.adam_v.assign(v.data(), v.data() + np);
  if (!finite) throw deepmnar_io::NonFiniteBound{st.iteration + 1};
  return trace;
}

}  // namespace deepmnar

#endif

// Training with early stopping on held-out rows, in one engine call: R used
// to run this loop itself, a train call and a bound call per check, each
// re-checking the spec and converting the rows again (1.16 times the
// engine's own cost per iteration on banknote).
#ifndef DEEPMNAR_EARLY_STOPPING_H
#define DEEPMNAR_EARLY_STOPPING_H

#include <algorithm>
#include <cmath>
#include <vector>

#include "trainer.h"

namespace deepmnar {

// Passes the training loop's reports on and remembers an interrupt: a stop
// asked for on the last step of a stretch between checks leaves that
// stretch complete, so the count of steps alone would not show it.
class InterruptLatch : public deepmnar_io::ProgressMonitor {
 public:
  explicit InterruptLatch(deepmnar_io::ProgressMonitor& inner) : inner_(inner) {}
  bool keep_going(long done, double value) override {
    if (!inner_.keep_going(done, value)) stopped_ = true;
    return !stopped_;
  }
  void checked(long iteration, double held_out, double best) override { inner_.checked(iteration, held_out, best); }
  bool stopped() const { return stopped_; }

 private:
  deepmnar_io::ProgressMonitor& inner_;
  bool stopped_ = false;
};

// The best check so far and how many checks have passed since.
struct BestCheck {
  double bound;
  std::vector<double> theta;
  long iteration;
  int since = 0;

  // A non-finite bound never counts as an improvement.
  void consider(double bound_now, const std::vector<double>& theta_now, long iteration_now) {
    if (std::isfinite(bound_now) && bound_now > bound) {
      bound = bound_now;
      theta = theta_now;
      iteration = iteration_now;
      since = 0;
    } else {
      ++since;
    }
  }

  // Flat for `patience` checks, and for at least `patience_ratio` times the
  // iterations the best check took.
  bool stale(const deepmnar_io::EarlyStoppingRule& rule, long iteration_now) const {
    return since >= rule.patience && double(iteration_now - iteration) >= rule.patience_ratio * double(iteration);
  }
};

// Trains on `train` from `st` in stretches of rule.every steps (the batch
// schedule depends only on the iteration count, so stretches leave the path
// as one call would), scoring the bound on `held` at the start and after each
// stretch, until the cap, an interrupt, or a stale best check. Leaves in `st`
// the best check's theta with the Adam moments and iteration count reached.
// Throws NonFiniteBound as training does.
template <class Model>
deepmnar_io::EarlyStoppingRun train_with_early_stopping(const Model& model, const RowData& train, const RowData& held,
                                                        deepmnar_io::TrainState& st,
                                                        const deepmnar_io::TrainOptions& opt,
                                                        const deepmnar_io::EarlyStoppingRule& rule,
                                                        const deepmnar_io::ParallelFor& par,
                                                        deepmnar_io::ProgressMonitor& monitor) {
  deepmnar_io::EarlyStoppingRun run;
  InterruptLatch latch(monitor);
  const auto check = [&]() {
    const double bound = mean_bound(model, st.theta, held, rule.check_K, opt.seed, par);
    run.check_iteration.push_back(st.iteration);
    run.check_bound.push_back(bound);
    return bound;
  };
  BestCheck best{check(), st.theta, st.iteration};
  latch.checked(st.iteration, best.bound, best.bound);
  while (st.iteration < rule.iterations) {
    const long stretch = std::min(rule.iterations, st.iteration + rule.every) - st.iteration;
    const std::vector<double> steps = train_iterations(model, train, st, stretch, opt, par, latch);
    run.trace.insert(run.trace.end(), steps.begin(), steps.end());
    best.consider(check(), st.theta, st.iteration);
    latch.checked(st.iteration, run.check_bound.back(), best.bound);
    if (latch.stopped()) {
      run.reason = deepmnar_io::stop_interrupted;
      break;
    }
    if (best.stale(rule, st.iteration)) {
      run.reason = deepmnar_io::stop_no_improvement;
      break;
    }
  }
  // At the cap, a best check more than `patience` checks old means a bound
  // that no longer moves: the cap is not what stopped it.
  if (run.reason == deepmnar_io::stop_iteration_cap && best.since >= rule.patience)
    run.reason = deepmnar_io::stop_no_improvement;
  run.best_iteration = best.iteration;
  run.stopped_at = st.iteration;
  st.theta = best.theta;
  return run;
}

}  // namespace deepmnar

#endif

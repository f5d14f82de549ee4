// Definitions of the entry points (include in exactly one translation unit per
// instruction-set build).
#ifndef DEEPMNAR_ENGINE_H
#define DEEPMNAR_ENGINE_H

#include <chrono>
#include <stdexcept>

#include "early_stopping.h"
#include "entry.h"
#include "imputer.h"
#include "models/gnr.h"
#include "models/not2miwae.h"
#include "models/notmiwae.h"
#include "models/psmvae.h"
#include "trainer.h"

namespace deepmnar {
namespace entry {

// Builds the model the spec names and hands it to f.
template <class F>
auto with_model(const deepmnar_io::ModelSpec& spec, F&& f) -> decltype(f(std::declval<NotMiwae&>())) {
  switch (spec.model) {
    case deepmnar_io::model_gnr: {
      Gnr model(spec);
      return f(model);
    }
    case deepmnar_io::model_not2miwae: {
      Not2Miwae model(spec);
      return f(model);
    }
    case deepmnar_io::model_psmvae: {
      Psmvae model(spec);
      return f(model);
    }
    default: {
      NotMiwae model(spec);
      return f(model);
    }
  }
}

std::size_t n_params(const deepmnar_io::ModelSpec& spec) {
  return with_model(spec, [](const auto& m) { return m.n_params(); });
}

std::vector<deepmnar_io::ParamBlock> param_blocks(const deepmnar_io::ModelSpec& spec) {
  return with_model(spec, [](const auto& m) { return m.blocks(); });
}

// A model whose mask model starts from the data (not-MIWAE's, PSMVAE's) has
// start_from_data(); the others start from their seed alone, and only a
// model with start_reads_directions() asks for the directions.
template <class M>
auto start_mask(const M& m, double* theta, const deepmnar_io::MaskStart& start, int)
    -> decltype(m.start_from_data(theta, start), void()) {
  m.start_from_data(theta, start);
}
template <class M>
void start_mask(const M&, double*, const deepmnar_io::MaskStart&, long) {}
template <class M>
auto mask_start_reads_directions(const M& m, int) -> decltype(m.start_reads_directions()) {
  return m.start_reads_directions();
}
template <class M>
bool mask_start_reads_directions(const M&, long) { return false; }

std::vector<double> init_params(const deepmnar_io::ModelSpec& spec, std::uint64_t seed,
                                const deepmnar_io::MaskStart* start) {
  return with_model(spec, [&](const auto& m) {
    std::vector<double> theta(m.n_params(), 0.0);
    Rng rng(seed, stream_init, 0);
    m.init(theta.data(), rng);
    if (start) start_mask(m, theta.data(), *start, 0);
    return theta;
  });
}

bool start_reads_directions(const deepmnar_io::ModelSpec& spec) {
  return with_model(spec, [](const auto& m) { return mask_start_reads_directions(m, 0); });
}

// Mean over all rows of the bound with K samples; gradient of that mean;
// with `row_scores`, each row's estimate of log p(x_obs, s) and its Monte
// Carlo variance (n values each, see bound_over_rows).
double evaluate_bound(const deepmnar_io::ModelSpec& spec, const deepmnar_io::DataView& view,
                      const std::vector<double>& theta, int K, std::uint64_t seed, std::vector<double>* grad,
                      const deepmnar_io::ParallelFor& par, std::vector<double>* row_scores) {
  return with_model(spec, [&](const auto& m) { return mean_bound(m, theta, RowData(view), K, seed, par, grad, row_scores); });
}

std::vector<double> train(const deepmnar_io::ModelSpec& spec, const deepmnar_io::DataView& view,
                          deepmnar_io::TrainState& state, long iterations, const deepmnar_io::TrainOptions& opt,
                          const deepmnar_io::ParallelFor& par, deepmnar_io::ProgressMonitor& monitor) {
  return with_model(spec, [&](const auto& m) {
    const RowData data(view);
    return train_iterations(m, data, state, iterations, opt, par, monitor);
  });
}

deepmnar_io::EarlyStoppingRun train_early_stopping(const deepmnar_io::ModelSpec& spec,
                                                  const deepmnar_io::DataView& train, const deepmnar_io::DataView& held,
                                                  deepmnar_io::TrainState& state, const deepmnar_io::TrainOptions& opt,
                                                  const deepmnar_io::EarlyStoppingRule& rule,
                                                  const deepmnar_io::ParallelFor& par,
                                                  deepmnar_io::ProgressMonitor& monitor) {
  return with_model(spec, [&](const auto& m) {
    return train_with_early_stopping(m, RowData(train), RowData(held), state, opt, rule, par, monitor);
  });
}

// Imputes the listed rows, converting the data once, in blocks of rows after
// each of which the monitor may stop the call (returns false then).
bool impute(const deepmnar_io::ModelSpec& spec, const deepmnar_io::DataView& view, const std::vector<double>& theta,
            const std::vector<int>& rows, const deepmnar_io::ImputeOptions& opt, const deepmnar_io::ParallelFor& par,
            deepmnar_io::ProgressMonitor& monitor, double* point_out, double* draws_out, double* mask_out,
            double* ess_out, double* samples_out) {
  return with_model(spec, [&](const auto& m) {
    const RowData data(view);
    const Eigen::VectorXd th = aligned_copy(theta);
    const int block = 64;
    for (std::size_t start = 0; start < rows.size(); start += block) {
      const int count = int(std::min<std::size_t>(block, rows.size() - start));
      impute_rows(m, th.data(), data, rows.data() + start, count, int(start), int(rows.size()), opt, spec.log_scale,
                  par, point_out, draws_out, mask_out, ess_out, samples_out);
      if (!monitor.keep_going(long(start) + count, 0.0)) return false;
    }
    return true;
  });
}

// Every row of the data as one block.
inline RowBlock all_rows(const RowData& data) {
  RowBlock all;
  std::vector<int> rows(data.n());
  std::iota(rows.begin(), rows.end(), 0);
  gather_rows(data, rows.data(), data.n(), all);
  return all;
}

// Per-row summaries written column-major into `out`: the encoder's posterior
// means of z (n x latent), not-2-MIWAE's means of eta for complete rows
// (n x eta_dim), not-MIWAE's P(observed) for complete rows (n x p), or
// PSMVAE's pattern-set posterior q(r | x, s) (n x k).
void row_summaries(const deepmnar_io::ModelSpec& spec, const deepmnar_io::DataView& view,
                   const std::vector<double>& theta, int what, double* out) {
  const RowData data(view);
  const Eigen::VectorXd th = aligned_copy(theta);
  const RowBlock all = all_rows(data);
  RowMat result;
  if (spec.model == deepmnar_io::model_psmvae) {
    const Psmvae model(spec);
    if (what == deepmnar_io::summary_pattern_probability) model.pattern_probabilities(th.data(), all, result);
    else model.latent_means(th.data(), all, result);
  } else if (what == deepmnar_io::summary_latent_mean) {
    // Every model but PSMVAE lays its LatentCore out first.
    ParamLayout layout(spec.precision == deepmnar_io::precision_float);
    LatentCore(spec, layout).latent_means(th.data(), all.x, all.observed, result);
  } else if (what == deepmnar_io::summary_eta_mean) {
    Not2Miwae(spec).eta_means(th.data(), all.x, result);
  } else {
    NotMiwae(spec).mask_probability(th.data(), all.x, result);
  }
  Eigen::Map<Eigen::MatrixXd>(out, result.rows(), result.cols()) = result;
}

// PSMVAE's draws of z and of x~ in evaluate_bound() with the same K and seed,
// one row per sample (row i, set r, draw k at (i k_sets + r) K + k): the z
// draw, then the x~ draw. Tests recompute the ELBO from them independently.
std::vector<double> psmvae_draws(const deepmnar_io::ModelSpec& spec, const deepmnar_io::DataView& view,
                                 const std::vector<double>& theta, int K, std::uint64_t seed) {
  if (spec.model != deepmnar_io::model_psmvae || theta.size() != n_params(spec))
    throw std::invalid_argument("psmvae_draws() needs a PSMVAE spec and its parameter vector");
  const RowData data(view);
  const Eigen::VectorXd th = aligned_copy(theta);
  RowBlock all = all_rows(data);
  for (int i = 0; i < data.n(); ++i) all.rng.emplace_back(seed, stream_bound_row, 0, std::uint64_t(i));
  const Psmvae model(spec);
  Psmvae::Workspace w;
  model.forward_elbo(th.data(), all, K, w);
  RowMat out(w.z.rows(), w.z.cols() + w.x_draw.cols());
  out << w.z, w.x_draw;
  return std::vector<double>(out.data(), out.data() + out.size());
}

// Rate of the dense-layer product (m x k) * (k x n) as the engine runs it, for
// benchmarks that compare the layers' speed with the core's peak.
double gemm_gflops(int m, int k, int n, int reps) {
  Rng rng(1, stream_init, 0);
  const auto fill = [&](int rows, int cols) {
    RowMat x(rows, cols);
    for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = rng.uniform() - 0.5;
    return x;
  };
  const RowMat a = fill(m, k), b = fill(k, n);
  RowMat c(m, n);
  c.noalias() = a * b;
  const auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) c.noalias() = a * b;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return 2.0 * m * k * n * reps / seconds / 1e9 + 0.0 * c(0, 0);
}

const char* instruction_set() {
#if defined(__AVX2__) && defined(__FMA__)
  return "avx2+fma";
#elif defined(__SSE2__)
  return "sse2";
#else
  return "baseline";
#endif
}

}  // namespace entry
}  // namespace deepmnar

#endif

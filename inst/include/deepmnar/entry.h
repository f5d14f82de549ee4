// The engine's entry points. The engine is compiled twice, for the baseline
// instruction set (namespace `deepmnar`) and for AVX2+FMA (the same source
// with the namespace renamed to `deepmnar_avx2`, see src/engine_avx2.cpp);
// the glue declares both sets, fills one function table per build from
// DEEPMNAR_ENTRY_NAMES, and picks a table at run time. Adding an entry point
// means adding its declaration below and its name to the list.
#ifndef DEEPMNAR_ENTRY_H
#define DEEPMNAR_ENTRY_H

#include "io.h"

#define DEEPMNAR_DECLARE_ENTRY(NS)                                                                           \
  namespace NS {                                                                                           \
  namespace entry {                                                                                        \
  std::size_t n_params(const deepmnar_io::ModelSpec& spec);                                                \
  std::vector<deepmnar_io::ParamBlock> param_blocks(const deepmnar_io::ModelSpec& spec);                   \
  std::vector<double> init_params(const deepmnar_io::ModelSpec& spec, std::uint64_t seed,                  \
                                  const deepmnar_io::MaskStart* start);                                    \
  bool start_reads_directions(const deepmnar_io::ModelSpec& spec);                                          \
  double evaluate_bound(const deepmnar_io::ModelSpec& spec, const deepmnar_io::DataView& data,             \
                        const std::vector<double>& theta, int K, std::uint64_t seed, std::vector<double>* grad, \
                        const deepmnar_io::ParallelFor& par, std::vector<double>* row_scores);             \
  std::vector<double> train(const deepmnar_io::ModelSpec& spec, const deepmnar_io::DataView& data,         \
                            deepmnar_io::TrainState& state, long iterations,                               \
                            const deepmnar_io::TrainOptions& opt, const deepmnar_io::ParallelFor& par,     \
                            deepmnar_io::ProgressMonitor& monitor);                                           \
  deepmnar_io::EarlyStoppingRun train_early_stopping(                                                      \
      const deepmnar_io::ModelSpec& spec, const deepmnar_io::DataView& train,                              \
      const deepmnar_io::DataView& held, deepmnar_io::TrainState& state,                                   \
      const deepmnar_io::TrainOptions& opt, const deepmnar_io::EarlyStoppingRule& rule,                    \
      const deepmnar_io::ParallelFor& par, deepmnar_io::ProgressMonitor& monitor);                          \
  bool impute(const deepmnar_io::ModelSpec& spec, const deepmnar_io::DataView& data,                       \
              const std::vector<double>& theta, const std::vector<int>& rows,                              \
              const deepmnar_io::ImputeOptions& opt, const deepmnar_io::ParallelFor& par,                  \
              deepmnar_io::ProgressMonitor& monitor, double* point_out, double* draws_out, double* mask_out, \
              double* ess_out, double* samples_out);                                                       \
  void row_summaries(const deepmnar_io::ModelSpec& spec, const deepmnar_io::DataView& data,                \
                     const std::vector<double>& theta, int what, double* out);                             \
  std::vector<double> psmvae_draws(const deepmnar_io::ModelSpec& spec, const deepmnar_io::DataView& data,  \
                                   const std::vector<double>& theta, int K, std::uint64_t seed);           \
  const char* instruction_set();                                                                           \
  double gemm_gflops(int m, int k, int n, int reps);                                                       \
  }                                                                                                        \
  }

// X(name) for every entry point declared above.
#define DEEPMNAR_ENTRY_NAMES(X) \
  X(n_params)                   \
  X(param_blocks)               \
  X(init_params)                \
  X(start_reads_directions)     \
  X(evaluate_bound)             \
  X(train)                      \
  X(train_early_stopping)       \
  X(impute)                     \
  X(row_summaries)              \
  X(psmvae_draws)               \
  X(instruction_set)            \
  X(gemm_gflops)

#endif

// The engine's entry points, declared for one namespace. The glue declares
// them twice, for the baseline build (`deepmnar`) and for the AVX2 build
// (`deepmnar_avx2`), and picks one at run time.
#ifndef DEEPMNAR_ENTRY_H
#define DEEPMNAR_ENTRY_H

#include "io.h"

#define DEEPMNAR_DECLARE_ENTRY(NS)                                                                           \
  namespace NS {                                                                                           \
  namespace entry {                                                                                        \
  std::size_t n_params(const deepmnar_io::ModelSpec& spec);                                                \
  std::vector<double> init_params(const deepmnar_io::ModelSpec& spec, std::uint64_t seed);                 \
  double evaluate_bound(const deepmnar_io::ModelSpec& spec, const deepmnar_io::DataView& data,             \
                        const std::vector<double>& theta, int K, std::uint64_t seed, std::vector<double>* grad, \
                        const deepmnar_io::ParallelFor& par);                                              \
  std::vector<double> train(const deepmnar_io::ModelSpec& spec, const deepmnar_io::DataView& data,         \
                            deepmnar_io::TrainState& state, long iterations,                               \
                            const deepmnar_io::TrainOptions& opt, const deepmnar_io::ParallelFor& par);    \
  void impute(const deepmnar_io::ModelSpec& spec, const deepmnar_io::DataView& data,                       \
              const std::vector<double>& theta, int row_begin, int row_end,                                \
              const deepmnar_io::ImputeOptions& opt, const deepmnar_io::ParallelFor& par, double* point_out, \
              double* draws_out, double* mask_out);                                                        \
  void row_summaries(const deepmnar_io::ModelSpec& spec, const deepmnar_io::DataView& data,                \
                     const std::vector<double>& theta, int what, double* out);                             \
  std::vector<double> psmvae_draws(const deepmnar_io::ModelSpec& spec, const deepmnar_io::DataView& data,  \
                                   const std::vector<double>& theta, int K, std::uint64_t seed);           \
  const char* instruction_set();                                                                           \
  double gemm_gflops(int m, int k, int n, int reps);                                                       \
  }                                                                                                        \
  }

#endif

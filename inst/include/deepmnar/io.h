// Plain types shared by the Rcpp glue and the engine translation units.
// Nothing here may depend on Eigen or on the `deepmnar` namespace: the engine is
// compiled twice (baseline ISA and AVX2+FMA, the latter with that namespace
// renamed), and both builds must agree on these layouts; src/engine_avx2.cpp
// includes this file before switching to AVX2, so its inline functions are
// baseline code in both builds.
#ifndef DEEPMNAR_IO_H
#define DEEPMNAR_IO_H

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "registry.h"

namespace deepmnar_io {

enum ImputeKind { impute_mean = 0, impute_median = 1 };
// What row_summaries() computes for each row.
enum RowSummary {
  summary_latent_mean = 0,
  summary_eta_mean = 1,
  summary_mask_probability = 2,
  summary_pattern_probability = 3
};

struct ModelSpec {
  int model = model_notmiwae;
  int p = 0;           // data columns
  int latent = 0;      // dimension of z
  std::vector<int> hidden;        // encoder and decoder hidden sizes
  std::vector<int> missing_hidden;  // hidden sizes of the nonlinear missing model
  int activation = act_tanh;
  int precision = precision_double;  // arithmetic inside the networks' layers
  int obs = obs_gaussian;
  int decoder = decoder_mlp;
  int missing = missing_none;
  // +1: high values go missing (selfmask_known, selfmask_shared); 0, for
  // selfmask_shared only: the shared slope's sign is learned.
  std::vector<double> direction;
  std::vector<double> sigma_floor;  // per column: lower bound added to the observation scale
  // Per column, standardised: the value of a point mass (exact zeros, a
  // detection limit, top-coding) modelled apart from the continuous part; NaN
  // for a column without one.
  std::vector<double> point_mass;
  // Per column, standardised: for a binary column, the value of its other
  // level (the point mass holds the first); NaN for every other column.
  std::vector<double> binary_other;
  // Per column, standardised: the ends of a rating column's scale (obs
  // "rating"), whose mean lower + (upper - lower) sigmoid(location) stays in
  // range; NaN for every other column.
  std::vector<double> rating_lower, rating_upper;
  // Per column: 0, or the id of the categorical variable the column is one
  // level of. A categorical variable with K levels is K adjacent columns
  // holding its one-hot code (all 0 when missing), sharing one mask.
  std::vector<int> category_group;
  // Per column: 1 for the levels of an ordered categorical variable, modelled
  // by a cumulative logit (one location from the decoder, learned cutpoints).
  std::vector<int> category_ordinal;
  // Per column: the value of the rating level it is (obs = "categorical"),
  // which the mask models read; NaN elsewhere.
  std::vector<double> category_value;
  // Per column: 0, or, for a column modelled on the log scale, the standard
  // deviation its logs were standardised by (s): the imputed mean of such a
  // column is E[exp(s x)] over the standardised log x, the mean of its
  // original values, returned as log(E[exp(s x)]) / s so that the caller's
  // back-transformation exp(centre + s value) gives it.
  std::vector<double> log_scale;
  // Per column, for the mar mask model: 1 if the masks of the other
  // variables may depend on its value (R gives the columns observed in every
  // training row, so that the mask depends on observed values only); empty:
  // every column.
  std::vector<int> mask_reads;
  double temperature = 0.5;       // of the relaxed point-mass and category draws in training
  double alpha = 1.0;             // GNR: weight of log p(s | z)
  int aux = 0;                    // GNR: dimension of the auxiliary u ~ p(u | z) both decoders read; 0: none
  int K2 = 1;                     // not-2-MIWAE: eta draws per z draw
  int eta_dim = 1;                // not-2-MIWAE: dimension of eta
  int k = 1;                      // PSMVAE: number of pattern sets
  int variant = psmvae_b;         // PSMVAE: generative model (b) or (a)
  double pi_prime = 0.5;          // PSMVAE: P(an observed value does not supervise x_mis)
  int encoder_mask = 0;           // 1: the encoder of z reads the mask beside the zero-filled row
  int encoder = encoder_mlp;      // the encoder of z: an MLP on the zero-filled row, or the set encoder
  int set_embedding = 20;         // set encoder: size of an item's embedding
  int set_code = 50;              // set encoder: size of a pair's code
};

// What the data say about each column's mask, for a data-driven start of
// the mask model's parameters: the observed share (kept inside [0.02, 0.98]),
// whether the column is incomplete (a level of a factor never is: its
// variable's mask is counted once), and which way its missingness seems to go
// (+1 high values missing, -1 low; empty unless the mask model asks for it,
// MissingModel::start_reads_directions()).
struct MaskStart {
  std::vector<double> share;
  std::vector<int> incomplete;
  std::vector<double> direction;
};

// A named, contiguous range of a model's flat parameter vector.
struct ParamBlock {
  std::string name;
  std::size_t offset = 0, size = 0;
};

// Data arrive in one of two forms. Dense, column-major (R's layout):
// x[i + n * j], `observed` (1/0) saying which cells are real (missing cells of
// `x` may hold anything). Or sparse, the observed cells only, row by row: row
// i's cells are k in [row_start[i], row_start[i + 1]), in column col_index[k]
// (0-based, increasing within a row) with value values[k].
struct DataView {
  const double* x = nullptr;
  const int* observed = nullptr;
  const int* row_start = nullptr;
  const int* col_index = nullptr;
  const double* values = nullptr;
  int n = 0;
  int p = 0;
};

struct TrainState {
  std::vector<double> theta, adam_m, adam_v;
  long iteration = 0;  // iterations done so far
};

struct TrainOptions {
  int K = 20;
  int batch_size = 16;
  double lr = 1e-3;
  std::uint64_t seed = 1;
};

// Training with early stopping on held-out rows (R's early_stopping()): the
// held-out bound is scored at the start and every `every` iterations, with
// `check_K` importance samples and the training seed, so every check is judged
// on the same draws.
struct EarlyStoppingRule {
  long iterations = 0;  // the cap: the iteration count to reach at most
  long every = 100;
  int patience = 10;    // checks without improvement before training stops
  // ... and only once the iterations since the best check are at least this
  // multiple of the best check's iteration
  double patience_ratio = 0.0;
  int check_K = 20;
};

enum StopReason { stop_iteration_cap = 0, stop_no_improvement = 1, stop_interrupted = 2 };

// The words R reports a StopReason with (fit$stopping$reason).
inline const char* stop_reason_name(int reason) {
  switch (reason) {
    case stop_no_improvement: return "held-out bound stopped improving";
    case stop_interrupted: return "interrupted";
    default: return "iteration cap";
  }
}

struct EarlyStoppingRun {
  std::vector<double> trace;  // minibatch bound of every step
  std::vector<long> check_iteration;
  std::vector<double> check_bound;
  long best_iteration = 0;
  long stopped_at = 0;
  int reason = stop_iteration_cap;
};

struct ImputeOptions {
  int L = 10000;
  int chunk = 500;       // importance samples decoded together
  int type = impute_mean;
  int draws = 0;         // multiple imputations by SIR
  std::uint64_t seed = 1;
  // Conditional means only: a row stops drawing once the Monte Carlo
  // standard error of every imputed cell is below `tolerance` (standardised
  // units), L being the cap; 0 draws all L.
  double tolerance = 0.0;
  // Conditional means under a self-masking model integrate each missing cell
  // over p(x | z) instead of drawing it (false: draw, for comparison).
  bool marginal_mask = true;
  // If not empty, per listed row (in output order): the only columns whose
  // missing cells are imputed, so that a row of a wide rating table stops
  // when the cells asked for are precise, not all of its missing cells.
  std::vector<std::vector<int>> wanted;
};

// Parallel loop supplied by the glue: runs body(begin, end) over [0, n) in
// pieces, possibly on several threads. The engine never relies on which thread
// runs which piece.
struct ParallelFor {
  virtual void run(std::size_t n,
                   const std::function<void(std::size_t, std::size_t)>& body) const = 0;
  virtual ~ParallelFor() {}
};

struct SerialFor : ParallelFor {
  void run(std::size_t n,
           const std::function<void(std::size_t, std::size_t)>& body) const override {
    if (n > 0) body(0, n);
  }
};

// Told by the training loop after every Adam step (with the minibatch bound)
// and by the imputer after every block of rows (with the rows done); returning
// false stops the loop there (an interrupt). The glue's monitor updates the
// progress bar and checks for Ctrl-C.
struct ProgressMonitor {
  virtual bool keep_going(long done, double value) = 0;
  // Told by early stopping after each check of the held-out bound.
  virtual void checked(long /*iteration*/, double /*held_out*/, double /*best*/) {}
  virtual ~ProgressMonitor() {}
};

// Raised for a bound that is not finite; `iteration` is 1-based.
struct NonFiniteBound {
  long iteration;
};

// Categorical variables are runs of >= 2 adjacent columns with one id each,
// without point masses; PSMVAE has none.
inline std::string category_problem(const ModelSpec& s) {
  const std::vector<int>& g = s.category_group;
  if (g.size() != std::size_t(s.p)) return "category_group: not one value per column";
  if (s.category_ordinal.size() != g.size()) return "category_ordinal: not one value per column";
  if (s.category_value.size() != g.size()) return "category_value: not one value per column";
  for (std::size_t j = 0; j < g.size(); ++j) {
    const int o = s.category_ordinal[j];
    if (o != 0 && o != 1) return "category_ordinal: not 0 or 1";
    if (o == 1 && g[j] == 0) return "category_ordinal: a column outside any categorical variable";
    if (j > 0 && g[j] != 0 && g[j] == g[j - 1] && o != s.category_ordinal[j - 1])
      return "category_ordinal: a variable partly ordinal";
    const double v = s.category_value[j];
    if (std::isinf(v) || (!std::isnan(v) && g[j] == 0)) return "category_value: not NaN or a level's finite value";
    if (j > 0 && g[j] != 0 && g[j] == g[j - 1] && std::isnan(v) != std::isnan(s.category_value[j - 1]))
      return "category_value: a variable partly valued";
  }
  std::vector<int> finished;
  for (std::size_t j = 0; j < g.size(); ++j) {
    if (g[j] < 0) return "category_group: negative";
    if (g[j] == 0) continue;
    if (!std::isnan(s.point_mass[j])) return "category_group: a categorical column with a point mass";
    const bool starts = j == 0 || g[j - 1] != g[j];
    if (!starts) continue;
    for (int f : finished)
      if (f == g[j]) return "category_group: a variable's columns are not adjacent";
    finished.push_back(g[j]);
    if (j + 1 >= g.size() || g[j + 1] != g[j]) return "category_group: a variable with a single level";
  }
  return "";
}

// +1 or -1 per column; a shared slope has one direction for all columns,
// which may be 0 (its sign learned).
inline std::string direction_problem(const ModelSpec& s) {
  if (s.direction.size() != std::size_t(s.p)) return "direction: not one value per column";
  const bool shared = has_code(shared_slope_mask_models(), s.missing);
  for (double d : s.direction) {
    if (d != 1.0 && d != -1.0 && !(shared && d == 0.0)) return "direction: not +1 or -1 (or 0 for a shared slope)";
    if (shared && d != s.direction[0]) return "direction: not one value for the shared slope";
  }
  return "";
}

// Rating columns: both ends finite and ordered, or both NaN; only under
// obs "rating", and not for categorical variables or columns with a point
// mass.
inline std::string rating_problem(const ModelSpec& s) {
  const std::size_t p = std::size_t(s.p);
  if (s.rating_lower.size() != p || s.rating_upper.size() != p) return "rating_lower: not one value per column";
  for (std::size_t j = 0; j < p; ++j) {
    const double lo = s.rating_lower[j], hi = s.rating_upper[j];
    if (std::isnan(lo) && std::isnan(hi)) continue;
    if (!(std::isfinite(lo) && std::isfinite(hi) && lo < hi)) return "rating_lower: not finite ends lower < upper";
    if (s.obs != obs_rating) return "rating_lower: a rating column without obs \"rating\"";
    if (!std::isnan(s.point_mass[j]) || s.category_group[j] != 0)
      return "rating_lower: a rating column with a point mass or categorical";
  }
  return "";
}

// Log-scale columns: continuous Gaussian columns without a point mass or
// rating scale (a Student-t has no exponential moment).
inline std::string log_problem(const ModelSpec& s) {
  const std::size_t p = std::size_t(s.p);
  if (s.log_scale.size() != p) return "log_scale: not one value per column";
  for (std::size_t j = 0; j < p; ++j) {
    const double v = s.log_scale[j];
    if (!(std::isfinite(v) && v >= 0)) return "log_scale: not a finite number >= 0";
    if (v == 0) continue;
    if (s.obs != obs_gaussian) return "log_scale: a log column without obs \"gaussian\"";
    if (!std::isnan(s.point_mass[j]) || s.category_group[j] != 0 || !std::isnan(s.rating_lower[j]))
      return "log_scale: a log column with a point mass, levels or a rating scale";
  }
  return "";
}

inline std::string mask_reads_problem(const ModelSpec& s) {
  if (s.mask_reads.empty()) return "";
  if (s.mask_reads.size() != std::size_t(s.p)) return "mask_reads: not one value per column";
  for (int v : s.mask_reads)
    if (v != 0 && v != 1) return "mask_reads: not 0 or 1";
  return "";
}

// The set encoder: sizes in range; it knows which cells are observed, so the
// mask is no extra input to it.
inline std::string encoder_problem(const ModelSpec& s) {
  if (s.encoder != encoder_set) return "";
  if (s.encoder_mask != 0) return "encoder_mask: the set encoder reads no mask";
  if (s.set_embedding < 1 || s.set_embedding > 4096) return "set_embedding: not a size";
  if (s.set_code < 1 || s.set_code > 4096) return "set_code: not a size";
  return "";
}

// What is wrong with a spec (checked by the glue on every call), as
// "field: problem", or "" if nothing is.
inline std::string spec_problem(const ModelSpec& s) {
  const auto size_ok = [](int v, int max) { return v >= 1 && v <= max; };
  const auto widths_ok = [&](const std::vector<int>& w) {
    if (w.empty()) return false;
    for (int v : w)
      if (!size_ok(v, 4096)) return false;
    return true;
  };
  if (!registered("model", s.model)) return "model_code: not a registered model";
  if (!registered("missing_model", s.missing)) return "missing_code: not a registered missing model";
  if (!registered("obs", s.obs)) return "obs_code: not a registered observation model";
  if (!registered("decoder", s.decoder)) return "decoder_code: not a registered decoder";
  if (!registered("encoder", s.encoder)) return "encoder_code: not a registered encoder";
  if (!registered("activation", s.activation)) return "activation_code: not a registered activation";
  if (!registered("variant", s.variant)) return "variant_code: not a registered PSMVAE variant";
  if (!registered("precision", s.precision)) return "precision_code: not a registered precision";
  const Capabilities& can = *capabilities_of(s.model);
  if (!has_code(can.observations, s.obs)) return "obs_code: an observation model this model does not take";
  if (!has_code(can.mask_models, s.missing)) return "missing_code: a mask model this model does not take";
  if (!has_code(can.encoders, s.encoder)) return "encoder_code: an encoder this model does not take";
  if (!size_ok(s.p, 100000)) return "p: not a column count";
  if (!size_ok(s.latent, 4096)) return "latent_dim: not a dimension";
  if (!widths_ok(s.hidden)) return "hidden: not a vector of layer widths";
  if (!widths_ok(s.missing_hidden)) return "missing_hidden: not a vector of layer widths";
  if (!size_ok(s.K2, 100000) || !size_ok(s.eta_dim, 4096) || !size_ok(s.k, 100)) return "K2, eta_dim or k: out of range";
  const std::size_t p = std::size_t(s.p);
  const std::string directions = direction_problem(s);
  if (!directions.empty()) return directions;
  if (s.sigma_floor.size() != p) return "sigma_floor: not one value per column";
  for (double f : s.sigma_floor)
    if (!(std::isfinite(f) && f >= 0)) return "sigma_floor: not a number >= 0";
  if (s.point_mass.size() != p) return "point_mass: not one value per column";
  for (double v : s.point_mass)
    if (std::isinf(v)) return "point_mass: infinite";
  if (s.binary_other.size() != p) return "binary_other: not one value per column";
  for (std::size_t j = 0; j < p; ++j) {
    if (!can.point_masses && !std::isnan(s.point_mass[j])) return "point_mass: this model takes no point masses";
    if (std::isinf(s.binary_other[j])) return "binary_other: infinite";
    if (!std::isnan(s.binary_other[j]) && std::isnan(s.point_mass[j])) return "binary_other: a binary column without its point mass";
  }
  const std::string categories = category_problem(s);
  if (!categories.empty()) return categories;
  const std::string ratings = rating_problem(s);
  if (!ratings.empty()) return ratings;
  const std::string logs = log_problem(s);
  if (!logs.empty()) return logs;
  const std::string reads = mask_reads_problem(s);
  if (!reads.empty()) return reads;
  if (!(std::isfinite(s.temperature) && s.temperature > 0)) return "temperature: not a positive number";
  if (!(std::isfinite(s.alpha) && s.alpha >= 0)) return "alpha: not a number >= 0";
  if (!(s.pi_prime >= 0 && s.pi_prime <= 1)) return "pi_prime: not a probability";
  if (s.encoder_mask != 0 && s.encoder_mask != 1) return "encoder_mask: not 0 or 1";
  if (s.aux < 0 || s.aux > 4096) return "aux_dim: not a dimension (0 for none)";
  if (s.aux > 0 && s.model != model_gnr) return "aux_dim: only GNR has the auxiliary u";
  return encoder_problem(s);
}

}  // namespace deepmnar_io

#endif

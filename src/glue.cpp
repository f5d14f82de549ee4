// Rcpp glue: converts R values to the engine's plain types, runs the engine
// built for the best instruction set this CPU has, and converts back.
#include <Rcpp.h>
#include <RcppParallel.h>

#include <deepmnar/entry.h>
#include <deepmnar/missing_models.h>
#include <deepmnar/registry.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

DEEPMNAR_DECLARE_ENTRY(deepmnar)
#ifdef DEEPMNAR_HAVE_AVX2
DEEPMNAR_DECLARE_ENTRY(deepmnar_avx2)
#endif

namespace {

struct Engine {
#define DEEPMNAR_ENTRY_POINTER(name) decltype(&deepmnar::entry::name) name;
  DEEPMNAR_ENTRY_NAMES(DEEPMNAR_ENTRY_POINTER)
#undef DEEPMNAR_ENTRY_POINTER
};

#define DEEPMNAR_BASELINE_ENTRY(name) deepmnar::entry::name,
const Engine baseline_engine = {DEEPMNAR_ENTRY_NAMES(DEEPMNAR_BASELINE_ENTRY)};
#undef DEEPMNAR_BASELINE_ENTRY

#ifdef DEEPMNAR_HAVE_AVX2
#define DEEPMNAR_AVX2_ENTRY(name) deepmnar_avx2::entry::name,
const Engine avx2_engine = {DEEPMNAR_ENTRY_NAMES(DEEPMNAR_AVX2_ENTRY)};
#undef DEEPMNAR_AVX2_ENTRY
bool cpu_has_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

// A CPU that advertises AVX2 and FMA may still not run them at speed: on a
// virtual machine seen here (AMD EPYC guest) the AVX2 build multiplied
// matrices at times at 0.6 GFLOP/s against 17 for the baseline, a 30-fold loss
// on every fit (at other times it ran 2-3 times faster, as on real hardware).
// So the AVX2 build is used only if a short product, timed once per session,
// runs at least half as fast as the baseline's; far from that threshold in
// both states, the choice does not flip with timing noise.
bool avx2_runs_at_speed() {
  const double avx2 = avx2_engine.gemm_gflops(64, 64, 64, 20);
  const double base = baseline_engine.gemm_gflops(64, 64, 64, 20);
  return avx2 >= 0.5 * base;
}
#endif

bool force_baseline = false;

const Engine& engine() {
#ifdef DEEPMNAR_HAVE_AVX2
  static const bool use_avx2 = cpu_has_avx2() && avx2_runs_at_speed();
  if (!force_baseline && use_avx2) return avx2_engine;
#endif
  return baseline_engine;
}

// One task arena per engine call, reused by every parallel loop of that call.
// RcppParallel::parallelFor builds and tears down an arena on each call, i.e.
// once per training iteration here; on a machine with more busy threads than
// cores that set-up dominated the iteration. Results do not depend on how TBB
// splits the range: the engine's work items are fixed-size row tasks.
class ArenaParallelFor : public deepmnar_io::ParallelFor {
 public:
  explicit ArenaParallelFor(int threads) : threads_(threads)
#if RCPP_PARALLEL_USE_TBB
      , arena_(threads > 1 ? threads : 1)
#endif
  {}

  void run(std::size_t n, const std::function<void(std::size_t, std::size_t)>& f) const override {
    if (n == 0) return;
    if (threads_ <= 1 || n == 1) {
      f(0, n);
      return;
    }
#if RCPP_PARALLEL_USE_TBB
    arena_.execute([&] {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 1),
                        [&](const tbb::blocked_range<std::size_t>& r) { f(r.begin(), r.end()); });
    });
#else
    Body body(f);
    RcppParallel::parallelFor(0, n, body, 1, threads_);
#endif
  }

 private:
  int threads_;
#if RCPP_PARALLEL_USE_TBB
  mutable tbb::task_arena arena_;
#else
  struct Body : RcppParallel::Worker {
    const std::function<void(std::size_t, std::size_t)>& f;
    explicit Body(const std::function<void(std::size_t, std::size_t)>& f_) : f(f_) {}
    void operator()(std::size_t begin, std::size_t end) { f(begin, end); }
  };
#endif
};

// Everything that crosses into the engine is checked here first; a failed
// check raises an R error whose message starts with kBoundary and names the
// field, which R turns into a classed "damaged fit" error.
const char* const kBoundary = "deepmnar boundary: ";

[[noreturn]] void refuse(const std::string& what) { Rcpp::stop(std::string(kBoundary) + what); }

SEXP field(const Rcpp::List& s, const char* name) {
  if (!s.containsElementNamed(name)) refuse(std::string("spec$") + name + ": missing");
  return s[name];
}

template <class T>
T scalar(const Rcpp::List& s, const char* name) {
  SEXP v = field(s, name);
  if (Rf_length(v) != 1 || !(Rf_isNumeric(v) || Rf_isLogical(v))) refuse(std::string("spec$") + name + ": not one number");
  const double d = Rcpp::as<double>(v);
  if (std::is_integral<T>::value && !(std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 2e9))
    refuse(std::string("spec$") + name + ": not an integer");
  return static_cast<T>(d);
}

std::vector<double> numbers(const Rcpp::List& s, const char* name) {
  SEXP v = field(s, name);
  if (!Rf_isNumeric(v) && !Rf_isLogical(v)) refuse(std::string("spec$") + name + ": not numeric");
  return Rcpp::as<std::vector<double>>(v);
}

std::vector<int> integers(const Rcpp::List& s, const char* name) {
  std::vector<int> out;
  for (double d : numbers(s, name)) {
    if (!(std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 2e9)) refuse(std::string("spec$") + name + ": not integers");
    out.push_back(int(d));
  }
  return out;
}

deepmnar_io::ModelSpec spec_from(const Rcpp::List& s) {
  deepmnar_io::ModelSpec spec;
  spec.model = scalar<int>(s, "model_code");
  spec.p = scalar<int>(s, "p");
  spec.latent = scalar<int>(s, "latent_dim");
  spec.hidden = integers(s, "hidden");
  spec.missing_hidden = integers(s, "missing_hidden");
  spec.activation = scalar<int>(s, "activation_code");
  // Fits made before the float path computed in double.
  if (s.containsElementNamed("precision_code")) spec.precision = scalar<int>(s, "precision_code");
  spec.obs = scalar<int>(s, "obs_code");
  spec.decoder = scalar<int>(s, "decoder_code");
  spec.missing = scalar<int>(s, "missing_code");
  spec.direction = numbers(s, "direction");
  // Fits made before registry version 2 hold one floor for every column and
  // no point masses; before the encoder_mask option, no such field.
  spec.sigma_floor = numbers(s, "sigma_floor");
  if (spec.sigma_floor.size() == 1 && spec.p > 1) spec.sigma_floor.assign(std::size_t(spec.p), spec.sigma_floor[0]);
  spec.point_mass = s.containsElementNamed("point_mass") ? numbers(s, "point_mass")
                                                          : std::vector<double>(std::size_t(std::max(spec.p, 0)), NAN);
  spec.binary_other = s.containsElementNamed("binary_other") ? numbers(s, "binary_other")
                                                              : std::vector<double>(spec.point_mass.size(), NAN);
  // Fits made before registry version 3 have no rating columns.
  spec.rating_lower = s.containsElementNamed("rating_lower") ? numbers(s, "rating_lower")
                                                              : std::vector<double>(spec.point_mass.size(), NAN);
  spec.rating_upper = s.containsElementNamed("rating_upper") ? numbers(s, "rating_upper")
                                                              : std::vector<double>(spec.point_mass.size(), NAN);
  spec.category_group = s.containsElementNamed("category_group") ? integers(s, "category_group")
                                                                  : std::vector<int>(spec.point_mass.size(), 0);
  spec.category_ordinal = s.containsElementNamed("category_ordinal") ? integers(s, "category_ordinal")
                                                                      : std::vector<int>(spec.category_group.size(), 0);
  spec.category_value = s.containsElementNamed("category_value") ? numbers(s, "category_value")
                                                                  : std::vector<double>(spec.category_group.size(), NAN);
  // Fits made before the log transform have no log columns.
  spec.log_scale = s.containsElementNamed("log_scale") ? numbers(s, "log_scale")
                                                        : std::vector<double>(spec.category_group.size(), 0.0);
  if (s.containsElementNamed("mask_reads")) spec.mask_reads = integers(s, "mask_reads");
  if (s.containsElementNamed("temperature")) spec.temperature = scalar<double>(s, "temperature");
  spec.alpha = scalar<double>(s, "alpha");
  // Fits made before the auxiliary u have none.
  if (s.containsElementNamed("aux_dim")) spec.aux = scalar<int>(s, "aux_dim");
  spec.K2 = scalar<int>(s, "K2");
  spec.eta_dim = scalar<int>(s, "eta_dim");
  spec.k = scalar<int>(s, "k");
  spec.variant = scalar<int>(s, "variant_code");
  spec.pi_prime = scalar<double>(s, "pi_prime");
  spec.encoder_mask = s.containsElementNamed("encoder_mask") ? scalar<int>(s, "encoder_mask") : 0;
  // Fits made before the set encoder have the MLP encoder.
  if (s.containsElementNamed("encoder_code")) spec.encoder = scalar<int>(s, "encoder_code");
  if (s.containsElementNamed("set_embedding")) spec.set_embedding = scalar<int>(s, "set_embedding");
  if (s.containsElementNamed("set_code")) spec.set_code = scalar<int>(s, "set_code");
  const std::string problem = deepmnar_io::spec_problem(spec);
  if (!problem.empty()) refuse("spec$" + problem);
  return spec;
}

// R's mask_start(): shares and incomplete flags per column, directions per
// column or none.
deepmnar_io::MaskStart mask_start_from(const Rcpp::List& m, const deepmnar_io::ModelSpec& spec) {
  deepmnar_io::MaskStart start;
  start.share = numbers(m, "share");
  start.incomplete = integers(m, "incomplete");
  start.direction = numbers(m, "direction");
  const std::size_t p = std::size_t(spec.p);
  if (start.share.size() != p || start.incomplete.size() != p) refuse("mask_start: not one value per column");
  for (double v : start.share)
    if (!(v > 0 && v < 1)) refuse("mask_start$share: not a share inside (0, 1)");
  if (start.direction.empty()) {
    if (engine().start_reads_directions(spec)) refuse("mask_start$direction: the mask model starts from directions");
    start.direction.assign(p, 1.0);
  }
  if (start.direction.size() != p) refuse("mask_start$direction: not one value per column");
  for (double d : start.direction)
    if (d != 1.0 && d != -1.0) refuse("mask_start$direction: not +1 or -1");
  return start;
}

std::vector<double> theta_for(const deepmnar_io::ModelSpec& spec, const Rcpp::NumericVector& theta) {
  const std::size_t expected = engine().n_params(spec);
  if (std::size_t(theta.size()) != expected)
    refuse("theta: " + std::to_string(theta.size()) + " parameters where the spec needs " + std::to_string(expected));
  for (double v : theta)
    if (!std::isfinite(v)) refuse("theta: not finite");
  return Rcpp::as<std::vector<double>>(theta);
}

// An element of a list R handed over, refused by name when absent.
SEXP element(const Rcpp::List& list, const char* what, const char* name) {
  if (!list.containsElementNamed(name)) refuse(std::string(what) + ": no `" + name + "`");
  return list[name];
}

// The data as R hands them over: list(x, observed) dense, or list(dim,
// row_start, col_index, values) sparse (see DataView). Types are checked,
// never coerced: the view points into R's memory, which a coerced copy would
// not outlive.
deepmnar_io::DataView view_of(const deepmnar_io::ModelSpec& spec, const Rcpp::List& data) {
  deepmnar_io::DataView v;
  if (data.containsElementNamed("row_start")) {
    SEXP dim = element(data, "data", "dim"), start = element(data, "data", "row_start"),
         col = element(data, "data", "col_index"), values = element(data, "data", "values");
    if (TYPEOF(dim) != INTSXP || Rf_length(dim) != 2) refuse("data: dim is not two integers");
    v.n = INTEGER(dim)[0];
    v.p = INTEGER(dim)[1];
    if (v.n < 1) refuse("data: no rows");
    if (TYPEOF(start) != INTSXP || Rf_length(start) != v.n + 1) refuse("data: row_start is not n + 1 integers");
    if (TYPEOF(col) != INTSXP || TYPEOF(values) != REALSXP || Rf_length(col) != Rf_length(values))
      refuse("data: col_index and values are not integers and numbers of one length");
    v.row_start = INTEGER(start);
    v.col_index = INTEGER(col);
    v.values = REAL(values);
    if (v.row_start[0] != 0 || v.row_start[v.n] != Rf_length(col)) refuse("data: row_start does not span the cells");
    for (int i = 0; i < v.n; ++i) {
      if (v.row_start[i + 1] < v.row_start[i]) refuse("data: row_start decreases");
      for (int k = v.row_start[i]; k < v.row_start[i + 1]; ++k) {
        const int j = v.col_index[k];
        if (j < 0 || j >= v.p || (k > v.row_start[i] && j <= v.col_index[k - 1]))
          refuse("data: col_index out of range or not increasing within a row");
        if (!std::isfinite(v.values[k])) refuse("data: a value is not finite");
      }
    }
  } else {
    SEXP x = element(data, "data", "x"), observed = element(data, "data", "observed");
    if (TYPEOF(x) != REALSXP || !Rf_isMatrix(x)) refuse("data: x is not a numeric matrix");
    if (TYPEOF(observed) != INTSXP || !Rf_isMatrix(observed)) refuse("data: observed is not an integer matrix");
    v.n = Rf_nrows(x);
    v.p = Rf_ncols(x);
    if (Rf_nrows(observed) != v.n || Rf_ncols(observed) != v.p) refuse("data: the mask and the values differ in shape");
    v.x = REAL(x);
    v.observed = INTEGER(observed);
  }
  if (v.p != spec.p) refuse("data: " + std::to_string(v.p) + " columns where the spec has " + std::to_string(spec.p));
  return v;
}

// Stopped short of `target` without a non-finite bound: interrupted.
bool stopped_short(double failed_at, long done, long target) { return std::isnan(failed_at) && done < target; }

std::uint64_t seed_from(double seed) { return static_cast<std::uint64_t>(seed); }

}  // namespace

// [[Rcpp::export]]
void cpp_force_baseline(bool force) { force_baseline = force; }

// [[Rcpp::export]]
std::string cpp_instruction_set() { return engine().instruction_set(); }

// [[Rcpp::export]]
double cpp_gemm_gflops(int m, int k, int n, int reps) { return engine().gemm_gflops(m, k, n, reps); }

// The quadrature of a missing cell (missing_models.h), for its tests:
// c(valid, log Z, mean).
// [[Rcpp::export]]
Rcpp::NumericVector cpp_marginal_missing_cell(double mu, double sd, double rest, double b, double c) {
  deepmnar::OwnLogit own;
  own.separable = true;
  own.b = b;
  own.c = c;
  const deepmnar::MarginalMissingCell cell = deepmnar::marginal_missing_cell(mu, sd, rest, own);
  return Rcpp::NumericVector::create(cell.valid ? 1.0 : 0.0, cell.log_z, cell.mean);
}

// [[Rcpp::export]]
double cpp_n_params(Rcpp::List spec) { return double(engine().n_params(spec_from(spec))); }

// The names of `codes` in the registry's option `field`.
static Rcpp::CharacterVector names_of_codes(const char* field, const std::vector<int>& codes) {
  Rcpp::CharacterVector out;
  for (const deepmnar_io::Option& o : deepmnar_io::registry_options()) {
    if (std::string(o.field) != field) continue;
    for (int code : codes)
      for (const deepmnar_io::Choice& c : o.choices)
        if (c.code == code) out.push_back(c.name);
  }
  return out;
}

// One list per model (named by the model) of what it can do.
static Rcpp::List capability_lists() {
  Rcpp::List out;
  Rcpp::CharacterVector models;
  for (const deepmnar_io::Capabilities& c : deepmnar_io::model_capabilities()) {
    out.push_back(Rcpp::List::create(
        Rcpp::Named("observations") = names_of_codes("obs", c.observations),
        Rcpp::Named("categorical_obs") = c.categorical_obs, Rcpp::Named("point_masses") = c.point_masses,
        Rcpp::Named("mask_models") = names_of_codes("missing_model", c.mask_models),
        Rcpp::Named("encoders") = names_of_codes("encoder", c.encoders), Rcpp::Named("batch_size") = c.batch_size,
        Rcpp::Named("learns_mask") = c.learns_mask, Rcpp::Named("score") = std::string(c.score)));
    models.push_back(names_of_codes("model", {c.model})[0]);
  }
  out.attr("names") = models;
  return out;
}

// The registry's version, for each option the names and codes of its
// choices (R builds its code tables from this), and each model's
// capabilities.
// [[Rcpp::export]]
Rcpp::List cpp_registry() {
  Rcpp::List options;
  for (const deepmnar_io::Option& o : deepmnar_io::registry_options()) {
    Rcpp::IntegerVector codes;
    Rcpp::CharacterVector names;
    for (const deepmnar_io::Choice& c : o.choices) {
      codes.push_back(c.code);
      names.push_back(c.name);
    }
    codes.attr("names") = names;
    options[o.field] = codes;
  }
  Rcpp::CharacterVector code_fields;
  for (const deepmnar_io::Option& o : deepmnar_io::registry_options()) code_fields.push_back(o.code_field);
  code_fields.attr("names") = options.names();
  return Rcpp::List::create(Rcpp::Named("version") = deepmnar_io::kRegistryVersion, Rcpp::Named("options") = options,
                            Rcpp::Named("code_fields") = code_fields, Rcpp::Named("capabilities") = capability_lists(),
                            Rcpp::Named("shared_slope_mask_models") = names_of_codes("missing_model",
                                                                              deepmnar_io::shared_slope_mask_models()));
}

// The named blocks of the spec's parameter vector (1-based start, length).
// [[Rcpp::export]]
Rcpp::DataFrame cpp_param_blocks(Rcpp::List spec) {
  Rcpp::CharacterVector name;
  Rcpp::NumericVector start, size;
  for (const deepmnar_io::ParamBlock& b : engine().param_blocks(spec_from(spec))) {
    name.push_back(b.name);
    start.push_back(double(b.offset) + 1.0);
    size.push_back(double(b.size));
  }
  return Rcpp::DataFrame::create(Rcpp::Named("name") = name, Rcpp::Named("start") = start, Rcpp::Named("size") = size,
                                 Rcpp::Named("stringsAsFactors") = false);
}

// [[Rcpp::export]]
Rcpp::NumericVector cpp_init_params(Rcpp::List spec, double seed, Rcpp::Nullable<Rcpp::List> mask_start = R_NilValue) {
  const deepmnar_io::ModelSpec s = spec_from(spec);
  if (mask_start.isNull()) return Rcpp::wrap(engine().init_params(s, seed_from(seed), nullptr));
  const deepmnar_io::MaskStart start = mask_start_from(Rcpp::List(mask_start), s);
  return Rcpp::wrap(engine().init_params(s, seed_from(seed), &start));
}

// Whether the spec's mask model starts from the directions of the data
// (MaskStart::direction), which cost a regression per column to find.
// [[Rcpp::export]]
bool cpp_start_reads_directions(Rcpp::List spec) {
  return engine().start_reads_directions(spec_from(spec));
}

// [[Rcpp::export]]
Rcpp::List cpp_bound(Rcpp::List spec, Rcpp::List data,
                     Rcpp::NumericVector theta, int K, double seed, bool gradient, int threads, bool rows = false) {
  const deepmnar_io::ModelSpec s = spec_from(spec);
  const deepmnar_io::DataView view = view_of(s, data);
  std::vector<double> th = theta_for(s, theta), grad, scores;
  const double bound = engine().evaluate_bound(s, view, th, std::max(K, 1), seed_from(seed),
                                               gradient ? &grad : nullptr, ArenaParallelFor(threads),
                                               rows ? &scores : nullptr);
  Rcpp::NumericVector row_bound, row_mc_var;
  if (rows) {
    const std::size_t n = scores.size() / 2;
    row_bound = Rcpp::NumericVector(scores.begin(), scores.begin() + n);
    row_mc_var = Rcpp::NumericVector(scores.begin() + n, scores.end());
  }
  return Rcpp::List::create(Rcpp::Named("bound") = bound, Rcpp::Named("gradient") = Rcpp::wrap(grad),
                            Rcpp::Named("row_bound") = row_bound, Rcpp::Named("row_mc_var") = row_mc_var);
}

namespace {

void check_interrupt_fn(void*) { R_CheckUserInterrupt(); }

// True if Ctrl-C is pending (and consumes it), without a longjmp through C++.
bool interrupt_pending() { return R_ToplevelExec(check_interrupt_fn, nullptr) == FALSE; }

// The training loop's monitor from R (uwot's pattern): every quarter second
// it checks for Ctrl-C and hands the iteration count and the recent bound to
// the R callback that draws the progress bar; with `checks`, also early
// stopping's last held-out bound and the best one.
class RMonitor : public deepmnar_io::ProgressMonitor {
 public:
  explicit RMonitor(SEXP callback, bool checks = false)
      : callback_(callback), checks_(checks), last_(std::chrono::steady_clock::now()) {}

  bool keep_going(long done, double bound) override {
    recent_ = 0.99 * recent_ + 0.01 * bound;
    weight_ = 0.99 * weight_ + 0.01;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return true;
    last_ = now;
    if (interrupt_pending()) return false;
    if (Rf_isFunction(callback_)) {
      try {
        Rcpp::Function draw(callback_);
        if (checks_) draw(double(done), recent_ / weight_, held_out_, best_);
        else draw(double(done), recent_ / weight_);
      } catch (const Rcpp::internal::InterruptedException&) {
        return false;
      }
    }
    return true;
  }

  void checked(long, double held_out, double best) override {
    held_out_ = held_out;
    best_ = best;
  }

 private:
  SEXP callback_;
  bool checks_;
  std::chrono::steady_clock::time_point last_;
  double recent_ = 0.0, weight_ = 0.0;
  double held_out_ = NA_REAL, best_ = NA_REAL;
};

// The training state R hands over: list(theta, adam_m, adam_v, iteration).
deepmnar_io::TrainState train_state_from(const deepmnar_io::ModelSpec& s, const Rcpp::List& state) {
  deepmnar_io::TrainState st;
  st.theta = theta_for(s, state["theta"]);
  st.adam_m = Rcpp::as<std::vector<double>>(state["adam_m"]);
  st.adam_v = Rcpp::as<std::vector<double>>(state["adam_v"]);
  if (st.adam_m.size() != st.theta.size() || st.adam_v.size() != st.theta.size())
    refuse("state: the Adam moments do not match theta");
  st.iteration = static_cast<long>(Rcpp::as<double>(state["iteration"]));
  return st;
}

deepmnar_io::TrainOptions train_options(const deepmnar_io::DataView& view, int K, int batch_size, double lr,
                                        double seed) {
  if (batch_size < 1 || batch_size > view.n) refuse("batch_size: not between 1 and the number of rows");
  deepmnar_io::TrainOptions opt;
  opt.K = std::max(K, 1);
  opt.batch_size = batch_size;
  opt.lr = lr;
  opt.seed = seed_from(seed);
  return opt;
}

}  // namespace

// Runs `iterations` Adam steps from `state` (theta, adam_m, adam_v, iteration)
// in one call; `progress` (a function of the iterations done and the recent
// bound, or NULL) is called about every quarter second, and Ctrl-C stops the
// loop with the state reached (`interrupted`). A non-finite bound is reported
// in the result rather than thrown, so R can raise a classed error.
// [[Rcpp::export]]
Rcpp::List cpp_train(Rcpp::List spec, Rcpp::List data, Rcpp::List state,
                     double iterations, int K, int batch_size, double lr, double seed, int threads,
                     SEXP progress = R_NilValue) {
  const deepmnar_io::ModelSpec s = spec_from(spec);
  const deepmnar_io::DataView view = view_of(s, data);
  deepmnar_io::TrainState st = train_state_from(s, state);
  const deepmnar_io::TrainOptions opt = train_options(view, K, batch_size, lr, seed);
  std::vector<double> trace;
  double failed_at = NA_REAL;
  const long target = st.iteration + static_cast<long>(iterations);
  RMonitor monitor(progress);
  try {
    trace = engine().train(s, view, st, static_cast<long>(iterations), opt, ArenaParallelFor(threads), monitor);
  } catch (const deepmnar_io::NonFiniteBound& e) {
    failed_at = double(e.iteration);
  }
  return Rcpp::List::create(Rcpp::Named("theta") = Rcpp::wrap(st.theta), Rcpp::Named("adam_m") = Rcpp::wrap(st.adam_m),
                            Rcpp::Named("adam_v") = Rcpp::wrap(st.adam_v),
                            Rcpp::Named("iteration") = double(st.iteration), Rcpp::Named("trace") = Rcpp::wrap(trace),
                            Rcpp::Named("failed_at") = failed_at,
                            Rcpp::Named("interrupted") = stopped_short(failed_at, st.iteration, target));
}

// cpp_train() with early stopping (EarlyStoppingRule): trains on
// `train_data`, scoring the bound on `held_data` with `check_K` samples every
// `every` iterations, and returns the state with the best check's theta, the
// trace, the checks (check_iteration, check_bound), the best check's
// iteration and why training stopped. `progress` is called with the
// iterations done, the recent minibatch bound, the last held-out bound and
// the best one.
// [[Rcpp::export]]
Rcpp::List cpp_train_early_stopping(Rcpp::List spec, Rcpp::List train_data, Rcpp::List held_data, Rcpp::List state,
                                    double iterations, int K, int batch_size, double lr, double seed, int threads,
                                    double every, int patience, double patience_ratio, int check_K,
                                    SEXP progress = R_NilValue) {
  const deepmnar_io::ModelSpec s = spec_from(spec);
  const deepmnar_io::DataView train = view_of(s, train_data), held = view_of(s, held_data);
  deepmnar_io::TrainState st = train_state_from(s, state);
  const deepmnar_io::TrainOptions opt = train_options(train, K, batch_size, lr, seed);
  if (!(every >= 1) || patience < 1 || !(patience_ratio >= 0) || check_K < 1)
    refuse("rule: every, patience and check_K must be positive, patience_ratio >= 0");
  deepmnar_io::EarlyStoppingRule rule;
  rule.iterations = static_cast<long>(iterations);
  rule.every = static_cast<long>(every);
  rule.patience = patience;
  rule.patience_ratio = patience_ratio;
  rule.check_K = check_K;
  deepmnar_io::EarlyStoppingRun run;
  double failed_at = NA_REAL;
  RMonitor monitor(progress, true);
  try {
    run = engine().train_early_stopping(s, train, held, st, opt, rule, ArenaParallelFor(threads), monitor);
  } catch (const deepmnar_io::NonFiniteBound& e) {
    failed_at = double(e.iteration);
  }
  return Rcpp::List::create(
      Rcpp::Named("theta") = Rcpp::wrap(st.theta), Rcpp::Named("adam_m") = Rcpp::wrap(st.adam_m),
      Rcpp::Named("adam_v") = Rcpp::wrap(st.adam_v), Rcpp::Named("iteration") = double(st.iteration),
      Rcpp::Named("trace") = Rcpp::wrap(run.trace), Rcpp::Named("failed_at") = failed_at,
      Rcpp::Named("interrupted") = run.reason == deepmnar_io::stop_interrupted,
      Rcpp::Named("check_iteration") = Rcpp::NumericVector(run.check_iteration.begin(), run.check_iteration.end()),
      Rcpp::Named("check_bound") = Rcpp::wrap(run.check_bound), Rcpp::Named("best_iteration") = double(run.best_iteration),
      Rcpp::Named("reason") = std::string(deepmnar_io::stop_reason_name(run.reason)));
}

// `cells`, list(row, col) of 1-based data rows and columns, as the columns
// wanted in each listed row (in `rows` order); cells of rows not listed
// belong to another call's share.
static std::vector<std::vector<int>> wanted_cells(const Rcpp::List& cells, const std::vector<int>& rows,
                                           const deepmnar_io::DataView& view) {
  if (!cells.containsElementNamed("row") || !cells.containsElementNamed("col")) refuse("cells: not list(row, col)");
  const SEXP row_sexp = cells["row"], col_sexp = cells["col"];
  if (TYPEOF(row_sexp) != INTSXP || TYPEOF(col_sexp) != INTSXP) refuse("cells: row and col not integer");
  const Rcpp::IntegerVector row(row_sexp), col(col_sexp);
  if (row.size() != col.size()) refuse("cells: row and col of different lengths");
  std::unordered_map<int, std::vector<int>> of_row;
  for (R_xlen_t k = 0; k < row.size(); ++k) {
    if (row[k] == NA_INTEGER || row[k] < 1 || row[k] > view.n) refuse("cells: a row outside the data");
    if (col[k] == NA_INTEGER || col[k] < 1 || col[k] > view.p) refuse("cells: a column outside the data");
    of_row[row[k] - 1].push_back(col[k] - 1);
  }
  std::vector<std::vector<int>> wanted(rows.size());
  for (std::size_t t = 0; t < rows.size(); ++t) {
    const auto found = of_row.find(rows[t]);
    if (found != of_row.end()) wanted[t] = found->second;
  }
  return wanted;
}

// Imputes the rows listed in `rows` (1-based) in one engine call, converting
// the data once. Returns, with one row per listed row (r of them), the point
// imputations (r x p, standardised; NA where not imputed), `draws` SIR draws
// per cell (r x p x draws) if draws > 0, P(observed) of every cell (r x p) if
// `mask`, each row's effective sample size and samples drawn, and whether
// Ctrl-C stopped it; `progress` (a function of the
// rows done, or NULL) is called about every quarter second; `tolerance` > 0
// lets a row stop before L (see ImputeOptions); `marginal_mask` = FALSE draws
// the missing cells of self-masking models even for conditional means.
// [[Rcpp::export]]
Rcpp::List cpp_impute(Rcpp::List spec, Rcpp::List data, Rcpp::NumericVector theta,
                      Rcpp::IntegerVector rows, int L, int chunk, int type, int n_draws, double seed, int threads,
                      bool mask, SEXP progress = R_NilValue, double tolerance = 0.0, SEXP wanted = R_NilValue,
                      bool marginal_mask = true) {
  const deepmnar_io::ModelSpec s = spec_from(spec);
  const deepmnar_io::DataView view = view_of(s, data);
  const std::vector<double> th = theta_for(s, theta);
  std::vector<int> row_list;
  for (int r : rows) {
    if (r == NA_INTEGER || r < 1 || r > view.n) refuse("rows: outside the data");
    row_list.push_back(r - 1);
  }
  if (n_draws < 0 || n_draws > 100000) refuse("draws: not a count");
  if (L < 1 || chunk < 1) refuse("L: not a positive count");
  deepmnar_io::ImputeOptions opt;
  opt.L = L;
  opt.chunk = chunk;
  opt.type = type;
  opt.draws = n_draws;
  opt.seed = seed_from(seed);
  if (!(tolerance >= 0)) refuse("tolerance: not a number >= 0");
  opt.tolerance = tolerance;
  opt.marginal_mask = marginal_mask;
  if (!Rf_isNull(wanted)) opt.wanted = wanted_cells(Rcpp::List(wanted), row_list, view);
  const int out_rows = int(row_list.size());
  const std::size_t cells = std::size_t(out_rows) * std::size_t(view.p);
  Rcpp::NumericMatrix point(out_rows, view.p);
  std::fill(point.begin(), point.end(), NA_REAL);
  Rcpp::NumericVector draws(n_draws > 0 ? cells * std::size_t(n_draws) : 0, NA_REAL);
  if (n_draws > 0) draws.attr("dim") = Rcpp::IntegerVector::create(out_rows, view.p, n_draws);
  Rcpp::NumericMatrix mask_prob(mask ? out_rows : 0, mask ? view.p : 0);
  std::fill(mask_prob.begin(), mask_prob.end(), NA_REAL);
  Rcpp::NumericVector ess(out_rows, NA_REAL), samples(out_rows, NA_REAL);
  RMonitor monitor(progress);
  const bool finished = engine().impute(s, view, th, row_list, opt, ArenaParallelFor(threads), monitor, point.begin(),
                                        n_draws > 0 ? draws.begin() : nullptr, mask ? mask_prob.begin() : nullptr,
                                        ess.begin(), samples.begin());
  return Rcpp::List::create(Rcpp::Named("point") = point, Rcpp::Named("draws") = draws,
                            Rcpp::Named("mask") = mask_prob, Rcpp::Named("ess") = ess, Rcpp::Named("samples") = samples,
                            Rcpp::Named("interrupted") = !finished);
}

// PSMVAE's draws (z, then x~) of cpp_bound() with the same K and seed, one
// row per sample: row i, pattern set r, draw k at (i * n_sets + r) * K + k.
// [[Rcpp::export]]
Rcpp::NumericMatrix cpp_psmvae_draws(Rcpp::List spec, Rcpp::List data,
                                     Rcpp::NumericVector theta, int K, double seed) {
  const deepmnar_io::ModelSpec s = spec_from(spec);
  if (s.model != deepmnar_io::model_psmvae) refuse("spec$model_code: not PSMVAE");
  const deepmnar_io::DataView view = view_of(s, data);
  const std::vector<double> draws = engine().psmvae_draws(s, view, theta_for(s, theta), std::max(K, 1), seed_from(seed));
  const int width = s.latent + s.p;
  Rcpp::NumericMatrix out(int(draws.size()) / width, width);
  for (int n = 0; n < out.nrow(); ++n)
    for (int j = 0; j < width; ++j) out(n, j) = draws[std::size_t(n) * width + j];
  return out;
}

// Per-row summaries of complete (or zero-filled) standardised rows; `what`:
// 0 posterior means of z, 1 means of eta (not-2-MIWAE), 2 P(observed)
// under not-MIWAE's missing model, 3 PSMVAE's q(r | x, s).
// [[Rcpp::export]]
Rcpp::NumericMatrix cpp_row_summaries(Rcpp::List spec, Rcpp::List data,
                                      Rcpp::NumericVector theta, int what, int width) {
  const deepmnar_io::ModelSpec s = spec_from(spec);
  const bool psmvae = s.model == deepmnar_io::model_psmvae;
  int expected = -1;
  switch (what) {
    case deepmnar_io::summary_latent_mean: expected = s.latent; break;
    case deepmnar_io::summary_eta_mean: if (s.model == deepmnar_io::model_not2miwae) expected = s.eta_dim; break;
    case deepmnar_io::summary_mask_probability: if (s.model == deepmnar_io::model_notmiwae) expected = s.p; break;
    case deepmnar_io::summary_pattern_probability: if (psmvae) expected = s.k; break;
    default: break;
  }
  if (expected < 0) refuse("what: not a summary this model has");
  if (width != expected) refuse("width: not the summary's width");
  const deepmnar_io::DataView view = view_of(s, data);
  Rcpp::NumericMatrix out(view.n, width);
  engine().row_summaries(s, view, theta_for(s, theta), what, out.begin());
  return out;
}

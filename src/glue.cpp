// Rcpp glue: converts R values to the engine's plain types, runs the engine
// built for the best instruction set this CPU has, and converts back.
#include <Rcpp.h>
#include <RcppParallel.h>

#include <deepmnar/entry.h>

DEEPMNAR_DECLARE_ENTRY(deepmnar)
#ifdef DEEPMNAR_HAVE_AVX2
DEEPMNAR_DECLARE_ENTRY(deepmnar_avx2)
#endif

namespace {

struct Engine {
  decltype(&deepmnar::entry::n_params) n_params;
  decltype(&deepmnar::entry::init_params) init_params;
  decltype(&deepmnar::entry::evaluate_bound) evaluate_bound;
  decltype(&deepmnar::entry::train) train;
  decltype(&deepmnar::entry::impute) impute;
  decltype(&deepmnar::entry::row_summaries) row_summaries;
  decltype(&deepmnar::entry::psmvae_draws) psmvae_draws;
  decltype(&deepmnar::entry::instruction_set) instruction_set;
  decltype(&deepmnar::entry::gemm_gflops) gemm_gflops;
};

const Engine baseline_engine = {deepmnar::entry::n_params,   deepmnar::entry::init_params,
                                deepmnar::entry::evaluate_bound, deepmnar::entry::train,
                                deepmnar::entry::impute,     deepmnar::entry::row_summaries,
                                deepmnar::entry::psmvae_draws,
                                deepmnar::entry::instruction_set,
                                deepmnar::entry::gemm_gflops};

#ifdef DEEPMNAR_HAVE_AVX2
const Engine avx2_engine = {deepmnar_avx2::entry::n_params,   deepmnar_avx2::entry::init_params,
                            deepmnar_avx2::entry::evaluate_bound, deepmnar_avx2::entry::train,
                            deepmnar_avx2::entry::impute,     deepmnar_avx2::entry::row_summaries,
                            deepmnar_avx2::entry::psmvae_draws,
                            deepmnar_avx2::entry::instruction_set,
                            deepmnar_avx2::entry::gemm_gflops};
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

std::vector<int> int_vector(SEXP x) { return Rcpp::as<std::vector<int>>(x); }

deepmnar_io::ModelSpec spec_from(const Rcpp::List& s) {
  deepmnar_io::ModelSpec spec;
  spec.model = Rcpp::as<int>(s["model_code"]);
  spec.p = Rcpp::as<int>(s["p"]);
  spec.latent = Rcpp::as<int>(s["latent_dim"]);
  spec.hidden = int_vector(s["hidden"]);
  spec.missing_hidden = int_vector(s["missing_hidden"]);
  spec.activation = Rcpp::as<int>(s["activation_code"]);
  spec.obs = Rcpp::as<int>(s["obs_code"]);
  spec.decoder = Rcpp::as<int>(s["decoder_code"]);
  spec.missing = Rcpp::as<int>(s["missing_code"]);
  spec.direction = Rcpp::as<std::vector<double>>(s["direction"]);
  // Older fits hold one floor for every column and no point masses.
  spec.sigma_floor = Rcpp::as<std::vector<double>>(s["sigma_floor"]);
  if (spec.sigma_floor.size() == 1) spec.sigma_floor.assign(std::size_t(spec.p), spec.sigma_floor[0]);
  spec.point_mass = s.containsElementNamed("point_mass") ? Rcpp::as<std::vector<double>>(s["point_mass"])
                                                          : std::vector<double>(std::size_t(spec.p), NAN);
  if (s.containsElementNamed("temperature")) spec.temperature = Rcpp::as<double>(s["temperature"]);
  if (spec.sigma_floor.size() != std::size_t(spec.p) || spec.point_mass.size() != std::size_t(spec.p))
    Rcpp::stop("the spec's sigma_floor and point_mass need one value per column");
  spec.alpha = Rcpp::as<double>(s["alpha"]);
  spec.K2 = Rcpp::as<int>(s["K2"]);
  spec.eta_dim = Rcpp::as<int>(s["eta_dim"]);
  spec.k = Rcpp::as<int>(s["k"]);
  spec.variant = Rcpp::as<int>(s["variant_code"]);
  spec.pi_prime = Rcpp::as<double>(s["pi_prime"]);
  // Fits made before the option existed have no field: their encoder reads the row alone.
  spec.encoder_mask = s.containsElementNamed("encoder_mask") ? Rcpp::as<int>(s["encoder_mask"]) : 0;
  return spec;
}

deepmnar_io::DataView view_of(const Rcpp::NumericMatrix& x, const Rcpp::IntegerMatrix& observed) {
  deepmnar_io::DataView v;
  v.x = x.begin();
  v.observed = observed.begin();
  v.n = x.nrow();
  v.p = x.ncol();
  return v;
}

std::uint64_t seed_from(double seed) { return static_cast<std::uint64_t>(seed); }

}  // namespace

// [[Rcpp::export]]
void cpp_force_baseline(bool force) { force_baseline = force; }

// [[Rcpp::export]]
std::string cpp_instruction_set() { return engine().instruction_set(); }

// [[Rcpp::export]]
double cpp_gemm_gflops(int m, int k, int n, int reps) { return engine().gemm_gflops(m, k, n, reps); }

// [[Rcpp::export]]
double cpp_n_params(Rcpp::List spec) { return double(engine().n_params(spec_from(spec))); }

// [[Rcpp::export]]
Rcpp::NumericVector cpp_init_params(Rcpp::List spec, double seed) {
  return Rcpp::wrap(engine().init_params(spec_from(spec), seed_from(seed)));
}

// [[Rcpp::export]]
Rcpp::List cpp_bound(Rcpp::List spec, Rcpp::NumericMatrix x, Rcpp::IntegerMatrix observed,
                     Rcpp::NumericVector theta, int K, double seed, bool gradient, int threads) {
  std::vector<double> th = Rcpp::as<std::vector<double>>(theta), grad;
  const double bound = engine().evaluate_bound(spec_from(spec), view_of(x, observed), th, K, seed_from(seed),
                                               gradient ? &grad : nullptr, ArenaParallelFor(threads));
  return Rcpp::List::create(Rcpp::Named("bound") = bound, Rcpp::Named("gradient") = Rcpp::wrap(grad));
}

// Runs `iterations` Adam steps from `state` (theta, adam_m, adam_v, iteration).
// A non-finite bound is reported in the result rather than thrown, so R can
// raise a classed error.
// [[Rcpp::export]]
Rcpp::List cpp_train(Rcpp::List spec, Rcpp::NumericMatrix x, Rcpp::IntegerMatrix observed, Rcpp::List state,
                     double iterations, int K, int batch_size, double lr, double seed, int threads) {
  deepmnar_io::TrainState st;
  st.theta = Rcpp::as<std::vector<double>>(state["theta"]);
  st.adam_m = Rcpp::as<std::vector<double>>(state["adam_m"]);
  st.adam_v = Rcpp::as<std::vector<double>>(state["adam_v"]);
  st.iteration = static_cast<long>(Rcpp::as<double>(state["iteration"]));
  deepmnar_io::TrainOptions opt;
  opt.K = K;
  opt.batch_size = batch_size;
  opt.lr = lr;
  opt.seed = seed_from(seed);
  std::vector<double> trace;
  double failed_at = NA_REAL;
  try {
    trace = engine().train(spec_from(spec), view_of(x, observed), st, static_cast<long>(iterations), opt,
                           ArenaParallelFor(threads));
  } catch (const deepmnar_io::NonFiniteBound& e) {
    failed_at = double(e.iteration);
  }
  return Rcpp::List::create(Rcpp::Named("theta") = Rcpp::wrap(st.theta), Rcpp::Named("adam_m") = Rcpp::wrap(st.adam_m),
                            Rcpp::Named("adam_v") = Rcpp::wrap(st.adam_v),
                            Rcpp::Named("iteration") = double(st.iteration), Rcpp::Named("trace") = Rcpp::wrap(trace),
                            Rcpp::Named("failed_at") = failed_at);
}

// Fills the missing cells of rows [row_begin, row_end) (0-based) of `point`
// (n x p), if draws > 0 of `draws` (n x p x draws), and if `mask` has
// length n x p, every cell of those rows of `mask` with P(observed), in place.
// [[Rcpp::export]]
void cpp_impute(Rcpp::List spec, Rcpp::NumericMatrix x, Rcpp::IntegerMatrix observed, Rcpp::NumericVector theta,
                int row_begin, int row_end, int L, int chunk, int type, int n_draws, double seed, int threads,
                Rcpp::NumericMatrix point, Rcpp::NumericVector draws, Rcpp::NumericVector mask) {
  deepmnar_io::ImputeOptions opt;
  opt.L = L;
  opt.chunk = chunk;
  opt.type = type;
  opt.draws = n_draws;
  opt.seed = seed_from(seed);
  std::vector<double> th = Rcpp::as<std::vector<double>>(theta);
  engine().impute(spec_from(spec), view_of(x, observed), th, row_begin, row_end, opt, ArenaParallelFor(threads),
                  point.begin(), n_draws > 0 ? draws.begin() : nullptr,
                  mask.size() == x.size() ? mask.begin() : nullptr);
}

// PSMVAE's draws (z, then x~) of cpp_bound() with the same K and seed, one
// row per sample: row i, pattern set r, draw k at (i * n_sets + r) * K + k.
// [[Rcpp::export]]
Rcpp::NumericMatrix cpp_psmvae_draws(Rcpp::List spec, Rcpp::NumericMatrix x, Rcpp::IntegerMatrix observed,
                                     Rcpp::NumericVector theta, int K, double seed) {
  const deepmnar_io::ModelSpec s = spec_from(spec);
  const std::vector<double> draws =
      engine().psmvae_draws(s, view_of(x, observed), Rcpp::as<std::vector<double>>(theta), K, seed_from(seed));
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
Rcpp::NumericMatrix cpp_row_summaries(Rcpp::List spec, Rcpp::NumericMatrix x, Rcpp::IntegerMatrix observed,
                                      Rcpp::NumericVector theta, int what, int width) {
  Rcpp::NumericMatrix out(x.nrow(), width);
  engine().row_summaries(spec_from(spec), view_of(x, observed), Rcpp::as<std::vector<double>>(theta), what,
                         out.begin());
  return out;
}

# Speed benchmark of deepmnar against a PyTorch anchor: the workload of
# the reference notes' section 7, measured on this machine by
# bench/pytorch_anchor.py (bench/results/pytorch_anchor.csv).
#
# Run from the package root, with the package installed:
#   Rscript bench/speed.R            # full run (a few minutes; quiet machine please)
#   Rscript bench/speed.R --quick    # smoke test: fewer iterations and repeats
# Options (command line, or the environment variable in brackets):
#   --quick                  (DEEPMNAR_BENCH_QUICK=1)
#   --iterations=N           training iterations per timed fit     (DEEPMNAR_BENCH_ITERATIONS; 3000, quick 500)
#   --repeats=N              timed fits per configuration          (DEEPMNAR_BENCH_REPEATS; 5, quick 2)
#   --impute-repeats=N       timed imputations per thread count    (DEEPMNAR_BENCH_IMPUTE_REPEATS; 3, quick 1)
#   --gemm-repeats=N         timings per GEMM shape and build      (DEEPMNAR_BENCH_GEMM_REPEATS; 5, quick 3)
#   --L=N                    importance samples in the imputation  (DEEPMNAR_BENCH_L; 10000)
#   --wait-quiet=S           before each measurement, wait up to S seconds until other processes
#                            use < 0.35 cores (DEEPMNAR_BENCH_WAIT_QUIET; 120, quick 0)
#   --out=DIR                output folder (DEEPMNAR_BENCH_OUT; bench/results)
# Builds timed: "default" (the engine the CPU dispatches to, double precision),
# "float" (the same engine with `precision = "float"`) and "baseline" (the
# portable engine forced, double). Every PyTorch figure comes from
# bench/results/pytorch_anchor.csv (run bench/pytorch_anchor.py just before:
# see bench/precision.R); a figure it does not hold is left out, none is
# copied from notes. The per-core peak and PyTorch's GEMM rates of the notes
# are not used either: rates are compared with deepmnar's own measured GEMM.
# Outputs: DIR/speed.md and DIR/speed.csv (quick mode: speed-quick.md / speed-quick.csv,
# so that a smoke test never overwrites the results of a full run).

suppressPackageStartupMessages(library(deepmnar))
source(file.path("bench", "pytorch_anchor.R"))

# ---------------------------------------------------------------------------
# Options
args <- commandArgs(trailingOnly = TRUE)
arg_value <- function(name, env, default) {
  hit <- grep(paste0("^--", name, "="), args, value = TRUE)
  if (length(hit)) return(sub(paste0("^--", name, "="), "", hit[length(hit)]))
  v <- Sys.getenv(env, "")
  if (nzchar(v)) return(v)
  default
}
unknown <- args[!grepl("^--(quick|iterations|repeats|impute-repeats|gemm-repeats|L|wait-quiet|out)(=|$)", args)]
if (length(unknown)) stop("unknown option(s): ", paste(unknown, collapse = " "), call. = FALSE)
quick <- "--quick" %in% args || Sys.getenv("DEEPMNAR_BENCH_QUICK", "") %in% c("1", "true", "TRUE", "yes")
opt <- list(
  iterations = as.integer(arg_value("iterations", "DEEPMNAR_BENCH_ITERATIONS", if (quick) 500 else 3000)),
  repeats = as.integer(arg_value("repeats", "DEEPMNAR_BENCH_REPEATS", if (quick) 2 else 5)),
  impute_repeats = as.integer(arg_value("impute-repeats", "DEEPMNAR_BENCH_IMPUTE_REPEATS", if (quick) 1 else 3)),
  gemm_repeats = as.integer(arg_value("gemm-repeats", "DEEPMNAR_BENCH_GEMM_REPEATS", if (quick) 3 else 5)),
  L = as.integer(arg_value("L", "DEEPMNAR_BENCH_L", 10000)),
  wait_quiet = as.numeric(arg_value("wait-quiet", "DEEPMNAR_BENCH_WAIT_QUIET", if (quick) 0 else 120)),
  out = arg_value("out", "DEEPMNAR_BENCH_OUT", file.path("bench", "results"))
)
stopifnot(!anyNA(unlist(opt[1:6])), opt$wait_quiet >= 0, opt$iterations >= 1, opt$repeats >= 1, opt$impute_repeats >= 1,
          opt$gemm_repeats >= 1, opt$L >= 1)
if (!file.exists("DESCRIPTION") || !any(grepl("^Package: deepmnar", readLines("DESCRIPTION")))) {
  stop("run from the package root: Rscript bench/speed.R", call. = FALSE)
}
dir.create(opt$out, showWarnings = FALSE, recursive = TRUE)
stem <- if (quick) "speed-quick" else "speed"
md_file <- file.path(opt$out, paste0(stem, ".md"))
csv_file <- file.path(opt$out, paste0(stem, ".csv"))
threads_list <- c(1L, 2L)
impute_fit_iterations <- 300L   # imputation cost does not depend on training length
wall_start <- Sys.time()
# Read before any result file is written, which would itself count as a change.
git <- function(...) tryCatch(suppressWarnings(system2("git", c(...), stdout = TRUE, stderr = FALSE)),
                              error = function(e) character(0))
commit <- git("rev-parse", "--short", "HEAD")
commit <- if (length(commit) && is.null(attr(commit, "status"))) commit[1] else "unknown"
dirty <- git("status", "--porcelain", "--untracked-files=no")
commit_text <- if (commit == "unknown") commit else
  paste0(commit, if (length(dirty)) " (with uncommitted changes to tracked files)" else "")

# ---------------------------------------------------------------------------
# PyTorch anchor: only what bench/pytorch_anchor.py measured on this machine
# (NA, and left out of the tables, where it measured nothing).
pytorch <- pytorch_anchor()
anchor <- list(train_f32 = pytorch$training,          # ms / iteration, float32, 1 thread
               train_f64 = pytorch$training_f64,      # ms / iteration, float64, 1 thread
               impute_f32 = pytorch$imputation,       # s, all impute_f32_rows rows, L = 10000, 1 thread
               impute_f32_rows = pytorch$imputation_rows)
bars <- list(train_speedup = 2.5, thread_ratio = 1.6, impute_seconds = 8)

# ---------------------------------------------------------------------------
# Machine state: load, and the CPU other processes use while we measure
load1 <- function() {
  x <- tryCatch(readLines("/proc/loadavg", n = 1), error = function(e) NA_character_)
  as.numeric(strsplit(x, " ")[[1]][1])
}
cpu_snapshot <- function() {
  stat <- tryCatch(readLines("/proc/stat", n = 1), error = function(e) NULL)
  f <- if (is.null(stat)) rep(NA_real_, 8) else as.numeric(strsplit(stat, " +")[[1]][2:9])
  own <- proc.time()   # user.self + sys.self cover all threads of this process
  list(elapsed = own[["elapsed"]], own = own[["user.self"]] + own[["sys.self"]],
       busy = sum(f[c(1, 2, 3, 6, 7, 8)]), total = sum(f[1:8]))
}
n_cpu <- parallel::detectCores(logical = TRUE)
# Cores busy with other processes between two snapshots (0 on a quiet machine).
foreign_cores <- function(a, b) {
  dt <- b$elapsed - a$elapsed
  if (is.na(a$total) || dt <= 0 || b$total <= a$total) return(NA_real_)
  busy <- n_cpu * (b$busy - a$busy) / (b$total - a$total)
  max(0, busy - (b$own - a$own) / dt)
}

quiet_threshold <- 0.35
# Waits (up to opt$wait_quiet seconds) until other processes use < quiet_threshold cores over 1 s;
# returns the seconds waited.
wait_quiet <- function() {
  if (opt$wait_quiet <= 0) return(0)
  t0 <- proc.time()[["elapsed"]]
  repeat {
    a <- cpu_snapshot(); Sys.sleep(1); b <- cpu_snapshot()
    fc <- foreign_cores(a, b)
    waited <- proc.time()[["elapsed"]] - t0
    if (is.na(fc) || fc < quiet_threshold || waited >= opt$wait_quiet) return(waited)
    Sys.sleep(min(4, max(0, opt$wait_quiet - waited)))
  }
}

rows <- list()
record <- function(...) rows[[length(rows) + 1L]] <<- data.frame(..., stringsAsFactors = FALSE)
# Runs `run()` once the machine is quiet. Returns its value and `machine`, the
# state around the run, which a record takes as its last three columns.
measured <- function(run) {
  waited <- wait_quiet(); a <- cpu_snapshot(); l0 <- load1()
  value <- run()
  b <- cpu_snapshot()
  list(value = value, machine = list(load1 = l0, waited = waited, foreign_cores = foreign_cores(a, b)))
}

# ---------------------------------------------------------------------------
# Data: first half of the columns missing above the column mean
make_mnar <- function(x) {
  x <- as.data.frame(x)
  for (j in seq_len(floor(ncol(x) / 2))) x[[j]][x[[j]] > mean(x[[j]])] <- NA
  x
}
datasets <- list(`4` = list(name = "banknote[, 1:4]", short = "banknote", x = make_mnar(banknote[, 1:4])),
                 `30` = list(name = "wdbc[, 1:30]", short = "wdbc", x = make_mnar(wdbc[, 1:30])))

# ---------------------------------------------------------------------------
# Analytic FLOP count (dense products only, 2*m*k*n each):
#   encoder  widths p -> 128 -> 128 -> 2q  on B rows        (q = p - 1: mean and log-variance)
#   decoder  widths q -> 128 -> 128 -> 2p  on B*K rows      (Gaussian: location and scale)
#   missing model selfmask_known: elementwise only, no dense product
#   forward  F = sum over layers of 2 * rows * in * out
#   backward = weight gradients (= F) + input gradients (= F minus the encoder's first
#              layer, whose input is the data) = 2F - 2*B*p*128
#   total per iteration = 3F - 2*B*p*128
dense_flops <- function(rows, widths) sum(2 * rows * head(widths, -1) * widths[-1])
train_flops <- function(p, q = p - 1, hidden = c(128, 128), B = 16, K = 20) {
  fwd <- dense_flops(B, c(p, hidden, 2 * q)) + dense_flops(B * K, c(q, hidden, 2 * p))
  c(forward = fwd, total = 3 * fwd - 2 * B * p * hidden[1])
}
# Imputation per row with a missing cell (type = "mean"): the encoder on one row and the
# decoder on L rows (forward only); the same count as the notes' 356 MFLOP per row at p = 4.
impute_flops_per_row <- function(p, q = p - 1, hidden = c(128, 128), L = 10000) {
  dense_flops(1, c(p, hidden, 2 * q)) + dense_flops(L, c(q, hidden, 2 * p))
}

# ---------------------------------------------------------------------------
# Training timings
precision_of <- function(build) if (build == "float") "float" else "double"
fit_once <- function(x, iterations, threads, seed, build = "default") {
  notmiwae(x, missing_model = "selfmask_known", obs = "gaussian", hidden = c(128, 128), K = 20,
           batch_size = 16, iterations = iterations, seed = seed, threads = threads, precision = precision_of(build),
           progress = FALSE)
}
time_training <- function(builds, threads_set) {
  for (p in names(datasets)) fit_once(datasets[[p]]$x, 200L, threads_set[1], 1L)   # warm-up
  for (r in seq_len(opt$repeats)) {
    for (p in names(datasets)) {
      # threads and builds interleaved within a repeat so that their ratios see the same conditions
      for (th in threads_set) for (build in builds) {
        m <- measured(function() fit_once(datasets[[p]]$x, opt$iterations, th, 1000L + r, build))
        fit <- m$value
        stopifnot(fit$settings$iterations_done == opt$iterations)
        record(section = "train", dataset = datasets[[p]]$short, p = as.integer(p), build = build,
               instruction_set = fit$instruction_set, threads = th, rep = r, iterations = opt$iterations,
               L = NA_integer_, rows = nrow(datasets[[p]]$x), seconds = fit$seconds,
               ms_per_iter = 1000 * fit$seconds / opt$iterations, gflops = NA_real_, m$machine)
        cat(sprintf("train  %-8s p=%-2s threads=%d rep=%d  %.3f ms/iter\n", build, p, th, r,
                    1000 * fit$seconds / opt$iterations))
      }
    }
  }
}

# GEMM rate of the engine in use, median of `gemm_repeats` timing loops of about 0.3 s.
time_gemm <- function(build) {
  for (shape in list(c(320, 128, 128), c(10000, 128, 128))) {
    flop <- 2 * prod(shape)
    probe <- deepmnar:::cpp_gemm_gflops(shape[1], shape[2], shape[3], max(1L, as.integer(2e8 / flop)))
    reps <- max(3L, as.integer(0.3 * probe * 1e9 / flop))
    for (r in seq_len(opt$gemm_repeats)) {
      m <- measured(function() deepmnar:::cpp_gemm_gflops(shape[1], shape[2], shape[3], reps))
      g <- m$value
      record(section = "gemm", dataset = paste(shape, collapse = "x"), p = NA_integer_, build = build,
             instruction_set = deepmnar:::cpp_instruction_set(), threads = 1L, rep = r, iterations = reps,
             L = NA_integer_, rows = shape[1], seconds = reps * flop / (g * 1e9), ms_per_iter = NA_real_,
             gflops = g, m$machine)
    }
    cat(sprintf("gemm   %-8s %s  %.1f GFLOP/s\n", build, paste(shape, collapse = "x"),
                g))
  }
}

load_start <- load1()
cat(sprintf("deepmnar speed benchmark (%s): %d iterations x %d repeats; load %.2f\n",
            if (quick) "QUICK" else "full", opt$iterations, opt$repeats, load_start))

default_set <- deepmnar:::cpp_instruction_set()
deepmnar:::cpp_force_baseline(FALSE)
time_training(c("default", "float"), threads_list)
time_gemm("default")
deepmnar:::cpp_force_baseline(TRUE)
baseline_set <- tryCatch({
  s <- deepmnar:::cpp_instruction_set()
  time_training("baseline", 1L)
  time_gemm("baseline")
  s
}, finally = deepmnar:::cpp_force_baseline(FALSE))
stopifnot(deepmnar:::cpp_instruction_set() == default_set)

# ---------------------------------------------------------------------------
# Imputation timings: banknote, first 2 columns missing above the mean, type = "mean"
imp_x <- datasets[["4"]]$x
imp_builds <- c("default", "float")
imp_fit <- lapply(stats::setNames(imp_builds, imp_builds), function(b) fit_once(imp_x, impute_fit_iterations, 2L, 7L, b))
imp_rows <- sum(!stats::complete.cases(imp_x))
invisible(impute(imp_fit$default, L = 200, type = "mean", seed = 1, threads = 1, progress = FALSE))   # warm-up
for (r in seq_len(opt$impute_repeats)) {
  for (th in threads_list) for (build in imp_builds) {
    m <- measured(function() {
      t0 <- proc.time()[["elapsed"]]
      out <- impute(imp_fit[[build]], L = opt$L, type = "mean", tolerance = 0, seed = 100 + r, threads = th,
                    progress = FALSE)
      stopifnot(!anyNA(out))
      proc.time()[["elapsed"]] - t0
    })
    s <- m$value
    record(section = "impute", dataset = datasets[["4"]]$short, p = 4L, build = build,
           instruction_set = default_set, threads = th, rep = r, iterations = NA_integer_, L = opt$L,
           rows = imp_rows, seconds = s, ms_per_iter = NA_real_,
           gflops = imp_rows * impute_flops_per_row(4, L = opt$L) / s / 1e9, m$machine)
    cat(sprintf("impute %-8s threads=%d rep=%d  %.2f s\n", build, th, r, s))
  }
}

# ---------------------------------------------------------------------------
# Dispatch overhead: a model so small that an iteration is mostly the fixed cost
# of handing a batch to the threads, which is what a second thread must not swamp.
tiny_iterations <- if (quick) 5000L else 20000L
tiny_fit <- function(threads, seed) {
  notmiwae(datasets[["4"]]$x, hidden = 8, K = 1, batch_size = 16, iterations = tiny_iterations, seed = seed,
           threads = threads, progress = FALSE)
}
invisible(tiny_fit(2L, 1L))   # warm-up
for (r in seq_len(opt$repeats)) {
  for (th in threads_list) {
    m <- measured(function() tiny_fit(th, 2000L + r))
    fit <- m$value
    record(section = "tiny", dataset = datasets[["4"]]$short, p = 4L, build = "default",
           instruction_set = default_set, threads = th, rep = r, iterations = tiny_iterations, L = NA_integer_,
           rows = nrow(datasets[["4"]]$x), seconds = fit$seconds, ms_per_iter = 1000 * fit$seconds / tiny_iterations,
           gflops = NA_real_, m$machine)
    cat(sprintf("tiny   threads=%d rep=%d  %.1f us/iter\n", th, r, 1e6 * fit$seconds / tiny_iterations))
  }
}
load_end <- load1()

raw <- do.call(rbind, rows)
utils::write.csv(raw, csv_file, row.names = FALSE)

# ---------------------------------------------------------------------------
# Summaries
f <- function(x, d = 2) formatC(x, format = "f", digits = d)
med_range <- function(x, d = 3) sprintf("%s [%s–%s]", f(stats::median(x), d), f(min(x), d), f(max(x), d))
pick <- function(sec, build = NULL, p = NULL, threads = NULL, dataset = NULL) {
  k <- raw$section == sec
  if (!is.null(build)) k <- k & raw$build == build
  if (!is.null(p)) k <- k & !is.na(raw$p) & raw$p == p
  if (!is.null(threads)) k <- k & raw$threads == threads
  if (!is.null(dataset)) k <- k & raw$dataset == dataset
  raw[k, , drop = FALSE]
}
pass <- function(ok) if (isTRUE(ok)) "**PASS**" else "**FAIL**"

cpu_model <- tryCatch({
  m <- grep("^model name", readLines("/proc/cpuinfo"), value = TRUE)
  if (length(m)) trimws(sub("^[^:]*:", "", m[1])) else NA_character_
}, error = function(e) NA_character_)
src_version <- sub("^Version: *", "", grep("^Version:", readLines("DESCRIPTION"), value = TRUE)[1])
inst_version <- as.character(utils::packageVersion("deepmnar"))
foreign <- raw$foreign_cores
minutes <- as.numeric(difftime(Sys.time(), wall_start, units = "mins"))

md <- character(0)
add <- function(...) md <<- c(md, paste0(...))

add("# deepmnar speed benchmark")
add("")
if (quick) {
  add("> **QUICK MODE** (smoke test: ", opt$iterations, " iterations, ", opt$repeats, " repeats, ",
      opt$impute_repeats, " imputation repeats). Not for the record: run `Rscript bench/speed.R` on a quiet machine.")
  add("")
}
if (isTRUE(stats::median(foreign, na.rm = TRUE) >= quiet_threshold)) {
  add("> **Warning: the machine was busy** (other processes used a median of ",
      f(stats::median(foreign, na.rm = TRUE)), " of ", n_cpu, " cores during the measurements): ",
      "the timings, and above all the 2-thread ones, are not representative.")
  add("")
}
add("Generated by `Rscript bench/speed.R", if (quick) " --quick" else "", "` in ", f(minutes, 1), " min.")
add("")
add("## 1. Machine")
add("")
add("| item | value |")
add("|---|---|")
add("| CPU | ", cpu_model, " |")
add("| cores (logical / physical) | ", n_cpu, " / ", parallel::detectCores(logical = FALSE), " |")
add("| R | ", R.version$version.string, " |")
add("| deepmnar | ", inst_version, " (installed", if (!identical(inst_version, src_version))
  paste0("; source tree says ", src_version) else "", ") |")
add("| instruction set in use | ", default_set, " (baseline build: ", baseline_set, ") |")
add("| git commit | ", commit_text, " |")
add("| date | ", format(wall_start, "%Y-%m-%d %H:%M:%S %Z"), " |")
add("| 1-min load average, start / end | ", f(load_start), " / ", f(load_end), " |")
add("| cores used by other processes during the measurements (median / max) | ",
    if (all(is.na(foreign))) "n/a" else paste0(f(stats::median(foreign, na.rm = TRUE)), " / ",
                                               f(max(foreign, na.rm = TRUE))), " |")
add("| measurements during which other processes used >= ", quiet_threshold, " cores | ",
    sum(foreign >= quiet_threshold, na.rm = TRUE), " of ", nrow(raw), if (opt$wait_quiet > 0)
      paste0(" (waited up to ", opt$wait_quiet, " s for a quiet machine before each; ", f(sum(raw$waited), 0), " s in all)")
    else " (no waiting for a quiet machine: `--wait-quiet=0`)", " |")
add("| settings | ", opt$iterations, " iterations per timed fit, ", opt$repeats, " repeats; imputation L = ",
    opt$L, ", ", opt$impute_repeats, " repeats; GEMM ", opt$gemm_repeats, " repeats |")
add("")

# --- 2. Training
add("## 2. Training time per iteration")
add("")
add("Paper settings: batch 16, K = 20, encoder and decoder 2 x 128 tanh, latent p - 1, `selfmask_known`, ",
    "Gaussian; first half of the columns missing above the column mean. Time = `fit$seconds / iterations` ",
    "(includes the R overhead between C++ blocks), median [min–max] of ", opt$repeats, " fits of ",
    opt$iterations, " iterations; `float` is the same engine with `precision = \"float\"`. PyTorch anchors (f32 and ",
    "f64): ", pytorch$source, ". Measured at another time than the deepmnar fits, on the same machine; no anchor ",
    "is copied from notes.")
add("")
add("| p | data | build | precision | threads | ms / iteration | PyTorch f32 (ms) | speed-up vs f32 | PyTorch f64 (ms) | speed-up vs f64 |")
add("|---|---|---|---|---|---|---|---|---|---|")
train_summary <- list()
for (build in c("default", "float", "baseline")) {
  for (p in names(datasets)) {
    for (th in if (build == "baseline") 1L else threads_list) {
      d <- pick("train", build, as.integer(p), th)
      m <- stats::median(d$ms_per_iter)
      train_summary[[paste(build, p, th)]] <- m
      add("| ", p, " | `", datasets[[p]]$name, "` | ", d$instruction_set[1], " | ", precision_of(build), " | ", th, " | ",
          med_range(d$ms_per_iter), " | ", f(anchor$train_f32[[p]]), " | ", f(anchor$train_f32[[p]] / m), "x | ",
          f(anchor$train_f64[[p]]), " | ", f(anchor$train_f64[[p]] / m), "x |")
    }
  }
}
add("")
add("Second thread (", default_set, " build; fits interleaved within each repeat):")
add("")
add("| p | precision | ratio of medians, 1 thread / 2 threads | per-repeat ratios, median [min–max] |")
add("|---|---|---|---|")
thread_ratio <- list()
for (build in c("default", "float")) for (p in names(datasets)) {
  d1 <- pick("train", build, as.integer(p), 1L)
  d2 <- pick("train", build, as.integer(p), 2L)
  d2 <- d2[match(d1$rep, d2$rep), ]
  thread_ratio[[paste(build, p)]] <- stats::median(d1$ms_per_iter) / stats::median(d2$ms_per_iter)
  add("| ", p, " | ", precision_of(build), " | ", f(thread_ratio[[paste(build, p)]]), "x | ",
      med_range(d1$ms_per_iter / d2$ms_per_iter, 2), " |")
}
add("")

# --- 3. GFLOP/s
add("## 3. Effective GFLOP/s")
add("")
add("FLOPs per iteration from the shapes (2·m·k·n per dense product): forward F = encoder on 16 rows ",
    "(p → 128 → 128 → 2(p-1)) + decoder on 16·20 = 320 rows ((p-1) → 128 → 128 → 2p); the selfmask_known ",
    "missing model has no dense product; backward = 2F minus the input gradient of the encoder's first ",
    "layer (2·16·p·128); total = 3F - 2·16·p·128. Effective rate = total / median time.")
add("")
gemm_med <- function(build, shape) stats::median(pick("gemm", build, dataset = shape)$gflops)
g320 <- c(default = gemm_med("default", "320x128x128"), baseline = gemm_med("baseline", "320x128x128"))
add("| p | forward MFLOP | total MFLOP / iteration | build | precision | threads | ms / iteration | GFLOP/s | % of own double GEMM rate at 320x128x128 (per thread) |")
add("|---|---|---|---|---|---|---|---|---|")
for (build in c("default", "float", "baseline")) {
  set <- if (build == "baseline") baseline_set else default_set
  for (p in names(datasets)) {
    fl <- train_flops(as.integer(p))
    for (th in if (build == "baseline") 1L else threads_list) {
      m <- train_summary[[paste(build, p, th)]]
      gf <- fl[["total"]] / (m / 1000) / 1e9
      add("| ", p, " | ", f(fl[["forward"]] / 1e6), " | ", f(fl[["total"]] / 1e6), " | ", set, " | ", precision_of(build),
          " | ", th, " | ", f(m, 3), " | ", f(gf, 1), " | ",
          f(100 * gf / th / g320[[if (build == "baseline") "baseline" else "default"]], 0), "% |")
    }
  }
}
add("")
add("Single-thread double GEMM `C = A·B`, `deepmnar:::cpp_gemm_gflops()`, GFLOP/s, median [min–max] of ",
    opt$gemm_repeats, " timing loops of about 0.3 s:")
add("")
add("| shape (m x k · k x n) | deepmnar ", default_set, " | deepmnar ", baseline_set, " |")
add("|---|---|---|")
for (shape in c("320x128x128", "10000x128x128")) {
  add("| ", sub("^(\\d+)x(\\d+)x(\\d+)$", "\\1x\\2 · \\2x\\3", shape), " | ",
      med_range(pick("gemm", "default", dataset = shape)$gflops, 1), " | ",
      med_range(pick("gemm", "baseline", dataset = shape)$gflops, 1), " |")
}
add("")
pt_rate <- vapply(names(datasets), function(p) train_flops(as.integer(p))[["total"]] / (anchor$train_f32[[p]] / 1000) / 1e9, 0)
if (all(is.finite(pt_rate)))
  add("PyTorch f32 on one thread (measured anchor above) reaches ",
      paste(sprintf("%.1f (p = %s)", pt_rate, names(datasets)), collapse = " and "), " GFLOP/s in training by the same count.")
add("")

# --- 4. Imputation
add("## 4. Imputation")
add("")
add("`impute(fit, L = ", opt$L, ", type = \"mean\", tolerance = 0)` (every row draws all L samples) of `banknote[, 1:4]` with the first 2 columns missing above ",
    "the mean (", imp_rows, " of ", nrow(imp_x), " rows have a missing value), fit of ", impute_fit_iterations,
    " iterations, ", default_set, " build; elapsed seconds, median [min–max] of ", opt$impute_repeats, ". ",
    "FLOPs per imputed row: ", f(impute_flops_per_row(4, L = opt$L) / 1e6, 0), " MFLOP (encoder once, decoder on L rows). ",
    if (is.finite(anchor$impute_f32)) paste0("PyTorch anchor (measured by bench/pytorch_anchor.py; L = 10000 fixed, f32, ",
      "1 thread, one pass of L per row over all ", anchor$impute_f32_rows, " rows of banknote-shaped data): ",
      f(anchor$impute_f32, 1), " s, ", f(1000 * anchor$impute_f32 / anchor$impute_f32_rows, 1), " ms per row; ",
      "the speed-up is per row imputed (PyTorch's ms per row / deepmnar's ms per imputed row).")
    else "No PyTorch imputation anchor was measured (bench/results/pytorch_anchor.csv).")
add("")
add("| precision | threads | seconds | ms per imputed row | ms per row (all rows) | GFLOP/s | PyTorch f32 1 thread (ms per row) | speed-up per row |")
add("|---|---|---|---|---|---|---|---|")
pt_row <- 1000 * anchor$impute_f32 / anchor$impute_f32_rows
impute_median <- list()
for (build in imp_builds) for (th in threads_list) {
  d <- pick("impute", build, threads = th)
  m <- stats::median(d$seconds)
  impute_median[[paste(build, th)]] <- m
  add("| ", precision_of(build), " | ", th, " | ", med_range(d$seconds, 2), " | ", f(1000 * m / imp_rows, 2), " | ", f(1000 * m / nrow(imp_x), 2),
      " | ", f(stats::median(d$gflops), 1), " | ", if (is.finite(pt_row)) f(pt_row, 1) else "", " | ",
      if (is.finite(pt_row)) paste0(f(pt_row / (1000 * m / imp_rows)), "x") else "", " |")
}
add("")
if (opt$L != 10000) add("(L differs from 10000: the imputation bar below is not comparable.)\n")

# --- 5. Dispatch overhead
add("## 5. Dispatch overhead")
add("")
add("A model whose iteration is mostly fixed cost: `banknote[, 1:4]` as above, one hidden layer of 8, K = 1, ",
    "batch 16, ", tiny_iterations, " iterations; microseconds per iteration, median [min–max] of ", opt$repeats,
    " fits, thread counts interleaved. The engine keeps one TBB task arena per call from R, so a second thread ",
    "costs a hand-over per iteration, not an arena set-up.")
add("")
add("| threads | us / iteration |")
add("|---|---|")
for (th in threads_list) add("| ", th, " | ", med_range(1000 * pick("tiny", threads = th)$ms_per_iter, 1), " |")
tiny_ratio <- pick("tiny", threads = 2L)$ms_per_iter / pick("tiny", threads = 1L)$ms_per_iter
add("")
add("Per-repeat ratio 2 threads / 1 thread: ", med_range(tiny_ratio, 2), ".")
add("")

# --- 6. Bars
add("## 6. Bars from the issue")
add("")
add("| bar | measured | target | result |")
add("|---|---|---|---|")
for (build in c("default", "float")) for (p in names(datasets)) {
  s <- anchor$train_f32[[p]] / train_summary[[paste(build, p, 1L)]]
  add("| training p = ", p, ", ", precision_of(build), ", 1 thread, vs PyTorch f32 1 thread | ", f(s), "x (",
      f(train_summary[[paste(build, p, 1L)]], 3), " ms vs ", f(anchor$train_f32[[p]]), " ms) | >= ",
      bars$train_speedup, "x (<= ", f(anchor$train_f32[[p]] / bars$train_speedup, 3), " ms) | ",
      pass(s >= bars$train_speedup), " |")
}
for (build in c("default", "float")) for (p in names(datasets)) {
  r <- thread_ratio[[paste(build, p)]]
  add("| second thread, training p = ", p, ", ", precision_of(build), " (1 thread / 2 threads) | ", f(r), "x | >= ",
      bars$thread_ratio, "x | ", pass(r >= bars$thread_ratio), " |")
}
for (build in imp_builds) {
  m <- impute_median[[paste(build, 2L)]]
  add("| banknote imputation, ", precision_of(build), ", L = ", opt$L, ", 2 threads | ", f(m), " s | <= ",
      bars$impute_seconds, " s | ", if (opt$L == 10000) pass(m <= bars$impute_seconds) else
        paste0("n/a (run with L = ", opt$L, ")"), " |")
}
add("")
add("Raw timings: `", basename(csv_file), "` (one row per timed fit, imputation or GEMM loop; `load1` = 1-min load ",
    "average before it, `foreign_cores` = CPU used by other processes during it, from /proc/stat; `waited` = seconds ",
    "spent waiting for a quiet machine before it).")

writeLines(md, md_file)
cat(sprintf("\nWrote %s and %s (%.1f min)\n", md_file, csv_file, minutes))

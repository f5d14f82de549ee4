# The UCI benchmark of not-MIWAE (Ipsen, Mattei and Frellsen, ICLR 2021,
# section 4.2 and appendix A.1), extended to GNR's missing probabilities
# (Chen et al., CIKM 2023, Table 2): deepmnar's not-MIWAE against mean
# imputation, mice and missForest, next to the published numbers.
#
# Protocol (reference-notes.md section 1, `task01.py`): the label column is
# dropped; the first floor(p / 2) columns go missing where they are above
# their complete-data mean, each such value with probability `prob` (1 in
# not-MIWAE; 0.2, 0.8 and 1 in GNR); the imputation RMSE is computed over the
# missing cells on the complete-data standardised scale; 5 runs (seeds). The
# model is trained on all rows (no held-out set), as in the reference code.
# not-MIWAE settings of the paper: encoder and decoder with two hidden layers
# of 128 tanh units, latent dimension p - 1, K = 20, batch 16, Adam with
# learning rate 1e-3, 100,000 iterations, self-masking with known sign
# (missing_model = "selfmask_known"), Gaussian observations, conditional-mean
# imputation with L = 10,000 importance samples. deepmnar's decoder scale has
# a floor of 1e-4 standard deviations (sigma_floor, the package default); the
# reference code has none.
#
# Run from the package root, with the package installed:
#   Rscript bench/uci.R                      # the full protocol (hours)
#   Rscript bench/uci.R --iterations=2000 --seeds=1:2 --L=1000 --probs=1   # smoke test
# Options ("--name=value" or "--name value"):
#   --iterations=N   not-MIWAE training iterations            (100000)
#   --L=N            importance samples of the imputation     (10000)
#   --floor=F        not-MIWAE sigma_floor, in sd units (1e-4, the package
#                    default; part of the cache key when not the default)
#   --seeds=S        seeds, "1:5" or "1,2,3"                  (1:5)
#   --probs=P        missing probabilities, "1,0.8,0.2"        (1,0.8,0.2)
#   --datasets=D     among banknote,yeast,wine_red,wine_white,wdbc   (all five)
#   --methods=M      among mean,median,mice_norm,mice_pmm,missforest,notmiwae,
#                    gnr,not2miwae,psmvae,notmiwae_default,miwae_default
#                    (mean,mice_norm,mice_pmm,missforest,notmiwae); the
#                    last two are `notmiwae()` and `notmiwae(missing_model =
#                    "none")` (MIWAE) with the package's defaults, what a
#                    user runs, beside the papers' fixed settings
#   --workers=N      run N cells at a time on a future multisession plan (1)
#   --threads=N      threads of each not-MIWAE fit (default: 1 with several
#                    workers, else the package default)
#   --gnrIterations=N, --gnrBatch=N, --gnrAlpha=A, --gnrL=N
#                    GNR (methods "gnr"): the paper's stated protocol is 10k
#                    iterations at batch 128, K 20, L 1000; alpha from
#                    {0.01, 1, 100} by missing rate  (10000, 128, 1, 1000)
#   --twoIterations=N, --twoKeta=N, --twoL=N
#                    not-2-MIWAE (methods "not2miwae"): iterations, eta draws
#                    per z draw, imputation samples     (100000, 20, 1000)
#   --psIterations=N, --psBatch=N, --psVariant=V, --psPi=P, --psSets=N, --psL=N
#                    PSMVAE (methods "psmvae"): iterations, batch, variant
#                    ("a" or "b"), pi', pattern sets k, imputation samples
#                    (10000, 64, a, 0.5, 2, 1000)
#   --scaling=S      how the deep models standardise the data: "observed"
#                    (the package: the observed values' mean and sd) or
#                    "complete" (the papers' protocol: the complete data's
#                    mean and population sd, passed as `center` and `scale`;
#                    it leaks the missing values into the fit and exists only
#                    to reproduce published numbers)           (observed)
#   --gnrAux=N       dimension of GNR's auxiliary u (its Eq. 13; `aux_dim`),
#                    0 for none                                   (0)
#   --gnrAlpha=auto  GNR's alpha by missing rate as the GNR paper chooses it
#                    from {0.01, 1, 100}, larger for higher missing rates:
#                    0.01 at probability 0.2, 1 at 0.8, 100 at 1
#   --out=DIR        output folder                            (bench/results)
#   --fresh          ignore (and overwrite) cached results
#   --report         run nothing: build the tables from the cached cells of
#                    the grid (cells not run yet are left out and listed)
#
# Resumable: every (dataset, prob, seed, method) result is cached in
# DIR/cache/ as soon as it is computed (not-MIWAE results also keyed by
# iterations and L), so an interrupted run continues where it stopped and a
# run over the full grid after partial runs only assembles the tables. The
# cache does not know about changes to the engine: use --fresh (or delete
# DIR/cache) after changing the package. The tables are built from the cells
# of the requested grid only.
#
# Outputs: DIR/uci.md (tables: ours next to the published numbers, and
# whether the bar of issue 3 is met), DIR/uci.csv (one row per run), and the
# copy the benchmark vignette reads, inst/extdata/uci.csv. The published
# numbers are read from inst/extdata/uci_published.csv and
# uci_published_mask.csv, which the vignette reads too.

suppressPackageStartupMessages(library(deepmnar))

# ---------------------------------------------------------------------------
# Options
all_datasets <- c("banknote", "yeast", "wine_red", "wine_white", "wdbc")
all_methods <- c("mean", "median", "mice_norm", "mice_pmm", "missforest", "notmiwae", "gnr", "not2miwae", "psmvae",
                 "notmiwae_default", "miwae_default")
deep_methods <- c("notmiwae", "gnr", "not2miwae", "psmvae", "notmiwae_default", "miwae_default")
# The deepmnar function each method name runs.
fitter_of <- function(method) switch(method, notmiwae_default = , miwae_default = "notmiwae", method)
defaults <- list(iterations = "100000", L = "10000", floor = "1e-4", seeds = "1:5", probs = "1,0.8,0.2",
                 gnrIterations = "10000", gnrBatch = "128", gnrAlpha = "1", gnrL = "1000", gnrAux = "0",
                 twoIterations = "100000", twoKeta = "20", twoL = "1000",
                 psIterations = "10000", psBatch = "64", psVariant = "a", psPi = "0.5", psSets = "2", psL = "1000",
                 datasets = paste(all_datasets, collapse = ","), scaling = "observed",
                 methods = "mean,mice_norm,mice_pmm,missforest,notmiwae", workers = "1", threads = "",
                 out = file.path("bench", "results"))

parse_numbers <- function(x, what) {
  x <- gsub("[[:space:]]", "", x)
  v <- if (grepl("^[0-9]+:[0-9]+$", x)) {
    r <- as.integer(strsplit(x, ":")[[1]])
    seq(r[1], r[2])
  } else {
    suppressWarnings(as.numeric(strsplit(x, ",")[[1]]))
  }
  if (!length(v) || anyNA(v)) stop("cannot read --", what, " = ", x, call. = FALSE)
  v
}

parse_names <- function(x, allowed, what) {
  v <- strsplit(gsub("[[:space:]]", "", x), ",")[[1]]
  bad <- setdiff(v, allowed)
  if (length(bad) || !length(v)) {
    stop("--", what, " must be among ", paste(allowed, collapse = ","), call. = FALSE)
  }
  unique(v)
}

source(file.path("bench", "datasets.R"))
if (any(commandArgs(trailingOnly = TRUE) %in% c("--help", "-h"))) {
  cat(grep("^#", readLines("bench/uci.R", n = 50), value = TRUE), sep = "\n")
  quit(status = 0)
}
raw <- command_options(defaults, flags = c("fresh", "report"))
opt <- list(
  iterations = as.integer(parse_numbers(raw$iterations, "iterations"))[1],
  L = as.integer(parse_numbers(raw$L, "L"))[1],
  floor = parse_numbers(raw$floor, "floor")[1],
  seeds = as.integer(parse_numbers(raw$seeds, "seeds")),
  probs = parse_numbers(raw$probs, "probs"),
  datasets = parse_names(raw$datasets, all_datasets, "datasets"),
  methods = parse_names(raw$methods, all_methods, "methods"),
  workers = as.integer(parse_numbers(raw$workers, "workers"))[1],
  gnr_iterations = as.integer(parse_numbers(raw$gnrIterations, "gnrIterations"))[1],
  gnr_batch = as.integer(parse_numbers(raw$gnrBatch, "gnrBatch"))[1],
  gnr_alpha = if (identical(raw$gnrAlpha, "auto")) NA_real_ else parse_numbers(raw$gnrAlpha, "gnrAlpha")[1],
  scaling = match.arg(raw$scaling, c("observed", "complete")),
  gnr_L = as.integer(parse_numbers(raw$gnrL, "gnrL"))[1],
  gnr_aux = as.integer(parse_numbers(raw$gnrAux, "gnrAux"))[1],
  two_iterations = as.integer(parse_numbers(raw$twoIterations, "twoIterations"))[1],
  two_K2 = as.integer(parse_numbers(raw$twoKeta, "twoKeta"))[1],
  two_L = as.integer(parse_numbers(raw$twoL, "twoL"))[1],
  ps_iterations = as.integer(parse_numbers(raw$psIterations, "psIterations"))[1],
  ps_batch = as.integer(parse_numbers(raw$psBatch, "psBatch"))[1],
  ps_variant = match.arg(raw$psVariant, c("a", "b")),
  ps_pi = parse_numbers(raw$psPi, "psPi")[1],
  ps_sets = as.integer(parse_numbers(raw$psSets, "psSets"))[1],
  ps_L = as.integer(parse_numbers(raw$psL, "psL"))[1],
  threads = if (nzchar(raw$threads)) as.integer(parse_numbers(raw$threads, "threads"))[1] else NULL,
  out = raw$out,
  fresh = raw$fresh,
  report = raw$report
)
stopifnot(opt$iterations >= 1, opt$L >= 1, opt$workers >= 1, all(opt$probs > 0 & opt$probs <= 1),
          is.null(opt$threads) || opt$threads >= 1)
if (!file.exists("DESCRIPTION") || !any(grepl("^Package: deepmnar", readLines("DESCRIPTION")))) {
  stop("run from the package root: Rscript bench/uci.R", call. = FALSE)
}
if (opt$workers > 1 && !requireNamespace("future.apply", quietly = TRUE)) {
  stop("--workers > 1 needs the future.apply package", call. = FALSE)
}
if (opt$workers > 1 && is.null(opt$threads)) opt$threads <- 1L
cache_dir <- file.path(opt$out, "cache")
dir.create(cache_dir, showWarnings = FALSE, recursive = TRUE)
built <- strsplit(utils::packageDescription("deepmnar")$Built, "; ")[[1]]
build_stamp <- sprintf("%s (built %s)", utils::packageVersion("deepmnar"), if (length(built) >= 3) built[3] else "?")

# ---------------------------------------------------------------------------
# Data: the label column dropped
uci_data <- list(
  banknote = banknote[, 1:4],
  yeast = yeast[, 1:8],
  wine_red = wine_red[, 1:11],
  wine_white = wine_white[, 1:11],
  wdbc = wdbc[, 1:30]
)
labels <- c(banknote = "banknote", yeast = "yeast", wine_red = "red wine", wine_white = "white wine",
            wdbc = "breast (wdbc)")

notmiwae_args <- function() {
  list(missing_model = "selfmask_known", obs = "gaussian", hidden = c(128, 128), activation = "tanh",
       K = 20, batch_size = 16, lr = 1e-3, iterations = opt$iterations, L = opt$L, type = "mean",
       sigma_floor = opt$floor, point_mass = "none", stop_early = FALSE, tolerance = 0, threads = opt$threads)
}
# What the papers did and the package's defaults no longer do: a fixed number
# of iterations from one start, no point masses, the 1e-4 floor, all L
# importance samples.
paper_fixed <- function(point_mass = TRUE) {
  c(list(stop_early = FALSE, starts = 1L, sigma_floor = 1e-4, tolerance = 0),
    if (point_mass) list(point_mass = "none"))
}
# GNR and not-2-MIWAE also predict the mask (mask_L) for the mask accuracy.
gnr_args <- function() {
  c(list(alpha = opt$gnr_alpha, aux_dim = opt$gnr_aux, hidden = c(128, 128), K = 20, batch_size = opt$gnr_batch, lr = 1e-3,
       iterations = opt$gnr_iterations, L = opt$gnr_L, mask_L = opt$gnr_L, threads = opt$threads), paper_fixed())
}
psmvae_args <- function() {
  c(list(k = opt$ps_sets, variant = opt$ps_variant, pi_prime = opt$ps_pi, hidden = c(128, 128), K = 1,
       batch_size = opt$ps_batch, lr = 1e-3, iterations = opt$ps_iterations, L = opt$ps_L, mask_L = opt$ps_L,
       threads = opt$threads), paper_fixed(point_mass = FALSE))
}
# The package's defaults: only the thread count is set.
default_args <- function(method) {
  c(list(threads = opt$threads), if (method == "miwae_default") list(missing_model = "none"))
}
not2miwae_args <- function() {
  c(list(K = 20, K2 = opt$two_K2, hidden = c(128, 128), batch_size = 16, lr = 1e-3, iterations = opt$two_iterations,
       L = opt$two_L, mask_L = opt$two_L, threads = opt$threads), paper_fixed())
}
# The GNR paper picks alpha from {0.01, 1, 100}, larger for higher missing
# rates.
gnr_alpha_for <- function(prob) if (prob <= 0.2) 0.01 else if (prob < 1) 1 else 100

method_settings <- function(method) {
  switch(method,
         notmiwae = list(iterations = opt$iterations, L = opt$L,
                         key = sprintf("_it%d_L%d%s", opt$iterations, opt$L,
                                       if (opt$floor == 1e-4) "" else sprintf("_floor%s", format(opt$floor)))),
         gnr = list(iterations = opt$gnr_iterations, L = opt$gnr_L,
                    key = sprintf("_it%d_b%d_a%s_L%d%s", opt$gnr_iterations, opt$gnr_batch,
                                  if (is.na(opt$gnr_alpha)) "auto" else format(opt$gnr_alpha), opt$gnr_L,
                                  if (opt$gnr_aux > 0) sprintf("_u%d", opt$gnr_aux) else "")),
         not2miwae = list(iterations = opt$two_iterations, L = opt$two_L,
                          key = sprintf("_it%d_K2%d_L%d", opt$two_iterations, opt$two_K2, opt$two_L)),
         psmvae = list(iterations = opt$ps_iterations, L = opt$ps_L,
                       key = sprintf("_it%d_b%d_%s_pi%s_k%d_L%d", opt$ps_iterations, opt$ps_batch, opt$ps_variant,
                                     format(opt$ps_pi), opt$ps_sets, opt$ps_L)),
         list(iterations = NA_integer_, L = NA_integer_, key = ""))
}

# ---------------------------------------------------------------------------
# Published numbers: inst/extdata/uci_published.csv (imputation RMSE on the
# standardised scale; GNR paper Table 2 at probabilities 0.2 / 0.8 / 1, the
# not-2-MIWAE report's Table 3 for breast and for not-2-MIWAE at probability
# 1) and inst/extdata/uci_published_mask.csv (GNR's mask accuracy, GNR paper
# Table 3) are the single source; each row names its table.
published <- utils::read.csv(file.path("inst", "extdata", "uci_published.csv"), stringsAsFactors = FALSE)
published_mask <- utils::read.csv(file.path("inst", "extdata", "uci_published_mask.csv"), stringsAsFactors = FALSE)

# Our method -> the published row it is compared with.
published_match <- c(mean = "mean", median = "median", mice_norm = "MICE", missforest = "missForest",
                     notmiwae = "not-MIWAE", gnr = "GNR", not2miwae = "not-2-MIWAE", psmvae = "PSMVAE",
                     miwae_default = "MIWAE")
method_labels <- c(mean = "mean", median = "median", mice_norm = "mice norm", mice_pmm = "mice pmm",
                   missforest = "missForest", notmiwae = "not-MIWAE (deepmnar)", gnr = "GNR (deepmnar)",
                   not2miwae = "not-2-MIWAE (deepmnar)", psmvae = "PSMVAE (deepmnar)",
                   notmiwae_default = "not-MIWAE, defaults (deepmnar)", miwae_default = "MIWAE, defaults (deepmnar)")

# ---------------------------------------------------------------------------
# Cells of the grid and their cache files
cells <- expand.grid(method = opt$methods, seed = opt$seeds, prob = opt$probs, dataset = opt$datasets,
                     stringsAsFactors = FALSE)[, c("dataset", "prob", "seed", "method")]
cache_file <- function(dataset, prob, seed, method) {
  extra <- paste0(method_settings(method)$key,
                  if (opt$scaling == "complete" && method %in% deep_methods) "_complete" else "")
  file.path(cache_dir, sprintf("%s_p%s_s%d_%s%s.rds", dataset, format(prob), seed, method, extra))
}
cells$file <- mapply(cache_file, cells$dataset, cells$prob, cells$seed, cells$method)
# Cells to run: not cached, or cached with an error (which may have been
# transient, e.g. a package missing at the time).
cached_ok <- vapply(cells$file, function(f) file.exists(f) && is.na(readRDS(f)$error), logical(1))
todo <- cells[opt$fresh | !cached_ok, , drop = FALSE]
not_run <- data.frame()
if (opt$report) {
  not_run <- todo
  cells <- cells[file.exists(cells$file), , drop = FALSE]
  todo <- todo[0, , drop = FALSE]
}
# Longest first, so that parallel workers finish together.
cost <- c(not2miwae = 6, gnr = 4, psmvae = 4, notmiwae = 4, notmiwae_default = 2, miwae_default = 2, missforest = 3, mice_norm = 2, mice_pmm = 2, median = 1, mean = 1)[todo$method] *
  vapply(uci_data[todo$dataset], function(x) prod(dim(x)), numeric(1))
todo <- todo[order(-cost), , drop = FALSE]

cat(sprintf("UCI benchmark: %d cells (%d cached, %d to run); not-MIWAE: %d iterations, L = %d; workers: %d\n",
            nrow(cells), nrow(cells) - nrow(todo), nrow(todo), opt$iterations, opt$L, opt$workers))

run_cell <- function(cell) {
  fitter <- fitter_of(cell$method)
  args <- switch(cell$method, notmiwae = list(notmiwae = notmiwae_args()), gnr = list(gnr = gnr_args()),
                 not2miwae = list(not2miwae = not2miwae_args()), psmvae = list(psmvae = psmvae_args()),
                 notmiwae_default = , miwae_default = list(notmiwae = default_args(cell$method)), list())
  if (cell$method == "gnr" && is.na(opt$gnr_alpha)) args$gnr$alpha <- gnr_alpha_for(cell$prob)
  if (opt$scaling == "complete" && cell$method %in% deep_methods) {
    full <- as.matrix(uci_data[[cell$dataset]])
    args[[fitter]]$center <- colMeans(full)
    args[[fitter]]$scale <- sqrt(colMeans(sweep(full, 2, colMeans(full))^2))
  }
  res <- compare_imputers(uci_data[[cell$dataset]], mechanism = "self_mask_mean", methods = fitter,
                          seeds = cell$seed, dataset = cell$dataset,
                          mechanism_args = list(prob = cell$prob), method_args = args,
                          metrics = list(rmse = imputation_rmse, mae = imputation_mae,
                                         mask_accuracy = mask_accuracy_metric,
                                         mask_accuracy_unconditional = mask_accuracy_unconditional_metric))
  row <- as.data.frame(res)
  row$method <- cell$method
  row$prob <- cell$prob
  row$iterations <- method_settings(cell$method)$iterations
  row$L <- method_settings(cell$method)$L
  row$build <- build_stamp
  tmp <- paste0(cell$file, ".tmp")
  saveRDS(row, tmp)
  file.rename(tmp, cell$file)   # atomic: an interrupted write leaves no cache entry
  message(sprintf("[%s] %s prob %s seed %d %s: %s (%.1f s)", format(Sys.time(), "%H:%M:%S"), cell$dataset,
                  format(cell$prob), cell$seed, cell$method,
                  if (is.na(row$error)) sprintf("RMSE %.3f", row$rmse) else paste("error:", row$error),
                  row$seconds))
  invisible(NULL)
}

if (nrow(todo)) {
  todo_list <- split(todo, seq_len(nrow(todo)))
  if (opt$workers > 1) {
    future::plan(future::multisession, workers = opt$workers)
    invisible(future.apply::future_lapply(todo_list, run_cell, future.seed = TRUE, future.scheduling = Inf,
                                          future.packages = "deepmnar"))
    future::plan(future::sequential)
  } else {
    invisible(lapply(todo_list, run_cell))
  }
}

# ---------------------------------------------------------------------------
# The tables: bench/uci_report.R
source(file.path("bench", "uci_report.R"), local = TRUE)

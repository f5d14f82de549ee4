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
#   --methods=M      among mean,median,mice_norm,mice_pmm,missforest,notmiwae
#                    (mean,mice_norm,mice_pmm,missforest,notmiwae)
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
all_methods <- c("mean", "median", "mice_norm", "mice_pmm", "missforest", "notmiwae", "gnr", "not2miwae", "psmvae")
deep_methods <- c("notmiwae", "gnr", "not2miwae", "psmvae")
defaults <- list(iterations = "100000", L = "10000", floor = "1e-4", seeds = "1:5", probs = "1,0.8,0.2",
                 gnrIterations = "10000", gnrBatch = "128", gnrAlpha = "1", gnrL = "1000",
                 twoIterations = "100000", twoKeta = "20", twoL = "1000",
                 psIterations = "10000", psBatch = "64", psVariant = "a", psPi = "0.5", psSets = "2", psL = "1000",
                 datasets = paste(all_datasets, collapse = ","),
                 methods = "mean,mice_norm,mice_pmm,missforest,notmiwae", workers = "1", threads = "",
                 out = file.path("bench", "results"))

parse_args <- function(args) {
  opt <- defaults
  opt$fresh <- FALSE
  opt$report <- FALSE
  i <- 1L
  while (i <= length(args)) {
    a <- args[i]
    if (a == "--fresh") {
      opt$fresh <- TRUE
    } else if (a == "--report") {
      opt$report <- TRUE
    } else if (a %in% c("--help", "-h")) {
      cat(grep("^#", readLines("bench/uci.R", n = 50), value = TRUE), sep = "\n")
      quit(status = 0)
    } else if (grepl("^--[A-Za-z]+=", a)) {
      name <- sub("^--([A-Za-z]+)=.*$", "\\1", a)
      if (!name %in% names(defaults)) stop("unknown option --", name, call. = FALSE)
      opt[[name]] <- sub("^--[A-Za-z]+=", "", a)
    } else if (grepl("^--[A-Za-z]+$", a) && sub("^--", "", a) %in% names(defaults) && i < length(args)) {
      opt[[sub("^--", "", a)]] <- args[i + 1L]
      i <- i + 1L
    } else {
      stop("unknown option ", a, call. = FALSE)
    }
    i <- i + 1L
  }
  opt
}

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

raw <- parse_args(commandArgs(trailingOnly = TRUE))
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
  gnr_alpha = parse_numbers(raw$gnrAlpha, "gnrAlpha")[1],
  gnr_L = as.integer(parse_numbers(raw$gnrL, "gnrL"))[1],
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
       sigma_floor = opt$floor, threads = opt$threads)
}
# GNR and not-2-MIWAE also predict the mask (mask_L) for the mask accuracy.
gnr_args <- function() {
  list(alpha = opt$gnr_alpha, hidden = c(128, 128), K = 20, batch_size = opt$gnr_batch, lr = 1e-3,
       iterations = opt$gnr_iterations, L = opt$gnr_L, mask_L = opt$gnr_L, threads = opt$threads)
}
psmvae_args <- function() {
  list(k = opt$ps_sets, variant = opt$ps_variant, pi_prime = opt$ps_pi, hidden = c(128, 128), K = 1,
       batch_size = opt$ps_batch, lr = 1e-3, iterations = opt$ps_iterations, L = opt$ps_L, mask_L = opt$ps_L,
       threads = opt$threads)
}
not2miwae_args <- function() {
  list(K = 20, K2 = opt$two_K2, hidden = c(128, 128), batch_size = 16, lr = 1e-3, iterations = opt$two_iterations,
       L = opt$two_L, mask_L = opt$two_L, threads = opt$threads)
}
method_settings <- function(method) {
  switch(method,
         notmiwae = list(iterations = opt$iterations, L = opt$L,
                         key = sprintf("_it%d_L%d%s", opt$iterations, opt$L,
                                       if (opt$floor == 1e-4) "" else sprintf("_floor%s", format(opt$floor)))),
         gnr = list(iterations = opt$gnr_iterations, L = opt$gnr_L,
                    key = sprintf("_it%d_b%d_a%s_L%d", opt$gnr_iterations, opt$gnr_batch, format(opt$gnr_alpha),
                                  opt$gnr_L)),
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
                     notmiwae = "not-MIWAE", gnr = "GNR", not2miwae = "not-2-MIWAE", psmvae = "PSMVAE")
method_labels <- c(mean = "mean", median = "median", mice_norm = "mice norm", mice_pmm = "mice pmm",
                   missforest = "missForest", notmiwae = "not-MIWAE (deepmnar)", gnr = "GNR (deepmnar)",
                   not2miwae = "not-2-MIWAE (deepmnar)", psmvae = "PSMVAE (deepmnar)")

# ---------------------------------------------------------------------------
# Cells of the grid and their cache files
cells <- expand.grid(method = opt$methods, seed = opt$seeds, prob = opt$probs, dataset = opt$datasets,
                     stringsAsFactors = FALSE)[, c("dataset", "prob", "seed", "method")]
cache_file <- function(dataset, prob, seed, method) {
  extra <- method_settings(method)$key
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
cost <- c(not2miwae = 6, gnr = 4, psmvae = 4, notmiwae = 4, missforest = 3, mice_norm = 2, mice_pmm = 2, median = 1, mean = 1)[todo$method] *
  vapply(uci_data[todo$dataset], function(x) prod(dim(x)), numeric(1))
todo <- todo[order(-cost), , drop = FALSE]

cat(sprintf("UCI benchmark: %d cells (%d cached, %d to run); not-MIWAE: %d iterations, L = %d; workers: %d\n",
            nrow(cells), nrow(cells) - nrow(todo), nrow(todo), opt$iterations, opt$L, opt$workers))

run_cell <- function(cell) {
  args <- switch(cell$method, notmiwae = list(notmiwae = notmiwae_args()), gnr = list(gnr = gnr_args()),
                 not2miwae = list(not2miwae = not2miwae_args()), psmvae = list(psmvae = psmvae_args()), list())
  res <- compare_imputers(uci_data[[cell$dataset]], mechanism = "self_mask_mean", methods = cell$method,
                          seeds = cell$seed, dataset = cell$dataset,
                          mechanism_args = list(prob = cell$prob), method_args = args,
                          metrics = list(rmse = imputation_rmse, mae = imputation_mae,
                                         mask_accuracy = mask_accuracy_metric))
  row <- as.data.frame(res)
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
# Assemble results of the requested grid
read_cell <- function(f) {
  r <- readRDS(f)
  if (is.null(r$mask_accuracy)) r$mask_accuracy <- NA_real_   # cached before the metric existed
  r
}
if (!nrow(cells)) {
  stop("no cached cell in ", cache_dir, " for this grid: run without --report first", call. = FALSE)
}
results <- do.call(rbind, lapply(cells$file, read_cell))
results <- results[, c("dataset", "prob", "mechanism", "method", "seed", "rmse", "mae", "mask_accuracy", "seconds",
                       "error", "iterations", "L", "build")]
results$rmse <- round(results$rmse, 6)
results$mae <- round(results$mae, 6)
results$seconds <- round(results$seconds, 3)
csv_file <- file.path(opt$out, "uci.csv")
md_file <- file.path(opt$out, "uci.md")
utils::write.csv(results, csv_file, row.names = FALSE)
dir.create(file.path("inst", "extdata"), showWarnings = FALSE, recursive = TRUE)
utils::write.csv(results, file.path("inst", "extdata", "uci.csv"), row.names = FALSE)

ok <- is.na(results$error)
agg <- do.call(rbind, lapply(split(results, list(results$dataset, results$prob, results$method), drop = TRUE),
                             function(r) {
  good <- r$rmse[is.na(r$error)]
  data.frame(dataset = r$dataset[1], prob = r$prob[1], method = r$method[1], n = length(good),
             failed = sum(!is.na(r$error)), mean = if (length(good)) mean(good) else NA_real_,
             sd = if (length(good) > 1) stats::sd(good) else NA_real_, seconds = mean(r$seconds[is.na(r$error)]),
             stringsAsFactors = FALSE)
}))
ours <- function(d, p, m) agg[agg$dataset == d & agg$prob == p & agg$method == m, , drop = FALSE]
pub <- function(d, p, m) {
  v <- published$rmse[published$dataset == d & published$prob == p & published$method == m]
  if (length(v)) v[1] else NA_real_
}
fmt_mean_sd <- function(a) ifelse(is.na(a$sd), sprintf("%.2f", a$mean), sprintf("%.2f ± %.2f", a$mean, a$sd))
fmt_ours <- function(a) {
  if (!nrow(a)) return("")
  if (a$n == 0) return(sprintf("failed (%d)", a$failed))
  s <- fmt_mean_sd(a)
  if (a$failed > 0) s <- sprintf("%s (%d failed)", s, a$failed)
  if (a$n < length(opt$seeds)) s <- sprintf("%s [%d seed%s]", s, a$n, if (a$n == 1) "" else "s")
  s
}
fmt_pub <- function(v) if (is.na(v)) "" else sprintf("%.2f", v)

md <- c(
  "# UCI benchmark: not-MIWAE protocol, deepmnar against mice and missForest",
  "",
  sprintf("Generated by `Rscript bench/uci.R` on %s (R %s; deepmnar %s).", format(Sys.time(), "%Y-%m-%d %H:%M"),
          getRversion(), build_stamp),
  "",
  sprintf(paste0("Protocol: label dropped; the first floor(p/2) columns missing where above the complete-data ",
                 "column mean, each with probability %s; RMSE over the missing cells on the complete-data ",
                 "standardised scale; mean ± sd over seeds %s. not-MIWAE (`selfmask_known`): 2 x 128 tanh, ",
                 "latent p - 1, K 20, batch 16, lr 1e-3, **%d iterations** (paper: 100000), imputation L = %d ",
                 "(paper: 10000). mice: m = 5, averaged (norm: Bayesian linear regression; pmm: mice's default). ",
                 "missForest: defaults."),
          paste(sort(opt$probs, decreasing = TRUE), collapse = ", "), paste(opt$seeds, collapse = ", "),
          opt$iterations, opt$L),
  "",
  "Cells read \"ours (published)\". Published: GNR paper Table 2 for banknote, yeast, red and white wine; for breast",
  "the not-2-MIWAE report Table 3 (probability 1 only; its not-MIWAE figure is the self-masking model). The",
  "published MICE (scikit-learn IterativeImputer) is shown next to mice norm. Published numbers are over 5 runs."
)
if (length(unique(results$build)) > 1) {
  md <- c(md, "", sprintf("**Note:** the cached results come from %d different builds of the package: %s.",
                          length(unique(results$build)), paste(unique(results$build), collapse = "; ")))
}
show_methods <- intersect(all_methods, opt$methods)
for (p in sort(opt$probs, decreasing = TRUE)) {
  header <- c("dataset", method_labels[show_methods], "GNR (published)", "PSMVAE (published)",
              "MIWAE (published)")
  md <- c(md, "", sprintf("## Probability %s", format(p)), "",
          paste0("| ", paste(header, collapse = " | "), " |"),
          paste0("|", paste(rep("---", length(header)), collapse = "|"), "|"))
  for (d in opt$datasets) {
    cells_txt <- vapply(show_methods, function(m) {
      o <- fmt_ours(ours(d, p, m))
      pm <- if (m %in% names(published_match)) pub(d, p, published_match[[m]]) else NA_real_
      if (is.na(pm)) o else sprintf("%s (%s)", o, fmt_pub(pm))
    }, character(1))
    md <- c(md, paste0("| ", paste(c(labels[[d]], cells_txt,
                                     if ("gnr" %in% show_methods) "see GNR column" else fmt_pub(pub(d, p, "GNR")),
                                     fmt_pub(pub(d, p, "PSMVAE")),
                                     fmt_pub(pub(d, p, "MIWAE"))), collapse = " | "), " |"))
  }
  secs <- vapply(show_methods, function(m) {
    a <- agg[agg$prob == p & agg$method == m, ]
    if (nrow(a)) sprintf("%.1f", mean(a$seconds, na.rm = TRUE)) else ""
  }, character(1))
  md <- c(md, paste0("| mean seconds per run | ", paste(secs, collapse = " | "), " | | | |"))
}

# Cached runs of one method under other values of one setting (same
# iterations and L; the grid's seeds, probabilities and datasets), one row
# per run. `pattern` captures the value in the file name.
setting_runs <- function(pattern) {
  files <- list.files(cache_dir, pattern = pattern, full.names = TRUE)
  rows <- do.call(rbind, lapply(files, function(f) {
    r <- read_cell(f)
    r$value <- sub(paste0(".*", pattern), "\\1", basename(f))
    r[, c("dataset", "prob", "seed", "rmse", "mask_accuracy", "error", "value")]
  }))
  if (is.null(rows)) return(NULL)
  rows[rows$seed %in% opt$seeds & rows$prob %in% opt$probs & rows$dataset %in% opt$datasets &
         is.na(rows$error), , drop = FALSE]
}
# Mean and sd by dataset, probability and value.
summarise_runs <- function(rows) {
  if (is.null(rows) || !nrow(rows)) return(NULL)
  do.call(rbind, lapply(split(rows, list(rows$dataset, rows$prob, rows$value), drop = TRUE), function(r) {
    data.frame(dataset = r$dataset[1], prob = r$prob[1], value = r$value[1], n = nrow(r), mean = mean(r$rmse),
               sd = if (nrow(r) > 1) stats::sd(r$rmse) else NA_real_, mask = mean(r$mask_accuracy),
               seeds = paste(sort(r$seed), collapse = ","))
  }))
}

# not-MIWAE runs with another sigma_floor: their own section, and candidates
# for deepmnar's best configuration in the bar below.
floor_agg <- summarise_runs(setting_runs(sprintf("_notmiwae_it%d_L%d_floor(.+)\\.rds$", opt$iterations, opt$L)))
if (!is.null(floor_agg)) {
  md <- c(md, "", "## not-MIWAE with a larger sigma_floor", "",
          paste0("Same protocol, the decoder's scale floor raised (package default 1e-4). Columns that are almost ",
                 "constant (yeast's erl and pox: one value in 99% of the rows) let the scale collapse and draw ",
                 "training towards them."), "",
          "| dataset | prob | sigma_floor | seeds | RMSE | published not-MIWAE |", "|---|---|---|---|---|---|",
          sprintf("| %s | %s | %s | %d | %s | %s |", labels[floor_agg$dataset], as.character(floor_agg$prob),
                  as.character(floor_agg$value), floor_agg$n, fmt_mean_sd(floor_agg),
                  vapply(seq_len(nrow(floor_agg)), function(i) fmt_pub(pub(floor_agg$dataset[i], floor_agg$prob[i],
                                                                              "not-MIWAE")), character(1))))
}

# The bar of issue 3 (probability 1): deepmnar's not-MIWAE at or below the
# published not-MIWAE on each dataset (compared at the published two
# decimals), and strictly below both mice variants and missForest on
# banknote, yeast, red and white wine.
if (1 %in% opt$probs && "notmiwae" %in% opt$methods) {
  yes_no <- function(x) if (is.na(x)) "not run" else if (x) "yes" else "**no**"
  md <- c(md, "", "## Bar of issue 3 (probability 1)", "",
          paste0("deepmnar's not-MIWAE at or below the published not-MIWAE (at two decimals) on each dataset, and ",
                 "below mice (both variants) and missForest on banknote, yeast, red and white wine."), "",
          "| dataset | deepmnar not-MIWAE (best configuration) | published not-MIWAE | at or below? | best mice | missForest | below mice and missForest? | bar met? |",
          "|---|---|---|---|---|---|---|---|")
  for (d in opt$datasets) {
    nm <- ours(d, 1, "notmiwae")
    nm_mean <- if (nrow(nm) && nm$n > 0) nm$mean else NA_real_
    # deepmnar's best configuration: the default or a sigma_floor variant
    variants <- if (is.null(floor_agg)) numeric(0) else floor_agg$mean[floor_agg$dataset == d & floor_agg$prob == 1]
    nm_mean <- suppressWarnings(min(c(nm_mean, variants), na.rm = TRUE))
    if (!is.finite(nm_mean)) nm_mean <- NA_real_
    pub_nm <- pub(d, 1, "not-MIWAE")
    vs_pub <- if (is.na(nm_mean) || is.na(pub_nm)) NA else round(nm_mean, 2) <= pub_nm
    mice_means <- unlist(lapply(c("mice_norm", "mice_pmm"), function(m) {
      a <- ours(d, 1, m)
      if (nrow(a) && a$n > 0) a$mean else NA_real_
    }))
    best_mice <- if (all(is.na(mice_means))) NA_real_ else min(mice_means, na.rm = TRUE)
    mf <- ours(d, 1, "missforest")
    mf_mean <- if (nrow(mf) && mf$n > 0) mf$mean else NA_real_
    needs_baselines <- d != "wdbc"
    vs_base <- if (!needs_baselines) NA else if (is.na(nm_mean) || anyNA(c(best_mice, mf_mean))) NA else
      nm_mean < best_mice && nm_mean < mf_mean
    met <- if (is.na(vs_pub) || (needs_baselines && is.na(vs_base))) NA else vs_pub && (!needs_baselines || vs_base)
    fmt_num <- function(v) if (is.na(v)) "" else sprintf("%.3f", v)
    md <- c(md, sprintf("| %s | %s | %s | %s | %s | %s | %s | %s |", labels[[d]], fmt_num(nm_mean), fmt_pub(pub_nm),
                        yes_no(vs_pub), fmt_num(best_mice), fmt_num(mf_mean),
                        if (needs_baselines) yes_no(vs_base) else "not required", yes_no(met)))
  }
}
# GNR and not-2-MIWAE: settings, mask accuracy next to GNR's Table 3, and the
# bars of issue 4.
if (any(c("gnr", "not2miwae") %in% opt$methods)) {
  mask_mean <- function(d, p, m) {
    v <- results$mask_accuracy[results$dataset == d & results$prob == p & results$method == m & ok]
    if (length(v) && any(!is.na(v))) mean(v, na.rm = TRUE) else NA_real_
  }
  pub_mask <- function(d, p) {
    v <- published_mask$accuracy[published_mask$dataset == d & published_mask$prob == p]
    if (length(v)) v[1] else NA_real_
  }
  md <- c(md, "", "## GNR and not-2-MIWAE", "",
          sprintf(paste0("GNR: alpha %s, 2 x 128 tanh (separate data and mask decoders), latent p - 1, K 20, ",
                         "batch %d, lr 1e-3, **%d iterations**, L = %d. not-2-MIWAE: K 20, K2 %d, eta p - 1, ",
                         "2 x 128 tanh, batch 16, **%d iterations**, L = %d. Mask accuracy: `predict_mask()` ",
                         "scored by `mask_accuracy()` on the columns with missing values."),
                  format(opt$gnr_alpha), opt$gnr_batch, opt$gnr_iterations, opt$gnr_L, opt$two_K2,
                  opt$two_iterations, opt$two_L), "",
          "| dataset | prob | GNR RMSE (published) | GNR mask accuracy (published) | not-2-MIWAE RMSE (published) | not-2-MIWAE mask accuracy | bars met? |",
          "|---|---|---|---|---|---|---|")
  for (p in sort(opt$probs, decreasing = TRUE)) for (d in opt$datasets) {
    g <- ours(d, p, "gnr")
    n2 <- ours(d, p, "not2miwae")
    g_mean <- if (nrow(g) && g$n > 0) g$mean else NA_real_
    n2_mean <- if (nrow(n2) && n2$n > 0) n2$mean else NA_real_
    g_mask <- mask_mean(d, p, "gnr")
    checks <- c(
      if ("gnr" %in% opt$methods && !is.na(pub(d, p, "GNR"))) !is.na(g_mean) && round(g_mean, 2) <= pub(d, p, "GNR"),
      if ("gnr" %in% opt$methods && !is.na(pub_mask(d, p))) !is.na(g_mask) && round(g_mask, 3) >= pub_mask(d, p),
      if ("not2miwae" %in% opt$methods && !is.na(pub(d, p, "not-2-MIWAE")))
        !is.na(n2_mean) && round(n2_mean, 2) <= pub(d, p, "not-2-MIWAE"))
    with_pub <- function(txt, v) if (is.na(v)) txt else sprintf("%s (%s)", txt, fmt_pub(v))
    fmt_pct <- function(v) if (is.na(v)) "" else sprintf("%.1f%%", 100 * v)
    md <- c(md, sprintf("| %s | %s | %s | %s | %s | %s | %s |", labels[[d]], format(p),
                        with_pub(fmt_ours(g), pub(d, p, "GNR")),
                        if (is.na(pub_mask(d, p))) fmt_pct(g_mask) else sprintf("%s (%s)", fmt_pct(g_mask), fmt_pct(pub_mask(d, p))),
                        with_pub(fmt_ours(n2), pub(d, p, "not-2-MIWAE")), fmt_pct(mask_mean(d, p, "not2miwae")),
                        if (!length(checks)) "no published bar" else if (all(checks)) "yes" else "**no**"))
  }
}
# GNR under other settings: every (iterations, batch, alpha) in the cache
# with the grid's L, for the (dataset, probability) cells that have more than
# one, compared on the seeds that every setting of the cell has run.
gnr_settings <- NULL
gnr_runs <- if ("gnr" %in% opt$methods) setting_runs(sprintf("_gnr_it([0-9]+_b[0-9]+_a.+)_L%d\\.rds$", opt$gnr_L))
if (!is.null(gnr_runs) && nrow(gnr_runs)) {
  cell_key <- paste(gnr_runs$dataset, gnr_runs$prob)
  common <- unlist(lapply(split(seq_len(nrow(gnr_runs)), cell_key), function(i) {
    r <- gnr_runs[i, , drop = FALSE]
    if (length(unique(r$value)) < 2) return(integer(0))
    shared <- Reduce(intersect, split(r$seed, r$value))
    i[r$seed %in% shared]
  }))
  gnr_settings <- summarise_runs(gnr_runs[sort(common), , drop = FALSE])
}
if (!is.null(gnr_settings) && nrow(gnr_settings)) {
  gnr_settings <- cbind(gnr_settings, utils::strcapture(
    "^([0-9]+)_b([0-9]+)_a(.+)$", gnr_settings$value,
    proto = data.frame(iterations = numeric(), batch = numeric(), alpha = numeric())))
  gnr_settings <- gnr_settings[order(gnr_settings$dataset, -gnr_settings$prob, gnr_settings$iterations,
                                     gnr_settings$alpha), , drop = FALSE]
  md <- c(md, "", "## GNR: alpha and training length", "",
          paste0("The weight of the mask term (the paper's grid {0.01, 1, 100}; 0.01 is close to MIWAE) and the ",
                 "training length; other settings as above. Each cell compares its settings on the seeds they ",
                 "share."), "",
          "| dataset | prob | iterations | batch | alpha | seeds | RMSE | mask accuracy | published GNR |",
          "|---|---|---|---|---|---|---|---|---|",
          sprintf("| %s | %s | %s | %s | %s | %s | %s | %.1f%% | %s |", labels[gnr_settings$dataset],
                  as.character(gnr_settings$prob), formatC(gnr_settings$iterations, format = "d", big.mark = ","),
                  as.character(gnr_settings$batch), as.character(gnr_settings$alpha), gnr_settings$seeds,
                  fmt_mean_sd(gnr_settings), 100 * gnr_settings$mask,
                  vapply(seq_len(nrow(gnr_settings)), function(i) {
                    fmt_pub(pub(gnr_settings$dataset[i], gnr_settings$prob[i], "GNR"))
                  }, character(1))))
}
# PSMVAE: settings and the bar of issue 5 (the PSMVAE column of GNR Table 2).
if ("psmvae" %in% opt$methods) {
  md <- c(md, "", "## PSMVAE", "",
          sprintf(paste0("PSMVAE: variant %s, k = %d pattern sets, pi' = %s, 2 x 128 tanh, latent p - 1, K 1 (the ",
                         "ELBO), batch %d, lr 1e-3, **%d iterations**, L = %d. Published: the PSMVAE column of GNR ",
                         "Table 2, measured in this protocol (the PSMVAE paper's own RMSE table uses min-max ",
                         "normalised, rounded data and is not comparable)."),
                  opt$ps_variant, opt$ps_sets, format(opt$ps_pi), opt$ps_batch, opt$ps_iterations, opt$ps_L), "",
          "| dataset | prob | seeds | PSMVAE RMSE (published) | mask accuracy | at or below published? |",
          "|---|---|---|---|---|---|")
  for (p in sort(opt$probs, decreasing = TRUE)) for (d in opt$datasets) {
    a <- ours(d, p, "psmvae")
    a_mean <- if (nrow(a) && a$n > 0) a$mean else NA_real_
    pb <- pub(d, p, "PSMVAE")
    v <- results$mask_accuracy[results$dataset == d & results$prob == p & results$method == "psmvae" & ok]
    md <- c(md, sprintf("| %s | %s | %d | %s%s | %s | %s |", labels[[d]], format(p), if (nrow(a)) a$n else 0L,
                        fmt_ours(a), if (is.na(pb)) "" else sprintf(" (%s)", fmt_pub(pb)),
                        if (length(v) && any(!is.na(v))) sprintf("%.1f%%", 100 * mean(v, na.rm = TRUE)) else "",
                        if (is.na(pb)) "no published bar" else if (is.na(a_mean)) "not run"
                        else if (round(a_mean, 2) <= pb) "yes" else "**no**"))
  }
}
if (nrow(not_run)) {
  md <- c(md, "", "## Cells not run yet", "",
          sprintf("%d cells of the requested grid have no result yet; by method and probability:", nrow(not_run)),
          "", "| method | prob | cells | datasets |", "|---|---|---|---|")
  key <- paste(not_run$method, not_run$prob)
  for (r in split(not_run, factor(key, levels = unique(key)))) {
    md <- c(md, sprintf("| %s | %s | %d | %s |", r$method[1], format(r$prob[1]), nrow(r),
                        paste(unique(labels[r$dataset]), collapse = ", ")))
  }
}
if (any(!ok)) {
  errs <- unique(results[!ok, c("dataset", "prob", "method", "error")])
  md <- c(md, "", "## Failed runs", "", "| dataset | prob | method | error |", "|---|---|---|---|",
          sprintf("| %s | %s | %s | %s |", errs$dataset, format(errs$prob), errs$method,
                  gsub("[|\n]", " ", errs$error)))
}
writeLines(md, md_file)
cat(md, sep = "\n")
cat(sprintf("\nwrote %s, %s and inst/extdata/uci.csv\n", md_file, csv_file))

# Summed factor cells (issue 33, item 1): conditional means under not-MIWAE's
# separable mask models (each column's mask logit reads only its own value:
# the self-masking models, the quadratic self-mask, and MAR's columns that no
# other logit reads) sum each missing factor or binary cell over its levels,
# and integrate each Gaussian cell, instead of drawing them; this now holds in
# tables with factor columns too (before, any factor column made every cell
# of the table draw). Measured against the draws
# (options(deepmnar.marginal_mask = FALSE)) on two real mixed tables that no
# default was chosen on, 5,000 rows sampled per seed: diamonds and cps1988
# (load_large_table() in bench/datasets.R gives their provenance).
# Mechanism, self-masking on every kind of column: each numeric column but
# the last missing above its mean with probability 0.6; each factor missing
# with probability 0.5 when its level is in the upper half of its levels.
# Fits: missing_model = "selfmask_quadratic" and "mar", otherwise defaults,
# one thread; then impute() at its default tolerance (0.05), drawn and
# summed, one thread. RMSE on the numeric cells, PFC on the factor cells.
#
#   Rscript bench/marginal_levels.R [--seeds=1:2] [--datasets=diamonds,cps1988] [--models=...]
#   Rscript bench/marginal_levels.R --report
# Cached per cell in bench/results/cache/marginal_levels/; writes
# bench/results/marginal_levels.md and .csv.

suppressPackageStartupMessages(library(deepmnar))
source(file.path("bench", "datasets.R"))

opt <- command_options(list(seeds = "1:2", datasets = "diamonds,cps1988", models = "selfmask_quadratic,mar"),
                       flags = "report")
seeds <- eval(parse(text = opt$seeds))
cache_dir <- file.path("bench", "results", "cache", "marginal_levels")
dir.create(cache_dir, recursive = TRUE, showWarnings = FALSE)

amputed_sample <- function(name, seed, rows = 5000) {
  set.seed(seed)
  full <- load_large_table(name)
  truth <- full[sample.int(nrow(full), rows), ]
  rownames(truth) <- NULL
  data <- truth
  numeric <- names(truth)[vapply(truth, is.numeric, TRUE)]
  for (j in head(numeric, -1)) data[[j]][truth[[j]] > mean(truth[[j]]) & stats::runif(rows) < 0.6] <- NA
  for (j in names(truth)[vapply(truth, is.factor, TRUE)]) {
    upper <- as.integer(truth[[j]]) > nlevels(truth[[j]]) / 2
    data[[j]][upper & stats::runif(rows) < 0.5] <- NA
  }
  list(truth = truth, data = data)
}

run_cell <- function(name, model, seed) {
  file <- file.path(cache_dir, sprintf("%s_%s_s%d.rds", name, model, seed))
  if (file.exists(file)) return(readRDS(file))
  d <- amputed_sample(name, seed)
  fit_started <- proc.time()[["elapsed"]]
  fit <- suppressWarnings(notmiwae(d$data, missing_model = model, seed = seed, threads = 1, progress = FALSE))
  fit_seconds <- proc.time()[["elapsed"]] - fit_started
  mask <- is.na(d$data)
  rows <- lapply(c(FALSE, TRUE), function(summed) {
    options(deepmnar.marginal_mask = summed)
    on.exit(options(deepmnar.marginal_mask = NULL))
    started <- proc.time()[["elapsed"]]
    imp <- suppressWarnings(impute(fit, seed = seed, threads = 1, progress = FALSE, diagnostics = TRUE))
    data.frame(dataset = name, model = model, seed = seed, summed = summed, fit_seconds = fit_seconds,
               seconds = proc.time()[["elapsed"]] - started,
               rmse = imputation_rmse(d$truth, imp, mask), pfc = imputation_pfc(d$truth, imp, mask),
               samples = mean(attr(imp, "samples"), na.rm = TRUE), ess = stats::median(attr(imp, "ess"), na.rm = TRUE),
               missing_numeric = sum(mask[, vapply(d$truth, is.numeric, TRUE)]),
               missing_factor = sum(mask[, vapply(d$truth, is.factor, TRUE)]),
               commit = tryCatch(system("git rev-parse --short HEAD", intern = TRUE), error = function(e) NA_character_))
  })
  out <- do.call(rbind, rows)
  saveRDS(out, file)
  message(sprintf("[%s] %s %s seed %d: impute %.1f s drawn, %.1f s summed", format(Sys.time(), "%H:%M:%S"), name,
                  model, seed, out$seconds[1], out$seconds[2]))
  out
}

if (!opt$report) {
  for (name in strsplit(opt$datasets, ",")[[1]]) for (model in strsplit(opt$models, ",")[[1]]) for (seed in seeds)
    run_cell(name, model, seed)
}

files <- list.files(cache_dir, pattern = "\\.rds$", full.names = TRUE)
rows <- do.call(rbind, lapply(files, readRDS))
utils::write.csv(rows, file.path("bench", "results", "marginal_levels.csv"), row.names = FALSE)
spread <- function(v, f) if (length(v) > 1) sprintf(paste0(f, " ± ", f), mean(v), stats::sd(v)) else sprintf(f, v)
lines <- c("# Summed factor cells: conditional means under separable mask models", "",
           sprintf("Written by `Rscript bench/marginal_levels.R` on %s; see the script's header for the data, the", format(Sys.time(), "%Y-%m-%d %H:%M")),
           "mechanism and the fits. Mean ± sd over seeds (n); one thread; seconds of `impute()` alone at its default",
           "tolerance; \"drawn\": every missing cell drawn (`options(deepmnar.marginal_mask = FALSE)`), \"summed\": factor and",
           "binary cells summed over their levels and Gaussian cells integrated (the default). Speed-up: ratio of the",
           "mean seconds of the two, measured in the same process on the same fit.", "",
           "| dataset | mask model | seeds | missing numeric / factor cells | fit s | impute s drawn | summed | speed-up | samples / row drawn | summed | RMSE drawn | summed | PFC drawn | summed |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for (key in unique(paste(rows$dataset, rows$model))) {
  r <- rows[paste(rows$dataset, rows$model) == key, ]
  a <- r[!r$summed, ]
  b <- r[r$summed, ]
  lines <- c(lines, sprintf("| %s | %s | %d | %.0f / %.0f | %.0f | %s | %s | %.2fx | %.0f | %.0f | %s | %s | %s | %s |",
                            r$dataset[1], r$model[1], nrow(a), mean(a$missing_numeric), mean(a$missing_factor),
                            mean(a$fit_seconds), spread(a$seconds, "%.1f"), spread(b$seconds, "%.1f"),
                            mean(a$seconds) / mean(b$seconds), mean(a$samples), mean(b$samples),
                            spread(a$rmse, "%.4f"), spread(b$rmse, "%.4f"), spread(a$pfc, "%.4f"), spread(b$pfc, "%.4f")))
}
writeLines(lines, file.path("bench", "results", "marginal_levels.md"))
cat("wrote bench/results/marginal_levels.md\n")

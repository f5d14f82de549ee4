# Do deepmnar's defaults hold on data nobody tuned them for? The not-MIWAE
# UCI protocol (first floor(p / 2) columns missing where above their
# complete-data mean, with probability `prob`; RMSE over the missing cells on
# the complete-data standardised scale) on real datasets from CRAN packages
# that were never used to choose a default. Every deepmnar model runs with its
# defaults only (no argument but the seed and one thread); the baselines are
# mean imputation, mice (pmm and norm, m = 5, averaged) and missForest.
#
# The datasets (numeric columns only, in their original order; label or
# factor columns dropped as in the not-MIWAE protocol):
#   boston      MASS::Boston, 506 x 13 (medv, the response, dropped): zn is
#               73% zeros, crim and black strongly skewed, chas 0/1.
#   pima        mlbench::PimaIndiansDiabetes, 768 x 8 (diabetes dropped):
#               integer-valued, insulin and triceps 49% / 30% zeros.
#   glass       mlbench::Glass, 214 x 9 (Type dropped): Ba, Fe and K point
#               masses at zero (82%, 67%, 14%), compositions that sum to ~100.
#   quakes      datasets::quakes, 1000 x 5: mag recorded to 0.1, stations a
#               count.
#   creditcard  AER::CreditCard, 1319 x 9 (card, owner, selfemp dropped):
#               reports 80% zeros, expenditure 23% zeros, income and share
#               skewed, dependents / majorcards / active counts.
#   diamonds    ggplot2::diamonds, a fixed random 20,000 of its 53,940 rows
#               (set.seed(20261202)), 7 numeric columns (cut, color, clarity
#               dropped): carat, x, y, z correlated above 0.95, price skewed.
#
# Run from the package root, with the package installed:
#   Rscript bench/generalisation.R --methods=mean,mice_pmm,mice_norm,missforest
#   Rscript bench/generalisation.R --methods=notmiwae --datasets=boston,pima
#   Rscript bench/generalisation.R --report
# Options: --datasets, --methods, --probs (1,0.8,0.2), --seeds (1:3),
# --fresh (ignore cached cells), --report (tables from the cache only).
# Every cell (dataset, prob, seed, method) is cached under
# bench/results/cache/generalisation/ as soon as it is done, so runs resume
# and two processes with disjoint --methods or --datasets use both cores.

suppressPackageStartupMessages(library(deepmnar))
source(file.path("bench", "grid.R"))

source(file.path("bench", "datasets.R"))
models <- c("notmiwae", "notmiwae_log", "miwae", "gnr", "not2miwae", "psmvae", "psmvae_a")
baselines <- c("mean", "mice_pmm", "mice_norm", "missforest")

# A deepmnar model with its defaults: only the seed, one thread (two
# processes share the two cores) and no progress bar are set.
method_args <- function(method) {
  one <- list(threads = 1L)
  switch(method, notmiwae = list(notmiwae = one), gnr = list(gnr = one), not2miwae = list(not2miwae = one),
         psmvae = list(psmvae = one), miwae = list(notmiwae = c(one, list(missing_model = "none"))),
         psmvae_a = list(psmvae = c(one, list(variant = "a"))),
         notmiwae_log = list(notmiwae = c(one, list(transform = "auto"))), list())
}
method_name <- function(method) switch(method, miwae = "notmiwae", psmvae_a = "psmvae", notmiwae_log = "notmiwae", method)

cache_dir <- file.path("bench", "results", "cache", "generalisation")

run_cell <- function(x, dataset, prob, seed, method, file) {
  res <- compare_imputers(x, mechanism = "self_mask_mean", methods = method_name(method), seeds = seed,
                          dataset = dataset, mechanism_args = list(prob = prob), method_args = method_args(method))
  row <- as.data.frame(res)
  row$method <- method
  row$prob <- prob
  row$version <- as.character(utils::packageVersion("deepmnar"))
  save_cell(row, file)
  message(sprintf("[%s] %s prob %s seed %d %s: %s (%.1f s)", format(Sys.time(), "%H:%M:%S"), dataset, prob, seed,
                  method, if (is.na(row$error)) sprintf("RMSE %.3f", row$rmse) else paste("error:", row$error),
                  row$seconds))
}


write_report <- function(opt) {
  files <- list.files(cache_dir, pattern = "\\.rds$", full.names = TRUE)
  rows <- do.call(rbind, lapply(files, function(f) readRDS(f)[, c("dataset", "method", "prob", "seed", "rmse",
                                                                   "seconds", "error", "commit")]))
  failed <- unique(rows[!is.na(rows$error), c("dataset", "prob", "method", "error")])
  rows <- rows[is.na(rows$error), ]
  agg <- do.call(rbind, lapply(split(rows, list(rows$dataset, rows$prob, rows$method), drop = TRUE), function(r)
    data.frame(dataset = r$dataset[1], prob = r$prob[1], method = r$method[1], n = nrow(r), rmse = mean(r$rmse),
               sd = if (nrow(r) > 1) stats::sd(r$rmse) else NA_real_, seconds = stats::median(r$seconds))))
  utils::write.csv(rows[order(rows$dataset, rows$prob, rows$method, rows$seed), ],
                   file.path("bench", "results", "generalisation.csv"), row.names = FALSE)
  methods <- intersect(c(baselines, models), unique(agg$method))
  shown <- union(opt$datasets, intersect(bundled, unique(agg$dataset)))
  shape <- vapply(shown, function(d) paste(dim(load_dataset(d)), collapse = " x "), "")
  out <- c("# Generalisation: defaults on datasets nobody tuned them for", "",
           "Written by `Rscript bench/generalisation.R --report` from the cached cells; see the script's header",
           "for the datasets, their provenance and the protocol. RMSE over the missing cells on the complete-data",
           "standardised scale, mean ± sd over the seeds run; deepmnar models with their defaults only, one thread.",
           "Each cell keeps the result of the checkout that ran it: bench/results/generalisation.csv lists every run",
           "with its seed and commit. For the bundled datasets, mean / mice / missForest and the papers' settings",
           "are in bench/results/uci.md (5 seeds).", "")
  groups <- list(list(title = "", sets = intersect(opt$datasets, datasets_all)),
                 list(title = " (the papers' datasets, bundled: not a generalisation test)",
                      sets = intersect(bundled, unique(agg$dataset))))
  for (group in groups) for (prob in opt$probs) {
    if (!any(agg$dataset %in% group$sets & agg$prob == prob)) next
    out <- c(out, sprintf("## Probability %s%s", prob, group$title), "",
             paste0("| dataset | ", paste(methods, collapse = " | "), " |"),
             paste0("|---|", strrep("---|", length(methods))))
    for (d in group$sets) {
      cells <- vapply(methods, function(m) {
        a <- agg[agg$dataset == d & agg$prob == prob & agg$method == m, ]
        if (nrow(a)) fmt(a$rmse, a$sd) else ""
      }, "")
      out <- c(out, sprintf("| %s (%s) | %s |", d, shape[[d]], paste(cells, collapse = " | ")))
    }
    out <- c(out, "")
  }
  out <- c(out, seconds_table(rows, shown, methods), "", bar_lines(agg, intersect(opt$datasets, datasets_all), failed),
           failed_cells(failed))
  writeLines(out, file.path("bench", "results", "generalisation.md"))
  invisible(agg)
}

# The bars of issue 12 on the generalisation datasets: not-MIWAE below mice
# (both) and missForest at probability 1 on every dataset; at probability 0.2
# within 5% of missForest's RMSE on average (mean of the per-dataset ratios).
# A baseline that failed (an error, no RMSE) is reported as failed and left
# out of the comparison: it is neither beaten nor beating; the bar is judged
# on the baselines that ran, and says so.
bar_lines <- function(agg, sets, failed = NULL) {
  value <- function(d, p, m) {
    a <- agg$rmse[agg$dataset == d & agg$prob == p & agg$method == m]
    if (length(a)) a else NA_real_
  }
  has_failed <- function(d, p, m) !is.null(failed) && any(failed$dataset == d & failed$prob == p & failed$method == m)
  baseline_names <- c(mice_pmm = "mice pmm", mice_norm = "mice norm", missforest = "missForest")
  at1 <- vapply(sets, function(d) {
    ours <- value(d, 1, "notmiwae")
    if (is.na(ours)) return("not-MIWAE has no result")
    others <- vapply(names(baseline_names), function(m) value(d, 1, m), 0)
    state <- ifelse(!is.na(others), sprintf("%.3f", others),
                    ifelse(vapply(names(baseline_names), function(m) has_failed(d, 1, m), TRUE), "failed", "not run"))
    ran <- !is.na(others)
    verdict <- if (!any(ran)) "not compared (no baseline ran)" else if (all(ours < others[ran])) {
      if (all(ran)) "met" else paste0("met against ", paste(baseline_names[ran], collapse = " and "), " only")
    } else "NOT met"
    sprintf("%s (not-MIWAE %.3f; %s)", verdict, ours, paste(baseline_names, state, collapse = ", "))
  }, "")
  ratios <- vapply(sets, function(d) value(d, 0.2, "notmiwae") / value(d, 0.2, "missforest"), 0)
  c("## Bars (issue 12)", "",
    "Probability 1, not-MIWAE below mice and missForest on every dataset. A baseline that failed (e.g. mice",
    "leaving a column with one observed value unimputed) is reported as failed and not compared: the bar is",
    "judged only against the baselines that ran on that dataset.", "",
    sprintf("- %s: %s", sets, at1), "",
    sprintf("Probability 0.2, not-MIWAE / missForest RMSE, mean over %d datasets with both: %.3f (bar: at most 1.05); per dataset: %s",
            sum(!is.na(ratios)), mean(ratios, na.rm = TRUE),
            paste(sprintf("%s %.3f", sets, ratios), collapse = ", ")))
}

opt <- grid_options(commandArgs(trailingOnly = TRUE),
                    list(datasets = datasets_all, methods = c(baselines, models), probs = c(1, 0.8, 0.2), seeds = 1:3),
                    datasets = c(datasets_all, bundled), methods = c(baselines, models))
if (!opt$report) run_cached_grid(opt, cache_dir, load_dataset, run_cell)
write_report(opt)

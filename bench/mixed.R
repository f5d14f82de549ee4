# Mixed data: numeric, binary and categorical columns made missing not at
# random, imputed back to their own types. RMSE over the missing numeric
# cells (complete-data standardised scale) and the proportion of falsely
# classified missing factor cells (PFC, as missForest reports it), for
# deepmnar's models with their defaults against mean/mode imputation, mice
# (its default method per column type: pmm, logreg, polyreg, polr; m = 5,
# numeric cells averaged, factor cells by majority vote) and missForest.
#
# Mechanism: self-masking (ampute_mnar "self_mask_mean") on the first half
# (rounded up) of the numeric columns and the first half of the factor
# columns: a numeric value above its complete-data mean, or a factor's last
# level (TRUE for a logical), goes missing with probability `prob` (1: the
# not-MIWAE protocol; 0.5: the hidden category is still observed sometimes).
#
# The datasets (real, from CRAN packages; abalone and adult are kept out, as
# an independent check):
#   cps       AER::CPS1985, 534 x 11: wage, education, experience, age;
#             ethnicity (3 levels), region, gender, occupation (6), sector
#             (3), union, married.
#   penguins  palmerpenguins::penguins, complete rows, year dropped, 333 x 7:
#             species (3), island (3), bill length and depth, flipper length
#             and body mass (integers), sex.
#   salaries  carData::Salaries, 397 x 6: rank (3), discipline (2), years
#             since PhD and of service (integers), sex, salary (integer).
#   birthwt   MASS::birthwt, 189 x 9 (low, a cut of bwt, dropped): age, lwt,
#             ptl, ftv, bwt (integers); race as a factor (white, black,
#             other); smoke, ht, ui as logicals.
#
# Run from the package root, with the package installed:
#   Rscript bench/mixed.R --methods=mean,mice,missforest
#   Rscript bench/mixed.R --methods=notmiwae,miwae,gnr
#   Rscript bench/mixed.R --methods=psmvae
#   Rscript bench/mixed.R --report
# Options: --datasets, --methods, --probs (1,0.5), --seeds (1:3), --fresh,
# --report. Cells are cached in bench/results/cache/mixed/ as they finish.

suppressPackageStartupMessages(library(deepmnar))
source(file.path("bench", "grid.R"))

datasets_all <- c("cps", "penguins", "salaries", "birthwt")
models <- c("notmiwae", "miwae", "gnr", "not2miwae", "psmvae")
baselines <- c("mean", "mice", "missforest")

load_dataset <- function(name) {
  env <- new.env()
  x <- switch(name,
    cps = { utils::data("CPS1985", package = "AER", envir = env); env$CPS1985 },
    penguins = { p <- as.data.frame(palmerpenguins::penguins); p <- p[stats::complete.cases(p), ]
                 p[, setdiff(names(p), "year")] },
    salaries = { utils::data("Salaries", package = "carData", envir = env); env$Salaries },
    birthwt = { b <- MASS::birthwt
                data.frame(age = b$age, lwt = b$lwt, race = factor(b$race, 1:3, c("white", "black", "other")),
                           smoke = b$smoke == 1, ptl = b$ptl, ht = b$ht == 1, ui = b$ui == 1, ftv = b$ftv,
                           bwt = b$bwt) })
  rownames(x) <- NULL
  x
}

# The first half (rounded up) of the numeric and of the factor columns.
amputed_columns <- function(x) {
  discrete <- vapply(x, function(col) is.factor(col) || is.logical(col), logical(1))
  half <- function(cols) cols[seq_len(ceiling(length(cols) / 2))]
  c(half(names(x)[!discrete]), half(names(x)[discrete]))
}

method_spec <- function(method) {
  one <- list(threads = 1L)
  switch(method,
    mice = list(name = "mice_pmm", args = list()),
    miwae = list(name = "notmiwae", args = list(notmiwae = c(one, list(missing_model = "none")))),
    notmiwae = , gnr = , not2miwae = , psmvae = list(name = method, args = stats::setNames(list(one), method)),
    list(name = method, args = list()))
}

cache_dir <- file.path("bench", "results", "cache", "mixed")

run_cell <- function(x, dataset, prob, seed, method, file) {
  spec <- method_spec(method)
  res <- compare_imputers(x, mechanism = "self_mask_mean", methods = spec$name, seeds = seed, dataset = dataset,
                          mechanism_args = list(prob = prob, columns = amputed_columns(x)),
                          method_args = spec$args)
  row <- as.data.frame(res)
  row$method <- method
  row$prob <- prob
  save_cell(row, file)
  message(sprintf("[%s] %s prob %s seed %d %s: %s (%.1f s)", format(Sys.time(), "%H:%M:%S"), dataset, prob, seed,
                  method, if (is.na(row$error)) sprintf("RMSE %.3f, PFC %.3f", row$rmse, row$pfc) else
                    paste("error:", row$error), row$seconds))
}


write_report <- function(opt) {
  files <- list.files(cache_dir, pattern = "\\.rds$", full.names = TRUE)
  rows <- do.call(rbind, lapply(files, function(f) readRDS(f)[, c("dataset", "method", "prob", "seed", "rmse", "pfc",
                                                                   "seconds", "error", "commit")]))
  failed <- unique(rows[!is.na(rows$error), c("dataset", "prob", "method", "error")])
  rows <- rows[is.na(rows$error), ]
  summarise <- function(v) c(mean = mean(v), sd = if (length(v) > 1) stats::sd(v) else NA_real_)
  agg <- do.call(rbind, lapply(split(rows, list(rows$dataset, rows$prob, rows$method), drop = TRUE), function(r)
    data.frame(dataset = r$dataset[1], prob = r$prob[1], method = r$method[1], n = nrow(r),
               rmse = mean(r$rmse), rmse_sd = summarise(r$rmse)[["sd"]], pfc = mean(r$pfc),
               pfc_sd = summarise(r$pfc)[["sd"]], seconds = stats::median(r$seconds))))
  utils::write.csv(rows[order(rows$dataset, rows$prob, rows$method, rows$seed), ],
                   file.path("bench", "results", "mixed.csv"), row.names = FALSE)
  methods <- intersect(c(baselines, models), unique(agg$method))
  sets <- intersect(datasets_all, unique(agg$dataset))
  describe_set <- vapply(sets, function(d) {
    x <- load_dataset(d)
    sprintf("%d x %d; amputed: %s", nrow(x), ncol(x), paste(amputed_columns(x), collapse = ", "))
  }, "")
  out <- c("# Mixed data: numeric RMSE and factor PFC under MNAR", "",
           "Written by `Rscript bench/mixed.R --report` from the cached cells; the script's header gives the",
           "datasets (CRAN packages), the mechanism and the methods. Mean ± sd over the seeds; deepmnar models with",
           "their defaults, one thread. RMSE: missing numeric cells, complete-data standardised scale. PFC: share of",
           "missing factor/logical cells imputed with the wrong level. Every run, with its seed and commit:",
           "bench/results/mixed.csv.", "", sprintf("- %s: %s", sets, describe_set), "")
  for (metric in c("rmse", "pfc")) for (prob in opt$probs) {
    if (!any(agg$prob == prob)) next
    out <- c(out, sprintf("## %s, probability %s", toupper(metric), prob), "",
             paste0("| dataset | ", paste(methods, collapse = " | "), " |"),
             paste0("|---|", strrep("---|", length(methods))))
    for (d in sets) {
      cells <- vapply(methods, function(m) {
        a <- agg[agg$dataset == d & agg$prob == prob & agg$method == m, ]
        if (nrow(a)) fmt(a[[metric]], a[[paste0(metric, "_sd")]]) else ""
      }, "")
      out <- c(out, sprintf("| %s | %s |", d, paste(cells, collapse = " | ")))
    }
    out <- c(out, "")
  }
  out <- c(out, seconds_table(rows, sets, methods), "", bar_lines(agg, sets), failed_cells(failed))
  writeLines(out, file.path("bench", "results", "mixed.md"))
  invisible(agg)
}

# The bars of issue 13 at probability 1: not-MIWAE's numeric RMSE below mice
# and missForest, its PFC at most missForest's + 0.02.
bar_lines <- function(agg, sets) {
  value <- function(d, m, metric) {
    a <- agg[[metric]][agg$dataset == d & agg$prob == 1 & agg$method == m]
    if (length(a)) a else NA_real_
  }
  lines <- vapply(sets, function(d) {
    ours <- c(rmse = value(d, "notmiwae", "rmse"), pfc = value(d, "notmiwae", "pfc"))
    if (anyNA(ours)) return(sprintf("- %s: not-MIWAE has no result", d))
    mice <- value(d, "mice", "rmse")
    forest <- c(rmse = value(d, "missforest", "rmse"), pfc = value(d, "missforest", "pfc"))
    rmse_met <- (is.na(mice) || ours[["rmse"]] < mice) && (is.na(forest[["rmse"]]) || ours[["rmse"]] < forest[["rmse"]])
    pfc_met <- is.na(forest[["pfc"]]) || ours[["pfc"]] <= forest[["pfc"]] + 0.02
    sprintf("- %s: RMSE %s (not-MIWAE %.3f; mice %.3f, missForest %.3f); PFC %s (not-MIWAE %.3f; missForest %.3f)",
            d, if (rmse_met) "met" else "NOT met", ours[["rmse"]], mice, forest[["rmse"]],
            if (pfc_met) "met" else "NOT met", ours[["pfc"]], forest[["pfc"]])
  }, "")
  c("## Bars (issue 13), probability 1", "", lines)
}

opt <- grid_options(commandArgs(trailingOnly = TRUE),
                    list(datasets = datasets_all, methods = c(baselines, models[1:3]), probs = c(1, 0.5), seeds = 1:3),
                    datasets = datasets_all, methods = c(baselines, models))
if (!opt$report) run_cached_grid(opt, cache_dir, load_dataset, run_cell)
write_report(opt)

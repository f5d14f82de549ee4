# A training schedule that scales with the rows (issue 33, item 2): under
# early stopping the default cap is 25 passes over the rows (at least 20,000
# iterations) and the check interval at least half a pass, so that large
# tables train until the held-out bound stops improving instead of stopping
# within a few passes. Tables of up to 3,200 training rows are unchanged.
# Compared here with the previous schedule (iterations = 20,000, a check every
# 100 iterations) on real tables of >= 20,000 rows that no default was chosen
# on: diamonds, cps1988 and chem97 (load_large_table() in bench/datasets.R
# gives their provenance).
# Mechanisms on the first three numeric columns (two when a table has only
# three, so that one numeric column stays observed): "selfmask", bench/scale.R's
# (missing above their mean with probability 0.8), and "mar" (missing with
# probability plogis(a + 2 z_k), z_k the first always-observed numeric column
# standardised, a set for a 30% rate).
# Fits: missing_model as given (--models, default "mar"), one thread, seed 1;
# impute() with its defaults. Beside them, --schedules=mice runs mice (m = 5,
# its default methods, the numeric imputations averaged). RMSE over the
# missing cells (standardised).
#
#   Rscript bench/schedule.R [--tables=diamonds] [--mechanisms=selfmask] [--models=mar] [--schedules=previous,scaled]
#   Rscript bench/schedule.R --report
# Cached per cell in bench/results/cache/schedule/; writes bench/results/schedule.md and .csv.

suppressPackageStartupMessages(library(deepmnar))
source(file.path("bench", "datasets.R"))

opt <- command_options(list(tables = "diamonds", mechanisms = "selfmask", models = "mar",
                            schedules = "previous,scaled", threads = "1"), flags = "report")
cache_dir <- file.path("bench", "results", "cache", "schedule")
dir.create(cache_dir, recursive = TRUE, showWarnings = FALSE)

amputed <- function(truth, mechanism, seed = 1) {
  set.seed(seed)
  numeric <- names(truth)[vapply(truth, is.numeric, TRUE)]
  at_risk <- head(numeric, min(3, length(numeric) - 1))
  driver <- setdiff(numeric, at_risk)[1]
  data <- truth
  for (j in at_risk) {
    miss <- if (mechanism == "selfmask") truth[[j]] > mean(truth[[j]]) & stats::runif(nrow(truth)) < 0.8 else {
      score <- 2 * as.numeric(scale(truth[[driver]]))
      a <- stats::uniroot(function(a) mean(stats::plogis(a + score)) - 0.3, c(-50, 50))$root
      stats::runif(nrow(truth)) < stats::plogis(a + score)
    }
    data[[j]][miss] <- NA
  }
  data
}

run_mice <- function(truth, data, table, mechanism, file) {
  started <- proc.time()[["elapsed"]]
  imp <- mice::mice(data, m = 5, printFlag = FALSE, seed = 1)
  completed <- deepmnar:::combine_completions(lapply(1:5, function(i) mice::complete(imp, i)))
  seconds <- proc.time()[["elapsed"]] - started
  # mice leaves a column it cannot impute (a collinear one) unimputed: a
  # failure, reported as such
  rmse <- tryCatch(imputation_rmse(truth, completed, is.na(data)), error = function(e) e)
  out <- data.frame(table = table, rows = nrow(truth), mechanism = mechanism, model = "-", schedule = "mice",
                    iterations = NA_integer_, cap = NA_integer_, every = NA_integer_,
                    reason = if (inherits(rmse, "error")) paste("failed:", conditionMessage(rmse)) else "-", passes = NA_real_,
                    fit_seconds = NA_real_, seconds = seconds, rmse = if (inherits(rmse, "error")) NA_real_ else rmse,
                    commit = tryCatch(system("git rev-parse --short HEAD", intern = TRUE), error = function(e) NA))
  saveRDS(out, file)
  message(sprintf("[%s] %s %s mice: RMSE %.4f, %.0f s", format(Sys.time(), "%H:%M:%S"), table, mechanism, out$rmse,
                  seconds))
  out
}

run_cell <- function(table, mechanism, model, schedule, threads) {
  if (schedule == "mice") model <- "-"
  file <- file.path(cache_dir, sprintf("%s_%s_%s_%s.rds", table, mechanism, if (model == "-") "none" else model, schedule))
  if (file.exists(file)) return(readRDS(file))
  truth <- load_large_table(table)
  data <- amputed(truth, mechanism)
  if (schedule == "mice") return(run_mice(truth, data, table, mechanism, file))
  control <- if (schedule == "previous") train_control(iterations = 20000, stop_early = early_stopping(every = 100))
             else train_control()
  started <- proc.time()[["elapsed"]]
  fit <- suppressWarnings(notmiwae(data, missing_model = model, seed = 1, threads = threads, progress = FALSE,
                                   control = control))
  fit_seconds <- proc.time()[["elapsed"]] - started
  imp <- suppressWarnings(impute(fit, seed = 1, threads = threads, progress = FALSE))
  out <- data.frame(table = table, rows = nrow(truth), mechanism = mechanism, model = model, schedule = schedule,
                    iterations = fit$settings$iterations_done, cap = fit$settings$iterations,
                    every = fit$stopping$every, reason = fit$stopping$reason,
                    passes = fit$settings$iterations_done * fit$settings$batch_size / nrow(truth),
                    fit_seconds = fit_seconds, seconds = proc.time()[["elapsed"]] - started,
                    rmse = imputation_rmse(truth, imp, is.na(data)),
                    commit = tryCatch(system("git rev-parse --short HEAD", intern = TRUE), error = function(e) NA))
  saveRDS(out, file)
  message(sprintf("[%s] %s %s %s %s: %d iterations (%s), RMSE %.4f, %.0f s", format(Sys.time(), "%H:%M:%S"), table,
                  mechanism, model, schedule, out$iterations, out$reason, out$rmse, out$seconds))
  out
}

if (!opt$report) {
  for (table in strsplit(opt$tables, ",")[[1]]) for (mechanism in strsplit(opt$mechanisms, ",")[[1]])
    for (model in strsplit(opt$models, ",")[[1]]) for (schedule in strsplit(opt$schedules, ",")[[1]])
      run_cell(table, mechanism, model, schedule, as.integer(opt$threads))
}

files <- list.files(cache_dir, pattern = "\\.rds$", full.names = TRUE)
rows <- do.call(rbind, lapply(files, readRDS))
rows <- rows[order(rows$table, rows$mechanism, rows$schedule), ]
utils::write.csv(rows, file.path("bench", "results", "schedule.csv"), row.names = FALSE)
lines <- c("# Training schedule from the rows", "",
           sprintf("Written by `Rscript bench/schedule.R` on %s; see the script's header. One seed; one thread", format(Sys.time(), "%Y-%m-%d %H:%M")),
           "(machine shared with other runs: seconds are indicative). `previous`: iterations = 20,000 and a check every",
           "100 iterations; `scaled`: the defaults (cap 25 passes, a check at least every half pass). Passes: iterations",
           "x batch / rows.", "",
           "| table | rows | mechanism | mask model | schedule | iterations (cap) | check every | passes | stopped | fit s | total s | RMSE |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|",
           sprintf("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %.0f | %s |", rows$table, rows$rows,
                   rows$mechanism, rows$model, rows$schedule,
                   ifelse(is.na(rows$iterations), "-", sprintf("%d (%d)", rows$iterations, rows$cap)),
                   ifelse(is.na(rows$every), "-", rows$every), ifelse(is.na(rows$passes), "-", sprintf("%.1f", rows$passes)),
                   rows$reason, ifelse(is.na(rows$fit_seconds), "-", sprintf("%.0f", rows$fit_seconds)),
                   rows$seconds, ifelse(is.na(rows$rmse), "-", sprintf("%.4f", rows$rmse))))
writeLines(lines, file.path("bench", "results", "schedule.md"))
cat("wrote bench/results/schedule.md\n")

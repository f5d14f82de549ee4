# A training schedule that scales with the rows (issue 33, item 2): under
# early stopping the default cap is 25 passes over the rows (at least 20,000
# iterations) and the check interval at least half a pass, so that large
# tables train until the held-out bound stops improving instead of stopping
# within a few passes. Tables of up to 3,200 training rows are unchanged.
# Compared here with the previous schedule (iterations = 20,000, a check every
# 100 iterations) on real tables of >= 20,000 rows that no default was chosen
# on:
#   diamonds  ggplot2::diamonds, 53,940 x 10 (three unordered factors)
#   cps1988   AER::CPS1988, 28,155 x 7 (US Current Population Survey, March
#             1988; two binary factors and a 4-level one)
#   chem97    mlmRev::Chem97, 31,022 x 8 (A-level chemistry scores, England
#             1997; the numeric and factor columns as shipped, lea and school
#             identifiers dropped)
# Mechanisms: "selfmask", bench/scale.R's (the first three numeric columns
# missing above their mean with probability 0.8), and "mar" (the first three
# numeric columns missing with probability plogis(a + 2 z_k), z_k a
# standardised always-observed numeric column, a set for a 30% rate).
# Fits: missing_model as given (--models, default "mar"), one thread, seed 1;
# impute() with its defaults. RMSE over the missing cells (standardised).
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

large_table <- function(name) {
  env <- new.env()
  switch(name,
    diamonds = {
      d <- as.data.frame(ggplot2::diamonds)
      for (j in c("cut", "color", "clarity")) d[[j]] <- factor(d[[j]], ordered = FALSE)
      d[, c("carat", "depth", "price", setdiff(names(d), c("carat", "depth", "price")))]
    },
    cps1988 = { utils::data("CPS1988", package = "AER", envir = env); env$CPS1988 },
    chem97 = {
      utils::data("Chem97", package = "mlmRev", envir = env)
      d <- as.data.frame(env$Chem97)
      d[, setdiff(names(d), c("lea", "school", "student"))]
    })
}

amputed <- function(truth, mechanism, seed = 1) {
  set.seed(seed)
  numeric <- names(truth)[vapply(truth, is.numeric, TRUE)]
  at_risk <- head(numeric, 3)
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

run_cell <- function(table, mechanism, model, schedule, threads) {
  file <- file.path(cache_dir, sprintf("%s_%s_%s_%s.rds", table, mechanism, model, schedule))
  if (file.exists(file)) return(readRDS(file))
  truth <- large_table(table)
  data <- amputed(truth, mechanism)
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
utils::write.csv(rows, file.path("bench", "results", "schedule.csv"), row.names = FALSE)
lines <- c("# Training schedule from the rows", "",
           sprintf("Written by `Rscript bench/schedule.R` on %s; see the script's header. One seed; one thread", format(Sys.time(), "%Y-%m-%d %H:%M")),
           "(machine shared with other runs: seconds are indicative). `previous`: iterations = 20,000 and a check every",
           "100 iterations; `scaled`: the defaults (cap 25 passes, a check at least every half pass). Passes: iterations",
           "x batch / rows.", "",
           "| table | rows | mechanism | mask model | schedule | iterations (cap) | check every | passes | stopped | fit s | total s | RMSE |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|",
           sprintf("| %s | %d | %s | %s | %s | %d (%d) | %d | %.1f | %s | %.0f | %.0f | %.4f |", rows$table, rows$rows,
                   rows$mechanism, rows$model, rows$schedule, rows$iterations, rows$cap, rows$every, rows$passes,
                   rows$reason, rows$fit_seconds, rows$seconds, rows$rmse))
writeLines(lines, file.path("bench", "results", "schedule.md"))
cat("wrote bench/results/schedule.md\n")

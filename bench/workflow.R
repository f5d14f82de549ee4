# What a statistician waits for: the whole inference workflow on a 1,000 x 10
# table with numeric and factor columns, on 2 threads, next to mice (m = 10)
# and missForest.
#
# Data: 1,000 rows of ggplot2::diamonds (seed 1; all 10 columns, cut, color
# and clarity as factors); carat, depth and price go missing by self-masking
# of their high values (logistic in the standardised value, slope 2, 30% of
# each column), clarity completely at random (10%).
# Steps timed, in this order, in one R process per repeat:
#   fit          notmiwae() with its defaults (the mechanism chosen by the data)
#   mi10         multiple_impute(fit, m = 10) (bootstrap, the default)
#   sensitivity  mnar_sensitivity() with its default models, m = 5, analysis
#                lm(price ~ carat + cut)
#   newdata      impute(fit, newdata = 100 rows of the same table)
#   mice10       mice::mice(m = 10), its defaults
#   missforest   missForest::missForest(), its defaults
# Repeats run interleaved; the report gives each step's median and range and
# the issue's bars (fit + mi10 <= 30 s, sensitivity <= 90 s), with the load
# average at each repeat's start.
#
# Run from the package root, with the package installed:
#   Rscript bench/workflow.R --repeats=3
#   Rscript bench/workflow.R --report
# Options: --repeats (3), --threads (2), --steps (all), --report.

suppressPackageStartupMessages(library(deepmnar))
source(file.path("bench", "datasets.R"))

opt <- command_options(list(repeats = "3", threads = "2",
                            steps = "fit,mi10,sensitivity,newdata,mice10,missforest"), flags = "report")
threads <- as.integer(opt$threads)
steps <- strsplit(opt$steps, ",")[[1]]
out_dir <- file.path("bench", "results")
cache <- file.path(out_dir, "cache", "workflow")
dir.create(cache, recursive = TRUE, showWarnings = FALSE)

workflow_data <- function() {
  set.seed(1)
  d <- load_large_table("diamonds")
  rows <- sample(nrow(d), 1100)
  full <- d[rows[1:1000], ]
  newdata <- d[rows[1001:1100], ]
  rownames(full) <- rownames(newdata) <- NULL
  amputate <- function(x) {
    for (col in c("carat", "depth", "price")) {
      z <- as.numeric(scale(full[[col]]))
      a <- stats::uniroot(function(a) mean(stats::plogis(a + 2 * z)) - 0.3, c(-20, 20))$root
      x[[col]][stats::runif(nrow(x)) < stats::plogis(a + 2 * z[seq_len(nrow(x))])] <- NA
    }
    x$clarity[stats::runif(nrow(x)) < 0.1] <- NA
    x
  }
  list(data = amputate(full), newdata = amputate(newdata))
}

timed <- function(expr) {
  started <- proc.time()[["elapsed"]]
  value <- force(expr)
  list(value = value, seconds = proc.time()[["elapsed"]] - started)
}

run_repeat <- function(r) {
  d <- workflow_data()
  load <- as.numeric(strsplit(readLines("/proc/loadavg"), " ")[[1]][1])
  row <- list(repeat_id = r, load = load)
  fit <- NULL
  for (step in steps) {
    t <- switch(step,
      fit = timed(fit <- notmiwae(d$data, seed = r, threads = threads, progress = FALSE)),
      mi10 = timed(multiple_impute(fit, m = 10, seed = r, threads = threads, progress = FALSE)),
      sensitivity = timed(mnar_sensitivity(d$data, price ~ carat + cut, m = 5, seed = r, threads = threads,
                                           progress = FALSE)),
      newdata = timed(impute(fit, newdata = d$newdata, seed = r, threads = threads, progress = FALSE)),
      mice10 = timed(mice::mice(d$data, m = 10, printFlag = FALSE, seed = r)),
      missforest = timed(suppressWarnings(missForest::missForest(d$data))))
    row[[step]] <- t$seconds
    if (step == "fit") row$chosen <- fit$spec$missing_model
    message(sprintf("repeat %d %s: %.1f s", r, step, t$seconds))
  }
  as.data.frame(row, stringsAsFactors = FALSE)
}

if (!isTRUE(opt$report)) {
  for (r in seq_len(as.integer(opt$repeats))) {
    file <- file.path(cache, sprintf("repeat_%02d.rds", r))
    if (file.exists(file)) next
    saveRDS(run_repeat(r), file)
  }
}

files <- list.files(cache, "\\.rds$", full.names = TRUE)
if (!length(files)) stop("no repeats in ", cache, ": run the bench first")
runs <- do.call(rbind, lapply(files, readRDS))
step_label <- c(fit = "default fit (mechanism chosen)", mi10 = "multiple_impute(m = 10)",
                sensitivity = "mnar_sensitivity(), default models, m = 5", newdata = "impute() of 100 new rows",
                mice10 = "mice, m = 10", missforest = "missForest")
present <- intersect(names(step_label), names(runs))
fmt_range <- function(v) sprintf("%.1f (%.1f-%.1f)", stats::median(v), min(v), max(v))
lines <- c("# The inference workflow on a 1,000 x 10 table (bench/workflow.R)", "",
           sprintf("Generated %s; deepmnar %s; %d threads; %d repeats; load average at each repeat's start: %s.",
                   format(Sys.time(), "%Y-%m-%d %H:%M"), utils::packageVersion("deepmnar"), threads, nrow(runs),
                   paste(sprintf("%.2f", runs$load), collapse = ", ")), "",
           "1,000 rows of ggplot2::diamonds (10 columns, 3 factors); carat, depth and price 30% missing by",
           "self-masking of high values, clarity 10% completely at random.", "",
           "| step | seconds, median (range) |", "|---|---|",
           sprintf("| %s | %s |", step_label[present], vapply(present, function(s) fmt_range(runs[[s]]), "")))
if (all(c("fit", "mi10") %in% names(runs))) {
  lines <- c(lines, "", sprintf("Fit + multiple_impute(m = 10): median %.1f s (the issue's bar: 30 s).",
                                stats::median(runs$fit + runs$mi10)))
}
if ("sensitivity" %in% names(runs)) {
  lines <- c(lines, sprintf("mnar_sensitivity(): median %.1f s (the issue's bar: 90 s).", stats::median(runs$sensitivity)))
}
if ("chosen" %in% names(runs)) lines <- c(lines, sprintf("Mechanism chosen: %s.", paste(runs$chosen, collapse = ", ")))
writeLines(lines, file.path(out_dir, "workflow.md"))
cat(lines, sep = "\n")

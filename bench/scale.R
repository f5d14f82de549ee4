# Scale: defaults end to end (fit + impute) on tables of 10^4 to 10^6 rows,
# with wall time and peak memory, next to mice and missForest.
#
# Data:
#   synthetic  n x 20 from a 3-factor model (x = z W + noise, a skewed column
#              exp(x/2)), MNAR: a row is at risk when its first column is
#              above the median, and in an at-risk row each of columns 1-5
#              goes missing when above its mean, with probability 0.8; about
#              half of the rows end up incomplete.
#   diamonds   ggplot2::diamonds, all 53,940 rows x 10 (cut, color and clarity
#              as factors), carat, depth and price missing above their mean
#              with probability 0.8 (ampute_mnar, self_mask_mean).
#
# Every cell runs in its own R process under `timeout` (the cap, default one
# hour) and `/usr/bin/time -v`, which gives its peak resident memory; results
# are cached in bench/results/cache/scale/ and the report is rebuilt from the
# cache. Run from the package root with the package installed:
#   Rscript bench/scale.R --sizes=1e4,1e5 --methods=notmiwae
#   Rscript bench/scale.R --sizes=1e4 --methods=mice,missforest --cap=1800
#   Rscript bench/scale.R --report
# Options: --sizes (1e4,1e5,1e6 and/or diamonds), --methods (notmiwae, mice,
# missforest, notmiwae_L1000: L = 1,000 to show memory flat in L), --threads
# (2), --cap (seconds, 3600), --fresh, --report.
# Internal: --cell=SIZE:METHOD runs one cell in this process and prints one
# result line.

suppressPackageStartupMessages(library(deepmnar))
source(file.path("bench", "datasets.R"))

args <- commandArgs(trailingOnly = TRUE)
option <- function(name, default) command_option(args, name, default)
cache_dir <- file.path("bench", "results", "cache", "scale")


diamonds_data <- function() {
  d <- load_large_table("diamonds")
  a <- ampute_mnar(d, columns = c("carat", "depth", "price"), prob = 0.8, seed = 1)
  list(truth = d, data = a$data)
}

load_size <- function(size) if (size == "diamonds") diamonds_data() else scale_synthetic(as.integer(as.numeric(size)))

run_cell <- function(size, method, threads) {
  set <- load_size(size)
  started <- proc.time()[["elapsed"]]
  completed <- switch(method,
    notmiwae = , notmiwae_L1000 = , notmiwae_float = {
      fit <- notmiwae(set$data, seed = 1, threads = threads, progress = FALSE,
                      precision = if (method == "notmiwae_float") "float" else "double")
      fit_seconds <- proc.time()[["elapsed"]] - started
      impute(fit, L = if (method == "notmiwae") 10000 else 1000, seed = 1, threads = threads, progress = FALSE)
    },
    mice = {
      imp <- mice::mice(set$data, m = 5, printFlag = FALSE, seed = 1)
      deepmnar:::combine_completions(lapply(1:5, function(i) mice::complete(imp, i)))
    },
    missforest = missForest::missForest(set$data)$ximp)
  seconds <- proc.time()[["elapsed"]] - started
  mask <- is.na(set$data)
  rmse <- imputation_rmse(set$truth, completed, mask)
  cat(sprintf("RESULT %s %s %.2f %.2f %.4f %.4f %d\n", size, method, seconds,
              if (exists("fit_seconds")) fit_seconds else NA_real_, rmse,
              mean(rowSums(mask) > 0), nrow(set$data)))
}

run_grid <- function(sizes, methods, threads, cap, fresh) {
  dir.create(cache_dir, recursive = TRUE, showWarnings = FALSE)
  for (size in sizes) for (method in methods) {
    file <- file.path(cache_dir, sprintf("%s_%s.rds", size, method))
    if (!fresh && file.exists(file)) next
    log <- tempfile()
    load_before <- as.numeric(strsplit(readLines("/proc/loadavg", n = 1), " ")[[1]][1])
    status <- system2("/usr/bin/time", c("-v", "timeout", cap, file.path(R.home("bin"), "Rscript"), "bench/scale.R",
                                         sprintf("--cell=%s:%s", size, method), sprintf("--threads=%d", threads)),
                      stdout = log, stderr = log)
    out <- readLines(log)
    hit <- grep("^RESULT ", out, value = TRUE)
    result <- if (length(hit)) suppressWarnings(as.numeric(strsplit(sub("^RESULT ", "", hit), " ")[[1]])) else numeric(0)
    peak_kb <- as.numeric(sub(".*: ", "", grep("Maximum resident set size", out, value = TRUE)))
    row <- data.frame(size = size, method = method, threads = threads,
                      seconds = if (length(result)) as.numeric(result[3]) else NA_real_,
                      fit_seconds = if (length(result)) as.numeric(result[4]) else NA_real_,
                      rmse = if (length(result)) as.numeric(result[5]) else NA_real_,
                      incomplete_rows = if (length(result)) as.numeric(result[6]) else NA_real_,
                      rows = if (length(result)) as.numeric(result[7]) else NA_real_,
                      peak_mb = if (length(peak_kb)) peak_kb / 1024 else NA_real_,
                      outcome = if (length(result)) "done" else if (status == 124) sprintf("stopped at the %s s cap", cap)
                                else paste("failed:", utils::tail(out[!grepl("^\t", out)], 1)),
                      load = load_before,
                      commit = tryCatch(system("git rev-parse --short HEAD", intern = TRUE), error = function(e) NA))
    saveRDS(row, file)
    message(sprintf("[%s] %s %s: %s, %.1f s, peak %.0f MB", format(Sys.time(), "%H:%M:%S"), size, method, row$outcome,
                    row$seconds, row$peak_mb))
  }
}

# The cached cells, and the rows of an earlier scale.csv for cells not in
# the cache (a cache does not outlive its machine; the csv is committed).
write_report <- function() {
  files <- list.files(cache_dir, pattern = "\\.rds$", full.names = TRUE)
  rows <- if (length(files)) do.call(rbind, lapply(files, readRDS))
  csv <- file.path("bench", "results", "scale.csv")
  if (file.exists(csv)) {
    earlier <- utils::read.csv(csv, stringsAsFactors = FALSE, colClasses = c(size = "character"))
    key <- function(r) paste(r$size, r$method, r$threads)
    if (!"load" %in% names(earlier)) earlier$load <- NA_real_
    if (!is.null(rows) && !"load" %in% names(rows)) rows$load <- NA_real_
    rows <- rbind(rows, earlier[!key(earlier) %in% key(rows), names(if (is.null(rows)) earlier else rows)])
  }
  if (is.null(rows) || !nrow(rows)) return(invisible())
  order_key <- suppressWarnings(as.numeric(rows$size))
  rows <- rows[order(is.na(order_key), order_key, rows$method), ]
  utils::write.csv(rows, file.path("bench", "results", "scale.csv"), row.names = FALSE)
  fmt <- function(v, f) ifelse(is.na(v), "", sprintf(f, v))
  out <- c("# Scale: defaults end to end", "",
           "Written by `Rscript bench/scale.R --report`; the script's header gives the data and the mechanism. One",
           "run per cell in its own R process (wall time from inside it; peak resident memory of the process from",
           "`/usr/bin/time -v`, R itself included). not-MIWAE: `notmiwae()` with its defaults and `impute()` with",
           "its defaults (L = 10,000 cap, tolerance 0.05 sd),",
           "`threads` as listed; notmiwae_float: the same with `precision = \"float\"`; mice: m = 5, its default",
           "methods; missForest: its defaults. RMSE over the missing cells, complete-data standardised scale.",
           "The machine's load is not controlled here: rows from busy sessions are slower than a quiet machine;",
           "`load` is the one-minute load average when the cell started (2 = both cores already busy).", "",
           "| data | rows | method | threads | outcome | seconds (fit) | peak MB | RMSE | incomplete rows | load | commit |",
           "|---|---|---|---|---|---|---|---|---|---|---|",
           sprintf("| %s | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |", rows$size, fmt(rows$rows, "%.0f"), rows$method,
                   rows$threads, rows$outcome,
                   paste0(fmt(rows$seconds, "%.1f"), ifelse(is.na(rows$fit_seconds), "", sprintf(" (%.1f)", rows$fit_seconds))),
                   fmt(rows$peak_mb, "%.0f"), fmt(rows$rmse, "%.3f"), fmt(rows$incomplete_rows, "%.2f"),
                   fmt(rows$load, "%.1f"), rows$commit))
  writeLines(out, file.path("bench", "results", "scale.md"))
  invisible(rows)
}

cell <- option("cell", "")
if (nzchar(cell)) {
  parts <- strsplit(cell, ":")[[1]]
  run_cell(parts[1], parts[2], as.integer(option("threads", "2")))
} else {
  if (!"--report" %in% args) {
    run_grid(strsplit(option("sizes", "1e4,1e5,1e6"), ",")[[1]], strsplit(option("methods", "notmiwae"), ",")[[1]],
             as.integer(option("threads", "2")), option("cap", "3600"), "--fresh" %in% args)
  }
  write_report()
}

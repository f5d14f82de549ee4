# Does Eigen 3.4 (RcppEigen >= 0.3.4, vectorised double log and exp) make
# training faster than the Eigen 3.3.9 of Debian's r-cran-rcppeigen? The same
# source installed twice, once against each RcppEigen, timed interleaved in
# one run: each fit in its own R process (a library is loaded once per
# process), the builds alternating within every repeat, one thread, the
# workload of bench/speed.R (paper settings: batch 16, K = 20, 2 x 128 tanh,
# selfmask_known, first half of the columns missing above their mean) at
# p = 4 (banknote) and p = 30 (wdbc), with the default early stopping.
#
# Run from the package root with both builds installed, e.g.
#   R_LIBS=/tmp/e34lib R CMD INSTALL --preclean -l /tmp/lib_eigen34 .
#   R CMD INSTALL --preclean -l /tmp/lib_eigen33 .
#   Rscript bench/eigen_version.R --libs=/tmp/lib_eigen33,/tmp/lib_eigen34 --repeats=5 [--note="..."]
# Writes bench/results/eigen_version.md and .csv.
source(file.path("bench", "datasets.R"))
opt <- command_options(list(libs = "", repeats = "5", iterations = "2000", note = ""))
libs <- strsplit(opt$libs, ",")[[1]]
if (length(libs) != 2 || !all(dir.exists(libs))) stop("--libs needs two installed libraries", call. = FALSE)
repeats <- as.integer(opt$repeats)
iterations <- as.integer(opt$iterations)

one_fit <- function(lib, p, seed) {
  code <- sprintf(paste0(
    'suppressPackageStartupMessages(library(deepmnar, lib.loc = "%s"));',
    'make_mnar <- function(x) { x <- as.data.frame(x); for (j in seq_len(floor(ncol(x) / 2))) ',
    'x[[j]][x[[j]] > mean(x[[j]])] <- NA; x };',
    'x <- make_mnar(if (%d == 4) banknote[, 1:4] else wdbc[, 1:30]);',
    'f <- suppressWarnings(notmiwae(x, missing_model = "selfmask_known", hidden = c(128, 128), K = 20, seed = %d,',
    'control = train_control(iterations = %d, batch_size = 16, threads = 1, progress = FALSE)));',
    'cat(f$seconds / f$settings$iterations_done * 1000, f$settings$iterations_done)'), lib, p, seed, iterations)
  out <- system2(file.path(R.home("bin"), "Rscript"), c("-e", shQuote(code)), stdout = TRUE)
  v <- as.numeric(strsplit(out[length(out)], " ")[[1]])
  data.frame(lib = lib, p = p, seed = seed, ms_per_iteration = v[1], iterations_done = v[2])
}

rows <- list()
for (r in seq_len(repeats)) for (p in c(4L, 30L)) for (lib in if (r %% 2) libs else rev(libs)) {
  rows[[length(rows) + 1L]] <- cbind(one_fit(lib, p, 1000L + r), repeat_id = r, load1 = as.numeric(
    strsplit(readLines("/proc/loadavg"), " ")[[1]][1]))
  cat(sprintf("repeat %d p=%d %s: %.3f ms\n", r, p, lib, rows[[length(rows)]]$ms_per_iteration))
}
res <- do.call(rbind, rows)
res$eigen <- ifelse(res$lib == libs[1], "3.3.9 (Debian's RcppEigen 0.3.3.9.3)", "3.4.0 (CRAN's RcppEigen 0.3.4.0.2)")
utils::write.csv(res, file.path("bench", "results", "eigen_version.csv"), row.names = FALSE)

summary_rows <- lapply(c(4L, 30L), function(p) {
  a <- res[res$p == p & res$lib == libs[1], ]
  b <- res[res$p == p & res$lib == libs[2], ]
  ratio <- a$ms_per_iteration[order(a$repeat_id)] / b$ms_per_iteration[order(b$repeat_id)]
  sprintf("| %d | %.3f [%.3f-%.3f] | %.3f [%.3f-%.3f] | %.3f [%.3f-%.3f] |", p,
          stats::median(a$ms_per_iteration), min(a$ms_per_iteration), max(a$ms_per_iteration),
          stats::median(b$ms_per_iteration), min(b$ms_per_iteration), max(b$ms_per_iteration),
          stats::median(ratio), min(ratio), max(ratio))
})
writeLines(c(
  "# Eigen 3.3.9 against Eigen 3.4 (bench/eigen_version.R)", "",
  sprintf("Generated %s; %d repeats, builds alternating within each; one thread; %d-iteration cap with the default early stopping; load average over the run %.2f-%.2f (2 cores).",
          format(Sys.time(), "%Y-%m-%d %H:%M"), repeats, iterations, min(res$load1), max(res$load1)), "",
  "Milliseconds per training iteration (the fit's seconds over the iterations it ran), median [range]; the ratio is per repeat, 3.3.9 over 3.4 (above 1: 3.4 faster).", "",
  "| p | Eigen 3.3.9 | Eigen 3.4 | ratio 3.3.9 / 3.4 |", "|---|---|---|---|", unlist(summary_rows),
  if (nzchar(opt$note)) c("", opt$note)),
  file.path("bench", "results", "eigen_version.md"))
cat("wrote bench/results/eigen_version.md\n")

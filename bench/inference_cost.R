# What proper multiple imputation costs next to one fit, with the package
# defaults, on banknote[, 1:4] with its first two columns missing above their
# mean with probability 0.8 (ampute_mnar, seed 1).
#
#   Rscript bench/inference_cost.R [--threads=2] [--repeats=3] [--out=bench/results]
#
# Writes DIR/inference_cost.md: seconds (median [min-max] over repeats) of a
# default notmiwae() fit, multiple_impute(m = 10) with the default bootstrap
# replicates, and multiple_impute(m = 10, method = "sir").

suppressPackageStartupMessages(library(deepmnar))
args <- commandArgs(trailingOnly = TRUE)
get_arg <- function(name, default) {
  hit <- grep(sprintf("^--%s=", name), args, value = TRUE)
  if (length(hit)) sub(sprintf("^--%s=", name), "", hit[1]) else default
}
threads <- as.integer(get_arg("threads", "2"))
repeats <- as.integer(get_arg("repeats", "3"))
out <- get_arg("out", "bench/results")

x <- ampute_mnar(banknote[, 1:4], mechanism = "self_mask_mean", prob = 0.8, seed = 1)$data
seconds <- function(expr) system.time(expr)[["elapsed"]]
runs <- lapply(seq_len(repeats), function(r) {
  fit_s <- seconds(fit <- notmiwae(x, seed = r, threads = threads, progress = FALSE))
  boot_s <- seconds(multiple_impute(fit, m = 10, seed = r, threads = threads, progress = FALSE, format = "list"))
  sir_s <- seconds(multiple_impute(fit, m = 10, method = "sir", seed = r, threads = threads, progress = FALSE,
                                   format = "list"))
  c(fit = fit_s, bootstrap = boot_s, sir = sir_s, iterations = fit$settings$iterations_done)
})
runs <- do.call(rbind, runs)
show <- function(v) sprintf("%.1f [%.1f-%.1f]", stats::median(v), min(v), max(v))
lines <- c(
  "# Cost of proper multiple imputation (bench/inference_cost.R)",
  "",
  sprintf("Generated %s; deepmnar %s, %s engine, %d threads, %d repeats (median [min-max] seconds). Data: `banknote[, 1:4]`, first two columns missing above their mean with probability 0.8. Defaults: notmiwae() with %d iterations; multiple_impute(m = 10) refits each replicate for a quarter of that.",
          format(Sys.time(), "%Y-%m-%d %H:%M"), as.character(utils::packageVersion("deepmnar")),
          deepmnar:::cpp_instruction_set(), threads, repeats, as.integer(runs[1, "iterations"])),
  "",
  "| step | seconds | relative to the fit |",
  "|---|---|---|",
  sprintf("| notmiwae() fit | %s | 1 |", show(runs[, "fit"])),
  sprintf("| multiple_impute(m = 10), bootstrap (default, proper) | %s | %.2f |", show(runs[, "bootstrap"]),
          stats::median(runs[, "bootstrap"] / runs[, "fit"])),
  sprintf("| multiple_impute(m = 10, method = \"sir\") (improper) | %s | %.2f |", show(runs[, "sir"]),
          stats::median(runs[, "sir"] / runs[, "fit"])))
dir.create(out, showWarnings = FALSE, recursive = TRUE)
writeLines(lines, file.path(out, "inference_cost.md"))
cat(lines, sep = "\n")

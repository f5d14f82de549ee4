# precision = "float" against "double" (issue 17, item 1): speed at the
# paper's settings and imputation accuracy on the five bundled datasets.
#
# Speed (--part=speed): not-MIWAE at the paper's settings (batch 16, K 20,
# encoder and decoder 2 x 128 tanh, latent p - 1, selfmask_known, Gaussian,
# first half of the columns missing above their mean), `iterations` fixed
# (no early stopping), ms per iteration = fit$seconds / iterations, on
# banknote[, 1:4] (p = 4) and wdbc[, 1:30] (p = 30), 1 and 2 threads, the two
# precisions interleaved within each repeat; imputation of banknote with
# L = 10,000 fixed (tolerance 0). The PyTorch anchor is the reference notes'
# section 7 workload measured on this machine just before by
# bench/pytorch_anchor.py (bench/results/pytorch_anchor.csv); without that
# file the report has no PyTorch column (no figure is copied from notes). The 1-minute load
# average is recorded around every measurement: run it on a quiet machine.
#
# Accuracy (--part=accuracy): the UCI protocol of bench/uci.R at probability
# 1 (first floor(p / 2) columns missing where above their mean), not-MIWAE
# with its defaults but `precision`, seeds 1-3, RMSE on the complete-data
# standardised scale. Cells are cached in bench/results/cache/precision/.
#
#   Rscript bench/precision.R --part=accuracy
#   python3 bench/pytorch_anchor.py 3 > bench/results/pytorch_anchor.csv   # with OpenBLAS, see the notes
#   Rscript bench/precision.R --part=speed --repeats=5
#   Rscript bench/precision.R --report
# Writes bench/results/precision.md (and precision.csv) from the cache.

suppressPackageStartupMessages(library(deepmnar))
source(file.path("bench", "datasets.R"))
source(file.path("bench", "pytorch_anchor.R"))

args <- commandArgs(trailingOnly = TRUE)
arg <- function(name, default) {
  hit <- grep(paste0("^--", name, "="), args, value = TRUE)
  if (length(hit)) sub(paste0("^--", name, "="), "", hit[length(hit)]) else default
}
part <- arg("part", "none")
repeats <- as.integer(arg("repeats", "5"))
iterations <- as.integer(arg("iterations", "3000"))
cache_dir <- file.path("bench", "results", "cache", "precision")
dir.create(cache_dir, recursive = TRUE, showWarnings = FALSE)
precisions <- c("double", "float")

uci_amputed <- function(name, seed) {
  x <- load_dataset(name)
  list(complete = x, amputed = ampute_mnar(x, mechanism = "self_mask_mean", prob = 1, seed = seed)$data)
}

load1 <- function() as.numeric(strsplit(readLines("/proc/loadavg", n = 1), " ")[[1]][1])

cached <- function(file, compute) {
  path <- file.path(cache_dir, file)
  if (file.exists(path)) return(readRDS(path))
  value <- compute()
  saveRDS(value, path)
  value
}

run_accuracy <- function() {
  for (name in c("banknote", "yeast", "wine_red", "wine_white", "wdbc")) for (seed in 1:3) for (pr in precisions) {
    cached(sprintf("accuracy_%s_s%d_%s.rds", name, seed, pr), function() {
      d <- uci_amputed(name, seed)
      fit <- notmiwae(d$amputed, seed = seed, threads = 1, precision = pr, progress = FALSE)
      imputed <- impute(fit, seed = seed, threads = 1, progress = FALSE)
      row <- data.frame(dataset = name, seed = seed, precision = pr,
                        rmse = imputation_rmse(d$complete, imputed, is.na(d$amputed)),
                        iterations = fit$settings$iterations_done, seconds = fit$seconds)
      message(sprintf("%s seed %d %s: RMSE %.4f (%d iterations, %.0f s)", name, seed, pr, row$rmse,
                      row$iterations, row$seconds))
      row
    })
  }
}

paper_fit <- function(x, threads, precision, seed) {
  notmiwae(x, missing_model = "selfmask_known", hidden = c(128, 128), K = 20, batch_size = 16,
           iterations = iterations, stop_early = FALSE, seed = seed, threads = threads, precision = precision,
           progress = FALSE)
}

run_speed <- function() {
  data <- list(`4` = uci_amputed("banknote", 1)$amputed, `30` = uci_amputed("wdbc", 1)$amputed)
  rows <- list()
  for (r in seq_len(repeats)) for (p in names(data)) for (threads in 1:2) for (pr in precisions) {
    before <- load1()
    fit <- paper_fit(data[[p]], threads, pr, 100L + r)
    rows[[length(rows) + 1]] <- data.frame(what = "training", p = as.integer(p), threads = threads, precision = pr,
                                           repeat_no = r, value = 1000 * fit$seconds / iterations,
                                           load_before = before, load_after = load1())
  }
  fit <- list(double = paper_fit(data[["4"]], 1, "double", 1L), float = paper_fit(data[["4"]], 1, "float", 1L))
  for (r in seq_len(max(1, repeats - 2))) for (threads in 1:2) for (pr in precisions) {
    before <- load1()
    started <- proc.time()[["elapsed"]]
    suppressWarnings(impute(fit[[pr]], L = 10000, tolerance = 0, seed = r, threads = threads, progress = FALSE))
    rows[[length(rows) + 1]] <- data.frame(what = "imputation", p = 4L, threads = threads, precision = pr,
                                           repeat_no = r, value = proc.time()[["elapsed"]] - started,
                                           load_before = before, load_after = load1())
  }
  saveRDS(do.call(rbind, rows), file.path(cache_dir, sprintf("speed_%s.rds", format(Sys.time(), "%Y%m%d%H%M%S"))))
}

med <- function(v) sprintf("%.3f [%.3f–%.3f]", stats::median(v), min(v), max(v))

speed_lines <- function(speed) {
  if (is.null(speed)) return("Speed not measured yet: `Rscript bench/precision.R --part=speed`.")
  pytorch <- pytorch_anchor()
  anchor <- pytorch$training
  train <- speed[speed$what == "training", ]
  out <- c("| p | threads | double ms / iteration | float ms / iteration | float speed-up (ratio of medians) | vs PyTorch f32 (float) |",
           "|---|---|---|---|---|---|")
  for (p in sort(unique(train$p))) for (threads in 1:2) {
    d <- train$value[train$p == p & train$threads == threads & train$precision == "double"]
    f <- train$value[train$p == p & train$threads == threads & train$precision == "float"]
    out <- c(out, sprintf("| %d | %d | %s | %s | %.2fx | %.2fx |", p, threads, med(d), med(f),
                          stats::median(d) / stats::median(f), anchor[[as.character(p)]] / stats::median(f)))
  }
  imp <- speed[speed$what == "imputation", ]
  out <- c(out, "", sprintf(paste("Imputation of banknote, L = 10,000 fixed, seconds (PyTorch f32, one thread,",
                                  "all %d rows with one pass of L each: %.1f s; deepmnar imputes only the rows with",
                                  "a missing value):"), pytorch$imputation_rows, pytorch$imputation), "",
           "| threads | double | float | float speed-up | double vs PyTorch f32 | float vs PyTorch f32 |",
           "|---|---|---|---|---|---|")
  for (threads in 1:2) {
    d <- imp$value[imp$threads == threads & imp$precision == "double"]
    f <- imp$value[imp$threads == threads & imp$precision == "float"]
    out <- c(out, sprintf("| %d | %s | %s | %.2fx | %.2fx | %.2fx |", threads, med(d), med(f),
                          stats::median(d) / stats::median(f), pytorch$imputation / stats::median(d),
                          pytorch$imputation / stats::median(f)))
  }
  out <- c(out, "", sprintf("PyTorch figures: %s.", pytorch$source))
  c(out, "", sprintf("1-minute load average around the measurements: median %.2f, max %.2f (2 cores).",
                     stats::median(c(speed$load_before, speed$load_after)), max(c(speed$load_before, speed$load_after))))
}

accuracy_lines <- function(acc) {
  if (is.null(acc)) return("Accuracy not measured yet: `Rscript bench/precision.R --part=accuracy`.")
  out <- c("| dataset | seeds | double RMSE | float RMSE | float − double (paired mean ± sd) | double s | float s |",
           "|---|---|---|---|---|---|---|")
  for (name in unique(acc$dataset)) {
    a <- acc[acc$dataset == name, ]
    d <- a[a$precision == "double", ]
    f <- a[a$precision == "float", ]
    f <- f[match(d$seed, f$seed), ]
    keep <- !is.na(f$rmse)
    diff <- f$rmse[keep] - d$rmse[keep]
    out <- c(out, sprintf("| %s | %d | %.3f ± %.3f | %.3f ± %.3f | %+.3f ± %.3f | %.0f | %.0f |", name, sum(keep),
                          mean(d$rmse[keep]), stats::sd(d$rmse[keep]), mean(f$rmse[keep]), stats::sd(f$rmse[keep]),
                          mean(diff), stats::sd(diff), mean(d$seconds[keep]), mean(f$seconds[keep])))
  }
  out
}

write_report <- function() {
  files <- list.files(cache_dir, full.names = TRUE)
  acc_files <- grep("accuracy_", files, value = TRUE)
  acc <- if (length(acc_files)) do.call(rbind, lapply(acc_files, readRDS))
  speed_files <- grep("speed_", files, value = TRUE)
  speed <- if (length(speed_files)) readRDS(speed_files[length(speed_files)])
  if (!is.null(acc)) utils::write.csv(acc[order(acc$dataset, acc$seed, acc$precision), ],
                                      file.path("bench", "results", "precision.csv"), row.names = FALSE)
  writeLines(c("# Float against double inside the networks", "",
               sprintf("Written by `Rscript bench/precision.R --report` on %s (deepmnar %s, %s); the script's header gives the protocol.",
                       format(Sys.time(), "%Y-%m-%d %H:%M"), utils::packageVersion("deepmnar"), deepmnar:::cpp_instruction_set()),
               "", "## Speed at the paper's settings", "", speed_lines(speed), "",
               "## Imputation accuracy, not-MIWAE defaults, UCI protocol at probability 1", "", accuracy_lines(acc)),
             file.path("bench", "results", "precision.md"))
}

if (part == "accuracy") run_accuracy()
if (part == "speed") run_speed()
write_report()

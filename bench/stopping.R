# When should training stop? not-MIWAE (defaults otherwise) is trained without
# stopping up to a cap, scoring the bound on the held-out rows every 100
# iterations exactly as `early_stopping()` does (same rows, same draws), and
# every parameter vector that improves the best held-out bound (after the
# first `--from` iterations) is imputed with impute()'s defaults and scored.
# Stopping rules are then replayed on the recorded checks: a rule stops at
# some check, its fit is the best parameters up to there, and that fit's RMSE
# was recorded. So every rule is judged on the same training runs.
#
# Data: the generalisation datasets (bench/datasets.R), none of the five
# bundled ones, on which the current rule's shortfall was seen
# (bench/results/defaults_vs_paper.md); protocol of bench/generalisation.R.
#
# Run from the package root:  Rscript bench/stopping.R [--datasets=..]
#   [--probs=1,0.2] [--seeds=1:2] [--cap=30000] [--from=1000] [--report]
# Runs are cached in bench/results/cache/stopping/; results in
# bench/results/stopping.md.
suppressPackageStartupMessages(library(deepmnar))
source(file.path("bench", "datasets.R"))
source(file.path("bench", "grid.R"))

args <- commandArgs(trailingOnly = TRUE)
arg <- function(name, default) {
  hit <- grep(paste0("^--", name, "="), args, value = TRUE)
  if (length(hit)) sub(paste0("^--", name, "="), "", hit[1]) else default
}
datasets <- strsplit(arg("datasets", "pima,glass,quakes,boston,creditcard"), ",")[[1]]
probs <- as.numeric(strsplit(arg("probs", "1,0.2"), ",")[[1]])
seeds <- eval(parse(text = arg("seeds", "1:2")))
cap <- as.integer(arg("cap", "30000"))
from <- as.integer(arg("from", "1000"))
every <- 100L
cache_dir <- file.path("bench", "results", "cache", "stopping")
dir.create(cache_dir, recursive = TRUE, showWarnings = FALSE)

# One training run: the held-out checks and the RMSE of each new best.
trace_run <- function(x, prob, seed) {
  am <- ampute_mnar(x, mechanism = "self_mask_mean", prob = prob, seed = seed)
  fit <- suppressWarnings(notmiwae(am$data, iterations = 1, stop_early = FALSE, seed = seed, threads = 1,
                                   progress = FALSE))
  ed <- deepmnar:::engine_data(fit$data, fit$scaling)
  n <- nrow(ed$x)
  rule <- early_stopping()
  size <- min(n - 2L, as.integer(round(rule$holdout * n)), rule$max_rows)
  held_out <- sort(deepmnar:::with_seed(seed, sample.int(n, max(1L, size))))
  train_ed <- deepmnar:::rows_of_engine_data(ed, setdiff(seq_len(n), held_out))
  held_ed <- deepmnar:::rows_of_engine_data(ed, held_out)
  run_args <- list(K = fit$settings$K, batch_size = min(fit$settings$batch_size, nrow(train_ed$x)),
                   lr = fit$settings$lr, seed = seed, threads = 1L)
  state <- deepmnar:::fresh_state(deepmnar:::initial_params(fit$spec, ed, seed))
  score <- function(theta) deepmnar:::held_out_bound(fit$spec, held_ed, theta, run_args)
  rmse_of <- function(theta) {
    fit$theta <- theta
    imp <- suppressWarnings(impute(fit, seed = 1, progress = FALSE))
    imputation_rmse(x, imp, is.na(am$data))
  }
  checks <- data.frame(iteration = 0L, bound = score(state$theta), rmse = NA_real_)
  best <- checks$bound
  started <- proc.time()[["elapsed"]]
  while (state$iteration < cap) {
    run_args$iterations <- state$iteration + every
    state <- deepmnar:::run_training(fit$spec, train_ed, state, run_args, FALSE)$state
    bound <- score(state$theta)
    rmse <- NA_real_
    if (is.finite(bound) && bound > best) {
      best <- bound
      if (state$iteration >= from) rmse <- rmse_of(state$theta)
    }
    checks <- rbind(checks, data.frame(iteration = as.integer(state$iteration), bound = bound, rmse = rmse))
  }
  list(checks = checks, final_rmse = rmse_of(state$theta), seconds = proc.time()[["elapsed"]] - started)
}

# Stopping rules: each returns the index of the check where it stops.
rules <- list(
  "patience 10 checks, cap 20k (current)" = function(ck) stop_by(ck, function(best_it, it) it - best_it >= 1000, 20000),
  "patience 10 checks, cap 30k" = function(ck) stop_by(ck, function(best_it, it) it - best_it >= 1000, 30000),
  "patience max(1000, best/2), cap 20k" = function(ck) {
    stop_by(ck, function(best_it, it) it - best_it >= max(1000, best_it / 2), 20000)
  },
  "patience max(1000, best/2), cap 30k" = function(ck) {
    stop_by(ck, function(best_it, it) it - best_it >= max(1000, best_it / 2), 30000)
  },
  "patience max(1000, best), cap 20k" = function(ck) {
    stop_by(ck, function(best_it, it) it - best_it >= max(1000, best_it), 20000)
  },
  "patience max(1000, best), cap 30k" = function(ck) {
    stop_by(ck, function(best_it, it) it - best_it >= max(1000, best_it), 30000)
  },
  "patience 20 checks, cap 30k" = function(ck) stop_by(ck, function(best_it, it) it - best_it >= 2000, 30000)
)
stop_by <- function(ck, patience_over, cap) {
  best <- 1L
  for (i in seq_len(nrow(ck))[-1]) {
    if (is.finite(ck$bound[i]) && ck$bound[i] > ck$bound[best]) best <- i
    if (patience_over(ck$iteration[best], ck$iteration[i]) || ck$iteration[i] >= cap) return(c(stop = i, best = best))
  }
  c(stop = nrow(ck), best = best)
}

runs <- list()
for (d in datasets) {
  x <- load_dataset(d)
  for (prob in probs) for (seed in seeds) {
    file <- file.path(cache_dir, sprintf("%s_p%s_s%d_cap%d_from%d.rds", d, prob, seed, cap, from))
    if (!file.exists(file) && !("--report" %in% args)) {
      run <- trace_run(x, prob, seed)
      saveRDS(run, file)
      message(sprintf("[%s] %s prob %s seed %d: %.0f s", format(Sys.time(), "%H:%M:%S"), d, prob, seed, run$seconds))
    }
    if (file.exists(file)) runs[[length(runs) + 1]] <- c(list(dataset = d, prob = prob, seed = seed), readRDS(file))
  }
}

rows <- do.call(rbind, lapply(runs, function(r) do.call(rbind, lapply(names(rules), function(name) {
  at <- rules[[name]](r$checks)
  data.frame(dataset = r$dataset, prob = r$prob, seed = r$seed, rule = name,
             stopped = r$checks$iteration[at[["stop"]]], best = r$checks$iteration[at[["best"]]],
             rmse = r$checks$rmse[at[["best"]]])
}))))
finals <- do.call(rbind, lapply(runs, function(r) data.frame(dataset = r$dataset, prob = r$prob, seed = r$seed,
                                                             rmse = r$final_rmse)))
lines <- c("# Stopping rules replayed on the same training runs", "",
           sprintf(paste("Written by `Rscript bench/stopping.R` on %s. not-MIWAE with its defaults, trained to %d iterations",
                         "with the held-out bound scored every %d; each rule's fit is the best parameters up to where it",
                         "stops. RMSE over the missing cells, complete-data standardised scale; datasets of",
                         "bench/datasets.R (none of the bundled five); protocol of bench/generalisation.R."),
                   format(Sys.time(), "%Y-%m-%d %H:%M"), cap, every), "")
for (prob in probs) {
  sub <- rows[rows$prob == prob, ]
  if (!nrow(sub)) next
  keys <- unique(sub[, c("dataset", "seed")])
  lines <- c(lines, sprintf("## Probability %s", prob), "",
             paste0("| rule | ", paste(sprintf("%s s%d", keys$dataset, keys$seed), collapse = " | "),
                    " | mean RMSE | mean iterations |"),
             paste0("|---|", strrep("---|", nrow(keys) + 2)))
  for (name in names(rules)) {
    r <- sub[sub$rule == name, ]
    r <- r[match(paste(keys$dataset, keys$seed), paste(r$dataset, r$seed)), ]
    lines <- c(lines, sprintf("| %s | %s | %.3f | %.0f |", name,
                              paste(sprintf("%.3f (%dk)", r$rmse, round(r$stopped / 1000)), collapse = " | "),
                              mean(r$rmse), mean(r$stopped)))
  }
  f <- finals[finals$prob == prob, ]
  f <- f[match(paste(keys$dataset, keys$seed), paste(f$dataset, f$seed)), ]
  lines <- c(lines, sprintf("| last parameters at %dk, no stopping | %s | %.3f | %d |", cap %/% 1000,
                            paste(sprintf("%.3f", f$rmse), collapse = " | "), mean(f$rmse), cap), "")
}
writeLines(lines, file.path("bench", "results", "stopping.md"))
cat("wrote bench/results/stopping.md\n")

# Ratings at the size of Yahoo! R3 (15,400 users x 1,000 songs, 300k ratings):
# does the set encoder on sparse input train with the defaults in minutes on
# 2 threads, and impute held-out cells without dense n x p intermediates?
#
# Data (synthetic, known truth): 15,000 users x 1,000 items, ratings 1-5 from
# a rank-3 model with user and item effects (bench/ratings.R's design); a user
# rates an item with probability plogis(a + 1.5 (rating - 3)), `a` set so that
# 2% of the cells (about 300,000) are rated: users rate what they like. Test
# cells as in Yahoo! R3: 10 items drawn at random among each of 5,400 random
# users' unrated items (MCAR). The matrix is built a block of users at a time
# and handed over as a dgCMatrix; the n x p truth is never held.
#
# Methods: item means; not-MIWAE (`notmiwae(obs = "rating", encoder = "set",
# missing_model = "selfmask_shared")`, otherwise its defaults: early stopping,
# 4 starts for the learned sign, latent 30) and MIWAE (the same with
# `missing_model = "none"`), then impute_cells() on the test cells with its
# defaults. MSE on the test cells.
#
# Every cell runs in its own R process under `/usr/bin/time -v` (peak resident
# memory, R included). Run from the package root:
#   Rscript bench/ratings_scale.R [--methods=item_mean,notmiwae,miwae] [--threads=2] [--fresh]
#   Rscript bench/ratings_scale.R --report
# Cached in bench/results/cache/ratings_scale/; writes bench/results/ratings_scale.csv,
# and its section of bench/results/ratings.md (bench/ratings.R --report writes it too).

args <- commandArgs(trailingOnly = TRUE)
option <- function(name, default) {
  hit <- grep(paste0("^--", name, "="), args, value = TRUE)
  if (length(hit)) sub(paste0("^--", name, "="), "", hit[length(hit)]) else default
}
cache_dir <- file.path("bench", "results", "cache", "ratings_scale")

large_ratings <- function(n = 15000, p = 1000, rank = 3, share = 0.02, test_users = 5400, per_user = 10, seed = 1) {
  set.seed(seed)
  u <- matrix(stats::rnorm(n * rank), n) / sqrt(rank)
  v <- matrix(stats::rnorm(p * rank), p)
  user_effect <- stats::rnorm(n, sd = 0.4)
  item_effect <- stats::rnorm(p, sd = 0.6)
  block_truth <- function(rows) {
    score <- u[rows, , drop = FALSE] %*% t(v) + outer(user_effect[rows], item_effect, `+`)
    pmin(pmax(round(3 + 1.1 * score + stats::rnorm(length(rows) * p, sd = 0.4)), 1), 5)
  }
  probe <- block_truth(seq_len(1000))
  a <- stats::uniroot(function(a) mean(stats::plogis(a + 1.5 * (probe - 3))) - share, c(-20, 5))$root
  testers <- sort(sample(n, test_users))
  rated_i <- rated_j <- rated_x <- test_i <- test_j <- test_x <- vector("list", ceiling(n / 1000))
  for (b in seq_along(rated_i)) {
    rows <- ((b - 1) * 1000 + 1):min(n, b * 1000)
    truth <- block_truth(rows)
    rated <- matrix(stats::runif(length(truth)) < stats::plogis(a + 1.5 * (truth - 3)), nrow(truth))
    at <- which(rated, arr.ind = TRUE)
    rated_i[[b]] <- rows[at[, 1]]
    rated_j[[b]] <- at[, 2]
    rated_x[[b]] <- truth[at]
    mine <- which(rows %in% testers)
    picks <- lapply(mine, function(r) sample(which(!rated[r, ]), per_user))
    test_i[[b]] <- rep(rows[mine], lengths(picks))
    test_j[[b]] <- unlist(picks)
    test_x[[b]] <- truth[cbind(rep(mine, lengths(picks)), unlist(picks))]
  }
  train <- Matrix::sparseMatrix(i = unlist(rated_i), j = unlist(rated_j), x = unlist(rated_x), dims = c(n, p),
                                dimnames = list(NULL, sprintf("item%04d", seq_len(p))))
  list(train = train, test = data.frame(row = unlist(test_i), col = unlist(test_j), truth = unlist(test_x)))
}

run_cell <- function(method, threads) {
  suppressPackageStartupMessages({
    library(deepmnar)
    library(Matrix)
  })
  set <- large_ratings()
  started <- proc.time()[["elapsed"]]
  fit_seconds <- NA_real_
  predicted <- if (method == "item_mean") {
    sums <- Matrix::colSums(set$train)
    counts <- diff(set$train@p)
    (sums / pmax(counts, 1))[set$test$col]
  } else {
    fit <- notmiwae(set$train, obs = "rating", rating_range = c(1, 5), encoder = "set",
                    missing_model = if (method == "notmiwae") "selfmask_shared" else "none", seed = 1,
                    threads = threads, progress = FALSE)
    fit_seconds <- proc.time()[["elapsed"]] - started
    message(sprintf("fit: %d iterations, %s", fit$settings$iterations_done, fit$stopping$reason))
    impute_cells(fit, set$test[, c("row", "col")], seed = 1, threads = threads, progress = FALSE)
  }
  seconds <- proc.time()[["elapsed"]] - started
  cat(sprintf("RESULT %s %.2f %.2f %.4f %d %d %d\n", method, seconds, fit_seconds, mean((predicted - set$test$truth)^2),
              nrow(set$train), length(set$train@x), nrow(set$test)))
}

# The 1-minute load average (runnable processes; this machine has 2 cores):
# other runs beside a cell stretch its wall time, not its CPU seconds.
machine_load <- function() {
  tryCatch(as.numeric(strsplit(readLines("/proc/loadavg", n = 1), " ")[[1]][1]), error = function(e) NA_real_)
}

run_grid <- function(methods, threads, fresh) {
  dir.create(cache_dir, recursive = TRUE, showWarnings = FALSE)
  for (method in methods) {
    file <- file.path(cache_dir, sprintf("%s.rds", method))
    if (!fresh && file.exists(file)) next
    log <- tempfile()
    load_before <- machine_load()
    system2("/usr/bin/time", c("-v", file.path(R.home("bin"), "Rscript"), "bench/ratings_scale.R",
                               sprintf("--cell=%s", method), sprintf("--threads=%d", threads)),
            stdout = log, stderr = log)
    out <- readLines(log)
    hit <- grep("^RESULT ", out, value = TRUE)
    result <- if (length(hit)) strsplit(sub("^RESULT ", "", hit), " ")[[1]] else character(0)
    number <- function(k) if (length(result)) as.numeric(result[k]) else NA_real_
    peak_kb <- as.numeric(sub(".*: ", "", grep("Maximum resident set size", out, value = TRUE)))
    # CPU seconds (user + system, all threads) tell the cost apart from the
    # load of other processes, which stretches the wall time
    cpu <- sum(as.numeric(sub(".*: ", "", grep("(User|System) time \\(seconds\\)", out, value = TRUE))))
    row <- data.frame(method = method, threads = threads, seconds = number(2), fit_seconds = number(3),
                      mse = number(4), users = number(5), ratings = number(6), test_cells = number(7),
                      impute_seconds = number(2) - number(3), cpu_seconds = cpu, peak_mb = peak_kb / 1024,
                      load_before = load_before, load_after = machine_load(), note = paste(grep("^fit: ", out, value = TRUE), collapse = "; "),
                      outcome = if (length(result)) "done" else paste("failed:", utils::tail(out[!grepl("^\t", out)], 1)),
                      commit = tryCatch(system("git rev-parse --short HEAD", intern = TRUE), error = function(e) NA))
    saveRDS(row, file)
    message(sprintf("[%s] %s: %s, %.1f s, peak %.0f MB, MSE %.3f", format(Sys.time(), "%H:%M:%S"), method, row$outcome,
                    row$seconds, row$peak_mb, row$mse))
  }
}

cell <- option("cell", "")
if (nzchar(cell)) {
  run_cell(cell, as.integer(option("threads", "2")))
} else {
  if (!"--report" %in% args) {
    run_grid(strsplit(option("methods", "item_mean,notmiwae,miwae"), ",")[[1]], as.integer(option("threads", "2")),
             "--fresh" %in% args)
  }
  files <- list.files(cache_dir, pattern = "\\.rds$", full.names = TRUE)
  if (length(files)) {
    utils::write.csv(do.call(rbind, lapply(files, readRDS)), file.path("bench", "results", "ratings_scale.csv"),
                     row.names = FALSE)
    source(file.path("bench", "ratings_scale_section.R"))
    update_ratings_scale_section()
  }
}

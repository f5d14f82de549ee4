# Rating data, the real-world MNAR case of the papers (not-MIWAE section 4.4,
# GNR section 5.3): users rate what they choose to rate, so the observed
# ratings are MNAR, and the error is measured on ratings of items chosen at
# random (MCAR test cells) where the data allow it.
#
# Data:
#   synthetic  known truth: 500 users x 100 items, ratings 1-5 from a rank-3
#              model with user and item effects; a user rates an item with
#              probability plogis(a + 1.5 (rating - 3)), a set so that about
#              10% of the cells are rated (users rate what they like); the
#              test cells are 5% of all cells drawn at random among the
#              unrated ones (MCAR), their true ratings known.
#   movielens  dslabs::movielens (CRAN package dslabs; MovieLens
#              ml-latest-small, GroupLens), ratings 0.5-5 in half steps: the
#              150 most rated films and the users with at least 20 ratings
#              among them; 10% of each user's ratings held out at random.
#              These test cells were chosen by the users, not at random, so
#              they measure prediction of chosen ratings (MNAR-selected), not
#              the MCAR error of the synthetic data.
#
# Methods: item means; the default (notmiwae() with obs = "rating": the
# mechanism chosen by the held-out evidence between mcar and
# selfmask_shared); matrix factorisation (ALS written here, rank and ridge
# chosen on 10% of the training ratings from {2, 5, 10} x {1, 5, 20}); MIWAE
# (notmiwae(missing_model = "none")), not-MIWAE (missing_model =
# "selfmask_shared"; notmiwae_activity: "selfmask_activity", the shared
# self-mask plus each user's activity read from the latent variable), GNR,
# all with obs = "rating" on the known scale and
# latent_dim 20; not-MIWAE and GNR with the papers' set encoder
# (notmiwae_set, gnr_set); PSMVAE (variant "a", obs = "rating", the set
# encoder); on request (--methods=), not-MIWAE (selfmask_shared) with
# obs = "categorical" (a softmax over the rating levels; notmiwae_levels,
# 4-10x slower). PSMVAE's self-masking model (variant "a") has no learned
# sign: it is told that low ratings go missing (`direction = "low"`, what
# "users rate what they like" says); with the default "high" it scored 5.24
# on the synthetic data, worse than the item means.
# Otherwise defaults, one thread. MSE on the test cells; 3 seeds. The
# 15,000 x 1,000 run is bench/ratings_scale.R; its results are reported here.
#
# Run from the package root: Rscript bench/ratings.R [--datasets=synthetic,movielens]
#   [--methods=...] [--seeds=1:3] [--report]; cells cached in
#   bench/results/cache/ratings/, results in bench/results/ratings.md and (every cell) ratings.csv.
suppressPackageStartupMessages(library(deepmnar))

args <- commandArgs(trailingOnly = TRUE)
arg <- function(name, default) {
  hit <- grep(paste0("^--", name, "="), args, value = TRUE)
  if (length(hit)) sub(paste0("^--", name, "="), "", hit[1]) else default
}
datasets <- strsplit(arg("datasets", "synthetic,movielens"), ",")[[1]]
all_methods <- c("item_mean", "mf", "default", "miwae", "notmiwae", "notmiwae_activity", "notmiwae_levels", "notmiwae_set",
                 "gnr", "gnr_set", "psmvae")
methods <- strsplit(arg("methods", paste(setdiff(all_methods, "notmiwae_levels"), collapse = ",")), ",")[[1]]
seeds <- eval(parse(text = arg("seeds", "1:3")))
cache_dir <- file.path("bench", "results", "cache", "ratings")
dir.create(cache_dir, recursive = TRUE, showWarnings = FALSE)
# A fresh clone has no cache: the committed cells stand in for it, so that a run
# of one method does not write a report without the others.
committed <- file.path("bench", "results", "ratings.csv")
if (file.exists(committed)) {
  cells <- utils::read.csv(committed)
  for (r in split(cells, seq_len(nrow(cells)))) {
    file <- file.path(cache_dir, sprintf("%s_s%d_%s.rds", r$dataset, r$seed, r$method))
    if (!file.exists(file)) saveRDS(r, file)
  }
}

# A list of: train (users x items, NA where unrated or held out), test (the
# held-out cells: row, col, truth), range.
synthetic_ratings <- function(seed, n = 500, p = 100, rank = 3) {
  set.seed(seed)
  score <- matrix(rnorm(n * rank), n) %*% t(matrix(rnorm(p * rank), p)) / sqrt(rank) +
    outer(rnorm(n, sd = 0.4), rnorm(p, sd = 0.6), `+`)
  truth <- clamp(round(3 + 1.1 * score + rnorm(n * p, sd = 0.4)), c(1, 5))
  rate_prob <- function(a) stats::plogis(a + 1.5 * (truth - 3))
  a <- stats::uniroot(function(a) mean(rate_prob(a)) - 0.10, c(-20, 5))$root
  rated <- matrix(stats::runif(n * p) < rate_prob(a), n)
  unrated <- which(!rated)
  test <- sort(sample(unrated, round(0.05 * n * p)))
  train <- truth
  train[!rated] <- NA
  list(train = train, test = test_cells(test, truth), range = c(1, 5))
}

movielens_ratings <- function(seed, films = 150, min_ratings = 20) {
  env <- new.env()
  utils::data("movielens", package = "dslabs", envir = env)
  ml <- env$movielens
  top <- names(sort(table(ml$movieId), decreasing = TRUE))[seq_len(films)]
  ml <- ml[ml$movieId %in% top, ]
  keep <- names(which(table(ml$userId) >= min_ratings))
  ml <- ml[ml$userId %in% keep, ]
  users <- sort(unique(ml$userId))
  full <- matrix(NA_real_, length(users), films)
  full[cbind(match(ml$userId, users), match(ml$movieId, top))] <- ml$rating
  set.seed(seed)
  rated <- which(!is.na(full))
  by_user <- split(rated, row(full)[rated])
  test <- sort(unlist(lapply(by_user, function(cells) cells[stats::runif(length(cells)) < 0.1])))
  train <- full
  train[test] <- NA
  list(train = train, test = test_cells(test, full), range = c(0.5, 5))
}

test_cells <- function(index, truth) {
  data.frame(row = (index - 1) %% nrow(truth) + 1, col = (index - 1) %/% nrow(truth) + 1, truth = truth[index])
}

# Matrix factorisation by alternating ridge regressions around the global
# mean; rank and ridge chosen on a validation tenth of the training ratings.
mf_predict <- function(train, range, seed) {
  rated <- which(!is.na(train))
  set.seed(seed)
  valid <- rated[stats::runif(length(rated)) < 0.1]
  fit_train <- train
  fit_train[valid] <- NA
  grid <- expand.grid(rank = c(2, 5, 10), lambda = c(1, 5, 20))
  errors <- apply(grid, 1, function(g) mean((als(fit_train, g[["rank"]], g[["lambda"]], seed)[valid] - train[valid])^2))
  best <- grid[which.min(errors), ]
  clamp(als(train, best$rank, best$lambda, seed), range)
}

# Values limited to the rating range, keeping a matrix's shape.
clamp <- function(x, range) {
  x[] <- pmin(range[2], pmax(range[1], x))
  x
}

als <- function(x, rank, lambda, seed, sweeps = 25) {
  set.seed(seed)
  mu <- mean(x, na.rm = TRUE)
  r <- x - mu
  seen <- !is.na(x)
  u <- matrix(stats::rnorm(nrow(x) * rank, sd = 0.1), nrow(x))
  v <- matrix(stats::rnorm(ncol(x) * rank, sd = 0.1), ncol(x))
  ridge <- function(basis, values) solve(crossprod(basis) + lambda * diag(rank), crossprod(basis, values))
  for (s in seq_len(sweeps)) {
    for (i in seq_len(nrow(x))) if (any(seen[i, ])) u[i, ] <- ridge(v[seen[i, ], , drop = FALSE], r[i, seen[i, ]])
    for (j in seq_len(ncol(x))) if (any(seen[, j])) v[j, ] <- ridge(u[seen[, j], , drop = FALSE], r[seen[, j], j])
  }
  mu + u %*% t(v)
}

deep_predict <- function(method, train, range, seed) {
  x <- as.data.frame(train)
  common <- list(x, latent_dim = 20, seed = seed, threads = 1, progress = FALSE)
  fit <- switch(method,
    default = do.call(notmiwae, c(common, list(obs = "rating", rating_range = range))),
    miwae = do.call(notmiwae, c(common, list(missing_model = "none", obs = "rating", rating_range = range))),
    notmiwae = do.call(notmiwae, c(common, list(missing_model = "selfmask_shared", obs = "rating",
                                                rating_range = range))),
    notmiwae_activity = do.call(notmiwae, c(common, list(missing_model = "selfmask_activity", obs = "rating",
                                                         rating_range = range))),
    notmiwae_levels = do.call(notmiwae, c(common, list(missing_model = "selfmask_shared", obs = "categorical",
                                                       rating_range = range))),
    notmiwae_set = do.call(notmiwae, c(common, list(missing_model = "selfmask_shared", obs = "rating",
                                                    rating_range = range, encoder = "set"))),
    gnr = do.call(gnr, c(common, list(obs = "rating", rating_range = range))),
    gnr_set = do.call(gnr, c(common, list(obs = "rating", rating_range = range, encoder = "set"))),
    psmvae = do.call(psmvae, c(common, list(variant = "a", obs = "rating", rating_range = range, encoder = "set",
                                            direction = "low"))))
  structure(as.matrix(impute(fit, seed = seed, progress = FALSE)), chosen = chosen_mechanism(fit))
}

# The candidate mechanism the default chose (NA for a fit that chose none).
chosen_mechanism <- function(fit) {
  table <- fit$mechanisms$table
  if (is.null(table)) NA_character_ else table$mechanism[table$chosen]
}

predict_ratings <- function(method, train, range, seed) {
  switch(method,
    item_mean = matrix(colMeans(train, na.rm = TRUE), nrow(train), ncol(train), byrow = TRUE),
    mf = mf_predict(train, range, seed),
    deep_predict(method, train, range, seed))
}

for (d in datasets) for (seed in seeds) {
  data <- NULL
  for (method in methods) {
    file <- file.path(cache_dir, sprintf("%s_s%d_%s.rds", d, seed, method))
    if (file.exists(file) || "--report" %in% args) next
    if (is.null(data)) data <- if (d == "synthetic") synthetic_ratings(seed) else movielens_ratings(seed)
    started <- proc.time()[["elapsed"]]
    pred <- tryCatch(suppressWarnings(predict_ratings(method, data$train, data$range, seed)),
                     error = function(e) e)
    row <- data.frame(dataset = d, seed = seed, method = method, mse = NA_real_, in_range = NA,
                      seconds = proc.time()[["elapsed"]] - started, error = NA_character_,
                      users = nrow(data$train), items = ncol(data$train), rated = mean(!is.na(data$train)),
                      chosen = NA_character_)
    if (inherits(pred, "error")) {
      row$error <- conditionMessage(pred)
    } else {
      values <- pred[cbind(data$test$row, data$test$col)]
      row$mse <- mean((values - data$test$truth)^2)
      row$in_range <- all(values >= data$range[1] - 1e-9 & values <= data$range[2] + 1e-9)
      if (!is.null(attr(pred, "chosen"))) row$chosen <- attr(pred, "chosen")
    }
    saveRDS(row, file)
    message(sprintf("[%s] %s seed %d %s: MSE %.3f (%.0f s)%s", format(Sys.time(), "%H:%M:%S"), d, seed, method,
                    row$mse, row$seconds, if (is.na(row$error)) "" else paste(" error:", row$error)))
  }
}

files <- list.files(cache_dir, pattern = "\\.rds$", full.names = TRUE)
rows <- do.call(rbind, lapply(files, function(f) {
  row <- readRDS(f)
  if (is.null(row$chosen)) row$chosen <- NA_character_  # cells cached before the column existed
  row
}))
# the cells beside the report, so that it can be checked without the cache
utils::write.csv(rows, file.path("bench", "results", "ratings.csv"), row.names = FALSE)
lines <- c("# Ratings: MSE on the test cells", "",
           sprintf("Written by `Rscript bench/ratings.R` on %s; see the script's header for the data, the test cells and",
                   format(Sys.time(), "%Y-%m-%d %H:%M")),
           "the methods. Mean ± sd over seeds (n); seconds per fit and imputation (median, one thread, machine shared",
           "with other runs). The synthetic test cells are MCAR (the unbiased error); MovieLens's are held out from",
           "the users' own ratings.", "")
for (d in unique(rows$dataset)) {
  r <- rows[rows$dataset == d, ]
  lines <- c(lines, sprintf("## %s (%d users x %d items, %.1f%% rated in training)", d, r$users[1], r$items[1],
                            100 * r$rated[1]), "",
             "| method | MSE | imputations in range | seconds | failed |", "|---|---|---|---|---|")
  for (m in intersect(all_methods, r$method)) {
    a <- r[r$method == m, ]
    ok <- a[is.na(a$error), ]
    lines <- c(lines, sprintf("| %s | %s | %s | %.0f | %d |", m,
                              if (nrow(ok)) sprintf("%.3f ± %.3f (%d)", mean(ok$mse), if (nrow(ok) > 1) stats::sd(ok$mse) else NA, nrow(ok)) else "",
                              if (nrow(ok)) as.character(all(ok$in_range)) else "", stats::median(a$seconds),
                              sum(!is.na(a$error))))
  }
  picks <- r[r$method == "default" & !is.na(r$chosen), ]
  if (nrow(picks)) {
    picks <- picks[order(picks$seed), ]
    lines <- c(lines, "", paste0("The default chose: ", paste(sprintf("seed %d %s (MSE %.3f)", picks$seed, picks$chosen,
                                                                        picks$mse), collapse = "; "), "."))
  }
  lines <- c(lines, "")
}
source(file.path("bench", "ratings_scale_section.R"))
lines <- c(lines, ratings_scale_section())
writeLines(lines, file.path("bench", "results", "ratings.md"))
cat("wrote bench/results/ratings.md\n")

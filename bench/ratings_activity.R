# Why a self-masking model can over-correct on real ratings: users differ in
# how much they rate. The synthetic ratings of bench/ratings.R (500 users x
# 100 items, rank-3 scores, ratings 1-5, about 10% rated) with P(rated) =
# plogis(a + u_i + v_j + slope (rating - 3)): u_i ~ N(0, user_sd^2) is the
# user's activity and v_j ~ N(0, 0.5^2) the item's popularity, neither of
# them a rating. selfmask_shared models P(rated) by the item and the rating
# alone, so a user who rates little can only be explained by low ratings.
# The test cells are 5% of all cells drawn at random among the unrated ones
# (MCAR, their true ratings known), as Yahoo! R3's and Coat's random test
# sets are (those two stay out of every bench: independent checks).
#
# Methods, one fit per cell: notmiwae(obs = "rating", rating_range = c(1, 5),
# latent_dim = 20) with candidates mcar, selfmask_shared and
# selfmask_activity (the shared self-mask plus the row's activity read from
# its latent variable), each imputed on its own (candidate_fit(): mcar's
# imputations are MIWAE's model); two rules on the same fits and held-out
# rows: the one-standard-error rule among mcar and selfmask_shared
# (`default`, the package's default for ratings) and among mcar and
# selfmask_activity (`default_activity`); each candidate on its own
# (`notmiwae_<candidate>`); item means. One thread per fit.
#
# Run from the package root: Rscript bench/ratings_activity.R [--slopes=0,1]
#   [--user_sd=0,1] [--seeds=1:2] [--report]; cells cached in
#   bench/results/cache/ratings_activity/, results in
#   bench/results/ratings_activity.md and .csv (a copy in inst/extdata for the
#   vignette "Which mechanism?").
suppressPackageStartupMessages(library(deepmnar))
source(file.path("bench", "datasets.R"))
opt <- command_options(list(slopes = "0,0.5,1", user_sd = "0,1", seeds = "1:2"), flags = "report")
slopes <- as.numeric(strsplit(opt$slopes, ",")[[1]])
user_sds <- as.numeric(strsplit(opt$user_sd, ",")[[1]])
seeds <- eval(parse(text = opt$seeds))
cache_dir <- file.path("bench", "results", "cache", "ratings_activity")
all_candidates <- c("mcar", "selfmask_shared", "selfmask_activity")
dir.create(cache_dir, recursive = TRUE, showWarnings = FALSE)

run_cell <- function(slope, user_sd, seed) {
  d <- activity_ratings(slope, user_sd, seed)
  started <- proc.time()[["elapsed"]]
  fit <- suppressWarnings(notmiwae(as.data.frame(d$train), obs = "rating", rating_range = c(1, 5), latent_dim = 20,
                                   candidates = all_candidates, seed = seed, threads = 1, progress = FALSE))
  mse <- function(imputed) mean((as.matrix(imputed)[d$test] - d$truth)^2)
  candidates <- vapply(all_candidates, function(m) {
    mse(suppressWarnings(impute(candidate_fit(fit, m), seed = seed, progress = FALSE)))
  }, numeric(1))
  scores <- lapply(stats::setNames(nm = all_candidates), function(m) {
    deepmnar:::held_out_scores(candidate_fit(fit, m), K = fit$mechanisms$K, seed = seed, threads = 1L)
  })
  choose <- function(set) {
    table <- deepmnar:::evidence_table(scores[set], set)
    table$mechanism[table$chosen]
  }
  picks <- c(default = choose(c("mcar", "selfmask_shared")), default_activity = choose(c("mcar", "selfmask_activity")))
  item_means <- colMeans(d$train, na.rm = TRUE)
  loglik <- vapply(scores, function(s) mean(s$loglik), numeric(1))
  data.frame(slope = slope, user_sd = user_sd, seed = seed,
             method = c(names(picks), paste0("notmiwae_", all_candidates), "item_mean"),
             mse = c(candidates[picks], candidates, mean((item_means[col(d$train)[d$test]] - d$truth)^2)),
             chosen = c(picks, rep(NA, length(all_candidates) + 1)),
             loglik_vs_mcar = c(NA, NA, loglik - loglik[["mcar"]], NA),
             seconds = proc.time()[["elapsed"]] - started,
             rated = mean(!is.na(d$train)), test_mean = mean(d$truth), rated_mean = mean(d$train, na.rm = TRUE))
}

for (seed in seeds) for (slope in slopes) for (user_sd in user_sds) {
  file <- file.path(cache_dir, sprintf("slope%g_user%g_seed%d.rds", slope, user_sd, seed))
  if (file.exists(file) || opt$report) next
  cell <- run_cell(slope, user_sd, seed)
  saveRDS(cell, file)
  message(sprintf("[%s] slope %g user_sd %g seed %d: %s", format(Sys.time(), "%H:%M:%S"), slope, user_sd, seed,
                  paste(sprintf("%s %.3f", cell$method, cell$mse), collapse = ", ")))
}

files <- list.files(cache_dir, pattern = "\\.rds$", full.names = TRUE)
rows <- do.call(rbind, lapply(files, readRDS))
utils::write.csv(rows, file.path("bench", "results", "ratings_activity.csv"), row.names = FALSE)
# the vignette "Which mechanism?" reads its copy
utils::write.csv(rows, file.path("inst", "extdata", "ratings_activity.csv"), row.names = FALSE)
methods <- c("default", "default_activity", paste0("notmiwae_", all_candidates), "item_mean")
settings <- unique(rows[c("slope", "user_sd")])
settings <- settings[order(settings$slope, settings$user_sd), ]
table_lines <- apply(settings, 1, function(s) {
  r <- rows[rows$slope == s[["slope"]] & rows$user_sd == s[["user_sd"]], ]
  cells <- vapply(methods, function(m) {
    v <- r$mse[r$method == m]
    if (length(v) > 1) sprintf("%.3f ± %.3f", mean(v), stats::sd(v)) else sprintf("%.3f", v)
  }, character(1))
  chose <- function(rule) {
    picks <- table(r$chosen[r$method == rule])
    paste(picks, names(picks), collapse = ", ")
  }
  sprintf("| %g | %g | %d | %s | %s | %s | %.2f / %.2f |", s[["slope"]], s[["user_sd"]], length(unique(r$seed)),
          paste(cells, collapse = " | "), chose("default"), chose("default_activity"),
          mean(r$rated_mean), mean(r$test_mean))
})
writeLines(c(
  "# Ratings when users differ in how much they rate (bench/ratings_activity.R)", "",
  sprintf("Generated %s (deepmnar %s); the script's header gives the design. MSE on random test cells among the unrated ones, mean ± sd over seeds.",
          format(Sys.time(), "%Y-%m-%d %H:%M"), utils::packageVersion("deepmnar")), "",
  "`slope`: how much a rating's value drives whether it is given (0: not at all); `user_sd`: the spread of the users' activity (0: every user rates alike).", "",
  "| slope | user_sd | seeds | default (mcar or selfmask_shared) | default_activity (mcar or selfmask_activity) | notmiwae_mcar (MIWAE's model) | notmiwae_selfmask_shared | notmiwae_selfmask_activity | item means | default chose | default_activity chose | mean rating: rated / test |",
  "|---|---|---|---|---|---|---|---|---|---|---|---|", table_lines), file.path("bench", "results", "ratings_activity.md"))
cat("wrote bench/results/ratings_activity.md\n")

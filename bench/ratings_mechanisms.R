# Rating data whose missingness is NOT drawn from any model of the package
# (issue 31, item 6): a dense real submatrix of MovieLens, complete, on which
# known mechanisms are planted, so that the error of every method is measured
# on cells whose true rating is known.
#
# Data and provenance: dslabs::movielens (CRAN package dslabs; a copy of the
# GroupLens MovieLens "ml-latest-small" ratings: 100,004 ratings 0.5-5 in
# half steps, 671 users, 9,066 films). The submatrix is complete: every user
# kept rated every film kept. Rule, fixed before any method was run: films are
# chosen greedily, the first the most-rated film and each next one the film
# rated by most of the users who rated every film chosen so far; k is the
# largest number of films (k <= 20) with at least 100 such users; the users
# are those who rated all k. This gives k = 5 (Forrest Gump, Pulp Fiction,
# The Silence of the Lambs, The Shawshank Redemption, Jurassic Park) and 108
# users. The brief asked for >= 150 complete users on 10-20 films: this
# dataset is too sparse for that (the k most-rated films give 88 complete
# users at k = 5 and 22 at k = 10; greedily, 142 users at k = 4, 44 at k = 10),
# so the threshold was lowered to 100 and the table is small (108 x 5).
# Other MovieLens releases (ml-100k in recommenderlab) need a newer R here.
#
# Mechanisms, planted on the complete matrix, seeds 1:3. z is each film's
# rating standardised over the users; each cell goes missing with probability
#   mcar        plogis(a)
#   mnar_low    plogis(a - 2 z)          low ratings missing
#   mnar_high   plogis(a + 2 z)          high ratings missing
#   mar         plogis(a + 2 z_i1) for films 2..k, film 1 (the anchor,
#               Forrest Gump) always observed: a user's cells go missing by
#               that user's rating of the anchor
#   mnar_mixed  plogis(a - 2 d_j z), d_j = +1 (low missing) for the first
#               floor(k / 2) films, -1 (high missing) for the others
# with a found by uniroot so that 30% of all cells are expected missing; then
# every user keeps at least 2 observed ratings (missing cells of a user with
# fewer are restored at random, the anchor excepted under mar). The realised
# share is in the csv.
#
# Methods, all one thread, network at the package defaults:
#   default      notmiwae(x, obs = "rating", rating_range = c(0.5, 5)) with
#                its default missing_model = "auto" (candidates "mcar" and
#                "selfmask_shared" for ratings); its choice and the held-out
#                log-likelihood difference are recorded
#   cand_mcar, cand_selfmask_shared
#                the default fit's two candidates imputed on their own
#                (candidate_fit(), no extra training): the oracle in hindsight
#   miwae        missing_model = "none"
#   selfmask_shared  missing_model = "selfmask_shared" alone (learned sign,
#                its own default starts)
#   item_mean    column means of the observed ratings
#   mice         mice pmm, m = 5, the 5 completions averaged
# Imputation: impute(fit, seed = s, threads = 1). Metric: MSE and RMSE on the
# planted-missing cells, in rating units.
#
# Run from the package root: Rscript bench/ratings_mechanisms.R [--seeds=1:3]
#   [--mechanisms=...] [--methods=...] [--report]. Cells are cached in
#   bench/results/cache/ratings_mechanisms/ (resumable); results in
#   bench/results/ratings_mechanisms.csv (every cell) and .md.
for (try in 1:10) {
  ok <- tryCatch({ suppressPackageStartupMessages(library(deepmnar)); TRUE }, error = function(e) FALSE)
  if (ok) break
  Sys.sleep(30)
}
if (!ok) stop("library(deepmnar) failed 10 times")

args <- commandArgs(trailingOnly = TRUE)
arg <- function(name, default) {
  hit <- grep(paste0("^--", name, "="), args, value = TRUE)
  if (length(hit)) sub(paste0("^--", name, "="), "", hit[1]) else default
}
all_mechanisms <- c("mcar", "mar", "mnar_low", "mnar_high", "mnar_mixed")
fit_methods <- c("default", "miwae", "selfmask_shared", "item_mean", "mice")
all_methods <- c("default", "cand_mcar", "cand_selfmask_shared", "miwae", "selfmask_shared", "item_mean", "mice")
mechanisms <- strsplit(arg("mechanisms", paste(all_mechanisms, collapse = ",")), ",")[[1]]
methods <- strsplit(arg("methods", paste(fit_methods, collapse = ",")), ",")[[1]]
seeds <- eval(parse(text = arg("seeds", "1:3")))
report_only <- "--report" %in% args
rate <- 0.30
range <- c(0.5, 5)
min_users <- 100
cache_dir <- file.path("bench", "results", "cache", "ratings_mechanisms")
dir.create(cache_dir, recursive = TRUE, showWarnings = FALSE)

# The complete users x films matrix of the header's rule.
dense_movielens <- function(min_users = 100, max_films = 20) {
  env <- new.env()
  utils::data("movielens", package = "dslabs", envir = env)
  ml <- env$movielens
  users <- sort(unique(ml$userId))
  films <- sort(unique(ml$movieId))
  rated <- matrix(FALSE, length(users), length(films))
  rated[cbind(match(ml$userId, users), match(ml$movieId, films))] <- TRUE
  alive <- rep(TRUE, length(users))
  chosen <- integer(0)
  for (k in seq_len(max_films)) {
    counts <- colSums(rated[alive, , drop = FALSE])
    counts[chosen] <- -1L
    j <- which.max(counts)
    if (counts[j] < min_users) break
    chosen <- c(chosen, j)
    alive <- alive & rated[, j]
  }
  keep <- users[alive]
  x <- matrix(NA_real_, length(keep), length(chosen))
  sub <- ml[ml$userId %in% keep & ml$movieId %in% films[chosen], ]
  x[cbind(match(sub$userId, keep), match(sub$movieId, films[chosen]))] <- sub$rating
  stopifnot(!anyNA(x))
  titles <- sub$title[match(films[chosen], sub$movieId)]
  colnames(x) <- paste0("m", films[chosen])
  rownames(x) <- paste0("u", keep)
  list(x = x, titles = as.character(titles))
}

# The missing probability of every cell under a mechanism, 30% on average.
plant <- function(truth, mechanism, seed) {
  z <- scale(truth)
  n <- nrow(truth)
  k <- ncol(truth)
  d <- ifelse(seq_len(k) <= floor(k / 2), 1, -1)
  logit <- switch(mechanism,
    mcar = matrix(0, n, k),
    mnar_low = -2 * z,
    mnar_high = 2 * z,
    mar = cbind(-Inf, matrix(2 * z[, 1], n, k - 1)),
    mnar_mixed = -2 * sweep(z, 2, d, `*`))
  a <- stats::uniroot(function(a) mean(stats::plogis(a + logit)) - rate, c(-20, 20))$root
  prob <- stats::plogis(a + logit)
  set.seed(seed)
  miss <- matrix(stats::runif(n * k) < prob, n, k)
  for (i in seq_len(n)) {
    while (sum(!miss[i, ]) < 2) {
      cand <- which(miss[i, ])
      miss[i, cand[sample.int(length(cand), 1)]] <- FALSE
    }
  }
  miss
}

impute_fit <- function(fit, seed) as.matrix(impute(fit, seed = seed, threads = 1, progress = FALSE))

scores <- function(pred, truth, miss) {
  err <- pred[miss] - truth[miss]
  c(mse = mean(err^2), rmse = sqrt(mean(err^2)))
}

# One (mechanism, seed, method) cell; "default" also gives its two candidates.
run_method <- function(method, truth, miss, seed) {
  x <- truth
  x[miss] <- NA
  df <- as.data.frame(x)
  started <- proc.time()[["elapsed"]]
  common <- list(df, obs = "rating", rating_range = range, seed = seed, threads = 1, progress = FALSE)
  row <- function(name, pred, extra = list()) {
    s <- scores(pred, truth, miss)
    data.frame(method = name, mse = s[["mse"]], rmse = s[["rmse"]],
               chosen = if (is.null(extra$chosen)) NA_character_ else extra$chosen,
               loglik_mcar = if (is.null(extra$ll)) NA_real_ else extra$ll[["mcar"]],
               loglik_selfmask_shared = if (is.null(extra$ll)) NA_real_ else extra$ll[["selfmask_shared"]],
               difference_se = if (is.null(extra$dse)) NA_real_ else extra$dse,
               seconds = proc.time()[["elapsed"]] - started, stringsAsFactors = FALSE)
  }
  switch(method,
    default = {
      fit <- do.call(notmiwae, common)
      pred <- impute_fit(fit, seed)
      tab <- as.data.frame(compare_mechanisms(fit))
      ll <- stats::setNames(tab$loglik, tab$mechanism)
      extra <- list(chosen = tab$mechanism[tab$chosen], ll = ll, dse = max(tab$difference_se, na.rm = TRUE))
      out <- row("default", pred, extra)
      for (m in tab$mechanism) {
        cand <- row(paste0("cand_", m), impute_fit(candidate_fit(fit, m), seed))
        cand$seconds <- NA_real_
        out <- rbind(out, cand)
      }
      out
    },
    miwae = row("miwae", impute_fit(do.call(notmiwae, c(common, list(missing_model = "none"))), seed)),
    selfmask_shared = row("selfmask_shared",
                          impute_fit(do.call(notmiwae, c(common, list(missing_model = "selfmask_shared"))), seed)),
    item_mean = row("item_mean", matrix(colMeans(x, na.rm = TRUE), nrow(x), ncol(x), byrow = TRUE)),
    mice = {
      imp <- suppressWarnings(mice::mice(df, m = 5, method = "pmm", printFlag = FALSE, seed = seed))
      done <- lapply(seq_len(5), function(i) as.matrix(mice::complete(imp, i)))
      row("mice", Reduce(`+`, done) / 5)
    })
}

data <- dense_movielens(min_users)
truth <- data$x
if (!report_only) {
  for (mech in mechanisms) for (seed in seeds) {
    miss <- plant(truth, mech, seed)
    for (method in methods) {
      file <- file.path(cache_dir, sprintf("%s_s%d_%s.rds", mech, seed, method))
      if (file.exists(file)) next
      res <- tryCatch(suppressWarnings(run_method(method, truth, miss, seed)), error = function(e) e)
      if (inherits(res, "error")) {
        message(sprintf("[%s] %s seed %d %s: error %s (not cached)", format(Sys.time(), "%H:%M:%S"), mech, seed,
                        method, conditionMessage(res)))
        next
      }
      res <- cbind(mechanism = mech, seed = seed, res, missing_share = mean(miss), users = nrow(truth),
                   films = ncol(truth), stringsAsFactors = FALSE)
      saveRDS(res, file)
      message(sprintf("[%s] %s seed %d %s: MSE %.3f (%.0f s)%s", format(Sys.time(), "%H:%M:%S"), mech, seed, method,
                      res$mse[1], res$seconds[1], if (is.na(res$chosen[1])) "" else paste(" chose", res$chosen[1])))
    }
  }
}

files <- list.files(cache_dir, pattern = "\\.rds$", full.names = TRUE)
rows <- do.call(rbind, lapply(files, readRDS))
rows <- rows[order(match(rows$mechanism, all_mechanisms), rows$seed, match(rows$method, all_methods)), ]
utils::write.csv(rows, file.path("bench", "results", "ratings_mechanisms.csv"), row.names = FALSE)

mean_sd <- function(v) {
  v <- v[!is.na(v)]
  if (!length(v)) return("")
  if (length(v) == 1) return(sprintf("%.3f (1)", v))
  sprintf("%.3f ± %.3f", mean(v), stats::sd(v))
}
present_mech <- intersect(all_mechanisms, rows$mechanism)
present_methods <- intersect(all_methods, rows$method)
seeds_done <- sort(unique(rows$seed))
value_table <- function(metric) {
  out <- c(paste0("| mechanism | ", paste(present_methods, collapse = " | "), " |"),
           paste0("|", strrep("---|", length(present_methods) + 1)))
  for (m in present_mech) {
    r <- rows[rows$mechanism == m, ]
    out <- c(out, paste0("| ", m, " | ", paste(vapply(present_methods, function(me) mean_sd(r[[metric]][r$method == me]),
                                                      character(1)), collapse = " | "), " |"))
  }
  out
}

lines <- c("# Ratings with planted mechanisms: a dense MovieLens submatrix", "",
           sprintf("Written by `Rscript bench/ratings_mechanisms.R` on %s (deepmnar %s, dslabs %s); the script's header",
                   format(Sys.time(), "%Y-%m-%d %H:%M"), utils::packageVersion("deepmnar"),
                   utils::packageVersion("dslabs")),
           "gives the data rule, the mechanisms and the methods.", "",
           sprintf("Data: %d users x %d films, complete (%s), ratings 0.5-5. The brief's target of >= 150 complete users",
                   nrow(truth), ncol(truth), paste(data$titles, collapse = "; ")),
           "on 10-20 films is out of reach in dslabs::movielens (671 users): the rule takes the greedy films for the",
           sprintf("largest k with >= %d complete users. Planted: %.0f%% of cells expected missing (realised %.1f%%-%.1f%%),",
                   min_users, 100 * rate, 100 * min(rows$missing_share), 100 * max(rows$missing_share)),
           sprintf("at least 2 observed per user. Seeds %s. One thread per fit, machine shared with other runs.",
                   paste(seeds_done, collapse = ", ")), "",
           "`default` is `notmiwae(obs = \"rating\", rating_range = c(0.5, 5))` with `missing_model = \"auto\"`;",
           "`cand_*` are its two candidates imputed on their own (`candidate_fit()`, no extra training);",
           "`selfmask_shared` is that model fitted alone (with its default starts).", "",
           "## MSE on the planted-missing cells (rating units), mean ± sd over seeds", "",
           value_table("mse"), "",
           "## RMSE", "", value_table("rmse"), "",
           "## What the default chose", "",
           "Held-out log-likelihood per row of (observed ratings, mask): selfmask_shared minus mcar, and the paired SE",
           "of the loser against the best (the one-SE rule keeps mcar unless selfmask_shared is ahead by more).", "",
           "| mechanism | seed | chosen | loglik(selfmask_shared) - loglik(mcar) | paired SE | default MSE | MIWAE MSE |",
           "|---|---|---|---|---|---|---|")
def <- rows[rows$method == "default", ]
for (i in seq_len(nrow(def))) {
  mi <- rows$mse[rows$method == "miwae" & rows$mechanism == def$mechanism[i] & rows$seed == def$seed[i]]
  lines <- c(lines, sprintf("| %s | %d | %s | %+.3f | %.3f | %.3f | %s |", def$mechanism[i], def$seed[i], def$chosen[i],
                            def$loglik_selfmask_shared[i] - def$loglik_mcar[i], def$difference_se[i], def$mse[i],
                            if (length(mi)) sprintf("%.3f", mi) else ""))
}

# The bar: the default never worse than MIWAE, on average per mechanism and per cell.
pairs <- merge(rows[rows$method == "default", c("mechanism", "seed", "mse")],
               rows[rows$method == "miwae", c("mechanism", "seed", "mse")], by = c("mechanism", "seed"),
               suffixes = c("_default", "_miwae"))
cand <- rows[rows$method %in% c("cand_mcar", "cand_selfmask_shared"), ]
best_cand <- aggregate(mse ~ mechanism + seed, cand, min)
oracle_hits <- sum(abs(def$mse - best_cand$mse[match(paste(def$mechanism, def$seed),
                                                    paste(best_cand$mechanism, best_cand$seed))]) <= 1e-9)
cand_of <- function(m) cand$mse[cand$method == m][match(paste(def$mechanism, def$seed),
                                                          paste(cand$mechanism, cand$seed)[cand$method == m])]
missed_mnar <- grepl("^mnar", def$mechanism) & def$chosen == "mcar" &
  cand_of("cand_selfmask_shared") < cand_of("cand_mcar")
if (!nrow(pairs)) {
  writeLines(lines, file.path("bench", "results", "ratings_mechanisms.md"))
  stop("no cell has both the default and MIWAE yet: the bar cannot be checked")
}
avg <- aggregate(cbind(mse_default, mse_miwae) ~ mechanism, pairs, mean)
avg <- avg[order(match(avg$mechanism, all_mechanisms)), ]
# "worse" is worse by more than a floating-point tie: the mcar candidate trains
# the same network as MIWAE and often imputes the same values to ~1e-11.
tol <- 1e-6
avg_ok <- avg$mse_default <= avg$mse_miwae + tol
cell_ok <- pairs$mse_default <= pairs$mse_miwae + tol
ties <- sum(abs(pairs$mse_default - pairs$mse_miwae) <= tol)
worst <- pairs[which.max(pairs$mse_default / pairs$mse_miwae), ]
lines <- c(lines, "", "## Bar: the default never worse than MIWAE", "",
           sprintf("- per mechanism, on average over seeds: %s (%d of %d mechanisms; %s)",
                   if (all(avg_ok)) "holds" else "MISSED", sum(avg_ok), length(avg_ok),
                   paste(sprintf("%s %.3f vs %.3f", avg$mechanism, avg$mse_default, avg$mse_miwae), collapse = "; ")),
           sprintf("- per cell (mechanism x seed): %s (%d of %d cells; worst %s seed %d: %.3f vs %.3f, %+.1f%%)",
                   if (all(cell_ok)) "holds" else "MISSED", sum(cell_ok), length(cell_ok), worst$mechanism, worst$seed,
                   worst$mse_default, worst$mse_miwae, 100 * (worst$mse_default / worst$mse_miwae - 1)),
           sprintf("  (worse means worse by more than %g in MSE; %d of the cells are such floating-point ties, where the", tol, ties),
           "  default chose mcar and its mcar candidate imputes what MIWAE imputes)",
           sprintf("- cells where the default is worse than MIWAE: %s",
                   paste(sprintf("%s seed %d (%+.1f%%, chose %s)", pairs$mechanism[!cell_ok], pairs$seed[!cell_ok],
                                 100 * (pairs$mse_default[!cell_ok] / pairs$mse_miwae[!cell_ok] - 1),
                                 rows$chosen[rows$method == "default"][match(paste(pairs$mechanism, pairs$seed)[!cell_ok],
                                   paste(rows$mechanism, rows$seed)[rows$method == "default"])]), collapse = "; ")),
           sprintf("- oracle in hindsight (the better of the default's two candidates per cell): the default matched it in %d of %d cells",
                   oracle_hits, nrow(def)),
           sprintf("- the cells worse than MIWAE all chose mcar: %s (then the gap is between two fits of the same MCAR imputation",
                   all(def$chosen[match(paste(pairs$mechanism, pairs$seed)[!cell_ok], paste(def$mechanism, def$seed))] == "mcar")),
           "  model, the mcar candidate, which also learns the mask rates, and MIWAE: training noise, not a wrong choice)",
           sprintf("- cells where selfmask_shared was the more accurate candidate but the default kept mcar: %d of %d MNAR cells",
                   sum(missed_mnar), sum(grepl("^mnar", def$mechanism))),
           "", sprintf("Seconds per fit and imputation (median over cells): %s.",
                       paste(vapply(intersect(fit_methods, rows$method), function(me)
                         sprintf("%s %.0f", me, stats::median(rows$seconds[rows$method == me], na.rm = TRUE)),
                         character(1)), collapse = ", ")))
writeLines(lines, file.path("bench", "results", "ratings_mechanisms.md"))
cat("wrote bench/results/ratings_mechanisms.md\n")

# The mechanism chosen by the data: candidate mask models trained on the same
# rows and ranked by one estimate of log p(x_obs, s) on the same held-out rows.

check_candidates <- function(candidates, obs, p, wide) {
  if (is.null(candidates)) return(default_candidates(obs, p, wide))
  allowed <- setdiff(names(codes_of("missing_model")), "none")
  ok <- is.character(candidates) && length(candidates) >= 1 && !anyNA(candidates) && all(candidates %in% allowed) &&
    !anyDuplicated(candidates)
  if (!ok) {
    deepmnar_abort(sprintf("`candidates` must be distinct mask models among %s, not %s.", quote_names(allowed),
                           describe(candidates)), data = list(argument = "candidates"))
  }
  candidates
}

# Trains every candidate (one start each unless `starts` was given; MCAR
# comes from MAR's fit, mcar_from_mar()) with the same held-out rows, once
# per fold, scores each on every fold's held-out rows with `score_K`
# importance samples and returns the best, carrying the evidence table in
# `$mechanisms` (and, with folds, the chosen candidate's fold fits as an
# ensemble).
choose_mechanism <- function(spec_with, candidates, x, args, progress, call, class, scaling, score_K, folds = 1) {
  if (is.null(args$stop_early)) {
    deepmnar_abort(paste0("`missing_model = \"auto\"` ranks the candidate mechanisms on held-out rows and needs ",
                          "early stopping: keep `stop_early = TRUE` (or a rule), or name one `missing_model`."),
                   data = list(argument = "stop_early"))
  }
  score_K <- check_count(score_K, "score_K", 1, 1e5)
  folds <- check_folds(folds, engine_rows(engine_data(x, scaling)), args$stop_early)
  if (is.null(args$starts)) args$starts <- 1L
  args$split_seed <- args$seed
  unconverged <- character(0)
  train <- function(m, fold_args) {
    withCallingHandlers(train_model(spec_with(m), x, fold_args, progress, call, class, scaling = scaling),
                        deepmnar_warning_not_converged = function(w) {
                          unconverged <<- c(unconverged, m)
                          invokeRestart("muffleWarning")
                        })
  }
  derive_mcar <- all(c("mcar", "mar") %in% candidates)
  by_fold <- lapply(seq_len(folds), function(fold) {
    fold_args <- args
    fold_args$fold <- fold
    fits <- lapply(stats::setNames(nm = setdiff(candidates, if (derive_mcar) "mcar")), train, fold_args = fold_args)
    if (derive_mcar) fits$mcar <- mcar_from_mar(fits$mar, spec_with("mcar"))
    unname(fits[candidates])
  })
  if (length(unconverged)) {
    deepmnar_warn(sprintf(paste0(
      "Training of candidate %s reached the cap of %d iterations while the bound on the held-out rows was still ",
      "improving: not converged, and its score may understate it. Raise `iterations`."),
      quote_names(unique(unconverged)), as.integer(args$iterations)), kind = "not_converged")
  }
  scores <- lapply(seq_along(candidates), function(k) {
    pooled_scores(lapply(by_fold, function(fits) {
      held_out_scores(fits[[k]], K = score_K, seed = args$seed, threads = args$threads)
    }))
  })
  fits <- by_fold[[1]]
  for (k in seq_along(fits)) fits[[k]]$seconds <- sum(vapply(by_fold, function(f) f[[k]]$seconds, numeric(1)))
  table <- evidence_table(scores, candidates, fits)
  chosen <- which(table$chosen)
  fit <- fits[[chosen]]
  fit$mechanisms <- list(table = table, K = score_K, rows = scores[[1]]$rows,
                         theta = stats::setNames(lapply(fits, `[[`, "theta"), candidates),
                         spec = stats::setNames(lapply(fits, `[[`, "spec"), candidates))
  if (folds > 1) {
    per_candidate <- function(f) {
      stats::setNames(lapply(seq_along(candidates), function(k) lapply(by_fold, function(fits) f(fits[[k]]))), candidates)
    }
    fit$mechanisms$folds <- list(seed = args$seed, held_out_rows = lapply(by_fold, function(f) f[[1]]$stopping$held_out_rows),
                                 theta = per_candidate(function(f) f$theta),
                                 iterations_done = per_candidate(function(f) as.integer(f$settings$iterations_done)),
                                 converged = per_candidate(function(f) isTRUE(f$stopping$converged)))
    fit$ensemble <- fold_ensemble(fit$mechanisms, candidates[chosen])
  }
  fit$seconds <- sum(vapply(fits, `[[`, numeric(1), "seconds"))
  fit
}

# `folds` checked against the rows: every fold holds out its own rows.
check_folds <- function(folds, n, rule) {
  folds <- check_count(folds, "folds", 1, 20)
  if (folds * held_out_size(n, rule) > n - 2L) {
    deepmnar_abort(sprintf(paste0("`folds` = %d disjoint held-out sets of %d rows do not fit in %d rows with training ",
                                  "rows to spare: use fewer folds or a smaller `holdout`."),
                           as.integer(folds), as.integer(held_out_size(n, rule)), as.integer(n)),
                   data = list(argument = "folds"))
  }
  folds
}

# The held-out scores of one candidate's fold fits as one set of scores over
# all their held-out rows.
pooled_scores <- function(parts) {
  list(loglik = unlist(lapply(parts, `[[`, "loglik")), mc_var = unlist(lapply(parts, `[[`, "mc_var")),
       rows = unlist(lapply(parts, `[[`, "rows")), in_sample = any(vapply(parts, `[[`, logical(1), "in_sample")),
       K = parts[[1]]$K)
}

# The fits of candidate `mechanism` on every fold as an ensemble: each
# member keeps the rows it held out, on which held_out_scores() scores it.
fold_ensemble <- function(mechanisms, mechanism) {
  folds <- mechanisms$folds
  list(theta = folds$theta[[mechanism]], seed = rep(folds$seed, length(folds$held_out_rows)),
       iterations_done = unlist(folds$iterations_done[[mechanism]]), converged = unlist(folds$converged[[mechanism]]),
       held_out_rows = folds$held_out_rows)
}

# MCAR as the MAR candidate's fit with its mask replaced: the MAR mask reads
# only complete columns, so neither mask term touches the VAE's gradient and
# both candidates train the same VAE (MIWAE's). MCAR's maximum-likelihood
# rates are the training rows' observed shares (kept half a row from 0 and 1).
mcar_from_mar <- function(mar_fit, mcar_spec) {
  ed <- engine_data(mar_fit$data, mar_fit$scaling)
  held_out <- mar_fit$stopping$held_out_rows
  train_ed <- rows_of_engine_data(ed, setdiff(seq_len(engine_rows(ed)), held_out))
  n <- engine_rows(train_ed)
  share <- pmin(pmax(observed_per_column(train_ed) / n, 0.5 / n), 1 - 0.5 / n)
  theta <- with_blocks_of(mar_fit, mcar_spec, numeric(through_engine(cpp_n_params(mcar_spec))))
  blocks <- param_blocks(mcar_spec)
  theta[block_indices(blocks, "mask_rate")] <- stats::qlogis(share)
  fit <- mar_fit
  fit$spec <- mcar_spec
  fit$theta <- theta
  fit$seconds <- 0
  fit
}

# `theta` (parameters of `spec`) with every block that `fit`'s model shares
# with it by name and size taken from `fit`.
with_blocks_of <- function(fit, spec, theta) {
  from <- param_blocks(fit$spec)
  to <- param_blocks(spec)
  for (name in intersect(from$name, to$name)) {
    if (from$size[from$name == name] == to$size[to$name == name]) {
      theta[block_indices(to, name)] <- fit$theta[block_indices(from, name)]
    }
  }
  theta
}

# The one-standard-error rule: the first candidate (candidates come simplest
# assumption first: MCAR, MAR, then the self-masking models) whose held-out
# log-likelihood is within one paired standard error of the best, so that
# where the held-out rows cannot tell two mechanisms apart the assumption
# that does less harm when wrong is kept. The best score alone came closer to
# the best candidate in hindsight on bench/mechanisms.R
# (bench/results/mechanism_rules_selfmask_mar.md), but under MAR it chose a
# self-masking model in half of bench/coverage.R's replications, and the
# pooled intervals then covered half the time
# (bench/results/coverage_auto_best): a nested model with more parameters
# wins a noisy comparison about as often as it loses it.
one_se_choice <- function(loglik, paired_se) {
  if (!any(is.finite(loglik))) return(1L)
  which(within_one_se(loglik, paired_se))[1]
}

# The candidates whose held-out log-likelihood is within one paired standard
# error (its difference to the best) of the best.
within_one_se <- function(loglik, paired_se) {
  finite <- is.finite(loglik)
  best <- max(loglik[finite])
  finite & loglik >= best - ifelse(is.na(paired_se), 0, paired_se)
}

# The evidence a fit of `missing_model = "auto"` keeps, as compare_mechanisms() returns it.
mechanism_table <- function(fit) structure(fit$mechanisms$table, class = c("deepmnar_mechanisms", "data.frame"))

#' One candidate of a mechanism choice as a fit of its own
#'
#' A fit made with `missing_model = "auto"` keeps every candidate's trained
#' parameters; this returns the fit as it would be had the data chosen
#' `mechanism`, to impute or compare under it.
#'
#' @param fit A fit of `missing_model = "auto"`.
#' @param mechanism One of its candidates (`compare_mechanisms(fit)$mechanism`).
#' @return A fit like `fit`, with that candidate's mask model and parameters
#'   (its fits on every fold as an ensemble when the choice used `folds`; of
#'   the first member when `fit` is an ensemble of starts).
#' @export
candidate_fit <- function(fit, mechanism) {
  check_fit(fit)
  m <- fit$mechanisms
  if (is.null(m)) {
    deepmnar_abort("This fit did not choose its mechanism (`missing_model = \"auto\"`): it has no candidates.",
                   data = list(argument = "fit"))
  }
  mechanism <- check_choice(mechanism, names(m$theta), "mechanism")
  fit$spec <- m$spec[[mechanism]]
  fit$theta <- m$theta[[mechanism]]
  fit$ensemble <- if (!is.null(m$folds)) fold_ensemble(m, mechanism)
  fit
}

# Each scored row's estimate of log p(x_obs, s) (and its Monte Carlo
# variance) under `fit`, on its held-out rows or on `newdata`. An ensemble's
# is the equal mixture of its members'. A model without a mask term (MIWAE)
# gets an MCAR one, each column's rate its training rows' observed share, so
# that every score estimates the same quantity.
held_out_scores <- function(fit, newdata = NULL, K = 1000, seed = 1, threads = NULL) {
  if (is.null(newdata) && !is.null(fit$ensemble$held_out_rows)) {
    # fold fits: each scored on the rows it held out
    return(pooled_scores(over_members(fit, seed, function(member, member_seed, k) {
      member$stopping$held_out_rows <- fit$ensemble$held_out_rows[[k]]
      held_out_scores(member, K = K, seed = seed, threads = threads)
    })))
  }
  if (is.null(newdata)) {
    rows <- fit$stopping$held_out_rows
    in_sample <- is.null(rows)
    if (in_sample) rows <- seq_len(nrow(fit$data))
    ed <- rows_of_engine_data(engine_data(fit$data, fit$scaling), rows)
  } else {
    x <- rows_of(fit, newdata)
    ed <- engine_data(x, fit$scaling)
    rows <- seq_len(engine_rows(ed))
    in_sample <- FALSE
  }
  threads <- if (is.null(threads)) fit$settings$threads else check_threads(threads)
  runs <- lapply(member_thetas(fit), function(theta) {
    cpp_bound(fit$spec, ed, theta, K, seed, FALSE, threads, TRUE)
  })
  loglik <- if (length(runs) == 1) runs[[1]]$row_bound else {
    m <- vapply(runs, `[[`, numeric(length(rows)), "row_bound")
    apply(m, 1, function(v) max(v) + log(mean(exp(v - max(v)))))
  }
  mc_var <- runs[[1]]$row_mc_var
  if (fit$spec$model == "notmiwae" && fit$spec$missing_model == "none") loglik <- loglik + mcar_mask_loglik(fit, ed)
  list(loglik = loglik, mc_var = mc_var, rows = rows, in_sample = in_sample, K = K)
}

# log P(s) of each row under independent columns observed at their training
# shares (a categorical variable's mask counted once).
mcar_mask_loglik <- function(fit, ed) {
  train <- engine_data(fit$data, fit$scaling)
  share <- observed_per_column(train) / engine_rows(train)
  counted <- which(mask_counted_columns(fit$spec))
  observed <- dense_engine_data(ed)$observed[, counted, drop = FALSE] == 1L
  share <- matrix(share[counted], nrow(observed), length(counted), byrow = TRUE)
  rowSums(ifelse(observed, log(share), log1p(-share)))
}

# The engine columns whose mask enters the likelihood: every column, but
# only the first level of a categorical variable.
mask_counted_columns <- function(spec) {
  group <- if (is.null(spec$category_group)) rep(0L, spec$p) else spec$category_group
  group == 0L | !duplicated(ifelse(group == 0L, -seq_along(group), group))
}

# One row per candidate: mean log-likelihood per held-out row, its standard
# error over rows, its Monte Carlo standard error, and the difference to the
# best with the paired standard error over the same rows. `chosen` follows
# the one-standard-error rule (one_se_choice()).
evidence_table <- function(scores, labels, fits = NULL) {
  n <- length(scores[[1]]$loglik)
  ll <- vapply(scores, function(s) mean(s$loglik), numeric(1))
  best <- which.max(replace(ll, !is.finite(ll), -Inf))
  paired_se <- vapply(scores, function(s) {
    d <- s$loglik - scores[[best]]$loglik
    if (n > 1) stats::sd(d) / sqrt(n) else NA_real_
  }, numeric(1))
  chosen <- one_se_choice(ll, paired_se)
  data.frame(
    mechanism = labels,
    loglik = ll,
    se = vapply(scores, function(s) if (n > 1) stats::sd(s$loglik) / sqrt(n) else NA_real_, numeric(1)),
    mc_se = vapply(scores, function(s) sqrt(sum(s$mc_var)) / n, numeric(1)),
    difference = ll - ll[best],
    difference_se = paired_se,
    iterations = if (is.null(fits)) NA_integer_ else
      vapply(fits, function(f) as.integer(f$settings$iterations_done), integer(1)),
    seconds = if (is.null(fits)) NA_real_ else vapply(fits, `[[`, numeric(1), "seconds"),
    best = seq_along(ll) == best,
    chosen = seq_along(ll) == chosen,
    stringsAsFactors = FALSE
  )
}

#' Held-out log-likelihood of a fit
#'
#' An importance-sampling estimate of \eqn{\log p(x^o, s)}, the likelihood
#' of the observed values *and* the missingness pattern, on the rows the fit
#' held out for early stopping (never trained on) or on `newdata`. With a
#' large `K` it is close to the log-likelihood itself (the bound tightens as
#' `K` grows), so fits of different mask models, or of different models, can
#' be compared on the same rows: the same held-out rows when they were fitted
#' to the same data with the same `seed`. A fit without a mask model (MIWAE)
#' gets a missing-completely-at-random mask term, each column observed at its
#' training share, so that its score estimates the same quantity.
#'
#' The value is the sum over the scored rows; `attr(, "per_row")` holds each
#' row's estimate, `attr(, "se")` the standard error of the mean per row over
#' rows and `attr(, "mc_se")` its Monte Carlo standard error (delta method
#' on the importance weights). For PSMVAE the engine's score is its ELBO, a
#' lower bound, and for [gnr()] with `alpha != 1` the mask term is weighted:
#' neither then estimates the same quantity, and a warning says so.
#'
#' @param object A fit of any model.
#' @param newdata Optional rows to score, with the fit's columns; `NULL` for
#'   the held-out rows (all training rows, with a warning, when the fit was
#'   trained without early stopping).
#' @param K Importance samples per row.
#' @param seed Seed of the importance draws (the same for every fit compared).
#' @param threads Threads; default the fit's.
#' @param ... Unused.
#' @return An object of class `logLik` with attributes `df` (parameters),
#'   `nobs` (rows scored), `per_row`, `se`, `mc_se`, `rows` and `K`.
#' @examples
#' x <- banknote[, 1:4]
#' x$variance[x$variance > mean(x$variance)] <- NA
#' fit <- notmiwae(x, missing_model = "mcar", hidden = c(16, 16), iterations = 300, seed = 1,
#'                 threads = 1)
#' logLik(fit, K = 100)
#' @export
logLik.deepmnar_fit <- function(object, newdata = NULL, K = 1000, seed = 1, threads = NULL, ...) {
  check_fit(object)
  K <- check_count(K, "K", 1, 1e5)
  seed <- check_seed(seed)
  warn_not_likelihood(object)
  s <- held_out_scores(object, newdata, K, seed, threads)
  if (s$in_sample) {
    deepmnar_warn("This fit held out no rows (trained with `stop_early = FALSE`): the log-likelihood is on its training rows.",
                  kind = "in_sample")
  }
  n <- length(s$loglik)
  structure(sum(s$loglik), df = length(object$theta), nobs = n, per_row = s$loglik,
            se = if (n > 1) stats::sd(s$loglik) / sqrt(n) else NA_real_, mc_se = sqrt(sum(s$mc_var)) / n,
            rows = s$rows, K = K, class = "logLik")
}

warn_not_likelihood <- function(fit) {
  why <- if (capabilities(fit$spec$model)$score == "elbo") sprintf("The score of %s is its ELBO, a lower bound on log p(x_obs, s)", model_label(fit)) else
    if (fit$spec$model == "gnr" && !isTRUE(all.equal(fit$spec$alpha, 1))) "GNR's mask term is weighted by alpha"
  if (!is.null(why)) {
    deepmnar_warn(sprintf("%s: its score is not an estimate of the same quantity as the other models'.", why),
                  kind = "not_likelihood")
  }
}

#' Compare mechanisms (or any fits) by held-out log-likelihood
#'
#' Ranks fits by their estimate of \eqn{\log p(x^o, s)} per row on the same
#' rows (see [logLik.deepmnar_fit()]): the fits' common held-out rows, or
#' `newdata`. Given one fit made with `missing_model = "auto"`, returns the
#' evidence its choice was made on. The data can rank mechanisms *within*
#' the candidates: values missing not at random cannot be told from some
#' missing-at-random model without assumptions, so a mechanism that wins here
#' is the best supported of those tried, not a proven one. [mnar_sensitivity()]
#' shows how conclusions move outside the family.
#'
#' @param ... Fits (named, or named by their model), or one fit of
#'   `missing_model = "auto"`.
#' @param newdata Optional rows to score on.
#' @param K,seed,threads As in [logLik.deepmnar_fit()].
#' @return A data.frame of class `deepmnar_mechanisms`: per fit the mean
#'   log-likelihood per row (`loglik`), its standard error over rows (`se`)
#'   and Monte Carlo standard error (`mc_se`), the difference to the best
#'   (`difference`) with its paired standard error over the same rows
#'   (`difference_se`), and which is best (`chosen`). `plot()` draws the
#'   differences with 2-SE bars.
#' @examples
#' x <- banknote[, 1:4]
#' x$variance[x$variance > mean(x$variance)] <- NA
#' small <- function(m) {
#'   notmiwae(x, missing_model = m, hidden = c(16, 16), iterations = 300, seed = 1, threads = 1)
#' }
#' compare_mechanisms(mcar = small("mcar"), self = small("selfmask_known"), K = 100)
#' @export
compare_mechanisms <- function(..., newdata = NULL, K = 1000, seed = 1, threads = NULL) {
  fits <- list(...)
  if (length(fits) == 1 && !is.null(fits[[1]]$mechanisms) && is.null(newdata)) {
    return(mechanism_table(fits[[1]]))
  }
  if (!length(fits)) deepmnar_abort("Give at least one fit.", data = list(argument = "..."))
  for (f in fits) check_fit(f)
  labels <- names(fits)
  if (is.null(labels)) labels <- rep("", length(fits))
  labels[labels == ""] <- vapply(fits[labels == ""], model_label, character(1))
  labels <- make.unique(labels)
  if (is.null(newdata)) {
    rows <- lapply(fits, function(f) f$stopping$held_out_rows)
    same <- all(!vapply(rows, is.null, logical(1))) && all(vapply(rows, identical, logical(1), rows[[1]])) &&
      all(vapply(fits, function(f) identical(dim(f$data), dim(fits[[1]]$data)), logical(1)))
    if (!same) {
      deepmnar_abort(paste0("The fits did not hold out the same rows (fit them to the same data with the same `seed` ",
                            "and early stopping), so their held-out scores are not comparable: give `newdata`."),
                     data = list(argument = "newdata"))
    }
  }
  K <- check_count(K, "K", 1, 1e5)
  seed <- check_seed(seed)
  for (f in fits) warn_not_likelihood(f)
  scores <- lapply(fits, held_out_scores, newdata = newdata, K = K, seed = seed, threads = threads)
  structure(evidence_table(scores, labels, fits), class = c("deepmnar_mechanisms", "data.frame"))
}

#' @export
print.deepmnar_mechanisms <- function(x, ...) {
  # a subset of the columns is a plain table
  if (!all(c("mechanism", "loglik", "se", "mc_se", "difference", "difference_se", "chosen") %in% names(x))) {
    return(print(as.data.frame(unclass(x), stringsAsFactors = FALSE), ...))
  }
  cat("Held-out log-likelihood of (x_obs, mask) per row, best first\n")
  shown <- x[order(-x$loglik), ]
  out <- data.frame(
    mechanism = paste0(shown$mechanism, ifelse(shown$chosen, " *", "")),
    loglik = sprintf("%.3f", shown$loglik), se = sprintf("%.3f", shown$se), mc_se = sprintf("%.4f", shown$mc_se),
    `vs best` = ifelse(shown$difference == 0, "", sprintf("%.3f (%.3f)", shown$difference, shown$difference_se)),
    check.names = FALSE)
  print(out, row.names = FALSE, right = FALSE)
  cat("(se: over rows; mc_se: Monte Carlo; vs best: difference and its paired se on the same rows)\n")
  if ("best" %in% names(x) && any(x$chosen != x$best)) {
    cat("* chosen by the one-standard-error rule: the first candidate within one paired se of the best\n")
  }
  invisible(x)
}

#' @export
plot.deepmnar_mechanisms <- function(x, ...) {
  shown <- x[order(x$loglik), ]
  lo <- shown$difference - 2 * ifelse(is.na(shown$difference_se), 0, shown$difference_se)
  hi <- shown$difference + 2 * ifelse(is.na(shown$difference_se), 0, shown$difference_se)
  graphics::dotchart(shown$difference, labels = shown$mechanism, xlim = range(c(lo, hi, 0)),
                     xlab = "held-out log-likelihood per row, difference to the best (+-2 paired SE)", ...)
  graphics::segments(lo, seq_along(lo), hi, seq_along(hi))
  graphics::abline(v = 0, lty = 2)
  invisible(x)
}

# The evidence lines of print(fit) for a fit that chose its mechanism.
describe_mechanisms <- function(fit) {
  t <- fit$mechanisms$table
  if (is.null(t)) return(character(0))
  folds <- length(fit$mechanisms$folds$held_out_rows)
  c(sprintf(paste0("mechanism chosen by held-out log p(x_obs, mask) per row (%d rows%s, K = %d; the first ",
                   "candidate within one paired se of the best):"), length(fit$mechanisms$rows),
            if (folds > 1) sprintf(" in %d folds", folds) else "", fit$mechanisms$K),
    sprintf("  %-20s %9.3f +- %.3f (vs best %s)%s", t$mechanism, t$loglik, t$se,
            ifelse(t$difference == 0, "-", sprintf("%.3f +- %.3f", t$difference, t$difference_se)),
            ifelse(t$chosen, "  <- chosen", "")))
}

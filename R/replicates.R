#' Bootstrap replicates of a fit
#'
#' Refits the model on `m` bootstrap resamples of its training rows, each
#' warm-started from the fitted parameters and trained for `refit_iterations`
#' Adam steps with the fit's settings, a fresh optimiser state and a seed of its
#' own. The replicates keep the parent's standardisation (the parameters are
#' defined on it). Their spread measures how much the fitted model depends on
#' the sample; [multiple_impute()] draws imputation `d` from replicate `d`,
#' which makes the imputations proper.
#'
#' Replicates run one after the other with `threads` threads each, or in
#' parallel when a future plan with several workers is set; the replicate
#' seeds (and so the resamples) are drawn from `seed` first, so the result is
#' the same for any thread count or plan.
#'
#' @inheritParams multiple_impute
#' @param m Number of replicates.
#' @return A list of `m` fits of the parent's class, each usable with
#'   [impute()], `print()` and the other methods; `fit$replicate` holds the
#'   replicate's seed and resampled row indices.
#' @examples
#' \donttest{
#' x <- banknote[, 1:4]
#' x$variance[x$variance > mean(x$variance)] <- NA
#' fit <- notmiwae(x, iterations = 500, seed = 1, threads = 1)
#' reps <- bootstrap_fits(fit, m = 2, refit_iterations = 100, seed = 1)
#' sapply(reps, function(r) summary(r)$columns$mask_midpoint[1])
#' }
#' @export
bootstrap_fits <- function(fit, m = 10, refit_iterations = NULL, seed = NULL, threads = NULL, progress = interactive()) {
  check_fit(fit)
  m <- check_count(m, "m", 1, 1000)
  seed <- check_seed(seed)
  threads <- check_threads(threads)
  refit_iterations <- check_refit_iterations(refit_iterations, fit)
  seeds <- replicate_seeds(seed, m)
  map_replicates(seq_len(m), function(d) refit_on_resample(fit, seeds[d], refit_iterations, threads, d), progress)
}

# Default: a quarter of the fit's iterations, at least 500.
check_refit_iterations <- function(refit_iterations, fit) {
  if (is.null(refit_iterations)) return(max(500L, as.integer(ceiling(fit$settings$iterations_done / 4))))
  check_count(refit_iterations, "refit_iterations", 1, 1e9)
}

replicate_seeds <- function(seed, m) with_seed(seed, sample.int(.Machine$integer.max - 1L, m))

# One bootstrap replicate: resample the training rows with replacement (from
# the replicate's own seed), then continue training from the parent's
# parameters with a fresh Adam state. Replicate d of an ensemble starts from
# member ((d - 1) mod size) + 1, so the replicates spread over the members.
refit_on_resample <- function(fit, seed, iterations, threads, d = 1L) {
  theta <- member_thetas(fit)
  theta <- theta[[(d - 1L) %% length(theta) + 1L]]
  n <- nrow(fit$data)
  rows <- with_seed(seed, sample.int(n, n, replace = TRUE))
  s <- fit$settings
  args <- list(K = s$K, batch_size = min(s$batch_size, n), iterations = iterations, lr = s$lr, seed = seed,
               threads = threads, starts = 1L)
  rep_fit <- train_model(fit$spec, fit$data[rows, , drop = FALSE], args, FALSE, fit$call, class(fit)[1],
                         scaling = fit$scaling, theta = theta)
  rep_fit$data_format <- fit$data_format
  rep_fit$observation <- fit$observation
  if (!is.null(rep_fit$data_format)) rep_fit$data_format$row_names <- NULL
  rep_fit$replicate <- list(seed = seed, rows = rows)
  rep_fit
}

# Proper multiple imputations: replicate d refitted on its resample, then one
# SIR draw of every missing cell of `target` from it.
replicate_imputations <- function(fit, m, target, L, refit_iterations, seed, threads, progress) {
  threads <- check_threads(threads)
  L <- check_count(L, "L", 1, 1e8)
  refit_iterations <- check_refit_iterations(refit_iterations, fit)
  rows_of(fit, target)  # validates newdata before any refit
  seeds <- replicate_seeds(seed, m)
  map_replicates(seq_len(m), function(d) {
    replicate <- refit_on_resample(fit, seeds[d], refit_iterations, threads, d)
    run <- run_imputation(replicate, target, L, 0L, 1L, seeds[d], threads, FALSE)
    fill_in(run$original, run$draws[, , 1, drop = TRUE], run$x, fit$data_format$types)
  }, progress)
}

# lapply over replicates, through future.apply when a plan with more than one
# worker is set. Seeds are fixed before the map, so the plan does not change
# the result; each replicate sets R's generator from its own seed (and puts it
# back), which future would otherwise flag as undeclared random numbers.
map_replicates <- function(indices, f, progress) {
  if (imputation_workers() > 1) {
    return(future.apply::future_lapply(indices, f, future.seed = NULL, future.packages = "deepmnar"))
  }
  with_progress_bar(progress, "Bootstrap replicates", length(indices), function(show) {
    out <- vector("list", length(indices))
    for (i in seq_along(indices)) {
      out[[i]] <- f(indices[[i]])
      if (!is.null(show)) show(i, NA_real_)
    }
    out
  })
}

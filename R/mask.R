#' Predict the missingness mask
#'
#' Gives, for every cell, the fitted model's probability that the cell is
#' observed, to reconstruct the mask or to check the learned mechanism:
#' \describe{
#'   \item{not-MIWAE}{\eqn{\pi(\hat x)} of the missing model at the row completed
#'     with the conditional-mean imputation.}
#'   \item{GNR}{\eqn{\sum_l \omega_l \sigma(\mathrm{logit}_j(z_l))}: the mask decoder
#'     averaged over the posterior with the self-normalised importance weights
#'     \eqn{\omega_l}.}
#'   \item{not-2-MIWAE}{the mask decoder averaged over the eta draws and the
#'     (z, x^m) draws with the full importance weights.}
#' }
#' For GNR and not-2-MIWAE the importance weights contain \eqn{p(s \mid \cdot)}, so
#' these probabilities condition on the observed mask itself: they measure how
#' well the model reconstructs the mask it was given (as in GNR's Table 3), not
#' how well it would predict the mask of unseen rows from their values.
#' Score it with [mask_accuracy()] against `is.na(data)`.
#'
#' @inheritParams impute
#' @return A numeric matrix (rows x columns of the data) of probabilities that
#'   each cell is observed.
#' @examples
#' x <- banknote[, 1:4]
#' x$variance[x$variance > mean(x$variance)] <- NA
#' fit <- gnr(x, iterations = 300, seed = 1, threads = 1)
#' p_obs <- predict_mask(fit, L = 100)
#' mask_accuracy(p_obs, is.na(x))
#' @export
predict_mask <- function(fit, newdata = NULL, L = 1000, seed = NULL, threads = NULL, progress = interactive()) {
  check_fit(fit)
  if (fit$model == "notmiwae") {
    if (fit$spec$missing_model == "none") {
      deepmnar_abort('This fit is MIWAE (`missing_model = "none"`): it has no model of the mask to predict with.',
                     kind = "input", data = list(argument = "fit"))
    }
    run <- run_imputation(fit, newdata, L, 0L, 0L, seed, threads, progress)
    out <- completed_row_summaries(fit, run, 2L, fit$spec$p)
  } else {
    out <- run_imputation(fit, newdata, L, 0L, 0L, seed, threads, progress, mask = TRUE)$mask
  }
  dimnames(out) <- list(NULL, fit$columns)
  out
}

#' Posterior means of the latent codes
#'
#' The encoder's posterior means of z for each row (the mean of
#' \eqn{q(z \mid x^o)}), for plots of the latent space (t-SNE, UMAP or the first
#' two coordinates). For not-2-MIWAE also the means of eta, from its encoder
#' applied to the row completed with the conditional-mean imputation.
#'
#' @inheritParams impute
#' @param L Importance samples for the imputation that eta's encoder needs
#'   (not-2-MIWAE only).
#' @return A matrix of z means (rows x `latent_dim`), or for not-2-MIWAE a list
#'   with `z` and `eta`.
#' @examples
#' x <- banknote[, 1:4]
#' x$variance[x$variance > mean(x$variance)] <- NA
#' fit <- notmiwae(x, iterations = 300, seed = 1, threads = 1)
#' z <- latent(fit)
#' plot(z[, 1:2], col = banknote$class + 1, xlab = "z1", ylab = "z2")
#' @export
latent <- function(fit, newdata = NULL, L = 1000, seed = NULL, threads = NULL) {
  check_fit(fit)
  x <- rows_of(fit, newdata)
  ed <- engine_data(x, fit$scaling)
  z <- cpp_row_summaries(fit$spec, ed$x, ed$observed, fit$theta, 0L, fit$spec$latent_dim)
  colnames(z) <- paste0("z", seq_len(ncol(z)))
  if (fit$model != "not2miwae") return(z)
  run <- run_imputation(fit, newdata, L, 0L, 0L, seed, threads, FALSE)
  eta <- completed_row_summaries(fit, run, 1L, fit$spec$eta_dim)
  colnames(eta) <- paste0("eta", seq_len(ncol(eta)))
  list(z = z, eta = eta)
}

check_fit <- function(fit) {
  if (!inherits(fit, "deepmnar_fit")) {
    deepmnar_abort("`fit` must be a model fitted by deepmnar, such as `notmiwae()`.", data = list(argument = "fit"))
  }
}

# An engine row summary (`what`: see cpp_row_summaries()) of the rows
# completed with the conditional-mean imputation of `run`.
completed_row_summaries <- function(fit, run, what, width) {
  completed <- run$x
  missing <- is.na(completed)
  completed[missing] <- run$point[missing]
  completed <- standardise(completed, fit$scaling)
  all_observed <- matrix(1L, nrow(completed), ncol(completed))
  cpp_row_summaries(fit$spec, completed, all_observed, fit$theta, what, width)
}

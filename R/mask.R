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
#' how well it would predict the mask of unseen rows from their values. For
#' GNR, `condition_on_mask = FALSE` averages the mask decoder over the
#' posterior of z given the observed values alone (weights without the term
#' \eqn{\alpha \log p(s \mid z)}): a prediction from the values, comparable
#' with not-MIWAE's and with a held-out mask.
#' Score it with [mask_accuracy()] against `is.na(data)`.
#'
#' @inheritParams impute
#' @param condition_on_mask GNR only: `FALSE` leaves the mask out of the
#'   importance weights (see above).
#' @return A numeric matrix (rows x columns of the data) of probabilities that
#'   each cell is observed; a factor column has one entry per row (its levels
#'   share one mask).
#' @examples
#' x <- banknote[, 1:4]
#' x$variance[x$variance > mean(x$variance)] <- NA
#' fit <- gnr(x, iterations = 300, starts = 1, seed = 1, threads = 1)
#' p_obs <- predict_mask(fit, L = 100)
#' mask_accuracy(p_obs, is.na(x))
#' @export
predict_mask <- function(fit, newdata = NULL, L = 1000, seed = NULL, threads = NULL, progress = interactive(),
                         condition_on_mask = TRUE) {
  check_fit(fit)
  if (!is.null(fit$ensemble)) {
    # each member's mask model on its own completions, averaged
    return(mean_of(over_members(fit, check_seed(seed), function(member, member_seed, k) {
      predict_mask(member, newdata, L, member_seed, threads, progress, condition_on_mask)
    })))
  }
  if (!check_flag(condition_on_mask, "condition_on_mask")) {
    if (fit$model != "gnr") {
      deepmnar_abort("`condition_on_mask = FALSE` is for GNR fits, whose importance weights otherwise contain the mask.",
                     data = list(argument = "condition_on_mask"))
    }
    # alpha = 0 drops alpha log p(s | z) from the weights; the mask decoder
    # is still evaluated at every draw of z
    fit$spec$alpha <- 0
  }
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
  by_variable(out, fit$data_format$types)
}

# One column per variable of the user's data: a categorical variable's
# levels share one mask entry, kept once under the variable's name.
by_variable <- function(engine_columns, types) {
  categorical <- categorical_columns(types)
  if (!length(categorical)) return(engine_columns)
  out <- vapply(names(types), function(name) {
    column <- if (name %in% categorical) types[[name]]$units[1] else name
    engine_columns[, column]
  }, numeric(nrow(engine_columns)))
  matrix(out, nrow(engine_columns), dimnames = list(NULL, names(types)))
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
  z <- through_engine(cpp_row_summaries(fit$spec, ed, fit$theta, 0L, fit$spec$latent_dim))
  colnames(z) <- paste0("z", seq_len(ncol(z)))
  if (fit$model != "not2miwae") return(z)
  run <- run_imputation(fit, newdata, L, 0L, 0L, seed, threads, FALSE)
  eta <- completed_row_summaries(fit, run, 1L, fit$spec$eta_dim)
  colnames(eta) <- paste0("eta", seq_len(ncol(eta)))
  list(z = z, eta = eta)
}

# The numeric training matrix of p columns, dense or sparse (a valid dgCMatrix).
is_training_matrix <- function(x, p) {
  if (is_sparse_input(x)) return(methods::is(x, "dgCMatrix") && isTRUE(methods::validObject(x, test = TRUE)) && ncol(x) == p)
  is.matrix(x) && is.numeric(x) && ncol(x) == p
}

check_fit <- function(fit) {
  if (!inherits(fit, "deepmnar_fit")) {
    deepmnar_abort("`fit` must be a model fitted by deepmnar, such as `notmiwae()`.", data = list(argument = "fit"))
  }
  validate_fit(fit)
}

# A fit read back from disk or edited by hand is checked before the engine
# sees it: a spec the engine cannot build, a parameter vector of the wrong
# length or with non-finite values, or data and scaling of the wrong shape
# would otherwise crash R or impute silently with wrong numbers.
validate_fit <- function(fit) {
  damaged <- function(what) {
    deepmnar_abort(sprintf("This fit is damaged or from another version of deepmnar: %s. Refit the model.", what),
                   kind = "damaged_fit", data = list(argument = "fit", field = sub(" .*", "", what)))
  }
  spec <- fit$spec
  if (!is.list(spec)) damaged("`spec` is missing")
  is_count <- function(v, max = 4096) is.numeric(v) && length(v) == 1 && !is.na(v) && v == round(v) && v >= 1 && v <= max
  is_code <- function(v, codes) is.numeric(v) && length(v) == 1 && !is.na(v) && v %in% codes
  model_codes <- codes_of("model")
  if (!is_code(spec$model_code, model_codes)) damaged("`spec$model_code` names no model")
  if (!identical(spec$model, names(model_codes)[match(spec$model_code, model_codes)])) damaged("`spec$model` does not match `spec$model_code`")
  if (!identical(fit$model, spec$model)) damaged("`model` does not name the spec's model")
  if (!is.null(spec$registry_version) && !identical(as.integer(spec$registry_version), registry()$version) &&
      spec$registry_version > registry()$version) {
    damaged(sprintf("`spec$registry_version` is %s, newer than this deepmnar's %d", format(spec$registry_version),
                    registry()$version))
  }
  if (!is_count(spec$p, 1e5)) damaged("`spec$p` is not a column count")
  if (!is_count(spec$latent_dim)) damaged("`spec$latent_dim` is not a dimension")
  for (field in c("hidden", "missing_hidden")) {
    v <- spec[[field]]
    if (!is.numeric(v) || !length(v) || anyNA(v) || any(v != round(v) | v < 1 | v > 4096)) {
      damaged(sprintf("`spec$%s` is not a vector of layer widths", field))
    }
  }
  fields <- registry()$code_fields
  # fits made before the set encoder have no encoder field: the MLP encoder
  optional <- "encoder"
  for (option in names(fields)) {
    code <- spec[[fields[[option]]]]
    if (option %in% optional && is.null(code)) next
    if (!is_code(code, codes_of(option))) damaged(sprintf("`spec$%s` is not a known code", fields[[option]]))
    # the engine reads the code, print() and the R side the name: they must agree
    if (!is.null(code) && !is.null(spec[[option]]) &&
        !identical(spec[[option]], names(codes_of(option))[match(code, codes_of(option))])) {
      damaged(sprintf("`spec$%s` does not match `spec$%s`", option, fields[[option]]))
    }
  }
  for (field in c("set_embedding", "set_code")) {
    if (!is.null(spec[[field]]) && !is_count(spec[[field]])) damaged(sprintf("`spec$%s` is not a size", field))
  }
  # fits made before the auxiliary u have no aux_dim field: none
  if (!is.null(spec$aux_dim) && !(is_count(spec$aux_dim) || (is.numeric(spec$aux_dim) && identical(as.numeric(spec$aux_dim), 0)))) {
    damaged("`spec$aux_dim` is not a dimension (0 for none)")
  }
  if (!is.null(spec$aux_dim) && spec$aux_dim > 0 && !identical(spec$model, "gnr")) {
    damaged("`spec$aux_dim` is set for a model other than GNR")
  }
  if (!is.null(spec$encoder_mask) && !(length(spec$encoder_mask) == 1 && spec$encoder_mask %in% c(0, 1))) {
    damaged("`spec$encoder_mask` is not 0 or 1")
  }
  if (!is_count(spec$K2, 1e5) || !is_count(spec$eta_dim) || !is_count(spec$k, 100)) damaged("`spec` has a bad K2, eta_dim or k")
  p <- spec$p
  # a shared slope of learned sign has direction 0
  directions <- if (shares_slope(spec$missing_model)) c(-1, 0, 1) else c(-1, 1)
  if (!is.numeric(spec$direction) || length(spec$direction) != p || !all(spec$direction %in% directions)) {
    damaged("`spec$direction` does not hold one +1/-1 per column")
  }
  for (field in c("alpha", "pi_prime")) {
    v <- spec[[field]]
    if (!is.numeric(v) || length(v) != 1 || !is.finite(v) || v < 0) damaged(sprintf("`spec$%s` is not a number >= 0", field))
  }
  floor <- spec$sigma_floor
  if (!is.numeric(floor) || !length(floor) %in% c(1, p) || !all(is.finite(floor)) || any(floor < 0)) {
    damaged("`spec$sigma_floor` does not hold one number >= 0 per column")
  }
  if (!is.null(spec$point_mass) && (!is.numeric(spec$point_mass) || length(spec$point_mass) != p ||
                                    any(is.infinite(spec$point_mass)))) {
    damaged("`spec$point_mass` does not hold one value or NA per column")
  }
  for (field in c("rating_lower", "rating_upper", "category_value", "log_scale")) {
    v <- spec[[field]]
    if (!is.null(v) && (!is.numeric(v) || length(v) != p || any(is.infinite(v)))) {
      damaged(sprintf("`spec$%s` does not hold one value or NA per column", field))
    }
  }
  if (!is.null(spec$temperature) && !(is.numeric(spec$temperature) && length(spec$temperature) == 1 &&
                                      is.finite(spec$temperature) && spec$temperature > 0)) {
    damaged("`spec$temperature` is not a positive number")
  }
  if (length(fit$columns) != p || !is.character(fit$columns)) damaged("`columns` does not name the spec's columns")
  if (!is_training_matrix(fit$data, p)) damaged("`data` is not the numeric training matrix")
  sc <- fit$scaling
  if (!is.list(sc) || length(sc$center) != p || length(sc$scale) != p || !all(is.finite(sc$center)) ||
      !all(is.finite(sc$scale)) || any(sc$scale <= 0)) {
    damaged("`scaling` does not hold a finite centre and a positive scale per column")
  }
  # which columns are logs is held twice: by the scaling R applies and by the
  # engine's log_scale (their logs' sd), which turns means back into E[x]
  logged <- if (is.null(sc$log)) rep(FALSE, p) else sc$log
  log_scale <- if (is.null(spec$log_scale)) rep(0, p) else spec$log_scale
  if (!is.logical(logged) || length(logged) != p || anyNA(logged) || !identical(logged, log_scale > 0) ||
      any(abs(log_scale[logged] - sc$scale[logged]) > 1e-12 * sc$scale[logged])) {
    damaged("`scaling$log` and `spec$log_scale` do not name the same log columns with the same scale")
  }
  expected <- through_engine(cpp_n_params(spec))
  check_theta <- function(theta, name) {
    if (!is.numeric(theta) || !all(is.finite(theta))) damaged(sprintf("`%s` is not a finite numeric vector", name))
    if (length(theta) != expected) {
      damaged(sprintf("`%s` has %d parameters where the spec needs %d", name, length(theta), as.integer(expected)))
    }
  }
  check_theta(fit$theta, "theta")
  if (!is.null(fit$ensemble)) {
    members <- fit$ensemble$theta
    if (!is.list(members) || length(members) < 2) damaged("`ensemble$theta` is not a list of at least two parameter vectors")
    for (k in seq_along(members)) check_theta(members[[k]], sprintf("ensemble$theta[[%d]]", k))
    rows <- fit$ensemble$held_out_rows
    if (!is.null(rows) && !valid_row_sets(rows, length(members), engine_rows(engine_data(fit$data, fit$scaling)))) {
      damaged("`ensemble$held_out_rows` is not one set of row indices per member")
    }
  }
  if (!is.null(fit$mechanisms)) validate_mechanisms(fit, damaged)
  invisible(fit)
}

# The candidates of a fit that chose its mechanism: the evidence table and
# each candidate's spec and parameters, which candidate_fit() hands back as a
# fit of its own (validated like one).
validate_mechanisms <- function(fit, damaged) {
  m <- fit$mechanisms
  t <- m$table
  ok <- is.list(m) && is.data.frame(t) && all(c("mechanism", "loglik", "chosen") %in% names(t)) && nrow(t) >= 1 &&
    is.character(t$mechanism) && is.logical(t$chosen) && sum(t$chosen %in% TRUE) == 1 && is.numeric(t$loglik)
  if (!ok) damaged("`mechanisms$table` is not the table of candidates")
  if (!is.list(m$theta) || !is.list(m$spec) || !identical(names(m$theta), t$mechanism) ||
      !identical(names(m$spec), t$mechanism)) {
    damaged("`mechanisms$theta` and `mechanisms$spec` do not hold one entry per candidate")
  }
  folds <- m$folds
  if (!is.null(folds) && (!is.list(folds) || !is.list(folds$theta) || !identical(names(folds$theta), t$mechanism) ||
                          !all(vapply(folds$theta, is.list, logical(1))) ||
                          !all(lengths(folds$theta) == length(folds$held_out_rows)))) {
    damaged("`mechanisms$folds` does not hold each candidate's fit on every fold")
  }
  for (name in t$mechanism) {
    candidate <- fit
    candidate$mechanisms <- NULL
    candidate$ensemble <- if (!is.null(folds)) fold_ensemble(m, name)
    candidate$spec <- m$spec[[name]]
    candidate$theta <- m$theta[[name]]
    tryCatch(validate_fit(candidate), deepmnar_error_damaged_fit = function(e) {
      damaged(sprintf("candidate \"%s\" of `mechanisms`: %s", name, sub("^This fit is damaged or from another version of deepmnar: (.*)\\. Refit the model\\.$", "\\1", conditionMessage(e))))
    })
  }
}

# `rows` is a list of `members` sets of distinct row indices in 1..n.
valid_row_sets <- function(rows, members, n) {
  is.list(rows) && length(rows) == members && all(vapply(rows, function(r) {
    is.numeric(r) && length(r) >= 1 && !anyNA(r) && all(r == round(r)) && all(r >= 1 & r <= n) && !anyDuplicated(r)
  }, logical(1)))
}

# An engine row summary (`what`: see cpp_row_summaries()) of the rows
# completed with the conditional-mean imputation of `run`.
completed_row_summaries <- function(fit, run, what, width) {
  completed <- run$x
  missing <- is.na(completed)
  completed[missing] <- run$point[missing]
  completed <- standardise(completed, fit$scaling)
  all_observed <- matrix(1L, nrow(completed), ncol(completed))
  through_engine(cpp_row_summaries(fit$spec, list(x = completed, observed = all_observed), fit$theta, what, width))
}

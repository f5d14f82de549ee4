# The imputation methods compare_imputers() runs: the built-in baselines
# (mean, median, mice, missForest), deepmnar's models, and user functions.

call_method <- function(method, x, seed, args, default_threads) {
  if (is.function(method)) return(do.call(method, c(list(x, seed), args)))
  switch(method,
         mean = impute_column_stat(x, mean),
         median = impute_column_stat(x, stats::median),
         mice_norm = impute_mice(x, seed, if (is.null(args[["method"]])) c(list(method = "norm"), args) else args),
         mice_pmm = impute_mice(x, seed, args),
         missforest = impute_missforest(x, args),
         notmiwae = impute_deep(notmiwae, x, seed, args, default_threads),
         gnr = impute_deep(gnr, x, seed, args, default_threads),
         not2miwae = impute_deep(not2miwae, x, seed, args, default_threads),
         psmvae = impute_deep(psmvae, x, seed, args, default_threads))
}

# Factor and logical columns get their most frequent level.
impute_column_stat <- function(x, stat) {
  frame <- is.data.frame(x)
  for (j in seq_len(ncol(x))) {
    col <- if (frame) x[[j]] else x[, j]
    miss <- is.na(col)
    if (!any(miss)) next
    if (all(miss)) stop(sprintf("column %d has no observed value to impute from", j), call. = FALSE)
    if (is.factor(col) || is.logical(col)) {
      col[miss] <- most_frequent(col[!miss])$value
      x[[j]] <- col
      next
    }
    col <- as.double(col)
    col[miss] <- stat(col[!miss])
    if (frame) x[[j]] <- col else x[, j] <- col
  }
  x
}

# mice and missForest get a data.frame with plain column names (mice builds
# formulas from them); the completed data come back as a matrix in the
# original column order.
# Factor columns stay factors (mice picks its method per column type;
# missForest grows classification forests), logical ones become factors.
plain_frame <- function(x) {
  df <- if (any(discrete_columns(x))) as.data.frame(x) else as.data.frame(numeric_matrix(x, "data"))
  for (j in which(vapply(df, is.logical, logical(1)))) df[[j]] <- factor(df[[j]], levels = c(FALSE, TRUE))
  names(df) <- paste0("V", seq_len(ncol(df)))
  df
}

# Several completions into one: numeric columns averaged, factor columns by
# the most frequent level in each cell (a majority vote across imputations).
combine_completions <- function(completed) {
  first <- completed[[1]]
  if (!is.data.frame(first) || !any(discrete_columns(first))) {
    return(Reduce(`+`, lapply(completed, as.matrix)) / length(completed))
  }
  for (j in seq_along(first)) {
    if (is.factor(first[[j]])) {
      votes <- vapply(completed, function(d) as.character(d[[j]]), character(nrow(first)))
      first[[j]] <- factor(apply(matrix(votes, nrow(first)), 1, function(v) most_frequent(v)$value),
                           levels = levels(first[[j]]))
    } else {
      first[[j]] <- Reduce(`+`, lapply(completed, `[[`, j)) / length(completed)
    }
  }
  first
}

impute_mice <- function(x, seed, args) {
  require_suggested("mice")
  # [[ ]], not $: `args$m` would partially match `method`.
  if (is.null(args[["m"]])) args[["m"]] <- 5L
  if (is.null(args[["printFlag"]])) args[["printFlag"]] <- FALSE
  # mice warns "Number of logged events" when it drops collinear or constant
  # predictors (see imp$loggedEvents); that is routine, not a failure.
  imp <- withCallingHandlers(
    do.call(mice::mice, c(list(plain_frame(x), seed = seed), args)),
    warning = function(w) {
      if (grepl("^Number of logged events", conditionMessage(w))) invokeRestart("muffleWarning")
    })
  combine_completions(lapply(seq_len(imp$m), function(i) mice::complete(imp, i)))
}

impute_missforest <- function(x, args) {
  require_suggested("missForest")
  fit <- do.call(missForest::missForest, c(list(plain_frame(x)), args))
  if (any(discrete_columns(x))) fit$ximp else as.matrix(fit$ximp)
}

# Fits one of the package's models and imputes. `L` and `type` go to
# impute() (and `tolerance`); `mask_L`, if given, also predicts the mask with that many samples
# and attaches it as attributes "prob_observed" and
# "prob_observed_unconditional" (see mask_accuracy_metric()).
impute_deep <- function(model, x, seed, args, default_threads) {
  impute_names <- c("L", "type", "tolerance")
  mask_L <- args[["mask_L"]]
  args[["mask_L"]] <- NULL
  fit_args <- args[setdiff(names(args), impute_names)]
  impute_args <- args[intersect(names(args), impute_names)]
  if (is.null(fit_args[["threads"]])) fit_args[["threads"]] <- default_threads
  if (is.null(fit_args[["progress"]])) fit_args[["progress"]] <- FALSE
  fit <- do.call(model, c(list(x), fit_args, list(seed = seed)))
  completed <- do.call(impute, c(list(fit), impute_args,
                                 list(seed = seed, threads = fit_args[["threads"]], progress = FALSE)))
  if (!is.null(mask_L)) {
    predict <- function(condition) {
      predict_mask(fit, L = mask_L, seed = seed, threads = fit_args[["threads"]], progress = FALSE,
                   condition_on_mask = condition)
    }
    attr(completed, "prob_observed") <- predict(TRUE)
    # GNR's weights hold the mask itself; the other models' never do.
    attr(completed, "prob_observed_unconditional") <- if (fit$model == "gnr") predict(FALSE) else
      attr(completed, "prob_observed")
  }
  completed
}

#' Mask accuracy as a comparison metric
#'
#' For [compare_imputers()]'s `metrics`: the accuracy of the mask predicted by
#' a deepmnar model (pass `mask_L` in its `method_args` so that the imputation
#' carries [predict_mask()]'s probabilities), `NA` for methods without one.
#' @param truth,imputed,mask As for [imputation_rmse()].
#' @return A number.
#' @export
mask_accuracy_metric <- function(truth, imputed, mask) score_mask_attribute(imputed, mask, "prob_observed")

#' @describeIn mask_accuracy_metric The same with the mask predicted without
#'   conditioning on the observed mask: GNR's `predict_mask(condition_on_mask =
#'   FALSE)`, comparable with the other models' predictions (which never
#'   condition on it) and with a mask held out.
#' @export
mask_accuracy_unconditional_metric <- function(truth, imputed, mask) {
  score_mask_attribute(imputed, mask, "prob_observed_unconditional")
}

score_mask_attribute <- function(imputed, mask, attribute) {
  prob <- attr(imputed, attribute)
  if (is.null(prob)) return(NA_real_)
  mask_accuracy(prob, if (inherits(mask, "deepmnar_amputed")) mask$mask else mask)[["accuracy"]]
}

has_package <- function(pkg) requireNamespace(pkg, quietly = TRUE)

require_suggested <- function(pkg) {
  if (!has_package(pkg)) {
    stop(sprintf("the %s package is not installed: install.packages(\"%s\")", pkg, pkg), call. = FALSE)
  }
}

# A method's output aligned with the truth, by position: a numeric matrix,
# or for data with factor columns a data.frame.
completed_matrix <- function(completed, truth) {
  if (!is.data.frame(completed) && !is.matrix(completed)) {
    stop(sprintf("the method returned %s, not a data.frame or matrix", class(completed)[1]), call. = FALSE)
  }
  if (!identical(dim(completed), dim(truth))) {
    stop(sprintf("the method returned %d x %d data for a %d x %d dataset", nrow(completed), ncol(completed),
                 nrow(truth), ncol(truth)), call. = FALSE)
  }
  if (any(discrete_columns(truth))) {
    out <- as.data.frame(completed)
    names(out) <- names(truth)
    return(out)
  }
  numeric_matrix(completed, "imputed")
}

#' Training options shared by every model
#'
#' The options of the optimisation, the same for [notmiwae()], [gnr()],
#' [not2miwae()] and [psmvae()], which keep only their model's arguments. As
#' with [glm()] and `glm.control()`, each option can also be given to the
#' model function directly: `notmiwae(x, iterations = 500)` is
#' `notmiwae(x, control = train_control(iterations = 500))`.
#'
#' @param iterations Number of Adam steps (a cap under early stopping).
#'   `NULL` (the default) takes 20,000, or under early stopping 25 passes over
#'   the rows when that is more (tables of more than about 12,800 rows at
#'   batch 16), so that a large table is not cut off before it has seen its
#'   rows a few times.
#' @param batch_size Rows per minibatch; `NULL` (the default) takes 16 (64 for
#'   [psmvae()]), or every row when the data have fewer.
#' @param lr Adam learning rate.
#' @param stop_early `TRUE` (the default) or an [early_stopping()] rule: hold
#'   out a share of the rows (10% by default), track the bound on them, stop
#'   when it has stopped improving and keep the best parameters, so that
#'   `iterations` is a cap; reaching the cap while the bound still improves
#'   warns. `FALSE` trains for exactly `iterations` on all rows, as the papers
#'   do (their setting: `iterations = 1e5, stop_early = FALSE`). `fit$stopping`
#'   and `print(fit)` say where and why training stopped.
#' @param starts Number of initialisations to try (see the section on starts
#'   of [notmiwae()]); default 4 for models that learn the mask mechanism
#'   (`"selfmask"`, `"selfmask_shared"` without `direction`, `"linear"`,
#'   `"nonlinear"`, and every [gnr()], [not2miwae()] and [psmvae()] fit), 1
#'   otherwise; 1 when `ensemble > 1`, each member then being one start.
#' @param ensemble Number of fits whose imputations are averaged (see the
#'   section on ensembles of [notmiwae()]); 1, one fit, by default.
#' @param threads Number of threads; default `getOption("deepmnar.threads")` or
#'   up to 4 of [RcppParallel::defaultNumThreads()]. One seed gives the same
#'   fit on any number of threads.
#' @param precision Arithmetic inside the networks' layers: `"double"` (the
#'   default) or `"float"`, single precision for the matrix products and
#'   activations of every encoder and decoder network (parameters, their
#'   gradients, likelihoods, importance weights and the optimiser stay
#'   double). Float does twice the arithmetic per vector instruction: at the
#'   paper's settings on one thread an iteration took 0.81 ms against 1.20
#'   (banknote, p = 4) and 1.62 against 2.15 (p = 30), and imputing banknote
#'   with L = 10,000 7.9 s against 12.8 (`bench/results/precision.md`).
#'   Its bound and gradient differ from double's by float rounding (relative
#'   1e-9 and 1e-7 on the test networks, checked in the tests), which changes
#'   a fit's path but not what it converges to. Double stays the default: it
#'   is what the finite-difference checks and every benchmark of this package
#'   ran with.
#' @param progress Show a progress bar.
#' @return A list of class `deepmnar_train_control`.
#' @examples
#' quick <- train_control(iterations = 300, threads = 1)
#' x <- banknote[, 1:4]
#' x$variance[x$variance > mean(x$variance)] <- NA
#' fit <- notmiwae(x, missing_model = "selfmask_known", seed = 1, control = quick)
#' @export
train_control <- function(iterations = NULL, batch_size = NULL, lr = 1e-3, stop_early = TRUE, starts = NULL,
                          ensemble = 1, threads = NULL, precision = c("double", "float"), progress = interactive()) {
  check_stop_early(stop_early)
  structure(list(
    iterations = if (is.null(iterations)) NULL else check_count(iterations, "iterations", 1, 1e9),
    batch_size = batch_size,  # checked against the rows when the data come
    lr = check_positive_number(lr, "lr", max = 1),
    stop_early = stop_early,
    starts = if (is.null(starts)) NULL else check_count(starts, "starts", 1, 100),
    ensemble = check_count(ensemble, "ensemble", 1, 100),
    threads = if (is.null(threads)) NULL else check_threads(threads),
    precision = check_choice(precision, c("double", "float"), "precision"),
    progress = check_flag(progress, "progress")
  ), class = "deepmnar_train_control")
}

#' @export
print.deepmnar_train_control <- function(x, ...) {
  shown <- vapply(x, function(v) if (is.null(v)) "default" else paste(format(v), collapse = " "), character(1))
  cat("deepmnar training options\n")
  cat(sprintf("  %-10s %s\n", names(shown), shown), sep = "")
  invisible(x)
}

# `control` with the options given directly to a model function (its `...`)
# in place of its own, as glm() merges `...` into glm.control(); checked
# again as a whole, so that an edited control cannot skip train_control().
control_with <- function(control, dots, fun) {
  if (!inherits(control, "deepmnar_train_control")) {
    deepmnar_abort(sprintf("`control` must come from train_control(), not %s.", describe(control)),
                   data = list(argument = "control"))
  }
  given <- names(dots)
  if (is.null(given)) given <- rep("", length(dots))
  unknown <- given == "" | !given %in% names(formals(train_control))
  if (any(unknown)) {
    what <- if (all(given[unknown] == "")) "an unnamed argument" else quote_names(given[unknown & given != ""])
    deepmnar_abort(sprintf("%s() got %s that is neither one of its arguments nor a training option of train_control().",
                           fun, what), data = list(argument = given[unknown][1]))
  }
  options <- unclass(control)
  options[given] <- dots
  do.call(train_control, options)
}

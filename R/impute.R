#' Impute missing values with a fitted model
#'
#' Estimates each missing value by self-normalised importance sampling with
#' `L` draws \eqn{(z_l, x^m_l)} from \eqn{q(z \mid x^o)\,p(x^m \mid z)} and the
#' training weights, e.g. for not-MIWAE
#' \eqn{w_l = p(s \mid x^o, x^m_l)\,p(x^o \mid z_l)\,p(z_l) / q(z_l \mid x^o)},
#' normalised to \eqn{\alpha_l = w_l / \sum w}. `type = "mean"` estimates the
#' conditional mean \eqn{E[x^m \mid x^o, s]}, the best imputation under squared
#' error; `type = "median"` the conditional median, the best under absolute
#' error. How depends on the weights:
#' \describe{
#'   \item{weights free of \eqn{x^m} (MIWAE, GNR)}{the Rao-Blackwellised
#'     estimates: the mean is \eqn{\sum_l \alpha_l E[x^m \mid z_l]} (decoder means),
#'     the median solves \eqn{\sum_l \alpha_l F(x \mid z_l) = 1/2}.}
#'   \item{weights that involve \eqn{x^m} (not-MIWAE with a missing model,
#'     not-2-MIWAE)}{the drawn values themselves: the mean is
#'     \eqn{\sum_l \alpha_l x^m_l} and the median the weighted median of the
#'     \eqn{x^m_l}. Under these models the conditional distribution of \eqn{x^m}
#'     given \eqn{z} and the mask is \eqn{p(x^m \mid z)} reweighted by
#'     \eqn{p(s \mid x)}, so averaging decoder means (as the authors' code does)
#'     would converge to the wrong value.}
#'   \item{not-MIWAE's separable mask models, conditional means}{a missing
#'     cell whose value no other column's mask logit reads (the self-masking
#'     models, `"selfmask_quadratic"`, and under `"mar"` every column that is
#'     not one of the always-observed columns it reads) is summed or
#'     integrated out instead of drawn. With the cell's own logit of
#'     \eqn{P(s_j = 1 \mid x)} equal to \eqn{r + b x_j - c x_j^2} (r from the
#'     rest of the row), the weight carries
#'     \eqn{Z = E[P(s_j = 0 \mid x_j) \mid z_l]} in place of the drawn cell's
#'     mask term, and the value is the mean of \eqn{x_j} reweighted by
#'     \eqn{P(s_j = 0 \mid x_j)}: for a factor, ordered or binary cell a sum
#'     over its levels (the level probabilities, which give the mode); for a
#'     Gaussian cell \eqn{\mu + \sigma E[h'(t)] / Z} (Stein's lemma) by
#'     20-point Gauss-Hermite quadrature (the mean within
#'     \eqn{1.3 \times 10^{-4}} standard deviations while the logit's slope
#'     over \eqn{\mu \pm 3\sigma} stays within 2 per \eqn{\sigma},
#'     \eqn{6.4 \times 10^{-3}} up to 3; a steeper cell keeps its draw); a
#'     point mass adds its atom to the sum. The target is the same; the draws'
#'     noise leaves the weights and the values, so the adaptive `tolerance` is
#'     reached with fewer samples (`bench/results/marginal_mask.md`,
#'     `bench/results/marginal_levels.md`). Not for Student-t parts, log
#'     columns, or mask networks (`"linear"`, `"nonlinear"`), which read every
#'     column; medians, SIR draws and mask probabilities still draw.}
#' }
#' Draws are decoded in chunks with a running log-sum-exp, so the conditional
#' mean needs memory independent of `L`; the median keeps the weights and
#' per-sample values of one row's missing cells per thread. A row with every
#' value missing is imputed from the model given its mask alone.
#'
#' @param fit A fit from [notmiwae()], [gnr()] or [not2miwae()].
#' @param newdata Optional data with the fit's columns (any order); `NULL`
#'   imputes the data the model was fitted on.
#' @param L Number of importance samples per row: the cap when `tolerance` > 0.
#' @param tolerance For conditional means (`type = "mean"` or `"prob"`): a row
#'   stops drawing samples (in chunks of 256) once the Monte Carlo standard
#'   error of each of its imputed values, estimated from the effective sample
#'   size of its weights (at least 20), is below `tolerance` standard deviations
#'   of the column, or at `L`. The error adds `tolerance^2` at most to a
#'   column's mean squared imputation error in standardised units (0.0025 at
#'   the default, against squared errors of 0.1 to 1 on the benchmarks), while
#'   easy rows stop after a few hundred samples. Measured with default fits,
#'   three seeds each (`bench/results/marginal_mask.md`; mean RMSE at
#'   tolerance 0 / 0.02 / 0.05 / 0.1, then seconds on one thread):
#'   datasets::quakes at probability 1, 1.2941 / 1.2940 / 1.2935 / 1.2939,
#'   19.8 / 6.7 / 1.4 / 0.7 s; bench/scale.R's synthetic 3,000 x 20 table,
#'   0.4660 / 0.4658 / 0.4660 / 0.4661, 40.7 / 4.3 / 1.4 / 1.4 s; banknote
#'   0.9290 / 0.9291 / 0.9289 / 0.9290. Over seven datasets and 21 fits, 0.05
#'   moved RMSE by at most 0.003 from drawing all 10,000 samples; lower it
#'   for publication-grade point estimates. `0` always draws `L`.
#' @section Several workers: with a future plan of several workers
#'   (`future::plan(future::multisession, workers = 4)`, or a cluster through
#'   future's backends) and future.apply installed, the incomplete rows are
#'   split into one share per worker and imputed there. Every row draws from
#'   its own random stream of `seed`, so the result is the same for any
#'   number of workers or threads. Set `options(deepmnar.future = FALSE)` to
#'   keep the work in this process.
#'
#' @param diagnostics Attach each row's effective sample size and number of
#'   samples as attributes `ess` and `samples`.
#' @param type `"mean"` or `"median"`; for binary and categorical columns
#'   (logicals, factors) either gives the most probable level given the
#'   observed values. `"prob"`: as `"mean"`, but binary columns hold the
#'   probability of their second level (`TRUE`) instead, as numbers, and the
#'   level probabilities of each imputed cell of a factor with more levels
#'   come as attribute `"probabilities"` (a list with one matrix of imputed
#'   rows x levels per column).
#' @param seed Integer seed (`NULL`: drawn from R's generator).
#' @param threads Number of threads (of each worker, when a future plan with
#'   several workers is set; the default is then 1 so that workers do not
#'   compete for cores).
#' @param progress Show a progress bar.
#' @param ... Nothing: a misspelt argument (say `new_data`) is an error rather
#'   than silently ignored.
#' @return The data as a data.frame (a tibble stays a tibble) on the original
#'   scale, with the observed cells untouched, the missing ones imputed, and the
#'   columns in their original order and types: binary columns hold levels,
#'   integer columns rounded imputations (both as numbers with `type = "prob"`).
#'   With `diagnostics = TRUE`, attributes `ess` and `samples` give, per row,
#'   the effective sample size of its importance weights and the samples drawn
#'   (`NA` for complete rows). A warning names rows whose ESS is below 10.
#' @export
impute <- function(fit, ...) UseMethod("impute")

#' @rdname impute
#' @export
impute.default <- function(fit, ...) {
  deepmnar_abort(sprintf("`fit` must be a model fitted by deepmnar, such as `notmiwae()`, not an object of class %s.",
                         quote_names(class(fit)[1])), data = list(argument = "fit"))
}

#' @rdname impute
#' @export
impute.deepmnar_fit <- function(fit, newdata = NULL, L = 10000, type = c("mean", "median", "prob"), seed = NULL,
                                threads = NULL, progress = interactive(), tolerance = 0.05, diagnostics = FALSE, ...) {
  check_no_extra_args(...)
  type <- check_choice(type, c("mean", "median", "prob"), "type")
  tolerance <- check_nonnegative_number(tolerance, "tolerance")
  run <- run_imputation(fit, newdata, L, if (type == "median") 1L else 0L, 0L, seed, threads, progress,
                        tolerance = tolerance)
  warn_low_ess(run$ess)
  out <- fill_in(run$original, run$point, run$x, fit$data_format$types, probabilities = type == "prob")
  if (check_flag(diagnostics, "diagnostics")) {
    attr(out, "ess") <- run$ess
    attr(out, "samples") <- run$samples
  }
  out
}

# An importance-sampling estimate resting on a handful of effective samples
# is not to be trusted: say which rows.
warn_low_ess <- function(ess, minimum = 10) {
  low <- which(ess < minimum)
  if (!length(low)) return(invisible())
  deepmnar_warn(sprintf(paste0(
    "%d imputed row(s) rest on fewer than %d effective importance samples (row %s; lowest ESS %.1f): their ",
    "imputations are unreliable. Raise `L`, or check these rows (`impute(..., diagnostics = TRUE)`)."),
    length(low), minimum, paste(c(utils::head(low, 5), if (length(low) > 5) "..."), collapse = ", "),
    min(ess[low])), kind = "low_ess")
}

#' Multiple imputation that carries the uncertainty of the fit
#'
#' Draws `m` completed datasets for an analysis pooled by Rubin's rules
#' (`with(imp, lm(...))` and `mice::pool()`).
#'
#' @section Methods:
#' \describe{
#'   \item{`"bootstrap"` (the default)}{Proper multiple imputation. Imputation
#'     `d` comes from a model refitted on its own bootstrap resample of the
#'     rows (see [bootstrap_fits()]): the refit starts from the fitted
#'     parameters and runs `refit_iterations` Adam steps on the resample, and
#'     one value per missing cell is then drawn from that replicate by
#'     sampling-importance-resampling (SIR, below). The spread between the
#'     imputations thus holds both the uncertainty of the missing values given
#'     the model and the uncertainty of the model given the data, which is what
#'     Rubin's rules need; this is the bootstrap route of Amelia's EM and of
#'     mice's `norm.boot`, with a warm start because a deep model cannot be
#'     retrained from scratch m times at reasonable cost. Cost: m refits of
#'     `refit_iterations` steps, by default a quarter of the fit's iterations,
#'     so m = 10 costs about 2.8 fits with their imputations (86 s next to a
#'     31 s fit on banknote with the defaults, one thread:
#'     `bench/results/inference_cost.md`).}
#'   \item{`"sir"`}{All m imputations from the one fitted parameter vector:
#'     for each row, `L` importance samples are weighted as in [impute()] and
#'     `m` of them are resampled with probability proportional to their weights
#'     (a streaming weighted reservoir, so memory does not grow with `L`); each
#'     imputed value is the draw \eqn{x^m_l \sim p(x^m \mid z_l)} of the chosen
#'     sample. This is improper: it leaves out the uncertainty of the
#'     parameters, so pooled standard errors are too small and intervals
#'     undercover, increasingly so as the share of missing information grows.
#'     It is fast, and fine for a point estimate or for looking at the spread
#'     of plausible values of one row.}
#' }
#' Replicate fits run one after the other with `threads` threads each, or in
#' parallel through the future package when a plan with several workers is
#' set (`future::plan(multisession)`, or a cluster): each replicate's seed is
#' drawn from `seed` before any is run, so the imputations are the same for
#' any thread count, plan or number of workers.
#'
#' @inheritParams impute
#' @param m Number of imputed datasets (at least 2 for `"bootstrap"`: Rubin's
#'   rules need a between-imputation variance).
#' @param method `"bootstrap"` (proper) or `"sir"` (single fit, improper); see
#'   the section below.
#' @param L Importance samples per row from which each draw is resampled.
#' @param refit_iterations Adam steps of each bootstrap refit; default a
#'   quarter of the fit's iterations, at least 500.
#' @param format `"mids"` (requires mice) or `"list"` of completed data.frames.
#' @return A `mids` object, or a list of `m` data.frames.
#' @examples
#' \donttest{
#' x <- banknote[, 1:4]
#' x$variance[x$variance > mean(x$variance)] <- NA
#' fit <- notmiwae(x, iterations = 500, seed = 1, threads = 1)
#' if (requireNamespace("mice", quietly = TRUE)) {
#'   imp <- multiple_impute(fit, m = 5, L = 500, refit_iterations = 200, seed = 2)
#'   est <- with(imp, lm(variance ~ skewness + curtosis))
#'   summary(mice::pool(est))
#' }
#' }
#' @export
multiple_impute <- function(fit, m = 5, method = c("bootstrap", "sir"), newdata = NULL, L = 1000,
                            refit_iterations = NULL, format = c("mids", "list"), seed = NULL, threads = NULL,
                            progress = interactive()) {
  check_fit(fit)
  method <- check_choice(method, c("bootstrap", "sir"), "method")
  m <- check_count(m, "m", 1, 1000)
  if (method == "bootstrap" && m < 2) {
    deepmnar_abort(paste0("`m` must be at least 2 for proper multiple imputation (`method = \"bootstrap\"`): ",
                          "Rubin's rules need the variance between imputations. Use `impute()` for one completed dataset."),
                   data = list(argument = "m"))
  }
  format <- check_choice(format, c("mids", "list"), "format")
  if (format == "mids" && !requireNamespace("mice", quietly = TRUE)) {
    deepmnar_abort("`format = \"mids\"` needs the mice package: install.packages(\"mice\"), or use `format = \"list\"`.",
                   kind = "dependency", data = list(argument = "format"))
  }
  seed <- check_seed(seed)
  original <- if (is.null(newdata)) restore_data(fit$data, fit$data_format) else newdata
  completed <- if (method == "sir") {
    run <- run_imputation(fit, newdata, L, 0L, m, seed, threads, progress)
    lapply(seq_len(m), function(d) fill_in(original, run$draws[, , d, drop = TRUE], run$x, fit$data_format$types))
  } else {
    replicate_imputations(fit, m, original, L, refit_iterations, seed, threads, progress)
  }
  if (format == "list") return(completed)
  as_mids(original, completed)
}

# Stacks the incomplete data and its completions in the long format mice reads.
as_mids <- function(original, completed) {
  base <- as.data.frame(original)
  long <- do.call(rbind, c(list(base), lapply(completed, as.data.frame)))
  long <- cbind(.imp = rep(seq_along(c(0, completed)) - 1L, each = nrow(base)),
                .id = rep(seq_len(nrow(base)), length(completed) + 1), long)
  mice::as.mids(long)
}

run_imputation <- function(fit, newdata, L, type_code, draws, seed, threads, progress, mask = FALSE, tolerance = 0) {
  check_fit(fit)
  L <- check_count(L, "L", 1, 1e8)
  seed <- check_seed(seed)
  threads <- imputation_threads(threads)
  original <- if (is.null(newdata)) restore_data(fit$data, fit$data_format) else newdata
  x <- rows_of(fit, newdata)
  # the completed table is dense whatever the input: impute_cells() is the
  # sparse route
  if (is_sparse_input(x)) x <- sparse_as_na_matrix(x)
  if (is_sparse_input(original)) original <- x
  ed <- engine_data(x, fit$scaling)
  check_within_reach(ed, colnames(x), if (is.null(newdata)) "data" else "newdata")
  n <- nrow(x)
  p <- ncol(x)
  # Mask predictions need every row; imputations only the incomplete ones.
  rows_to_visit <- if (mask) seq_len(n) else which(rowSums(ed$observed) < p)
  visited <- engine_imputation(fit, ed, rows_to_visit, L, type_code, draws, seed, threads, mask, tolerance, progress)
  point <- matrix(NA_real_, n, p)
  point[rows_to_visit, ] <- visited$point
  draw_array <- array(NA_real_, c(n, p, draws))
  if (draws > 0) draw_array[rows_to_visit, , ] <- visited$draws
  mask_prob <- if (mask) visited$mask else numeric(0)
  if (mask) dimnames(mask_prob) <- list(NULL, colnames(x))
  ess <- samples <- rep(NA_real_, n)
  ess[rows_to_visit] <- visited$ess
  samples[rows_to_visit] <- visited$samples
  missing <- ed$observed == 0L
  bad_cells <- (missing & !is.finite(point)) | (if (mask) !is.finite(mask_prob) else FALSE)
  if (draws > 0) bad_cells <- bad_cells | (missing & apply(!is.finite(draw_array), c(1, 2), any))
  if (any(bad_cells)) abort_nonfinite_imputation(bad_cells, colnames(x))
  point[!missing] <- 0
  point <- within_rating_range(unstandardise(point, fit$scaling), fit)
  if (draws > 0) {
    for (d in seq_len(draws)) {
      draw_array[, , d] <- within_rating_range(unstandardise(matrix(draw_array[, , d], n, p), fit$scaling), fit,
                                               whole = TRUE)
    }
  } else {
    draw_array <- numeric(0)
  }
  list(original = original, x = x, point = point, draws = draw_array, mask = mask_prob, engine = ed,
       ess = ifelse(rowSums(missing) > 0, ess, NA_real_), samples = ifelse(rowSums(missing) > 0, samples, NA_real_))
}

# With several future workers each runs one thread unless told otherwise.
imputation_threads <- function(threads) {
  if (is.null(threads) && imputation_workers() > 1) 1L else check_threads(threads)
}

# The engine's imputations of `rows` of the engine data `ed`, on the future
# plan's workers when there are several: one row of each output per listed
# row (standardised units), or an error if Ctrl-C stopped it.
engine_imputation <- function(fit, ed, rows, L, type_code, draws, seed, threads, mask, tolerance, progress,
                              cells = NULL) {
  if (!is.null(fit$ensemble)) {
    return(ensemble_imputation(fit, ed, rows, L, type_code, draws, seed, threads, mask, tolerance, progress, cells))
  }
  workers <- imputation_workers()
  # Internal switch for benchmarks and tests: draw the missing cells of
  # self-masking models instead of integrating them (read here, so that
  # future workers see the caller's value).
  marginal <- !identical(getOption("deepmnar.marginal_mask"), FALSE)
  engine_rows <- function(rows, show = NULL) {
    through_engine(cpp_impute(fit$spec, ed, fit$theta, as.integer(rows), L, min(L, 256L), type_code, draws, seed,
                              threads, mask, show, tolerance, cells, marginal))
  }
  out <- if (workers > 1 && length(rows) >= 2 * workers) {
    impute_on_workers(engine_rows, rows, workers)
  } else {
    with_progress_bar(progress, "Imputing", length(rows), function(show) engine_rows(rows, show))
  }
  if (isTRUE(out$interrupted)) deepmnar_abort("Imputation was interrupted.", kind = "interrupt")
  out
}

# An ensemble imputes with each member (member k from the k-th of the start
# seeds of `seed`) and averages: conditional means and mask probabilities are
# those of the equal mixture of the members' posteriors; a median is the
# members' medians averaged. SIR draw d comes from member ((d - 1) mod size)
# + 1, so m draws spread over the members. A row's ESS is its smallest over
# the members, its samples their sum.
ensemble_imputation <- function(fit, ed, rows, L, type_code, draws, seed, threads, mask, tolerance, progress, cells) {
  owner <- (seq_len(draws) - 1L) %% length(fit$ensemble$theta) + 1L
  parts <- over_members(fit, seed, function(member, member_seed, k) {
    engine_imputation(member, ed, rows, L, type_code, sum(owner == k), member_seed, threads, mask, tolerance,
                      progress, cells)
  })
  average <- function(what) mean_of(lapply(parts, `[[`, what))
  out <- parts[[1]]
  out$point <- average("point")
  if (mask) out$mask <- average("mask")
  out$ess <- do.call(pmin, lapply(parts, `[[`, "ess"))
  out$samples <- Reduce(`+`, lapply(parts, `[[`, "samples"))
  if (draws > 0) {
    out$draws <- array(NA_real_, c(dim(out$point), draws))
    for (k in unique(owner)) out$draws[, , owner == k] <- parts[[k]]$draws
  }
  out
}

# Workers of the future plan when future.apply is there to use them (as
# compare_imputers() does), else 1.
imputation_workers <- function() {
  if (!use_future_apply()) return(1L)
  as.integer(future::nbrOfWorkers())
}

# The rows split into one contiguous share per worker, each imputed by its
# worker with the whole data at hand, and the shares put back together. Every
# row draws from its own random stream (seed, row), so the result does not
# depend on the split.
impute_on_workers <- function(engine_rows, rows, workers) {
  shares <- split(rows, cut(seq_along(rows), workers, labels = FALSE))
  parts <- future.apply::future_lapply(shares, function(share) engine_rows(share), future.seed = NULL,
                                       future.packages = "deepmnar")
  bind <- function(what) do.call(rbind, lapply(parts, `[[`, what))
  list(point = bind("point"),
       draws = if (length(parts[[1]]$draws)) abind_rows(lapply(parts, `[[`, "draws")) else numeric(0),
       mask = if (length(parts[[1]]$mask)) bind("mask") else numeric(0),
       ess = unlist(lapply(parts, `[[`, "ess")), samples = unlist(lapply(parts, `[[`, "samples")),
       interrupted = any(vapply(parts, function(part) isTRUE(part$interrupted), logical(1))))
}

# Arrays of rows x columns x draws stacked by rows.
abind_rows <- function(arrays) {
  d <- dim(arrays[[1]])
  out <- array(NA_real_, c(sum(vapply(arrays, function(a) dim(a)[1], integer(1))), d[2], d[3]))
  at <- 0L
  for (a in arrays) {
    out[at + seq_len(dim(a)[1]), , ] <- a
    at <- at + dim(a)[1]
  }
  out
}

# Runs `work(show)` with a cli progress bar of `total` steps (`show` updates
# it) when `progress` is on, else with `show = NULL`.
with_progress_bar <- function(progress, label, total, work) {
  if (!progress || !total) return(work(NULL))
  bar <- cli::cli_progress_bar(label, total = total, clear = TRUE)
  on.exit(cli::cli_progress_done(id = bar))
  work(function(done, value) cli::cli_progress_update(set = done, id = bar))
}

# Imputations of rating columns stay on their scale: the decoder's means do,
# but a Gaussian draw (and so, under a missing model, a mean of draws) can
# leave it. With `whole`, draws are also values a rating takes: whole numbers
# on a column whose range and observed values are whole numbers.
within_rating_range <- function(values, fit, whole = FALSE) {
  tab <- fit$observation
  if (is.null(tab$rating_lower)) return(values)
  for (j in which(tab$family == "rating")) {
    v <- values[, j]
    seen <- column_observed_values(fit$data, j)
    ends <- c(tab$rating_lower[j], tab$rating_upper[j])
    if (whole && all(c(ends, seen) == round(c(ends, seen)))) v <- round(v)
    values[, j] <- clamp_to_rating_range(v, j, fit)
  }
  values
}

# `values` of columns `col` (indices), those of rating columns within their range.
clamp_to_rating_range <- function(values, col, fit) {
  tab <- fit$observation
  if (is.null(tab$rating_lower)) return(values)
  rating <- tab$family[col] == "rating"
  values[rating] <- pmin(pmax(values[rating], tab$rating_lower[col][rating]), tab$rating_upper[col][rating])
  values
}

# The training data as the user gave it: a data.frame or tibble with its
# integer columns and row names back (a matrix stays a matrix). Fits without
# `data_format` (older versions) give the matrix.
restore_data <- function(x, format) {
  if (is_sparse_input(x)) return(sparse_as_na_matrix(x))
  if (is.null(format) || identical(format$kind, "matrix")) return(x)
  out <- as.data.frame(x, optional = TRUE)
  names(out) <- colnames(x)
  for (j in which(format$integer)) out[[names(format$types)[j]]] <- as.integer(out[[names(format$types)[j]]])
  for (name in binary_columns(format$types)) out[[name]] <- decode_binary(out[[name]], format$types[[name]])
  out <- collapse_categories(out, format$types)
  if (!is.null(format$row_names)) rownames(out) <- format$row_names
  if (identical(format$kind, "tibble") && requireNamespace("tibble", quietly = TRUE)) out <- tibble::as_tibble(out)
  out
}

# Writes the imputed cells into the user's data, keeping its class, column
# names, order and observed values; binary and categorical columns get their
# levels back (the more likely level) and integer columns rounded values.
# With `probabilities`, binary columns hold P(second level) instead, integer
# columns the unrounded means, and the imputed level probabilities of each
# categorical column come as attribute "probabilities" (per column, a matrix
# of the imputed rows x levels).
fill_in <- function(original, values, x, types = NULL, probabilities = FALSE) {
  values <- matrix(values, nrow(x), ncol(x), dimnames = list(NULL, colnames(x)))
  # a matrix of rating levels (obs = "categorical") keeps its own columns
  out <- if (!is.matrix(original)) original else if (length(categorical_columns(types))) as_rating_frame(original) else
    as.data.frame(x)
  binary <- binary_columns(types)
  level_units <- level_unit_names(types)
  for (j in seq_len(ncol(x))) {
    miss <- is.na(x[, j])
    name <- colnames(x)[j]
    if (!any(miss) || name %in% level_units) next
    col <- out[[name]]
    if (name %in% binary && !probabilities) {
      col[miss] <- decode_binary(values[miss, j], types[[name]])
    } else if (is.integer(col) && !probabilities) {
      col[miss] <- as.integer(round(values[miss, j]))
    } else {
      if (name %in% binary) col <- x[, j]
      if (!is.double(col)) col <- as.double(col)
      col[miss] <- values[miss, j]
    }
    out[[name]] <- col
  }
  level_probabilities <- list()
  for (name in categorical_columns(types)) {
    units <- types[[name]]$units
    miss <- is.na(x[, units[1]])
    if (!any(miss)) next
    prob <- values[miss, units, drop = FALSE]
    dimnames(prob) <- list(which(miss), types[[name]]$levels)
    out[[name]][miss] <- decode_categorical(prob, types[[name]])
    level_probabilities[[name]] <- prob
  }
  if (probabilities && length(level_probabilities)) attr(out, "probabilities") <- level_probabilities
  out
}

# Observed values so far from the training data that the networks saturate or
# overflow (1e300 in a column with sd 1) cannot be imputed from; say which.
check_within_reach <- function(ed, columns, arg, limit = 1e6) {
  cells <- observed_cells(ed)
  far <- which(abs(cells$value) > limit)
  if (!length(far)) return(invisible())
  cols <- columns[sort(unique(cells$col[far]))]
  deepmnar_abort(sprintf(paste0(
    "Column %s of `%s` holds values more than %g standard deviations from the training mean (e.g. %s in row %d): ",
    "the model cannot impute from them. Check the units or recode them as NA."),
    quote_names(cols), arg, limit, format(cells$value[far[1]], digits = 3), cells$row[far[1]]),
    data = list(argument = arg, columns = cols))
}

# The parameters are finite (validate_fit()) and the inputs within reach, so a
# non-finite imputation means the fitted model itself overflows there.
abort_nonfinite_imputation <- function(bad_cells, columns) {
  rows <- which(rowSums(bad_cells) > 0)
  cols <- columns[colSums(bad_cells) > 0]
  deepmnar_abort(sprintf(paste0(
    "The fitted model gives non-finite imputations in %d row(s) (first: row %d; column %s): its parameters are ",
    "finite but overflow on these rows, a sign that training diverged. Refit with a lower `lr` or more starts."),
    length(rows), rows[1], quote_names(cols)), kind = "nonfinite", data = list(rows = rows, columns = cols))
}

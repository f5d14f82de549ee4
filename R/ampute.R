# Missingness mechanisms of the MNAR papers (not-MIWAE, GNR, PSMVAE and the
# not-MIWAE re-implementation report). One entry point, `ampute_mnar()`; each
# mechanism is a small internal function that returns the per-cell probability
# of going missing, so the random draw, the MCAR add-on, the seed handling and
# the output object are shared by all of them.

#' Make complete data missing not at random (MNAR)
#'
#' Inserts `NA`s into a complete numeric data set with the missingness
#' mechanisms used in the MNAR imputation literature, so that imputation
#' methods can be benchmarked against the values that were removed.
#'
#' @section Mechanisms:
#' Every mechanism acts on the columns in `columns` only (defaults below) and
#' is evaluated on the complete data. `x` denotes a column, `z` its
#' standardised version `(x - mean(x)) / sd(x)`.
#'
#' \describe{
#'   \item{`"self_mask_mean"`}{Self-masking above the mean: a value strictly
#'     greater than its column mean goes missing with probability `prob`.
#'     With `prob = 1` this is the UCI experiment of not-MIWAE (Ipsen et al.,
#'     2021); GNR (Chen et al., 2023) uses `prob` = 0.2, 0.8 and 1. Default
#'     columns: the first `floor(p / 2)` columns (at least one).}
#'   \item{`"self_mask_offset"`}{As `"self_mask_mean"` with the cut-off moved
#'     to `mean + offset * sd` (`z > offset`); not-MIWAE appendix E varies
#'     `offset` from 0 to 1 to lower the missing rate.}
#'   \item{`"median_one"`}{PSMVAE's "MNAR1var" (Ghalebikesabi et al., 2021):
#'     values strictly above the column median go missing with probability
#'     `prob` (the paper uses 0.2). Unless `columns` is given, one column is
#'     drawn at random among the columns with more than 10% and fewer than 90%
#'     of the rows strictly above their median (this excludes columns whose
#'     median is tied by many rows), as in the authors' code. With `columns`
#'     given, every listed column is masked this way.}
#'   \item{`"extremes"`}{The lowest and the highest tails: values strictly
#'     below the `rate / 2` quantile or strictly above the `1 - rate / 2`
#'     quantile go missing with probability `prob`. The default `rate = 0.5`
#'     removes the lowest 25% and the highest 25%, as in the not-MIWAE
#'     re-implementation report. Default columns: first `floor(p / 2)`.}
#'   \item{`"central"`}{A band around the mean: the fraction `rate` of values
#'     closest to the column mean (`|z|` strictly below its `rate` quantile)
#'     goes missing with probability `prob`; the re-implementation report
#'     removes 30% around the mean (default `rate = 0.3`). Default columns:
#'     first `floor(p / 2)`.}
#'   \item{`"logistic"`}{Logistic self-masking, the "clipping" model of the
#'     not-MIWAE SVHN experiment: each value is observed with probability
#'     `P(observed) = 1 / (1 + exp(w * (v - b)))`, i.e. `plogis(-w * (v - b))`,
#'     where `v` is the standardised value `z` (`standardise = TRUE`) or the
#'     raw value (`standardise = FALSE`). Positive `w` makes large values go
#'     missing; `w = 50, b = 0.75, standardise = FALSE` is the SVHN setting
#'     for pixels in \eqn{[0, 1]}. `prob` is not used. Default columns: first
#'     `floor(p / 2)`.}
#'   \item{`"disjunction"`}{The "*" scenario of GNR Table 1: "if first feature
#'     value \eqn{x_1 > \bar x_1} or second feature value
#'     \eqn{x_2 < \bar x_2}, \eqn{x_1 / x_2} will be missing with 100%
#'     probability". It is implemented as: the first of the two `columns`
#'     goes missing when it is above its mean and the second when it is below
#'     its mean, each with probability `prob` (default 1), so a row has a
#'     missing value whenever \eqn{x_1 > \bar x_1} or \eqn{x_2 < \bar x_2}.
#'     This reading ("x1 / x2" = respectively) is the one consistent with the
#'     mean-imputation RMSE of that column of Table 1 (1.71, identical to the
#'     100% self-masking column; masking both values when either condition
#'     holds would give a different number). `columns` must name exactly two
#'     columns (default: the first two).}
#'   \item{`"mcar"`}{Missing completely at random: each cell of `columns`
#'     (default: all columns) goes missing with probability `mcar`.}
#' }
#'
#' `mcar > 0` with any other mechanism adds MCAR missingness on **all**
#' columns on top of it (GNR's "80% + 20% MCAR"): a cell is missing when the
#' MNAR mechanism or the independent MCAR draw removes it.
#'
#' @section Standardisation:
#' The papers standardise each column with the mean and standard deviation of
#' the complete data before introducing missingness. `ampute_mnar()` does the
#' same internally: every threshold (mean, `mean + offset * sd`, median,
#' quantiles, band) is computed on the complete column, and the standard
#' deviation is the population one (denominator `n`, as `numpy.std` in the
#' authors' code). Thresholds based on the mean, median or quantiles do not
#' depend on standardisation; only `"logistic"` does, through the scale on
#' which `w` and `b` act. The returned `data` keep the original scale; the
#' means and standard deviations used are returned as `center` and `scale`.
#'
#' @section Reproducibility:
#' With `seed` given, the mask is drawn from a stream seeded from `seed`
#' (with the session's current `RNGkind()`), and the caller's random number
#' stream is restored afterwards, so amputing does not change any later
#' random result. The stream is derived from, not equal to, `set.seed(seed)`,
#' so data simulated after `set.seed(seed)` and amputed with the same `seed`
#' do not share their random numbers with the mask.
#' With `seed = NULL` the global stream is used and advanced as usual.
#'
#' @param data A complete `data.frame` or numeric matrix (no `NA`s). Factor
#'   and logical columns may be made missing by `"self_mask_mean"` or
#'   `"self_mask_offset"` (the values in their `levels` go missing with
#'   probability `prob`: a category that goes missing more often than the
#'   others, MNAR for a categorical variable) and by `"mcar"`.
#' @param mechanism The mechanism, one of the names listed under
#'   "Mechanisms".
#' @param columns Columns to make missing, as names or positions; `NULL` for
#'   the mechanism's default.
#' @param prob Probability that a value in the mechanism's at-risk region
#'   (above the mean, above the median, in the tails, ...) goes missing.
#'   Not used by `"logistic"` and `"mcar"`.
#' @param offset Cut-off of `"self_mask_offset"` in standard deviations above
#'   the mean.
#' @param rate Size of the at-risk region, as a fraction of the column, for
#'   `"extremes"` (default 0.5) and `"central"` (default 0.3); an error for
#'   the other mechanisms.
#' @param w,b Slope and location of `"logistic"`.
#' @param mcar MCAR rate: the rate of `"mcar"`, or an MCAR rate added on all
#'   columns on top of any other mechanism.
#' @param seed `NULL` or a single integer seed (see "Reproducibility").
#' @param standardise Evaluate `"logistic"` on standardised values (`TRUE`,
#'   default) or on the raw values.
#' @param levels For factor and logical columns among `columns`: a named list
#'   giving, per column, the levels whose values go missing; default the last
#'   level (`TRUE` for a logical, the highest of an ordered factor).
#'
#' @return A list of class `"deepmnar_amputed"` with
#'   \describe{
#'     \item{`data`}{`data` with `NA`s inserted (same class, names and
#'       dimensions as the input).}
#'     \item{`mask`}{logical matrix, `TRUE` where a value was made missing,
#'       with the dimensions and dimnames of `data`.}
#'     \item{`prob_missing`}{numeric matrix: the true probability that each
#'       cell goes missing under the mechanism (including the MCAR add-on).
#'       Cells with `prob_missing > 0` form the at-risk region, e.g. the true
#'       pattern set of `"median_one"`.}
#'     \item{`mechanism`}{the mechanism name.}
#'     \item{`columns`}{integer positions of the MNAR columns, named by the
#'       column names when `data` has them.}
#'     \item{`params`}{the parameters used (`prob`, `offset`, `rate`, `w`,
#'       `b`, `mcar`, `seed`, `standardise`).}
#'     \item{`center`, `scale`}{complete-data column means and population
#'       standard deviations (NA for factor and logical columns).}
#'   }
#'
#' @references
#' Ipsen, N. B., Mattei, P.-A. and Frellsen, J. (2021). not-MIWAE: Deep
#' generative modelling with missing not at random data. ICLR 2021.
#'
#' Chen, J., Xu, Y. et al. (2023). Deep generative imputation
#' model for missing not at random data. CIKM 2023.
#' \doi{10.1145/3583780.3614835}
#'
#' Ghalebikesabi, S., Cornish, R., Holmes, C. and Kelly, L. (2021). Deep
#' generative missingness pattern-set mixture models. AISTATS 2021.
#'
#' @examples
#' set.seed(1)
#' x <- matrix(rnorm(400), 100, 4, dimnames = list(NULL, paste0("x", 1:4)))
#' a <- ampute_mnar(x, "self_mask_mean", seed = 1)
#' a
#' colMeans(a$mask)
#' # GNR: 80% above the mean plus 20% MCAR everywhere
#' ampute_mnar(x, "self_mask_mean", prob = 0.8, mcar = 0.2, seed = 1)
#' # PSMVAE MNAR1var on a data frame
#' ampute_mnar(as.data.frame(x), "median_one", prob = 0.2, seed = 2)
#' @md
#' @export
ampute_mnar <- function(data,
                        mechanism = c("self_mask_mean", "self_mask_offset",
                                      "median_one", "extremes", "central",
                                      "logistic", "disjunction", "mcar"),
                        columns = NULL, prob = 1, offset = 0, rate = NULL,
                        w = 2, b = 0, mcar = 0, seed = NULL,
                        standardise = TRUE, levels = NULL) {
  mechanism <- match_mechanism(mechanism)
  x <- numeric_matrix(data, "data", factors = TRUE)
  check_complete(x)
  check_ampute_args(mechanism, prob, offset, rate, w, b, mcar, seed,
                    standardise)
  rate <- default_rate(mechanism, rate)
  discrete <- discrete_columns(data)

  center <- colMeans(x)
  scale <- pop_sd(x)
  center[discrete] <- NA
  scale[discrete] <- NA

  with_seed(seed, {
    # Column choice of "median_one" is random, so it happens under the seed.
    cols <- resolve_columns(columns, x, mechanism)
    at_risk <- levels_at_risk(data, cols[discrete[cols]], mechanism, levels)
    amounts <- if (mechanism == "mcar") cols else setdiff(cols, which(discrete))
    check_not_constant(x, amounts, scale, mechanism)
    z <- sweep(sweep(x, 2L, center, "-"), 2L, ifelse(scale > 0, scale, 1),
               "/")
    p_mnar <- mechanism_prob(mechanism, x, z, amounts,
                             prob = prob, offset = offset, rate = rate, w = w,
                             b = b, mcar = mcar, standardise = standardise)
    for (j in names(at_risk)) {
      p_mnar[, match(j, colnames(x))] <-
        prob * (as.character(data[[j]]) %in% at_risk[[j]])
    }
    p_miss <- add_mcar(p_mnar, if (mechanism == "mcar") 0 else mcar)
    mask <- draw_mask(p_mnar, if (mechanism == "mcar") 0 else mcar)
  })
  dimnames(mask) <- dimnames(data)
  dimnames(p_miss) <- dimnames(data)

  structure(
    list(
      data = insert_na(data, mask),
      mask = mask,
      prob_missing = p_miss,
      mechanism = mechanism,
      columns = stats::setNames(cols, colnames(x)[cols]),
      params = list(prob = prob, offset = offset, rate = rate, w = w, b = b,
                    mcar = mcar, seed = seed, standardise = standardise,
                    levels = at_risk),
      center = center,
      scale = scale
    ),
    class = "deepmnar_amputed"
  )
}

#' @md
#' @export
print.deepmnar_amputed <- function(x, ...) {
  mask <- x$mask
  labels <- names(x$columns)
  if (is.null(labels)) labels <- paste0("V", x$columns)
  cat("<deepmnar_amputed> mechanism: ", x$mechanism, "\n", sep = "")
  cat("  data: ", nrow(mask), " rows x ", ncol(mask), " columns (",
      if (is.data.frame(x$data)) "data.frame" else "matrix", ")\n", sep = "")
  cat("  columns: ", paste(labels, collapse = ", "), "\n", sep = "")
  if (x$params$mcar > 0 && x$mechanism != "mcar") {
    cat("  plus MCAR on all columns at rate ", x$params$mcar, "\n", sep = "")
  }
  cat("  missing: ", sum(mask), " cells (",
      format_pct(mean(mask)), " of all cells)\n", sep = "")
  per_col <- colMeans(mask)[x$columns]
  cat("  missing rate per column: ",
      paste0(labels, " ", format_pct(per_col), collapse = ", "), "\n",
      sep = "")
  n_all <- sum(rowSums(mask) == ncol(mask))
  if (n_all > 0) cat("  rows with every value missing: ", n_all, "\n", sep = "")
  if (!is.null(x$params$seed)) cat("  seed: ", x$params$seed, "\n", sep = "")
  invisible(x)
}

# ---- mechanisms: each returns an n x p matrix of P(missing) ---------------

# The levels of each factor (or logical) column in `cols` whose values go
# missing with probability `prob`: `levels[[column]]` if given, else the
# last level (TRUE for a logical, the highest level of an ordered factor).
# A class has no mean or quantiles, so only the self-masking mechanisms and
# MCAR apply to it.
levels_at_risk <- function(data, cols, mechanism, levels) {
  names_of <- colnames(data)[cols]
  if (!is.null(levels) && (!is.list(levels) || is.null(names(levels)) ||
                           !all(names(levels) %in% names_of))) {
    abort_input(paste0("`levels` must be a named list of levels for factor ",
                       "or logical columns among `columns`."))
  }
  if (!length(cols) || mechanism == "mcar") return(list())
  if (!mechanism %in% c("self_mask_mean", "self_mask_offset")) {
    abort_input(sprintf(paste0(
      "`data` column '%s' is a factor or logical: \"%s\" needs amounts. ",
      "Use \"self_mask_mean\" (its `levels` go missing) or \"mcar\"."),
      names_of[1], mechanism))
  }
  out <- lapply(names_of, function(name) {
    col <- data[[name]]
    all_levels <- if (is.logical(col)) c("FALSE", "TRUE") else levels(col)
    chosen <- if (is.null(levels[[name]])) all_levels[length(all_levels)] else as.character(levels[[name]])
    unknown <- setdiff(chosen, all_levels)
    if (length(unknown)) {
      abort_input(sprintf("`levels` for column '%s' names unknown level(s): %s.",
                          name, paste0("'", unknown, "'", collapse = ", ")))
    }
    chosen
  })
  stats::setNames(out, names_of)
}

mechanism_prob <- function(mechanism, x, z, cols, prob, offset, rate, w, b,
                           mcar, standardise) {
  p <- matrix(0, nrow(x), ncol(x))
  p[, cols] <- switch(
    mechanism,
    self_mask_mean = prob * (z[, cols] > 0),
    self_mask_offset = prob * (z[, cols] > offset),
    median_one = prob * above_median(z[, cols, drop = FALSE]),
    extremes = prob * in_tails(z[, cols, drop = FALSE], rate),
    central = prob * in_central_band(z[, cols, drop = FALSE], rate),
    logistic = stats::plogis(w * ((if (standardise) z else x)[, cols] - b)),
    disjunction = prob * cbind(z[, cols[1]] > 0, z[, cols[2]] < 0),
    mcar = mcar
  )
  p
}

above_median <- function(z) {
  apply(z, 2L, function(v) v > stats::median(v))
}

in_tails <- function(z, rate) {
  apply(z, 2L, function(v) {
    q <- stats::quantile(v, c(rate / 2, 1 - rate / 2), names = FALSE)
    v < q[1] | v > q[2]
  })
}

in_central_band <- function(z, rate) {
  # Distance to the mean; z is centred, so this is |z|.
  apply(z, 2L, function(v) {
    d <- abs(v)
    d < stats::quantile(d, rate, names = FALSE)
  })
}

# Union of the MNAR mechanism and an independent MCAR draw.
add_mcar <- function(p_mnar, mcar) {
  1 - (1 - p_mnar) * (1 - mcar)
}

draw_mask <- function(p_mnar, mcar) {
  # Draw MNAR and MCAR separately (rather than from the combined
  # probability) so that the MNAR part of the mask with a given seed does not
  # change when an MCAR rate is added.
  n <- length(p_mnar)
  mask <- stats::runif(n) < p_mnar
  if (mcar > 0) mask <- mask | stats::runif(n) < mcar
  matrix(mask, nrow(p_mnar), ncol(p_mnar))
}

# ---- columns --------------------------------------------------------------

resolve_columns <- function(columns, x, mechanism) {
  if (is.null(columns)) return(default_columns(x, mechanism))
  cols <- column_positions(columns, x)
  if (mechanism == "disjunction" && length(cols) != 2L) {
    abort_input(sprintf(
      "`columns` must name exactly 2 columns for \"disjunction\", not %d.",
      length(cols)))
  }
  cols
}

default_columns <- function(x, mechanism) {
  p <- ncol(x)
  switch(
    mechanism,
    mcar = seq_len(p),
    median_one = pick_median_column(x),
    disjunction = {
      if (p < 2L) {
        abort_input("`data` needs at least 2 columns for \"disjunction\".")
      }
      1:2
    },
    # not-MIWAE: the first int(D/2) columns; at least one so p = 1 works.
    seq_len(max(1L, p %/% 2L))
  )
}

# PSMVAE's MNAR1var draws one column among those where between 10% and 90%
# of the rows lie strictly above the median (heavily tied columns are
# skipped, otherwise almost nothing would be at risk).
pick_median_column <- function(x) {
  n <- nrow(x)
  share <- colSums(sweep(x, 2L, apply(x, 2L, stats::median), ">"))
  ok <- which(share > 0.1 * n & share < 0.9 * n)
  if (length(ok) == 0L) {
    abort_input(paste0(
      "No column of `data` has between 10% and 90% of rows above its ",
      "median; give `columns` explicitly."))
  }
  ok[sample.int(length(ok), 1L)]
}

column_positions <- function(columns, x) {
  p <- ncol(x)
  if (is.character(columns)) {
    unknown <- setdiff(columns, colnames(x))
    if (length(unknown) > 0L) {
      abort_input(sprintf("`columns` names unknown column(s): %s.",
                          paste0("'", unknown, "'", collapse = ", ")))
    }
    cols <- match(columns, colnames(x))
  } else if (is.numeric(columns) && !anyNA(columns) &&
             all(columns == round(columns))) {
    bad <- columns[columns < 1 | columns > p]
    if (length(bad) > 0L) {
      abort_input(sprintf("`columns` has position(s) %s outside 1..%d.",
                          paste(bad, collapse = ", "), p))
    }
    cols <- as.integer(columns)
  } else {
    abort_input("`columns` must be column names or positive integer positions.")
  }
  if (length(cols) == 0L) abort_input("`columns` must not be empty.")
  unique(cols)
}

# ---- input checks -----------------------------------------------------------

# Factor and logical columns: classes, not amounts (numeric_matrix() codes
# them 1..K and 0/1 when `factors`).
discrete_columns <- function(data) {
  if (!is.data.frame(data)) return(rep(FALSE, NCOL(data)))
  vapply(data, function(col) is.factor(col) || is.logical(col), logical(1))
}

match_mechanism <- function(mechanism) {
  choices <- c("self_mask_mean", "self_mask_offset", "median_one", "extremes",
               "central", "logistic", "disjunction", "mcar")
  if (!is.character(mechanism) || length(mechanism) == 0L) {
    abort_input("`mechanism` must be a character string.")
  }
  if (length(mechanism) > 1L) {
    # the default vector: take the first choice as match.arg() would
    if (identical(mechanism, choices)) return(choices[1])
    abort_input("`mechanism` must be a single string.")
  }
  if (!mechanism %in% choices) {
    abort_input(sprintf("`mechanism` must be one of %s, not '%s'.",
                        paste0("\"", choices, "\"", collapse = ", "),
                        mechanism))
  }
  mechanism
}

# Converts a data.frame or matrix to a numeric matrix, naming the first
# non-numeric column in the error so the user knows what to drop.
numeric_matrix <- function(data, arg, factors = FALSE) {
  if (is.data.frame(data)) {
    if (ncol(data) == 0L) abort_input(sprintf("`%s` has no columns.", arg))
    # is.numeric() is FALSE for factors, dates and logicals.
    is_num <- vapply(data, is.numeric, logical(1)) | (factors & discrete_columns(data))
    if (!all(is_num)) {
      bad <- names(data)[!is_num][1]
      abort_input(sprintf(
        "`%s` column '%s' is not numeric (%s); drop label and other non-numeric columns first.",
        arg, bad, class(data[[bad]])[1]))
    }
    x <- matrix(vapply(data, as.numeric, numeric(nrow(data))), nrow(data), ncol(data),
                dimnames = list(if (.row_names_info(data) > 0) rownames(data), names(data)))
    return(x)
  }
  if (is.matrix(data)) {
    if (!is.numeric(data)) {
      abort_input(sprintf("`%s` must be a numeric matrix, not a %s matrix.",
                          arg, typeof(data)))
    }
    if (ncol(data) == 0L) abort_input(sprintf("`%s` has no columns.", arg))
    storage.mode(data) <- "double"
    return(data)
  }
  abort_input(sprintf("`%s` must be a data.frame or a numeric matrix, not %s.",
                      arg, class(data)[1]))
}

check_complete <- function(x) {
  if (nrow(x) < 2L) abort_input("`data` needs at least 2 rows.")
  bad <- colSums(!is.finite(x)) > 0
  if (any(bad)) {
    abort_input(sprintf(
      "`data` must be complete and finite; column %s has missing or infinite values.",
      column_label(x, which(bad)[1])))
  }
}

check_not_constant <- function(x, cols, scale, mechanism) {
  if (mechanism == "mcar") return(invisible())
  flat <- cols[scale[cols] == 0]
  if (length(flat) > 0L) {
    abort_input(sprintf(
      "`data` column %s is constant and cannot be made missing by \"%s\".",
      column_label(x, flat[1]), mechanism))
  }
}

check_ampute_args <- function(mechanism, prob, offset, rate, w, b, mcar,
                              seed, standardise) {
  check_number(prob, "prob", 0, 1)
  check_number(offset, "offset")
  check_number(w, "w")
  check_number(b, "b")
  check_number(mcar, "mcar", 0, 1)
  if (mcar >= 1) abort_input("`mcar` must be below 1.")
  if (!is.null(rate)) check_number(rate, "rate", 0, 1)
  if (!is.null(rate) && (rate <= 0 || rate >= 1)) {
    abort_input("`rate` must be strictly between 0 and 1.")
  }
  if (!is.null(rate) && !mechanism %in% c("extremes", "central")) {
    abort_input(sprintf(paste0(
      "`rate` is only used by \"extremes\" and \"central\", not \"%s\"; ",
      "use `prob` for the probability of going missing."), mechanism))
  }
  if (offset != 0 && mechanism != "self_mask_offset") {
    abort_input(sprintf(
      "`offset` is only used by \"self_mask_offset\", not \"%s\".", mechanism))
  }
  if (mechanism == "mcar" && mcar <= 0) {
    abort_input("`mcar` must be above 0 for mechanism \"mcar\".")
  }
  if (!is.null(seed)) check_number(seed, "seed")
  check_flag(standardise, "standardise")
}

default_rate <- function(mechanism, rate) {
  if (!is.null(rate)) return(rate)
  switch(mechanism, extremes = 0.5, central = 0.3, NULL)
}

column_label <- function(x, j) {
  nm <- colnames(x)
  if (is.null(nm) || is.na(nm[j]) || nm[j] == "") sprintf("%d", j)
  else sprintf("'%s'", nm[j])
}


# ---- helpers ----------------------------------------------------------------

# Population standard deviation (denominator n), as numpy.std in the papers'
# code; the difference from sd() is a factor sqrt((n - 1) / n).
pop_sd <- function(x) {
  centred <- sweep(x, 2L, colMeans(x), "-")
  sqrt(colMeans(centred^2))
}

# Evaluates `code` under set.seed(seed) and puts the caller's RNG state back
# (or removes it if there was none), so the global stream is untouched.
with_seed <- function(seed, code) {
  if (is.null(seed)) return(code)
  env <- globalenv()
  had_seed <- exists(".Random.seed", envir = env, inherits = FALSE)
  if (had_seed) old_seed <- get(".Random.seed", envir = env, inherits = FALSE)
  on.exit({
    if (had_seed) {
      assign(".Random.seed", old_seed, envir = env)
    } else if (exists(".Random.seed", envir = env, inherits = FALSE)) {
      rm(".Random.seed", envir = env)
    }
  })
  set.seed(seed)
  # Re-seed from the first draw so the mask's uniforms are not the very
  # numbers a user simulating data after set.seed(seed) already used (the
  # mask would then be a function of the data, i.e. not MCAR at all).
  set.seed(sample.int(.Machine$integer.max, 1L))
  code
}

insert_na <- function(data, mask) {
  if (is.data.frame(data)) {
    # Column by column keeps column types (integer stays integer) and the
    # data.frame subclass (e.g. tibble).
    for (j in which(colSums(mask) > 0)) data[[j]][mask[, j]] <- NA
    return(data)
  }
  data[mask] <- NA
  data
}

format_pct <- function(p) sprintf("%.1f%%", 100 * p)

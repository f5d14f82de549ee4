# Evaluation metrics of the MNAR papers: imputation RMSE / MAE over the cells
# that were made missing (not-MIWAE, GNR), mask-reconstruction accuracy (GNR
# Table 3) and pattern-set accuracy (PSMVAE Table 3). Input helpers
# (numeric_matrix(), pop_sd()) live in ampute.R, abort_input() in errors.R.

#' Imputation error over the missing cells
#'
#' Root mean squared error (`imputation_rmse()`) and mean absolute error
#' (`imputation_mae()`) between the complete data and an imputed copy,
#' computed over the cells that were made missing only.
#'
#' On the standardised scale (the default, and the number reported by
#' not-MIWAE and GNR) every column of both `truth` and `imputed` is centred by
#' the mean and divided by the standard deviation of the complete `truth`
#' column; the centring cancels in the differences, so
#' \deqn{RMSE = \sqrt{\sum_{ij} m_{ij} ((t_{ij} - \hat t_{ij}) / s_j)^2 /
#'   \sum_{ij} m_{ij}}}{RMSE = sqrt(sum(m * ((t - imp) / s)^2) / sum(m))}
#' where `m` is the mask and `s_j` the population standard deviation
#' (denominator `n`, as `numpy.std` in the papers' code) of truth column `j`.
#' With `scale = "original"` the differences are not rescaled, so columns
#' with large units dominate.
#'
#' @param truth The complete data: a numeric data.frame or matrix without
#'   `NA`s.
#' @param imputed The imputed data, same dimensions as `truth`; may hold `NA`
#'   only outside the mask.
#' @param mask Logical matrix (or data.frame), `TRUE` where a value was
#'   missing, or a `"deepmnar_amputed"` object from [ampute_mnar()].
#' @param scale `"standardised"` (default) or `"original"`.
#' @return A single number.
#' @seealso [ampute_mnar()], [mask_accuracy()]
#' @examples
#' set.seed(1)
#' x <- matrix(rnorm(200, mean = 10, sd = 3), 100, 2)
#' a <- ampute_mnar(x, "self_mask_mean", columns = 1, seed = 1)
#' # mean imputation from the observed values
#' imp <- a$data
#' imp[a$mask[, 1], 1] <- mean(imp[, 1], na.rm = TRUE)
#' imputation_rmse(x, imp, a)
#' imputation_rmse(x, imp, a$mask, scale = "original")
#' imputation_mae(x, imp, a)
#' @md
#' @export
imputation_rmse <- function(truth, imputed, mask,
                            scale = c("standardised", "original")) {
  e <- imputation_errors(truth, imputed, mask, scale)
  sqrt(mean(e^2))
}

#' @rdname imputation_rmse
#' @export
imputation_mae <- function(truth, imputed, mask,
                           scale = c("standardised", "original")) {
  e <- imputation_errors(truth, imputed, mask, scale)
  mean(abs(e))
}

# Differences (imputed - truth) on the masked cells, rescaled by the
# complete-data column sd when `scale = "standardised"`.
imputation_errors <- function(truth, imputed, mask, scale) {
  scale <- match_scale(scale)
  discrete <- discrete_columns(truth)
  if (any(discrete)) {
    # RMSE and MAE are for amounts; classes are scored by imputation_pfc().
    m <- as_mask(mask, dim(truth))
    m[, discrete] <- FALSE
    if (!any(m)) return(NA_real_)
    return(imputation_errors(truth[!discrete], imputed[!discrete], m[, !discrete, drop = FALSE], scale))
  }
  t <- numeric_matrix(truth, "truth")
  if (any(!is.finite(t))) {
    abort_input(sprintf("`truth` must be complete; column %s has missing or infinite values.",
                        column_label(t, which(colSums(!is.finite(t)) > 0)[1])))
  }
  imp <- numeric_matrix(imputed, "imputed")
  check_same_dim(imp, t, "imputed", "truth")
  m <- as_mask(mask, dim(t))
  if (!any(m)) abort_input("`mask` has no missing (TRUE) cells to evaluate.")
  not_imputed <- colSums(m & !is.finite(imp)) > 0
  if (any(not_imputed)) {
    abort_input(sprintf(
      "`imputed` has missing or infinite values in masked cells of column %s.",
      column_label(imp, which(not_imputed)[1])))
  }
  diff <- imp - t
  if (scale == "standardised") {
    s <- pop_sd(t)
    flat <- s == 0 & colSums(m) > 0
    if (any(flat)) {
      abort_input(sprintf(
        "`truth` column %s is constant, so it cannot be standardised; use scale = \"original\".",
        column_label(t, which(flat)[1])))
    }
    diff <- sweep(diff, 2L, ifelse(s > 0, s, 1), "/")
  }
  diff[m]
}

#' Proportion of falsely classified imputations
#'
#' For the factor and logical columns of `truth`: the share of their masked
#' cells whose imputed level differs from the true one (missForest's PFC,
#' Stekhoven and Buehlmann 2012), pooled over the columns. The numeric
#' columns are scored by [imputation_rmse()], which in turn leaves factor
#' columns out.
#'
#' @param truth The complete data.frame.
#' @param imputed The imputed data.frame, same columns; factor columns may hold
#'   levels or their labels.
#' @param mask As for [imputation_rmse()].
#' @return A single number in \[0, 1\], `NA` when no factor cell was masked
#'   (or `truth` has no factor or logical column).
#' @examples
#' truth <- data.frame(x = 1:6, g = factor(c("a", "b", "c", "a", "b", "c")))
#' imputed <- truth
#' imputed$g[c(2, 5)] <- c("a", "b")
#' mask <- cbind(x = FALSE, g = c(FALSE, TRUE, FALSE, FALSE, TRUE, FALSE))
#' imputation_pfc(truth, imputed, mask)   # one of the two masked cells is wrong
#' @export
imputation_pfc <- function(truth, imputed, mask) {
  if (!any(discrete_columns(truth))) return(NA_real_)
  if (!is.data.frame(imputed)) abort_input("`imputed` must be a data.frame like `truth`.")
  check_same_dim(imputed, truth, "imputed", "truth")
  m <- as_mask(mask, dim(truth))
  discrete <- which(discrete_columns(truth))
  wrong <- unlist(lapply(discrete, function(j) {
    cells <- m[, j]
    if (!any(cells)) return(logical(0))
    got <- as.character(imputed[[j]][cells])
    if (anyNA(got)) abort_input(sprintf("`imputed` column %s has NA in masked cells.", column_label(truth, j)))
    got != as.character(truth[[j]][cells])
  }))
  if (!length(wrong)) return(NA_real_)
  mean(wrong)
}

#' Accuracy of a reconstructed missingness mask
#'
#' Compares a model's predicted probability that each value is observed with
#' the true mask, on the columns that contain missing values (GNR, Table 3:
#' "we only measure features that contain missing values").
#'
#' A cell is predicted observed when `prob_observed > 0.5` and missing
#' otherwise. The accuracy is the share of cells, pooled over the evaluated
#' columns, where the prediction agrees with `mask`.
#'
#' Two reference values are returned, both pooled over the same columns
#' (each column weighs its number of rows):
#' \describe{
#'   \item{`random`}{GNR's "RANDOM" lower bound: the expected accuracy of a
#'     random mask that has the true missing rate \eqn{\pi_j} of each column
#'     but is independent of the data, \eqn{\pi_j^2 + (1 - \pi_j)^2}. For
#'     self-masking above the mean with probability `k` (\eqn{\pi = k / 2})
#'     this gives GNR's 82%, 52% and 50% for k = 0.2, 0.8 and 1.}
#'   \item{`majority`}{The accuracy of always predicting each column's
#'     majority class, \eqn{\max(\pi_j, 1 - \pi_j)}: what a mask model that
#'     ignores the values can reach at best. It is at least `random`, and a
#'     model has learnt something about the mechanism only when it beats it.}
#' }
#'
#' @param prob_observed Numeric matrix (or data.frame) of predicted
#'   probabilities that each value is observed, same dimensions as `mask`; a
#'   logical matrix (`TRUE` = predicted observed) is accepted too.
#' @param mask Logical matrix, `TRUE` where the value is missing, or a
#'   `"deepmnar_amputed"` object.
#' @param columns Columns to evaluate (names or positions); default: every
#'   column of `mask` with at least one missing value.
#' @return A named numeric vector: `accuracy`, `random`, `majority`.
#' @references Chen, J., Xu, Y. et al. (2023). Deep
#'   generative imputation model for missing not at random data. CIKM 2023.
#' @examples
#' mask <- cbind(a = c(TRUE, TRUE, FALSE, FALSE), b = FALSE)
#' prob_observed <- cbind(a = c(0.2, 0.7, 0.9, 0.6), b = 1)
#' mask_accuracy(prob_observed, mask)  # column b has no missing value
#' @md
#' @export
mask_accuracy <- function(prob_observed, mask, columns = NULL) {
  m <- as_mask(mask, NULL)
  prob <- as_probabilities(prob_observed, dim(m))
  cols <- if (is.null(columns)) which(colSums(m) > 0) else
    column_positions(columns, m)
  if (length(cols) == 0L) {
    abort_input("`mask` has no column with missing values to evaluate.")
  }
  m <- m[, cols, drop = FALSE]
  predicted_missing <- !(prob[, cols, drop = FALSE] > 0.5)
  rate <- colMeans(m)
  c(accuracy = mean(predicted_missing == m),
    random = mean(rate^2 + (1 - rate)^2),
    majority = mean(pmax(rate, 1 - rate)))
}

#' Pattern-set (clustering) accuracy
#'
#' Accuracy of a clustering against known groups under the best one-to-one
#' matching of clusters to groups, as used for PSMVAE's pattern sets (Table 3
#' of Ghalebikesabi et al., 2021), where the true groups are e.g. the rows
#' above and below the median of the self-masked column (see
#' `prob_missing` in [ampute_mnar()]).
#'
#' The matching is exact: a maximum-weight assignment on the confusion table
#' (clusters x groups), solved by the Hungarian algorithm. When there are more
#' clusters than groups, each group is assigned to a different cluster and
#' the rows of the unassigned clusters count as errors (and vice versa with
#' more groups than clusters). The accuracy is the number of rows on the
#' matched pairs divided by the number of rows. With two groups and two
#' clusters this is `max(a, 1 - a)` for the accuracy `a` of either labelling,
#' which is what the paper's permutation rule gives.
#'
#' @param cluster Cluster memberships (any atomic vector or factor).
#' @param truth True groups, same length as `cluster`.
#' @param details If `TRUE`, return a list with the accuracy, the
#'   assignment (a named character vector: cluster -> group) and the
#'   confusion table, instead of the accuracy alone.
#' @return A number in \eqn{[0, 1]}, or a list when `details = TRUE`.
#' @references Ghalebikesabi, S., Cornish, R., Holmes, C. and Kelly, L.
#'   (2021). Deep generative missingness pattern-set mixture models. AISTATS
#'   2021.
#' @examples
#' truth <- c("low", "low", "high", "high", "high")
#' pattern_set_accuracy(c(2, 2, 1, 1, 1), truth)  # relabelled: 1
#' pattern_set_accuracy(c(2, 2, 1, 1, 2), truth, details = TRUE)
#' @md
#' @export
pattern_set_accuracy <- function(cluster, truth, details = FALSE) {
  check_labels(cluster, "cluster")
  check_labels(truth, "truth")
  if (length(cluster) != length(truth)) {
    abort_input(sprintf(
      "`cluster` (length %d) and `truth` (length %d) must have the same length.",
      length(cluster), length(truth)))
  }
  tab <- table(cluster = as.character(cluster), truth = as.character(truth))
  weights <- unclass(tab)
  match <- max_weight_matching(weights)
  matched <- weights[cbind(match$row, match$col)]
  accuracy <- sum(matched) / length(truth)
  if (!isTRUE(details)) return(accuracy)
  list(accuracy = accuracy,
       assignment = stats::setNames(colnames(weights)[match$col],
                                    rownames(weights)[match$row]),
       table = tab)
}

# Maximum-weight matching of rows to columns of a non-negative weight
# matrix (rectangular allowed): pad to a square with zero weights and solve
# the minimum-cost assignment of max(w) - w. Returns the matched real pairs.
max_weight_matching <- function(weights) {
  nr <- nrow(weights)
  nc <- ncol(weights)
  n <- max(nr, nc)
  square <- matrix(0, n, n)
  square[seq_len(nr), seq_len(nc)] <- weights
  col_of_row <- hungarian(max(square) - square)
  rows <- seq_len(nr)
  keep <- col_of_row[rows] <= nc
  list(row = rows[keep], col = col_of_row[rows][keep])
}

# Hungarian algorithm (Kuhn-Munkres with potentials, O(n^3)) for the
# minimum-cost perfect assignment of a square cost matrix. Returns, for
# every row, its assigned column. Index 1 of u, v, owner, way stands for the
# algorithm's virtual column/row 0.
hungarian <- function(cost) {
  n <- nrow(cost)
  u <- numeric(n + 1L)       # row potentials (u[i + 1] for row i)
  v <- numeric(n + 1L)       # column potentials (v[j + 1] for column j)
  owner <- integer(n + 1L)   # owner[j + 1]: row matched to column j (0 = none)
  way <- integer(n + 1L)     # previous column on the augmenting path
  for (i in seq_len(n)) {
    owner[1L] <- i
    j0 <- 0L
    minv <- rep(Inf, n + 1L)
    used <- rep(FALSE, n + 1L)
    repeat {
      used[j0 + 1L] <- TRUE
      i0 <- owner[j0 + 1L]
      free <- which(!used[-1L])  # unvisited real columns
      reduced <- cost[i0, free] - u[i0 + 1L] - v[free + 1L]
      better <- reduced < minv[free + 1L]
      minv[free[better] + 1L] <- reduced[better]
      way[free[better] + 1L] <- j0
      j1 <- free[which.min(minv[free + 1L])]
      delta <- minv[j1 + 1L]
      visited <- which(used) - 1L
      u[owner[visited + 1L] + 1L] <- u[owner[visited + 1L] + 1L] + delta
      v[visited + 1L] <- v[visited + 1L] - delta
      minv[free + 1L] <- minv[free + 1L] - delta
      j0 <- j1
      if (owner[j0 + 1L] == 0L) break
    }
    # Flip the augmenting path.
    repeat {
      j1 <- way[j0 + 1L]
      owner[j0 + 1L] <- owner[j1 + 1L]
      j0 <- j1
      if (j0 == 0L) break
    }
  }
  col_of_row <- integer(n)
  col_of_row[owner[-1L]] <- seq_len(n)
  col_of_row
}

# ---- input helpers ------------------------------------------------------------

match_scale <- function(scale) {
  choices <- c("standardised", "original")
  if (identical(scale, choices)) return(choices[1])
  if (!is.character(scale) || length(scale) != 1L || !scale %in% choices) {
    abort_input("`scale` must be \"standardised\" or \"original\".")
  }
  scale
}

# Logical mask from a matrix, data.frame or amputed object; `dims` (if not
# NULL) is the shape it must have.
as_mask <- function(mask, dims) {
  if (inherits(mask, "deepmnar_amputed")) mask <- mask$mask
  if (is.data.frame(mask)) {
    if (!all(vapply(mask, is.logical, logical(1)))) {
      abort_input("`mask` must be logical (TRUE = missing).")
    }
    mask <- as.matrix(mask)
  }
  if (!is.matrix(mask) || !is.logical(mask)) {
    abort_input("`mask` must be a logical matrix (TRUE = missing) or a deepmnar_amputed object.")
  }
  if (anyNA(mask)) abort_input("`mask` must not contain NA.")
  if (!is.null(dims) && !identical(dim(mask), as.integer(dims))) {
    abort_input(sprintf("`mask` is %d x %d but the data are %d x %d.",
                        nrow(mask), ncol(mask), dims[1], dims[2]))
  }
  mask
}

as_probabilities <- function(prob, dims) {
  if (is.logical(prob) && (is.matrix(prob) || is.data.frame(prob))) {
    prob <- as.matrix(prob) + 0
  }
  prob <- numeric_matrix(prob, "prob_observed")
  check_same_dim(prob, array(0, dims), "prob_observed", "mask")
  if (anyNA(prob) || any(prob < 0 | prob > 1)) {
    abort_input("`prob_observed` must hold probabilities in [0, 1] without NA.")
  }
  prob
}

check_same_dim <- function(x, y, arg_x, arg_y) {
  if (!identical(dim(x), dim(y))) {
    abort_input(sprintf("`%s` is %d x %d but `%s` is %d x %d.", arg_x,
                        nrow(x), ncol(x), arg_y, nrow(y), ncol(y)))
  }
}

check_labels <- function(x, arg) {
  if (!is.atomic(x) || is.null(x) || length(x) == 0L) {
    abort_input(sprintf("`%s` must be a non-empty vector of labels.", arg))
  }
  if (anyNA(x)) abort_input(sprintf("`%s` must not contain NA.", arg))
}

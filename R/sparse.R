# Sparse input: a Matrix sparse matrix whose stored cells are the observed
# values and whose other cells are missing, the natural form of ratings
# (users x items, a few percent rated). The engine receives the observed cells
# row by row and makes a batch dense only when it trains or imputes it, so a
# 15,000 x 1,000 table with 300,000 ratings costs memory in its ratings.

is_sparse_input <- function(data) isS4(data) && methods::is(data, "sparseMatrix")

# The data as a numeric dgCMatrix with column names; its stored cells finite.
sparse_training_data <- function(data, arg = "data") {
  m <- methods::as(methods::as(methods::as(data, "dMatrix"), "generalMatrix"), "CsparseMatrix")
  cols <- colnames(m)
  if (is.null(cols)) cols <- paste0("V", seq_len(ncol(m)))
  check_column_names(cols, arg)
  colnames(m) <- cols
  rownames(m) <- NULL
  if (nrow(m) < 2 || ncol(m) < 1) {
    deepmnar_abort(sprintf("`%s` must have at least 2 rows and a column, not %d x %d.", arg, nrow(m), ncol(m)),
                   data = list(argument = arg))
  }
  bad <- !is.finite(m@x)
  if (any(bad)) {
    bad_cols <- cols[unique(findInterval(which(bad) - 1L, m@p, left.open = FALSE))]
    deepmnar_abort(sprintf(paste0(
      "Column %s of `%s` stores NA, Inf or NaN values. In a sparse matrix the cells that are not stored are the ",
      "missing ones: drop these entries or fix them."), quote_names(bad_cols), arg),
      data = list(argument = arg, columns = bad_cols))
  }
  m
}

# Sparse newdata with the fit's columns, in the fit's order (unnamed columns
# are taken to be in that order already).
align_sparse_newdata <- function(newdata, columns) {
  m <- sparse_training_data(newdata, "newdata")
  given <- if (is.null(colnames(newdata))) columns[seq_len(ncol(m))] else colnames(m)
  if (ncol(m) != length(columns) || !setequal(given, columns)) {
    deepmnar_abort(sprintf("`newdata` must have the %d columns the model was fitted on (%s).", length(columns),
                           quote_names(utils::head(columns, 3))), data = list(argument = "newdata"))
  }
  colnames(m) <- given
  m[, columns, drop = FALSE]
}

# Each column's observed values, stacked at the top of an NA-padded matrix
# (as many rows as the most observed column has values): what the per-column
# choices (scaling, floors, point masses, rating ranges) read, at the cost of
# the observed cells rather than of n x p.
observed_columns <- function(m) {
  counts <- diff(m@p)
  out <- matrix(NA_real_, max(1L, counts), ncol(m), dimnames = list(NULL, colnames(m)))
  out[cbind(sequence(counts), rep(seq_len(ncol(m)), counts))] <- m@x
  out
}

# The unstored cells as NA: the dense matrix impute() completes.
sparse_as_na_matrix <- function(m) {
  out <- matrix(NA_real_, nrow(m), ncol(m), dimnames = list(NULL, colnames(m)))
  counts <- diff(m@p)
  out[cbind(m@i + 1L, rep(seq_len(ncol(m)), counts))] <- m@x
  out
}

# The engine's sparse form: each row's observed cells (0-based columns, in
# increasing order) with standardised values.
sparse_engine_data <- function(m, scaling) {
  by_row <- Matrix::t(m)
  col <- by_row@i + 1L
  list(dim = c(nrow(m), ncol(m)), row_start = by_row@p, col_index = by_row@i,
       values = (by_row@x - scaling$center[col]) / scaling$scale[col])
}

# Sparse engine data made dense (missing cells 0), for narrow tables only.
dense_engine_data <- function(ed) {
  if (is.null(ed$row_start)) return(ed)
  cells <- observed_cells(ed)
  x <- matrix(0, ed$dim[1], ed$dim[2])
  observed <- matrix(0L, ed$dim[1], ed$dim[2])
  x[cbind(cells$row, cells$col)] <- cells$value
  observed[cbind(cells$row, cells$col)] <- 1L
  list(x = x, observed = observed)
}

engine_rows <- function(ed) if (is.null(ed$row_start)) nrow(ed$x) else ed$dim[1]

observed_per_column <- function(ed) {
  if (is.null(ed$row_start)) colSums(ed$observed) else tabulate(ed$col_index + 1L, ed$dim[2])
}


# The engine data of some rows, in the given order.
rows_of_engine_data <- function(ed, rows) {
  if (is.null(ed$row_start)) return(list(x = ed$x[rows, , drop = FALSE], observed = ed$observed[rows, , drop = FALSE]))
  counts <- diff(ed$row_start)[rows]
  cells <- sequence(counts, from = ed$row_start[rows] + 1L)
  list(dim = c(length(rows), ed$dim[2]), row_start = c(0L, cumsum(counts)), col_index = ed$col_index[cells],
       values = ed$values[cells])
}

# The observed values of column j of training data, dense or sparse.
column_observed_values <- function(x, j) {
  if (is_sparse_input(x)) return(x@x[seq.int(x@p[j] + 1L, length.out = x@p[j + 1L] - x@p[j])])
  x[!is.na(x[, j]), j]
}

#' Impute chosen cells of a large table
#'
#' The conditional means of the listed missing cells only, computed a block of
#' rows at a time: for a wide table (say 15,000 users x 1,000 items, sparse)
#' whose completed matrix is not wanted, such as the held-out ratings on which
#' a recommender is scored. Memory grows with `block` x the number of columns,
#' not with the table. A row stops drawing once the cells asked for are
#' within `tolerance` (all of its missing cells need not be), so a user with
#' a few test ratings among a thousand unrated items draws far fewer samples
#' than [impute()] would. With `tolerance = 0` the values equal those
#' [impute()] gives for these cells with the same `seed` and `L` (each row
#' draws from its own random stream).
#'
#' @inheritParams impute
#' @param cells The cells to impute: a two-column matrix or data.frame of row
#'   indices and columns (indices or names) of the fit's data (or of
#'   `newdata`). Each must be missing there (for sparse data: not stored).
#' @param block Rows imputed per engine call.
#' @return A numeric vector, one conditional mean per cell on the original
#'   scale (rating columns within their range); with `diagnostics = TRUE`,
#'   attribute `ess`: the effective sample size of each cell's row.
#' @examples
#' x <- banknote[, 1:4]
#' x$variance[x$variance > mean(x$variance)] <- NA
#' fit <- notmiwae(x, iterations = 300, seed = 1, threads = 1)
#' rows <- which(is.na(x$variance))[1:3]
#' impute_cells(fit, cbind(rows, "variance"), L = 500, seed = 2)
#' @export
impute_cells <- function(fit, cells, newdata = NULL, L = 10000, seed = NULL, threads = NULL,
                         progress = interactive(), tolerance = 0.05, diagnostics = FALSE, block = 1000) {
  check_fit(fit)
  L <- check_count(L, "L", 1, 1e8)
  seed <- check_seed(seed)
  threads <- imputation_threads(threads)
  tolerance <- check_nonnegative_number(tolerance, "tolerance")
  block <- check_count(block, "block", 1, 1e7)
  x <- rows_of(fit, newdata)
  ed <- engine_data(x, fit$scaling)
  check_within_reach(ed, fit$columns, if (is.null(newdata)) "data" else "newdata")
  at <- check_cell_list(cells, ed, fit$columns)
  rows <- sort(unique(at$row))
  values <- ess <- numeric(length(at$row))
  for (first in seq(1L, length(rows), by = block)) {
    these <- rows[first:min(length(rows), first + block - 1L)]
    mine <- which(at$row %in% these)
    # only the cells asked for: a row stops when they are precise
    out <- engine_imputation(fit, ed, these, L, 0L, 0L, seed, threads, FALSE, tolerance, progress,
                             cells = list(row = at$row[mine], col = at$col[mine]))
    at_row <- match(at$row[mine], these)
    values[mine] <- out$point[cbind(at_row, at$col[mine])]
    ess[mine] <- out$ess[at_row]
  }
  if (any(!is.finite(values))) {
    bad <- matrix(FALSE, 1, length(fit$columns))
    bad[1, unique(at$col[!is.finite(values)])] <- TRUE
    abort_nonfinite_imputation(bad, fit$columns)
  }
  values <- unname(values * fit$scaling$scale[at$col] + fit$scaling$center[at$col])
  values <- clamp_to_rating_range(values, at$col, fit)
  if (check_flag(diagnostics, "diagnostics")) attr(values, "ess") <- ess
  values
}

# `cells` as 1-based rows and column indices, each a missing cell of `ed`.
check_cell_list <- function(cells, ed, columns) {
  ok <- (is.matrix(cells) || is.data.frame(cells)) && ncol(cells) == 2 && nrow(cells) >= 1
  if (!ok) {
    deepmnar_abort("`cells` must be a two-column matrix or data.frame of rows and columns, with at least one cell.",
                   data = list(argument = "cells"))
  }
  row <- suppressWarnings(as.numeric(as.vector(cells[, 1])))
  col_given <- as.vector(cells[, 2])
  col <- if (is.numeric(col_given)) col_given else match(as.character(col_given), columns)
  n <- engine_rows(ed)
  bad_row <- is.na(row) | row != round(row) | row < 1 | row > n
  bad_col <- is.na(col) | col != round(col) | col < 1 | col > length(columns)
  if (any(bad_row | bad_col)) {
    k <- which(bad_row | bad_col)[1]
    deepmnar_abort(sprintf("`cells` row %d names no cell of the data (%d rows; columns %s).", k, n,
                           quote_names(utils::head(columns, 3))), data = list(argument = "cells"))
  }
  row <- as.integer(row)
  col <- as.integer(col)
  known <- observed_cells(ed)
  stored <- match((col - 1) * n + row, (known$col - 1) * n + known$row)
  if (any(!is.na(stored))) {
    k <- which(!is.na(stored))[1]
    deepmnar_abort(sprintf("`cells` row %d (row %d, column %s) is observed: only missing cells are imputed.", k,
                           row[k], quote_names(columns[col[k]])), data = list(argument = "cells"))
  }
  list(row = row, col = col)
}

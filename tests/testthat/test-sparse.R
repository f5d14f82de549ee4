# Sparse input (issue #14): a Matrix sparse matrix whose stored cells are the
# observed ratings. The engine receives them row by row; fits, imputations and
# the chosen-cell route must equal those of the same data given densely.

skip_if_not_installed("Matrix")

# Ratings 1-5 of `n` users on `p` items, low-rank; a rating is observed with
# probability plogis(a + 1.5 (r - 3)): users rate what they like.
sparse_ratings <- function(seed, n = 120, p = 30, a = -1.5) {
  set.seed(seed)
  truth <- round(3 + matrix(stats::rnorm(n * 2), n) %*% matrix(stats::rnorm(2 * p), 2) / 1.4 +
                   stats::rnorm(n * p, sd = 0.4))
  truth <- pmin(pmax(truth, 1), 5)
  rated <- matrix(stats::runif(n * p) < stats::plogis(a + 1.5 * (truth - 3)), n)
  dense <- truth
  dense[!rated] <- NA
  colnames(dense) <- sprintf("item%02d", seq_len(p))
  sparse <- Matrix::sparseMatrix(i = row(truth)[rated], j = col(truth)[rated], x = truth[rated], dims = c(n, p),
                                 dimnames = list(NULL, colnames(dense)))
  list(dense = dense, sparse = sparse, truth = truth)
}

fit_both <- function(d, ...) {
  fit <- function(data) {
    suppressWarnings(notmiwae(data, obs = "rating", rating_range = c(1, 5), encoder = "set", hidden = 16,
                              latent_dim = 3, iterations = 120, seed = 5, threads = 1, progress = FALSE, ...))
  }
  list(dense = fit(d$dense), sparse = fit(d$sparse))
}

test_that("sparse and dense input give the same fit and the same imputations for one seed", {
  d <- sparse_ratings(1)
  # a learned shared sign runs four starts from directions read off the data
  fits <- fit_both(d, missing_model = "selfmask_shared")
  expect_identical(fits$sparse$theta, fits$dense$theta)
  expect_identical(fits$sparse$starts, fits$dense$starts)
  expect_identical(fits$sparse$scaling, fits$dense$scaling)
  expect_true(inherits(fits$sparse$data, "dgCMatrix"))
  imp_dense <- suppressWarnings(impute(fits$dense, L = 100, seed = 2, threads = 1, progress = FALSE))
  imp_sparse <- suppressWarnings(impute(fits$sparse, L = 100, seed = 2, threads = 1, progress = FALSE))
  expect_identical(as.matrix(imp_sparse), as.matrix(imp_dense))
  # the unstored cells are the imputed ones, inside the rating range; the
  # stored ones come back as they were
  completed <- as.matrix(imp_sparse)
  expect_identical(completed[!is.na(d$dense)], d$dense[!is.na(d$dense)])
  expect_true(all(completed >= 1 & completed <= 5))
  # print() and summary() read the sparse data as they read the dense
  expect_equal(summary(fits$sparse)$columns, summary(fits$dense)$columns)
  expect_output(print(fits$sparse), sprintf("120 rows x 30 columns \\(sparse\\), %d missing cells", sum(is.na(d$dense))))
  expect_output(print(fits$dense), sprintf("120 rows x 30 columns, %d missing cells", sum(is.na(d$dense))))
  expect_output(print(fits$sparse), "item01, .*item08 and 22 more on \\[1, 5\\]")
  # wide tables take the row-level direction rule; still the same either way
  wide <- sparse_ratings(2, n = 80, p = 60)
  fits <- fit_both(wide, missing_model = "selfmask_shared")
  expect_identical(fits$sparse$theta, fits$dense$theta)
})

test_that("impute_cells() gives impute()'s values for the chosen cells, a block of rows at a time", {
  d <- sparse_ratings(3)
  fit <- fit_both(d, missing_model = "selfmask_shared")$sparse
  full <- suppressWarnings(as.matrix(impute(fit, L = 100, seed = 4, threads = 1, progress = FALSE)))
  set.seed(1)
  unrated <- which(is.na(d$dense), arr.ind = TRUE)
  cells <- unrated[sample(nrow(unrated), 40), ]
  for (block in c(1, 7, 1000)) {
    got <- impute_cells(fit, cells, L = 100, seed = 4, threads = 1, progress = FALSE, block = block)
    expect_equal(got, unname(full[cells]), tolerance = 1e-12)
  }
  by_name <- impute_cells(fit, data.frame(row = cells[, 1], item = colnames(d$dense)[cells[, 2]]), L = 100, seed = 4,
                          threads = 1, progress = FALSE, diagnostics = TRUE)
  expect_equal(as.vector(by_name), unname(full[cells]), tolerance = 1e-12)
  expect_length(attr(by_name, "ess"), nrow(cells))
  expect_true(all(attr(by_name, "ess") >= 1))
  # observed cells and cells outside the table are refused by name
  rated <- which(!is.na(d$dense), arr.ind = TRUE)[1, , drop = FALSE]
  err <- expect_error(impute_cells(fit, rated, L = 10, seed = 1), class = "deepmnar_error")
  expect_match(conditionMessage(err), "is observed")
  expect_identical(err$argument, "cells")
  expect_error(impute_cells(fit, cbind(500, 1), L = 10, seed = 1), "names no cell", class = "deepmnar_error")
  expect_error(impute_cells(fit, cbind(1, "nope"), L = 10, seed = 1), "names no cell", class = "deepmnar_error")
  expect_error(impute_cells(fit, 1:3, L = 10, seed = 1), "two-column", class = "deepmnar_error")
})

test_that("a sparse fit survives saveRDS, and a damaged one is refused before the engine", {
  d <- sparse_ratings(4, n = 60, p = 12)
  fit <- fit_both(d)$sparse
  path <- tempfile(fileext = ".rds")
  saveRDS(fit, path)
  back <- readRDS(path)
  cells <- which(is.na(d$dense), arr.ind = TRUE)[1:5, ]
  expect_identical(impute_cells(back, cells, L = 50, seed = 1, progress = FALSE),
                   impute_cells(fit, cells, L = 50, seed = 1, progress = FALSE))
  # sparse newdata: its columns in any order, imputed like the training rows
  shuffled <- d$sparse[1:10, rev(colnames(d$sparse))]
  expect_identical(as.matrix(suppressWarnings(impute(fit, newdata = shuffled, L = 50, seed = 1, progress = FALSE))),
                   as.matrix(suppressWarnings(impute(fit, newdata = d$dense[1:10, ], L = 50, seed = 1, progress = FALSE))))
  expect_error(impute(fit, newdata = d$sparse[, 1:5], L = 10, seed = 1), "columns the model was fitted on",
               class = "deepmnar_error")
  broken <- fit
  broken$data@i[1] <- 10000L
  expect_error(impute(broken, L = 10, seed = 1), class = "deepmnar_error_damaged_fit")
})

test_that("bad sparse input is refused with the column named", {
  d <- sparse_ratings(5, n = 40, p = 6)
  bad <- d$sparse
  bad@x[bad@p[3] + 1] <- Inf
  err <- expect_error(notmiwae(bad, iterations = 5, progress = FALSE), class = "deepmnar_error")
  expect_match(conditionMessage(err), "item03")
  expect_error(notmiwae(d$sparse, obs = "categorical", iterations = 5, progress = FALSE), "dense data",
               class = "deepmnar_error")
  expect_error(notmiwae(d$sparse[1, , drop = FALSE], iterations = 5, progress = FALSE), "at least 2 rows",
               class = "deepmnar_error")
})

test_that("the engine refuses damaged sparse data by field", {
  d <- sparse_ratings(6, n = 30, p = 5)
  spec <- tiny_spec(5, "selfmask_shared", direction = 0)
  theta <- deepmnar:::cpp_init_params(spec, 1)
  ed <- deepmnar:::engine_data(d$sparse, list(center = rep(3, 5), scale = rep(1, 5)))
  bound <- function(e) deepmnar:::cpp_bound(spec, e, theta, 3L, 1, FALSE, 1L)
  # the sparse and the dense view are one data set to the engine
  expect_identical(bound(ed)$bound, bound(deepmnar:::dense_engine_data(ed))$bound)
  refused <- function(e, what) expect_error(bound(e), paste0("^deepmnar boundary: data: ", what))
  refused(replace(ed, "row_start", list(rev(ed$row_start))), "row_start")
  refused(replace(ed, "col_index", list(replace(ed$col_index, 1, 5L))), "col_index")
  refused(replace(ed, "values", list(replace(ed$values, 2, NaN))), "a value")
  refused(replace(ed, "values", list(ed$values[-1])), "col_index and values")
  refused(replace(ed, "dim", list(c(30L, 6L))), "6 columns where the spec has 5")
  refused(replace(ed, "row_start", list(as.numeric(ed$row_start))), "row_start")
  # rows of sparse engine data are the rows of the dense one
  rows <- c(5L, 1L, 17L)
  expect_identical(deepmnar:::dense_engine_data(deepmnar:::rows_of_engine_data(ed, rows)),
                   deepmnar:::rows_of_engine_data(deepmnar:::dense_engine_data(ed), rows))
})

test_that("the row-level direction rule reads which end of the scale goes missing", {
  low_missing <- sparse_ratings(7, n = 300, p = 60, a = -1.5)
  ed <- deepmnar:::engine_data(low_missing$sparse, list(center = rep(3, 60), scale = rep(1, 60)))
  # (a rank-2 truth without user effects: a user's level tells only partly)
  expect_gt(mean(deepmnar:::row_level_directions(ed) == -1), 0.7)
  # the same truth with high ratings hidden instead
  flipped <- low_missing
  flipped$sparse@x <- 6 - flipped$sparse@x
  ed <- deepmnar:::engine_data(flipped$sparse, list(center = rep(3, 60), scale = rep(1, 60)))
  expect_gt(mean(deepmnar:::row_level_directions(ed) == 1), 0.7)
})

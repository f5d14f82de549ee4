# Tests of the evaluation metrics against numbers computed by hand.

# 3 x 2 example: truth columns (1, 2, 3) and (10, 20, 30); three masked
# cells with imputation errors +1 (column 1), +6 and -3 (column 2).
truth <- cbind(a = c(1, 2, 3), b = c(10, 20, 30))
mask <- cbind(a = c(TRUE, FALSE, FALSE), b = c(FALSE, TRUE, TRUE))
imputed <- cbind(a = c(2, 2, 3), b = c(10, 26, 27))

test_that("RMSE and MAE on the original scale match the hand computation", {
  expect_equal(imputation_rmse(truth, imputed, mask, scale = "original"),
               sqrt((1^2 + 6^2 + 3^2) / 3))
  expect_equal(imputation_mae(truth, imputed, mask, scale = "original"),
               (1 + 6 + 3) / 3)
})

test_that("RMSE and MAE on the standardised scale divide by the truth sd", {
  # population sd: column a has deviations (-1, 0, 1) -> sd sqrt(2/3);
  # column b is 10 times column a -> sd 10 * sqrt(2/3).
  s_a <- sqrt(2 / 3)
  s_b <- 10 * sqrt(2 / 3)
  errors <- c(1 / s_a, 6 / s_b, -3 / s_b)
  expect_equal(imputation_rmse(truth, imputed, mask),
               sqrt(sum(errors^2) / 3))
  expect_equal(imputation_rmse(truth, imputed, mask), sqrt(1.45 * 1.5 / 3))
  expect_equal(imputation_mae(truth, imputed, mask), 1.9 / 3 / s_a)
  # shifting and scaling a column of both truth and imputation changes nothing
  shifted <- function(m) cbind(a = m[, "a"] * 7 - 100, b = m[, "b"])
  expect_equal(imputation_rmse(shifted(truth), shifted(imputed), mask),
               imputation_rmse(truth, imputed, mask))
})

test_that("only masked cells count, and unmasked cells may be NA", {
  other <- imputed
  other[2, "a"] <- NA
  other[1, "b"] <- 1e6
  expect_equal(imputation_rmse(truth, other, mask),
               imputation_rmse(truth, imputed, mask))
})

test_that("metrics accept data.frames and amputed objects", {
  expect_equal(imputation_rmse(as.data.frame(truth), as.data.frame(imputed),
                               as.data.frame(mask)),
               imputation_rmse(truth, imputed, mask))
  set.seed(1)
  x <- matrix(stats::rnorm(200), 100, 2)
  a <- ampute_mnar(x, "self_mask_mean", columns = 1, seed = 1)
  imp <- a$data
  imp[a$mask] <- 0
  expect_equal(imputation_rmse(x, imp, a), imputation_rmse(x, imp, a$mask))
  # zero imputation on the standardised scale, by hand
  s <- sqrt(mean((x[, 1] - mean(x[, 1]))^2))
  expect_equal(imputation_rmse(x, imp, a),
               sqrt(mean((x[a$mask[, 1], 1] / s)^2)))
})

test_that("mask_accuracy matches the hand computation", {
  m <- cbind(a = c(TRUE, TRUE, FALSE, FALSE),
             b = c(TRUE, FALSE, FALSE, FALSE),
             c = FALSE)
  p_obs <- cbind(a = c(0.2, 0.7, 0.9, 0.5),   # predicted missing: T F F T
                 b = c(0.1, 0.4, 0.8, 0.6),   # predicted missing: T T F F
                 c = 0.1)                      # all wrong, but c is skipped
  acc <- mask_accuracy(p_obs, m)
  # a: rows 1 and 3 right (2/4); b: rows 1, 3, 4 right (3/4)
  expect_equal(acc[["accuracy"]], 5 / 8)
  # random bound: a has rate 1/2 -> 1/4 + 1/4; b has rate 1/4 -> 1/16 + 9/16
  expect_equal(acc[["random"]], (0.5 + 10 / 16) / 2)
  # majority class: a 1/2, b 3/4
  expect_equal(acc[["majority"]], (0.5 + 0.75) / 2)
  expect_named(acc, c("accuracy", "random", "majority"))

  only_a <- mask_accuracy(p_obs, m, columns = "a")
  expect_equal(unname(only_a), c(0.5, 0.5, 0.5))
  # logical predictions (TRUE = observed) work too
  expect_equal(mask_accuracy(p_obs > 0.5, m), acc)
})

test_that("the random bound reproduces GNR's RANDOM row", {
  # self-masking with probability k removes about k / 2 of a column
  for (k in c(0.2, 0.8, 1)) {
    m <- cbind(rep(c(TRUE, FALSE), c(50 * k, 100 - 50 * k)))
    acc <- mask_accuracy(matrix(1, 100, 1), m)
    expect_equal(acc[["random"]], (k / 2)^2 + (1 - k / 2)^2)
  }
  expect_equal(round(100 * c((0.1)^2 + 0.9^2, 0.4^2 + 0.6^2, 0.5)), c(82, 52, 50))
})

# ---- pattern-set accuracy ---------------------------------------------------------

all_permutations <- function(v) {
  if (length(v) <= 1L) return(list(v))
  out <- list()
  for (i in seq_along(v)) {
    for (rest in all_permutations(v[-i])) out[[length(out) + 1L]] <- c(v[i], rest)
  }
  out
}

# Brute force: best sum over all injective maps of the smaller side.
brute_force_matching <- function(w) {
  if (nrow(w) > ncol(w)) w <- t(w)
  best <- 0
  for (perm in all_permutations(seq_len(ncol(w)))) {
    best <- max(best, sum(w[cbind(seq_len(nrow(w)), perm[seq_len(nrow(w))])]))
  }
  best
}

greedy_matching <- function(w) {
  total <- 0
  while (length(w) > 0 && max(w) > 0) {
    idx <- which(w == max(w), arr.ind = TRUE)[1, ]
    total <- total + w[idx[1], idx[2]]
    w <- w[-idx[1], -idx[2], drop = FALSE]
  }
  total
}

test_that("a relabelled clustering has accuracy 1", {
  truth <- rep(c("above", "below", "mcar"), c(5, 7, 3))
  cluster <- c(above = 3, below = 1, mcar = 2)[truth]
  expect_equal(pattern_set_accuracy(cluster, truth), 1)
  expect_equal(pattern_set_accuracy(factor(truth), truth), 1)
})

test_that("pattern_set_accuracy is the best matching, not the greedy one", {
  # confusion table (cluster x truth): A: x 5, y 4; B: x 4, y 0.
  cluster <- rep(c("A", "A", "B"), c(5, 4, 4))
  truth <- rep(c("x", "y", "x"), c(5, 4, 4))
  # greedy takes A-x (5) and is left with B-y (0): 5 / 13;
  # the best matching is A-y (4) + B-x (4): 8 / 13.
  w <- unclass(table(cluster, truth))
  expect_equal(greedy_matching(w), 5)
  expect_equal(pattern_set_accuracy(cluster, truth), 8 / 13)
  d <- pattern_set_accuracy(cluster, truth, details = TRUE)
  expect_identical(d$assignment, c(A = "y", B = "x"))
})

test_that("more clusters than groups: best injective assignment", {
  # A: x 3, y 1; B: x 2, y 0; C: x 0, y 2 -> A-x + C-y = 5 of 8 rows
  cluster <- rep(c("A", "A", "B", "C"), c(3, 1, 2, 2))
  truth <- rep(c("x", "y", "x", "y"), c(3, 1, 2, 2))
  expect_equal(pattern_set_accuracy(cluster, truth), 5 / 8)
  # one cluster for two groups: only the larger group can be matched
  expect_equal(pattern_set_accuracy(rep(1, 8), truth), 5 / 8)
})

test_that("the Hungarian matching equals brute force on random tables", {
  set.seed(99)
  for (trial in 1:40) {
    nr <- sample(1:6, 1)
    nc <- sample(1:6, 1)
    w <- matrix(sample(0:20, nr * nc, replace = TRUE), nr, nc)
    m <- max_weight_matching(w)
    expect_equal(sum(w[cbind(m$row, m$col)]), brute_force_matching(w))
    expect_false(anyDuplicated(m$row) > 0 || anyDuplicated(m$col) > 0)
  }
})

# ---- bad input -------------------------------------------------------------------

test_that("bad input to the metrics gives deepmnar_error_input", {
  expect_error(imputation_rmse(truth, imputed[, 1, drop = FALSE], mask),
               "`imputed`", class = "deepmnar_error_input")
  expect_error(imputation_rmse(truth, imputed, mask + 0), "`mask`",
               class = "deepmnar_error_input")
  expect_error(imputation_rmse(truth, imputed, mask[1:2, ]), "`mask`",
               class = "deepmnar_error_input")
  expect_error(imputation_rmse(truth, imputed, mask & FALSE), "`mask`",
               class = "deepmnar_error_input")
  holes <- imputed
  holes[2, "b"] <- NA
  expect_error(imputation_rmse(truth, holes, mask), "column 'b'",
               class = "deepmnar_error_input")
  bad_truth <- truth
  bad_truth[1, 1] <- NA
  expect_error(imputation_mae(bad_truth, imputed, mask), "`truth`",
               class = "deepmnar_error_input")
  expect_error(imputation_rmse(truth, imputed, mask, scale = "raw"),
               "`scale`", class = "deepmnar_error_input")
  flat <- cbind(a = c(1, 1, 1), b = truth[, "b"])
  expect_error(imputation_rmse(flat, imputed, mask), "column 'a'",
               class = "deepmnar_error_input")
  expect_error(mask_accuracy(matrix(2, 3, 2), mask), "`prob_observed`",
               class = "deepmnar_error_input")
  expect_error(mask_accuracy(matrix(0.5, 2, 2), mask), "`prob_observed`",
               class = "deepmnar_error_input")
  expect_error(mask_accuracy(matrix(0.5, 3, 2), mask & FALSE), "`mask`",
               class = "deepmnar_error_input")
  expect_error(pattern_set_accuracy(1:3, 1:4), "`cluster`",
               class = "deepmnar_error_input")
  expect_error(pattern_set_accuracy(c(1, NA), 1:2), "`cluster`",
               class = "deepmnar_error_input")
  expect_error(pattern_set_accuracy(1:2, list(1, 2)), "`truth`",
               class = "deepmnar_error_input")
})

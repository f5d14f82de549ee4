# Tests of ampute_mnar(). Rates are checked on large synthetic Gaussian data
# against the rate each mechanism is meant to produce, with a tolerance of 5
# binomial standard deviations.

n_big <- 20000

gaussian_data <- function(n = n_big, p = 4, seed = 123) {
  set.seed(seed)
  matrix(stats::rnorm(n * p), n, p, dimnames = list(NULL, paste0("x", 1:p)))
}

# Observed missing share of `cells` (logical) is within 5 binomial sd of
# the intended rate `p`.
expect_rate <- function(cells, p, sds = 5) {
  n <- length(cells)
  tolerance <- sds * sqrt(p * (1 - p) / n)
  expect_lt(abs(mean(cells) - p), tolerance)
}

expect_only_columns <- function(amputed, cols) {
  others <- setdiff(seq_len(ncol(amputed$mask)), cols)
  expect_equal(unname(colSums(amputed$mask)[others]), rep(0, length(others)))
  expect_true(all(colSums(amputed$mask)[cols] > 0))
}

x <- gaussian_data()
z <- function(v) (v - mean(v)) / sqrt(mean((v - mean(v))^2))

# ---- rates and columns of each mechanism ------------------------------------

test_that("self_mask_mean masks values above the mean in the first p/2 columns", {
  for (prob in c(0.2, 0.8, 1)) {
    a <- ampute_mnar(x, "self_mask_mean", prob = prob, seed = 1)
    expect_only_columns(a, 1:2)
    for (j in 1:2) {
      expect_rate(a$mask[, j], prob / 2)
      expect_true(all(x[a$mask[, j], j] > mean(x[, j])))
    }
  }
  # prob = 1 is deterministic: exactly the values above the mean
  a <- ampute_mnar(x, "self_mask_mean")
  expect_identical(unname(a$mask[, 1]), unname(x[, 1] > mean(x[, 1])))
  # odd p: floor(p / 2) columns
  a5 <- ampute_mnar(gaussian_data(n = 100, p = 5), "self_mask_mean", seed = 1)
  expect_only_columns(a5, 1:2)
})

test_that("self_mask_offset moves the cut-off to mean + offset * sd", {
  for (offset in c(0, 0.5, 1)) {
    a <- ampute_mnar(x, "self_mask_offset", offset = offset, prob = 0.8,
                     seed = 2)
    expect_only_columns(a, 1:2)
    expect_rate(a$mask[, 1], 0.8 * stats::pnorm(offset, lower.tail = FALSE))
    expect_true(all(z(x[, 1])[a$mask[, 1]] > offset))
  }
})

test_that("median_one masks one column above its median with probability prob", {
  a <- ampute_mnar(x, "median_one", prob = 0.2, seed = 3)
  masked_cols <- which(colSums(a$mask) > 0)
  expect_length(masked_cols, 1L)
  expect_equal(unname(a$columns), unname(masked_cols))
  j <- masked_cols
  expect_rate(a$mask[, j], 0.2 * 0.5)
  expect_true(all(x[a$mask[, j], j] > stats::median(x[, j])))
  # the at-risk region (true pattern set) is the half above the median
  expect_identical(unname(a$prob_missing[, j] > 0),
                   unname(x[, j] > stats::median(x[, j])))

  # the column is drawn at random ...
  chosen <- vapply(1:30, function(s) {
    unname(ampute_mnar(x[1:200, ], "median_one", seed = s)$columns)
  }, integer(1))
  expect_gt(length(unique(chosen)), 1L)
  # ... among columns with 10-90% of rows above the median
  tied <- x[1:200, ]
  tied[, 1] <- c(rep(0, 190), 1:10)  # 5% above its median
  chosen <- vapply(1:30, function(s) {
    unname(ampute_mnar(tied, "median_one", seed = s)$columns)
  }, integer(1))
  expect_false(1L %in% chosen)

  # explicit columns are all used
  a2 <- ampute_mnar(x, "median_one", columns = c("x2", "x4"), prob = 0.5,
                    seed = 4)
  expect_only_columns(a2, c(2, 4))
  expect_rate(a2$mask[, 4], 0.25)
})

test_that("extremes masks the lowest and highest tails", {
  a <- ampute_mnar(x, "extremes", prob = 0.6, seed = 5)
  expect_only_columns(a, 1:2)
  expect_rate(a$mask[, 2], 0.6 * 0.5)
  q <- stats::quantile(x[, 2], c(0.25, 0.75), names = FALSE)
  masked <- x[a$mask[, 2], 2]
  expect_true(all(masked < q[1] | masked > q[2]))
  # both tails are hit, about equally
  expect_rate(masked < q[1], 0.5)

  a2 <- ampute_mnar(x, "extremes", rate = 0.2, seed = 5)
  expect_rate(a2$mask[, 1], 0.2)
})

test_that("central masks a band of values around the mean", {
  a <- ampute_mnar(x, "central", seed = 6)
  expect_only_columns(a, 1:2)
  expect_rate(a$mask[, 1], 0.3)
  d <- abs(x[, 1] - mean(x[, 1]))
  expect_lt(max(d[a$mask[, 1]]), min(d[!a$mask[, 1]]))

  a2 <- ampute_mnar(x, "central", rate = 0.5, prob = 0.4, columns = 3,
                    seed = 6)
  expect_only_columns(a2, 3)
  expect_rate(a2$mask[, 3], 0.2)
})

test_that("logistic masks with P(observed) = sigmoid(-w (z - b))", {
  a <- ampute_mnar(x, "logistic", w = 2, b = 1, seed = 7)
  expect_only_columns(a, 1:2)
  expected <- stats::plogis(2 * (z(x[, 1]) - 1))
  expect_equal(unname(a$prob_missing[, 1]), expected)
  # intended rate E[sigmoid(2 (Z - 1))] for Z ~ N(0, 1)
  rate <- stats::integrate(function(t) stats::plogis(2 * (t - 1)) *
                             stats::dnorm(t), -Inf, Inf)$value
  expect_rate(a$mask[, 1], rate)
  expect_rate(a$mask[, 2], rate)

  # SVHN clipping on the raw [0, 1] scale: W = -50, b = 0.75
  set.seed(8)
  u <- matrix(stats::runif(n_big * 2), n_big, 2)
  a2 <- ampute_mnar(u, "logistic", w = 50, b = 0.75, columns = 1:2,
                    standardise = FALSE, seed = 8)
  expect_equal(a2$prob_missing[, 1], stats::plogis(50 * (u[, 1] - 0.75)))
  svhn_rate <- (log1p(exp(12.5)) - log1p(exp(-37.5))) / 50
  expect_rate(a2$mask[, 1], svhn_rate)
})

test_that("disjunction masks x1 above its mean and x2 below its mean", {
  a <- ampute_mnar(x, "disjunction", seed = 9)
  expect_only_columns(a, 1:2)
  expect_identical(unname(a$mask[, 1]), unname(x[, 1] > mean(x[, 1])))
  expect_identical(unname(a$mask[, 2]), unname(x[, 2] < mean(x[, 2])))
  # a row is incomplete when x1 > mean or x2 < mean
  expect_rate(rowSums(a$mask) > 0, 0.75)

  a2 <- ampute_mnar(x, "disjunction", columns = c("x4", "x3"), prob = 0.8,
                    seed = 9)
  expect_only_columns(a2, 3:4)
  expect_true(all(x[a2$mask[, 4], 4] > mean(x[, 4])))
  expect_true(all(x[a2$mask[, 3], 3] < mean(x[, 3])))
  expect_rate(a2$mask[, 3], 0.4)
})

test_that("mcar masks every column at rate mcar", {
  a <- ampute_mnar(x, "mcar", mcar = 0.3, seed = 10)
  expect_only_columns(a, 1:4)
  for (j in 1:4) expect_rate(a$mask[, j], 0.3)
  a2 <- ampute_mnar(x, "mcar", mcar = 0.3, columns = 2, seed = 10)
  expect_only_columns(a2, 2)
})

test_that("mcar > 0 adds MCAR on all columns on top of the mechanism", {
  a <- ampute_mnar(x, "self_mask_mean", prob = 0.8, mcar = 0.2, seed = 11)
  expect_only_columns(a, 1:4)
  expect_rate(a$mask[, 1], 1 - (1 - 0.4) * (1 - 0.2))
  expect_rate(a$mask[, 3], 0.2)
  # below the mean only MCAR removes values
  below <- x[, 1] <= mean(x[, 1])
  expect_rate(a$mask[below, 1], 0.2)
  # the MNAR part is the same mask as without MCAR
  plain <- ampute_mnar(x, "self_mask_mean", prob = 0.8, seed = 11)
  expect_true(all(a$mask[plain$mask]))
})

# ---- reproducibility ------------------------------------------------------------

test_that("the same seed gives the same mask, another seed another mask", {
  a1 <- ampute_mnar(x, "self_mask_mean", prob = 0.5, seed = 1)
  a2 <- ampute_mnar(x, "self_mask_mean", prob = 0.5, seed = 1)
  a3 <- ampute_mnar(x, "self_mask_mean", prob = 0.5, seed = 2)
  expect_identical(a1$mask, a2$mask)
  expect_false(identical(a1$mask, a3$mask))
  m1 <- ampute_mnar(x, "mcar", mcar = 0.1, seed = 1)$mask
  expect_identical(m1, ampute_mnar(x, "mcar", mcar = 0.1, seed = 1)$mask)
})

test_that("a seed leaves the global random number stream untouched", {
  set.seed(42)
  before <- get(".Random.seed", envir = globalenv())
  ampute_mnar(x, "self_mask_mean", prob = 0.5, seed = 1)
  expect_identical(get(".Random.seed", envir = globalenv()), before)
  after_ampute <- stats::runif(3)
  set.seed(42)
  expect_identical(stats::runif(3), after_ampute)

  # no stream before: none after
  saved <- get(".Random.seed", envir = globalenv())
  rm(".Random.seed", envir = globalenv())
  ampute_mnar(x, "mcar", mcar = 0.1, seed = 1)
  expect_false(exists(".Random.seed", envir = globalenv(), inherits = FALSE))
  assign(".Random.seed", saved, envir = globalenv())
})

test_that("the mask does not reuse the random numbers of set.seed(seed)", {
  set.seed(3)
  u <- matrix(stats::runif(n_big * 2), n_big, 2)
  a <- ampute_mnar(u, "mcar", mcar = 0.3, seed = 3)
  # were the mask runif() < 0.3 from set.seed(3), it would be u < 0.3
  expect_lt(abs(mean(u[a$mask]) - 0.5), 5 * sqrt(1 / 12 / sum(a$mask)))
})

test_that("without a seed the global stream is used", {
  set.seed(5)
  a1 <- ampute_mnar(x, "self_mask_mean", prob = 0.5)
  set.seed(5)
  a2 <- ampute_mnar(x, "self_mask_mean", prob = 0.5)
  expect_identical(a1$mask, a2$mask)
  expect_null(a1$params$seed)
})

# ---- input and output types ---------------------------------------------------

test_that("a data.frame comes back as a data.frame with NAs on the mask", {
  df <- data.frame(a = x[1:50, 1], b = x[1:50, 2], n = 1:50, d = x[1:50, 4])
  a <- ampute_mnar(df, "self_mask_mean", columns = c("a", "n"), seed = 1)
  expect_s3_class(a, "deepmnar_amputed")
  expect_s3_class(a$data, "data.frame")
  expect_identical(names(a$data), names(df))
  expect_identical(dim(a$data), dim(df))
  expect_type(a$data$n, "integer")
  expect_true(is.logical(a$mask) && is.matrix(a$mask))
  expect_identical(dim(a$mask), dim(df))
  expect_identical(dimnames(a$mask), dimnames(df))
  expect_identical(unname(is.na(as.matrix(a$data))), unname(a$mask))
  expect_identical(a$data[!a$mask[, "a"], "a"], df[!a$mask[, "a"], "a"])
  expect_identical(a$columns, c(a = 1L, n = 3L))
  expect_identical(a$mechanism, "self_mask_mean")
  expect_output(print(a), "self_mask_mean")
})

test_that("a matrix comes back as a matrix with the same dimnames", {
  m <- x[1:50, ]
  rownames(m) <- paste0("r", 1:50)
  a <- ampute_mnar(m, "central", seed = 1)
  expect_true(is.matrix(a$data))
  expect_identical(dimnames(a$data), dimnames(m))
  expect_identical(dimnames(a$mask), dimnames(m))
  expect_identical(is.na(a$data), a$mask)
  expect_identical(a$data[!a$mask], m[!a$mask])

  bare <- unname(x[1:50, ])
  b <- ampute_mnar(bare, "self_mask_mean", seed = 1)
  expect_null(dimnames(b$mask))
  expect_identical(b$columns, 1:2)
  expect_output(print(b), "V1, V2")
})

test_that("a tibble stays a tibble", {
  skip_if_not_installed("tibble")
  tb <- tibble::as_tibble(as.data.frame(x[1:30, ]))
  a <- ampute_mnar(tb, "self_mask_mean", seed = 1)
  expect_s3_class(a$data, "tbl_df")
  expect_identical(sum(is.na(a$data)), sum(a$mask))
})

# ---- bad input -----------------------------------------------------------------

test_that("bad input gives deepmnar_error_input naming the argument or column", {
  df <- data.frame(a = 1:5 + 0.5, label = letters[1:5])
  expect_error(ampute_mnar(df), class = "deepmnar_error_input",
               regexp = "column 'label'")
  expect_error(ampute_mnar(df), class = "deepmnar_error")
  df$label <- factor(df$label)
  expect_error(ampute_mnar(df, "extremes", columns = "label"), class = "deepmnar_error_input",
               regexp = "column 'label' is a factor")
  expect_error(ampute_mnar(df, columns = "label", levels = list(label = "z")), class = "deepmnar_error_input",
               regexp = "'label'.*'z'")
  expect_error(ampute_mnar(matrix(letters[1:4], 2)), "numeric matrix",
               class = "deepmnar_error_input")
  expect_error(ampute_mnar(list(a = 1)), "`data`",
               class = "deepmnar_error_input")
  with_na <- x[1:10, ]
  with_na[3, 2] <- NA
  expect_error(ampute_mnar(with_na), "column 'x2'",
               class = "deepmnar_error_input")
  expect_error(ampute_mnar(x, "nope"), "`mechanism`",
               class = "deepmnar_error_input")
  expect_error(ampute_mnar(x, columns = "zz"), "'zz'",
               class = "deepmnar_error_input")
  expect_error(ampute_mnar(x, columns = 7), "`columns`",
               class = "deepmnar_error_input")
  expect_error(ampute_mnar(x, prob = 1.5), "`prob`",
               class = "deepmnar_error_input")
  expect_error(ampute_mnar(x, mcar = -0.1), "`mcar`",
               class = "deepmnar_error_input")
  expect_error(ampute_mnar(x, "mcar"), "`mcar`",
               class = "deepmnar_error_input")
  expect_error(ampute_mnar(x, "median_one", rate = 0.2), "`rate`",
               class = "deepmnar_error_input")
  expect_error(ampute_mnar(x, "central", rate = 1), "`rate`",
               class = "deepmnar_error_input")
  expect_error(ampute_mnar(x, "self_mask_mean", offset = 1), "`offset`",
               class = "deepmnar_error_input")
  expect_error(ampute_mnar(x, "disjunction", columns = 1:3), "`columns`",
               class = "deepmnar_error_input")
  expect_error(ampute_mnar(x, seed = "a"), "`seed`",
               class = "deepmnar_error_input")
  expect_error(ampute_mnar(x, standardise = NA), "`standardise`",
               class = "deepmnar_error_input")
  flat <- cbind(x[1:10, 1:2], const = 1)
  expect_error(ampute_mnar(flat, columns = "const"), "column 'const'",
               class = "deepmnar_error_input")
})

test_that("factor and logical columns go missing by level: a category that hides more often", {
  set.seed(5)
  df <- data.frame(x = rnorm(600), g = factor(sample(c("a", "b", "c"), 600, replace = TRUE)),
                   flag = runif(600) < 0.4, o = factor(sample(c("lo", "hi"), 600, replace = TRUE),
                                                      levels = c("lo", "hi"), ordered = TRUE))
  a <- ampute_mnar(df, columns = c("x", "g", "flag", "o"), prob = 0.6, seed = 1)
  # default: the last level (TRUE, the highest of an ordered factor) is at risk
  expect_identical(a$params$levels, list(g = "c", flag = "TRUE", o = "hi"))
  expect_true(all(a$prob_missing[df$g != "c", "g"] == 0))
  expect_lt(abs(mean(a$mask[df$g == "c", "g"]) - 0.6), 0.12)  # about 200 cells: SE 0.035
  expect_true(all(!a$mask[!df$flag, "flag"]))
  expect_true(is.factor(a$data$g) && identical(levels(a$data$g), c("a", "b", "c")))
  expect_true(is.logical(a$data$flag) && is.ordered(a$data$o))
  expect_identical(is.na(a$data$g), unname(a$mask[, "g"]))
  expect_true(is.na(a$center[["g"]]) && is.na(a$scale[["flag"]]))
  b <- ampute_mnar(df, columns = "g", levels = list(g = c("a", "b")), prob = 1, seed = 1)
  expect_identical(unname(b$mask[, "g"]), df$g %in% c("a", "b"))
  # MCAR treats every column alike
  m <- ampute_mnar(df, "mcar", mcar = 0.3, seed = 2)
  expect_lt(abs(mean(m$mask) - 0.3), 0.04)  # 2400 cells: SE 0.009
  expect_gt(min(colMeans(m$mask)), 0.2)
})

test_that("PFC scores factor columns and RMSE the numeric ones of mixed data", {
  truth <- data.frame(x = c(1, 2, 3, 4), g = factor(c("a", "b", "a", "b")), f = c(TRUE, FALSE, TRUE, TRUE))
  imputed <- truth
  imputed$x[2] <- 4
  imputed$g[c(1, 2)] <- c("b", "b")
  imputed$f[4] <- FALSE
  mask <- cbind(x = c(FALSE, TRUE, FALSE, FALSE), g = c(TRUE, TRUE, FALSE, FALSE), f = c(FALSE, FALSE, FALSE, TRUE))
  # g: one of two wrong; f: one of one wrong
  expect_equal(imputation_pfc(truth, imputed, mask), 2 / 3)
  expect_equal(imputation_rmse(truth, imputed, mask), 2 / sd(truth$x) / sqrt(3 / 4))
  expect_true(is.na(imputation_pfc(truth["x"], imputed["x"], mask[, "x", drop = FALSE])))
  mask[, "x"] <- FALSE
  expect_true(is.na(imputation_rmse(truth, imputed, mask)))
})

# Conditional means under not-MIWAE's self-masking models integrate each
# missing cell over p(x | z) (Gauss-Hermite) instead of drawing it. Same
# target as the draws, so at large L both estimates agree; the integral
# removes the draws' noise, so the weights carry more effective samples and
# the adaptive stop comes earlier. options(deepmnar.marginal_mask = FALSE)
# draws, for comparison.

mnar_table <- function(n = 200, seed = 1) {
  set.seed(seed)
  z <- rnorm(n)
  x <- data.frame(a = z + rnorm(n, sd = 0.5), b = z + rnorm(n, sd = 0.5), c = -z + rnorm(n, sd = 0.5))
  for (j in c("a", "b")) x[[j]][x[[j]] > mean(x[[j]])] <- NA
  x
}
quick_fit <- function(data, ...) {
  args <- utils::modifyList(list(missing_model = "selfmask_known", hidden = c(16, 16), iterations = 1500, K = 5, seed = 1, threads = 1, starts = 1,
                                 stop_early = FALSE, progress = FALSE), list(...))
  suppressWarnings(do.call(notmiwae, c(list(data), args)))
}
imputed_with <- function(marginal, fit, ...) {
  old <- options(deepmnar.marginal_mask = marginal)
  on.exit(options(old))
  suppressWarnings(impute(fit, seed = 3, threads = 1, progress = FALSE, diagnostics = TRUE, ...))
}
x <- mnar_table()
missing <- is.na(x)
fit <- quick_fit(x)

test_that("integrated and drawn missing cells estimate the same conditional mean", {
  on <- imputed_with(TRUE, fit, L = 20000, tolerance = 0)
  off <- imputed_with(FALSE, fit, L = 20000, tolerance = 0)
  scale <- fit$scaling$scale[c("a", "b")]
  diff <- abs(as.matrix(on[, c("a", "b")]) - as.matrix(off[, c("a", "b")]))
  diff <- sweep(diff, 2, scale, "/")[missing[, c("a", "b")]]
  # the reweighting of a cell by P(missing | x) moves it by about
  # slope * sd^2 * E[sigmoid'] / Z ~ 0.2 sd here: an error in Z or in the
  # tilted mean would show far beyond these bounds
  expect_lt(mean(diff), 0.01)
  expect_lt(max(diff), 0.06)
  # more effective samples from the same L
  expect_gt(mean(attr(on, "ess"), na.rm = TRUE), mean(attr(off, "ess"), na.rm = TRUE))
  # observed cells untouched
  expect_identical(on[!missing], x[!missing])
})

test_that("with the adaptive tolerance the integral stops earlier at the same accuracy", {
  on <- imputed_with(TRUE, fit)
  off <- imputed_with(FALSE, fit)
  expect_lt(mean(attr(on, "samples"), na.rm = TRUE), mean(attr(off, "samples"), na.rm = TRUE))
  exact <- imputed_with(TRUE, fit, L = 20000, tolerance = 0)
  scale <- fit$scaling$scale[c("a", "b")]
  error <- function(imp) {
    d <- sweep(abs(as.matrix(imp[, c("a", "b")]) - as.matrix(exact[, c("a", "b")])), 2, scale, "/")
    sqrt(mean(d[missing[, c("a", "b")]]^2))
  }
  # the tolerance is one Monte Carlo standard error of 0.05 sd per cell
  expect_lt(error(on), 0.05)
  expect_lt(error(off), 0.05)
})

test_that("the integrated imputation does not depend on the thread count", {
  one <- imputed_with(TRUE, fit, L = 2000)
  old <- options(deepmnar.marginal_mask = TRUE)
  on.exit(options(old))
  two <- suppressWarnings(impute(fit, L = 2000, seed = 3, threads = 2, progress = FALSE, diagnostics = TRUE))
  expect_identical(one, two)
})

test_that("what cannot be integrated keeps its draws: medians, SIR draws, other mask models, Student-t", {
  same <- function(fit, ...) {
    expect_identical(imputed_with(TRUE, fit, L = 500, ...), imputed_with(FALSE, fit, L = 500, ...))
  }
  same(fit, type = "median")
  same(quick_fit(x, missing_model = "linear"))
  same(quick_fit(x, obs = "t"))
  same(quick_fit(x, missing_model = "none"))
  draws <- function(marginal) {
    old <- options(deepmnar.marginal_mask = marginal)
    on.exit(options(old))
    suppressWarnings(multiple_impute(fit, m = 3, method = "sir", L = 500, seed = 2, progress = FALSE))
  }
  skip_if_not_installed("mice")
  expect_identical(mice::complete(draws(TRUE), "long"), mice::complete(draws(FALSE), "long"))
})

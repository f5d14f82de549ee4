test_that("the bound at fixed parameters increases with K on average", {
  set.seed(2)
  n <- 200
  z <- rnorm(n)
  x <- cbind(a = z + 0.3 * rnorm(n), b = -z + 0.3 * rnorm(n), c = 0.5 * z + rnorm(n))
  x[x[, "a"] > 0, "a"] <- NA
  ev <- engine_view(scale(x))
  spec <- tiny_spec(3, "selfmask_known", hidden = c(16L))
  theta <- deepmnar:::cpp_init_params(spec, 1)
  mean_bound <- function(K) mean(vapply(1:20, function(s) bound_at(spec, ev, theta, K, s)$bound, numeric(1)))
  b1 <- mean_bound(1)
  b5 <- mean_bound(5)
  b50 <- mean_bound(50)
  expect_lt(b1, b5)
  expect_lt(b5, b50)
  # The gaps are far larger than the Monte Carlo error of these averages.
  se1 <- sd(vapply(1:20, function(s) bound_at(spec, ev, theta, 1, s)$bound, numeric(1))) / sqrt(20)
  expect_gt(b5 - b1, 3 * se1)
})

test_that("the log-weights are finite for a row with every value missing", {
  x <- tiny_mnar_data()
  x[3, ] <- NA
  ev <- engine_view(x)
  spec <- tiny_spec(ncol(x), "nonlinear")
  theta <- deepmnar:::cpp_init_params(spec, 2)
  expect_true(is.finite(bound_at(spec, ev, theta, 5, 1)$bound))
})

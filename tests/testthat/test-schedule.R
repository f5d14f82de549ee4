# The training schedule follows the rows under early stopping: small tables
# keep 20,000 iterations and a check every 100; large ones get 25 passes and
# a check at least every half pass.

test_that("the iteration cap is 20,000 or 25 passes over the rows under early stopping", {
  cap <- function(control, n, batch_size) {
    deepmnar:::iteration_cap(control$iterations, deepmnar:::check_stop_early(control$stop_early), n, batch_size)
  }
  expect_identical(cap(train_control(), 1372, 16), 20000L)
  expect_identical(cap(train_control(), 12800, 16), 20000L)
  expect_identical(cap(train_control(), 53940, 16), as.integer(25 * ceiling(53940 / 16)))
  # a batch of 64 needs a quarter of the steps for a pass
  expect_identical(cap(train_control(), 53940, 64), as.integer(25 * ceiling(53940 / 64)))
  # without early stopping the count is exact, and a given count is kept
  expect_identical(cap(train_control(stop_early = FALSE), 53940, 16), 20000L)
  expect_identical(cap(train_control(iterations = 500), 53940, 16), 500L)
})

test_that("checks come every 100 iterations on small tables and every half pass on large ones", {
  every <- deepmnar:::default_check_interval
  expect_identical(every(20000L, 1235, 16), 100L)
  expect_identical(every(20000L, 3200, 16), 100L)
  expect_identical(every(84300L, 51940, 16), as.integer(ceiling(51940 / 32)))
  expect_identical(every(1000L, 200, 16), 50L)
})

test_that("a fit records the scaled schedule it trained with", {
  set.seed(1)
  n <- 8000
  z <- rnorm(n)
  x <- data.frame(a = z + rnorm(n, sd = 0.3), b = -z + rnorm(n, sd = 0.3))
  x$a[x$a > 1] <- NA
  fit <- suppressWarnings(notmiwae(x, missing_model = "mcar", hidden = c(8), seed = 1, threads = 1,
                                   progress = FALSE, stop_early = early_stopping(patience = 2)))
  train_rows <- n - length(fit$stopping$held_out_rows)
  expect_identical(fit$settings$iterations, 20000L)
  # 7,200 training rows at batch 16: half a pass is 225 iterations
  expect_identical(fit$stopping$every, as.integer(ceiling(train_rows / 32)))
  expect_gt(fit$stopping$every, 100L)
})

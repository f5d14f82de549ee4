# A damaged fit (edited by hand, truncated on disk, from another version) is
# refused with a classed error before the engine touches it.

db <- tiny_mnar_data(n = 40, p = 3)
fb <- notmiwae(db, hidden = c(4, 4), K = 2, iterations = 20, seed = 1, threads = 1, progress = FALSE)

expect_damaged <- function(fit, pattern) {
  for (call in list(function(f) impute(f, L = 5, seed = 1, progress = FALSE),
                    function(f) multiple_impute(f, m = 2, method = "sir", L = 5, format = "list", progress = FALSE),
                    function(f) latent(f))) {
    expect_error(call(fit), class = "deepmnar_error_damaged_fit", regexp = pattern)
  }
}

test_that("a parameter vector of the wrong length or with non-finite values is refused", {
  bad <- fb
  bad$theta <- numeric(0)
  expect_damaged(bad, "`theta` has 0 parameters where the spec needs")
  bad$theta <- fb$theta[-1]
  expect_damaged(bad, sprintf("`theta` has %d parameters", length(fb$theta) - 1))
  bad$theta <- c(fb$theta, 0)
  expect_damaged(bad, "`theta`")
  bad$theta <- replace(fb$theta, 3, NaN)
  expect_damaged(bad, "`theta` is not a finite numeric vector")
  bad$theta <- as.character(fb$theta)
  expect_damaged(bad, "`theta`")
})

test_that("a tampered spec is refused, never built", {
  tamper <- function(field, value) {
    bad <- fb
    bad$spec[[field]] <- value
    bad
  }
  expect_damaged(tamper("model_code", 99L), "`spec\\$model_code` names no model")
  expect_damaged(tamper("model_code", 1L), "`spec\\$model` does not match")
  expect_damaged(tamper("p", 4L), "`spec\\$direction`|`columns`|`data`")
  expect_damaged(tamper("hidden", c(4L, -1L)), "`spec\\$hidden`")
  expect_damaged(tamper("hidden", c(5L, 4L)), "`theta` has")
  expect_damaged(tamper("latent_dim", 0L), "`spec\\$latent_dim`")
  expect_damaged(tamper("missing_code", 7L), "`spec\\$missing_code`")
  expect_damaged(tamper("sigma_floor", -1), "`spec\\$sigma_floor`")
})

test_that("data and scaling of the wrong shape are refused", {
  bad <- fb
  bad$data <- NULL
  expect_damaged(bad, "`data` is not the numeric training matrix")
  bad <- fb
  bad$scaling$scale[2] <- 0
  expect_damaged(bad, "`scaling`")
  bad <- fb
  bad$scaling$center <- bad$scaling$center[-1]
  expect_damaged(bad, "`scaling`")
  bad <- fb
  bad$spec <- NULL
  expect_damaged(bad, "`spec` is missing")
})

test_that("a misspelt argument of impute() is an error, not ignored", {
  nd <- db[1:5, ]
  expect_error(impute(fb, new_data = nd, L = 5), class = "deepmnar_error_input", regexp = "Unknown argument `new_data`")
  expect_error(impute(fb, NULL, 5, "mean", 1, 1, FALSE, "extra"), class = "deepmnar_error_input",
               regexp = "unnamed argument")
})

test_that("observed values far outside the training data are named, not blamed on lr", {
  nd <- db[1:6, ]
  nd[2, "c2"] <- 1e300
  err <- expect_error(impute(fb, newdata = nd, L = 5, seed = 1, progress = FALSE), class = "deepmnar_error_input")
  expect_match(conditionMessage(err), "Column `c2` of `newdata` holds values more than 1e\\+06 standard deviations")
  expect_match(conditionMessage(err), "row 2")
  expect_false(grepl("lr", conditionMessage(err)))
  expect_identical(err$columns, "c2")
})

# Per-column observation choices: scale floors from the column's resolution,
# point masses found in the data or given, and what they do to imputations.

zero_inflated <- function(n = 300, seed = 1) {
  set.seed(seed)
  z <- rnorm(n)
  d <- data.frame(amount = ifelse(runif(n) < 0.4, 0, exp(1 + 0.5 * z + rnorm(n, sd = 0.3))),
                  score = round(10 * z + rnorm(n, sd = 3)),
                  level = z + rnorm(n, sd = 0.4))
  d$amount[sample(n, 60)] <- NA
  d$level[d$level > 0.8] <- NA
  d
}

test_that("the scale floor follows the column's recording grain", {
  d <- zero_inflated()
  floors <- deepmnar:::column_floors("auto", as.matrix(d))
  # `score` is recorded in whole units: its floor is the rounding error's sd, 1/sqrt(12), in sds
  expect_equal(floors[["score"]], 1 / (sqrt(12) * sd(d$score)))
  expect_equal(floors[["level"]], 1e-4)
  expect_equal(deepmnar:::column_floors(0.05, as.matrix(d)), c(amount = 0.05, score = 0.05, level = 0.05))
  expect_equal(deepmnar:::column_floors(c(level = 0.2), as.matrix(d))[["level"]], 0.2)
  expect_equal(deepmnar:::column_floors(c(level = 0.2), as.matrix(d))[["score"]], floors[["score"]])
  expect_error(deepmnar:::column_floors(c(nope = 0.2), as.matrix(d)), class = "deepmnar_error_input", regexp = "`nope`")
  expect_error(deepmnar:::column_floors(c(0.1, 0.2), as.matrix(d)), class = "deepmnar_error_input", regexp = "sigma_floor")
  expect_error(deepmnar:::column_floors(-1, as.matrix(d)), class = "deepmnar_error_input", regexp = "sigma_floor")
})

test_that("point masses are found at an end of the range, and can be given or turned off", {
  d <- zero_inflated()
  x <- as.matrix(d)
  found <- deepmnar:::column_point_masses("auto", x)
  expect_equal(found[["amount"]], 0)
  expect_true(is.na(found[["level"]]))
  # an interior mode is not a point mass
  expect_true(is.na(deepmnar:::detect_point_mass(c(rep(5, 30), 1:4, 6:70))))
  expect_equal(deepmnar:::detect_point_mass(c(rep(70, 30), 1:69)), 70)
  expect_true(all(is.na(deepmnar:::column_point_masses("none", x))))
  expect_true(all(is.na(deepmnar:::column_point_masses(NULL, x))))
  expect_true(is.na(deepmnar:::column_point_masses(c(amount = NA), x)[["amount"]]))
  given <- deepmnar:::column_point_masses(c(score = max(d$score, na.rm = TRUE)), x)
  expect_equal(given[["score"]], max(d$score, na.rm = TRUE))
  expect_equal(given[["amount"]], 0)
  expect_error(deepmnar:::column_point_masses(c(level = 12345), x), class = "deepmnar_error_input",
               regexp = "`level`.*never takes")
  expect_error(deepmnar:::column_point_masses(0, x), class = "deepmnar_error_input", regexp = "point_mass")
})

test_that("a fit with a point mass draws it exactly in multiple imputation and reports it", {
  d <- zero_inflated()
  fit <- notmiwae(d, missing_model = "none", hidden = c(16, 16), K = 5, iterations = 1500, stop_early = FALSE,
                  seed = 1, threads = 1, progress = FALSE)
  obs <- fit$observation
  expect_equal(obs$point_mass[obs$column == "amount"], 0)
  expect_equal(obs$point_mass_share[obs$column == "amount"], mean(d$amount == 0, na.rm = TRUE))
  expect_output(print(fit), "point masses: amount at 0 \\(")
  expect_true("point_mass" %in% names(summary(fit)$columns))
  # multiple imputations are draws from the hurdle: some exactly at the mass, in
  # about the observed share (the amount goes missing completely at random here)
  mi <- multiple_impute(fit, m = 5, method = "sir", L = 200, seed = 1, format = "list", progress = FALSE)
  drawn <- unlist(lapply(mi, function(x) x$amount[is.na(d$amount)]))
  share_at_mass <- mean(drawn == 0)
  observed_share <- mean(d$amount == 0, na.rm = TRUE)
  expect_gt(share_at_mass, observed_share - 0.15)
  expect_lt(share_at_mass, observed_share + 0.15)
  expect_true(all(is.finite(drawn)))
  # the conditional mean lies between the mass and the continuous part
  imp <- impute(fit, L = 200, seed = 1, progress = FALSE)
  expect_true(all(imp$amount[is.na(d$amount)] > 0))
})

test_that("the floor and point masses can be given per column to every model that has them", {
  d <- zero_inflated()
  fit <- gnr(d, sigma_floor = c(score = 0.3), point_mass = c(amount = NA), hidden = c(8, 8), K = 3, iterations = 20,
             stop_early = FALSE, starts = 1, seed = 1, threads = 1, progress = FALSE)
  expect_equal(fit$observation$scale_floor[2], 0.3)
  expect_true(all(is.na(fit$observation$point_mass)))
  ps <- psmvae(d, sigma_floor = 0.01, hidden = c(8, 8), iterations = 20, stop_early = FALSE, starts = 1, seed = 1,
               threads = 1, progress = FALSE)
  expect_equal(ps$observation$scale_floor, rep(0.01, 3))
  expect_true(all(is.na(ps$observation$point_mass)))
})

# Columns modelled on the log scale (`transform`): which are chosen, and that
# imputed means are E[x] on the original scale.

log_normal_frame <- function(n = 300, seed = 1, spread = 1) {
  set.seed(seed)
  z <- rnorm(n)
  d <- data.frame(income = exp(1 + spread * (0.8 * z + 0.6 * rnorm(n))), score = z + 0.5 * rnorm(n),
                  zeros = ifelse(runif(n) < 0.3, 0, exp(z + rnorm(n))))
  d$income[d$income > stats::quantile(d$income, 0.7) & runif(n) < 0.8] <- NA
  d
}
dl <- log_normal_frame()
small_fit <- function(data, ..., missing_model = "selfmask_known", iterations = 150) {
  notmiwae(data, missing_model = missing_model, hidden = c(8, 8), K = 4, iterations = iterations, stop_early = FALSE, seed = 2, threads = 1,
           progress = FALSE, ...)
}

test_that("\"auto\" logs positive right-skewed columns only, and the choice is reported", {
  fit <- small_fit(dl, transform = "auto")
  expect_identical(fit$observation$transform, c("log", "none", "none"))
  expect_identical(fit$scaling$log, c(TRUE, FALSE, FALSE))
  expect_equal(fit$scaling$center[["income"]], mean(log(dl$income), na.rm = TRUE))
  expect_equal(fit$spec$log_scale, c(sd(log(dl$income), na.rm = TRUE), 0, 0))
  expect_output(print(fit), "log scale .*: income")
  expect_identical(summary(fit)$columns$transform, c("log", "none", "none"))
  none <- small_fit(dl)
  expect_identical(none$observation$transform, rep("none", 3))
  expect_identical(none$spec$log_scale, c(0, 0, 0))
  named <- small_fit(dl, transform = c(income = "none"))
  expect_identical(named$observation$transform, rep("none", 3))
})

test_that("the \"auto\" rule sees a log-normal through self-masking and leaves Gaussian columns alone", {
  set.seed(4)
  picked <- vapply(1:20, function(r) {
    y <- exp(rnorm(500, 0, 1))
    observed <- y[runif(500) > plogis(-1 + 3 * (y - mean(y)) / sd(y))]
    g <- rnorm(500, 10, 2)
    c(log_normal = deepmnar:::looks_log_normal(observed), gaussian = deepmnar:::looks_log_normal(g),
      truncated_gaussian = deepmnar:::looks_log_normal(g[g < 10]))
  }, logical(3))
  expect_true(all(picked["log_normal", ]))
  expect_false(any(picked[c("gaussian", "truncated_gaussian"), ]))
  expect_false(deepmnar:::looks_log_normal(c(exp(rnorm(50)), 0)))
  expect_false(deepmnar:::looks_log_normal(rep(exp(1:5), 10)))
})

test_that("bad `transform` values get classed errors naming the argument or column", {
  expect_error(small_fit(dl, transform = c(zeros = "log")), class = "deepmnar_error", regexp = "`zeros`.*point mass")
  expect_error(small_fit(dl, transform = c(nope = "log")), class = "deepmnar_error", regexp = "unknown column `nope`")
  expect_error(small_fit(dl, transform = "sqrt"), class = "deepmnar_error", regexp = "`transform` must be")
  expect_error(small_fit(dl, transform = c(income = "exp")), class = "deepmnar_error", regexp = "`transform` must be")
  expect_error(small_fit(dl, transform = c(score = "log")), class = "deepmnar_error",
               regexp = "`score` has values <= 0")
  expect_error(small_fit(dl, transform = "log", obs = "t"), class = "deepmnar_error", regexp = "no column can be logged")
  expect_error(small_fit(dl, transform = c(income = "log"), obs = "t"), class = "deepmnar_error",
               regexp = "`income`")
  fit <- small_fit(dl, transform = "auto")
  bad <- dl
  bad$income[1] <- -1
  expect_error(impute(fit, newdata = bad, L = 10, progress = FALSE), class = "deepmnar_error",
               regexp = "`income` of `newdata` has values <= 0")
})

test_that("a drawn imputation is the draw transformed back: one sample gives the mean and the SIR draw alike", {
  fit <- small_fit(dl, transform = "auto", missing_model = "selfmask")
  # one sample: an ESS of 1, as the warning says
  expect_warning(mean_one <- impute(fit, L = 1, seed = 9, tolerance = 0, progress = FALSE),
                 class = "deepmnar_warning_low_ess")
  draw_one <- multiple_impute(fit, m = 1, method = "sir", L = 1, seed = 9, format = "list", progress = FALSE)[[1]]
  missing <- is.na(dl$income)
  expect_equal(mean_one$income[missing], draw_one$income[missing], tolerance = 1e-10)
  expect_true(all(mean_one$income[missing] > 0))
})

test_that("the imputed mean of a log column is E[x], not exp(E[log x]), in every model", {
  wide <- log_normal_frame(n = 200, seed = 3, spread = 1.5)[, 1:2]
  missing <- is.na(wide$income)
  settings <- list(wide, hidden = c(8, 8), iterations = 300, stop_early = FALSE, starts = 1, seed = 2, threads = 1,
                   progress = FALSE, transform = "auto")
  fits <- list(miwae = do.call(notmiwae, c(settings, K = 4, missing_model = "none")),  # decoder means
               notmiwae = do.call(notmiwae, c(settings, K = 4, missing_model = "selfmask")),  # draws
               gnr = do.call(gnr, c(settings, K = 4)),
               psmvae_b = do.call(psmvae, c(settings, variant = "b")))
  for (name in names(fits)) {
    fit <- fits[[name]]
    mean_x <- impute(fit, L = 4000, seed = 4, tolerance = 0, progress = FALSE)$income[missing]
    median_x <- impute(fit, L = 4000, seed = 4, type = "median", progress = FALSE)$income[missing]
    draws <- multiple_impute(fit, m = 400, method = "sir", L = 4000, seed = 5, format = "list", progress = FALSE)
    draw_mean <- rowMeans(vapply(draws, function(d) d$income[missing], numeric(sum(missing))))
    # Jensen: the mean of a log-normal-like conditional lies above its median
    expect_true(all(mean_x > median_x), label = name)
    # the mean of many SIR draws estimates E[x]: the imputed mean agrees with
    # it far better than the median (exp(E[log x]) for a Gaussian log) does
    expect_lt(abs(log(mean(mean_x) / mean(draw_mean))), 0.1, label = name)
    expect_gt(abs(log(mean(median_x) / mean(draw_mean))), 0.3, label = name)
  }
})

test_that("a fit whose two records of the log columns disagree is refused as damaged", {
  fit <- small_fit(dl, transform = "auto")
  impute_it <- function(f) impute(f, L = 20, seed = 1, progress = FALSE)
  bad <- fit
  bad$scaling$log[1] <- FALSE
  expect_error(impute_it(bad), class = "deepmnar_error_damaged_fit", regexp = "`scaling\\$log` and `spec\\$log_scale`")
  bad <- fit
  bad$spec$log_scale[1] <- 2 * bad$spec$log_scale[1]
  expect_error(impute_it(bad), class = "deepmnar_error_damaged_fit", regexp = "`scaling\\$log`")
  bad <- fit
  bad$scaling$log <- "yes"
  expect_error(impute_it(bad), class = "deepmnar_error_damaged_fit", regexp = "`scaling\\$log`")
})

test_that("a fit saved before log columns existed imputes as before", {
  fit <- small_fit(dl)
  old <- fit
  old$spec$log_scale <- NULL
  old$scaling$log <- NULL
  old$observation$transform <- NULL
  imputed <- function(f) suppressWarnings(impute(f, L = 100, seed = 1, progress = FALSE), classes = "deepmnar_warning_low_ess")
  expect_identical(imputed(old), imputed(fit))
  expect_output(print(old), "point masses")
})

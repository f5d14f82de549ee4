# precision = "float": the networks' layers in single precision. Its bound
# and gradient are checked against the double path (itself checked against
# finite differences in test-gradients.R), for every model.

as_float <- function(spec) {
  spec$precision <- "float"
  spec$precision_code <- 1L
  spec
}

float_vs_double <- function(spec, x, K = 4, seed = 11) {
  ev <- engine_view(x)
  theta <- deepmnar:::cpp_init_params(spec, 3) + stats::rnorm(deepmnar:::cpp_n_params(spec), sd = 0.1)
  double <- bound_at(spec, ev, theta, K, seed, gradient = TRUE)
  single <- bound_at(as_float(spec), ev, theta, K, seed, gradient = TRUE)
  c(bound = abs(single$bound - double$bound) / abs(double$bound),
    gradient = max(abs(single$gradient - double$gradient)) / max(abs(double$gradient)))
}

test_that("the float path's bound and gradient match the double path's to float rounding", {
  x <- tiny_mnar_data(n = 30)
  specs <- list(
    notmiwae_selfmask = tiny_spec(ncol(x), "selfmask", hidden = c(16L, 16L)),
    notmiwae_nonlinear_t = tiny_spec(ncol(x), "nonlinear", obs = "t", hidden = c(16L, 16L)),
    gnr = tiny_spec(ncol(x), "none", model = "gnr", hidden = c(16L, 16L)),
    not2miwae = tiny_spec(ncol(x), "none", model = "not2miwae", K2 = 2L, hidden = c(16L, 16L)),
    psmvae_a = psmvae_tiny_spec(ncol(x), k = 2L, variant = "a", hidden = c(16L, 16L)),
    psmvae_b = psmvae_tiny_spec(ncol(x), k = 2L, variant = "b", hidden = c(16L, 16L)))
  for (name in names(specs)) {
    set.seed(7)
    err <- float_vs_double(specs[[name]], x)
    expect_lt(err[["bound"]], 1e-6, label = paste(name, "bound"))
    expect_lt(err[["gradient"]], 1e-5, label = paste(name, "gradient"))
    # and it is float arithmetic, not the double path again
    expect_gt(err[["gradient"]], 1e-10, label = paste(name, "gradient differs"))
  }
})

test_that("a float fit is the same on 1 and 2 threads and imputes as well as double", {
  set.seed(3)
  n <- 400
  z <- rnorm(n)
  x <- data.frame(a = z + 0.3 * rnorm(n), b = -z + 0.3 * rnorm(n), c = 0.5 * z + rnorm(n))
  truth <- x
  x$a[x$a > 0 & runif(n) < 0.9] <- NA
  fit_with <- function(precision, threads = 1) {
    notmiwae(x, missing_model = "selfmask_known", hidden = c(32, 32), iterations = 1500, stop_early = FALSE, seed = 5, threads = threads,
             precision = precision, progress = FALSE)
  }
  single <- fit_with("float")
  expect_identical(fit_with("float", threads = 2)$theta, single$theta)
  expect_output(print(single), "float arithmetic")
  double <- fit_with("double")
  rmse <- function(fit) {
    imputed <- impute(fit, L = 500, seed = 1, progress = FALSE)
    missing <- is.na(x$a)
    sqrt(mean((imputed$a[missing] - truth$a[missing])^2))
  }
  expect_lt(abs(rmse(single) - rmse(double)), 0.05)
  expect_error(notmiwae(x, precision = "half", iterations = 5, progress = FALSE), class = "deepmnar_error",
               regexp = "`precision`")
})

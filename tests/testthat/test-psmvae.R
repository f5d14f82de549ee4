# PSMVAE: gradients, the ELBO against an independent R computation, the
# imputation estimator against quadrature, and the user-facing API.

psmvae_theta <- function(spec, sd = 0.3, seed = 5) {
  set.seed(seed)
  deepmnar:::cpp_init_params(spec, 3) + stats::rnorm(deepmnar:::cpp_n_params(spec), sd = sd)
}

test_that("the ELBO gradient matches finite differences (both variants, k = 1 and 3, pi' 0 / 0.3 / 1)", {
  x <- tiny_mnar_data(n = 10, p = 3)
  for (variant in c("b", "a")) for (k in c(1, 3)) for (pi_prime in c(0, 0.3, 1)) {
    spec <- psmvae_tiny_spec(3, k, variant, pi_prime)
    expect_lt(gradient_error(spec, x, K = 2), 1e-6)
  }
})

test_that("the ELBO gradient matches finite differences with categorical and ordinal variables", {
  x <- tiny_categorical_data()
  groups <- c(0L, 0L, 0L, 1L, 1L, 1L)
  for (variant in c("b", "a")) for (ordinal in list(rep(0L, 6), c(0L, 0L, 0L, 1L, 1L, 1L))) {
    spec <- psmvae_tiny_spec(6, 2, variant, 0.3)
    spec$category_group <- groups
    spec$category_ordinal <- ordinal
    spec$temperature <- 0.7
    expect_lt(gradient_error(spec, x, K = 2), 1e-6)
  }
  # an ordered variable's cutpoints: K - 1 parameters in each head
  expect_equal(deepmnar:::cpp_n_params(spec) - deepmnar:::cpp_n_params(psmvae_tiny_spec(6, 2, "a", 0.3)), 4)
})

test_that("the enumerated ELBO equals a brute-force sum over r computed independently in R", {
  x <- tiny_mnar_data(n = 6, p = 3)
  ev <- engine_view(x)
  for (variant in c("b", "a")) for (k in c(1, 3)) for (K in c(1, 2)) {
    spec <- psmvae_tiny_spec(3, k, variant, 0.3)
    theta <- psmvae_theta(spec)
    engine <- bound_at(spec, ev, theta, K, 7)$bound
    expect_equal(engine, elbo_ref(spec, ev, theta, K, 7), tolerance = 1e-10)
  }
})

test_that("with k = 1 the pattern-set encoder has no effect and q(r) = 1", {
  x <- tiny_mnar_data(n = 8, p = 3)
  ev <- engine_view(x)
  spec <- psmvae_tiny_spec(3, 1, "b", 0.5)
  theta <- psmvae_theta(spec)
  g <- bound_at(spec, ev, theta, 1, 3, gradient = TRUE)$gradient
  # The r encoder's parameters come first: (2p x 5 + 5) + (5 x 4 + 4) + (4 x 1 + 1).
  n_r <- (6 * 5 + 5) + (5 * 4 + 4) + (4 + 1)
  expect_equal(max(abs(g[seq_len(n_r)])), 0)
  expect_gt(max(abs(g[-seq_len(n_r)])), 1e-3)
  fit_spec <- spec
  probs <- deepmnar:::cpp_row_summaries(fit_spec, ev, theta, 3L, 1L)
  expect_equal(as.vector(probs), rep(1, nrow(x)))
})

test_that("the SNIS imputation converges to the exact conditional mean (quadrature), both variants", {
  x <- matrix(c(NA, 0.7), 1, 2, dimnames = list(NULL, c("c1", "c2")))
  ev <- engine_view(x)
  for (variant in c("b", "a")) {
    spec <- psmvae_tiny_spec(2, 2, variant, 0.5, latent = 1L, hidden = 4L)
    theta <- with_broad_proposal(spec, psmvae_theta(spec, sd = 0.5, seed = 2))
    exact <- exact_conditional_mean(spec, theta, 0.7)
    estimate <- function(L, seed) {
      deepmnar:::cpp_impute(spec, ev, theta, 1L, as.integer(L), 500L, 0L, 0L, seed, 1L, FALSE)$point[1, 1]
    }
    small <- mean(abs(vapply(1:10, function(s) estimate(10, s), numeric(1)) - exact))
    large <- mean(abs(vapply(1:3, function(s) estimate(40000, s), numeric(1)) - exact))
    expect_lt(large, small / 5)
    expect_lt(large, 0.01)
  }
})

test_that("psmvae() fits, imputes, clusters and reproduces across thread counts", {
  x <- banknote[1:300, 1:4]
  truth <- x
  x$variance[x$variance > mean(x$variance)] <- NA
  fit1 <- psmvae(x, k = 2, variant = "a", iterations = 400, batch_size = 32, seed = 4, threads = 1)
  fit2 <- psmvae(x, k = 2, variant = "a", iterations = 400, batch_size = 32, seed = 4, threads = 2)
  expect_identical(fit1$theta, fit2$theta)
  expect_s3_class(fit1, "deepmnar_psmvae")
  imp <- impute(fit1, L = 300, seed = 1, threads = 1)
  expect_false(anyNA(imp))
  expect_identical(imp[!is.na(x)], truth[!is.na(x)])
  expect_lt(imputation_rmse(truth, imp, is.na(x)), imputation_rmse(truth, as.data.frame(lapply(x, function(v) replace(v, is.na(v), mean(v, na.rm = TRUE)))), is.na(x)))
  expect_equal(impute(fit1, L = 300, seed = 1, threads = 2), imp)
  med <- impute(fit1, L = 300, type = "median", seed = 1, threads = 1)
  expect_false(anyNA(med))
  ps <- pattern_sets(fit1)
  expect_equal(dim(ps$probabilities), c(nrow(x), 2L))
  expect_equal(unname(rowSums(ps$probabilities)), rep(1, nrow(x)), tolerance = 1e-12)
  expect_true(all(ps$set %in% 1:2))
  expect_equal(dim(latent(fit1)), c(nrow(x), fit1$spec$latent_dim))
  pm <- predict_mask(fit1, L = 200, seed = 1, threads = 1)
  expect_gt(mask_accuracy(pm, is.na(x))[["accuracy"]], mask_accuracy(pm, is.na(x))[["majority"]])
  skip_if_not_installed("mice")
  mids <- multiple_impute(fit1, m = 3, L = 300, refit_iterations = 50, seed = 2, threads = 1)
  expect_s3_class(mids, "mids")
  path <- tempfile(fileext = ".rds")
  saveRDS(fit1, path)
  expect_equal(impute(readRDS(path), L = 300, seed = 1, threads = 1), imp)
  expect_output(print(fit1), "PSMVAE \\(a\\), 2 pattern sets")
  new <- x[1:5, ]
  expect_equal(dim(impute(fit1, newdata = new, L = 100, threads = 1)), dim(new))
  expect_equal(nrow(pattern_sets(fit1, newdata = new)$probabilities), 5L)
})

test_that("psmvae() rejects bad arguments with classed errors that name them", {
  x <- banknote[1:50, 1:4]
  x$variance[x$variance > 0] <- NA
  expect_error(psmvae(x, k = 0), class = "deepmnar_error_input", regexp = "`k`")
  expect_error(psmvae(x, variant = "c"), class = "deepmnar_error_input", regexp = "`variant`")
  expect_error(psmvae(x, pi_prime = 1.5), class = "deepmnar_error_input", regexp = "`pi_prime`")
  expect_error(psmvae(x, pi_prime = NA), class = "deepmnar_error_input", regexp = "`pi_prime`")
  expect_error(psmvae(x, encoder = "sets"), class = "deepmnar_error_input", regexp = "`encoder`")
  expect_error(psmvae(x, obs = "t"), class = "deepmnar_error_input", regexp = "`obs`")
  fit <- notmiwae(x, missing_model = "selfmask_known", iterations = 5, seed = 1, threads = 1)
  expect_error(pattern_sets(fit), class = "deepmnar_error_input", regexp = "psmvae")
})

test_that("psmvae() refuses bad data with the same classed errors as the other models", {
  set.seed(1)
  d <- data.frame(a = rnorm(40), b = rnorm(40), c = rnorm(40))
  d$a[d$a > 0.5] <- NA
  quick <- function(data, ...) psmvae(data, hidden = 8, iterations = 5, batch_size = 8, seed = 1, threads = 1,
                                      progress = FALSE, ...)
  dc <- d
  dc$label <- letters[seq_len(nrow(d))]
  expect_error(quick(dc), class = "deepmnar_error_input", regexp = "`label`")
  de <- d
  de$empty <- NA_real_
  expect_error(quick(de), class = "deepmnar_error_input", regexp = "`empty`.*no observed value")
  di <- d
  di$b[3] <- Inf
  expect_error(quick(di), class = "deepmnar_error_input", regexp = "`b`")
  fit <- quick(d)
  expect_error(impute(fit, newdata = d[, c("a", "b")]), class = "deepmnar_error_input", regexp = "`c`")
  expect_error(pattern_sets(fit, newdata = d[, c("a", "b")]), class = "deepmnar_error_input", regexp = "`c`")
})

test_that("variant a's mask model starts as MCAR fitted: P(observed) at each column's mean is its observed share", {
  x <- tiny_mnar_data(n = 40)
  spec <- psmvae_tiny_spec(ncol(x), 2, "a")
  ed <- deepmnar:::engine_data(x, deepmnar:::fit_scaling(x))
  m <- psmvae_reference(spec, deepmnar:::initial_params(spec, ed, 1))
  incomplete <- which(colSums(is.na(x)) > 0)
  share <- colMeans(!is.na(x))
  # logit P(observed | x = 0) = slope * midpoint, for every pattern set
  at_mean <- m$slope * m$midpoint
  expect_equal(at_mean[, incomplete], matrix(stats::qlogis(share[incomplete]), 2, length(incomplete), byrow = TRUE),
               ignore_attr = TRUE)
  expect_true(all(m$midpoint[, -incomplete] == 0))
})

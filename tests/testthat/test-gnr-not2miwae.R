# GNR and not-2-MIWAE: gradients, edge cases, the MIWAE limit, mask prediction.

model_grid <- expand.grid(model = c("gnr", "not2miwae"), obs = c("gaussian", "t"), decoder = c("mlp", "linear"),
                          stringsAsFactors = FALSE)
for (i in seq_len(nrow(model_grid))) {
  g <- model_grid[i, ]
  test_that(sprintf("%s gradient matches finite differences: %s, %s decoder", g$model, g$obs, g$decoder), {
    x <- tiny_mnar_data()
    set.seed(100 + i)
    spec <- tiny_spec(ncol(x), "none", g$obs, g$decoder, model = g$model, alpha = 0.7, K2 = 3)
    expect_lt(gradient_error(spec, x), 1e-6)
  })
}

test_that("edge cases K = 1 and K2 = 1 have exact gradients and finite bounds", {
  x <- tiny_mnar_data()
  set.seed(7)
  expect_lt(gradient_error(tiny_spec(ncol(x), "none", model = "not2miwae", K2 = 1), x, K = 1), 1e-6)
  expect_lt(gradient_error(tiny_spec(ncol(x), "none", model = "not2miwae", K2 = 4), x, K = 1), 1e-6)
  expect_lt(gradient_error(tiny_spec(ncol(x), "none", model = "not2miwae", K2 = 1), x, K = 3), 1e-6)
  expect_lt(gradient_error(tiny_spec(ncol(x), "none", model = "gnr"), x, K = 1), 1e-6)
})

test_that("the not-2-MIWAE bound grows with K2 at fixed parameters", {
  x <- tiny_mnar_data(n = 60)
  ev <- engine_view(x)
  mean_bound <- function(K2) {
    spec <- tiny_spec(ncol(x), "none", model = "not2miwae", K2 = K2)
    theta <- deepmnar:::cpp_init_params(spec, 1)
    mean(vapply(1:20, function(s) bound_at(spec, ev, theta, 2, s)$bound, numeric(1)))
  }
  expect_lt(mean_bound(1), mean_bound(30))
})

toy_data <- function(n = 300, seed = 4) {
  set.seed(seed)
  z <- rnorm(n)
  d <- data.frame(a = z + rnorm(n, sd = 0.3), b = -z + rnorm(n, sd = 0.3), c = 0.5 * z + rnorm(n, sd = 0.5))
  d$a[d$a > 0.2] <- NA
  d
}

test_that("GNR with alpha = 0 is MIWAE: same parameters and imputations", {
  d <- toy_data()
  args <- list(d, hidden = c(8, 8), iterations = 150, K = 5, seed = 9, threads = 1, progress = FALSE, starts = 1)
  miwae <- do.call(notmiwae, c(args, missing_model = "none"))
  g0 <- do.call(gnr, c(args, alpha = 0))
  shared <- seq_along(miwae$theta)
  expect_identical(g0$theta[shared], miwae$theta)
  expect_identical(g0$trace, miwae$trace)
  expect_identical(impute(g0, L = 200, seed = 2, progress = FALSE), impute(miwae, L = 200, seed = 2, progress = FALSE))
  # and alpha > 0 changes the fit
  g1 <- do.call(gnr, c(args, alpha = 1))
  expect_false(identical(g1$theta[shared], miwae$theta))
})

# Four columns from one factor; a goes missing by self-masking with known
# probabilities, P(missing) = sigmoid(3 * (a - 0.3)).
self_masked_frame <- function(n, seed) {
  set.seed(seed)
  z <- rnorm(n)
  full <- data.frame(a = z + rnorm(n, sd = 0.3), b = -z + rnorm(n, sd = 0.3), c = 0.5 * z + rnorm(n, sd = 0.5),
                     e = z + rnorm(n, sd = 0.4))
  p_missing <- plogis(3 * (full$a - 0.3))
  x <- full
  x$a[runif(n) < p_missing] <- NA
  list(full = full, x = x, p_missing = p_missing)
}

test_that("GNR's predicted mask beats the random guess clearly when the mask follows the values", {
  d <- self_masked_frame(1500, seed = 5)
  full <- d$full
  x <- d$x
  p_missing <- d$p_missing
  n <- nrow(x)
  x$b[full$b > 0.5 & runif(n) < 0.9] <- NA
  fit <- gnr(x, alpha = 1, hidden = c(32, 32), iterations = 3000, seed = 2, threads = 2, progress = FALSE)
  p_obs <- predict_mask(fit, L = 300, seed = 1, threads = 2, progress = FALSE)
  expect_true(all(p_obs >= 0 & p_obs <= 1))
  acc <- mask_accuracy(p_obs, is.na(x))
  expect_gt(acc[["accuracy"]], acc[["random"]] + 0.1)
  expect_gt(acc[["accuracy"]], acc[["majority"]])
  # the predicted probability of column a tracks the true one
  expect_gt(cor(1 - p_obs[, "a"], p_missing), 0.5)
  # without the mask in the weights the prediction comes from the values
  # alone: less sure of the given mask, still tracking the true probability
  p_values <- predict_mask(fit, L = 300, seed = 1, threads = 2, progress = FALSE, condition_on_mask = FALSE)
  acc_values <- mask_accuracy(p_values, is.na(x))
  expect_lt(acc_values[["accuracy"]], acc[["accuracy"]])
  expect_gt(cor(1 - p_values[, "a"], p_missing), 0.3)
  # rows whose a is observed: conditioning on "observed" raises P(observed)
  seen <- !is.na(x$a)
  expect_gt(mean(p_obs[seen, "a"]), mean(p_values[seen, "a"]))
  expect_error(predict_mask(notmiwae(x[1:100, ], missing_model = "selfmask_known", iterations = 5, stop_early = FALSE, progress = FALSE),
                            condition_on_mask = FALSE), class = "deepmnar_error_input", regexp = "GNR fits")
})

test_that("the new models impute, resample, save and print like notmiwae", {
  d <- toy_data(n = 120)
  fits <- list(
    gnr = gnr(d, hidden = c(8), iterations = 60, K = 4, seed = 1, threads = 1, progress = FALSE),
    not2miwae = not2miwae(d, hidden = c(8), K = 4, K2 = 3, iterations = 60, seed = 1, threads = 1, progress = FALSE)
  )
  for (name in names(fits)) {
    fit <- fits[[name]]
    expect_s3_class(fit, paste0("deepmnar_", name))
    imp <- impute(fit, L = 100, seed = 1, progress = FALSE)
    expect_false(anyNA(imp))
    expect_identical(imp$b, d$b)
    med <- impute(fit, L = 100, type = "median", seed = 1, progress = FALSE)
    expect_true(all(is.finite(med$a)))
    mi <- multiple_impute(fit, method = "sir", m = 2, L = 50, format = "list", seed = 1, progress = FALSE)
    expect_length(mi, 2)
    expect_false(identical(mi[[1]]$a, mi[[2]]$a))
    path <- tempfile(fileext = ".rds")
    saveRDS(fit, path)
    expect_identical(impute(readRDS(path), L = 100, seed = 1, progress = FALSE), imp)
    expect_output(print(fit), if (name == "gnr") "GNR" else "not-2-MIWAE")
    p_obs <- predict_mask(fit, L = 50, seed = 1, progress = FALSE)
    expect_equal(dim(p_obs), dim(d))
    z <- latent(fit, L = 50, seed = 1)
    zz <- if (is.list(z)) z$z else z
    expect_equal(dim(zz), c(nrow(d), ncol(d) - 1L))
    if (name == "not2miwae") expect_equal(dim(z$eta), c(nrow(d), ncol(d) - 1L))
    nd <- d[1:10, c("c", "a", "b")]
    expect_equal(impute(fit, newdata = nd, L = 50, seed = 1, progress = FALSE)$a[!is.na(nd$a)], nd$a[!is.na(nd$a)])
  }
})

test_that("a seed gives the same GNR and not-2-MIWAE fit on one thread or two", {
  d <- toy_data(n = 100)
  for (f in list(function(t) gnr(d, hidden = c(8), iterations = 40, K = 4, seed = 3, threads = t, progress = FALSE),
                 function(t) not2miwae(d, hidden = c(8), K = 3, K2 = 2, iterations = 40, seed = 3, threads = t,
                                       progress = FALSE))) {
    expect_identical(f(1)$theta, f(2)$theta)
  }
})

test_that("bad options of the new models are classed errors naming the argument", {
  d <- toy_data(n = 50)
  expect_error(gnr(d, alpha = -1, iterations = 1), class = "deepmnar_error_input", regexp = "alpha")
  expect_error(gnr(d, alpha = NA, iterations = 1), class = "deepmnar_error_input", regexp = "alpha")
  expect_error(not2miwae(d, K2 = 0, iterations = 1), class = "deepmnar_error_input", regexp = "K2")
  expect_error(not2miwae(d, eta_dim = 0, iterations = 1), class = "deepmnar_error_input", regexp = "eta_dim")
  expect_error(gnr(d["a"][0, , drop = FALSE]), class = "deepmnar_error_input")
  miwae <- notmiwae(d, missing_model = "none", hidden = 4, iterations = 5, seed = 1, progress = FALSE)
  expect_error(predict_mask(miwae), class = "deepmnar_error_input", regexp = "no model of the mask")
  expect_error(latent(list()), class = "deepmnar_error_input", regexp = "fit")
})

test_that("not-MIWAE's predicted mask is its missing model at the imputed row", {
  d <- toy_data(n = 200)
  fit <- notmiwae(d, missing_model = "selfmask_known", hidden = c(8), iterations = 300, seed = 2, threads = 1, progress = FALSE)
  p_obs <- predict_mask(fit, L = 100, seed = 1, progress = FALSE)
  imp <- as.matrix(impute(fit, L = 100, seed = 1, progress = FALSE))
  s <- summary(fit)$columns
  # selfmask_known: P(observed) = sigmoid(slope * (x - midpoint)) on the original scale
  by_hand <- plogis(sweep(sweep(imp, 2, s$mask_midpoint, "-"), 2, s$mask_slope, "*"))
  expect_equal(unname(p_obs), unname(by_hand), tolerance = 1e-8)
})

aux_grid <- list(list(obs = "gaussian", decoder = "mlp"), list(obs = "t", decoder = "linear"),
                 list(obs = "gaussian", decoder = "mlp", encoder = "set"))
for (i in seq_along(aux_grid)) {
  g <- aux_grid[[i]]
  test_that(sprintf("GNR with the auxiliary u: gradient matches finite differences (%s, %s decoder%s)", g$obs,
                    g$decoder, if (is.null(g$encoder)) "" else ", set encoder"), {
    x <- tiny_mnar_data()
    set.seed(200 + i)
    spec <- tiny_spec(ncol(x), "none", g$obs, g$decoder, model = "gnr", alpha = 0.7, aux_dim = 2L,
                      encoder = if (is.null(g$encoder)) "mlp" else g$encoder)
    expect_lt(gradient_error(spec, x), 1e-6)
  })
}

test_that("GNR's auxiliary u: gradient with ratings and point masses matches finite differences", {
  x <- tiny_rating_data()
  spec <- tiny_spec(ncol(x), "none", "rating", model = "gnr", aux_dim = 3L, rating_lower = rep(-2, 3),
                    rating_upper = rep(2, 3))
  set.seed(211)
  expect_lt(gradient_error(spec, x), 1e-6)
  x <- tiny_point_mass_data()
  spec <- tiny_spec(ncol(x), "none", model = "gnr", aux_dim = 1L, point_mass = c(-0.5, NA, 0.25))
  set.seed(212)
  expect_lt(gradient_error(spec, x), 1e-6)
})

test_that("the auxiliary u adds p(u | z) and the decoders' weights from u, nothing else", {
  p <- 3
  plain <- tiny_spec(p, "none", model = "gnr")
  with_u <- tiny_spec(p, "none", model = "gnr", aux_dim = 2L)
  h <- plain$hidden
  aux_net <- (plain$latent_dim * h[1] + h[1]) + (h[1] * 2 * 2 + 2 * 2)
  # the first layers of the data decoder and of the mask decoder each read u too
  expect_identical(deepmnar:::cpp_n_params(with_u) - deepmnar:::cpp_n_params(plain), aux_net + 2 * 2 * h[1])
  blocks <- deepmnar:::cpp_param_blocks(with_u)
  expect_true("auxiliary" %in% blocks$name)
})

test_that("only GNR takes the auxiliary u, and aux_dim is checked", {
  spec <- tiny_spec(3, "selfmask", aux_dim = 2L)
  expect_error(deepmnar:::cpp_n_params(spec), "aux_dim")
  d <- toy_data(60)
  expect_error(gnr(d, aux_dim = -1, iterations = 5), class = "deepmnar_error")
  expect_error(gnr(d, aux_dim = 1.5, iterations = 5), "aux_dim")
})

test_that("a GNR fit with the auxiliary u is the same on 1 and 2 threads and prints u", {
  d <- toy_data(120)
  fit1 <- gnr(d, aux_dim = 2, iterations = 60, stop_early = FALSE, starts = 1, seed = 5, threads = 1, progress = FALSE)
  fit2 <- gnr(d, aux_dim = 2, iterations = 60, stop_early = FALSE, starts = 1, seed = 5, threads = 2, progress = FALSE)
  expect_identical(fit1$theta, fit2$theta)
  # L = 50 leaves some rows with a low ESS; the warning is not the subject here
  expect_identical(suppressWarnings(impute(fit1, L = 50, seed = 2, threads = 1, progress = FALSE)),
                   suppressWarnings(impute(fit2, L = 50, seed = 2, threads = 2, progress = FALSE)))
  expect_output(print(fit1), "auxiliary u of dimension 2")
  bad <- fit1
  bad$model <- bad$spec$model <- "notmiwae"
  bad$spec$model_code <- 0
  expect_error(impute(bad, L = 10), "aux_dim", class = "deepmnar_error_damaged_fit")
  # a damaged field is refused without a coercion warning on the way
  bad <- fit1
  bad$spec$aux_dim <- "a"
  expect_no_warning(expect_error(impute(bad, L = 10), "aux_dim", class = "deepmnar_error_damaged_fit"))
})

test_that("not-2-MIWAE imputes self-masked values far better than the mean and at least as well as MIWAE", {
  d <- self_masked_frame(1000, seed = 1)
  full <- d$full
  x <- d$x
  missing <- is.na(x$a)
  n <- nrow(x)
  rmse <- function(imputed) sqrt(mean((imputed[missing] - full$a[missing])^2))
  fit_args <- list(x, hidden = c(32, 32), iterations = 3000, seed = 1, threads = 1, progress = FALSE)
  not2 <- rmse(impute(do.call(not2miwae, fit_args), seed = 1, progress = FALSE)$a)
  miwae <- rmse(impute(do.call(notmiwae, c(fit_args, missing_model = "none")), seed = 1, progress = FALSE)$a)
  expect_lt(not2, 0.5 * rmse(rep(mean(x$a, na.rm = TRUE), n)))
  expect_lt(not2, 1.05 * miwae)
})

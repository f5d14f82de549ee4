# Rating data (issue #14): the shared self-masking slope of the not-MIWAE
# paper's Yahoo! R3 model and the rating observation model.

# Ratings 1-5 of `n` users on `p` items from a low-rank truth; a rating is
# observed with probability plogis(2 (r - 3.5)), so high ratings are seen
# more often (as in Yahoo! R3).
simulate_ratings <- function(seed, n = 400, p = 20) {
  set.seed(seed)
  u <- matrix(stats::rnorm(n * 2), n, 2)
  v <- matrix(stats::rnorm(p * 2), p, 2)
  truth <- pmin(pmax(round(3 + 0.8 * u %*% t(v) + stats::rnorm(n * p, sd = 0.5)), 1), 5)
  colnames(truth) <- sprintf("item%02d", seq_len(p))
  x <- truth
  x[stats::runif(n * p) > stats::plogis(2 * (truth - 3.5))] <- NA
  list(x = x, truth = truth)
}

small_ratings <- function() simulate_ratings(3, n = 60, p = 4)

test_that("the shared slope is one parameter beside one location per column, where R reads them", {
  spec <- tiny_spec(3, "selfmask_shared", direction = 0)
  blocks <- deepmnar:::cpp_param_blocks(spec)
  expect_identical(blocks$size[blocks$name %in% c("mask_slope", "mask_location")], c(1, 3))
  expect_equal(lengths(deepmnar:::selfmask_indices(spec)), c(slope = 1, location = 3))
})

test_that("notmiwae() with the shared slope fits, imputes and reports one slope", {
  x <- tiny_mnar_data(n = 40)
  fit <- notmiwae(x, missing_model = "selfmask_shared", hidden = 8, iterations = 60, stop_early = FALSE,
                  seed = 1, threads = 1, progress = FALSE)
  # the sign is learned: several starts, as for every learned mask model
  expect_identical(fit$settings$starts, 4L)
  expect_true(all(fit$spec$direction == 0))
  expect_output(print(fit), "selfmask_shared missing model, one slope of learned sign")
  imp <- suppressWarnings(impute(fit, L = 50, seed = 1, threads = 1, progress = FALSE))
  expect_false(anyNA(imp))
  expect_identical(imp[!is.na(x)], x[!is.na(x)])
  # summary() gives each column the shared slope on its own scale: times the
  # column's sd it is the one standardised slope
  cols <- summary(fit)$columns
  standardised <- unname(cols$mask_slope * fit$scaling$scale)
  expect_equal(standardised, rep(standardised[1], ncol(x)))
  at <- deepmnar:::selfmask_indices(fit$spec)
  expect_equal(standardised[1], -fit$theta[at$slope])

  known <- notmiwae(x, missing_model = "selfmask_shared", direction = "low", hidden = 8, iterations = 60,
                    stop_early = FALSE, seed = 1, threads = 1, progress = FALSE)
  expect_identical(known$settings$starts, 1L)
  expect_true(all(known$spec$direction == -1))
  expect_output(print(known), "one slope, low values missing")
  # direction "low": logit = softplus(w) (x - b) rises with x
  expect_true(all(summary(known)$columns$mask_slope > 0))
})

test_that("the shared slope starts with the sign most incomplete columns suggest", {
  x <- tiny_mnar_data(n = 40)
  spec <- tiny_spec(ncol(x), "selfmask_shared", direction = 0)
  ed <- deepmnar:::engine_data(x, deepmnar:::fit_scaling(x))
  theta <- deepmnar:::initial_params(spec, ed, 1)
  at <- deepmnar:::selfmask_indices(spec)
  incomplete <- which(colSums(is.na(x)) > 0)
  expected <- if (sum(deepmnar:::selfmask_directions(ed)[incomplete]) < 0) -1.5 else 1.5
  expect_identical(theta[at$slope], expected)
  share <- colMeans(!is.na(x))[incomplete]
  expect_equal(theta[at$location[incomplete]], unname(stats::qlogis(share) / expected))
})

test_that("a shared slope refuses directions that differ across columns", {
  x <- tiny_mnar_data(n = 20)
  err <- expect_error(notmiwae(x, missing_model = "selfmask_shared", direction = c("high", "low", "high"),
                               iterations = 5, seed = 1, threads = 1, progress = FALSE),
                      class = "deepmnar_error_input")
  expect_identical(err$argument, "direction")
  expect_match(conditionMessage(err), "same direction")
  err <- expect_error(notmiwae(x, missing_model = "selfmask_shared", direction = c(c2 = "low"),
                               iterations = 5, seed = 1, threads = 1, progress = FALSE),
                      class = "deepmnar_error_input")
  expect_identical(err$argument, "direction")
})

test_that("rating imputations lie in the range and multiple-imputation draws are whole ratings", {
  d <- small_ratings()
  for (model in c("notmiwae", "gnr")) {
    fit <- if (model == "notmiwae") {
      notmiwae(d$x, missing_model = "selfmask_shared", obs = "rating", hidden = 8, iterations = 100,
               stop_early = FALSE, starts = 1, seed = 1, threads = 1, progress = FALSE)
    } else {
      gnr(d$x, obs = "rating", hidden = 8, iterations = 100, stop_early = FALSE, starts = 1, seed = 1, threads = 1,
          progress = FALSE)
    }
    expect_identical(fit$observation$family, rep("rating", ncol(d$x)))
    expect_identical(fit$observation$rating_lower, unname(apply(d$x, 2, min, na.rm = TRUE)))
    expect_identical(fit$observation$rating_upper, unname(apply(d$x, 2, max, na.rm = TRUE)))
    # no point masses at the ends of the scale
    expect_true(all(is.na(fit$observation$point_mass)))
    expect_output(print(fit), "ratings \\(Gaussian, mean inside the range, one scale per column\\)")
    miss <- is.na(d$x)
    for (type in c("mean", "median")) {
      imp <- as.matrix(suppressWarnings(impute(fit, L = 200, type = type, seed = 2, threads = 1, progress = FALSE)))
      lo <- matrix(fit$observation$rating_lower, nrow(imp), ncol(imp), byrow = TRUE)
      hi <- matrix(fit$observation$rating_upper, nrow(imp), ncol(imp), byrow = TRUE)
      expect_true(all(imp[miss] >= lo[miss] & imp[miss] <= hi[miss]), info = paste(model, type))
    }
    draws <- multiple_impute(fit, m = 3, method = "sir", L = 100, format = "list", seed = 3, threads = 1,
                             progress = FALSE)
    for (completed in draws) {
      v <- as.matrix(completed)[miss]
      expect_true(all(v == round(v) & v >= 1 & v <= 5), info = model)
    }
    # the draws differ between imputations (they are draws, not the mean)
    expect_false(identical(draws[[1]], draws[[2]]))
  }
})

test_that("the decoder's rating means stay inside a given range wider than the data", {
  d <- small_ratings()
  fit <- notmiwae(d$x, missing_model = "none", obs = "rating", rating_range = c(0, 10), hidden = 8,
                  iterations = 100, stop_early = FALSE, seed = 1, threads = 1, progress = FALSE)
  expect_identical(fit$observation$rating_lower, rep(0, ncol(d$x)))
  expect_identical(fit$observation$rating_upper, rep(10, ncol(d$x)))
  expect_equal(fit$spec$rating_lower, unname((0 - fit$scaling$center) / fit$scaling$scale))
  imp <- as.matrix(suppressWarnings(impute(fit, L = 200, seed = 2, threads = 1, progress = FALSE)))
  expect_true(all(imp >= 0 & imp <= 10))
  # per column, as a list named for some columns (the others from the data)
  fit2 <- gnr(d$x, obs = "rating", rating_range = list(item02 = c(1, 7)), hidden = 8, iterations = 20,
              stop_early = FALSE, starts = 1, seed = 1, threads = 1, progress = FALSE)
  expect_identical(fit2$observation$rating_upper, c(5, 7, 5, 5))
  expect_identical(names(summary(fit2)$columns)[c(9, 10)], c("rating_lower", "rating_upper"))
})

test_that("bad rating ranges are refused naming the argument", {
  d <- small_ratings()
  fit_with <- function(range, obs = "rating") {
    notmiwae(d$x, missing_model = "none", obs = obs, rating_range = range, hidden = 4, iterations = 5,
             stop_early = FALSE, seed = 1, threads = 1, progress = FALSE)
  }
  bad <- list(c(5, 1), c(1, Inf), "1-5", c(1, 3, 5), matrix(1:6, 3, 2), list(c(1, 5), 3),
              list(item09 = c(1, 5)), matrix(c(1, 1), 4, 2))
  for (range in bad) {
    err <- expect_error(fit_with(range), class = "deepmnar_error_input")
    expect_identical(err$argument, "rating_range")
  }
  # observed values outside the given range, by column
  err <- expect_error(fit_with(list(item03 = c(1, 3))), class = "deepmnar_error_input")
  expect_identical(err$columns, "item03")
  expect_match(conditionMessage(err), "`item03` holds observed values outside its `rating_range`")
  err <- expect_error(fit_with(c(1, 5), obs = "gaussian"), class = "deepmnar_error_input")
  expect_identical(err$argument, "rating_range")
  # a model refuses the observation models its capabilities (registry.h) lack
  err <- expect_error(psmvae(d$x, obs = "t", iterations = 5, seed = 1, progress = FALSE),
                      class = "deepmnar_error_input")
  expect_identical(err$argument, "obs")
})

test_that("fits made before rating columns still validate and impute", {
  x <- tiny_mnar_data(n = 30)
  fit <- notmiwae(x, missing_model = "selfmask", hidden = 4, iterations = 10, stop_early = FALSE, starts = 1,
                  seed = 1, threads = 1, progress = FALSE)
  old <- fit
  old$spec$rating_lower <- old$spec$rating_upper <- NULL
  old$spec$registry_version <- 2L
  old$observation$rating_lower <- old$observation$rating_upper <- NULL
  expect_equal(suppressWarnings(impute(old, L = 20, seed = 1, threads = 1, progress = FALSE)),
               suppressWarnings(impute(fit, L = 20, seed = 1, threads = 1, progress = FALSE)))
  # a fit whose shared slope's sign is learned, read by code that lost the
  # shared model's name, is damaged
  shared <- notmiwae(x, missing_model = "selfmask_shared", hidden = 4, iterations = 10, stop_early = FALSE,
                     starts = 1, seed = 1, threads = 1, progress = FALSE)
  shared$spec$missing_model <- "selfmask"
  expect_error(impute(shared, L = 20, seed = 1, threads = 1, progress = FALSE), class = "deepmnar_error_damaged_fit")
})

test_that("on MNAR ratings the shared self-masking slope beats ignoring the mechanism", {
  rmse_missing <- function(fit, d) {
    imp <- as.matrix(suppressWarnings(impute(fit, L = 500, seed = 1, threads = 1, progress = FALSE)))
    miss <- is.na(d$x)
    sqrt(mean((imp[miss] - d$truth[miss])^2))
  }
  d <- simulate_ratings(1)
  # the scale is known: under this mechanism the observed minimum of an item
  # is often above 1
  common <- list(d$x, obs = "rating", rating_range = c(1, 5), hidden = c(32, 32), latent_dim = 3,
                 iterations = 1500, batch_size = 32, stop_early = FALSE, seed = 1, threads = 1, progress = FALSE)
  shared <- do.call(notmiwae, c(common, list(missing_model = "selfmask_shared", starts = 1)))
  none <- do.call(notmiwae, c(common, list(missing_model = "none")))
  # high ratings are seen more often: a learned slope of that sign, near the
  # truth's 2 per rating point (1.4 to 1.9 over seeds 1-5)
  expect_lt(shared$theta[deepmnar:::selfmask_indices(shared$spec)$slope], 0)
  slopes <- summary(shared)$columns$mask_slope
  expect_true(all(slopes > 0.8 & slopes < 3.5))
  # RMSE of the missing cells, shared / none, seeds 1-5 of this design:
  # 0.627 / 1.360, 0.590 / 1.332, 0.608 / 1.158, 0.628 / 1.213, 0.623 / 1.174
  expect_lt(rmse_missing(shared, d), rmse_missing(none, d) - 0.3)
})

test_that("obs = 'categorical' models rating levels: the mask reads the level's value, imputations are ratings", {
  r <- simulate_ratings(5, n = 300, p = 10)
  x <- r$x
  x[x == 1] <- NA  # no rating of 1 is observed: the level must still exist
  miss <- is.na(x)
  fit_with <- function(missing_model) {
    notmiwae(x, obs = "categorical", missing_model = missing_model, rating_range = c(1, 5), hidden = c(32, 32),
             iterations = 2000, stop_early = FALSE, seed = 1, threads = 1, progress = FALSE)
  }
  shared <- fit_with("selfmask_shared")
  expect_identical(shared$data_format$types$item01$levels, as.character(1:5))
  expect_output(print(shared), "categorical .*item01 \\(5 levels\\)")
  # the engine gets each level's value (standardised by its column)
  values <- shared$spec$category_value[shared$spec$category_group == 1]
  expect_true(all(diff(values) > 0))
  imp <- suppressWarnings(impute(shared, L = 200, seed = 1, progress = FALSE))
  expect_true(is.data.frame(imp) && all(vapply(imp, is.numeric, logical(1))))
  expect_true(all(as.matrix(imp) >= 1 & as.matrix(imp) <= 5))
  expect_identical(as.matrix(imp)[!miss], x[!miss])
  draws <- multiple_impute(shared, m = 2, method = "sir", L = 100, seed = 1, format = "list", progress = FALSE)
  drawn <- as.matrix(draws[[1]])[miss]
  expect_true(all(drawn %in% 1:5))
  # the shared slope on the values sees that low ratings hide; MIWAE cannot
  mse <- function(fit) mean((as.matrix(suppressWarnings(impute(fit, L = 200, seed = 1, progress = FALSE)))[miss] -
                              r$truth[miss])^2)
  expect_lt(mse(shared), mse(fit_with("none")) - 0.5)
  # newdata (a matrix too) is coded by the levels; values off them are refused
  nd <- x[1:3, ]
  expect_equal(dim(suppressWarnings(impute(shared, newdata = nd, L = 20, seed = 1, progress = FALSE))), c(3L, 10L))
  nd[1, 2] <- 2.5
  expect_error(impute(shared, newdata = nd, L = 20, seed = 1, progress = FALSE), class = "deepmnar_error_input",
               regexp = "item02.*2.5")
  # psmvae takes rating levels too
  ps <- psmvae(x, obs = "categorical", variant = "a", rating_range = c(1, 5), hidden = c(16, 16), iterations = 200,
               stop_early = FALSE, starts = 1, seed = 1, threads = 1, progress = FALSE)
  expect_true(all(as.matrix(suppressWarnings(impute(ps, L = 50, seed = 1, progress = FALSE))) <= 5))
  expect_error(psmvae(x, obs = "t"), class = "deepmnar_error_input", regexp = "`obs`")
  expect_error(notmiwae(x * 10, obs = "categorical", rating_range = c(10, 200)), class = "deepmnar_error_input",
               regexp = "rating levels")
})

test_that("PSMVAE's gradient with rating columns matches finite differences", {
  x <- tiny_rating_data()
  for (variant in c("a", "b")) {
    spec <- psmvae_spec(ncol(x), variant, obs = "rating", rating_lower = c(-2, -2.5, -2), rating_upper = c(2, 2.5, 3))
    set.seed(330)
    expect_lt(gradient_error(spec, x, K = 2), 1e-6)
  }
})

test_that("psmvae(obs = 'rating') keeps both heads and its imputations inside the range", {
  d <- small_ratings()
  for (encoder in c("mlp", "set")) {
    fit <- psmvae(d$x, obs = "rating", encoder = encoder, direction = "low", rating_range = c(1, 5), hidden = 8, batch_size = 32,
                  iterations = 150, stop_early = FALSE, starts = 1, seed = 1, threads = 1, progress = FALSE)
    expect_identical(fit$observation$family, rep("rating", ncol(d$x)))
    expect_output(print(fit), "ratings \\(Gaussian, mean inside the range, scales from the decoder\\)")
    expect_equal(fit$spec$rating_lower, unname((1 - fit$scaling$center) / fit$scaling$scale))
    miss <- is.na(d$x)
    imp <- as.matrix(suppressWarnings(impute(fit, L = 200, seed = 2, threads = 1, progress = FALSE)))
    expect_true(all(imp[miss] >= 1 & imp[miss] <= 5), info = encoder)
    expect_identical(imp[!miss], d$x[!miss])
  }
})

# Started at P(observed) = 1/2, PSMVAE's mask model explained a 15% observed
# share by moving the missing ratings to the bottom of the scale (mean
# imputation 1.6 against a truth of 2.8; 5.24 MSE on the MovieLens bench).
test_that("psmvae(variant = 'a') on sparse ratings imputes near the truth, not at the end of the scale", {
  set.seed(2)
  n <- 300
  p <- 30
  truth <- pmin(pmax(round(3 + 0.9 * matrix(stats::rnorm(n * 2), n) %*% t(matrix(stats::rnorm(p * 2), p)) +
                             stats::rnorm(n * p, sd = 0.4)), 1), 5)
  rated <- function(a) stats::plogis(a + 1.5 * (truth - 3))
  a <- stats::uniroot(function(a) mean(rated(a)) - 0.15, c(-20, 5))$root
  x <- truth
  x[stats::runif(n * p) > rated(a)] <- NA
  missing <- is.na(x)
  fit <- psmvae(x, obs = "rating", rating_range = c(1, 5), direction = "low", hidden = c(32, 32), latent_dim = 4,
                iterations = 1500, stop_early = FALSE, seed = 1, threads = 1, progress = FALSE)
  imp <- as.matrix(suppressWarnings(impute(fit, L = 200, seed = 1, threads = 1, progress = FALSE)))
  expect_lt(abs(mean(imp[missing]) - mean(truth[missing])), 0.5)
  expect_lt(mean((imp[missing] - truth[missing])^2), 1.6)
})

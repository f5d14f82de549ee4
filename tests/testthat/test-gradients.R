# The backward pass of the bound against central finite differences, with the
# noise held fixed by the seed, for every missing model, observation model and
# decoder.

grid <- expand.grid(missing_model = c("none", "selfmask", "selfmask_known", "linear", "nonlinear", "mcar", "mar",
                                      "selfmask_quadratic", "selfmask_mar"),
                    obs = c("gaussian", "t"), decoder = c("mlp", "linear"), stringsAsFactors = FALSE)

for (i in seq_len(nrow(grid))) {
  g <- grid[i, ]
  test_that(sprintf("gradient matches finite differences: %s, %s, %s decoder", g$missing_model, g$obs, g$decoder), {
    x <- tiny_mnar_data()
    set.seed(i)
    expect_lt(gradient_error(tiny_spec(ncol(x), g$missing_model, g$obs, g$decoder), x), 1e-6)
  })
}

point_grid <- expand.grid(missing_model = c("none", "selfmask", "linear", "mar", "selfmask_quadratic", "selfmask_mar"), obs = c("gaussian", "t"),
                          decoder = c("mlp", "linear"), stringsAsFactors = FALSE)
for (i in seq_len(nrow(point_grid))) {
  g <- point_grid[i, ]
  test_that(sprintf("gradient with point masses matches finite differences: %s, %s, %s decoder", g$missing_model,
                    g$obs, g$decoder), {
    x <- tiny_point_mass_data()
    # the relaxed draws of missing cells at a mass carry gradient into its logit
    spec <- tiny_spec(ncol(x), g$missing_model, g$obs, g$decoder, point_mass = c(-0.5, NA, 0.25),
                      sigma_floor = c(1e-3, 0.2, 0.05))
    set.seed(100 + i)
    expect_lt(gradient_error(spec, x), 1e-6)
  })
}

test_that("gradient with a binary column (and point masses) matches finite differences", {
  x <- tiny_binary_data()
  for (g in list(c("selfmask", "gaussian", "mlp"), c("linear", "t", "mlp"), c("none", "gaussian", "linear"))) {
    spec <- tiny_spec(ncol(x), g[1], g[2], g[3], point_mass = c(-0.5, 0.8, 0.25), binary_other = c(NA, -1.2, NA))
    set.seed(31)
    expect_lt(gradient_error(spec, x), 1e-6)
  }
  for (model in c("gnr", "not2miwae")) {
    spec <- tiny_spec(ncol(x), "none", model = model, point_mass = c(NA, 0.8, NA), binary_other = c(NA, -1.2, NA),
                      K2 = 2L)
    set.seed(32)
    expect_lt(gradient_error(spec, x), 1e-6)
  }
})

test_that("gradient with point masses matches finite differences in GNR and not-2-MIWAE", {
  x <- tiny_point_mass_data()
  for (model in c("gnr", "not2miwae")) {
    spec <- tiny_spec(ncol(x), "none", model = model, point_mass = c(-0.5, NA, 0.25), K2 = 2L)
    set.seed(9)
    expect_lt(gradient_error(spec, x), 1e-6)
  }
})

test_that("a point mass adds one decoder output per column that has one", {
  x <- tiny_point_mass_data()
  for (decoder in c("mlp", "linear")) {
    plain <- tiny_spec(ncol(x), decoder = decoder)
    spiked <- tiny_spec(ncol(x), decoder = decoder, point_mass = c(-0.5, NA, 0.25))
    last_width <- if (decoder == "mlp") plain$hidden[length(plain$hidden)] else plain$latent_dim
    expect_identical(deepmnar:::cpp_n_params(spiked) - deepmnar:::cpp_n_params(plain), 2 * (last_width + 1))
  }
})

test_that("gradient matches finite differences when the encoder reads the mask", {
  x <- tiny_mnar_data()
  for (model in c("notmiwae", "gnr", "not2miwae")) {
    spec <- tiny_spec(ncol(x), if (model == "notmiwae") "selfmask" else "none", model = model)
    spec$encoder_mask <- 1L
    plain <- spec
    plain$encoder_mask <- 0L
    # the mask adds p inputs to the encoder's first layer
    expect_identical(deepmnar:::cpp_n_params(spec) - deepmnar:::cpp_n_params(plain), ncol(x) * spec$hidden[1] * 1)
    set.seed(7)
    expect_lt(gradient_error(spec, x), 1e-6)
  }
})

test_that("the gradient is the same from one thread or two", {
  x <- tiny_mnar_data(n = 40)
  ev <- engine_view(x)
  spec <- tiny_spec(ncol(x), "nonlinear", "t")
  theta <- deepmnar:::cpp_init_params(spec, 5)
  one <- bound_at(spec, ev, theta, 5, 3, TRUE, threads = 1)
  two <- bound_at(spec, ev, theta, 5, 3, TRUE, threads = 2)
  expect_identical(one$bound, two$bound)
  expect_identical(one$gradient, two$gradient)
})

test_that("the baseline and AVX2 builds of the engine agree", {
  x <- tiny_mnar_data(n = 30)
  ev <- engine_view(x)
  spec <- tiny_spec(ncol(x), "selfmask_known")
  theta <- deepmnar:::cpp_init_params(spec, 5)
  best <- bound_at(spec, ev, theta, 5, 3, TRUE)
  deepmnar:::cpp_force_baseline(TRUE)
  on.exit(deepmnar:::cpp_force_baseline(FALSE))
  baseline <- bound_at(spec, ev, theta, 5, 3, TRUE)
  expect_equal(best$bound, baseline$bound, tolerance = 1e-10)
  expect_equal(best$gradient, baseline$gradient, tolerance = 1e-8)
})

test_that("gradient with a categorical variable matches finite differences", {
  # the relaxed (Gumbel-softmax) draws of missing levels carry gradient into
  # the logits, through every mask model
  x <- tiny_categorical_data()
  groups <- c(0L, 0L, 0L, 1L, 1L, 1L)
  grid <- list(c("selfmask_known", "gaussian", "mlp"), c("selfmask", "t", "mlp"), c("linear", "gaussian", "linear"),
               c("nonlinear", "t", "linear"), c("none", "gaussian", "mlp"), c("mar", "gaussian", "mlp"),
               c("selfmask_quadratic", "t", "mlp"), c("mcar", "gaussian", "linear"), c("selfmask_mar", "gaussian", "mlp"))
  for (i in seq_along(grid)) {
    g <- grid[[i]]
    spec <- tiny_spec(ncol(x), g[1], g[2], g[3], category_group = groups, temperature = 0.7)
    set.seed(40 + i)
    expect_lt(gradient_error(spec, x), 1e-6)
  }
  for (model in c("gnr", "not2miwae")) {
    spec <- tiny_spec(ncol(x), "none", model = model, category_group = groups, K2 = 2L)
    set.seed(48)
    expect_lt(gradient_error(spec, x), 1e-6)
  }
})

test_that("gradient with rating levels (a valued categorical variable) matches finite differences", {
  # the mask models read the level's value sum_u value_u y_u, relaxed draws
  # included
  x <- tiny_categorical_data()
  groups <- c(0L, 0L, 0L, 1L, 1L, 1L)
  values <- c(NA, NA, NA, -1.2, 0.1, 1.3)
  for (g in list(c("selfmask_shared", 0), c("selfmask_known", 1), c("nonlinear", 1), c("mar", 1),
                 c("selfmask_quadratic", 1), c("selfmask_mar", 1))) {
    spec <- tiny_spec(ncol(x), g[1], category_group = groups, category_value = values, temperature = 0.7,
                      direction = rep(as.numeric(g[2]), 6))
    set.seed(71)
    expect_lt(gradient_error(spec, x), 1e-6)
  }
  spec <- psmvae_tiny_spec(6, 2, "a", 0.3)
  spec$category_group <- groups
  spec$category_value <- values
  spec$direction <- rep(1, 6)
  set.seed(72)
  expect_lt(gradient_error(spec, x, K = 2), 1e-6)
  # a shared slope on the one-hot levels cannot tell the levels apart; on the
  # values it can: the bound depends on which level a missing row draws
  ev <- engine_view(x)
  shared <- tiny_spec(ncol(x), "selfmask_shared", category_group = groups, category_value = values,
                      direction = rep(0, 6))
  theta <- deepmnar:::cpp_init_params(shared, 3)
  one_hot <- shared
  one_hot$category_value <- rep(NA_real_, 6)
  expect_false(isTRUE(all.equal(bound_at(shared, ev, theta, 4, 1)$bound, bound_at(one_hot, ev, theta, 4, 1)$bound)))
})

# The expected gradient of the bound with exact categorical draws, per
# coordinate, by central differences of the exact-draw bound (temperature
# 1e-8) over `seeds` with common random numbers: a draw that flips level
# between theta - h and theta + h contributes its jump / 2h, so the mean is
# the derivative of the expected bound (up to O(h^2)) whatever the draws'
# discreteness; h -> 0 instead freezes the draws (no flip) and drops their
# path. Returns the seeds x coordinates matrix of per-seed estimates.
exact_category_gradient <- function(spec, ev, theta, coords, K, seeds, h) {
  spec$temperature <- 1e-8
  vapply(coords, function(k) {
    step <- replace(numeric(length(theta)), k, h)
    vapply(seeds, function(s) {
      (bound_at(spec, ev, theta + step, K, s)$bound - bound_at(spec, ev, theta - step, K, s)$bound) / (2 * h)
    }, numeric(1))
  }, numeric(length(seeds)))
}

test_that("the relaxed (Gumbel-softmax) gradient matches a large-sample estimate of the exact-categorical gradient", {
  x <- tiny_categorical_data()
  ev <- engine_view(x)
  groups <- c(0L, 0L, 0L, 1L, 1L, 1L)
  seeds <- 1:4000
  for (model in c("notmiwae", "not2miwae")) {
    spec <- tiny_spec(ncol(x), if (model == "notmiwae") "selfmask_known" else "none", model = model,
                      category_group = groups, temperature = 0.5, K2 = 2L)
    set.seed(2)
    theta <- deepmnar:::cpp_init_params(spec, 3) + stats::rnorm(deepmnar:::cpp_n_params(spec), sd = 0.5)
    # the decoder's biases of the three levels' logits: the draws of missing
    # levels depend on them, and the mask model reads the draws
    blocks <- deepmnar:::cpp_param_blocks(spec)
    decoder_end <- with(blocks[blocks$name == "decoder", ], start + size - 1)
    coords <- decoder_end - 2 * ncol(x) + 4:6
    relaxed <- t(vapply(seeds, function(s) bound_at(spec, ev, theta, 2L, s, gradient = TRUE)$gradient[coords],
                        numeric(3)))
    exact <- exact_category_gradient(spec, ev, theta, coords, 2L, seeds, h = 0.05)
    frozen <- exact_category_gradient(spec, ev, theta, coords, 2L, seeds, h = 1e-6)
    paired_se <- function(d) apply(d, 2, stats::sd) / sqrt(length(seeds))
    # the draws' path matters here: freezing them misses the exact gradient
    # by many standard errors
    expect_gt(max(abs(colMeans(frozen - exact)) / paired_se(frozen - exact)), 8)
    # the relaxed estimator recovers it, up to Monte Carlo error and the
    # relaxation's small bias at temperature 0.5 (0.002; at temperature 1 it
    # reaches 0.005 on notmiwae's second level)
    expect_true(all(abs(colMeans(relaxed - exact)) < 4 * paired_se(relaxed - exact) + 0.002))
  }
})

test_that("gradient with an ordinal (cumulative logit) variable matches finite differences", {
  x <- tiny_categorical_data()
  groups <- c(0L, 0L, 0L, 1L, 1L, 1L)
  ordinal <- c(0L, 0L, 0L, 1L, 1L, 1L)
  for (g in list(c("selfmask_known", "gaussian", "mlp"), c("linear", "t", "linear"), c("none", "gaussian", "mlp"))) {
    spec <- tiny_spec(ncol(x), g[1], g[2], g[3], category_group = groups, category_ordinal = ordinal, temperature = 0.7)
    # the K - 1 cutpoints are parameters of their own
    expect_identical(deepmnar:::cpp_n_params(spec),
                     deepmnar:::cpp_n_params(tiny_spec(ncol(x), g[1], g[2], g[3], category_group = groups)) + 2)
    set.seed(61)
    expect_lt(gradient_error(spec, x), 1e-6)
  }
  spec <- tiny_spec(ncol(x), "none", model = "gnr", category_group = groups, category_ordinal = ordinal)
  set.seed(62)
  expect_lt(gradient_error(spec, x), 1e-6)
})

test_that("gradient with the shared self-masking slope matches finite differences", {
  x <- tiny_mnar_data()
  p <- ncol(x)
  # direction 0: the slope's sign is learned; +1 / -1: softplus with that sign
  grid <- expand.grid(direction = c(0, 1, -1), obs = c("gaussian", "t"), decoder = c("mlp", "linear"),
                      stringsAsFactors = FALSE)
  for (i in seq_len(nrow(grid))) {
    g <- grid[i, ]
    spec <- tiny_spec(p, "selfmask_shared", g$obs, g$decoder, direction = g$direction)
    set.seed(200 + i)
    expect_lt(gradient_error(spec, x), 1e-6)
  }
  # one slope for all columns instead of one per column
  expect_identical(deepmnar:::cpp_n_params(tiny_spec(p, "selfmask")) -
                     deepmnar:::cpp_n_params(tiny_spec(p, "selfmask_shared", direction = 0)), p - 1)
})

test_that("gradient with the shared slope and a categorical variable matches finite differences", {
  # the levels' mask logits are pooled into one per variable
  x <- tiny_categorical_data()
  groups <- c(0L, 0L, 0L, 1L, 1L, 1L)
  for (d in c(0, -1)) {
    spec <- tiny_spec(ncol(x), "selfmask_shared", category_group = groups, temperature = 0.7, direction = d)
    set.seed(220 + d)
    expect_lt(gradient_error(spec, x), 1e-6)
  }
})

test_that("gradient with rating observations matches finite differences", {
  x <- tiny_rating_data()
  p <- ncol(x)
  lower <- c(-2, -2.5, -2)
  upper <- c(2, 2.5, 3)
  rating <- function(missing_model, ...) {
    tiny_spec(p, missing_model, ..., obs = "rating", rating_lower = lower, rating_upper = upper,
              direction = if (missing_model == "selfmask_shared") 0 else 1)
  }
  specs <- list(rating("selfmask_shared"), rating("selfmask_shared", decoder = "linear"), rating("none"),
                rating("linear"), rating("none", model = "gnr"), rating("none", model = "gnr", decoder = "linear"),
                rating("none", model = "not2miwae", K2 = 2L))
  for (i in seq_along(specs)) {
    set.seed(230 + i)
    expect_lt(gradient_error(specs[[i]], x), 1e-6)
  }
  # a rating column beside a Gaussian one (its mean unbounded, its scale shared too)
  mixed <- tiny_spec(p, "selfmask_shared", obs = "rating", rating_lower = c(-2, NA, -2), rating_upper = c(2, NA, 2),
                     direction = 1)
  set.seed(240)
  expect_lt(gradient_error(mixed, x), 1e-6)
  # no scale head: one scale parameter per column instead
  last <- 4L
  expect_equal(deepmnar:::cpp_n_params(tiny_spec(p, "none")) - deepmnar:::cpp_n_params(rating("none")),
                   p * (last + 1L) - p)
})

test_that("the engine refuses rating ranges and shared directions that do not fit", {
  x <- tiny_rating_data()
  p <- ncol(x)
  refused <- function(spec, field) {
    expect_error(deepmnar:::cpp_n_params(spec), paste0("deepmnar boundary: spec\\$", field))
  }
  refused(tiny_spec(p, "selfmask_shared", direction = c(1, -1, 1)), "direction")
  refused(tiny_spec(p, "selfmask", direction = 0), "direction")
  refused(tiny_spec(p, "none", obs = "rating", rating_lower = c(1, NA, NA), rating_upper = c(1, NA, NA)), "rating_lower")
  refused(tiny_spec(p, "none", obs = "gaussian", rating_lower = c(0, NA, NA), rating_upper = c(1, NA, NA)),
          "rating_lower")
  refused(tiny_spec(p, "none", obs = "rating", rating_lower = c(0, NA, NA), rating_upper = c(1, NA, NA),
                    point_mass = c(0, NA, NA)), "rating_lower")
})

test_that("the MAR mask model never reads a column's own variable, and MCAR reads no value", {
  x <- tiny_categorical_data()
  groups <- c(0L, 0L, 0L, 1L, 1L, 1L)
  ev <- engine_view(x)
  spec <- tiny_spec(ncol(x), "mar", category_group = groups)
  blocks <- deepmnar:::cpp_param_blocks(spec)
  others <- blocks$start[blocks$name == "mask_others"] - 1 + seq_len(blocks$size[blocks$name == "mask_others"])
  expect_length(others, ncol(x)^2)
  theta <- deepmnar:::cpp_init_params(spec, 3)
  set.seed(5)
  theta[others] <- stats::rnorm(length(others))
  grad <- matrix(bound_at(spec, ev, theta, 4, 1, gradient = TRUE)$gradient[others], ncol(x), byrow = TRUE)
  # row j holds the effects on column j's logit: its own variable's are inert
  own <- outer(seq_len(6), seq_len(6), function(j, k) j == k | (groups[j] > 0 & groups[j] == groups[k]))
  expect_true(all(grad[own] == 0))
  expect_true(all(grad[!own] != 0))
  moved <- theta
  moved[others[own]] <- moved[others[own]] + 3
  expect_identical(bound_at(spec, ev, moved, 4, 1)$bound, bound_at(spec, ev, theta, 4, 1)$bound)
  # under MCAR the bound is MIWAE's plus the mask's Bernoulli terms, whatever the draws
  mcar <- tiny_spec(ncol(x), "mcar", category_group = groups)
  miwae <- tiny_spec(ncol(x), "none", category_group = groups)
  th_mcar <- deepmnar:::cpp_init_params(mcar, 3)
  rate <- seq(-1, 1, length.out = 6)
  th_mcar[length(th_mcar) - 5:0] <- rate
  th_none <- th_mcar[seq_len(deepmnar:::cpp_n_params(miwae))]
  obs <- ev$observed[, c(1, 2, 3, 4)]
  logp <- function(o, r) o * stats::plogis(r, log.p = TRUE) + (1 - o) * stats::plogis(-r, log.p = TRUE)
  # a categorical variable's mask logit sums its levels'
  mask_term <- mean(rowSums(logp(obs, matrix(c(rate[1:3], sum(rate[4:6])), nrow(obs), 4, byrow = TRUE))))
  expect_equal(bound_at(mcar, ev, th_mcar, 4, 1)$bound, bound_at(miwae, ev, th_none, 4, 1)$bound + mask_term,
               tolerance = 1e-10)
})

test_that("gradient matches finite differences with relu and identity hidden activations", {
  x <- tiny_mnar_data()
  for (activation in c("relu", "identity")) {
    for (missing_model in c("selfmask", "mar", "none")) {
      spec <- tiny_spec(ncol(x), missing_model)
      spec$activation <- activation
      spec$activation_code <- deepmnar:::codes_of("activation")[[activation]]
      set.seed(90)
      expect_lt(gradient_error(spec, x), 1e-6)
    }
  }
})

test_that("gradient matches finite differences when the MAR part reads the always-observed columns only", {
  # column 3 is the one complete column of tiny_mnar_data(): the others'
  # logits may read it, and no logit reads columns 1 and 2
  x <- tiny_mnar_data()
  for (model in c("mar", "selfmask_mar")) {
    spec <- tiny_spec(ncol(x), model)
    spec$mask_reads <- as.integer(colSums(is.na(x)) == 0)
    set.seed(81)
    expect_lt(gradient_error(spec, x), 1e-6)
  }
})

test_that("gradient with the shared slope and the row's latent activity matches finite differences", {
  # the activity a'z reaches the encoder through z's reparameterised draws
  x <- tiny_mnar_data()
  p <- ncol(x)
  grid <- expand.grid(direction = c(0, 1), obs = c("gaussian", "t"), decoder = c("mlp", "linear"),
                      stringsAsFactors = FALSE)
  for (i in seq_len(nrow(grid))) {
    g <- grid[i, ]
    set.seed(260 + i)
    expect_lt(gradient_error(tiny_spec(p, "selfmask_activity", g$obs, g$decoder, direction = g$direction), x), 1e-6)
  }
  # a factor's level columns share one activity term, as they share one mask logit
  xc <- tiny_categorical_data()
  set.seed(270)
  expect_lt(gradient_error(tiny_spec(ncol(xc), "selfmask_activity", category_group = c(0L, 0L, 0L, 1L, 1L, 1L),
                                     temperature = 0.7, direction = 0), xc), 1e-6)
  xr <- tiny_rating_data()
  set.seed(271)
  expect_lt(gradient_error(tiny_spec(ncol(xr), "selfmask_activity", obs = "rating", rating_lower = c(-2, -2.5, -2),
                                     rating_upper = c(2, 2.5, 3), direction = 0), xr), 1e-6)
})

test_that("the latent activity nests the shared self-mask: one weight per latent dimension, 0 is selfmask_shared", {
  x <- tiny_mnar_data()
  p <- ncol(x)
  shared <- tiny_spec(p, "selfmask_shared", direction = 0, latent = 3L)
  activity <- tiny_spec(p, "selfmask_activity", direction = 0, latent = 3L)
  expect_identical(deepmnar:::cpp_n_params(activity) - deepmnar:::cpp_n_params(shared), 3)
  blocks <- deepmnar:::cpp_param_blocks(activity)
  expect_identical(tail(blocks$name, 1), "mask_activity")
  theta <- deepmnar:::cpp_init_params(shared, 5) + stats::rnorm(deepmnar:::cpp_n_params(shared), sd = 0.1)
  ev <- engine_view(x)
  expect_equal(bound_at(activity, ev, c(theta, 0, 0, 0), 4, 2)$bound, bound_at(shared, ev, theta, 4, 2)$bound,
               tolerance = 1e-12)
  # and the activity changes the bound once it is not 0
  expect_false(isTRUE(all.equal(bound_at(activity, ev, c(theta, 0.5, -0.3, 0.2), 4, 2)$bound,
                                bound_at(shared, ev, theta, 4, 2)$bound)))
})

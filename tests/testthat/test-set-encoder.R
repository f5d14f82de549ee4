# The permutation-invariant set encoder (encoder = "set"): its backward pass
# against finite differences, its invariance to the order of the columns,
# that missing cells contribute nothing, and its API.

set_spec <- function(p, ...) tiny_spec(p, ..., encoder = "set")

# Parameter indices of the named block.
block_indices <- function(spec, name) {
  b <- deepmnar:::cpp_param_blocks(spec)
  b <- b[b$name == name, ]
  stopifnot(nrow(b) == 1)
  seq(b$start, length.out = b$size)
}

latent_means <- function(spec, x, theta) {
  ev <- engine_view(x)
  deepmnar:::cpp_row_summaries(spec, ev, theta, 0L, spec$latent_dim)
}

test_that("gradient with the set encoder matches finite differences", {
  x <- tiny_mnar_data()
  # a row with no observed cell: the zero code
  x <- rbind(x, NA)
  p <- ncol(x)
  specs <- list(set_spec(p, "selfmask_known"), set_spec(p, "selfmask_shared", direction = 0), set_spec(p, "none"),
                set_spec(p, "nonlinear", obs = "t", decoder = "linear"), set_spec(p, "none", model = "gnr"),
                set_spec(p, "none", model = "not2miwae", K2 = 2L))
  for (i in seq_along(specs)) {
    set.seed(300 + i)
    expect_lt(gradient_error(specs[[i]], x), 1e-6)
  }
})

test_that("gradient with the set encoder, a categorical variable and ratings matches finite differences", {
  # every observed level column is a pair (value 1 or 0)
  x <- tiny_categorical_data()
  groups <- c(0L, 0L, 0L, 1L, 1L, 1L)
  for (missing_model in c("selfmask", "selfmask_shared")) {
    spec <- set_spec(ncol(x), missing_model, category_group = groups, temperature = 0.7,
                     direction = if (missing_model == "selfmask_shared") 0 else 1)
    set.seed(310)
    expect_lt(gradient_error(spec, x), 1e-6)
  }
  # rating levels (obs = "categorical"): the levels' values reach the mask model
  spec <- set_spec(ncol(x), "selfmask_shared", category_group = groups, category_value = c(NA, NA, NA, -1.2, 0.1, 1.3),
                   temperature = 0.7, direction = 0)
  set.seed(312)
  expect_lt(gradient_error(spec, x), 1e-6)
  r <- tiny_rating_data()
  spec <- set_spec(ncol(r), "selfmask_shared", obs = "rating", direction = 0, rating_lower = c(-2, -2.5, -2),
                   rating_upper = c(2, 2.5, 3))
  set.seed(311)
  expect_lt(gradient_error(spec, r), 1e-6)
})

test_that("the set encoder's parameters are an embedding per column, the pair code and the head", {
  p <- 3
  m <- 3L
  code <- 4L
  mlp <- tiny_spec(p, "none")
  set <- set_spec(p, "none", set_embedding = m, set_code = code)
  blocks <- deepmnar:::cpp_param_blocks(set)
  expect_identical(blocks$name[1:4], c("item_embedding", "pair_code", "encoder", "decoder"))
  expect_identical(blocks$size[1:2], c(p * m, (2 * m + 1) * code))
  # the head reads the code instead of the p columns
  first <- mlp$hidden[1]
  expect_identical(deepmnar:::cpp_n_params(set) - deepmnar:::cpp_n_params(mlp),
                   p * m + (2 * m + 1) * code + (code - p) * first)
})

test_that("the set encoder does not depend on the order of the columns", {
  x <- tiny_mnar_data(n = 20, p = 4)
  x[3, 3] <- NA
  perm <- c(3L, 1L, 4L, 2L)
  p <- ncol(x)
  # no mask model: the missing cells are not drawn, whose noise follows the column order
  spec <- set_spec(p, "none", set_embedding = 3L, set_code = 5L)
  moved <- set_spec(p, "none", set_embedding = 3L, set_code = 5L)
  theta <- deepmnar:::cpp_init_params(spec, 7)
  permuted <- theta
  # the column embeddings (a p x m matrix, row-major) move with the columns
  at <- block_indices(spec, "item_embedding")
  embedding <- matrix(theta[at], nrow = p, byrow = TRUE)
  permuted[at] <- t(embedding[perm, ])
  # so do the decoder's last layer's outputs: p locations then p scales
  last <- spec$hidden[length(spec$hidden)]
  dec <- block_indices(spec, "decoder")
  w_at <- dec[length(dec) - (last + 1) * 2 * p + seq_len(last * 2 * p)]
  b_at <- dec[length(dec) - 2 * p + seq_len(2 * p)]
  outputs <- c(perm, p + perm)
  permuted[w_at] <- t(matrix(theta[w_at], nrow = last, byrow = TRUE)[, outputs])
  permuted[b_at] <- theta[b_at][outputs]
  same <- latent_means(spec, x, theta)
  expect_equal(latent_means(moved, x[, perm], permuted), same, tolerance = 1e-12)
  ev <- engine_view(x)
  bound <- bound_at(spec, ev, theta, 5, 3)$bound
  expect_equal(bound_at(moved, engine_view(x[, perm]), permuted, 5, 3)$bound, bound, tolerance = 1e-12)
  # the embeddings must move with the columns: without, the columns are other items
  unmoved <- permuted
  unmoved[at] <- theta[at]
  expect_gt(max(abs(latent_means(moved, x[, perm], unmoved) - same)), 1e-3)
})

test_that("a missing cell contributes nothing to the set encoder", {
  x <- tiny_mnar_data(n = 20)
  x[c(4, 9), 2] <- NA
  x[6, ] <- NA
  spec <- set_spec(3, "selfmask_known", set_embedding = 3L, set_code = 5L)
  theta <- deepmnar:::cpp_init_params(spec, 8) + stats::rnorm(deepmnar:::cpp_n_params(spec), sd = 0.1)
  full <- latent_means(spec, x, theta)
  # the same encoder without column 2 at all: its embedding dropped, the
  # pair code and head unchanged
  small <- set_spec(2, "selfmask_known", set_embedding = 3L, set_code = 5L)
  theta_small <- deepmnar:::cpp_init_params(small, 1)
  embedding <- matrix(theta[block_indices(spec, "item_embedding")], nrow = 3, byrow = TRUE)
  theta_small[block_indices(small, "item_embedding")] <- t(embedding[-2, ])
  for (name in c("pair_code", "encoder")) theta_small[block_indices(small, name)] <- theta[block_indices(spec, name)]
  without <- latent_means(small, x[, -2], theta_small)
  gone <- is.na(x[, 2])
  expect_equal(full[gone, ], without[gone, ], tolerance = 1e-12)
  # where column 2 is observed it counts
  expect_gt(min(rowSums(abs(full[!gone, ] - without[!gone, ]))), 1e-6)
  # whatever a missing cell holds
  ev <- engine_view(x)
  ev$x[gone, 2] <- 123
  expect_identical(deepmnar:::cpp_row_summaries(spec, ev, theta, 0L, 2L), full)
  # a row with no observed cell has the zero code, whatever the embeddings
  other <- theta
  other[block_indices(spec, "item_embedding")] <- 5
  expect_identical(latent_means(spec, x, other)[6, ], full[6, ])
})

test_that("the set encoder gives the same bound, gradient and fit on one thread or two", {
  x <- tiny_mnar_data(n = 40)
  ev <- engine_view(x)
  spec <- set_spec(ncol(x), "selfmask", obs = "t")
  theta <- deepmnar:::cpp_init_params(spec, 5)
  one <- bound_at(spec, ev, theta, 5, 3, TRUE, threads = 1)
  two <- bound_at(spec, ev, theta, 5, 3, TRUE, threads = 2)
  expect_identical(one$bound, two$bound)
  expect_identical(one$gradient, two$gradient)
  fit_on <- function(threads) {
    notmiwae(x, missing_model = "selfmask", encoder = "set", hidden = 8, iterations = 60, stop_early = FALSE,
             starts = 1, seed = 4, threads = threads, progress = FALSE)
  }
  expect_identical(fit_on(1)$theta, fit_on(2)$theta)
})

test_that("notmiwae() and gnr() fit and impute with the set encoder", {
  x <- tiny_mnar_data(n = 60, p = 4)
  fit <- notmiwae(x, missing_model = "selfmask_known", encoder = "set", set_embedding = 6, set_code = 10, hidden = 8, iterations = 100,
                  stop_early = FALSE, seed = 1, threads = 1, progress = FALSE)
  expect_identical(fit$spec$encoder, "set")
  expect_identical(c(fit$spec$set_embedding, fit$spec$set_code), c(6L, 10L))
  expect_identical(deepmnar:::cpp_param_blocks(fit$spec)$name[1], "item_embedding")
  imp <- suppressWarnings(impute(fit, L = 50, seed = 1, threads = 1, progress = FALSE))
  expect_false(anyNA(imp))
  expect_equal(imp[!is.na(x)], x[!is.na(x)])
  expect_output(print(fit), "set encoder \\(embedding 6, code 10\\)")
  expect_identical(dim(latent(fit)), c(nrow(x), 3L))
  g <- gnr(x, encoder = "set", hidden = 8, iterations = 50, stop_early = FALSE, starts = 1, seed = 1, threads = 1, progress = FALSE)
  expect_false(anyNA(suppressWarnings(impute(g, L = 50, seed = 1, threads = 1, progress = FALSE))))
  # a saved fit keeps its encoder: the engine refuses a spec that lost it
  lost <- fit
  lost$spec$encoder <- lost$spec$encoder_code <- NULL
  expect_error(impute(lost, L = 10, seed = 1, threads = 1, progress = FALSE), class = "deepmnar_error_damaged_fit")
  renamed <- fit
  renamed$spec$encoder <- "mlp"
  expect_error(impute(renamed, L = 10, seed = 1, threads = 1, progress = FALSE), class = "deepmnar_error_damaged_fit")
  sized <- fit
  sized$spec$set_code <- 0L
  expect_error(impute(sized, L = 10, seed = 1, threads = 1, progress = FALSE), class = "deepmnar_error_damaged_fit")
})

test_that("the set encoder reads rating levels (obs = 'categorical') as level columns", {
  set.seed(2)
  x <- matrix(as.numeric(sample(1:5, 40 * 6, replace = TRUE)), 40, 6, dimnames = list(NULL, paste0("item", 1:6)))
  x[matrix(stats::runif(length(x)) < 0.5, nrow(x))] <- NA
  x[1, ] <- NA
  fit <- notmiwae(x, obs = "categorical", missing_model = "selfmask_shared", encoder = "set", rating_range = c(1, 5),
                  hidden = 8, iterations = 60, stop_early = FALSE, starts = 1, seed = 1, threads = 1, progress = FALSE)
  # one embedding per level column
  blocks <- deepmnar:::cpp_param_blocks(fit$spec)
  expect_identical(blocks$size[blocks$name == "item_embedding"], 6 * 5 * 20)
  imp <- as.matrix(suppressWarnings(impute(fit, L = 50, seed = 1, threads = 1, progress = FALSE)))
  expect_true(all(imp >= 1 & imp <= 5))
  expect_identical(imp[!is.na(x)], x[!is.na(x)])
})

test_that("fits made before the set encoder have the MLP encoder", {
  x <- tiny_mnar_data(n = 30)
  fit <- notmiwae(x, missing_model = "selfmask_known", hidden = 4, iterations = 10, stop_early = FALSE, seed = 1, threads = 1, progress = FALSE)
  old <- fit
  old$spec$encoder <- old$spec$encoder_code <- old$spec$set_embedding <- old$spec$set_code <- NULL
  expect_equal(suppressWarnings(impute(old, L = 20, seed = 1, threads = 1, progress = FALSE)),
               suppressWarnings(impute(fit, L = 20, seed = 1, threads = 1, progress = FALSE)))
})

test_that("bad set encoder arguments are refused, naming them", {
  x <- tiny_mnar_data(n = 30)
  refused <- function(argument, ..., model = notmiwae) {
    err <- expect_error(model(x, hidden = 4, iterations = 5, seed = 1, threads = 1, progress = FALSE, ...),
                        class = "deepmnar_error_input")
    expect_identical(err$argument, argument)
  }
  refused("encoder", encoder = "sets")
  refused("encoder", encoder = c("set", "mlp", "set"))
  refused("encoder", encoder = "set ", model = gnr)
  refused("set_embedding", encoder = "set", set_embedding = 0)
  refused("set_embedding", encoder = "set", set_embedding = 2.5)
  refused("set_code", encoder = "set", set_code = NA)
  refused("set_code", encoder = "set", set_code = 5000, model = gnr)
  # the set encoder knows which cells are observed
  refused("encoder_mask", encoder = "set", encoder_mask = TRUE)
  refused("encoder_mask", encoder = "set", encoder_mask = TRUE, model = gnr)
  refused("encoder", encoder = "sets", model = psmvae)
  refused("set_code", encoder = "set", set_code = 0, model = psmvae)
  # and the engine refuses what R would not build
  boundary <- function(spec, field) {
    expect_error(deepmnar:::cpp_n_params(spec), paste0("deepmnar boundary: spec\\$", field))
  }
  masked <- set_spec(3, "none")
  masked$encoder_mask <- 1L
  boundary(masked, "encoder_mask")
  empty <- set_spec(3, "none", set_code = 0L)
  boundary(empty, "set_code")
  unknown <- set_spec(3, "none")
  unknown$encoder_code <- 7L
  boundary(unknown, "encoder_code")
})

# PSMVAE with the set encoder: one summed code read by q(r), q(z | r) and
# q(x_mis | z, r).
psmvae_set_spec <- function(p, variant, ...) {
  psmvae_spec(p, variant, encoder = "set", set_embedding = 3L, set_code = 4L, ...)
}

test_that("PSMVAE's gradient with the set encoder matches finite differences", {
  x <- rbind(tiny_mnar_data(), NA)
  for (variant in c("a", "b")) {
    set.seed(320)
    expect_lt(gradient_error(psmvae_set_spec(ncol(x), variant), x, K = 2), 1e-6)
  }
  # with ratings and a categorical variable beside them
  x <- tiny_categorical_data()
  x[, 1:3] <- pmin(pmax(round(1.5 * x[, 1:3]), -2), 2)
  spec <- psmvae_set_spec(ncol(x), "a", obs = "rating", category_group = c(0L, 0L, 0L, 1L, 1L, 1L),
                          rating_lower = c(-2, -2.5, -2, NA, NA, NA), rating_upper = c(2, 2.5, 3, NA, NA, NA),
                          temperature = 0.7)
  set.seed(321)
  expect_lt(gradient_error(spec, x, K = 2), 1e-6)
})

test_that("PSMVAE's encoders read the set code: its blocks, column order and missing cells", {
  x <- tiny_mnar_data(n = 20, p = 4)
  x[3, 3] <- NA
  p <- ncol(x)
  spec <- psmvae_set_spec(p, "a")
  blocks <- deepmnar:::cpp_param_blocks(spec)
  expect_identical(blocks$name[1:3], c("item_embedding", "pair_code", "set_encoder"))
  # q(r)'s first layer reads the code (4) instead of [row, mask] (2p)
  expect_equal(deepmnar:::cpp_n_params(spec) - deepmnar:::cpp_n_params(psmvae_spec(p, "a")),
                   p * 3L + 7L * 4L + 3L * (4L - 2L * p) * spec$hidden[1])
  theta <- deepmnar:::cpp_init_params(spec, 7) + stats::rnorm(deepmnar:::cpp_n_params(spec), sd = 0.1)
  same <- latent_means(spec, x, theta)
  perm <- c(3L, 1L, 4L, 2L)
  at <- block_indices(spec, "item_embedding")
  permuted <- theta
  permuted[at] <- t(matrix(theta[at], nrow = p, byrow = TRUE)[perm, ])
  expect_equal(latent_means(spec, x[, perm], permuted), same, tolerance = 1e-12)
  expect_gt(max(abs(latent_means(spec, x[, perm], theta) - same)), 1e-3)
  # a missing cell's content is never read
  ev <- engine_view(x)
  ev$x[is.na(x)] <- 77
  expect_identical(deepmnar:::cpp_row_summaries(spec, ev, theta, 0L, spec$latent_dim), same)
  # one thread or two: the same bound and gradient
  one <- bound_at(spec, engine_view(x), theta, 3, 2, TRUE, threads = 1)
  two <- bound_at(spec, engine_view(x), theta, 3, 2, TRUE, threads = 2)
  expect_identical(one, two)
})

# A damaged fit (edited by hand, truncated on disk, from another version) is
# refused with a classed error before the engine touches it.

db <- tiny_mnar_data(n = 40, p = 3)
fb <- notmiwae(db, missing_model = "selfmask_known", hidden = c(4, 4), K = 2, iterations = 20, stop_early = FALSE, seed = 1, threads = 1, progress = FALSE)

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
  relabelled <- fb
  relabelled$model <- "gnr"
  expect_damaged(relabelled, "`model` does not name the spec's model")
  expect_damaged(tamper("p", 4L), "`spec\\$direction`|`columns`|`data`")
  expect_damaged(tamper("hidden", c(4L, -1L)), "`spec\\$hidden`")
  expect_damaged(tamper("hidden", c(5L, 4L)), "`theta` has")
  expect_damaged(tamper("latent_dim", 0L), "`spec\\$latent_dim`")
  expect_damaged(tamper("missing_code", 7L), "`spec\\$missing_code`")
  expect_damaged(tamper("sigma_floor", -1), "`spec\\$sigma_floor`")
  # a name that disagrees with the code the engine reads (print() shows the name)
  expect_damaged(tamper("activation", "relu"), "`spec\\$activation` does not match `spec\\$activation_code`")
  expect_damaged(tamper("missing_model", "linear"), "`spec\\$missing_model` does not match")
  expect_damaged(tamper("precision", "float"), "`spec\\$precision` does not match")
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
  expect_error(impute(fb, NULL, 5, "mean", 1, 1, FALSE, 0.02, FALSE, "extra"), class = "deepmnar_error_input",
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

test_that("R's model and option names are the engine's registry", {
  reg <- deepmnar:::cpp_registry()
  expect_true(is.numeric(reg$version) && reg$version >= 2)
  choices <- function(f, arg) eval(formals(f)[[arg]])
  # "auto" never reaches the engine: R chooses among the candidates
  expect_setequal(names(reg$options$missing_model), setdiff(choices(notmiwae, "missing_model"), "auto"))
  # "categorical" never reaches the engine: R turns the columns into rating levels
  expect_setequal(names(reg$options$obs), setdiff(choices(notmiwae, "obs"), "categorical"))
  expect_setequal(names(reg$options$decoder), choices(notmiwae, "decoder"))
  expect_setequal(names(reg$options$encoder), choices(notmiwae, "encoder"))
  expect_identical(choices(gnr, "encoder"), choices(notmiwae, "encoder"))
  expect_setequal(names(reg$options$variant), choices(psmvae, "variant"))
  expect_true(all(choices(notmiwae, "activation") %in% names(reg$options$activation)))
  expect_setequal(names(reg$options$model), c("notmiwae", "gnr", "not2miwae", "psmvae"))
  # every code R writes into a spec is the registry's
  spec <- tiny_spec(3, "linear", "t", "linear")
  for (option in names(reg$code_fields)) {
    expect_true(spec[[reg$code_fields[[option]]]] %in% reg$options[[option]])
  }
  expect_identical(spec$missing_code, reg$options$missing_model[["linear"]])
  expect_identical(spec$registry_version, reg$version)
})

test_that("the engine names its parameter blocks, and the self-masking ones are where R reads them", {
  for (decoder in c("mlp", "linear")) for (mass in list(rep(NA_real_, 3), c(0, NA, NA))) {
    spec <- tiny_spec(3, "selfmask", decoder = decoder, point_mass = mass)
    blocks <- deepmnar:::cpp_param_blocks(spec)
    expect_identical(blocks$name, c("encoder", "decoder", "mask_slope", "mask_location"))
    expect_equal(sum(blocks$size), deepmnar:::cpp_n_params(spec))
    expect_equal(blocks$start, cumsum(c(1, utils::head(blocks$size, -1))))
    at <- deepmnar:::selfmask_indices(spec)
    expect_equal(lengths(at), c(slope = 3, location = 3))
  }
  # the slopes R reads are the ones the engine uses: the fitted P(observed) of a
  # complete row follows them
  x <- tiny_mnar_data(n = 30)
  fit <- notmiwae(x, missing_model = "selfmask", hidden = 4, iterations = 5, stop_early = FALSE, starts = 1,
                  seed = 1, threads = 1, progress = FALSE)
  at <- deepmnar:::selfmask_indices(fit$spec)
  row <- matrix(c(0.5, -0.2, 1), 1)
  prob <- deepmnar:::cpp_row_summaries(fit$spec, list(x = row, observed = matrix(1L, 1, 3)), fit$theta, 2L, 3L)
  w <- fit$theta[at$slope]
  b <- fit$theta[at$location]
  expect_equal(drop(prob), stats::plogis(-w * (drop(row) - b)))
  expect_identical(names(deepmnar:::cpp_param_blocks(
    tiny_spec(3, "none", model = "not2miwae"))), c("name", "start", "size"))
  expect_identical(deepmnar:::cpp_param_blocks(tiny_spec(3, "none", model = "gnr"))$name,
                   c("encoder", "decoder", "mask_decoder"))
})

test_that("the engine refuses a spec, theta or data that do not fit, naming the field, whatever R checked", {
  x <- tiny_mnar_data(n = 20)
  ev <- engine_view(x)
  spec <- tiny_spec(3, "selfmask")
  theta <- deepmnar:::cpp_init_params(spec, 1)
  refused <- function(expr, field) expect_error(expr, paste0("^deepmnar boundary: ", field))
  bad <- spec; bad$model_code <- 99L
  refused(deepmnar:::cpp_n_params(bad), "spec\\$model_code")
  bad <- spec; bad$missing_code <- 99L
  refused(deepmnar:::cpp_init_params(bad, 1), "spec\\$missing_code")
  bad <- spec; bad$hidden <- integer(0)
  refused(deepmnar:::cpp_n_params(bad), "spec\\$hidden")
  bad <- spec; bad$p <- 4L
  refused(deepmnar:::cpp_n_params(bad), "spec\\$direction")
  bad <- spec; bad$sigma_floor <- c(1, 1)
  refused(deepmnar:::cpp_n_params(bad), "spec\\$sigma_floor")
  bad <- spec; bad$latent_dim <- NULL
  refused(deepmnar:::cpp_n_params(bad), "spec\\$latent_dim: missing")
  for (groups in list(c(1L, 0L, 1L), c(0L, 0L, 1L), c(1L, 1L), c(-1L, 0L, 0L))) {
    bad <- spec; bad$category_group <- groups
    refused(deepmnar:::cpp_n_params(bad), "spec\\$category_group")
  }
  bad <- spec; bad$category_group <- c(0L, 1L, 1L); bad$category_ordinal <- c(1L, 0L, 0L)
  refused(deepmnar:::cpp_n_params(bad), "spec\\$category_ordinal: a column outside")
  bad$category_ordinal <- c(0L, 1L, 0L)
  refused(deepmnar:::cpp_n_params(bad), "spec\\$category_ordinal: a variable partly ordinal")
  bad <- spec; bad$category_group <- c(0L, 1L, 1L); bad$point_mass <- c(NA, 0.5, NA)
  refused(deepmnar:::cpp_n_params(bad), "spec\\$category_group: a categorical column with a point mass")
  bad <- spec; bad$latent_dim <- 2.5
  refused(deepmnar:::cpp_n_params(bad), "spec\\$latent_dim")
  refused(deepmnar:::cpp_bound(spec, ev, theta[-1], 3L, 1, FALSE, 1L), "theta")
  refused(deepmnar:::cpp_bound(spec, ev, c(theta, 0), 3L, 1, FALSE, 1L), "theta")
  refused(deepmnar:::cpp_bound(spec, ev, replace(theta, 3, NaN), 3L, 1, FALSE, 1L), "theta")
  refused(deepmnar:::cpp_bound(spec, list(x = ev$x[, 1:2], observed = ev$observed[, 1:2]), theta, 3L, 1, FALSE, 1L), "data")
  refused(deepmnar:::cpp_bound(spec, list(x = ev$x, observed = ev$observed[-1, ]), theta, 3L, 1, FALSE, 1L), "data")
  refused(deepmnar:::cpp_impute(spec, ev, theta, c(1L, 21L), 10L, 10L, 0L, 0L, 1, 1L, FALSE), "rows")
  refused(deepmnar:::cpp_impute(spec, ev, theta, 0L, 10L, 10L, 0L, 0L, 1, 1L, FALSE), "rows")
  refused(deepmnar:::cpp_impute(spec, ev, theta, 1:3, 10L, 10L, 0L, -1L, 1, 1L, FALSE), "draws")
  refused(deepmnar:::cpp_impute(spec, ev, theta, 1:3, 0L, 10L, 0L, 0L, 1, 1L, FALSE), "L")
  # results come back; nothing is written into the arguments
  x_before <- ev$x
  out <- deepmnar:::cpp_impute(spec, ev, theta, 1:20, 10L, 10L, 0L, 2L, 1, 1L, TRUE)
  expect_identical(ev$x, x_before)
  expect_identical(dim(out$point), c(20L, 3L))
  expect_identical(dim(out$draws), c(20L, 3L, 2L))
  expect_identical(dim(out$mask), c(20L, 3L))
  expect_identical(is.na(out$point), unname(ev$observed == 1L))
  expect_false(out$interrupted)
  refused(deepmnar:::cpp_row_summaries(spec, ev, theta, 3L, 2L), "what")
  refused(deepmnar:::cpp_row_summaries(spec, ev, theta, 0L, 5L), "width")
  refused(deepmnar:::cpp_psmvae_draws(spec, ev, theta, 2L, 1), "spec\\$model_code")
  # through R, the refusal is a classed error naming the field
  err <- expect_error(deepmnar:::through_engine(deepmnar:::cpp_n_params(replace(spec, "model_code", list(99L)))),
                      class = "deepmnar_error_damaged_fit")
  expect_identical(err$field, "spec$model_code")
})

# Tests of compare_imputers(): the shape of the grid, recorded failures,
# seeding (same seed, same result; independent of the future plan) and the
# contract of methods given as functions.

small <- banknote[1:200, 1:4]

# A method that uses the global random number stream: the mean plus noise.
noisy_mean <- function(x, seed, sd = 0.1) {
  for (j in seq_along(x)) {
    miss <- is.na(x[[j]])
    x[[j]][miss] <- mean(x[[j]], na.rm = TRUE) + stats::rnorm(sum(miss), sd = sd)
  }
  x
}

test_that("the result has one row per method x seed, in a tidy data.frame", {
  res <- compare_imputers(small, methods = c("mean", "median"), seeds = c(3, 1, 2))
  expect_s3_class(res, c("deepmnar_comparison", "data.frame"), exact = TRUE)
  expect_equal(nrow(res), 6L)
  expect_named(res, c("dataset", "mechanism", "method", "seed", "rmse", "mae", "seconds", "error"))
  expect_equal(res$method, rep(c("mean", "median"), 3))
  expect_equal(res$seed, rep(c(3L, 1L, 2L), each = 2))
  expect_equal(unique(res$dataset), "small")
  expect_equal(unique(res$mechanism), "self_mask_mean")
  expect_true(all(is.na(res$error)))
  expect_true(all(res$rmse > 0 & res$mae > 0 & res$seconds >= 0))
})

test_that("rmse is the RMSE of the method on the amputed cells", {
  res <- compare_imputers(small, methods = "mean", seeds = 7, mechanism_args = list(prob = 0.5))
  a <- ampute_mnar(small, "self_mask_mean", prob = 0.5, seed = 7)
  imp <- a$data
  for (j in seq_along(imp)) imp[[j]][is.na(imp[[j]])] <- mean(imp[[j]], na.rm = TRUE)
  expect_equal(res$rmse, imputation_rmse(small, imp, a$mask))
  expect_equal(res$mae, imputation_mae(small, imp, a$mask))
})

test_that("a failing method is recorded and the others still run", {
  boom <- function(x, seed) stop("no convergence")
  wrong_shape <- function(x, seed) x[-1, ]
  res <- compare_imputers(list(bank = small, yeast = yeast[1:150, 1:8]),
                          methods = list("mean", boom = boom, bad = wrong_shape, "median"), seeds = 1:2)
  expect_equal(nrow(res), 2 * 2 * 4)
  failed <- res$method %in% c("boom", "bad")
  expect_true(all(is.na(res$rmse[failed]) & is.na(res$mae[failed])))
  expect_true(all(grepl("no convergence", res$error[res$method == "boom"])))
  expect_true(all(grepl("199 x 4", res$error[res$method == "bad" & res$dataset == "bank"])))
  expect_true(all(is.na(res$error[!failed]) & !is.na(res$rmse[!failed])))
  s <- summary(res)
  expect_equal(nrow(s), 2 * 4)
  expect_equal(s$failed, rep(c(0, 2, 2, 0), 2))
  expect_true(all(is.na(s$rmse_mean[s$failed == 2])))
})

test_that("a missing suggested package is a recorded error, not an abort", {
  # pretend missForest is not installed
  original <- deepmnar:::has_package
  utils::assignInNamespace("has_package", function(pkg) pkg != "missForest", "deepmnar")
  on.exit(utils::assignInNamespace("has_package", original, "deepmnar"), add = TRUE)
  res <- compare_imputers(small, methods = c("mean", "missforest"), seeds = 1)
  expect_match(res$error[res$method == "missforest"], "missForest package is not installed")
  expect_false(is.na(res$rmse[res$method == "mean"]))
})

test_that("the same seed gives the same result, and leaves the caller's stream alone", {
  a <- compare_imputers(small, methods = list("mean", noisy = noisy_mean), seeds = 1:2)
  set.seed(99)
  u <- runif(1)
  set.seed(99)
  b <- compare_imputers(small, methods = list(noisy = noisy_mean, "mean"), seeds = 2:1)
  expect_equal(runif(1), u)
  key <- function(r) r[order(r$method, r$seed), c("method", "seed", "rmse", "mae")]
  expect_equal(key(a), key(b), ignore_attr = TRUE)
  # different seeds amputate and draw differently
  expect_false(a$rmse[a$method == "noisy" & a$seed == 1] == a$rmse[a$method == "noisy" & a$seed == 2])
})

test_that("methods given as functions follow the documented contract", {
  seen <- new.env()
  f <- function(x, seed, shift = 0) {
    seen$class <- class(x)
    seen$names <- names(x)
    seen$seed <- seed
    seen$na <- sum(is.na(x))
    seen$draw <- stats::runif(1)   # the global stream is set.seed(seed)
    out <- as.matrix(x)
    out[is.na(out)] <- shift
    out                             # a matrix is accepted for a data.frame input
  }
  res <- compare_imputers(small, methods = list(zero = f), seeds = 5,
                          method_args = list(zero = list(shift = 1)))
  a <- ampute_mnar(small, seed = 5)
  expect_equal(seen$class, "data.frame")
  expect_equal(seen$names, names(small))
  expect_identical(seen$seed, 5L)
  expect_equal(seen$na, sum(a$mask))
  set.seed(5)
  expect_equal(seen$draw, runif(1))
  filled <- as.matrix(a$data)
  filled[a$mask] <- 1
  expect_equal(res$rmse, imputation_rmse(small, filled, a$mask))
  # custom metrics
  res <- compare_imputers(small, methods = "mean", seeds = 1,
                          metrics = list(bias = function(truth, imputed, mask) mean((imputed - truth)[mask])))
  expect_named(res, c("dataset", "mechanism", "method", "seed", "bias", "seconds", "error"))
  expect_lt(res$bias, 0)   # high values went missing: the mean imputes too low
})

test_that("bad arguments are refused before anything runs", {
  expect_error(compare_imputers(small, methods = "knn"), "Unknown method", class = "deepmnar_error_input")
  expect_error(compare_imputers(small, methods = list(function(x, seed) x)), "must be named")
  expect_error(compare_imputers(small, methods = "mean", method_args = list(notmiwae = list())), "not in `methods`")
  expect_error(compare_imputers(small, methods = "mean", method_args = list(mean = list(seed = 1))), "seed")
  expect_error(compare_imputers(small, methods = "mean", mechanism_args = list(seed = 1)), "seed")
  expect_error(compare_imputers(list(small, small), methods = "mean"), "named list")
  expect_error(compare_imputers(banknote, methods = "mean", mechanism_args = list(prob = 2)))
  expect_error(compare_imputers(small, methods = "mean", seeds = c(1, 1)), "distinct")
  small_na <- small
  small_na[1, 1] <- NA
  expect_error(compare_imputers(small_na, methods = "mean"), "complete")
})

test_that("the mice and missForest built-ins run and take their arguments", {
  skip_if_not_installed("mice")
  skip_if_not_installed("missForest")
  res <- compare_imputers(small, methods = c("mice_norm", "mice_pmm", "missforest"), seeds = 1:2,
                          method_args = list(mice_norm = list(m = 2, maxit = 2), mice_pmm = list(m = 2, maxit = 2),
                                             missforest = list(ntree = 10, maxiter = 2)))
  expect_true(all(is.na(res$error)))
  expect_true(all(is.finite(res$rmse)))
  again <- compare_imputers(small, methods = c("mice_norm", "mice_pmm", "missforest"), seeds = 2:1,
                            method_args = list(mice_norm = list(m = 2, maxit = 2), mice_pmm = list(m = 2, maxit = 2),
                                               missforest = list(ntree = 10, maxiter = 2)))
  key <- function(r) r[order(r$method, r$seed), c("method", "seed", "rmse")]
  expect_equal(key(again), key(res), ignore_attr = TRUE)
  # mice_norm is the average of the m completed datasets of method "norm"
  a <- ampute_mnar(small, seed = 1)
  names_v <- paste0("V", 1:4)
  d <- stats::setNames(as.data.frame(a$data), names_v)
  imp <- mice::mice(d, m = 2, maxit = 2, method = "norm", seed = 1, printFlag = FALSE)
  avg <- (as.matrix(mice::complete(imp, 1)) + as.matrix(mice::complete(imp, 2))) / 2
  expect_equal(res$rmse[res$method == "mice_norm" & res$seed == 1], imputation_rmse(small, avg, a$mask))
})

test_that("notmiwae runs through the grid and is reproducible with its seed", {
  args <- list(notmiwae = list(iterations = 30, hidden = c(8, 8), K = 4, L = 20, threads = 1))
  a <- compare_imputers(small, methods = "notmiwae", seeds = 1, method_args = args)
  b <- compare_imputers(small, methods = "notmiwae", seeds = 1, method_args = args)
  expect_true(is.na(a$error))
  expect_true(is.finite(a$rmse))
  expect_identical(a$rmse, b$rmse)
})

test_that("summary() and autoplot() describe the result", {
  res <- compare_imputers(small, methods = c("mean", "median"), seeds = 1:3, mechanism_args = list(prob = 0.6))
  s <- summary(res)
  expect_equal(s$method, c("mean", "median"))
  expect_equal(s$rmse_mean, as.numeric(tapply(res$rmse, res$method, mean)[c("mean", "median")]))
  expect_equal(s$rmse_sd, as.numeric(tapply(res$rmse, res$method, sd)[c("mean", "median")]))
  expect_equal(s$n, c(3L, 3L))
  skip_if_not_installed("ggplot2")
  p <- ggplot2::autoplot(res)
  expect_s3_class(p, "ggplot")
  expect_s3_class(ggplot2::autoplot(res, metric = "mae"), "ggplot")
  expect_error(ggplot2::autoplot(res, metric = "seconds"), "metric")
})

test_that("results are the same sequentially, in parallel and without future", {
  skip_if_not_installed("future.apply")
  data <- list(bank = small, yeast = yeast[1:150, 1:8])
  methods <- list("mean", "median", noisy = noisy_mean)
  run <- function() compare_imputers(data, methods = methods, seeds = 1:2, mechanism_args = list(prob = 0.8))
  old_plan <- future::plan(future::sequential)
  on.exit(future::plan(old_plan), add = TRUE)
  sequential <- run()
  future::plan(future::multisession, workers = 2)
  parallel <- run()
  future::plan(future::sequential)
  old_option <- options(deepmnar.future = FALSE)
  on.exit(options(old_option), add = TRUE)
  plain <- run()
  cols <- c("dataset", "method", "seed", "rmse", "mae", "error")
  expect_equal(parallel[cols], sequential[cols])
  expect_equal(plain[cols], sequential[cols])
})

test_that("mixed data: every method keeps factor types, and the comparison reports RMSE and PFC", {
  skip_if_not_installed("mice")
  skip_if_not_installed("missForest")
  # mice imputes a factor of three levels by polyreg, which needs nnet (under
  # R CMD check --as-cran only declared packages are visible)
  skip_if_not_installed("nnet")
  set.seed(3)
  z <- rnorm(150)
  mixed <- data.frame(g = cut(z + rnorm(150, sd = 0.5), c(-Inf, -0.4, 0.4, Inf), labels = c("l", "m", "h")),
                      x = z + rnorm(150, sd = 0.3), y = rnorm(150), smoker = z > 0.3)
  res <- compare_imputers(mixed, methods = c("mean", "mice_pmm", "missforest", "notmiwae"), seeds = 1,
                          mechanism_args = list(prob = 0.8, mcar = 0.1),
                          method_args = list(notmiwae = list(iterations = 200, hidden = c(8, 8), L = 50)))
  expect_true(all(c("rmse", "mae", "pfc") %in% names(res)))
  expect_true(all(is.na(res$error)), info = paste(res$method, res$error, collapse = "; "))
  expect_true(all(res$pfc >= 0 & res$pfc <= 1))
  expect_true(all(res$rmse > 0))
  # the mean method's PFC is that of the most frequent level, by hand
  a <- ampute_mnar(mixed, prob = 0.8, mcar = 0.1, seed = 1)
  filled <- a$data
  for (j in c("g", "smoker")) filled[[j]][is.na(filled[[j]])] <- names(which.max(table(a$data[[j]])))
  expect_equal(res$pfc[res$method == "mean"], imputation_pfc(mixed, filled, a$mask))
})

test_that("mask accuracy is scored with and without conditioning on the mask (GNR), and alike for not-MIWAE", {
  quick_args <- list(hidden = c(8, 8), K = 5, iterations = 200, stop_early = FALSE, starts = 1, L = 50, mask_L = 50)
  res <- suppressWarnings(compare_imputers(small, methods = c("gnr", "notmiwae", "mean"), seeds = 1,
                                           method_args = list(gnr = quick_args, notmiwae = c(quick_args,
                                             list(missing_model = "selfmask_known"))),
                                           metrics = list(rmse = imputation_rmse,
                                                          conditional = mask_accuracy_metric,
                                                          unconditional = mask_accuracy_unconditional_metric)))
  expect_true(all(is.na(res$error)))
  row <- function(m) res[res$method == m, ]
  expect_true(all(c(row("gnr")$conditional, row("gnr")$unconditional) > 0.5))
  # GNR's conditional prediction reads the mask itself; without it, it can
  # only be less accurate on the mask it was given
  expect_gt(row("gnr")$conditional, row("gnr")$unconditional)
  expect_identical(row("notmiwae")$conditional, row("notmiwae")$unconditional)
  expect_true(is.na(row("mean")$unconditional))
})

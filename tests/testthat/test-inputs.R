# Invalid input is refused with a classed error (deepmnar_error_input) whose
# message names the argument or the column at fault; odd but valid input
# neither crashes nor leaves NaN imputations.

make_data <- function(n = 60, seed = 1) {
  set.seed(seed)
  z <- rnorm(n)
  d <- data.frame(a = z + rnorm(n, sd = 0.3), b = 2 * z + rnorm(n, sd = 0.3), c = -z + rnorm(n, sd = 0.5))
  d$a[d$a > 0.5] <- NA
  d
}

d <- make_data()
fit_quick <- function(data, ...) {
  args <- utils::modifyList(list(missing_model = "selfmask_known", hidden = 8, iterations = 10, K = 3, batch_size = 8, seed = 1, threads = 1,
                                 stop_early = FALSE, progress = FALSE), list(...))
  do.call(notmiwae, c(list(data), args))
}
fit <- fit_quick(d)

expect_input_error <- function(expr, regexp) {
  err <- expect_error(expr, class = "deepmnar_error_input")
  expect_s3_class(err, "deepmnar_error")
  expect_match(conditionMessage(err), regexp)
  invisible(err)
}

test_that("columns deepmnar cannot model are refused by name", {
  dc <- d
  dc$label <- letters[seq_len(nrow(d))]
  err <- expect_input_error(fit_quick(dc), "`label`.*make it a factor")
  expect_identical(err$columns, "label")
  df <- d
  df$group <- factor(rep(sprintf("g%02d", 1:51), length.out = nrow(d)))
  err <- expect_input_error(fit_quick(df), "`group`.*51 levels.*at most 50")
  expect_identical(err$columns, "group")
  df$group <- factor(rep("x", nrow(d)))
  err <- expect_input_error(fit_quick(df), "`group`.*one level")
  expect_identical(err$columns, "group")
  df$group <- factor(rep(NA, nrow(d)), levels = c("x", "y", "z"))
  err <- expect_input_error(fit_quick(df), "`group`.*no observed value")
  expect_identical(err$columns, "group")
  dd <- d
  dd$when <- as.Date("2020-01-01") + seq_len(nrow(d))
  err <- expect_input_error(fit_quick(dd), "`when`.*dates or times")
  expect_identical(err$columns, "when")
  dd$when <- as.POSIXct(dd$when)
  expect_identical(expect_input_error(fit_quick(dd), "`when`.*dates or times")$columns, "when")
  # logical and two-level factor columns are binary (test-columns.R)
  dl <- d
  dl$flag <- rep(c(TRUE, FALSE), length.out = nrow(d))
  expect_identical(fit_quick(dl)$observation$family[4], "bernoulli")
  expect_input_error(fit_quick(matrix(c("1", "2", "3", NA), 2, 2)), "must be numeric.*character")
  expect_input_error(fit_quick(as.list(d)), "data.frame, tibble or numeric matrix, not list")
  expect_input_error(fit_quick(d$a), "data.frame, tibble or numeric matrix")
})

test_that("columns that cannot be learned are refused by name", {
  de <- d
  de$empty <- NA_real_
  expect_input_error(fit_quick(de), "`empty`.*no observed value")
  de$empty <- NA # logical NA column
  expect_input_error(fit_quick(de), "`empty`.*no observed value")
  dh <- d
  dh$a[2] <- 1e308
  dh$a[3] <- -1e308
  expect_input_error(fit_quick(dh), "`a`.*too large")
  dh <- d
  dh$b[1:2] <- 1e300
  expect_input_error(fit_quick(dh), "`b`.*too large")
  # values a hair apart: their sd underflows to 0, which is not a constant column
  dt <- d
  dt$c <- dt$c * 1e-300
  err <- expect_input_error(fit_quick(dt), "`c`.*too close together")
  expect_identical(err$columns, "c")
  dt$c <- d$c * 1e-100
  expect_false(anyNA(impute(fit_quick(dt), L = 5, seed = 1, progress = FALSE)))
})

test_that("a default minibatch larger than the data shrinks to the data; a given one does not", {
  few <- make_data(n = 12)
  quick <- list(hidden = 4, iterations = 5, K = 2, seed = 1, threads = 1, stop_early = FALSE, progress = FALSE)
  for (model in list(notmiwae, gnr, not2miwae)) {
    f <- do.call(model, c(list(few), quick, if (identical(model, notmiwae)) list(missing_model = "selfmask_known")))
    expect_identical(f$settings$batch_size, 12L)
    expect_false(anyNA(impute(f, L = 5, seed = 1, progress = FALSE)))
  }
  expect_identical(do.call(psmvae, c(list(d), quick))$settings$batch_size, 60L)
  expect_identical(do.call(psmvae, c(list(rbind(d, d)), quick))$settings$batch_size, 64L)
  known <- c(quick, missing_model = "selfmask_known")
  expect_identical(do.call(notmiwae, c(list(d), known))$settings$batch_size, 16L)
  expect_input_error(do.call(notmiwae, c(list(few), known, batch_size = 16)), "`batch_size`.*between 1 and 12")
})

test_that("Inf and NaN cells are refused by column", {
  di <- d
  di$b[3] <- Inf
  err <- expect_input_error(fit_quick(di), "`b`.*Inf or NaN")
  expect_identical(err$columns, "b")
  di$b[3] <- -Inf
  expect_input_error(fit_quick(di), "`b`")
  dn <- d
  dn$c[4] <- NaN
  expect_input_error(fit_quick(dn), "`c`.*Inf or NaN")
  expect_false(grepl("`a`", conditionMessage(tryCatch(fit_quick(dn), error = identity))))
  # also in newdata
  expect_input_error(impute(fit, newdata = dn, L = 5), "`c` of `newdata`")
  expect_input_error(impute(fit, newdata = as.matrix(dn), L = 5), "`c` of `newdata`")
})

test_that("too few rows, no columns, and bad column names", {
  expect_input_error(fit_quick(d[1, ]), "at least 2 rows, not 1")
  expect_input_error(fit_quick(d[0, ]), "at least 2 rows, not 0")
  expect_input_error(fit_quick(d[, 0]), "no columns")
  expect_input_error(fit_quick(matrix(numeric(0), 5, 0)), "no columns")
  dup <- cbind(d, d["b"])
  expect_input_error(fit_quick(dup), "`b` appears more than once")
  m <- as.matrix(d)
  colnames(m)[2] <- NA
  expect_input_error(fit_quick(m), "Column 2 of `data` has no name")
  colnames(m)[2] <- ""
  expect_input_error(fit_quick(m), "Column 2 of `data` has no name")
  expect_input_error(impute(fit, newdata = cbind(d, d["b"]), L = 5), "`b` appears more than once in `newdata`")
})

test_that("training settings are checked", {
  cases <- list(
    list(args = list(K = 0), re = "`K` must be a single whole number"),
    list(args = list(K = 2.5), re = "`K`.*not 2.5"),
    list(args = list(K = NA), re = "`K`"),
    list(args = list(K = c(1, 2)), re = "`K`"),
    list(args = list(batch_size = 0), re = "`batch_size`.*between 1 and 60"),
    list(args = list(batch_size = 61), re = "`batch_size`.*not 61"),
    list(args = list(iterations = 0), re = "`iterations`"),
    list(args = list(iterations = -5), re = "`iterations`"),
    list(args = list(latent_dim = 0), re = "`latent_dim`"),
    list(args = list(latent_dim = 1.5), re = "`latent_dim`"),
    list(args = list(hidden = c(0)), re = "`hidden`.*layer widths"),
    list(args = list(hidden = c(8, 0)), re = "`hidden`"),
    list(args = list(hidden = "a"), re = "`hidden`"),
    list(args = list(hidden = integer(0)), re = "`hidden`"),
    list(args = list(hidden = 3.5), re = "`hidden`"),
    list(args = list(threads = 0), re = "`threads`"),
    list(args = list(threads = "2"), re = "`threads`"),
    list(args = list(lr = 0), re = "`lr` must be a single positive number"),
    list(args = list(lr = -1), re = "`lr`.*not -1"),
    list(args = list(lr = NA), re = "`lr`.*not NA"),
    list(args = list(lr = 2), re = "`lr`.*at most 1"),
    list(args = list(lr = Inf), re = "`lr`"),
    list(args = list(sigma_floor = -1), re = "`sigma_floor`"),
    list(args = list(sigma_floor = NA), re = "`sigma_floor`"),
    list(args = list(seed = -1), re = "`seed`"),
    list(args = list(seed = 1.5), re = "`seed`"),
    list(args = list(seed = "a"), re = "`seed`"),
    list(args = list(missing_model = "foo"), re = "`missing_model` must be one of .*`selfmask_known`.*not \"foo\""),
    list(args = list(missing_model = NA), re = "`missing_model`"),
    list(args = list(missing_model = c("none", "linear")), re = "`missing_model`"),
    list(args = list(obs = "foo"), re = "`obs` must be one of `gaussian`, `t`, `rating`, `categorical`, not \"foo\""),
    list(args = list(decoder = "cnn"), re = "`decoder`"),
    list(args = list(activation = "sigmoid"), re = "`activation`"),
    list(args = list(direction = "up"), re = "`direction` must hold \"high\" or \"low\".*\"up\""),
    list(args = list(direction = 2), re = "`direction`"),
    list(args = list(direction = NA), re = "`direction`"),
    list(args = list(direction = c("high", "low")), re = "`direction` must have length 1 or 3"),
    list(args = list(direction = c(zz = "low")), re = "unknown column `zz`")
  )
  for (case in cases) {
    call <- c(list(d), case$args)
    err <- tryCatch(do.call(fit_quick, call), error = identity)
    expect_s3_class(err, "deepmnar_error_input")
    expect_match(conditionMessage(err), case$re, info = deparse(case$args))
    # the error names its argument
    expect_identical(err$argument, names(case$args), info = deparse(case$args))
  }
})

test_that("valid edge settings are accepted", {
  f <- fit_quick(d, batch_size = nrow(d), latent_dim = 1, hidden = c(3, 2, 4), lr = 1e-6, sigma_floor = 0,
                 direction = c(a = "low"))
  expect_identical(f$spec$direction, c(-1, 1, 1))
  expect_identical(f$settings$batch_size, 60L)
  expect_identical(fit_quick(d, direction = c(1, -1, 1))$spec$direction, c(1, -1, 1))
  expect_identical(fit_quick(d, missing_model = "linear", obs = "t", decoder = "linear",
                             activation = "relu")$settings$iterations_done, 10L)
  expect_false(anyNA(impute(f, L = 20, seed = 1, progress = FALSE)))
})

test_that("newdata must carry exactly the fit's columns", {
  extra <- d
  extra$zz <- 1
  err <- expect_input_error(impute(fit, newdata = extra, L = 5), "has `zz`, unknown to the fit")
  expect_identical(err$columns, "zz")
  err <- expect_input_error(impute(fit, newdata = d[c("a", "c")], L = 5), "lacks `b`")
  expect_identical(err$columns, "b")
  both <- d[c("a", "c")]
  both$q <- 0
  expect_input_error(impute(fit, newdata = both, L = 5), "lacks `b` and has `q`")
  expect_input_error(impute(fit, newdata = unname(as.matrix(d)), L = 5), "lacks `a`, `b`, `c`")
  chr <- d
  chr$b <- as.character(chr$b)
  expect_input_error(impute(fit, newdata = chr, L = 5), "Column `b` of `newdata` is a character column, where the model needs numbers")
  fac <- d
  fac$b <- factor(round(fac$b))
  expect_input_error(impute(fit, newdata = fac, L = 5), "Column `b` of `newdata` is a factor, where the model needs numbers")
  expect_input_error(multiple_impute(fit, m = 2, newdata = extra, L = 5, format = "list"), "`zz`")
  expect_input_error(impute(fit, newdata = "x", L = 5), "`newdata` must be a data.frame")
})

test_that("impute() and multiple_impute() refuse what is not a fit", {
  err <- expect_input_error(impute(d), "`fit` must be a model fitted by deepmnar")
  expect_match(conditionMessage(err), "`data.frame`")
  expect_identical(err$argument, "fit")
  expect_input_error(impute(1:3), "`integer`")
  expect_input_error(impute(NULL), "`fit` must be")
  expect_input_error(impute(unclass(fit)), "`fit` must be")
  expect_input_error(multiple_impute(d, m = 2), "`fit` must be a model fitted by deepmnar")
  expect_input_error(multiple_impute(list(theta = 1), m = 2), "`fit` must be")
})

test_that("imputation settings are checked", {
  expect_input_error(impute(fit, L = 0), "`L`")
  expect_input_error(impute(fit, L = -1), "`L`")
  expect_input_error(impute(fit, L = 2.5), "`L`.*not 2.5")
  expect_input_error(impute(fit, L = NA), "`L`")
  expect_input_error(impute(fit, L = 5, type = "mode"), "`type` must be one of `mean`, `median`")
  expect_input_error(impute(fit, L = 5, seed = -3), "`seed`")
  expect_input_error(impute(fit, L = 5, threads = 0), "`threads`")
  expect_input_error(multiple_impute(fit, m = 0, L = 5, format = "list"), "`m` must be a single whole number")
  expect_input_error(multiple_impute(fit, m = 1.5, L = 5, format = "list"), "`m`")
  expect_input_error(multiple_impute(fit, m = NA, L = 5, format = "list"), "`m`")
  expect_input_error(multiple_impute(fit, m = 2, L = 0, format = "list"), "`L`")
  expect_input_error(multiple_impute(fit, m = 2, L = 5, format = "csv"), "`format` must be one of `mids`, `list`")
})

test_that("odd but valid input neither crashes nor leaves NaN", {
  # a single column
  one <- data.frame(x = c(1, 2, NA, 4, 5, NA, 7, 8))
  f1 <- notmiwae(one, missing_model = "selfmask_known", hidden = 4, iterations = 10, K = 2, batch_size = 4, seed = 1, threads = 1, progress = FALSE)
  expect_identical(f1$spec$latent_dim, 1L)
  i1 <- impute(f1, L = 20, seed = 1, progress = FALSE)
  expect_true(all(is.finite(i1$x)))
  expect_identical(i1$x[!is.na(one$x)], one$x[!is.na(one$x)])
  expect_true(all(is.finite(impute(f1, L = 20, seed = 1, type = "median", progress = FALSE)$x)))
  # three rows, batch of 1, one sample
  three <- data.frame(a = c(1, 2, 3), b = c(NA, 3, 5), c = c(5, 4, 1))
  f2 <- notmiwae(three, missing_model = "selfmask_known", hidden = 2, iterations = 5, K = 1, batch_size = 1, seed = 1, threads = 2, progress = FALSE)
  expect_true(is.finite(impute(f2, L = 1, seed = 1, progress = FALSE)$b[1]))
  # two complete rows: a warning, and a usable fit
  expect_warning(f0 <- notmiwae(data.frame(a = c(1, 2), b = c(4, 3)), missing_model = "selfmask_known", hidden = 2, iterations = 5, K = 2,
                                batch_size = 2, seed = 1, threads = 1, progress = FALSE),
                 class = "deepmnar_warning_no_missing")
  expect_true(is.finite(impute(f0, newdata = data.frame(a = NA, b = 1), L = 5, seed = 1, progress = FALSE)$a))
  # more threads than rows, K larger than needed
  f3 <- notmiwae(three, missing_model = "selfmask_known", hidden = 2, iterations = 5, K = 50, batch_size = 3, seed = 1, threads = 8, progress = FALSE)
  expect_true(all(is.finite(f3$trace)))
  # rows with every value missing, in training and in newdata, for both types
  da <- d
  da[c(2, 9), ] <- NA
  fa <- fit_quick(da)
  for (type in c("mean", "median")) {
    im <- impute(fa, L = 30, seed = 1, type = type, progress = FALSE)
    expect_false(anyNA(im))
    expect_true(all(vapply(im, function(col) all(is.finite(col)), logical(1))))
  }
  mi <- multiple_impute(fa, m = 2, L = 30, refit_iterations = 20, seed = 1, format = "list", progress = FALSE)
  expect_false(anyNA(mi[[1]]) || anyNA(mi[[2]]))
  # extreme but finite scales are standardised away
  big <- d
  big$a <- big$a * 1e150
  big$c <- big$c * 1e-150
  fb <- fit_quick(big)
  ib <- impute(fb, L = 20, seed = 1, progress = FALSE)
  expect_true(all(is.finite(ib$a)))
  expect_lt(max(abs(ib$a)), 1e152)
  expect_gt(max(abs(ib$a[is.na(big$a)])), 1e148)
  # newdata with values far outside the training range
  far <- data.frame(a = NA, b = 1e6, c = -1e6)
  expect_true(all(is.finite(unlist(impute(fit, newdata = far, L = 20, seed = 1, progress = FALSE)))))
  expect_true(all(is.finite(unlist(impute(fit, newdata = far, L = 20, seed = 1, type = "median", progress = FALSE)))))
})

test_that("a column with one observed value is imputed as that value, with a warning that names it", {
  for (values in list(c(rep(3, 55), rep(NA, 5)), c(rep(NA, 6), 1, rep(NA, 53)))) {
    dk <- d
    dk$const <- values
    expect_warning(fit <- fit_quick(dk), class = "deepmnar_warning_constant_column", regexp = "`const`")
    value <- values[!is.na(values)][1]
    expect_equal(fit$observation$point_mass[fit$observation$column == "const"], value)
    expect_equal(fit$observation$point_mass_share[fit$observation$column == "const"], 1)
    expect_identical(fit$observation$family[fit$observation$column == "const"], "constant")
    imp <- impute(fit, L = 50, seed = 1, progress = FALSE)
    expect_equal(imp$const, rep(value, length(values)))
    # even a mask model that would like the missing cells elsewhere cannot move them
    expect_warning(sm <- fit_quick(dk, missing_model = "selfmask", starts = 1, iterations = 200),
                   class = "deepmnar_warning_constant_column")
    expect_equal(impute(sm, L = 50, seed = 1, progress = FALSE)$const, rep(value, length(values)))
  }
})

test_that("a near-constant column gets a classed warning that names it", {
  set.seed(3)
  n <- 100
  # 0.5 is inside the column's range, so no point mass is found there.
  d <- data.frame(a = rnorm(n), flag = c(rep(0.5, 94), 0, rep(1, 5)), b = rnorm(n))
  d$a[d$a > 0.5] <- NA
  expect_warning(notmiwae(d, missing_model = "selfmask_known", hidden = 4, iterations = 2, seed = 1, stop_early = FALSE, progress = FALSE),
                 class = "deepmnar_warning_near_constant", regexp = "`flag`.*point_mass.*sigma_floor")
  # At an end of the range it becomes a point mass, and the warning goes
  # (three values: with two the column would be binary).
  d$flag[95] <- 0.5
  d$flag[96] <- 0.75
  fit <- withCallingHandlers(notmiwae(d, missing_model = "selfmask_known", hidden = 4, iterations = 2, seed = 1, stop_early = FALSE, progress = FALSE),
                             deepmnar_warning_near_constant = function(w) stop("unexpected warning"))
  expect_equal(fit$observation$point_mass[2], 0.5)
  d$flag <- rnorm(n)
  expect_no_near_constant <- function(expr) {
    withCallingHandlers(expr, deepmnar_warning_near_constant = function(w) stop("unexpected warning"))
  }
  expect_s3_class(expect_no_near_constant(notmiwae(d, missing_model = "selfmask_known", hidden = 4, iterations = 2, seed = 1, progress = FALSE)),
                  "deepmnar_fit")
})

test_that("a fully observed constant column and a matrix column get classed errors naming them", {
  d <- iris
  d$Sepal.Length[1:20] <- NA
  d$k <- 1
  err <- expect_error(notmiwae(d, missing_model = "mcar", iterations = 10, threads = 1), class = "deepmnar_error_input",
                      regexp = "`k`.*constant")
  expect_identical(err$columns, "k")
  d$k <- NULL
  d$m <- cbind(a = 1:150, b = 1:150)
  err <- expect_error(notmiwae(d, missing_model = "mcar", iterations = 10, threads = 1), class = "deepmnar_error_input",
                      regexp = "`m`.*matrix")
  expect_identical(err$columns, "m")
})

test_that("training options come from train_control() or directly, as glm() takes glm.control()'s", {
  x <- banknote[1:120, 1:4]
  x$variance[x$variance > mean(x$variance)] <- NA
  quick <- train_control(iterations = 30, stop_early = FALSE, threads = 1, progress = FALSE)
  by_control <- notmiwae(x, missing_model = "selfmask_known", hidden = c(8, 8), seed = 1, control = quick)
  direct <- notmiwae(x, missing_model = "selfmask_known", hidden = c(8, 8), seed = 1, iterations = 30,
                     stop_early = FALSE, threads = 1, progress = FALSE)
  expect_identical(by_control$theta, direct$theta)
  # an option given directly overrides control's
  longer <- notmiwae(x, missing_model = "selfmask_known", hidden = c(8, 8), seed = 1, control = quick, iterations = 40)
  expect_identical(longer$settings$iterations_done, 40L)
  for (f in list(gnr, not2miwae, psmvae)) {
    fit <- f(x, hidden = c(8, 8), seed = 1, control = quick, starts = 1)
    expect_identical(fit$settings$iterations_done, 30L)
  }
  err <- expect_error(notmiwae(x, iteration = 30), class = "deepmnar_error_input")
  expect_match(conditionMessage(err), "`iteration`")
  expect_identical(err$argument, "iteration")
  expect_error(notmiwae(x, control = list(iterations = 30)), class = "deepmnar_error_input", regexp = "train_control")
  expect_error(train_control(iterations = -1), class = "deepmnar_error_input", regexp = "iterations")
  expect_error(train_control(precision = "half"), class = "deepmnar_error_input", regexp = "precision")
  expect_output(print(quick), "iterations")
})

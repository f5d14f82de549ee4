# Tests of the user-facing API: notmiwae(), impute(), multiple_impute() and the
# methods. Networks are tiny and training short so that the file runs in
# seconds; the assertions are about the contract (shapes, observed cells,
# reproducibility, agreement between estimators), not about accuracy.

make_data <- function(n = 150, seed = 1) {
  set.seed(seed)
  z <- rnorm(n)
  d <- data.frame(a = z + rnorm(n, sd = 0.3), b = 2 * z + rnorm(n, sd = 0.3), c = -z + rnorm(n, sd = 0.5))
  d$a[d$a > 0.5] <- NA # self-masking: high values of `a` go missing
  d$b[sample(n, 15)] <- NA
  d
}

quick_fit <- function(data, ..., missing_model = "selfmask_known", hidden = c(8, 8), iterations = 100, K = 5,
                      batch_size = 16, seed = 1, threads = 1, stop_early = FALSE) {
  notmiwae(data, ..., missing_model = missing_model, hidden = hidden, iterations = iterations, K = K, batch_size = batch_size, seed = seed,
           threads = threads, stop_early = stop_early, progress = FALSE)
}

# Observed cells of `imputed` must be exactly those of `data`; all others finite.
expect_completes <- function(imputed, data) {
  expect_identical(names(imputed), names(data))
  expect_identical(nrow(imputed), nrow(data))
  for (j in names(data)) {
    obs <- !is.na(data[[j]])
    if (any(obs)) expect_identical(imputed[[j]][obs], data[[j]][obs])
    expect_false(anyNA(imputed[[j]]))
    expect_true(all(is.finite(imputed[[j]])))
  }
}

d <- make_data()
fit <- quick_fit(d, iterations = 200)

test_that("impute() returns the data with observed cells untouched and the rest filled", {
  im <- impute(fit, L = 100, seed = 1, threads = 1, progress = FALSE)
  expect_s3_class(im, "data.frame")
  expect_false(inherits(im, "tbl_df"))
  expect_completes(im, d)
  # the imputations are not a constant or the column mean
  miss_a <- is.na(d$a)
  expect_gt(sd(im$a[miss_a]), 0)
  expect_false(isTRUE(all.equal(im$a[miss_a], rep(mean(d$a, na.rm = TRUE), sum(miss_a)))))
  # the same through newdata = the training data
  expect_identical(impute(fit, newdata = d, L = 100, seed = 1, threads = 1, progress = FALSE), im)
})

test_that("a matrix gives a data.frame, with V1, V2, ... names when it has none", {
  m <- as.matrix(d)
  fm <- quick_fit(m, iterations = 30)
  im <- impute(fm, L = 50, seed = 1, progress = FALSE)
  expect_s3_class(im, "data.frame")
  expect_completes(im, as.data.frame(m))

  un <- unname(m)
  fu <- quick_fit(un, iterations = 30)
  expect_identical(fu$columns, c("V1", "V2", "V3"))
  iu <- impute(fu, L = 50, seed = 1, progress = FALSE)
  expect_s3_class(iu, "data.frame")
  expect_identical(names(iu), c("V1", "V2", "V3"))
  expect_identical(iu$V1[!is.na(un[, 1])], un[!is.na(un[, 1]), 1])
  expect_false(anyNA(iu))
  # newdata as an unnamed matrix matches the generated names
  expect_identical(impute(fu, newdata = un, L = 50, seed = 1, progress = FALSE), iu)
})

test_that("a tibble stays a tibble, with and without newdata", {
  skip_if_not_installed("tibble")
  tb <- tibble::as_tibble(d)
  ft <- quick_fit(tb, iterations = 30)
  im <- impute(ft, L = 50, seed = 1, progress = FALSE)
  expect_s3_class(im, "tbl_df")
  expect_completes(im, tb)
  im2 <- impute(ft, newdata = tb, L = 50, seed = 1, progress = FALSE)
  expect_s3_class(im2, "tbl_df")
  expect_identical(im2, im)
  mi <- multiple_impute(ft, m = 2, L = 50, refit_iterations = 20, seed = 1, format = "list", progress = FALSE)
  expect_s3_class(mi[[1]], "tbl_df")
})

test_that("integer columns stay integer: observed values kept, imputations rounded ('prob' keeps them exact)", {
  di <- d
  di$i <- as.integer(round(10 * d$c))  # integer with missing values
  di$i[c(3, 9, 27)] <- NA
  di$k <- seq_len(nrow(d))             # integer, fully observed
  fi <- quick_fit(di, iterations = 30)
  exact <- impute(fi, L = 50, seed = 1, type = "prob", progress = FALSE)
  obs <- !is.na(di$i)
  expect_type(exact$i, "double")
  expect_false(all(exact$i[!obs] == round(exact$i[!obs])))
  for (im in list(impute(fi, L = 50, seed = 1, progress = FALSE),
                  impute(fi, newdata = di, L = 50, seed = 1, progress = FALSE))) {
    expect_identical(names(im), names(di))
    expect_identical(im$k, di$k)                 # untouched, still integer
    expect_type(im$i, "integer")
    expect_identical(im$i[obs], di$i[obs])
    expect_identical(im$i[!obs], as.integer(round(exact$i[!obs])))
  }
})

test_that("data.frame row names are kept", {
  dr <- d
  rownames(dr) <- paste0("r", seq_len(nrow(d)))
  fr <- quick_fit(dr, iterations = 30)
  expect_identical(rownames(impute(fr, L = 20, seed = 1, progress = FALSE)), rownames(dr))
  expect_identical(rownames(impute(fr, newdata = dr[1:5, ], L = 20, seed = 1, progress = FALSE)), rownames(dr)[1:5])
})

test_that("newdata columns in another order give the same imputations", {
  ref <- impute(fit, L = 200, seed = 3, progress = FALSE)
  shuffled <- d[, c("c", "a", "b")]
  im <- impute(fit, newdata = shuffled, L = 200, seed = 3, progress = FALSE)
  expect_identical(names(im), c("c", "a", "b"))   # the user's order is kept
  expect_identical(im[names(d)], ref)
  expect_completes(im, shuffled)
  # a different seed gives different imputations of the same cells
  other <- impute(fit, L = 200, seed = 4, progress = FALSE)
  expect_false(identical(other$a, ref$a))
})

test_that("newdata with new rows, a single row, zero rows or no missing values", {
  nd <- data.frame(a = c(NA, 0.1, NA), b = c(1, NA, NA), c = c(-1, 0.5, NA))
  im <- impute(fit, newdata = nd, L = 100, seed = 1, progress = FALSE)
  expect_completes(im, nd)
  one <- impute(fit, newdata = nd[1, ], L = 100, seed = 1, progress = FALSE)
  expect_completes(one, nd[1, ])
  # row 1 of both calls uses the same row-keyed stream
  expect_identical(one$a, im$a[1])
  zero <- impute(fit, newdata = d[0, ], L = 10, seed = 1, progress = FALSE)
  expect_identical(zero, d[0, ])
  complete <- d[stats::complete.cases(d), ]
  expect_identical(impute(fit, newdata = complete, L = 10, seed = 1, progress = FALSE), complete)
  # a column of NA (logical) in newdata is imputed
  na_col <- data.frame(a = c(0, 1), b = c(NA, NA), c = c(0, 1))
  expect_completes(impute(fit, newdata = na_col, L = 50, seed = 1, progress = FALSE), na_col)
})

test_that("type = 'median' gives finite values close to, but not equal to, the mean", {
  mean_im <- impute(fit, L = 300, seed = 2, progress = FALSE)
  med_im <- impute(fit, L = 300, seed = 2, type = "median", progress = FALSE)
  expect_completes(med_im, d)
  miss <- is.na(as.matrix(d))
  mu <- as.matrix(mean_im)[miss]
  med <- as.matrix(med_im)[miss]
  expect_gt(cor(mu, med), 0.9)
  expect_false(isTRUE(all.equal(mu, med, tolerance = 1e-10)))
  # the median lies within the range of the data, widened by its spread
  expect_true(all(abs(med - mu) < 3 * apply(as.matrix(d), 2, sd, na.rm = TRUE)[col(miss)[miss]]))

  ft <- quick_fit(d, obs = "t", iterations = 50)
  med_t <- impute(ft, L = 200, seed = 2, type = "median", progress = FALSE)
  expect_completes(med_t, d)
  mean_t <- impute(ft, L = 200, seed = 2, progress = FALSE)
  expect_gt(cor(as.matrix(mean_t)[miss], as.matrix(med_t)[miss]), 0.9)
})

test_that("estimates settle as L grows", {
  miss <- is.na(as.matrix(d))
  est <- function(L) as.matrix(impute(fit, L = L, seed = 5, threads = 2, progress = FALSE))[miss]
  ref <- est(4000)
  small <- mean(abs(est(20) - ref))
  large <- mean(abs(est(2000) - ref))
  expect_lt(large, small / 2)
  # an independent run with L = 4000 (another seed) is also closer than L = 20
  other <- as.matrix(impute(fit, L = 4000, seed = 6, threads = 2, progress = FALSE))[miss]
  expect_lt(mean(abs(other - ref)), small / 2)
})

test_that("a row with every value missing gets finite imputations", {
  da <- d
  da[5, ] <- NA
  da[77, ] <- NA
  fa <- quick_fit(da, iterations = 50)
  im <- impute(fa, L = 200, seed = 1, progress = FALSE)
  expect_completes(im, da)
  for (type in c("mean", "median")) {
    im <- impute(fit, newdata = da[c(5, 77), ], L = 200, seed = 1, type = type, progress = FALSE)
    expect_false(anyNA(im))
    rng <- apply(as.matrix(d), 2, range, na.rm = TRUE)
    width <- rng[2, ] - rng[1, ]
    for (j in names(d)) {
      expect_true(all(im[[j]] > rng[1, j] - width[j] & im[[j]] < rng[2, j] + width[j]))
    }
  }
  # rows with no observed value draw only on the mask: identical rows, identical estimates in distribution,
  # but separate streams, so the two rows differ slightly
  mi <- impute(fit, newdata = da[c(5, 77), ], L = 200, seed = 1, progress = FALSE)
  expect_equal(mi$a[1], mi$a[2], tolerance = 0.5)
})

test_that("data without missing values: warning, fit, and impute() returns the data", {
  full <- d[stats::complete.cases(d), ]
  rownames(full) <- NULL
  expect_warning(fc <- quick_fit(full, iterations = 30), class = "deepmnar_warning_no_missing")
  expect_s3_class(fc, "deepmnar_fit")
  expect_identical(fc$settings$iterations_done, 30L)
  expect_identical(impute(fc, L = 10, seed = 1, progress = FALSE), full)
  mi <- multiple_impute(fc, method = "sir", m = 2, L = 10, seed = 1, format = "list", progress = FALSE)
  expect_identical(mi, list(full, full))
  # the fit can still impute other data
  expect_completes(impute(fc, newdata = d[1:20, ], L = 50, seed = 1, progress = FALSE), d[1:20, ])
})

test_that("a seed gives the same fit and imputations for 1 and 2 threads", {
  configs <- list(list(missing_model = "selfmask_known"), list(missing_model = "nonlinear"),
                  list(missing_model = "selfmask", obs = "t"), list(missing_model = "none", decoder = "linear"))
  for (cfg in configs) {
    f1 <- do.call(quick_fit, c(list(d, iterations = 60, batch_size = 32, threads = 1, seed = 11), cfg))
    f2 <- do.call(quick_fit, c(list(d, iterations = 60, batch_size = 32, threads = 2, seed = 11), cfg))
    expect_identical(f1$theta, f2$theta)
    expect_identical(f1$trace, f2$trace)
    f1_again <- do.call(quick_fit, c(list(d, iterations = 60, batch_size = 32, threads = 1, seed = 11), cfg))
    expect_identical(f1_again$theta, f1$theta)
    f3 <- do.call(quick_fit, c(list(d, iterations = 60, batch_size = 32, threads = 1, seed = 12), cfg))
    expect_false(identical(f1$theta, f3$theta))
    expect_true(all(is.finite(f1$trace)))
  }
  for (type in c("mean", "median")) {
    expect_identical(impute(fit, L = 300, seed = 9, type = type, threads = 1, progress = FALSE),
                     impute(fit, L = 300, seed = 9, type = type, threads = 2, progress = FALSE))
  }
  expect_identical(multiple_impute(fit, method = "sir", m = 3, L = 300, seed = 9, format = "list", threads = 1, progress = FALSE),
                   multiple_impute(fit, method = "sir", m = 3, L = 300, seed = 9, format = "list", threads = 2, progress = FALSE))
})

test_that("seed = NULL follows set.seed()", {
  set.seed(42)
  f1 <- notmiwae(d, missing_model = "selfmask_known", hidden = 8, iterations = 20, K = 3, threads = 1, progress = FALSE)
  set.seed(42)
  f2 <- notmiwae(d, missing_model = "selfmask_known", hidden = 8, iterations = 20, K = 3, threads = 1, progress = FALSE)
  expect_identical(f1$theta, f2$theta)
  expect_identical(f1$settings$seed, f2$settings$seed)
  set.seed(42)
  i1 <- impute(fit, L = 50, progress = FALSE)
  set.seed(42)
  i2 <- impute(fit, L = 50, progress = FALSE)
  expect_identical(i1, i2)
})

test_that("a fit is a plain list that survives saveRDS/readRDS", {
  # Walks the object: no external pointer or environment anywhere (the call is a
  # language object and is not walked into).
  walk <- function(x, path = "fit") {
    bad <- character(0)
    if (typeof(x) %in% c("externalptr", "environment", "closure", "weakref")) return(path)
    if (is.list(x)) {
      for (k in seq_along(x)) bad <- c(bad, walk(x[[k]], paste0(path, "[[", k, "]]")))
    }
    for (a in setdiff(names(attributes(x)), "names")) bad <- c(bad, walk(attr(x, a), paste0(path, "@", a)))
    bad
  }
  expect_true(is.list(fit))
  expect_identical(walk(fit), character(0))
  expect_true(is.language(fit$call))
  # the walker does find pointers and environments
  expect_identical(walk(list(1, list(new.env()))), "fit[[2]][[1]]")

  path <- tempfile(fileext = ".rds")
  on.exit(unlink(path))
  saveRDS(fit, path)
  back <- readRDS(path)
  expect_identical(back$theta, fit$theta)
  expect_identical(impute(back, L = 200, seed = 7, progress = FALSE), impute(fit, L = 200, seed = 7, progress = FALSE))
  expect_identical(impute(back, L = 200, seed = 7, type = "median", progress = FALSE),
                   impute(fit, L = 200, seed = 7, type = "median", progress = FALSE))
  expect_identical(multiple_impute(back, method = "sir", m = 2, L = 100, seed = 7, format = "list", progress = FALSE),
                   multiple_impute(fit, method = "sir", m = 2, L = 100, seed = 7, format = "list", progress = FALSE))
})

test_that("print, summary and plot", {
  expect_output(print(fit), "not-MIWAE")
  expect_output(print(fit), "150 rows x 3 columns")
  expect_output(print(fit), sprintf("%d missing cells", sum(is.na(d))))
  expect_output(res <- withVisible(print(fit)))
  expect_false(res$visible)
  expect_identical(res$value, fit)

  fm <- quick_fit(d, missing_model = "none", iterations = 20)
  expect_output(print(fm), "MIWAE")
  expect_false(any(grepl("not-MIWAE", capture.output(print(fm)))))

  s <- summary(fit)
  expect_s3_class(s, "summary.deepmnar_fit")
  expect_s3_class(s$columns, "data.frame")
  expect_identical(nrow(s$columns), 3L)
  expect_identical(s$columns$column, names(d))
  expect_equal(s$columns$missing, unname(colSums(is.na(d))))
  expect_equal(s$columns$observed_mean, unname(colMeans(d, na.rm = TRUE)))
  expect_equal(s$columns$observed_sd, unname(apply(d, 2, sd, na.rm = TRUE)))
  expect_true(all(c("mask_midpoint", "mask_slope") %in% names(s$columns)))
  expect_true(all(is.finite(s$columns$mask_midpoint)))
  # selfmask_known with direction "high": P(observed) falls with the value
  expect_true(all(s$columns$mask_slope < 0))
  expect_output(res <- withVisible(print(s)), "mask_midpoint")
  expect_false(res$visible)
  expect_false("mask_midpoint" %in% names(summary(fm)$columns))
  s_low <- summary(quick_fit(d, direction = "low", iterations = 20))
  expect_true(all(s_low$columns$mask_slope > 0))

  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_invisible(plot(fit))
  expect_identical(plot(fit, window = 5), fit)
})

test_that("multiple_impute(format = 'list') gives m completions that differ on imputed cells", {
  mi <- multiple_impute(fit, method = "sir", m = 3, L = 200, seed = 1, format = "list", progress = FALSE)
  expect_type(mi, "list")
  expect_length(mi, 3)
  miss <- is.na(as.matrix(d))
  for (k in 1:3) {
    expect_s3_class(mi[[k]], "data.frame")
    expect_completes(mi[[k]], d)
  }
  for (pair in list(c(1, 2), c(1, 3), c(2, 3))) {
    differ <- as.matrix(mi[[pair[1]]])[miss] != as.matrix(mi[[pair[2]]])[miss]
    expect_gt(mean(differ), 0.5)
  }
  # m = 1 works
  one <- multiple_impute(fit, method = "sir", m = 1, L = 50, seed = 1, format = "list", progress = FALSE)
  expect_length(one, 1)
  expect_completes(one[[1]], d)
})

test_that("multiple_impute(format = 'mids') pools with mice", {
  skip_if_not_installed("mice")
  imp <- multiple_impute(fit, method = "sir", m = 3, L = 200, seed = 1, progress = FALSE)
  expect_s3_class(imp, "mids")
  expect_identical(as.integer(imp$m), 3L)
  lst <- multiple_impute(fit, method = "sir", m = 3, L = 200, seed = 1, format = "list", progress = FALSE)
  for (k in 1:3) {
    expect_equal(mice::complete(imp, k), lst[[k]], ignore_attr = TRUE)
  }
  est <- with(imp, lm(a ~ b))
  pooled <- mice::pool(est)
  pp <- pooled$pooled
  expect_true(all(is.finite(pp$estimate)))
  expect_gt(pp$b[pp$term == "b"], 0)
  # the point estimate is the average of the three analyses
  coefs <- vapply(lst, function(x) coef(lm(a ~ b, data = x))[["b"]], numeric(1))
  expect_equal(pp$estimate[pp$term == "b"], mean(coefs))
})

# impute() estimates E[x^m | x^o, s] by self-normalised importance sampling
# (decoder means for MIWAE, the draws themselves when a mask model makes the
# weights depend on them); each multiple imputation resamples one draw with
# probability alpha_l. With the same seed and L both see the same samples, so
# the average of many imputations estimates the same quantity.
sir_zscores <- function(f, m = 40, L = 500, seed = 21) {
  draws <- multiple_impute(f, method = "sir", m = m, L = L, seed = seed, format = "list", threads = 2, progress = FALSE)
  miss <- is.na(as.matrix(d))
  stack <- vapply(draws, function(x) as.matrix(x)[miss], numeric(sum(miss)))
  cond_mean <- as.matrix(impute(f, L = L, seed = seed, threads = 2, progress = FALSE))[miss]
  (rowMeans(stack) - cond_mean) / (apply(stack, 1, sd) / sqrt(m))
}

test_that("multiple imputations average to the conditional mean (SIR agrees with SNIS, MIWAE)", {
  fm <- quick_fit(d, missing_model = "none", iterations = 200)
  zscore <- sir_zscores(fm)
  expect_true(all(is.finite(zscore)))
  # about N(0, 1) if the resampling follows the importance weights
  expect_lt(abs(mean(zscore)), 0.3)
  expect_lt(mean(abs(zscore)), 1.2)
  expect_lt(mean(abs(zscore) > 4), 0.03)
  # with a single importance sample (L = 1) every imputation resamples that sample
  one <- multiple_impute(fm, method = "sir", m = 5, L = 1, seed = 3, format = "list", progress = FALSE)
  expect_completes(one[[1]], d)
  for (k in 2:5) expect_identical(one[[k]], one[[1]])
})

test_that("SIR and SNIS agree for a self-masking model", {
  zscore <- sir_zscores(fit, m = 200)
  expect_true(all(is.finite(zscore)))
  expect_lt(abs(mean(zscore)), 0.3)
  expect_lt(mean(abs(zscore) > 4), 0.03)
})

test_that("a diverging bound stops with a classed error naming the iteration", {
  # sigma_floor = 0 lets the decoder's scale collapse on the tied values of `c`,
  # and lr = 1 gets it there in a few steps.
  set.seed(1)
  n <- 200
  z <- rnorm(n)
  dd <- data.frame(a = z + rnorm(n, sd = 0.3), b = 2 * z + rnorm(n, sd = 0.3), c = c(rep(0, n - 4), 1:4))
  dd$a[dd$a > 0.5] <- NA
  train <- function(iterations) {
    # `c` is near-constant on purpose: that warning is expected here.
    suppressWarnings(
      notmiwae(dd, missing_model = "selfmask_known", activation = "relu", hidden = c(16, 16), iterations = iterations, K = 1, lr = 1, sigma_floor = 0,
               seed = 1, threads = 2, progress = FALSE),
      classes = "deepmnar_warning_near_constant")
  }
  err <- expect_error(train(2000), class = "deepmnar_error_nonfinite")
  expect_s3_class(err, "deepmnar_error")
  expect_match(conditionMessage(err), "non-finite at iteration [0-9]+")
  at <- as.integer(sub(".*iteration ([0-9]+).*", "\\1", conditionMessage(err)))
  expect_identical(as.integer(err$iteration), at)
  expect_true(at >= 1 && at <= 2000)
  # the message suggests a lower learning rate
  expect_match(conditionMessage(err), "lr = 0.1", fixed = TRUE)
  # stopping one iteration before the failure gives a fit with a finite trace
  if (at > 1) {
    ok <- train(at - 1)
    expect_identical(ok$settings$iterations_done, at - 1L)
    expect_true(all(is.finite(ok$trace)))
  }
})

test_that("training runs in one engine call that Ctrl-C stops with the state reached, and chunks do not change it", {
  x <- tiny_mnar_data(n = 60)
  ev <- engine_view(x)
  spec <- tiny_spec(ncol(x), "selfmask")
  state <- deepmnar:::fresh_state(deepmnar:::cpp_init_params(spec, 1))
  train <- function(st, iterations, progress = NULL) {
    deepmnar:::cpp_train(spec, ev, st, iterations, 3L, 8L, 1e-3, 5, 1L, progress)
  }
  whole <- train(state, 300)
  first <- train(state, 100)
  rest <- train(first[c("theta", "adam_m", "adam_v", "iteration")], 200)
  expect_identical(rest$theta, whole$theta)
  expect_identical(c(first$trace, rest$trace), whole$trace)
  expect_false(whole$interrupted)
  skip_on_os("windows")
  # an interrupt raised while the loop runs (here by the progress callback, as
  # Ctrl-C would) stops it at the next check, keeping every step done
  calls <- 0
  interrupt_me <- function(done, bound) {
    calls <<- calls + 1
    expect_true(is.finite(bound))
    if (calls == 2) tools::pskill(Sys.getpid(), tools::SIGINT)
  }
  stopped <- train(state, 1e7, interrupt_me)
  expect_true(stopped$interrupted)
  expect_gt(stopped$iteration, 0)
  expect_lt(stopped$iteration, 1e7)
  expect_length(stopped$trace, stopped$iteration)
  expect_identical(calls, 2)
  again <- train(state, stopped$iteration)
  expect_identical(again$theta, stopped$theta)
})

test_that("imputation runs in one engine call that Ctrl-C stops, and blocks of rows do not change it", {
  skip_on_os("windows")
  x <- tiny_mnar_data(n = 400)
  ev <- engine_view(x)
  spec <- tiny_spec(ncol(x), "selfmask")
  theta <- deepmnar:::cpp_init_params(spec, 1)
  rows <- which(rowSums(ev$observed) < ncol(x))
  impute_rows <- function(r, progress = NULL) {
    deepmnar:::cpp_impute(spec, ev, theta, as.integer(r), 20000L, 256L, 0L, 0L, 3, 1L, FALSE, progress)
  }
  sent <- FALSE
  interrupt_me <- function(done, value) {
    if (!sent) tools::pskill(Sys.getpid(), tools::SIGINT)
    sent <<- TRUE
  }
  stopped <- impute_rows(rows, interrupt_me)
  expect_true(stopped$interrupted)
  expect_true(anyNA(stopped$point[, 1]))
  # each row's draws come from its own stream: one call or one per row agree
  few <- rows[1:3]
  whole <- impute_rows(few)$point
  for (k in seq_along(few)) expect_identical(impute_rows(few[k])$point[1, ], whole[k, ])
})

test_that("imputation stops drawing once each row is precise enough, and reports every row's ESS", {
  fit <- quick_fit(d, iterations = 200)
  full <- impute(fit, L = 4000, tolerance = 0, seed = 1, progress = FALSE, diagnostics = TRUE)
  fast <- impute(fit, L = 4000, tolerance = 0.05, seed = 1, progress = FALSE, diagnostics = TRUE)
  expect_null(attr(impute(fit, L = 100, seed = 1, progress = FALSE), "ess"))
  incomplete <- rowSums(is.na(d)) > 0
  expect_true(all(attr(full, "samples")[incomplete] == 4000))
  expect_true(all(is.na(attr(full, "ess")[!incomplete])))
  expect_true(all(attr(full, "ess")[incomplete] >= 1 & attr(full, "ess")[incomplete] <= 4000))
  expect_lt(median(attr(fast, "samples")[incomplete]), 4000)
  # a row that stopped early is within a few tolerances of the full estimate
  stopped <- incomplete & attr(fast, "samples") < 4000
  expect_true(any(stopped))
  gap <- abs(fast$a - full$a)[stopped & is.na(d$a)] / sd(d$a, na.rm = TRUE)
  expect_lt(max(gap), 4 * 0.05)
  # the first chunk of the stopped rows equals the full run's first chunk
  first <- impute(fit, L = 256, tolerance = 0, seed = 1, progress = FALSE)
  one_chunk <- stopped & attr(fast, "samples") == 256
  expect_equal(fast$a[one_chunk], first$a[one_chunk])
  expect_error(impute(fit, tolerance = -1), class = "deepmnar_error_input", regexp = "`tolerance`")
  # a model whose weights degenerate on some rows is flagged
  expect_warning(impute(fit, L = 1, tolerance = 0, seed = 1, progress = FALSE), class = "deepmnar_warning_low_ess")
})

test_that("center and scale given by the user standardise the columns they name", {
  x <- banknote[1:300, 1:4]
  x$variance[x$variance > mean(x$variance)] <- NA
  known <- c(variance = mean(banknote$variance), skewness = 1)
  fit <- notmiwae(x, missing_model = "selfmask_known", center = known["variance"], scale = c(variance = sd(banknote$variance)), hidden = c(8, 8),
                  iterations = 50, stop_early = FALSE, seed = 1, threads = 1, progress = FALSE)
  expect_equal(fit$scaling$center[["variance"]], known[["variance"]])
  expect_equal(fit$scaling$scale[["variance"]], sd(banknote$variance))
  # the other columns keep their observed moments
  expect_equal(fit$scaling$center[["curtosis"]], mean(x$curtosis))
  g <- gnr(x, center = colMeans(banknote[, 1:4]), hidden = c(8, 8), iterations = 50, stop_early = FALSE, starts = 1,
           seed = 1, threads = 1, progress = FALSE)
  expect_equal(unname(g$scaling$center), unname(colMeans(banknote[, 1:4])))
  imp <- impute(g, L = 20, seed = 1, progress = FALSE)
  expect_false(anyNA(imp))
  err <- expect_error(notmiwae(x, scale = c(variance = 0), iterations = 5, progress = FALSE),
                      class = "deepmnar_error_input")
  expect_match(conditionMessage(err), "`scale` must hold positive finite numbers")
  expect_error(notmiwae(x, center = c(nope = 1), iterations = 5, progress = FALSE), class = "deepmnar_error_input",
               regexp = "`center` names unknown column `nope`")
  expect_error(psmvae(x, center = 1:3, iterations = 5, progress = FALSE), class = "deepmnar_error_input",
               regexp = "`center` must have length 1 or 4")
})

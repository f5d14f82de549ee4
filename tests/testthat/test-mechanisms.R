# The mechanism chosen by the data: the per-row scores, the candidates'
# evidence, logLik() and compare_mechanisms().

# 600 rows from two factors; in `mechanism`, the first two columns go missing
# (about 40% of their cells): above their mean ("high"), or driven by the
# always-observed fourth column ("mar").
mechanism_data <- function(mechanism, n = 600, seed = 1) {
  set.seed(seed)
  f <- matrix(stats::rnorm(n * 2), n)
  x <- cbind(f[, 1] + 0.3 * stats::rnorm(n), f[, 1] + f[, 2] + 0.3 * stats::rnorm(n),
             f[, 2] + 0.3 * stats::rnorm(n), f[, 1] - f[, 2] + 0.3 * stats::rnorm(n))
  colnames(x) <- paste0("v", 1:4)
  truth <- x
  for (j in 1:2) {
    score <- if (mechanism == "high") 3 * scale(x[, j]) else 3 * scale(x[, 4])
    x[stats::runif(n) < stats::plogis(score - 0.5), j] <- NA
  }
  list(x = x, truth = truth)
}

small_auto <- function(x, ...) {
  notmiwae(x, hidden = c(32, 32), iterations = 3000, score_K = 200, seed = 1, threads = 1, ...)
}

test_that("per-row scores average to the bound, and their Monte Carlo variance matches the spread over seeds", {
  d <- mechanism_data("high", n = 60)
  fit <- notmiwae(d$x, missing_model = "selfmask_quadratic", hidden = c(16, 16), iterations = 300, seed = 1,
                  threads = 1, stop_early = FALSE)
  ed <- deepmnar:::engine_data(fit$data, fit$scaling)
  K <- 200
  run <- deepmnar:::cpp_bound(fit$spec, ed, fit$theta, K, 3, FALSE, 1L, TRUE)
  expect_equal(mean(run$row_bound), run$bound, tolerance = 1e-12)
  expect_true(all(run$row_mc_var >= 0 & run$row_mc_var <= 1 - 1 / K))
  spread <- vapply(1:40, function(s) deepmnar:::cpp_bound(fit$spec, ed, fit$theta, K, s, FALSE, 1L, TRUE)$row_bound,
                   numeric(60))
  empirical <- apply(spread, 1, stats::var)
  # delta method against 40 replicates: the average variances agree within 35%
  expect_lt(abs(log(mean(empirical) / mean(run$row_mc_var))), log(1.35))
})

test_that("the default chooses among the candidates by held-out log-likelihood and shows the evidence", {
  # 150 held-out rows: enough to tell self-masking from MAR by more than the rule's margin
  d <- mechanism_data("high", n = 1500)
  fit <- small_auto(d$x)
  table <- compare_mechanisms(fit)
  expect_s3_class(table, "deepmnar_mechanisms")
  expect_identical(table$mechanism, c("mcar", "mar", "selfmask_quadratic"))
  expect_identical(which(table$best), which.max(table$loglik))
  # the first candidate within one paired standard error of the best
  within <- table$loglik >= max(table$loglik) - table$difference_se
  expect_identical(which(table$chosen), which(within)[1])
  expect_identical(fit$spec$missing_model, table$mechanism[table$chosen])
  expect_true(all(table$difference <= 0) && all(is.finite(table$se)) && all(table$mc_se >= 0))
  # high values missing: a self-masking model explains the mask better than MCAR or MAR
  expect_identical(fit$spec$missing_model, "selfmask_quadratic")
  expect_gt(table$loglik[table$chosen] - max(table$loglik[table$mechanism %in% c("mcar", "mar")]), 0.02)
  expect_output(print(fit), "mechanism chosen by held-out")
  expect_output(print(table), "selfmask_quadratic")
  # a subset of its columns prints as a plain table
  expect_output(print(table[, c("mechanism", "loglik")]), "mechanism +loglik")
  # each candidate's score is logLik() of its own fit on the same rows and draws
  for (m in table$mechanism) {
    ll <- logLik(candidate_fit(fit, m), K = 200)
    expect_equal(attr(ll, "nobs"), length(fit$mechanisms$rows))
    expect_equal(as.numeric(ll) / attr(ll, "nobs"), table$loglik[table$mechanism == m], tolerance = 1e-10)
  }
  # and the chosen fit imputes better than the MCAR candidate here
  rmse <- function(f) sqrt(mean((impute(f, seed = 1, threads = 1)[is.na(d$x)] - d$truth[is.na(d$x)])^2))
  expect_lt(rmse(fit), rmse(candidate_fit(fit, "mcar")))
})

test_that("folds score every candidate on disjoint held-out sets, each row by the fit that did not train on it", {
  d <- mechanism_data("high", n = 300)
  small <- function(folds) {
    notmiwae(d$x, hidden = c(16, 16), iterations = 600, score_K = 100, seed = 2, threads = 1,
             candidates = c("mcar", "mar", "selfmask_quadratic"), folds = folds)
  }
  one <- suppressWarnings(small(1))
  two <- suppressWarnings(small(2))
  rows <- two$mechanisms$folds$held_out_rows
  expect_length(rows, 2)
  # fold 1 is the single fit's split, and the folds do not overlap
  expect_identical(rows[[1]], one$stopping$held_out_rows)
  expect_length(intersect(rows[[1]], rows[[2]]), 0)
  expect_identical(length(rows[[2]]), length(rows[[1]]))
  # fold 1's scores are the single fit's: the same fits on the same rows
  table1 <- compare_mechanisms(one)
  table2 <- compare_mechanisms(two)
  expect_identical(two$mechanisms$rows, c(rows[[1]], rows[[2]]))
  for (m in table2$mechanism) {
    member1 <- deepmnar:::ensemble_member(candidate_fit(two, m), 1)
    s1 <- deepmnar:::held_out_scores(member1, K = 100, seed = 2, threads = 1)
    expect_equal(mean(s1$loglik), table1$loglik[table1$mechanism == m], tolerance = 1e-10)
    # the table's score is logLik() of the candidate's fold ensemble, each row scored by the fit that held it out
    ll <- logLik(candidate_fit(two, m), K = 100, seed = 2)
    expect_identical(attr(ll, "rows"), c(rows[[1]], rows[[2]]))
    expect_equal(as.numeric(ll) / attr(ll, "nobs"), table2$loglik[table2$mechanism == m], tolerance = 1e-10)
  }
  # the chosen candidate imputes as the ensemble of its fold fits
  expect_length(two$ensemble$theta, 2)
  expect_identical(two$spec$missing_model, table2$mechanism[table2$chosen])
  members <- lapply(1:2, function(k) deepmnar:::ensemble_member(two, k))
  seeds <- deepmnar:::start_seeds(3, 2)
  averaged <- (impute(members[[1]], seed = seeds[1], threads = 1) + impute(members[[2]], seed = seeds[2], threads = 1)) / 2
  expect_equal(impute(two, seed = 3, threads = 1), averaged, tolerance = 1e-10)
  expect_output(print(two), "in 2 folds")
  # a damaged fold is caught before the engine sees it
  bad <- two
  bad$mechanisms$folds$theta$mar[[2]] <- NULL
  expect_error(impute(bad), class = "deepmnar_error_damaged_fit")
  bad <- two
  bad$ensemble$held_out_rows[[2]][1] <- 10^6
  expect_error(impute(bad), class = "deepmnar_error_damaged_fit")
  # folds that cannot each hold out their own rows are refused, naming the argument
  err <- expect_error(notmiwae(d$x[1:30, ], iterations = 50, folds = 12, seed = 1, threads = 1), class = "deepmnar_error")
  expect_match(conditionMessage(err), "`folds`")
})

test_that("the one-standard-error rule keeps the simplest candidate the held-out rows cannot tell from the best", {
  rule <- deepmnar:::one_se_choice
  expect_identical(rule(c(-5, -4.9, -4.7), c(0.1, 0.1, 0)), 3L)
  expect_identical(rule(c(-5, -4.75, -4.7), c(0.1, 0.1, 0)), 2L)
  expect_identical(rule(c(-4.71, -4.75, -4.7), c(0.05, 0.1, 0)), 1L)
  expect_identical(rule(c(NaN, -4.8, -4.7), c(NA, 0.2, 0)), 2L)
  expect_identical(rule(c(NaN, NaN), c(NA, NA)), 1L)
})

test_that("under MAR the default does not choose a self-masking model", {
  d <- mechanism_data("mar")
  fit <- small_auto(d$x, candidates = c("mcar", "mar", "selfmask_quadratic"))
  table <- compare_mechanisms(fit)
  expect_identical(fit$spec$missing_model, "mar")
  expect_gt(table$loglik[table$mechanism == "mar"] - table$loglik[table$mechanism == "mcar"], 0.02)
})

test_that("the MCAR candidate is MAR's fit with MCAR's maximum-likelihood rates", {
  d <- mechanism_data("mar", n = 300)
  # convergence is not the point here
  fit <- suppressWarnings(notmiwae(d$x, candidates = c("mcar", "mar"), hidden = c(16, 16), iterations = 500, seed = 1,
                                   threads = 1, score_K = 50), classes = "deepmnar_warning_not_converged")
  mcar <- candidate_fit(fit, "mcar")
  mar <- candidate_fit(fit, "mar")
  expect_identical(mcar$spec$missing_model, "mcar")
  blocks <- deepmnar:::param_blocks(mcar$spec)
  expect_equal(length(mcar$theta), max(blocks$start + blocks$size - 1L))
  vae <- unlist(lapply(c("encoder", "decoder"), deepmnar:::block_indices, blocks = blocks))
  expect_identical(mcar$theta[vae], mar$theta[vae])
  # on the training rows, moving any column's rate lowers the bound (the same
  # draws: the MCAR mask term does not read the values)
  train_rows <- setdiff(seq_len(nrow(d$x)), fit$stopping$held_out_rows)
  ed <- deepmnar:::rows_of_engine_data(deepmnar:::engine_data(mcar$data, mcar$scaling), train_rows)
  bound <- function(theta) deepmnar:::cpp_bound(mcar$spec, ed, theta, 20, 4, FALSE, 1L)$bound
  at_fit <- bound(mcar$theta)
  rates <- deepmnar:::block_indices(blocks, "mask_rate")
  for (j in rates[1:2]) for (step in c(-0.2, 0.2)) {
    moved <- mcar$theta
    moved[j] <- moved[j] + step
    expect_lt(bound(moved), at_fit)
  }
})

test_that("logLik() adds an MCAR mask term to MIWAE, so its score estimates the same quantity", {
  d <- mechanism_data("high", n = 200)
  miwae <- notmiwae(d$x, missing_model = "none", hidden = c(16, 16), iterations = 400, seed = 2, threads = 1)
  ll <- logLik(miwae, K = 50)
  expect_s3_class(ll, "logLik")
  rows <- miwae$stopping$held_out_rows
  held <- deepmnar:::rows_of_engine_data(deepmnar:::engine_data(miwae$data, miwae$scaling), rows)
  plain <- deepmnar:::cpp_bound(miwae$spec, held, miwae$theta, 50, 1, FALSE, 1L, TRUE)$row_bound
  share <- colMeans(!is.na(d$x))
  observed <- !is.na(d$x[rows, ])
  share <- matrix(share, nrow(observed), ncol(observed), byrow = TRUE)
  mask <- rowSums(ifelse(observed, log(share), log1p(-share)))
  expect_equal(attr(ll, "per_row"), plain + mask, tolerance = 1e-10)
  # the same rows scored by `newdata` give the same per-row values
  ll_new <- logLik(miwae, newdata = d$x[rows, ], K = 50)
  expect_equal(attr(ll_new, "per_row"), attr(ll, "per_row"), tolerance = 1e-10)
  # fits with the same seed hold out the same rows, and compare
  mcar <- notmiwae(d$x, missing_model = "mcar", hidden = c(16, 16), iterations = 400, seed = 2, threads = 1)
  both <- compare_mechanisms(miwae = miwae, mcar = mcar, K = 50)
  expect_identical(both$mechanism, c("miwae", "mcar"))
  expect_true(all(is.finite(both$loglik)))
})

test_that("bad requests about the mechanism get classed errors naming the argument", {
  d <- mechanism_data("high", n = 60)
  err <- expect_error(notmiwae(d$x, stop_early = FALSE, iterations = 10, threads = 1), class = "deepmnar_error_input")
  expect_identical(err$argument, "stop_early")
  err <- expect_error(notmiwae(d$x, candidates = c("mcar", "bogus"), iterations = 10, threads = 1),
                      class = "deepmnar_error_input")
  expect_identical(err$argument, "candidates")
  err <- expect_error(notmiwae(d$x, candidates = "none", iterations = 10, threads = 1), class = "deepmnar_error_input")
  expect_identical(err$argument, "candidates")
  plain <- notmiwae(d$x, missing_model = "mcar", hidden = c(8, 8), iterations = 20, seed = 1, threads = 1)
  expect_error(candidate_fit(plain, "mar"), class = "deepmnar_error_input")
  other <- notmiwae(d$x, missing_model = "mcar", hidden = c(8, 8), iterations = 20, seed = 2, threads = 1)
  err <- expect_error(compare_mechanisms(plain, other), class = "deepmnar_error_input")
  expect_identical(err$argument, "newdata")
  expect_warning(logLik(notmiwae(d$x, missing_model = "mcar", hidden = c(8, 8), iterations = 20, seed = 1,
                                 threads = 1, stop_early = FALSE), K = 10), class = "deepmnar_warning_in_sample")
})

test_that("a damaged record of the candidates is refused before the engine touches it", {
  d <- mechanism_data("high", n = 120)
  fit <- suppressWarnings(notmiwae(d$x, hidden = c(8, 8), iterations = 100, score_K = 20, seed = 1, threads = 1))
  restored <- unserialize(serialize(fit, NULL))
  expect_identical(compare_mechanisms(restored)$loglik, compare_mechanisms(fit)$loglik)
  damaged <- function(f) expect_error(impute(f, L = 5, seed = 1), class = "deepmnar_error_damaged_fit")
  bad <- fit
  bad$mechanisms$theta$mar <- bad$mechanisms$theta$mar[-1]
  damaged(bad)
  expect_error(candidate_fit(bad, "mar"), class = "deepmnar_error_damaged_fit")
  bad <- fit
  bad$mechanisms$spec$selfmask_quadratic$missing_code <- 99L
  damaged(bad)
  bad <- fit
  bad$mechanisms$table$chosen[] <- TRUE
  damaged(bad)
  bad <- fit
  names(bad$mechanisms$theta)[1] <- "other"
  damaged(bad)
})

# Proper multiple imputation (bootstrap replicates), multi-start selection of
# learned mask models, and the sensitivity analysis. Coverage itself is
# measured by bench/coverage.R, not here.

inference_data <- function(n = 200, seed = 5) {
  set.seed(seed)
  z <- rnorm(n)
  x <- data.frame(a = z + 0.5 * rnorm(n), b = z + 0.5 * rnorm(n), c = z + 0.5 * rnorm(n))
  x$a[x$a > 0.3] <- NA
  x
}
di <- inference_data()
small_fit <- function(data, ..., missing_model = "selfmask_known", stop_early = FALSE) {
  notmiwae(data, ..., missing_model = missing_model, hidden = c(16, 16), K = 5, iterations = 300, seed = 3, threads = 1, stop_early = stop_early,
           progress = FALSE)
}
fi <- small_fit(di)

imputed_means <- function(completed) vapply(completed, function(x) mean(x$a), numeric(1))

test_that("bootstrap imputations vary more between imputations than single-fit SIR draws", {
  boot <- multiple_impute(fi, m = 8, L = 200, refit_iterations = 150, seed = 1, format = "list", threads = 1,
                          progress = FALSE)
  sir <- multiple_impute(fi, m = 8, method = "sir", L = 200, seed = 1, format = "list", threads = 1, progress = FALSE)
  for (x in c(boot, sir)) {
    expect_identical(x[!is.na(di$a), ], di[!is.na(di$a), ])
    expect_true(all(is.finite(x$a)))
  }
  # the between-imputation variance of the estimand (mean of the incomplete column)
  expect_gt(stats::var(imputed_means(boot)), 2 * stats::var(imputed_means(sir)))
})

test_that("bootstrap imputations are the same for 1 and 2 threads and follow the seed", {
  one <- multiple_impute(fi, m = 3, L = 100, refit_iterations = 40, seed = 4, format = "list", threads = 1,
                         progress = FALSE)
  two <- multiple_impute(fi, m = 3, L = 100, refit_iterations = 40, seed = 4, format = "list", threads = 2,
                         progress = FALSE)
  expect_identical(one, two)
  other <- multiple_impute(fi, m = 3, L = 100, refit_iterations = 40, seed = 5, format = "list", threads = 1,
                           progress = FALSE)
  expect_false(identical(one, other))
  skip_if_not_installed("mice")
  imp1 <- multiple_impute(fi, m = 2, L = 100, refit_iterations = 40, seed = 4, threads = 1, progress = FALSE)
  imp2 <- multiple_impute(fi, m = 2, L = 100, refit_iterations = 40, seed = 4, threads = 2, progress = FALSE)
  expect_s3_class(imp1, "mids")
  expect_identical(mice::complete(imp1, "long"), mice::complete(imp2, "long"))
})

test_that("replicates on a future plan of two workers give the same imputations", {
  skip_if_not_installed("future")
  skip_if_not_installed("future.apply")
  sequential <- multiple_impute(fi, m = 2, L = 50, refit_iterations = 20, seed = 6, format = "list", threads = 1,
                                progress = FALSE)
  old_plan <- future::plan(future::multisession, workers = 2)
  on.exit(future::plan(old_plan), add = TRUE)
  parallel <- multiple_impute(fi, m = 2, L = 50, refit_iterations = 20, seed = 6, format = "list", threads = 1,
                              progress = FALSE)
  # Another process holds the parameters at other addresses, and Eigen's
  # vectorised sums over unaligned data start at the first aligned element:
  # the last bit of a value may differ (seen once in a clean-clone CI run,
  # 0.46881446032728979 against ...957), nothing more.
  expect_equal(parallel, sequential, tolerance = 1e-12)
})

test_that("impute() and SIR draws split the rows across the workers of a future plan, same result", {
  skip_if_not_installed("future")
  skip_if_not_installed("future.apply")
  sequential <- list(point = impute(fi, L = 200, seed = 3, threads = 1, diagnostics = TRUE, progress = FALSE),
                     draws = multiple_impute(fi, m = 3, method = "sir", L = 100, seed = 3, format = "list", threads = 1,
                                             progress = FALSE))
  old_plan <- future::plan(future::multisession, workers = 2)
  on.exit(future::plan(old_plan), add = TRUE)
  calls <- new.env()
  calls$n <- 0L
  suppressMessages(trace(deepmnar:::impute_on_workers, bquote(assign("n", get("n", .(calls)) + 1L, envir = .(calls))),
                         print = FALSE, where = asNamespace("deepmnar")))
  on.exit(suppressMessages(untrace(deepmnar:::impute_on_workers, where = asNamespace("deepmnar"))), add = TRUE)
  parallel <- list(point = impute(fi, L = 200, seed = 3, diagnostics = TRUE, progress = FALSE),
                   draws = multiple_impute(fi, m = 3, method = "sir", L = 100, seed = 3, format = "list",
                                           progress = FALSE))
  expect_identical(calls$n, 2L)  # both went through the workers
  # each row draws from its own stream: the split changes nothing (to the
  # last bit across processes, as above)
  expect_equal(parallel, sequential, tolerance = 1e-12)
})

test_that("bootstrap replicates are valid fits on their own resamples", {
  reps <- bootstrap_fits(fi, m = 2, refit_iterations = 30, seed = 2, threads = 1, progress = FALSE)
  expect_length(reps, 2)
  for (r in reps) {
    expect_s3_class(r, class(fi)[1])
    expect_identical(r$settings$iterations_done, 30L)
    expect_identical(r$scaling, fi$scaling)
    expect_identical(nrow(r$data), nrow(fi$data))
    expect_identical(r$data, fi$data[r$replicate$rows, , drop = FALSE])
    expect_false(identical(r$theta, fi$theta))
    expect_output(print(r), "bootstrap replicate")
    im <- impute(r, newdata = di, L = 50, seed = 1, progress = FALSE)
    expect_true(all(is.finite(im$a)))
    expect_identical(im[!is.na(di$a), ], di[!is.na(di$a), ])
  }
  # different resamples
  expect_false(identical(reps[[1]]$replicate$rows, reps[[2]]$replicate$rows))
})

test_that("proper multiple imputation refuses m = 1 and bad methods with classed errors", {
  expect_error(multiple_impute(fi, m = 1, L = 10, format = "list"), class = "deepmnar_error_input",
               regexp = "`m` must be at least 2")
  expect_error(multiple_impute(fi, m = 2, method = "boot", format = "list"), class = "deepmnar_error_input",
               regexp = "`method`")
  expect_error(multiple_impute(fi, m = 2, refit_iterations = 0, format = "list"), class = "deepmnar_error_input",
               regexp = "`refit_iterations`")
  expect_length(multiple_impute(fi, m = 1, method = "sir", L = 10, format = "list", progress = FALSE), 1)
})

test_that("starts: the fit continues the start with the best held-out bound", {
  fit <- small_fit(di, missing_model = "selfmask", starts = 3)
  st <- fit$starts
  expect_identical(nrow(st), 3L)
  expect_identical(sum(st$chosen), 1L)
  expect_identical(which(st$chosen), which.max(st$held_out_bound))
  expect_identical(fit$settings$seed, st$seed[st$chosen])
  expect_identical(fit$settings$iterations_done, 300L)
  expect_identical(st$seed[1], 3L)
  expect_output(print(fit), "starts: best of 3")
  # learned mask models default to 4 starts; known ones to 1, which is the plain fit
  expect_identical(nrow(small_fit(di, missing_model = "linear")$starts), 4L)
  known <- small_fit(di, missing_model = "selfmask_known")
  expect_null(known$starts)
  expect_identical(small_fit(di, missing_model = "selfmask_known", starts = 1)$theta, known$theta)
  expect_error(small_fit(di, starts = 0), class = "deepmnar_error_input", regexp = "`starts`")
})

test_that("a start's held-out score is the bound of its parameters on the held-out rows", {
  fit <- small_fit(di, missing_model = "selfmask", starts = 2)
  ed <- engine_data(fit$data, fit$scaling)
  n <- nrow(ed$x)
  held <- with_seed(3, sample.int(n, max(10L, round(0.2 * n))))
  s <- fit$starts$seed[2]
  args <- list(K = 5L, batch_size = 16L, iterations = 250L, lr = 1e-3, seed = s, threads = 1L)
  run <- run_training(fit$spec, rows_of_engine_data(ed, setdiff(seq_len(n), held)),
                      fresh_state(initial_params(fit$spec, ed, s)), args, FALSE)
  replayed <- cpp_bound(fit$spec, deepmnar:::rows_of_engine_data(ed, held), run$state$theta,
                        20L, 3L, FALSE, 1L)$bound
  expect_equal(replayed, fit$starts$held_out_bound[2])
  expect_false(isTRUE(all.equal(fit$starts$held_out_bound[1], fit$starts$held_out_bound[2])))
})

test_that("mnar_sensitivity() pools an analysis under each model of the mechanism", {
  skip_if_not_installed("mice")
  models <- sensitivity_models(hidden = c(8, 8), K = 5, iterations = 150, threads = 1)
  expect_named(models, c("MAR (MIWAE)", "self-masking, high values missing", "self-masking, low values missing",
                         "self-masking, direction learned", "mask from the whole row, learned"))
  small <- models[c(1, 2, 3)]
  sens <- mnar_sensitivity(di, a ~ b, models = small, m = 2, L = 50, seed = 1, threads = 1, progress = FALSE)
  expect_s3_class(sens, "deepmnar_sensitivity")
  expect_identical(unique(sens$model), names(small))
  expect_identical(sens$term, rep(c("(Intercept)", "b"), 3))
  expect_true(all(sens$conf.low < sens$estimate & sens$estimate < sens$conf.high))
  expect_true(all(sens$fmi > 0 & sens$fmi <= 1))
  # the assumption moves the conclusion: high values missing imputes larger `a` than low values missing
  intercept <- sens$estimate[sens$term == "(Intercept)"]
  expect_gt(intercept[2], intercept[3])
  expect_output(print(sens), "assumption about the missingness mechanism")
  # the evidence: every model scored on the same held-out rows, the best favoured
  expect_true(all(is.finite(sens$loglik)))
  expect_true(all(sens$favoured[sens$loglik == max(sens$loglik)]))
  miwae <- suppressWarnings(small[[1]](di, 1L))
  ll <- logLik(miwae, K = 1000, seed = 1L, threads = 1)
  expect_equal(sens$loglik[sens$model == "MAR (MIWAE)"][1], as.numeric(ll) / attr(ll, "nobs"), tolerance = 1e-10)
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_invisible(plot(sens))
})

test_that("mnar_sensitivity() names the model and imputation where the analysis fails", {
  skip_if_not_installed("mice")
  models <- sensitivity_models(hidden = c(8, 8), K = 5, iterations = 50, threads = 1)[1]
  calls <- 0
  flaky <- function(d) {
    calls <<- calls + 1
    if (calls == 2) stop("singular fit")
    lm(a ~ b, data = d)
  }
  err <- expect_error(mnar_sensitivity(di, flaky, models = models, m = 3, L = 20, seed = 1, progress = FALSE),
                      class = "deepmnar_error_analysis")
  expect_match(conditionMessage(err), "imputation 2 of model \"MAR \\(MIWAE\\)\": singular fit")
  expect_identical(err$imputation, 2L)
  expect_error(mnar_sensitivity(di, "a ~ b", models = models), class = "deepmnar_error_input", regexp = "`analysis`")
  expect_error(mnar_sensitivity(di, a ~ b, models = list(function(d, s) 1)), class = "deepmnar_error_input",
               regexp = "`models`")
  expect_error(mnar_sensitivity(di, a ~ b, models = models, m = 1), class = "deepmnar_error_input", regexp = "`m`")
})

test_that("learned self-masking slopes start with the sign the other columns suggest", {
  set.seed(8)
  n <- 400
  z <- rnorm(n)
  x <- cbind(a = z + 0.5 * rnorm(n), b = z + 0.5 * rnorm(n), c = z + 0.5 * rnorm(n))
  x[x[, "a"] > 0.2, "a"] <- NA        # high values of a missing
  x[x[, "b"] < -0.2, "b"] <- NA       # low values of b missing
  ed <- engine_data(x, fit_scaling(x))
  expect_identical(selfmask_directions(ed), c(1, -1, 1))
  spec <- model_spec("notmiwae", colnames(x), 2L, c(8L, 8L), "tanh", "gaussian", "mlp", "selfmask", rep(1, 3), 1e-4)
  theta <- initial_params(spec, ed, 1)
  raw <- cpp_init_params(spec, 1)
  slopes_at <- length(theta) - 2 * 3 + 1:3
  expect_identical(theta[slopes_at[1:2]], c(1.5, -1.5))
  # the complete column keeps the engine's initialisation, as does everything but the mask model
  expect_identical(theta[slopes_at[3]], raw[slopes_at[3]])
  expect_identical(theta[seq_len(slopes_at[1] - 1)], raw[seq_len(slopes_at[1] - 1)])
  # P(observed) at the column's observed mean equals its observed share
  location <- theta[slopes_at[1:2] + 3]
  expect_equal(stats::plogis(c(1.5, -1.5) * location), unname(colMeans(!is.na(x))[1:2]))
  # the fitted model reads the same direction back (slope sign on the original scale)
  fit <- notmiwae(x, missing_model = "selfmask", hidden = c(8, 8), K = 5, iterations = 400, seed = 2, threads = 1,
                  progress = FALSE)
  expect_identical(sign(summary(fit)$columns$mask_slope[1:2]), c(-1, 1))
})

test_that("every model gives proper imputations from its own replicates", {
  fits <- list(
    gnr = gnr(di, hidden = c(8, 8), K = 5, iterations = 60, seed = 1, threads = 1, starts = 2, progress = FALSE),
    not2miwae = not2miwae(di, hidden = c(8, 8), K = 3, K2 = 2, iterations = 60, seed = 1, threads = 1, starts = 2,
                          progress = FALSE),
    psmvae = psmvae(di, hidden = c(8, 8), iterations = 60, seed = 1, threads = 1, starts = 2, progress = FALSE))
  for (name in names(fits)) {
    f <- fits[[name]]
    expect_identical(nrow(f$starts), 2L)
    mi <- multiple_impute(f, m = 2, L = 30, refit_iterations = 20, seed = 1, format = "list", threads = 1,
                          progress = FALSE)
    expect_length(mi, 2)
    for (x in mi) {
      expect_true(all(is.finite(x$a)), info = name)
      expect_identical(x[!is.na(di$a), ], di[!is.na(di$a), ])
    }
    expect_false(identical(mi[[1]]$a, mi[[2]]$a))
    # the between-imputation variance carries the missing information: about
    # 40% of a is missing, so the pooled mean of a has a fraction of missing
    # information well inside (0, 1), where the complete b has none
    skip_if_not_installed("mice")
    mi6 <- multiple_impute(f, m = 6, L = 30, refit_iterations = 20, seed = 2, format = "list", threads = 1,
                           progress = FALSE)
    fmi <- function(formula) mice::pool(mice::as.mira(lapply(mi6, function(x) stats::lm(formula, data = x))))$pooled$fmi
    expect_gt(fmi(a ~ 1), 0.05)
    expect_lt(fmi(a ~ 1), 0.95)
    expect_equal(var(vapply(mi6, function(x) mean(x$b), numeric(1))), 0)
    reps <- bootstrap_fits(f, m = 1, refit_iterations = 10, seed = 1, threads = 1, progress = FALSE)
    expect_s3_class(reps[[1]], class(f)[1])
  }
})

test_that("early stopping keeps the parameters with the best held-out bound", {
  rule <- early_stopping(holdout = 0.2, every = 20, patience = 3, patience_ratio = 0)
  fit <- notmiwae(di, missing_model = "selfmask_known", hidden = c(8, 8), K = 5, iterations = 3000, lr = 0.01, seed = 2, threads = 1, progress = FALSE,
                  stop_early = rule)
  st <- fit$stopping
  expect_identical(st$reason, "held-out bound stopped improving")
  expect_true(st$converged)
  expect_lt(st$stopped_at, 3000L)
  expect_identical(fit$settings$iterations_done, st$stopped_at)
  expect_identical(st$stopped_at - st$best_iteration, 3L * 20L)
  expect_identical(length(st$held_out_rows), 40L)
  capped <- notmiwae(di, missing_model = "selfmask_known", hidden = c(8, 8), K = 5, iterations = 40, seed = 2, threads = 1, progress = FALSE,
                     stop_early = early_stopping(holdout = 0.2, every = 20, max_rows = 15))
  expect_identical(length(capped$stopping$held_out_rows), 15L)
  expect_equal(st$checks$iteration, seq(0, st$stopped_at, by = 20))
  # the kept parameters score the best check's bound on the held-out rows
  ed <- engine_data(fit$data, fit$scaling)
  held <- st$held_out_rows
  score <- cpp_bound(fit$spec, deepmnar:::rows_of_engine_data(ed, held), fit$theta, 20L,
                     fit$settings$seed, FALSE, 1L)$bound
  expect_equal(score, max(st$checks$held_out_bound))
  expect_equal(st$checks$held_out_bound[st$checks$iteration == st$best_iteration], score)
  expect_output(print(fit), "early stopping: converged, stopped at iteration")
  expect_true(all(is.finite(impute(fit, L = 20, seed = 1, progress = FALSE)$a)))
  # with a patience ratio, training goes on to at least (1 + ratio) times the
  # best check's iteration, on the same path (the kept parameters can only be
  # as good or better on the held-out rows)
  longer <- notmiwae(di, missing_model = "selfmask_known", hidden = c(8, 8), K = 5, iterations = 3000, lr = 0.01, seed = 2, threads = 1,
                     progress = FALSE, stop_early = early_stopping(holdout = 0.2, every = 20, patience = 3,
                                                                   patience_ratio = 1))
  ls <- longer$stopping
  expect_gte(ls$stopped_at - ls$best_iteration, max(60L, ls$best_iteration))
  expect_gte(ls$stopped_at, st$stopped_at)
  expect_gte(max(ls$checks$held_out_bound), max(st$checks$held_out_bound))
  expect_equal(ls$checks$held_out_bound[seq_len(nrow(st$checks))], st$checks$held_out_bound)
})

test_that("early stopping that reaches the cap warns, and bad rules are refused", {
  expect_warning(fit <- notmiwae(di, missing_model = "selfmask_known", hidden = c(8, 8), K = 5, iterations = 40, seed = 2, threads = 1, progress = FALSE,
                                 stop_early = early_stopping(every = 20, patience = 5)),
                 class = "deepmnar_warning_not_converged")
  expect_false(fit$stopping$converged)
  expect_identical(fit$stopping$reason, "iteration cap")
  expect_output(print(fit), "did not converge")
  expect_null(small_fit(di)$stopping)
  # every model stops early by default: its control defaults to train_control()
  expect_true(formals(train_control)$stop_early)
  for (model in list(notmiwae, gnr, not2miwae, psmvae)) expect_identical(formals(model)$control, quote(train_control()))
  expect_error(small_fit(di, stop_early = "yes"), class = "deepmnar_error_input", regexp = "`stop_early`")
  expect_error(early_stopping(holdout = 0.9), class = "deepmnar_error_input", regexp = "`holdout`")
  expect_error(early_stopping(patience = 0), class = "deepmnar_error_input", regexp = "`patience`")
  expect_error(early_stopping(patience_ratio = -1), class = "deepmnar_error_input", regexp = "`patience_ratio`")
})

# The engine's early-stopping loop (cpp_train_early_stopping) against the loop
# R ran before it: cpp_train in chunks of `every` iterations and cpp_bound
# on the held-out rows after each, the same rules. Both must give the same
# parameters, trace and checks to the bit.

es_data <- function(n = 150, seed = 7) {
  set.seed(seed)
  z <- rnorm(n)
  x <- data.frame(a = z + 0.5 * rnorm(n), b = z + 0.5 * rnorm(n), c = -z + 0.5 * rnorm(n), d = rnorm(n))
  x$a[x$a > 0.3] <- NA
  x$c[x$c < -0.8] <- NA
  x
}

# The state training starts from in train_model(): the engine's start, or the
# best of `starts` short starts (select_start()).
es_start <- function(fit, ed, starts) {
  s <- fit$settings
  if (starts == 1) return(deepmnar:::fresh_state(deepmnar:::initial_params(fit$spec, ed, s$seed)))
  user <- list(K = s$K, batch_size = s$batch_size, iterations = s$iterations, lr = s$lr, seed = fit$call_seed,
               threads = 1L)
  selection <- deepmnar:::select_start(fit$spec, ed, user, starts, FALSE)
  stopifnot(selection$seed == s$seed)
  selection$state
}

# The R loop of early stopping as it was, on the fit's held-out rows.
reference_early_stopping <- function(fit, rule, starts = 1) {
  spec <- fit$spec
  s <- fit$settings
  ed <- deepmnar:::engine_data(fit$data, fit$scaling)
  n <- deepmnar:::engine_rows(ed)
  held <- fit$stopping$held_out_rows
  train_ed <- deepmnar:::rows_of_engine_data(ed, setdiff(seq_len(n), held))
  held_ed <- deepmnar:::rows_of_engine_data(ed, held)
  batch_size <- min(s$batch_size, deepmnar:::engine_rows(train_ed))
  score <- function(theta) deepmnar:::cpp_bound(spec, held_ed, theta, max(s$K, 20L), s$seed, FALSE, 1L)$bound
  state <- es_start(fit, ed, starts)
  best <- list(bound = score(state$theta), theta = state$theta, iteration = state$iteration)
  checks <- data.frame(iteration = state$iteration, held_out_bound = best$bound)
  trace <- numeric(0)
  since_best <- 0L
  reason <- "iteration cap"
  while (state$iteration < s$iterations) {
    todo <- min(s$iterations, state$iteration + rule$every) - state$iteration
    out <- deepmnar:::cpp_train(spec, train_ed, state, todo, s$K, batch_size, s$lr, s$seed, 1L, NULL)
    state <- out[c("theta", "adam_m", "adam_v", "iteration")]
    trace <- c(trace, out$trace)
    bound <- score(state$theta)
    checks <- rbind(checks, data.frame(iteration = state$iteration, held_out_bound = bound))
    if (is.finite(bound) && bound > best$bound) {
      best <- list(bound = bound, theta = state$theta, iteration = state$iteration)
      since_best <- 0L
    } else {
      since_best <- since_best + 1L
    }
    if (since_best >= rule$patience && state$iteration - best$iteration >= rule$patience_ratio * best$iteration) {
      reason <- "held-out bound stopped improving"
      break
    }
  }
  if (reason == "iteration cap" && since_best >= rule$patience) reason <- "held-out bound stopped improving"
  list(theta = best$theta, trace = trace, checks = checks, best_iteration = as.integer(best$iteration),
       stopped_at = as.integer(state$iteration), reason = reason)
}

expect_same_run <- function(fit, rule, starts = 1) {
  ref <- reference_early_stopping(fit, rule, starts)
  st <- fit$stopping
  expect_identical(fit$theta, ref$theta)
  expect_identical(utils::tail(fit$trace, length(ref$trace)), ref$trace)
  expect_identical(st$checks, ref$checks)
  expect_identical(st$best_iteration, ref$best_iteration)
  expect_identical(st$stopped_at, ref$stopped_at)
  expect_identical(fit$settings$iterations_done, ref$stopped_at)
  expect_identical(st$reason, ref$reason)
  expect_identical(st$converged, ref$reason == "held-out bound stopped improving")
}

es_rule <- early_stopping(holdout = 0.2, every = 20, patience = 3)
es_fit <- function(model, data, ..., rule = es_rule, iterations = 1500, seed = 4) {
  fit <- suppressWarnings(model(data, ..., hidden = c(8, 8), iterations = iterations, lr = 0.01, stop_early = rule,
                                seed = seed, threads = 1, progress = FALSE))
  fit$call_seed <- seed
  fit
}

test_that("the engine's early stopping retraces R's loop for every model", {
  x <- es_data()
  for (mm in c("selfmask_known", "mar", "none")) {
    expect_same_run(es_fit(notmiwae, x, missing_model = mm, K = 5), es_rule)
  }
  expect_same_run(es_fit(gnr, x, K = 5, starts = 1), es_rule)
  expect_same_run(es_fit(not2miwae, x, K = 4, K2 = 2, starts = 1), es_rule)
  expect_same_run(es_fit(psmvae, x, K = 2, starts = 1), es_rule)
})

test_that("the engine's early stopping retraces R's loop after short starts, at the cap and with a patience ratio", {
  x <- es_data()
  # a learned mask model starts from the best of two short starts (250
  # iterations, another seed) and stops early from there
  expect_same_run(es_fit(notmiwae, x, missing_model = "selfmask_quadratic", K = 5, starts = 2), es_rule, starts = 2)
  capped <- es_fit(notmiwae, x, missing_model = "selfmask_known", K = 5, iterations = 70,
                   rule = early_stopping(holdout = 0.2, every = 20, patience = 5))
  expect_identical(capped$stopping$reason, "iteration cap")
  expect_identical(capped$stopping$checks$iteration, c(0, 20, 40, 60, 70))
  expect_same_run(capped, early_stopping(holdout = 0.2, every = 20, patience = 5))
  ratio <- early_stopping(holdout = 0.2, every = 20, patience = 2, patience_ratio = 1)
  expect_same_run(es_fit(notmiwae, x, missing_model = "selfmask_known", K = 5, rule = ratio), ratio)
})

test_that("the engine's early stopping retraces R's loop on factors, ratings and sparse data", {
  x <- es_data()
  x$f <- factor(ifelse(x$d > 0.5, "hi", ifelse(x$d < -0.5, "lo", "mid")))
  x$f[c(3, 9, 40)] <- NA
  expect_same_run(es_fit(notmiwae, x, missing_model = "selfmask_known", K = 5), es_rule)
  ratings <- pmin(pmax(round(2 * as.matrix(es_data()[, 1:3]) + 3), 1), 5)
  expect_same_run(es_fit(notmiwae, ratings, missing_model = "selfmask_shared", obs = "rating", K = 5, starts = 1),
                  es_rule)
  skip_if_not_installed("Matrix")
  sparse <- Matrix::Matrix(ifelse(is.na(ratings), 0, ratings), sparse = TRUE)
  expect_same_run(es_fit(notmiwae, sparse, missing_model = "selfmask_shared", obs = "rating", K = 5, starts = 1),
                  es_rule)
})

test_that("a default fit trains in one engine call with one progress bar", {
  x <- es_data()
  calls <- list(train = 0L, bound = 0L, stopping = 0L)
  count <- function(what) function(...) calls[[what]] <<- calls[[what]] + 1L
  ns <- asNamespace("deepmnar")
  suppressMessages({
    trace("cpp_train", tracer = count("train"), where = ns, print = FALSE)
    trace("cpp_bound", tracer = count("bound"), where = ns, print = FALSE)
    trace("cpp_train_early_stopping", tracer = count("stopping"), where = ns, print = FALSE)
  })
  on.exit(suppressMessages(for (f in c("cpp_train", "cpp_bound", "cpp_train_early_stopping")) untrace(f, where = ns)))
  fit <- es_fit(notmiwae, x, missing_model = "selfmask_known", K = 5)
  expect_identical(calls, list(train = 0L, bound = 0L, stopping = 1L))
  expect_gt(nrow(fit$stopping$checks), 3)
})

test_that("the engine refuses a rule it cannot run", {
  fit <- es_fit(notmiwae, es_data(), missing_model = "selfmask_known", K = 5, iterations = 20)
  ed <- deepmnar:::engine_data(fit$data, fit$scaling)
  state <- deepmnar:::fresh_state(fit$theta)
  run <- function(every = 10, patience = 2L, patience_ratio = 0, check_K = 20L) {
    deepmnar:::cpp_train_early_stopping(fit$spec, ed, ed, state, 20, 5L, 8L, 1e-3, 1, 1L, every, patience,
                                        patience_ratio, check_K)
  }
  expect_identical(run()$check_iteration, c(0, 10, 20))
  for (bad in list(list(every = 0), list(patience = 0L), list(patience_ratio = -1), list(patience_ratio = NaN),
                   list(check_K = 0L))) {
    expect_error(do.call(run, bad), "deepmnar boundary: rule")
  }
})

test_that("Ctrl-C stops the engine's early stopping after a last check", {
  skip_on_os("windows")
  fit <- es_fit(notmiwae, es_data(), missing_model = "selfmask_known", K = 5, iterations = 20)
  ed <- deepmnar:::engine_data(fit$data, fit$scaling)
  calls <- 0
  shown <- NULL
  # as Ctrl-C would, from the progress callback (see test-api.R)
  interrupt_me <- function(done, bound, held, best) {
    calls <<- calls + 1
    shown <<- c(held, best)
    if (calls == 2) tools::pskill(Sys.getpid(), tools::SIGINT)
  }
  out <- deepmnar:::cpp_train_early_stopping(fit$spec, ed, ed, deepmnar:::fresh_state(fit$theta), 1e7, 5L, 8L, 1e-3,
                                             1, 1L, 1e6, 10L, 0, 20L, interrupt_me)
  expect_true(out$interrupted)
  expect_identical(out$reason, "interrupted")
  expect_identical(calls, 2)
  # the start's check is what the bar showed; the stretch cut short is checked too
  expect_identical(shown, rep(out$check_bound[1], 2))
  expect_identical(out$check_iteration, c(0, out$iteration))
  expect_gt(out$iteration, 0)
  expect_length(out$trace, out$iteration)
})

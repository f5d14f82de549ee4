# Conditional means under not-MIWAE's self-masking models integrate each
# missing cell over p(x | z) (Gauss-Hermite) instead of drawing it. Same
# target as the draws, so at large L both estimates agree; the integral
# removes the draws' noise, so the weights carry more effective samples and
# the adaptive stop comes earlier. options(deepmnar.marginal_mask = FALSE)
# draws, for comparison.

mnar_table <- function(n = 200, seed = 1) {
  set.seed(seed)
  z <- rnorm(n)
  x <- data.frame(a = z + rnorm(n, sd = 0.5), b = z + rnorm(n, sd = 0.5), c = -z + rnorm(n, sd = 0.5))
  for (j in c("a", "b")) x[[j]][x[[j]] > mean(x[[j]])] <- NA
  x
}
quick_fit <- function(data, ...) {
  args <- utils::modifyList(list(missing_model = "selfmask_known", hidden = c(16, 16), iterations = 1500, K = 5, seed = 1, threads = 1, starts = 1,
                                 stop_early = FALSE, progress = FALSE), list(...))
  suppressWarnings(do.call(notmiwae, c(list(data), args)))
}
imputed_with <- function(marginal, fit, ...) {
  old <- options(deepmnar.marginal_mask = marginal)
  on.exit(options(old))
  suppressWarnings(impute(fit, seed = 3, threads = 1, progress = FALSE, diagnostics = TRUE, ...))
}
x <- mnar_table()
missing <- is.na(x)
fit <- quick_fit(x)

# Integrated (or summed) and drawn imputations of the same fit at L = 20,000:
# the absolute differences of the missing cells of `columns` in sd units, the
# integrated imputation, and the mean ESS of each.
agreement <- function(fit, data, columns) {
  on <- imputed_with(TRUE, fit, L = 20000, tolerance = 0)
  off <- imputed_with(FALSE, fit, L = 20000, tolerance = 0)
  diff <- abs(as.matrix(on[, columns]) - as.matrix(off[, columns]))
  diff <- sweep(diff, 2, fit$scaling$scale[columns], "/")[is.na(data[, columns, drop = FALSE])]
  list(diff = diff, on = on, ess_on = mean(attr(on, "ess"), na.rm = TRUE),
       ess_off = mean(attr(off, "ess"), na.rm = TRUE))
}

test_that("integrated and drawn missing cells estimate the same conditional mean", {
  a <- agreement(fit, x, c("a", "b"))
  # the reweighting of a cell by P(missing | x) moves it by about
  # slope * sd^2 * E[sigmoid'] / Z ~ 0.2 sd here: an error in Z or in the
  # tilted mean would show far beyond these bounds
  expect_lt(mean(a$diff), 0.01)
  expect_lt(max(a$diff), 0.06)
  # more effective samples from the same L
  expect_gt(a$ess_on, a$ess_off)
  # observed cells untouched
  expect_identical(a$on[!missing], x[!missing])
})

test_that("with the adaptive tolerance the integral stops earlier at the same accuracy", {
  on <- imputed_with(TRUE, fit)
  off <- imputed_with(FALSE, fit)
  expect_lt(mean(attr(on, "samples"), na.rm = TRUE), mean(attr(off, "samples"), na.rm = TRUE))
  exact <- imputed_with(TRUE, fit, L = 20000, tolerance = 0)
  scale <- fit$scaling$scale[c("a", "b")]
  error <- function(imp) {
    d <- sweep(abs(as.matrix(imp[, c("a", "b")]) - as.matrix(exact[, c("a", "b")])), 2, scale, "/")
    sqrt(mean(d[missing[, c("a", "b")]]^2))
  }
  # the tolerance is one Monte Carlo standard error of 0.05 sd per cell
  expect_lt(error(on), 0.05)
  expect_lt(error(off), 0.05)
})

test_that("the integrated imputation does not depend on the thread count", {
  one <- imputed_with(TRUE, fit, L = 2000)
  old <- options(deepmnar.marginal_mask = TRUE)
  on.exit(options(old))
  two <- suppressWarnings(impute(fit, L = 2000, seed = 3, threads = 2, progress = FALSE, diagnostics = TRUE))
  expect_identical(one, two)
})

test_that("what cannot be integrated keeps its draws: medians, SIR draws, other mask models, Student-t", {
  same <- function(fit, ...) {
    expect_identical(imputed_with(TRUE, fit, L = 500, ...), imputed_with(FALSE, fit, L = 500, ...))
  }
  same(fit, type = "median")
  same(quick_fit(x, missing_model = "linear"))
  same(quick_fit(x, obs = "t"))
  same(quick_fit(x, missing_model = "none"))
  draws <- function(marginal) {
    old <- options(deepmnar.marginal_mask = marginal)
    on.exit(options(old))
    suppressWarnings(multiple_impute(fit, m = 3, method = "sir", L = 500, seed = 2, progress = FALSE))
  }
  skip_if_not_installed("mice")
  expect_identical(mice::complete(draws(TRUE), "long"), mice::complete(draws(FALSE), "long"))
})

test_that("the quadrature of a curved mask logit agrees with adaptive integration", {
  # logit of P(observed) = rest + b x - c x^2; x ~ N(mu, sd^2)
  exact <- function(mu, sd, rest, b, c) {
    miss <- function(x) stats::plogis(-(rest + b * x - c * x^2))
    dens <- function(x) stats::dnorm(x, mu, sd) * miss(x)
    lo <- mu - 12 * sd
    hi <- mu + 12 * sd
    z <- stats::integrate(dens, lo, hi, rel.tol = 1e-10)$value
    m <- stats::integrate(function(x) x * dens(x), lo, hi, rel.tol = 1e-10)$value / z
    c(log(z), m)
  }
  grid <- expand.grid(mu = c(-1.5, 0, 0.7), sd = c(0.3, 0.8), rest = c(-2, 0, 3), b = c(-2, 0, 1.5), c = c(0, 0.2, 0.6))
  valid <- 0
  for (i in seq_len(nrow(grid))) {
    g <- grid[i, ]
    got <- deepmnar:::cpp_marginal_missing_cell(g$mu, g$sd, g$rest, g$b, g$c)
    steepest <- abs((g$b - 2 * g$c * g$mu) * g$sd) + 6 * g$c * g$sd^2
    expect_equal(got[1] == 1, steepest <= 3)
    if (got[1] != 1) next
    valid <- valid + 1
    want <- exact(g$mu, g$sd, g$rest, g$b, g$c)
    expect_lt(abs(got[2] - want[1]), 2e-3)
    expect_lt(abs(got[3] - want[2]) / g$sd, 1e-2)
  }
  # the grid holds both kinds of cells
  expect_gt(valid, nrow(grid) / 2)
  expect_lt(valid, nrow(grid))
})

test_that("the quadratic self-mask, MAR and self-mask-plus-MAR models integrate their Gaussian cells to the drawn answer", {
  y <- x
  y$d <- y$c + rnorm(nrow(y), sd = 0.3)
  for (model in c("selfmask_quadratic", "mar", "selfmask_mar")) {
    f <- quick_fit(y, missing_model = model)
    a <- agreement(f, y, c("a", "b"))
    expect_lt(mean(a$diff), 0.01)
    expect_lt(max(a$diff), 0.06)
    # a MAR mask term does not read the missing cell: integrating it changes
    # the values' noise, not the weights
    if (model == "mar") expect_equal(a$ess_on, a$ess_off) else expect_gt(a$ess_on, a$ess_off)
  }
})

test_that("factor and binary cells are summed over their levels to the drawn answer", {
  set.seed(4)
  n <- 300
  z <- rnorm(n)
  d <- data.frame(a = z + rnorm(n, sd = 0.5), b = -z + rnorm(n, sd = 0.5),
                  f = factor(cut(z + rnorm(n, sd = 0.4), c(-Inf, -0.5, 0.5, Inf), labels = c("lo", "mid", "hi"))),
                  g = z + rnorm(n, sd = 0.6) > 0)
  # high values (and the high level, TRUE) missing more often
  d$a[d$a > 0.3 & runif(n) < 0.7] <- NA
  d$f[d$f == "hi" & runif(n) < 0.6] <- NA
  d$g[d$g & runif(n) < 0.5] <- NA
  f <- quick_fit(d, missing_model = "selfmask", iterations = 1000)
  prob_on <- imputed_with(TRUE, f, L = 20000, tolerance = 0, type = "prob")
  prob_off <- imputed_with(FALSE, f, L = 20000, tolerance = 0, type = "prob")
  levels_on <- attr(prob_on, "probabilities")$f
  levels_off <- attr(prob_off, "probabilities")$f
  # level probabilities are averages of 0/1 draws in one and of exact sums in
  # the other: at L = 20,000 they agree to the draws' Monte Carlo error
  expect_lt(max(abs(levels_on - levels_off)), 0.05)
  expect_lt(mean(abs(levels_on - levels_off)), 0.01)
  expect_lt(max(abs(prob_on$g[is.na(d$g)] - prob_off$g[is.na(d$g)])), 0.05)
  expect_gt(mean(attr(prob_on, "ess"), na.rm = TRUE), mean(attr(prob_off, "ess"), na.rm = TRUE))
  expect_equal(unname(rowSums(levels_on)), rep(1, nrow(levels_on)), tolerance = 1e-12)
})

# PSMVAE's variant a has a self-masking logit per pattern set that reads only
# the cell's own value, so its conditional means integrate the missing cells
# too (before, every missing cell was drawn and the option changed nothing).
test_that("PSMVAE variant a integrates its missing cells to the drawn answer, from fewer samples", {
  f <- suppressWarnings(psmvae(x, hidden = c(16, 16), latent_dim = 2, iterations = 600, starts = 1, seed = 1,
                               threads = 1, stop_early = FALSE, progress = FALSE))
  a <- agreement(f, x, c("a", "b"))
  expect_lt(mean(a$diff), 0.01)
  expect_lt(max(a$diff), 0.06)
  expect_gt(a$ess_on, a$ess_off)
  expect_identical(a$on[!missing], x[!missing])
  # with the adaptive tolerance, the integral stops earlier
  on <- imputed_with(TRUE, f)
  off <- imputed_with(FALSE, f)
  expect_lt(mean(attr(on, "samples"), na.rm = TRUE), mean(attr(off, "samples"), na.rm = TRUE))
  # variant b's mask reads z alone: nothing to integrate
  fb <- suppressWarnings(psmvae(x, variant = "b", hidden = c(16, 16), latent_dim = 2, iterations = 300, starts = 1,
                                seed = 1, threads = 1, stop_early = FALSE, progress = FALSE))
  expect_identical(imputed_with(TRUE, fb, L = 500), imputed_with(FALSE, fb, L = 500))
})

# Binary columns (logical, two-level factors) are modelled as Bernoulli and
# imputed back to their own type; other non-numeric columns are refused.

binary_frame <- function(n = 400, seed = 2) {
  set.seed(seed)
  z <- rnorm(n)
  d <- data.frame(y = z + rnorm(n, sd = 0.5), smoker = runif(n) < plogis(2 * z),
                  arm = factor(ifelse(runif(n) < plogis(-z), "treated", "control"), levels = c("control", "treated")),
                  grade = factor(ifelse(z > 0, "high", "low"), levels = c("low", "high"), ordered = TRUE),
                  count = as.integer(rpois(n, exp(0.5 + 0.3 * z))))
  truth <- d
  # smokers go missing far more often than non-smokers: MNAR
  d$smoker[runif(n) < ifelse(d$smoker, 0.6, 0.05)] <- NA
  d$arm[runif(n) < 0.15] <- NA
  d$grade[runif(n) < 0.1] <- NA
  d$count[runif(n) < 0.1] <- NA
  list(data = d, truth = truth)
}

quick <- function(d, ...) {
  notmiwae(d, ..., hidden = c(16, 16), K = 5, iterations = 1500, stop_early = FALSE, seed = 1, threads = 1,
           progress = FALSE)
}

test_that("logical and two-level factor columns are imputed back to their own types and levels", {
  b <- binary_frame()
  fit <- quick(b$data)
  expect_identical(fit$observation$family, c("gaussian", "bernoulli", "bernoulli", "bernoulli", "gaussian"))
  expect_output(print(fit), "binary \\(Bernoulli\\): smoker, arm, grade")
  imp <- impute(fit, L = 200, seed = 1, progress = FALSE)
  expect_type(imp$smoker, "logical")
  expect_identical(levels(imp$arm), c("control", "treated"))
  expect_true(is.ordered(imp$grade))
  expect_identical(levels(imp$grade), c("low", "high"))
  expect_type(imp$count, "integer")
  for (name in c("smoker", "arm", "grade")) {
    seen <- !is.na(b$data[[name]])
    expect_identical(imp[[name]][seen], b$data[[name]][seen])
    expect_false(anyNA(imp[[name]]))
  }
  # the grade follows y closely: its imputations should mostly be right
  miss <- is.na(b$data$grade)
  expect_gt(mean(imp$grade[miss] == b$truth$grade[miss]), 0.7)
  prob <- impute(fit, L = 200, seed = 1, type = "prob", progress = FALSE)
  expect_type(prob$smoker, "double")
  expect_true(all(prob$smoker >= 0 & prob$smoker <= 1))
  expect_identical(prob$smoker[!is.na(b$data$smoker)], as.numeric(b$data$smoker[!is.na(b$data$smoker)]))
  expect_identical(imp$smoker[is.na(b$data$smoker)], prob$smoker[is.na(b$data$smoker)] >= 0.5)
})

test_that("a binary column missing not at random is imputed towards the level that goes missing", {
  b <- binary_frame(n = 600, seed = 5)
  mnar <- quick(b$data, missing_model = "selfmask_known", direction = c(smoker = "high"))
  mar <- quick(b$data, missing_model = "none")
  miss <- is.na(b$data$smoker)
  share <- function(fit) mean(impute(fit, L = 300, seed = 1, type = "prob", progress = FALSE)$smoker[miss])
  # most of the missing smokers are TRUE; the MAR model cannot know that
  expect_gt(mean(b$truth$smoker[miss]), 0.8)
  expect_gt(share(mnar), share(mar) + 0.05)
})

test_that("multiple imputations draw levels, and glm on the mids pools", {
  skip_if_not_installed("mice")
  b <- binary_frame()
  fit <- quick(b$data)
  mi <- multiple_impute(fit, m = 3, method = "sir", L = 100, seed = 1, progress = FALSE)
  completed <- mice::complete(mi, "all")
  expect_true(all(vapply(completed, function(x) is.logical(x$smoker) && !anyNA(x$smoker), logical(1))))
  drawn <- unlist(lapply(completed, function(x) x$smoker[is.na(b$data$smoker)]))
  expect_true(any(drawn) && !all(drawn))
  pooled <- summary(mice::pool(with(mi, glm(smoker ~ y + arm, family = binomial))))
  expect_identical(as.character(pooled$term), c("(Intercept)", "y", "armtreated"))
  expect_true(all(is.finite(pooled$std.error)))
  boot <- multiple_impute(fit, m = 2, L = 50, refit_iterations = 20, format = "list", seed = 1, progress = FALSE)
  expect_true(all(vapply(boot, function(x) is.factor(x$arm) && !anyNA(x$arm), logical(1))))
})

test_that("newdata is coded with the fit's levels, and unseen levels or unsupported columns are refused by name", {
  b <- binary_frame()
  fit <- quick(b$data)
  nd <- b$data[1:6, ]
  expect_identical(levels(impute(fit, newdata = nd, L = 20, seed = 1, progress = FALSE)$arm), c("control", "treated"))
  nd$arm <- factor(c("control", "placebo", NA, "treated", "control", "control"))
  err <- expect_error(impute(fit, newdata = nd, L = 20, seed = 1, progress = FALSE), class = "deepmnar_error_input")
  expect_match(conditionMessage(err), "`arm`.*`placebo`")
  three <- b$data
  three$arm <- factor(c("a", "b", "c"))[rep(1:3, length.out = nrow(three))]
  expect_error(quick(three), class = "deepmnar_error_input", regexp = "`arm`.*3 levels")
  chr <- b$data
  chr$arm <- as.character(chr$arm)
  expect_error(quick(chr), class = "deepmnar_error_input", regexp = "`arm`.*factor")
  expect_error(psmvae(b$data, iterations = 5, progress = FALSE), class = "deepmnar_error_input", regexp = "binary")
})

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

quick <- function(d, ..., missing_model = "selfmask_known", iterations = 1500) {
  notmiwae(d, ..., missing_model = missing_model, hidden = c(16, 16), K = 5, iterations = iterations, stop_early = FALSE, seed = 1, threads = 1,
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
  chr <- b$data
  chr$arm <- as.character(chr$arm)
  expect_error(quick(chr), class = "deepmnar_error_input", regexp = "`arm`.*factor")
  expect_error(psmvae(chr, iterations = 5, progress = FALSE), class = "deepmnar_error_input", regexp = "`arm`.*factor")
})

# A three-level factor whose top level goes missing far more often (MNAR), an
# ordered factor, and a numeric column that drives both.
categorical_frame <- function(n = 500, seed = 3) {
  set.seed(seed)
  z <- rnorm(n)
  d <- data.frame(a = z + rnorm(n, sd = 0.3), b = 2 * z + rnorm(n, sd = 0.5),
                  grp = cut(z + rnorm(n, sd = 0.4), c(-Inf, -0.5, 0.5, Inf), labels = c("low", "mid", "high")),
                  stage = factor(sample(c("I", "II", "III"), n, replace = TRUE), levels = c("I", "II", "III"),
                                 ordered = TRUE))
  truth <- d
  d$grp[runif(n) < ifelse(d$grp == "high", 0.7, 0.08)] <- NA
  d$stage[runif(n) < 0.1] <- NA
  d$a[runif(n) < 0.1] <- NA
  list(data = d, truth = truth)
}

test_that("factor columns come back as factors with their levels; the probabilities of the imputed levels are given", {
  cf <- categorical_frame()
  fit <- quick(cf$data)
  expect_identical(fit$observation$family[fit$observation$column == "grp=mid"], "categorical")
  expect_identical(fit$spec$category_group, c(0L, 0L, 1L, 1L, 1L, 2L, 2L, 2L))
  expect_output(print(fit), "categorical \\(softmax.*grp \\(3 levels\\)")
  expect_output(print(fit), "ordinal \\(cumulative logit.*stage \\(3 levels\\)")
  expect_identical(fit$spec$category_ordinal, c(0L, 0L, 0L, 0L, 0L, 1L, 1L, 1L))
  expect_identical(fit$observation$family[6:8], rep("ordinal", 3))
  expect_output(print(fit), "500 rows x 4 columns")
  expect_identical(restore_data(fit$data, fit$data_format), cf$data)
  imp <- impute(fit, L = 200, seed = 1, progress = FALSE)
  expect_identical(levels(imp$grp), c("low", "mid", "high"))
  expect_true(is.ordered(imp$stage))
  expect_false(anyNA(imp))
  seen <- !is.na(cf$data$grp)
  expect_identical(imp$grp[seen], cf$data$grp[seen])
  prob_run <- impute(fit, L = 200, seed = 1, type = "prob", progress = FALSE)
  prob <- attr(prob_run, "probabilities")$grp
  expect_identical(dim(prob), c(sum(!seen), 3L))
  expect_equal(unname(rowSums(prob)), rep(1, sum(!seen)), tolerance = 1e-10)
  # the imputed level is the most probable one
  expect_identical(as.character(imp$grp[!seen]), colnames(prob)[max.col(prob, ties.method = "first")])
  # the cumulative logit's level probabilities are a distribution too
  stage_prob <- attr(prob_run, "probabilities")$stage
  expect_equal(unname(rowSums(stage_prob)), rep(1, nrow(stage_prob)), tolerance = 1e-10)
  expect_true(all(stage_prob > 0))
  mask <- predict_mask(fit, L = 50, seed = 1, progress = FALSE)
  expect_identical(colnames(mask), names(cf$data))
})

test_that("a category that goes missing more often is recovered by not-MIWAE and missed by MIWAE", {
  cf <- categorical_frame()
  miss <- is.na(cf$data$grp)
  pfc <- function(fit) mean(impute(fit, L = 300, seed = 1, progress = FALSE)$grp[miss] != cf$truth$grp[miss])
  mnar <- pfc(quick(cf$data, iterations = 6000))
  mar <- pfc(quick(cf$data, iterations = 6000, missing_model = "none"))
  # MIWAE imputes the observed shares, where "high" is rare; the self-masking
  # model learns that "high" hides
  expect_lt(mnar, mar - 0.1)
})

test_that("factors work in GNR and not-2-MIWAE, multiple imputations draw levels, and mice pools a logistic model", {
  skip_if_not_installed("mice")
  cf <- categorical_frame(n = 300)
  cf$data$smoker <- cf$truth$a + rnorm(300) > 0
  cf$data$smoker[c(3, 9, 27)] <- NA
  for (fitter in list(gnr, not2miwae)) {
    fit <- fitter(cf$data, hidden = c(8, 8), K = 5, iterations = 300, stop_early = FALSE, starts = 1, seed = 1,
                  threads = 1, progress = FALSE)
    imp <- suppressWarnings(impute(fit, L = 50, seed = 1, progress = FALSE))  # a 300-step fit: low ESS
    expect_false(anyNA(imp))
    expect_identical(levels(imp$grp), c("low", "mid", "high"))
  }
  fit <- quick(cf$data, iterations = 500)
  draws <- multiple_impute(fit, m = 20, method = "sir", L = 100, seed = 2, format = "list", progress = FALSE)
  miss <- which(is.na(cf$data$grp))
  drawn <- vapply(draws, function(d) as.character(d$grp[miss]), character(length(miss)))
  # draws, not the mode: rows get different levels across imputations
  expect_gt(mean(apply(drawn, 1, function(r) length(unique(r)) > 1)), 0.2)
  imp <- multiple_impute(fit, m = 3, method = "sir", L = 100, seed = 2, progress = FALSE)
  pooled <- summary(mice::pool(with(imp, glm(smoker ~ a + grp, family = binomial))))
  expect_true(all(c("grpmid", "grphigh") %in% as.character(pooled$term)))
  expect_true(all(is.finite(pooled$std.error)))
})

test_that("factors and logicals work in psmvae(): levels imputed from the numeric columns, types kept", {
  cf <- categorical_frame(n = 400)
  cf$data$smoker <- cf$truth$a + rnorm(400, sd = 0.5) > 0
  cf$data$smoker[c(3, 9, 27, 40, 41)] <- NA
  for (variant in c("b", "a")) {
    fit <- psmvae(cf$data, variant = variant, hidden = c(16, 16), iterations = 1500, stop_early = FALSE, starts = 1,
                  seed = 1, threads = 1, progress = FALSE)
    # a logical is a two-level categorical in PSMVAE, which has no point masses
    expect_identical(fit$observation$family[fit$observation$column %in% c("smoker=FALSE", "smoker=TRUE")],
                     rep("categorical", 2))
    imp <- suppressWarnings(impute(fit, L = 200, seed = 1, type = "prob", progress = FALSE))
    expect_false(anyNA(imp))
    expect_identical(levels(imp$grp), c("low", "mid", "high"))
    expect_true(is.ordered(imp$stage))
    expect_true(is.logical(imp$smoker))
    prob <- attr(imp, "probabilities")$grp
    expect_equal(unname(rowSums(prob)), rep(1, nrow(prob)), tolerance = 1e-10)
    # grp follows z, which a and b measure: the imputed levels beat the
    # observed shares' mode by far
    miss <- is.na(cf$data$grp)
    mode_level <- names(which.max(table(cf$data$grp)))
    expect_lt(mean(imp$grp[miss] != cf$truth$grp[miss]), mean(cf$truth$grp[miss] != mode_level) - 0.35)
  }
  fits <- lapply(1:2, function(t) psmvae(cf$data, variant = "a", hidden = c(8, 8), iterations = 100,
                                         stop_early = FALSE, starts = 1, seed = 4, threads = t, progress = FALSE))
  expect_identical(fits[[1]]$theta, fits[[2]]$theta)
})

test_that("newdata with an unseen level of a factor is refused by column and level", {
  cf <- categorical_frame(n = 200)
  fit <- quick(cf$data, iterations = 100)
  nd <- cf$data[1:5, ]
  expect_identical(levels(suppressWarnings(impute(fit, newdata = nd, L = 20, seed = 1, progress = FALSE))$grp),
                   c("low", "mid", "high"))
  nd$grp <- factor(c("low", "top", NA, "mid", "high"))
  err <- expect_error(impute(fit, newdata = nd, L = 20, seed = 1, progress = FALSE), class = "deepmnar_error_input")
  expect_match(conditionMessage(err), "`grp`.*`top`")
  expect_identical(err$levels, "top")
})

test_that("one seed gives the same fit and imputations with factor columns whatever the thread count", {
  cf <- categorical_frame(n = 200)
  fits <- lapply(1:2, function(t) notmiwae(cf$data, missing_model = "selfmask_known", hidden = c(8, 8), K = 5, iterations = 200, stop_early = FALSE,
                                           seed = 4, threads = t, progress = FALSE))
  expect_identical(fits[[1]]$theta, fits[[2]]$theta)
  imps <- lapply(1:2, function(t) suppressWarnings(impute(fits[[1]], L = 100, seed = 1, threads = t, type = "prob",
                                                          progress = FALSE)))
  expect_identical(attr(imps[[1]], "probabilities"), attr(imps[[2]], "probabilities"))
})

test_that("an ordered factor driven by a numeric column is imputed along it by the cumulative logit", {
  set.seed(8)
  n <- 600
  z <- rnorm(n)
  d <- data.frame(a = z + rnorm(n, sd = 0.3),
                  grade = cut(z + rnorm(n, sd = 0.3), c(-Inf, -1, 0, 1, Inf), labels = c("D", "C", "B", "A"),
                              ordered_result = TRUE))
  truth <- d$grade
  d$grade[runif(n) < 0.3] <- NA
  fit <- notmiwae(d, missing_model = "none", hidden = c(16, 16), K = 5, iterations = 3000, stop_early = FALSE,
                  seed = 1, threads = 1, progress = FALSE)
  imp <- suppressWarnings(impute(fit, L = 200, seed = 1, progress = FALSE))
  miss <- is.na(d$grade)
  expect_true(is.ordered(imp$grade))
  # the imputed grade follows a: a rank correlation far from 0, and most
  # imputations within one grade of the truth
  expect_gt(cor(as.integer(imp$grade[miss]), d$a[miss], method = "spearman"), 0.7)
  expect_gt(mean(abs(as.integer(imp$grade[miss]) - as.integer(truth[miss])) <= 1), 0.9)
})

test_that("a numeric column with two values is binary: its imputations stay between them, its draws are one of them", {
  set.seed(1)
  n <- 300
  d <- data.frame(a = stats::rnorm(n), b = stats::rnorm(n))
  d$flag <- ifelse(d$a + stats::rnorm(n) > 0.5, 7, 2)
  d$a[sample(n, 60)] <- NA
  d$flag[sample(n, 60)] <- NA
  fit <- quick(d, missing_model = "linear", iterations = 600)
  expect_identical(fit$observation$family[fit$observation$column == "flag"], "bernoulli")
  imputed <- impute(fit, L = 200, seed = 1, progress = FALSE)$flag[is.na(d$flag)]
  expect_true(all(imputed >= 2 & imputed <= 7))
  expect_gt(stats::sd(imputed), 0)
  drawn <- multiple_impute(fit, m = 2, method = "sir", L = 100, seed = 1, format = "list", progress = FALSE)
  expect_true(all(drawn[[1]]$flag[is.na(d$flag)] %in% c(2, 7)))
})

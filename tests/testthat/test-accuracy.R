# Accuracy against known truth: the paper's Figure 1 example and a real dataset.

test_that("selfmask_known removes MIWAE's bias on the paper's Figure 1 example", {
  set.seed(10)
  n <- 1000
  sigma <- matrix(c(1, 0.8, 0.8, 1), 2)
  full <- matrix(rnorm(2 * n), n) %*% chol(sigma)
  colnames(full) <- c("x1", "x2")
  x <- full
  gone <- full[, 1] > mean(full[, 1])
  x[gone, 1] <- NA
  fit_args <- list(data = x, decoder = "linear", latent_dim = 1, hidden = c(16), iterations = 10000, K = 20,
                   seed = 3, threads = 2, progress = FALSE)
  miwae <- do.call(notmiwae, c(fit_args, missing_model = "none"))
  not_miwae <- do.call(notmiwae, c(fit_args, missing_model = "selfmask_known"))
  truth <- full[gone, 1]
  bias <- function(fit) mean(impute(fit, L = 1000, seed = 1, threads = 2, progress = FALSE)$x1[gone] - truth)
  bias_miwae <- bias(miwae)
  bias_not <- bias(not_miwae)
  # MIWAE imputes as if the values were missing at random: far too low.
  expect_lt(bias_miwae, -0.4)
  expect_lt(abs(bias_not), 0.35 * abs(bias_miwae))
  expect_lt(abs(bias_not), 0.3)
})

test_that("notmiwae beats mean imputation clearly on banknote with MNAR values", {
  full <- as.matrix(banknote[, 1:4])
  x <- full
  for (j in 1:2) x[full[, j] > mean(full[, j]), j] <- NA
  fit <- notmiwae(x, iterations = 2000, seed = 1, threads = 2, progress = FALSE)
  imp <- as.matrix(impute(fit, L = 500, seed = 1, threads = 2, progress = FALSE))
  miss <- is.na(x)
  sds <- apply(full, 2, sd)
  std_rmse <- function(m) sqrt(mean((sweep(m - full, 2, sds, "/"))[miss]^2))
  mean_imp <- x
  for (j in 1:4) mean_imp[is.na(x[, j]), j] <- mean(x[, j], na.rm = TRUE)
  rmse_model <- std_rmse(imp)
  rmse_mean <- std_rmse(mean_imp)
  expect_lt(rmse_model, 0.8 * rmse_mean)
})

# A real imputation: the bundled banknote data with its first two columns
# missing whenever they are above their mean (MNAR, as in the not-MIWAE
# experiments), imputed by not-MIWAE with its default (the mechanism chosen by
# the data among MCAR, MAR and two self-masking models), mean, mice and
# missForest.
suppressPackageStartupMessages({
  library(deepmnar)
  library(mice)
  library(missForest)
})
full <- banknote[, 1:4]
amputed <- ampute_mnar(full, mechanism = "self_mask_mean", seed = 1)
x <- amputed$data
cat(sprintf("banknote: %d rows; %.1f%% of the cells of %s made missing above the column mean\n\n", nrow(x),
            100 * mean(amputed$mask), paste(names(amputed$columns), collapse = " and ")))

timed <- function(expr) {
  t0 <- proc.time()[["elapsed"]]
  value <- force(expr)
  list(value = value, seconds = proc.time()[["elapsed"]] - t0)
}
set.seed(1)
runs <- list(
  "not-MIWAE (mechanism chosen by the data)" = timed({
    fit <- notmiwae(x, iterations = 5000, seed = 1, progress = FALSE)
    impute(fit, L = 1000, seed = 1, progress = FALSE)
  }),
  "mean" = timed(as.data.frame(lapply(x, function(col) replace(col, is.na(col), mean(col, na.rm = TRUE))))),
  "mice (pmm, mean of 5)" = timed({
    imp <- mice(x, m = 5, printFlag = FALSE, seed = 1)
    Reduce(`+`, lapply(seq_len(5), function(i) complete(imp, i))) / 5
  }),
  "missForest" = timed(missForest(x)$ximp)
)
results <- data.frame(
  method = names(runs),
  rmse = vapply(runs, function(r) imputation_rmse(full, r$value, amputed$mask), numeric(1)),
  seconds = vapply(runs, `[[`, numeric(1), "seconds"),
  row.names = NULL
)
cat("Imputation RMSE on the missing cells (standardised units; lower is better):\n")
print(results, digits = 3, row.names = FALSE)
cat("\nThe mechanisms not-MIWAE compared, on its held-out rows:\n")
print(compare_mechanisms(fit))

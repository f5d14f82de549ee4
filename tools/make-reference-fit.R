# Writes tests/testthat/fixtures/reference-fit.rds: small fits and their
# imputations from the installed deepmnar, on the baseline engine build, for
# test-reference.R to check that refactoring leaves results unchanged. It was
# made with the build of commit e2ae319 (before the registry and the one-call
# training loop); regenerate it only when a change of results is intended.
library(deepmnar)
deepmnar:::cpp_force_baseline(TRUE)
x <- banknote[1:300, 1:4]
x$variance[x$variance > mean(x$variance)] <- NA
x$skewness[x$skewness > mean(x$skewness)] <- NA
old_defaults <- if ("point_mass" %in% names(formals(notmiwae))) {
  list(sigma_floor = 1e-4, point_mass = "none", stop_early = FALSE)
} else list(sigma_floor = 1e-4)
fits <- list(
  selfmask_known = list(model = "notmiwae", args = list(missing_model = "selfmask_known")),
  linear = list(model = "notmiwae", args = list(missing_model = "linear", starts = 1)),
  gnr = list(model = "gnr", args = list(starts = 2))
)
reference <- lapply(fits, function(f) {
  args <- c(list(x), f$args, list(iterations = 200, hidden = c(8, 8), K = 5, seed = 1, threads = 1, progress = FALSE),
            old_defaults)
  fit <- do.call(f$model, args)
  list(model = f$model, args = f$args, theta = fit$theta,
       imputed = impute(fit, L = 100, seed = 1, threads = 1, progress = FALSE))
})
saveRDS(list(data = x, fits = reference), "tests/testthat/fixtures/reference-fit.rds")

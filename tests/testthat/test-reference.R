# Results for a fixed seed do not change with refactoring: small fits made by
# an earlier build (tools/make-reference-fit.R, on the baseline engine build)
# are refitted with the same settings and must match.

test_that("fits and imputations match the reference made by an earlier build", {
  ref <- readRDS(test_path("fixtures", "reference-fit.rds"))
  deepmnar:::cpp_force_baseline(TRUE)
  # the reference imputations drew the missing cells of self-masking models,
  # which conditional means now integrate (test-marginal-mask.R checks the two
  # agree); the draws must still match exactly
  old <- options(deepmnar.marginal_mask = FALSE)
  on.exit({
    deepmnar:::cpp_force_baseline(FALSE)
    options(old)
  })
  for (name in names(ref$fits)) {
    f <- ref$fits[[name]]
    args <- c(list(ref$data), f$args, list(iterations = 200, hidden = c(8, 8), K = 5, seed = 1, threads = 1,
                                         progress = FALSE, sigma_floor = 1e-4, point_mass = "none", stop_early = FALSE))
    fit <- do.call(f$model, args)
    expect_equal(fit$theta, f$theta, tolerance = 1e-8, info = name)
    expect_equal(impute(fit, L = 100, tolerance = 0, seed = 1, threads = 1, progress = FALSE), f$imputed,
                 tolerance = 1e-8,
                 info = name)
  }
})

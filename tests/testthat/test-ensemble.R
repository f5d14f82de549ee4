# An ensemble (`ensemble = E`) holds E fits from the starts' seeds and every
# imputation averages over them; each piece is checked against the member
# fits trained and imputed on their own.

de <- tiny_mnar_data(n = 60, p = 3)
ensemble_fit <- function(threads = 1, model = notmiwae, ...) {
  model(de, hidden = c(6, 6), K = 3, iterations = 60, stop_early = FALSE, ensemble = 2, seed = 11,
        threads = threads, progress = FALSE, ...)
}
member_fit <- function(k, model = notmiwae, ...) {
  model(de, hidden = c(6, 6), K = 3, iterations = 60, stop_early = FALSE, starts = 1,
        seed = deepmnar:::start_seeds(11, 2)[k], threads = 1, progress = FALSE, ...)
}
fe <- ensemble_fit(missing_model = "selfmask")
f1 <- member_fit(1, missing_model = "selfmask")
f2 <- member_fit(2, missing_model = "selfmask")

test_that("an ensemble's members are the fits from the starts' seeds, the first being the seed's own fit", {
  expect_identical(fe$ensemble$theta[[1]], f1$theta)
  expect_identical(fe$ensemble$theta[[2]], f2$theta)
  expect_identical(fe$theta, f1$theta)
  expect_false(identical(f1$theta, f2$theta))
  expect_identical(fe$settings$ensemble, 2L)
  expect_null(fe$starts)  # each member is one start
  expect_output(print(fe), "ensemble of 2 fits")
})

test_that("the ensemble's imputation is the average of its members' imputations", {
  member_seeds <- deepmnar:::start_seeds(5, 2)
  for (type in c("mean", "median")) {
    ie <- impute(fe, L = 50, seed = 5, tolerance = 0, type = type, progress = FALSE)
    i1 <- impute(f1, L = 50, seed = member_seeds[1], tolerance = 0, type = type, progress = FALSE)
    i2 <- impute(f2, L = 50, seed = member_seeds[2], tolerance = 0, type = type, progress = FALSE)
    expect_equal(as.matrix(ie), (as.matrix(i1) + as.matrix(i2)) / 2, tolerance = 1e-12)
    expect_false(isTRUE(all.equal(as.matrix(ie), as.matrix(i1))))
  }
  pe <- predict_mask(fe, L = 30, seed = 5)
  expect_equal(pe, (predict_mask(f1, L = 30, seed = member_seeds[1]) +
                      predict_mask(f2, L = 30, seed = member_seeds[2])) / 2, tolerance = 1e-12)
  cells <- which(is.na(de), arr.ind = TRUE)
  expect_equal(impute_cells(fe, cells, L = 50, seed = 5, tolerance = 0, progress = FALSE),
               (impute_cells(f1, cells, L = 50, seed = member_seeds[1], tolerance = 0, progress = FALSE) +
                  impute_cells(f2, cells, L = 50, seed = member_seeds[2], tolerance = 0, progress = FALSE)) / 2,
               tolerance = 1e-12)
  diag_e <- impute(fe, L = 50, seed = 5, diagnostics = TRUE, progress = FALSE)
  d1 <- impute(f1, L = 50, seed = member_seeds[1], diagnostics = TRUE, progress = FALSE)
  d2 <- impute(f2, L = 50, seed = member_seeds[2], diagnostics = TRUE, progress = FALSE)
  expect_equal(attr(diag_e, "ess"), pmin(attr(d1, "ess"), attr(d2, "ess")))
  expect_equal(attr(diag_e, "samples"), attr(d1, "samples") + attr(d2, "samples"))
})

test_that("multiple imputations take draw d and replicate d from member ((d - 1) mod E) + 1", {
  member_seeds <- deepmnar:::start_seeds(7, 2)
  sir <- multiple_impute(fe, m = 3, method = "sir", L = 40, seed = 7, format = "list", progress = FALSE)
  one <- function(fit, seed, m) multiple_impute(fit, m = m, method = "sir", L = 40, seed = seed, format = "list",
                                                progress = FALSE)
  from1 <- one(f1, member_seeds[1], 2)
  from2 <- one(f2, member_seeds[2], 1)
  expect_equal(sir[[1]], from1[[1]])
  expect_equal(sir[[3]], from1[[2]])
  expect_equal(sir[[2]], from2[[1]])
  reps <- bootstrap_fits(fe, m = 3, refit_iterations = 10, seed = 3)
  seeds <- deepmnar:::replicate_seeds(3, 3)
  expect_identical(reps[[2]]$theta, deepmnar:::refit_on_resample(f2, seeds[2], 10, 1)$theta)
  expect_identical(reps[[3]]$theta, deepmnar:::refit_on_resample(f1, seeds[3], 10, 1)$theta)
  expect_null(reps[[1]]$ensemble)
})

test_that("an ensemble is the same on 1 and 2 threads and after saveRDS", {
  fe2 <- ensemble_fit(threads = 2, missing_model = "selfmask")
  expect_identical(fe2$ensemble$theta, fe$ensemble$theta)
  path <- tempfile(fileext = ".rds")
  saveRDS(fe, path)
  back <- readRDS(path)
  expect_identical(impute(back, L = 500, seed = 2, progress = FALSE), impute(fe, L = 500, seed = 2, progress = FALSE))
})

test_that("the other models take an ensemble too", {
  fp <- ensemble_fit(model = psmvae, batch_size = 16)
  expect_length(fp$ensemble$theta, 2)
  expect_identical(fp$ensemble$theta[[2]], member_fit(2, model = psmvae, batch_size = 16)$theta)
  fg <- ensemble_fit(model = gnr)
  expect_identical(fg$ensemble$theta[[1]], member_fit(1, model = gnr)$theta)
})

test_that("a damaged ensemble is refused before the engine sees it, and `ensemble` is checked", {
  bad <- fe
  bad$ensemble$theta[[2]] <- bad$ensemble$theta[[2]][-1]
  expect_error(impute(bad, L = 5, progress = FALSE), class = "deepmnar_error_damaged_fit",
               regexp = "ensemble\\$theta\\[\\[2\\]\\]` has")
  bad$ensemble$theta[[2]] <- replace(fe$ensemble$theta[[2]], 3, NaN)
  expect_error(multiple_impute(bad, m = 2, method = "sir", L = 5, format = "list", progress = FALSE),
               class = "deepmnar_error_damaged_fit", regexp = "not a finite numeric vector")
  bad$ensemble$theta <- fe$ensemble$theta[1]
  expect_error(predict_mask(bad, L = 5), class = "deepmnar_error_damaged_fit", regexp = "at least two")
  for (value in list(0, 1.5, "two", NA)) {
    expect_error(notmiwae(de, iterations = 5, ensemble = value, progress = FALSE), class = "deepmnar_error",
                 regexp = "`ensemble`")
  }
})

# registry.h states the files an addition touches; this keeps the statement
# about mask models true. It reads the package sources, so it runs from the
# source tree (tools/run-tests.R) and skips where only the installed package
# is (R CMD check).

source_root <- function() {
  root <- normalizePath(file.path(testthat::test_path(), "..", ".."), mustWork = FALSE)
  if (dir.exists(file.path(root, "R")) && dir.exists(file.path(root, "inst", "include", "deepmnar"))) root else NULL
}

# Source files (R/, src/*.cpp, the engine headers) that name `choice`: as an R
# string or as its registry enum (missing_<name>). ampute.R's amputation
# mechanisms share some names and are not mask models.
files_naming <- function(root, choice) {
  files <- c(list.files(file.path(root, "R"), "\\.R$", full.names = TRUE),
             list.files(file.path(root, "src"), "\\.cpp$", full.names = TRUE),
             list.files(file.path(root, "inst", "include", "deepmnar"), "\\.h$", full.names = TRUE, recursive = TRUE))
  files <- files[!basename(files) %in% c("ampute.R", "RcppExports.R", "RcppExports.cpp")]
  pattern <- sprintf('"%s"|missing_%s\\b', choice, choice)
  hit <- vapply(files, function(f) any(grepl(pattern, readLines(f, warn = FALSE), perl = TRUE)), logical(1))
  sub(paste0(root, "/"), "", files[hit], fixed = TRUE)
}

test_that("the newest mask model touches its header, its registry line and its R choice only", {
  root <- source_root()
  skip_if(is.null(root), "the package sources are not here")
  codes <- deepmnar:::codes_of("missing_model")
  newest <- names(codes)[which.max(codes)]
  touched <- files_naming(root, newest)
  expect_setequal(touched, c("inst/include/deepmnar/missing_models.h", "inst/include/deepmnar/registry.h",
                             "R/notmiwae.R"))
  # and the check can fail: a mask model named in more places is caught
  expect_gt(length(files_naming(root, "selfmask_shared")), 3)
})

test_that("R reads each model's capabilities from the registry", {
  can <- deepmnar:::registry()$capabilities
  expect_setequal(names(can), names(deepmnar:::codes_of("model")))
  expect_identical(can$psmvae$score, "elbo")
  expect_identical(can$notmiwae$batch_size, 16L)
  expect_false("t" %in% can$psmvae$observations)
  expect_true(all(unlist(lapply(can, `[[`, "mask_models")) %in% names(deepmnar:::codes_of("missing_model"))))
  # the engine refuses a spec outside its model's capabilities
  x <- banknote[1:60, 1:4]
  x$variance[1:10] <- NA
  fit <- gnr(x, hidden = c(4), iterations = 5, stop_early = FALSE, starts = 1, seed = 1, threads = 1,
             progress = FALSE)
  fit$spec$missing_model <- "selfmask_known"
  fit$spec$missing_code <- deepmnar:::codes_of("missing_model")[["selfmask_known"]]
  expect_error(impute(fit, L = 10, progress = FALSE), class = "deepmnar_error")
  expect_error(psmvae(x, obs = "t"), class = "deepmnar_error_input", regexp = "obs")
})

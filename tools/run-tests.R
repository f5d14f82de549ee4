# Runs the test suite against the installed package, inside its namespace, and
# ends with the line "N passed, N failed, N skipped"; exits 1 on any failure.
suppressPackageStartupMessages(library(testthat))
results <- as.data.frame(testthat::test_dir("tests/testthat", package = "deepmnar", load_package = "installed",
                                            reporter = "summary", stop_on_failure = FALSE))
failed_tests <- sum(results$failed > 0 | results$error)
passed <- sum(results$nb) - sum(results$failed) - sum(results$skipped)
cat(sprintf("\n%d expectations in %d tests\n", sum(results$nb), nrow(results)))
cat(sprintf("%d passed, %d failed, %d skipped\n", nrow(results) - failed_tests - sum(results$skipped > 0),
            failed_tests, sum(results$skipped > 0)))
quit(status = if (failed_tests > 0) 1 else 0)

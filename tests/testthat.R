library(testthat)
library(deepmnar)

test_check("deepmnar")

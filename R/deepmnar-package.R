#' deepmnar: imputation of data missing not at random
#'
#' Deep latent variable models that model the missingness mechanism jointly
#' with the data, trained by importance-weighted variational inference in a
#' multi-threaded C++ engine. Start with [notmiwae()], then [impute()] or
#' [multiple_impute()].
#'
#' @keywords internal
#' @useDynLib deepmnar, .registration = TRUE
#' @importFrom Rcpp evalCpp
#' @importFrom RcppParallel defaultNumThreads
"_PACKAGE"

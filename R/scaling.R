# Standardisation with the observed values' mean and sd, as the encoder and
# the decoder work on standardised columns.
# A column with a single observed value has no spread to scale by; its size
# (or 1 at zero) stands in, since the point mass there carries its cells.
# Log columns (`logged`) are standardised by their logs' mean and sd.
fit_scaling <- function(x, identity = rep(FALSE, ncol(x)), logged = rep(FALSE, ncol(x))) {
  x <- to_model_scale(x, logged)
  center <- colMeans(x, na.rm = TRUE)
  scale <- apply(x, 2, stats::sd, na.rm = TRUE)
  flat <- is.na(scale) | scale == 0
  scale[flat] <- pmax(abs(center[flat]), 1)
  center[identity] <- 0
  scale[identity] <- 1
  list(center = center, scale = scale, log = unname(logged))
}

standardise <- function(x, scaling) {
  sweep(sweep(to_model_scale(x, scaling$log), 2, scaling$center, "-"), 2, scaling$scale, "/")
}

unstandardise <- function(z, scaling) {
  from_model_scale(sweep(sweep(z, 2, scaling$scale, "*"), 2, scaling$center, "+"), scaling$log)
}

# The engine's view of the data: values with NA set to 0 and an observed mask,
# or for sparse input its observed cells row by row (sparse_engine_data()).
engine_data <- function(x, scaling) {
  if (is_sparse_input(x)) return(sparse_engine_data(x, scaling))
  # values given to fit come checked; this reaches `newdata`
  check_positive_log_columns(x, scaling$log, "newdata")
  z <- standardise(x, scaling)
  observed <- !is.na(z)
  z[!observed] <- 0
  storage.mode(observed) <- "integer"
  list(x = z, observed = observed)
}

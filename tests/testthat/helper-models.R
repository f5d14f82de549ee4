# Small data and specs shared by the numerical tests.
tiny_mnar_data <- function(n = 12, p = 3, seed = 1) {
  set.seed(seed)
  x <- matrix(rnorm(n * p), n, p, dimnames = list(NULL, paste0("c", seq_len(p))))
  x[x[, 1] > 0.3, 1] <- NA
  x[2, 2] <- NA
  x
}

tiny_spec <- function(p, missing_model = "selfmask_known", obs = "gaussian", decoder = "mlp", latent = 2L,
                      hidden = c(5L, 4L)) {
  deepmnar:::model_spec("notmiwae", paste0("c", seq_len(p)), latent, hidden, "tanh", obs, decoder, missing_model,
                        rep(c(1, -1), length.out = p), 1e-3)
}

engine_view <- function(x) {
  observed <- !is.na(x)
  storage.mode(observed) <- "integer"
  x[is.na(x)] <- 0
  list(x = x, observed = observed)
}

bound_at <- function(spec, ev, theta, K, seed, gradient = FALSE, threads = 1L) {
  deepmnar:::cpp_bound(spec, ev$x, ev$observed, theta, as.integer(K), seed, gradient, as.integer(threads))
}

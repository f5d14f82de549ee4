# Small data and specs shared by the numerical tests.
tiny_mnar_data <- function(n = 12, p = 3, seed = 1) {
  set.seed(seed)
  x <- matrix(rnorm(n * p), n, p, dimnames = list(NULL, paste0("c", seq_len(p))))
  x[x[, 1] > 0.3, 1] <- NA
  x[2, 2] <- NA
  x
}

tiny_spec <- function(p, missing_model = "selfmask_known", obs = "gaussian", decoder = "mlp", latent = 2L,
                      hidden = c(5L, 4L), model = "notmiwae", alpha = 1, K2 = 1L, eta_dim = 2L,
                      point_mass = rep(NA_real_, p), sigma_floor = 1e-3, binary_other = rep(NA_real_, p),
                      category_group = rep(0L, p), temperature = 0.5, category_ordinal = rep(0L, p),
                      direction = rep(c(1, -1), length.out = p), rating_lower = rep(NA_real_, p),
                      rating_upper = rep(NA_real_, p), category_value = rep(NA_real_, p), encoder = "mlp",
                      set_embedding = 3L, set_code = 4L, aux_dim = 0L) {
  deepmnar:::model_spec(model, paste0("c", seq_len(p)), latent, hidden, "tanh", obs, decoder, missing_model,
                        rep_len(direction, p), rep_len(sigma_floor, p), alpha = alpha, K2 = as.integer(K2),
                        eta_dim = as.integer(eta_dim), point_mass = point_mass, binary_other = binary_other,
                        category_group = category_group, temperature = temperature,
                        category_ordinal = category_ordinal, rating_lower = rating_lower, rating_upper = rating_upper,
                        category_value = category_value, encoder = encoder,
                        set_embedding = set_embedding, set_code = set_code, aux_dim = aux_dim)
}

# tiny_mnar_data() on a rating scale: whole numbers from -2 to 2 (as if
# standardised), column 1's high values missing.
tiny_rating_data <- function(n = 14) {
  x <- tiny_mnar_data(n)
  pmin(pmax(round(1.5 * x), -2), 2)
}

# tiny_mnar_data() with point masses: column 1 at -0.5 and column 3 at 0.25
# hold observed cells at the mass and off it, and missing cells.
tiny_point_mass_data <- function(n = 14) {
  x <- tiny_mnar_data(n)
  x[c(1, 4, 7, 9), 1] <- -0.5
  x[1, 1] <- NA
  x[c(2, 3, 5, 8), 3] <- 0.25
  x[c(3, 6, 10), 3] <- NA
  x
}

# Largest gap between the analytic gradient of the bound and central finite
# differences (noise held fixed by the seed), relative to the gradient's size.
gradient_error <- function(spec, x, K = 4, seed = 11) {
  ev <- engine_view(x)
  theta <- deepmnar:::cpp_init_params(spec, 3) + stats::rnorm(deepmnar:::cpp_n_params(spec), sd = 0.1)
  analytic <- bound_at(spec, ev, theta, K, seed, gradient = TRUE)$gradient
  h <- 1e-6
  numeric_grad <- vapply(seq_along(theta), function(k) {
    up <- theta
    down <- theta
    up[k] <- up[k] + h
    down[k] <- down[k] - h
    (bound_at(spec, ev, up, K, seed)$bound - bound_at(spec, ev, down, K, seed)$bound) / (2 * h)
  }, numeric(1))
  stopifnot(length(analytic) == length(theta))
  max(abs(analytic - numeric_grad)) / max(abs(numeric_grad))
}

engine_view <- function(x) {
  observed <- !is.na(x)
  storage.mode(observed) <- "integer"
  x[is.na(x)] <- 0
  list(x = x, observed = observed)
}

bound_at <- function(spec, ev, theta, K, seed, gradient = FALSE, threads = 1L) {
  deepmnar:::cpp_bound(spec, ev, theta, as.integer(K), seed, gradient, as.integer(threads))
}

# tiny_point_mass_data() whose second column is binary: 0.8 or -1.2 (its two
# levels, standardised), some missing.
tiny_binary_data <- function(n = 14) {
  x <- tiny_point_mass_data(n)
  x[, 2] <- ifelse(seq_len(n) %% 3 == 0, 0.8, -1.2)
  x[c(2, 5, 11), 2] <- NA
  x
}

# tiny_mnar_data() with a three-level categorical variable in columns 4-6
# (one-hot; all three NA where it is missing).
tiny_categorical_data <- function(n = 14) {
  x <- tiny_mnar_data(n)
  level <- (seq_len(n) * 7) %% 3 + 1
  onehot <- diag(3)[level, ]
  onehot[c(2, 6, 9, 13), ] <- NA
  colnames(onehot) <- paste0("g", 1:3)
  cbind(x, onehot)
}

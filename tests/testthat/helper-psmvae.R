# An independent R implementation of PSMVAE's densities, read from the flat
# parameter vector in the engine's layout, for tests of the C++ engine.

psmvae_tiny_spec <- function(p, k, variant = "b", pi_prime = 0.3, latent = 2L, hidden = c(5L, 4L)) {
  deepmnar:::model_spec("psmvae", paste0("c", seq_len(p)), latent, hidden, "tanh", "gaussian", "mlp", "none",
                        rep(c(1, -1), length.out = p), 1e-3, k = as.integer(k), variant = variant,
                        pi_prime = pi_prime)
}

# A PSMVAE spec with the options of tiny_spec() (obs, ratings, categories,
# encoder).
psmvae_spec <- function(p, variant, k = 2L, pi_prime = 0.3, obs = "gaussian", ...) {
  deepmnar:::model_spec("psmvae", paste0("c", seq_len(p)), 2L, c(5L, 4L), "tanh", obs, "mlp", "none",
                        rep(c(1, -1), length.out = p), rep(1e-3, p), k = as.integer(k), variant = variant,
                        pi_prime = pi_prime, ...)
}

softplus <- function(x) pmax(x, 0) + log1p(exp(-abs(x)))
clip10 <- function(x) pmin(pmax(x, -10), 10)

# Dense layers: weights in x out (row-major in theta), then the biases.
read_mlp <- function(theta, pos, sizes) {
  layers <- list()
  for (l in seq_len(length(sizes) - 1)) {
    n_in <- sizes[l]
    n_out <- sizes[l + 1]
    w <- matrix(theta[pos + seq_len(n_in * n_out)], n_in, n_out, byrow = TRUE)
    pos <- pos + n_in * n_out
    b <- theta[pos + seq_len(n_out)]
    pos <- pos + n_out
    layers[[l]] <- list(w = w, b = b)
  }
  list(net = layers, pos = pos)
}

mlp <- function(net, x) {
  x <- matrix(x, nrow = 1)
  for (l in seq_along(net)) {
    x <- x %*% net[[l]]$w + net[[l]]$b
    if (l < length(net)) x <- tanh(x)
  }
  drop(x)
}

psmvae_reference <- function(spec, theta) {
  p <- spec$p
  d <- spec$latent_dim
  k <- spec$k
  h <- spec$hidden
  pos <- 0
  take <- function(sizes) {
    out <- read_mlp(theta, pos, sizes)
    pos <<- out$pos
    out$net
  }
  m <- list(p = p, d = d, k = k, variant = spec$variant, pi = spec$pi_prime, floor = spec$sigma_floor,
            direction = spec$direction)
  m$r_enc <- take(c(2 * p, h, k))
  m$z_enc <- take(c(2 * p + k, h, 2 * d))
  m$prior_mu <- matrix(theta[pos + seq_len(k * d)], k, d, byrow = TRUE)
  m$prior_lv <- clip10(matrix(theta[pos + k * d + seq_len(k * d)], k, d, byrow = TRUE))
  pos <- pos + 2 * k * d
  m$dec <- take(c(d + k, h, (if (spec$variant == "a") 4 else 5) * p))
  m$x_enc <- take(c(2 * p + d + k, h, 2 * p))
  if (spec$variant == "a") {
    m$slope <- softplus(matrix(theta[pos + seq_len(k * p)], k, p, byrow = TRUE)) *
      matrix(spec$direction, k, p, byrow = TRUE)
    m$midpoint <- matrix(theta[pos + k * p + seq_len(k * p)], k, p, byrow = TRUE)
    pos <- pos + 2 * k * p
  }
  stopifnot(pos == length(theta))
  m
}

one_hot <- function(r, k) replace(numeric(k), r, 1)

log_q_sets <- function(m, x, s) {
  l <- mlp(m$r_enc, c(x, s))
  l - (max(l) + log(sum(exp(l - max(l)))))
}

decode_ref <- function(m, z, r) {
  p <- m$p
  out <- mlp(m$dec, c(z, one_hot(r, m$k)))
  list(mu_o = out[1:p], sc_o = softplus(out[p + 1:p]) + m$floor, mu_m = out[2 * p + 1:p],
       sc_m = softplus(out[3 * p + 1:p]) + m$floor, logits = if (m$variant == "b") out[4 * p + 1:p])
}

mask_log_lik <- function(m, dec, r, s, x_full) {
  l <- if (m$variant == "b") dec$logits else -m$slope[r, ] * (x_full - m$midpoint[r, ])
  sum(s * l - softplus(l))
}

# The ELBO of one row from given draws: z[r, kk, ] and x~[r, kk, ].
elbo_row_ref <- function(m, x, s, z, xt) {
  log_q <- log_q_sets(m, x, s)
  K <- dim(z)[2]
  contribution <- numeric(m$k)
  for (r in seq_len(m$k)) {
    zq <- mlp(m$z_enc, c(x, s, one_hot(r, m$k)))
    mu_q <- zq[1:m$d]
    lv_q <- clip10(zq[m$d + 1:m$d])
    a_terms <- numeric(K)
    for (kk in seq_len(K)) {
      zz <- z[r, kk, ]
      xx <- xt[r, kk, ]
      dec <- decode_ref(m, zz, r)
      xq <- mlp(m$x_enc, c(x, s, zz, one_hot(r, m$k)))
      mu_x <- xq[1:m$p]
      lv_x <- clip10(xq[m$p + 1:m$p])
      weight <- ifelse(s == 1, m$pi, 1)
      x_full <- ifelse(s == 1, x, xx)
      a_terms[kk] <- sum(s * dnorm(x, dec$mu_o, dec$sc_o, log = TRUE)) +
        sum(dnorm(zz, m$prior_mu[r, ], exp(m$prior_lv[r, ] / 2), log = TRUE)) -
        sum(dnorm(zz, mu_q, exp(lv_q / 2), log = TRUE)) +
        mask_log_lik(m, dec, r, s, x_full) +
        sum(weight * (dnorm(xx, dec$mu_m, dec$sc_m, log = TRUE) - dnorm(xx, mu_x, exp(lv_x / 2), log = TRUE))) +
        (1 - m$pi) * sum(s * dnorm(x, dec$mu_m, dec$sc_m, log = TRUE))
    }
    contribution[r] <- mean(a_terms) - log(m$k) - log_q[r]
  }
  sum(exp(log_q) * contribution)
}

# Mean ELBO over the rows of `ev`, from the engine's own draws.
elbo_ref <- function(spec, ev, theta, K, seed) {
  m <- psmvae_reference(spec, theta)
  draws <- deepmnar:::cpp_psmvae_draws(spec, ev, theta, as.integer(K), seed)
  per_row <- m$k * K
  rows <- vapply(seq_len(nrow(ev$x)), function(i) {
    block <- draws[(i - 1) * per_row + seq_len(per_row), , drop = FALSE]
    z <- array(0, c(m$k, K, m$d))
    xt <- array(0, c(m$k, K, m$p))
    for (r in seq_len(m$k)) for (kk in seq_len(K)) {
      row <- block[(r - 1) * K + kk, ]
      z[r, kk, ] <- row[seq_len(m$d)]
      xt[r, kk, ] <- row[m$d + seq_len(m$p)]
    }
    elbo_row_ref(m, ev$x[i, ], ev$observed[i, ], z, xt)
  }, numeric(1))
  mean(rows)
}

# E[x_1 | x_2, s] for a model with p = 2, latent 1 and x_1 missing, by
# quadrature over z (and over x_1 for variant a, whose mask reads it).
exact_conditional_mean <- function(spec, theta, x2) {
  m <- psmvae_reference(spec, theta)
  s <- c(0, 1)
  z_grid <- seq(-12, 12, length.out = 2401)
  num <- 0
  den <- 0
  for (r in seq_len(m$k)) {
    for (z in z_grid) {
      dec <- decode_ref(m, z, r)
      base <- dnorm(z, m$prior_mu[r, 1], exp(m$prior_lv[r, 1] / 2)) * dnorm(x2, dec$mu_o[2], dec$sc_o[2]) / m$k
      if (m$variant == "b") {
        w <- base * exp(mask_log_lik(m, dec, r, s, NULL))
        num <- num + w * dec$mu_m[1]
        den <- den + w
      } else {
        x1 <- dec$mu_m[1] + dec$sc_m[1] * seq(-9, 9, length.out = 721)
        dens <- dnorm(x1, dec$mu_m[1], dec$sc_m[1])
        l1 <- -m$slope[r, 1] * (x1 - m$midpoint[r, 1])
        l2 <- -m$slope[r, 2] * (x2 - m$midpoint[r, 2])
        lik <- exp(-softplus(l1) + l2 - softplus(l2))
        step <- x1[2] - x1[1]
        num <- num + base * sum(dens * lik * x1) * step
        den <- den + base * sum(dens * lik) * step
      }
    }
  }
  num / den
}

# Sets q(z | x, s, r) to N(0, 2^2) for every r (last z-encoder layer: zero
# weights, biases 0 and log 4), so that the proposal covers the posterior and
# SNIS converges at its usual rate.
with_broad_proposal <- function(spec, theta) {
  p <- spec$p
  d <- spec$latent_dim
  k <- spec$k
  sizes_r <- c(2 * p, spec$hidden, k)
  sizes_z <- c(2 * p + k, spec$hidden, 2 * d)
  layer_size <- function(sizes) sum(sizes[-length(sizes)] * sizes[-1] + sizes[-1])
  z_start <- layer_size(sizes_r)
  z_end <- z_start + layer_size(sizes_z)
  last_in <- sizes_z[length(sizes_z) - 1]
  last_size <- last_in * 2 * d + 2 * d
  idx <- z_end - last_size + seq_len(last_size)
  theta[idx] <- c(rep(0, last_in * 2 * d), rep(0, d), rep(log(4), d))
  theta
}

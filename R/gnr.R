#' Fit GNR, the conjunction model of data and mask
#'
#' Fits GNR (Chen, Xu et al., 2023): one latent code z generates the data and
#' the missingness mask in parallel, through a data decoder \eqn{p(x \mid z)} and
#' a mask decoder \eqn{p(s \mid z)}. It is trained by maximising the
#' importance-weighted bound with weights
#' \deqn{\log w_k = \log p(x^o \mid z_k) + \alpha \log p(s \mid z_k) + \log p(z_k) - \log q(z_k \mid x^o),}
#' with \eqn{z_k \sim q(z \mid x^o)} and K samples per row. `alpha = 0` gives MIWAE.
#'
#' Choices where the paper leaves room, stated here: the encoder sees the
#' zero-filled standardised row and not the mask (or, with `encoder = "set"`,
#' the paper's choice for ratings, the observed cells alone); the paper's
#' auxiliary latent u (its Eq. 13) is omitted by default (the paper allows it),
#' so the mask is decoded from z directly; with `aux_dim > 0`, one draw
#' \eqn{u \sim p(u \mid z_k)} per \eqn{z_k} (a Gaussian whose mean and log
#' variance come from a one-layer network of z) joins z as the input of both
#' decoders, \eqn{p(x \mid u, z)} and \eqn{p(s \mid u, z)}. Because u is drawn
#' from \eqn{p(u \mid z)} itself, that density cancels from the weights; u
#' ties the two decoders through a shared stochastic layer. The paper gives
#' no size for u; `aux_dim` has no default other than 0, since nothing here
#' has shown that u helps (see the benchmark vignette);
#' the mask decoder is a multilayer perceptron of its own with the `hidden`
#' widths (no trunk shared with the data decoder). Because the weights do not
#' involve the missing values, [impute()] uses the decoder means
#' \eqn{\sum_l \omega_l E[x^m \mid z_l]} (\eqn{\omega_l} the self-normalised
#' weights). The paper picks alpha from
#' \{0.01, 1, 100\} by missing rate.
#'
#' @inheritParams notmiwae
#' @param alpha Weight of the mask log-likelihood in the importance weights (>= 0).
#' @param aux_dim Dimension of the auxiliary latent u read by both decoders; 0
#'   (the default) leaves it out.
#' @return A fit of class `deepmnar_gnr`, used like a [notmiwae()] fit; see also
#'   [predict_mask()] and [latent()].
#' @references Chen, J., Xu, Y. et al. (2023). Deep generative imputation model for
#'   missing not at random data. CIKM.
#' @examples
#' x <- banknote[, 1:4]
#' x$variance[x$variance > mean(x$variance)] <- NA
#' fit <- gnr(x, alpha = 1, iterations = 300, starts = 1, seed = 1, threads = 1)
#' head(impute(fit, L = 100))
#' @export
gnr <- function(data, alpha = 1, aux_dim = 0, obs = c("gaussian", "t", "rating", "categorical"), decoder = c("mlp", "linear"), latent_dim = NULL,
                hidden = c(128, 128), K = 20,
                activation = c("tanh", "relu"), sigma_floor = "auto", point_mass = "auto", transform = "none", temperature = 0.5,
                encoder_mask = FALSE, encoder = c("mlp", "set"), set_embedding = 20, set_code = 50,
                center = NULL, scale = NULL, rating_range = NULL, seed = NULL, control = train_control(), ...) {
  alpha <- check_nonnegative_number(alpha, "alpha")
  aux_dim <- check_count(aux_dim, "aux_dim", 0, 4096)
  fit_model("gnr", data, obs = obs, decoder = decoder, activation = activation, sigma_floor = sigma_floor,
            latent_dim = latent_dim, hidden = hidden, K = K, seed = seed,
            control = control_with(control, list(...), "gnr"), encoder_mask = encoder_mask, point_mass = point_mass, transform = transform, temperature = temperature,
            center = center, scale = scale, rating_range = rating_range, encoder = encoder,
            set_embedding = set_embedding, set_code = set_code, call = match.call(), alpha = alpha, aux_dim = aux_dim)
}

#' Fit not-2-MIWAE: a deep latent variable model for the mask too
#'
#' The mask gets a latent variable \eqn{\eta} of its own: for each of the K
#' draws \eqn{(z_k, x^m_k) \sim q(z \mid x^o)\,p(x^m \mid z)} (reparameterised), the row
#' filled with \eqn{x^m_k}, \eqn{x_k}, is encoded into \eqn{q(\eta \mid x_k)} and `K2`
#' draws \eqn{\eta_{kl}} are taken. The bound is
#' \deqn{\log \frac{1}{K K_2} \sum_{k=1}^{K} \sum_{l=1}^{K_2} w_{kl},\quad
#'   \log w_{kl} = \log p(x^o \mid z_k) + \log p(z_k) - \log q(z_k \mid x^o)
#'   + \log p(s \mid \eta_{kl}) + \log p(\eta_{kl}) - \log q(\eta_{kl} \mid x_k),}
#' a lower bound of \eqn{\log p(x^o, s)} for any K and K2 (it is an unbiased
#' estimate of the likelihood inside the logarithm). Imputation uses the
#' full weights marginalised over \eqn{\eta}: each \eqn{(z_k, x^m_k)} gets
#' \eqn{w_k = \frac{1}{K_2}\sum_l w_{kl}}, and, since these weights depend on the
#' drawn \eqn{x^m_k}, the conditional mean is \eqn{\sum_k \alpha_k x^m_k} over the
#' draws themselves (the student implementation ignored the mask model at
#' imputation, and mixed up the z and eta axes in its bound).
#'
#' @inheritParams notmiwae
#' @param obs Observation model for each column: `"gaussian"` or Student's `"t"`.
#' @param K2 Draws of eta per draw of z.
#' @param eta_dim Dimension of eta; default `ncol(data) - 1`.
#' @return A fit of class `deepmnar_not2miwae`, used like a [notmiwae()] fit; see
#'   also [predict_mask()] and [latent()].
#' @examples
#' x <- banknote[, 1:4]
#' x$variance[x$variance > mean(x$variance)] <- NA
#' fit <- not2miwae(x, K = 5, K2 = 5, hidden = c(32, 32), iterations = 200, starts = 1,
#'                  seed = 1, threads = 1)
#' head(impute(fit, L = 100))
#' @export
not2miwae <- function(data, K = 20, K2 = 20, eta_dim = NULL, obs = c("gaussian", "t", "rating"), decoder = c("mlp", "linear"),
                      latent_dim = NULL, hidden = c(128, 128),
                      activation = c("tanh", "relu"), sigma_floor = "auto", point_mass = "auto", transform = "none", temperature = 0.5,
                      encoder_mask = FALSE, encoder = c("mlp", "set"), set_embedding = 20, set_code = 50,
                      center = NULL, scale = NULL, seed = NULL, control = train_control(), ...) {
  K2 <- check_count(K2, "K2", 1, 1e4)
  fit_model("not2miwae", data, obs = obs, decoder = decoder, activation = activation, sigma_floor = sigma_floor,
            latent_dim = latent_dim, hidden = hidden, K = K, seed = seed,
            control = control_with(control, list(...), "not2miwae"), encoder_mask = encoder_mask, point_mass = point_mass, transform = transform, temperature = temperature,
            center = center, scale = scale, encoder = encoder, set_embedding = set_embedding, set_code = set_code,
            call = match.call(), K2 = K2,
            eta_dim = eta_dim)
}

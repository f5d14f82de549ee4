#' Fit PSMVAE, the deep pattern-set mixture model
#'
#' Fits the pattern-set mixture VAE of Ghalebikesabi, Cornish, Holmes and Kelly
#' (2021). A categorical latent variable r clusters the rows into `k`
#' missingness pattern sets; within set r a continuous code z has a learned
#' prior \eqn{p(z \mid r) = N(\mu_r, \mathrm{diag}\,\sigma_r^2)}, and the decoder,
#' fed \eqn{[z, \mathrm{onehot}(r)]}, has separate heads for the observed values
#' \eqn{p(x_{obs} \mid z, r)} and for the values under missingness
#' \eqn{p(x_{mis} \mid z, r)} (Gaussian, scale softplus plus `sigma_floor`), and a
#' mask model:
#' \describe{
#'   \item{`variant = "b"`}{(the paper's Figure 1b) \eqn{p(s \mid z, r)}: a third
#'     decoder head, so that x_obs, x_mis and the mask are independent given r
#'     and z (a shared-parameter model);}
#'   \item{`variant = "a"`}{(Figure 1a) \eqn{p(s \mid x, r)}: within each
#'     pattern set a self-masking logistic regression,
#'     \eqn{\mathrm{logit}\,P(s_j = 1) = -d_j\,\mathrm{softplus}(w_{rj})(x_j - b_{rj})},
#'     on the row (observed values, and x_mis where missing), so that one set
#'     can be MCAR (slope near 0) and another MNAR. `direction` gives
#'     \eqn{d_j}, as in [notmiwae()]'s `"selfmask_known"`. The paper leaves the
#'     form of \eqn{p(s \mid x, r)} open; the authors' code uses a linear layer
#'     on \eqn{[x, \mathrm{onehot}(r)]}, whose sign is not identified: in our
#'     runs on banknote it learned that low values go missing and imputed
#'     about 3 standard deviations below the truth.}
#' }
#' The recognition networks \eqn{q(r \mid x, s)}, \eqn{q(z \mid x, s, r)} and
#' \eqn{q(x_{mis} \mid x, s, z, r)} read the zero-filled standardised row and
#' the mask.
#'
#' @section Objective: the ELBO of the paper's Table 1, with r summed out
#' exactly over its `k` values (not sampled):
#' \deqn{\mathcal{L} = \sum_r q(r)\Big[E_q[A_r] + \log\tfrac{1}{k} - \log q(r)\Big],}
#' \deqn{A_r = \sum_{j\,obs}\log p(x_j \mid z, r) + \log\frac{p(z \mid r)}{q(z \mid r)}
#'   + \log p(s \mid \cdot) + \sum_j a_j \log\frac{p(\tilde x_j \mid z, r)}{q(\tilde x_j)}
#'   + (1 - \pi')\sum_{j\,obs}\log p(x_{mis,j} = x_j \mid z, r),}
#' with \eqn{\tilde x \sim q(x_{mis} \mid x, s, z, r)}, \eqn{a_j = 1} for missing
#' cells and \eqn{\pi'} for observed ones. This is the paper's probabilistic
#' semi-supervision: an observed value is also taken as an observation of
#' \eqn{x_{mis,j}} with probability \eqn{1 - \pi'}. \eqn{E_q[A_r]} averages `K`
#' reparameterised draws of z (and of \eqn{\tilde x} for each).
#'
#' @section Choice of `pi_prime` and `variant`: the paper's text uses
#' \eqn{\pi' = 0.5}; the authors' code defaults to 0.005 and sweeps 0 to 0.01.
#' The default here is 0.5, from `bench/psmvae_pi.R` (results in
#' `bench/results/psmvae_pi.md`; first half of the columns missing above the
#' mean, standardised RMSE, 4000 iterations, 2 seeds). With variant "a",
#' \eqn{\pi'} = 0, 0.005, 0.5, 0.9 gave RMSE 1.00, 1.00, 0.57, 2.80 on banknote
#' and 1.55, 1.54, 1.03, 2.35 on yeast: near 0 the x_mis head copies the
#' observed distribution (MAR-like imputations, close to MIWAE's), near 1
#' nothing anchors it and the mask model drives it far past the truth.
#' Variant "b" gave 1.67, 1.68, 1.41, 1.25 on banknote and 1.75, 1.72, 1.61,
#' 1.65 on yeast (mean imputation: 1.73 on both): its mask model reads
#' only z and r, so nothing moves x_mis beyond the observed range. Variant
#' "a" is the default: on five CRAN datasets that no default was chosen on
#' (`bench/generalisation.R`, values missing above the mean, 3 seeds) it
#' imputed far better than "b" at probability 1 (quakes 1.09 against 1.38,
#' glass 0.82 against 1.61, pima 1.03 against 1.58; see
#' `bench/results/generalisation.md` for all five) and as well or better at
#' probability 0.2. Its self-masking regression assumes, like [notmiwae()]'s
#' default, that large values go missing (`direction`); use "b", the paper's
#' main model, for a shared-parameter model of the mask when that is not the
#' concern.
#'
#' @section Imputation: the target is \eqn{p(x_{mis} \mid x_{obs}, s) =
#' \sum_r p(r, x_{mis} \mid x_{obs}, s)}. Draws \eqn{z_l}, \eqn{l = 1..L}, come
#' from the mixture proposal \eqn{q(z \mid x, s) = \sum_r q(r \mid x, s)\, q(z \mid x, s, r)};
#' each is evaluated under every pattern set r', giving the pairs (l, r') with
#' \eqn{x_{mis} \sim p(x_{mis} \mid z_l, r')} and weights
#' \deqn{w_{lr'} = \frac{\frac{1}{k}\, p(z_l \mid r')\, p(x_{obs} \mid z_l, r')\, p(s \mid z_l, r'[, x])}
#'   {\sum_r q(r \mid x, s)\, q(z_l \mid x, s, r)}.}
#' The conditional mean is \eqn{\sum_{l,r'} w_{lr'} E[x_{mis} \mid z_l, r'] / \sum w}
#' (variant b; in variant a the mask term reads \eqn{x_{mis}}, and each missing
#' Gaussian cell is integrated over \eqn{p(x_{mis} \mid z_l, r')} reweighted by
#' \eqn{P(s_j = 0 \mid x_j, r')}, as in [notmiwae()]), the median solves the
#' weighted mixture CDF (b) or is the
#' weighted median of the draws (a), and multiple imputations resample the
#' pairs. Summing over r' under the prior, with the proposal density
#' marginalised over r, is what the authors' `utils.impute` gets wrong (it uses
#' the posterior as the prior, logits as log-probabilities, and adds the
#' log-weights over r).
#'
#' @param data A data.frame, tibble or numeric matrix with `NA` for missing
#'   values. Numeric and integer columns are Gaussian; factors, ordered
#'   factors and logicals are categorical, ordinal and (two levels)
#'   categorical, as in [notmiwae()]. For such a variable both heads give level
#'   probabilities, \eqn{q(x_{mis})} too (its draw relaxed by Gumbel-softmax
#'   at `temperature` in training), and the draw term of the objective is the
#'   exact \eqn{-\mathrm{KL}(q \| p)} over the levels. A sparse matrix is
#'   read as in [notmiwae()] (its unstored cells missing).
#' @inheritParams notmiwae
#' @param encoder `"mlp"` (the default): the three recognition networks read
#'   the zero-filled row and the mask. `"set"`: they read one summed code of
#'   the row's observed (item, value) pairs, the set encoder of [notmiwae()]
#'   (Ma et al., 2018), so that a row's encoding costs in its observed cells,
#'   not in the number of columns (the decoder's heads still give every
#'   column).
#' @param set_embedding,set_code For `encoder = "set"`, as in [notmiwae()].
#' @param obs `"gaussian"` for numeric columns; `"rating"`: values on a known
#'   scale (`rating_range`, else the observed minimum and maximum), the means
#'   of both heads sigmoids scaled to the range so that imputations stay in
#'   it; or `"categorical"`: every numeric column a categorical variable over
#'   its rating levels, as in [notmiwae()]. With ratings, say which ones go
#'   missing: `direction = "low"` when low ratings are the unrated ones.
#' @param k Number of pattern sets (values of r).
#' @param variant `"a"` (mask from x and r, the default) or `"b"` (mask from z and r).
#' @param direction Variant `"a"`: which values of each column go missing,
#'   `"high"` or `"low"` (or +1/-1), as in [notmiwae()].
#' @param pi_prime The paper's \eqn{\pi'}: probability that an observed value does
#'   not also supervise the x_mis head, in `[0, 1]`.
#' @param K Draws of z per pattern set in the ELBO estimate (the paper uses 1).
#' @return A fit of class `deepmnar_psmvae`, used like a [notmiwae()] fit; see also
#'   [pattern_sets()], [predict_mask()] and [latent()].
#' @references Ghalebikesabi, S., Cornish, R., Holmes, C. and Kelly, L. (2021).
#'   Deep generative missingness pattern-set mixture models. AISTATS.
#' @examples
#' x <- banknote[, 1:4]
#' x$variance[x$variance > mean(x$variance)] <- NA
#' fit <- psmvae(x, k = 2, iterations = 300, starts = 1, seed = 1, threads = 1)
#' head(impute(fit, L = 100))
#' table(pattern_sets(fit)$set, is.na(x$variance))
#' @export
psmvae <- function(data, k = 2, variant = c("a", "b"), pi_prime = 0.5, direction = "high",
                   obs = c("gaussian", "rating", "categorical"), rating_range = NULL, latent_dim = NULL,
                   hidden = c(128, 128), K = 1, activation = c("tanh", "relu"),
                   sigma_floor = "auto", transform = "none", temperature = 0.5, center = NULL,
                   scale = NULL, encoder = c("mlp", "set"), set_embedding = 20, set_code = 50, seed = NULL,
                   control = train_control(), ...) {
  k <- check_count(k, "k", 1, 100)
  variant <- check_choice(variant, c("a", "b"), "variant")
  obs <- check_choice(obs, c("gaussian", "rating", "categorical"), "obs")
  pi_prime <- check_probability(pi_prime, "pi_prime")
  fit_model("psmvae", data, obs = obs, rating_range = rating_range, decoder = "mlp", activation = activation,
            sigma_floor = sigma_floor, transform = transform,
            latent_dim = latent_dim, hidden = hidden, K = K, seed = seed,
            control = control_with(control, list(...), "psmvae"),
            center = center, scale = scale, temperature = temperature, call = match.call(), k = k,
            variant = variant, pi_prime = pi_prime, direction = direction, encoder = encoder,
            set_embedding = set_embedding, set_code = set_code)
}

#' Pattern sets of a PSMVAE fit
#'
#' The posterior over pattern sets, \eqn{q(r \mid x^o, s)}, of every row, and
#' the most likely set. Score it against a known mechanism label with
#' [pattern_set_accuracy()].
#'
#' @inheritParams impute
#' @param fit A [psmvae()] fit.
#' @return A list with `probabilities` (rows x `k` matrix, rows sum to 1) and
#'   `set` (the most likely set of each row, an integer in `1..k`).
#' @examples
#' x <- banknote[, 1:4]
#' x$variance[x$variance > mean(x$variance)] <- NA
#' fit <- psmvae(x, k = 2, iterations = 300, starts = 1, seed = 1, threads = 1)
#' ps <- pattern_sets(fit)
#' head(ps$probabilities)
#' @export
pattern_sets <- function(fit, newdata = NULL) {
  check_fit(fit)
  if (fit$model != "psmvae") {
    deepmnar_abort(sprintf("`fit` must be a `psmvae()` fit; this one is %s, which has no pattern sets.",
                           model_label(fit)), data = list(argument = "fit"))
  }
  x <- rows_of(fit, newdata)
  ed <- engine_data(x, fit$scaling)
  prob <- through_engine(cpp_row_summaries(fit$spec, ed, fit$theta, 3L, fit$spec$k))
  colnames(prob) <- paste0("set", seq_len(ncol(prob)))
  list(probabilities = prob, set = max.col(prob, ties.method = "first"))
}

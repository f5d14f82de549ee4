#' Fit not-MIWAE (or MIWAE) to data missing not at random
#'
#' Fits the not-MIWAE of Ipsen, Mattei and Frellsen (2021): a deep latent
#' variable model of the data, \eqn{p(x \mid z) p(z)}, trained jointly with a
#' model of the missingness mechanism, \eqn{p(s \mid x)}, by maximising the
#' importance-weighted bound
#' \deqn{\frac{1}{n}\sum_i \log \frac{1}{K}\sum_{k=1}^K
#'   \frac{p(s_i \mid x^o_i, x^m_{ik})\, p(x^o_i \mid z_{ik})\, p(z_{ik})}{q(z_{ik} \mid x^o_i)},}
#' with \eqn{z_{ik} \sim q(z \mid x^o_i)} and \eqn{x^m_{ik} \sim p(x^m \mid z_{ik})}, both
#' reparameterised. With `missing_model = "none"` the mask term is dropped and
#' the model is MIWAE (Mattei and Frellsen, 2019), which assumes the values are
#' missing at random.
#'
#' Columns are standardised with the mean and standard deviation of their
#' observed values; the encoder sees the standardised row with missing cells
#' set to zero (the mask itself is not an input). Encoder and decoder are
#' multilayer perceptrons; the encoder's log-variance is clipped to
#' \eqn{[-10, 10]}, and the decoder gives each cell a location and a scale
#' (softplus, plus `sigma_floor`) and, for `obs = "t"`, degrees of freedom
#' \eqn{3 + \mathrm{softplus}(\cdot)}.
#'
#' @section Missing models: `s = 1` means observed; each model gives the logit
#' of \eqn{P(s_j = 1 \mid x)}:
#' \describe{
#'   \item{`"auto"` (the default)}{the data choose among `candidates`: each is
#'     trained on the same rows (one start each) with the same held-out rows,
#'     and scored by an importance-sampling estimate of \eqn{\log p(x^o, s)}
#'     on the held-out rows (`score_K` samples per row). The fit is the first
#'     candidate, in the order given (the assumption that does least harm when
#'     wrong first), whose score is within one paired standard error of the
#'     best (the one-standard-error rule: where the held-out rows cannot tell
#'     two mechanisms apart, missing at random is kept). `print(fit)` and
#'     [compare_mechanisms()] show every candidate's score with its standard
#'     errors; `folds` scores them on more rows. The default candidates are
#'     `"mcar"`, `"mar"` and `"selfmask_quadratic"` (add `"selfmask_mar"`,
#'     self plus the observed columns, through `candidates`; see
#'     `vignette("mechanisms")` for what it costs under MAR); for
#'     rating or wide data (`obs = "rating"`, the set encoder, sparse input or
#'     more than 50 columns) `"mcar"` and `"selfmask_shared"` with its sign
#'     learned. It costs one fit per candidate and fold (MCAR comes from MAR's
#'     fit). The choice is made *within* the candidates: no data can prove
#'     values missing not at random without assumptions (see
#'     [mnar_sensitivity()] and `vignette("mechanisms")`).}
#'   \item{`"mcar"`}{\eqn{c_j}: a rate per column (missing completely at random);
#'     the imputations are MIWAE's, but the fit has a likelihood of the mask
#'     to compare with the other models'.}
#'   \item{`"mar"`}{\eqn{c_j + \sum_{k} W_{jk} x_k} over the columns \eqn{k} of
#'     other variables: the mask of a column depends on the others, never on
#'     itself (missing at random when they are observed).}
#'   \item{`"selfmask_quadratic"`}{\eqn{c_j + w_j x_j - \mathrm{softplus}(q_j) x_j^2}:
#'     self-masking whose direction is learned per column (\eqn{w_j}), which
#'     can make both tails go missing (\eqn{q_j}) or none (\eqn{w_j = 0} and
#'     \eqn{q_j \to -\infty} is MCAR).}
#'   \item{`"selfmask_mar"`}{both: \eqn{c_j + w_j x_j - \mathrm{softplus}(q_j) x_j^2 +
#'     \sum_k W_{jk} x_k} over the always-observed columns \eqn{k}: a value's
#'     own size and the observed covariates together decide whether it goes
#'     missing (self plus other columns). Unlike `"linear"`, no column's mask
#'     reads another missing value, so the conditional means still integrate
#'     every missing cell (see [impute()]).}
#'   \item{`"selfmask_known"`}{\eqn{-d_j\,\mathrm{softplus}(w_j)(x_j - b_j)}: self-masking
#'     logistic regression whose slope sign is known. `direction` \eqn{d_j = +1}
#'     ("high", the default) means high values go missing, `-1` ("low") low ones.}
#'   \item{`"selfmask"`}{\eqn{-w_j(x_j - b_j)} with a free slope.}
#'   \item{`"selfmask_shared"`}{\eqn{-s(x_j - b_j)}: the paper's model for ratings
#'     (Yahoo! R3), a logistic regression per column with one slope \eqn{s} shared
#'     by all columns (in standardised units) and a location \eqn{b_j} each. Its
#'     sign is learned (\eqn{s = w}, free) unless `direction` is given, then
#'     \eqn{s = d\,\mathrm{softplus}(w)} with the one direction \eqn{d} of all
#'     columns (mixed directions are refused).}
#'   \item{`"selfmask_activity"`}{\eqn{-s(x_j - b_j) + a^\top z}: `"selfmask_shared"`
#'     plus the row's activity, a linear function of its latent variable
#'     \eqn{z}, shared by its columns. How much a row leaves missing then need
#'     not come from its values (users who rate little need not dislike what
#'     they leave unrated); the shared self-mask alone can only explain a
#'     sparse row by low or high values, and over-corrects more when rows
#'     differ in activity. On synthetic ratings whose users differ in
#'     activity it over-corrected less than `"selfmask_shared"`, but as a
#'     candidate it was no better than the default on average, so it is not
#'     one (`vignette("mechanisms")`). Missing cells are still integrated
#'     given \eqn{z}. [predict_mask()] on complete `newdata` sets the
#'     activity at \eqn{z}'s prior mean, 0.}
#'   \item{`"linear"`}{a dense layer from the whole filled row to the logits (the paper's agnostic model).}
#'   \item{`"nonlinear"`}{a one-hidden-layer tanh network from the filled row to the logits.}
#'   \item{`"none"`}{no mask model: MIWAE.}
#' }
#' The Bernoulli mask likelihood runs over every column, fully observed ones included.
#'
#' @section Training: Adam on one flat parameter vector; each iteration draws a
#' minibatch from a shuffled order (the last partial batch of each epoch is
#' skipped, as in the authors' code) and `K` importance samples per row. The
#' paper trains for 100,000 iterations with batch 16 and `K = 20`. Training is
#' threaded over fixed groups of rows whose noise comes from per-row random
#' streams, so a `seed` gives the same fit for any number of `threads`. Press
#' Ctrl-C to stop training early: the fit reached so far is returned with a
#' warning.
#'
#' @section Starts: A learned mask model can settle where the mask hardly
#' depends on the values (a MAR-like local optimum), and which optimum a fit
#' finds depends on its initial parameters rather than on the data. With
#' `starts > 1`, that many initialisations are each trained for 5% of
#' `iterations` (at least 250) on the same 80% of the rows, scored by the
#' importance-weighted bound on the other 20% with shared draws, and the best
#' goes on training on all rows; the fit's `seed` becomes that start's seed and
#' `fit$starts` holds the table. Total iterations stay `iterations`; the
#' extra cost is `(starts - 1)` short runs.
#'
#' @section Ensembles: Choosing a start by the held-out bound cannot remove
#'   the dependence on the seed where the bound does not tell a good optimum
#'   from a bad one (PSMVAE on banknote: correlation 0.08 between a fit's
#'   bound and its imputation error over 20 fits; bench/results/psmvae_starts.md).
#'   With `ensemble = E > 1`, E fits are trained in full from the seeds the
#'   starts would use (the first is `seed`, so member 1 is the fit `starts = 1`
#'   gives), each with its own early stopping, and every imputation averages
#'   over them: [impute()] returns the mean of the members' conditional means
#'   (the conditional mean under the equal mixture of their posteriors; for
#'   `type = "median"` the members' medians averaged), [predict_mask()] the
#'   mean probability, [multiple_impute()] takes draw or bootstrap replicate d
#'   from member ((d - 1) mod E) + 1. It costs E fits. [latent()],
#'   [pattern_sets()] and `summary()`'s mask parameters describe the first
#'   member (latent spaces of different fits are not comparable).
#'
#' @param data A data.frame, tibble or numeric matrix with `NA` for missing
#'   values. The observation model of each column follows its class:
#'   numeric and integer columns are continuous (`obs`, with a point mass
#'   where `point_mass` finds one; integer columns, counts included, get
#'   rounded imputations); logical columns, factors with two levels and
#'   numeric columns whose observed values take exactly two values (an
#'   indicator stored as a number; not with `obs = "rating"`, sparse data or
#'   [psmvae()]) are binary (Bernoulli over the two values: conditional means
#'   lie between them, draws are one of them); factors with 3 to 50 levels are categorical (a
#'   softmax over the levels, entering the encoder one-hot, zero-filled when
#'   missing, and the mask models with one effect per level); ordered factors
#'   with 3 to 50 levels are ordinal (a cumulative logit: one location from the
#'   decoder and K - 1 learned cutpoints, with the same one-hot input and
#'   draws). All come back in their own class and levels. Character and date columns, and factors with one or more than 50
#'   levels, are refused with what to do. Or a sparse matrix of the Matrix
#'   package (such as a `dgCMatrix` of users x items): its stored cells are the
#'   observed values (a stored 0 is an observed 0) and the cells it does not
#'   store are missing, as for ratings; the engine then holds the observed
#'   cells alone and makes a batch dense only while it trains or imputes it.
#'   Numeric observation models only (not `obs = "categorical"`); see
#'   [impute_cells()] to impute some cells of a large table without forming
#'   the completed matrix.
#' @param missing_model The missingness model, see the section below.
#' @param obs Observation model for each column: `"gaussian"`, Student's `"t"`, or
#'   (in [notmiwae()], [gnr()] and [psmvae()]) `"rating"` for values on a known scale \eqn{[lo, hi]} (ratings 1 to 5, say):
#'   a Gaussian whose mean \eqn{lo + (hi - lo)\,\mathrm{sigmoid}(\cdot)} stays inside
#'   the scale and whose sd is one parameter per column (softplus, plus
#'   `sigma_floor`), shared by all rows, as in the not-MIWAE paper's rating
#'   model ([psmvae()]'s two heads keep their per-sample scales). Numeric
#'   columns become rating columns, without point masses;
#'   imputations are clamped to the range, and [multiple_impute()] draws are
#'   also rounded to whole numbers on a column whose range and observed values
#'   are whole numbers. Binary and categorical columns keep their own models.
#'   `"categorical"` (in [notmiwae()], [gnr()] and [psmvae()]) makes each
#'   numeric column a categorical variable over its rating levels: the grid
#'   from the lower to the upper end of its `rating_range` in steps of its
#'   grain (1 for whole numbers, else the smallest gap between observed
#'   values), at most 50 levels, a softmax over them, missing levels drawn by
#'   Gumbel-softmax at `temperature` in training, as for factors. Levels never
#'   observed keep a logit of their own. Imputations are numbers: the expected
#'   rating (`impute()`), or a drawn level ([multiple_impute()]).
#' @param rating_range For `obs = "rating"` or `"categorical"`: the ends of each column's scale.
#'   `NULL` (the default) takes each column's observed minimum and maximum,
#'   which under MNAR may stop short of the scale's ends (when low ratings go
#'   missing, an item's lowest rating may never be seen): give the known
#'   scale when there is one. Or
#'   `c(lo, hi)` for every column, a 2-column matrix with one row per numeric
#'   column (or rows named by column), or a list of `c(lo, hi)` (one per
#'   numeric column, or named for some; the others from the data). Observed
#'   values outside the range are refused.
#' @param decoder `"mlp"`, or `"linear"` for the PPCA-like model (a linear map from
#'   z to the means and one scale shared by all columns).
#' @param latent_dim Dimension of z; default `ncol(data) - 1`, and with
#'   `encoder = "set"` at most 30 (the latent size both papers use for
#'   ratings: hundreds of items do not need hundreds of latent dimensions).
#' @param hidden Widths of the hidden layers of the encoder and of the decoder.
#' @param K Importance samples per row in training.
#' @param direction For `"selfmask_known"`: which values of each column go missing,
#'   `"high"` or `"low"` (or +1/-1); one value for all columns, one per column, or a
#'   named vector for some columns (others "high"). For `"selfmask_shared"` and `"selfmask_activity"`: one
#'   direction for all columns fixes the shared slope's sign; leave it out to
#'   learn the sign.
#' @param activation Hidden-layer activation: `"tanh"` (the papers') or `"relu"`.
#' @param sigma_floor Lower bound added to the decoder's scale, in standard
#'   deviations of the column: `"auto"` (the default), one number for every
#'   column, one per column, or a named vector for some columns (the others
#'   `"auto"`). `"auto"` takes each column's recording grain g (the smallest
#'   gap between its distinct observed values) and floors the scale at the
#'   rounding error's sd, \eqn{g / \sqrt{12}}, and at least 1e-4: a value
#'   recorded to 0.1 is only known to +-0.05, and a narrower density would
#'   chase the rounding. The authors' code has no floor.
#' @param point_mass Point masses (a hurdle observation model): `"auto"` (the
#'   default), `"none"`, or a named vector giving the value of some columns'
#'   point mass (`NA`: none; the other columns `"auto"`). `"auto"` gives a column
#'   a point mass at its most frequent value when that value holds at least 10%
#'   of the observed cells and lies at an end of the observed range (exact
#'   zeros of an amount, a detection limit, top-coding). Such a column has
#'   density \eqn{\pi(z)} at the value and \eqn{(1 - \pi(z))} times the
#'   continuous density elsewhere, so exact ties cannot pull the continuous
#'   scale to zero; imputations draw the value itself with probability
#'   \eqn{\pi}. `print(fit)`, `summary(fit)` and `fit$observation` show the
#'   choice for every column.
#' @param transform Columns modelled on the log scale: `"none"` (the
#'   default), `"auto"`, `"log"` (every continuous column) or a named vector
#'   of `"log"` / `"none"` for some columns (the others `"auto"`). `"auto"`
#'   logs a continuous column without a point mass whose observed values are
#'   positive (at least 20, 10 of them distinct) when the log fits them
#'   better by Box and Cox's criterion: the Gaussian profile likelihood of
#'   the logs, with the Jacobian, above that of the values. A log column's logs are the Gaussian
#'   column the model sees (standardised by the logs' mean and sd; `center`
#'   and `scale` then refer to the logs, and a self-masking model reads the
#'   log); imputed means are \eqn{E[x \mid x^o, s]} on the original scale
#'   (the mean of \eqn{\exp}, not the exponential of the mean), medians and
#'   draws are transformed back, and imputations stay positive. Needs
#'   positive values, `obs = "gaussian"` and dense data. `print(fit)`,
#'   `summary(fit)` and `fit$observation` show which columns are logged.
#' @param center,scale The mean and standard deviation that standardise each
#'   numeric column before it enters the networks: `NULL` (the default) for
#'   the observed values' mean and sd, or numbers for all columns (unnamed,
#'   one per column) or for some (named). Give them only when the population
#'   moments are known from outside the data being imputed (a census, a
#'   reference sample, an earlier wave): under MNAR the observed values' mean
#'   is biased, and a missing cell enters the encoder at the centre, so true
#'   moments carry information the observed ones lack. Moments computed from
#'   the complete data of a simulation (the papers' protocol) leak the missing
#'   values into the fit: use them only to reproduce published numbers.
#' @param temperature Temperature of the relaxed draws of missing values in
#'   training: a point mass's or binary column's indicator (logistic) and a
#'   categorical column's level (Gumbel-softmax), through which the missing
#'   model's gradient reaches their probabilities; imputation draws the
#'   indicator or level itself.
#' @param encoder_mask Give the encoder of z the missingness mask beside the
#'   zero-filled row (`TRUE`), so that it can tell a missing cell from an
#'   observed one at the column mean. The papers' encoders read the
#'   zero-filled row alone (`FALSE`, the default). Not with `encoder = "set"`.
#' @param encoder The encoder of z: `"mlp"` (the default), a network of the
#'   `hidden` widths on the zero-filled row, or `"set"`, the permutation-invariant
#'   set encoder of Ma et al. (2018) that the not-MIWAE and GNR papers use for
#'   ratings. The set encoder reads the observed cells alone: each observed
#'   (column j, value \eqn{x_j}) pair gets the input \eqn{[e_j, x_j e_j]},
#'   \eqn{e_j} a learned embedding of column j of size `set_embedding`, and the
#'   code \eqn{\mathrm{relu}(W [e_j, x_j e_j] + b)} of size `set_code`; the codes
#'   of a row's observed cells are summed (a row with none has the zero code)
#'   and a network of the `hidden` widths maps the sum to the mean and
#'   log-variance of \eqn{q(z \mid x^o)} (the papers map it linearly to
#'   z instead). A missing cell contributes nothing
#'   (no fill value), and a row costs time in proportion to its observed
#'   cells, which suits wide, sparse data such as ratings. A categorical
#'   variable's levels are columns like any other: each level of an observed
#'   variable is a pair with value 1 or 0.
#' @param set_embedding,set_code For `encoder = "set"`: the size of a column's
#'   embedding (the papers': 20) and of a pair's code (the papers': 50).
#' @param candidates For `missing_model = "auto"`: the mask models to choose
#'   among (see the section above); `NULL` for the default set.
#' @param score_K For `missing_model = "auto"`: importance samples per
#'   held-out row in the score of each candidate.
#' @param folds For `missing_model = "auto"`: how many disjoint sets of
#'   held-out rows score the candidates. Each candidate is trained once per
#'   fold, with that fold held out, and scored on every fold's rows by the fit
#'   that did not train on them, so the evidence rests on `folds` times as many
#'   rows; the chosen candidate's fits then impute as an ensemble (its
#'   imputations averaged over the folds' fits). It costs `folds` fits per
#'   candidate.
#' @param control Training options: [train_control()] (iterations, batch size,
#'   learning rate, early stopping, starts, ensemble, threads, precision,
#'   progress bar).
#' @param ... Training options given directly, as [glm()] takes those of
#'   `glm.control()`: each must be an argument of [train_control()], and
#'   overrides `control`'s (`notmiwae(x, iterations = 500)`).
#' @param seed Integer seed; `NULL` draws one from R's random number generator,
#'   so `set.seed()` makes the fit reproducible.
#' @return A fit of class `deepmnar_notmiwae` (a plain list: parameters, shapes,
#'   scaling, training curve, data and call) to use with [impute()],
#'   [multiple_impute()], `print()`, `summary()` and `plot()`.
#' @references Ipsen, N. B., Mattei, P.-A. and Frellsen, J. (2021). not-MIWAE: Deep
#'   generative modelling with missing not at random data. ICLR.
#'
#'   Mattei, P.-A. and Frellsen, J. (2019). MIWAE: Deep generative modelling and
#'   imputation of incomplete data sets. ICML.
#'
#'   Ma, C., Gong, W., Hernández-Lobato, J. M., Koenigstein, N., Nowozin, S. and
#'   Zhang, C. (2018). Partial VAE for hybrid recommender system. NeurIPS
#'   Workshop on Bayesian Deep Learning.
#' @examples
#' x <- banknote[, 1:4]
#' x$variance[x$variance > mean(x$variance)] <- NA   # high values go missing
#' fit <- notmiwae(x, iterations = 300, seed = 1, threads = 1)
#' fit
#' head(impute(fit, L = 100))
#' @export
notmiwae <- function(data,
                     missing_model = c("auto", "selfmask_known", "selfmask", "selfmask_quadratic", "selfmask_mar",
                                       "selfmask_shared", "selfmask_activity", "linear", "mar", "mcar", "nonlinear",
                                       "none"),
                     obs = c("gaussian", "t", "rating", "categorical"), decoder = c("mlp", "linear"), latent_dim = NULL,
                     hidden = c(128, 128), K = 20,
                     direction = "high", activation = c("tanh", "relu"), sigma_floor = "auto",
                     point_mass = "auto", transform = "none", temperature = 0.5, encoder_mask = FALSE, encoder = c("mlp", "set"),
                     set_embedding = 20, set_code = 50, center = NULL, scale = NULL,
                     rating_range = NULL, candidates = NULL, score_K = 1000, folds = 1, seed = NULL, control = train_control(), ...) {
  missing_model <- check_choice(missing_model, eval(formals(notmiwae)$missing_model), "missing_model")
  if (shares_slope(missing_model) && missing(direction)) direction <- NULL
  fit_model("notmiwae", data, obs = obs, decoder = decoder, activation = activation, sigma_floor = sigma_floor,
            latent_dim = latent_dim, hidden = hidden, K = K, seed = seed,
            control = control_with(control, list(...), "notmiwae"), encoder_mask = encoder_mask, point_mass = point_mass, transform = transform, temperature = temperature,
            center = center, scale = scale, rating_range = rating_range, encoder = encoder,
            set_embedding = set_embedding, set_code = set_code, call = match.call(),
            missing_model = missing_model, direction = direction, candidates = candidates, score_K = score_K, folds = folds)
}

# The candidates of `missing_model = "auto"`: missing completely at random,
# at random (the mask of a column from the other columns), and self-masking
# with each column's direction and shape learned (which can end at no
# self-dependence). Self plus the observed columns (selfmask_mar) is left to
# `candidates`: it improved the mechanism bench's point accuracy a little
# (regret 11.5% against 12.6%, bench/results/mechanism_rules.md), but
# under MAR it beat the MAR candidate by more than a paired SE in 30 of 100
# of bench/coverage.R's replications and the pooled intervals covered 0.74
# (bench/results/coverage_auto_selfmask_mar). Wide or rating data, where a
# mask model on every other column costs p^2 parameters, choose between MCAR
# and the shared self-masking slope of the ratings model.
default_candidates <- function(obs, p, wide) {
  if (wide || obs == "rating" || p > 50) return(c("mcar", "selfmask_shared"))
  c("mcar", "mar", "selfmask_quadratic")
}

# The training driver every model shares: validation, scaling, the training
# loop with progress and interruption, and the plain-list fit.

prepare_training <- function(data, types) {
  x <- as_numeric_matrix(encode_columns(data, types, "data"), "data")
  check_training_matrix(x, levels = category_groups(colnames(x), types) > 0)
  if (!anyNA(x)) {
    deepmnar_warn("`data` has no missing values; the model is fitted but there is nothing to impute.",
                  kind = "no_missing")
  }
  x
}

# A continuous observation model can shrink its scale on a column that is
# almost constant and draw most of the likelihood from it; on yeast (erl and
# pox: one value in 99% of the rows) this worsened the RMSE of 100,000
# iterations from 1.51 to 1.71 with a floor of 1e-4. A point mass at that
# value takes it out of the continuous part, so only columns without one
# (the value inside the range, or point masses turned off) need the user.
warn_near_constant <- function(x, masses, share = 0.9) {
  top_share <- apply(x, 2, function(col) most_frequent(col)$share)
  cols <- colnames(x)[top_share >= share & is.na(masses)]
  if (length(cols)) {
    deepmnar_warn(sprintf(paste0(
      "Column %s has a single value in at least %d%% of its observed cells and no point mass there. The model can ",
      "shrink its scale on such a column and spend training on it: give it a point mass (`point_mass`), a larger ",
      "`sigma_floor` (e.g. 0.05), or drop it."),
      quote_names(cols), round(100 * share)), kind = "near_constant")
  }
}

# What impute() needs to hand the training data back in the user's format.
data_format <- function(data, types) {
  list(
    kind = if (inherits(data, "tbl_df")) "tibble" else if (is.data.frame(data)) "data.frame" else
      if (is_sparse_input(data)) "sparse" else "matrix",
    integer = if (is.data.frame(data)) unname(vapply(data, is.integer, logical(1))) else rep(FALSE, NCOL(data)),
    row_names = if (is.data.frame(data) && .row_names_info(data) > 0) rownames(data) else NULL,
    types = types
  )
}

# The encoder of z and, for the set encoder, its sizes. The set encoder
# knows which cells are observed, so reading the mask too (`encoder_mask`)
# is refused rather than ignored.
check_encoder <- function(encoder, encoder_mask, set_embedding, set_code) {
  encoder <- check_choice(encoder, c("mlp", "set"), "encoder")
  if (encoder == "set" && isTRUE(encoder_mask)) {
    deepmnar_abort(paste0("`encoder_mask = TRUE` cannot be combined with `encoder = \"set\"`: the set encoder reads ",
                          "the observed cells alone and knows which they are."), data = list(argument = "encoder_mask"))
  }
  list(encoder = encoder, set_embedding = check_count(set_embedding, "set_embedding", 1, 4096),
       set_code = check_count(set_code, "set_code", 1, 4096))
}

# Validates the options every model shares, fits `model` and returns the fit.
fit_model <- function(model, data, obs, decoder, activation, sigma_floor, latent_dim, hidden, K, seed, control,
                      call, missing_model = "none", direction = "high",
                      alpha = 1, K2 = 1L, eta_dim = NULL, k = 1L, variant = "b", pi_prime = 0.5,
                      encoder_mask = FALSE, point_mass = "none", temperature = 0.5,
                      center = NULL, scale = NULL, rating_range = NULL, encoder = "mlp", set_embedding = 20,
                      set_code = 50, aux_dim = 0L, transform = "none",
                      candidates = NULL, score_K = 1000, folds = 1) {
  can <- capabilities(model)
  obs <- check_choice(obs, c(can$observations, if (can$categorical_obs) "categorical"), "obs")
  decoder <- check_choice(decoder, c("mlp", "linear"), "decoder")
  activation <- check_choice(activation, c("tanh", "relu"), "activation")
  encoder <- check_encoder(encoder, encoder_mask, set_embedding, set_code)
  sparse <- if (is_sparse_input(data)) sparse_training_data(data)
  if (!is.null(sparse)) {
    if (obs == "categorical") {
      deepmnar_abort(paste0(
        "Sparse `data` needs a numeric observation model; `obs = \"categorical\"` needs dense data: a matrix with ",
        "NA in the cells the sparse matrix does not store."), data = list(argument = "data"))
    }
    # every per-column choice below reads the observed values alone
    data <- observed_columns(sparse)
  }
  if (obs == "categorical") {
    data <- as_rating_frame(data)
    types <- numeric_as_rating_levels(data, column_types(data), rating_level_ranges(data, rating_range))
    obs <- "gaussian"  # no continuous column is left
    rating_range <- NULL
  } else {
    types <- column_types(data)
  }
  # Without point masses, the binary model, a binary column is a factor.
  if (!can$point_masses) types <- binary_as_categorical(types)
  x <- prepare_training(data, types)
  binary <- colnames(x) %in% binary_columns(types)
  groups <- category_groups(colnames(x), types)
  levels <- groups > 0
  # A numeric column that takes two values (an indicator stored as a number)
  # is binary too: a continuous part would leave its missing cells free to
  # take any value, which a mask model reading them can exploit (boston's
  # chas, 0/1, was imputed 4 sd above 1 under a learned mask model whose
  # held-out likelihood that freedom inflated), and its imputations belong
  # between its two values.
  distinct <- apply(x, 2, function(col) length(unique(col[!is.na(col)])))
  two_valued <- is.null(sparse) & obs %in% c("gaussian", "t") & !binary & !levels & can$point_masses & distinct == 2
  low_value <- apply(x, 2, min, na.rm = TRUE)
  high_value <- apply(x, 2, max, na.rm = TRUE)
  binary <- binary | two_valued
  masses <- column_point_masses(point_mass, x)
  masses[binary] <- ifelse(two_valued[binary], high_value[binary], 1)
  masses[levels] <- NA
  # A column with one observed value has no continuous part to learn: any
  # value a mask model preferred for its missing cells would be unanchored
  # (imputations ran off to 10-40 sd in bench/generalisation.R), so both its
  # "levels" are that value and its missing cells are imputed as it.
  single <- distinct == 1 & !binary & !levels & can$point_masses
  masses[single] <- vapply(which(single), function(j) x[!is.na(x[, j]), j][1], numeric(1))
  rating <- obs == "rating" & !binary & !levels & !single
  ranges <- column_rating_ranges(rating_range, x, rating, obs)
  # a rating's mean stays in its range instead; its ends are no point masses
  masses[rating] <- NA
  logged <- choose_log_columns(transform, x, is.null(sparse) & obs == "gaussian" & !binary & !levels & !single &
                                               !rating & is.na(masses))
  floors <- column_floors(sigma_floor, to_model_scale(x, logged))
  warn_near_constant(x[, !levels, drop = FALSE], masses[!levels])
  # Indicators of levels enter the engine as they are: 1 for the level, 0
  # for the others and, zero-filled, for a missing variable.
  scaling <- given_moments(fit_scaling(x, identity = levels, logged = logged), center, scale, colnames(x), levels)
  other <- ifelse(two_valued, low_value, ifelse(binary, 0, ifelse(single, masses, NA_real_)))
  if (is.null(latent_dim) && encoder$encoder == "set") latent_dim <- max(1L, min(30L, ncol(x) - 1L))
  n <- if (is.null(sparse)) nrow(x) else nrow(sparse)
  batch_size <- if (is.null(control$batch_size)) min(can$batch_size, n) else control$batch_size
  stop_rule <- check_stop_early(control$stop_early)
  args <- c(check_common_args(K, batch_size, latent_dim, hidden, control$threads, seed, n, ncol(x)),
            list(iterations = iteration_cap(control$iterations, stop_rule, n, batch_size), lr = control$lr))
  eta_dim <- check_count(if (is.null(eta_dim)) max(1, ncol(x) - 1) else eta_dim, "eta_dim", 1, 4096)
  choosing <- identical(missing_model, "auto")
  if (choosing) {
    candidates <- check_candidates(candidates, obs, ncol(x), !is.null(sparse) || encoder$encoder == "set")
  }
  # The columns observed in every training row (all columns when none is):
  # those a MAR mask model reads, so that its mask depends on observed values
  # only and the imputations stay those of an ignorable mechanism.
  complete <- if (is.null(sparse)) colSums(is.na(x)) == 0 else rep(FALSE, ncol(x))
  spec_with <- function(missing_model) {
    spec <- model_spec(
                     model, colnames(x), args$latent_dim, args$hidden, activation, obs, decoder, missing_model,
                     mask_directions(missing_model, if (choosing && shares_slope(missing_model)) NULL else direction,
                                     colnames(x)), unname(floors), alpha = alpha, K2 = K2,
                     eta_dim = eta_dim,
                     k = k, variant = variant, pi_prime = pi_prime,
                     encoder_mask = check_flag(encoder_mask, "encoder_mask"),
                     point_mass = unname((masses - scaling$center) / scaling$scale),
                     binary_other = unname((other - scaling$center) / scaling$scale),
                     temperature = check_positive_number(temperature, "temperature", 100), category_group = groups,
                     category_ordinal = ordinal_levels(colnames(x), types),
                     rating_lower = unname((ranges[, "lower"] - scaling$center) / scaling$scale),
                     rating_upper = unname((ranges[, "upper"] - scaling$center) / scaling$scale),
                     category_value = rating_level_values(colnames(x), types, data), encoder = encoder$encoder,
                     set_embedding = encoder$set_embedding, set_code = encoder$set_code, aux_dim = aux_dim,
                     log_scale = unname(ifelse(logged, scaling$scale, 0)), precision = control$precision)
    if (any(complete)) spec$mask_reads <- as.integer(complete)
    spec
  }
  spec <- spec_with(if (choosing) candidates[1] else missing_model)
  args$stop_early <- stop_rule
  args$ensemble <- control$ensemble
  args$starts <- control$starts
  class <- paste0("deepmnar_", model)
  training <- if (is.null(sparse)) x else sparse
  fit <- if (choosing) {
    choose_mechanism(spec_with, candidates, training, args, control$progress, call, class, scaling, score_K, folds)
  } else {
    if (is.null(args$starts)) args$starts <- default_starts(spec, args$ensemble)
    train_model(spec, training, args, control$progress, call, class, scaling = scaling)
  }
  family <- ifelse(binary, "bernoulli", ifelse(spec$category_ordinal == 1L, "ordinal",
                   ifelse(levels, "categorical", ifelse(single, "constant", ifelse(rating, "rating", obs)))))
  fit$observation <- observation_table(x, family, ifelse(binary | single | levels, NA_real_, floors), masses, ranges,
                                       logged)
  fit$data_format <- data_format(if (is.null(sparse)) data else sparse, types)
  fit
}

# Data for `obs = "categorical"`: a data.frame (a matrix's columns named as
# the engine names them).
as_rating_frame <- function(data) {
  if (is.data.frame(data)) return(data)
  x <- as_numeric_matrix(data, "data")
  as.data.frame(x, optional = TRUE)
}

# The ends of each numeric column's rating scale, as `obs = "rating"` takes
# them (`rating_range`, else the observed minimum and maximum).
rating_level_ranges <- function(data, rating_range) {
  numeric <- names(data)[vapply(data, function(col) is.numeric(col) && !all(is.na(col)), logical(1))]
  x <- as.matrix(data[numeric])
  column_rating_ranges(rating_range, x, rep(TRUE, length(numeric)), "rating")
}

# `center` and `scale` given by the user replace the observed values' moments
# of the columns they name (all columns when unnamed); levels of factors are
# not standardised.
given_moments <- function(scaling, center, scale, columns, levels) {
  numeric_columns <- columns[!levels]
  take <- function(values, arg, ok, what) {
    if (is.null(values)) return(NULL)
    given <- per_column_values(values, numeric_columns, arg, ok, what)
    stats::setNames(given, numeric_columns)
  }
  centers <- take(center, "center", function(v) all(is.finite(v)), "finite numbers")
  scales <- take(scale, "scale", function(v) all(is.finite(v) & v > 0), "positive finite numbers")
  for (name in names(centers)) if (!is.na(centers[[name]])) scaling$center[[name]] <- centers[[name]]
  for (name in names(scales)) if (!is.na(scales[[name]])) scaling$scale[[name]] <- scales[[name]]
  scaling
}

# 20,000 Adam steps, or under early stopping 25 passes over the rows when
# that is more: at batch 16 a 54,000-row table would otherwise stop within
# six passes, before it converged (bench/results/scale.md, diamonds).
iteration_cap <- function(iterations, stop_rule, n, batch_size) {
  if (!is.null(iterations)) return(iterations)
  if (is.null(stop_rule)) return(20000L)
  max(20000L, as.integer(25 * ceiling(n / batch_size)))
}

# The shared options that depend on the data (train_control() checked the
# others).
check_common_args <- function(K, batch_size, latent_dim, hidden, threads, seed, n, p) {
  list(
    K = check_count(K, "K", 1, 1e5),
    batch_size = check_count(batch_size, "batch_size", 1, n),
    latent_dim = check_count(if (is.null(latent_dim)) max(1, p - 1) else latent_dim, "latent_dim", 1, 4096),
    hidden = check_hidden(hidden),
    threads = check_threads(threads),
    seed = check_seed(seed)
  )
}

# A model whose mask mechanism is learned can settle in a local optimum where
# the mask hardly depends on the values (the MAR-like solution); which one it
# finds depends on the initial parameters. Known or absent mask models have no
# such choice to make.
learns_mask <- function(spec) {
  if (capabilities(spec$model)$learns_mask) return(TRUE)
  switch(spec$missing_model, none = , selfmask_known = , mcar = , mar = FALSE,
         selfmask_shared = learns_shared_sign(spec), TRUE)
}

# A shared self-masking slope whose sign the user left to training.
learns_shared_sign <- function(spec) shares_slope(spec$missing_model) && all(spec$direction == 0)

# An ensemble's members are its starts, each trained in full.
default_starts <- function(spec, ensemble = 1L) if (learns_mask(spec) && ensemble == 1L) 4L else 1L

# Trains `spec` on the numeric matrix `x` and returns the fit list. `scaling`
# and `theta` are given for a warm start (replicate fits keep their parent's
# scaling, since theta is defined on it); otherwise the observed values'
# scaling and the best of `args$starts` initialisations.
train_model <- function(spec, x, args, progress, call, class, scaling = fit_scaling(x), theta = NULL) {
  if (is.null(theta) && isTRUE(args$ensemble > 1)) return(train_ensemble(spec, x, args, progress, call, class, scaling))
  ed <- engine_data(x, scaling)
  started <- proc.time()[["elapsed"]]
  starts <- if (is.null(args$starts)) 1L else args$starts
  selection <- NULL
  if (!is.null(theta)) {
    state <- fresh_state(theta)
  } else if (starts > 1) {
    selection <- select_start(spec, ed, args, starts, progress)
    state <- selection$state
    args$split_seed <- split_seed(args)
    args$seed <- selection$seed
  } else {
    state <- fresh_state(initial_params(spec, ed, args$seed))
  }
  run <- if (is.null(args$stop_early)) run_training(spec, ed, state, args, progress) else
    run_with_early_stopping(spec, ed, state, args, progress, args$stop_early)
  structure(
    list(
      model = spec$model,
      spec = spec,
      theta = run$state$theta,
      scaling = scaling,
      columns = colnames(x),
      data = x,
      trace = c(selection$trace, run$trace),
      settings = list(K = args$K, batch_size = args$batch_size, iterations = args$iterations,
                      iterations_done = as.integer(run$state$iteration), lr = args$lr, seed = args$seed,
                      threads = args$threads, starts = starts),
      starts = selection$table,
      stopping = run$stopping,
      seconds = proc.time()[["elapsed"]] - started,
      instruction_set = cpp_instruction_set(),
      call = call,
      version = as.character(utils::packageVersion("deepmnar"))
    ),
    class = c(class, "deepmnar_fit")
  )
}

# `args$ensemble` fits of the same model from the seeds the starts would use
# (the first is the user's seed, so member 1 is the plain fit), each trained
# to its own stop. The fit is member 1 with every member's parameters in
# `ensemble$theta`; imputations average over the members (an equal mixture
# of their posteriors), where one fit's imputations depend on which optimum
# its start found.
train_ensemble <- function(spec, x, args, progress, call, class, scaling) {
  seeds <- start_seeds(args$seed, args$ensemble)
  members <- lapply(seeds, function(member_seed) {
    member_args <- args
    member_args$seed <- member_seed
    member_args$ensemble <- 1L
    train_model(spec, x, member_args, progress, call, class, scaling)
  })
  fit <- members[[1]]
  fit$ensemble <- list(
    theta = lapply(members, `[[`, "theta"), seed = seeds,
    iterations_done = vapply(members, function(m) m$settings$iterations_done, integer(1)),
    converged = vapply(members, function(m) if (is.null(m$stopping)) NA else isTRUE(m$stopping$converged), logical(1)))
  fit$settings$ensemble <- length(members)
  fit$seconds <- sum(vapply(members, `[[`, numeric(1), "seconds"))
  fit
}

# The parameter vectors of a fit: its members', or its own.
member_thetas <- function(fit) if (is.null(fit$ensemble)) list(fit$theta) else fit$ensemble$theta

# Member k of an ensemble as a fit of its own.
ensemble_member <- function(fit, k) {
  fit$theta <- fit$ensemble$theta[[k]]
  fit$ensemble <- NULL
  fit
}

# f(member, member_seed, k) for every member of an ensemble, member k with
# the k-th start seed of `seed` (the first is `seed` itself).
over_members <- function(fit, seed, f) {
  seeds <- start_seeds(seed, length(fit$ensemble$theta))
  lapply(seq_along(seeds), function(k) f(ensemble_member(fit, k), seeds[k], k))
}

mean_of <- function(values) Reduce(`+`, values) / length(values)

# The engine's initialisation, with the mask model's parameters started from
# what the data say about the masks (missing_models.h, start_from_data()):
# a learned self-masking slope whose start has the wrong sign on a column
# tends to end near 0, where the mask does not depend on the value (MAR), so
# it starts with the sign the data suggest (selfmask_directions()); the
# additive mask models start at MCAR fitted.
initial_params <- function(spec, ed, seed) through_engine(cpp_init_params(spec, seed, mask_start(spec, ed)))

# What the data say about each column's mask (io.h, MaskStart): its observed
# share (kept inside [0.02, 0.98], where its logit is a sane starting rate),
# whether it is incomplete (the mask logit of a categorical variable sums
# those of its levels, which keep the engine's initialisation), and the
# directions, a regression per column, only when the mask model uses them.
mask_start <- function(spec, ed) {
  counts <- observed_per_column(ed)
  n <- engine_rows(ed)
  reads_directions <- through_engine(cpp_start_reads_directions(spec))
  list(share = pmin(pmax(counts / n, 0.02), 0.98), incomplete = as.integer(counts < n & !level_columns(spec)),
       direction = if (reads_directions) as.numeric(selfmask_directions(ed)) else numeric(0))
}

# Which way each column's missingness seems to go, from the other columns:
# predict the column from the others over its observed rows and compare the
# predictions of its missing and observed rows. Under self-masking of high
# values, the rows with the value missing have higher predictions whenever the
# column is correlated with the others. +1 means high values go missing, -1
# low ones; +1 when nothing tells. The prediction is a regression on the other
# columns (missing cells at their mean) up to `max_regressors` columns; wider
# tables, such as ratings of hundreds of items, where p regressions on p
# columns would cost more than the fit, use the mean of the row's other
# observed values (a user's general level) instead, as sparse input must.
selfmask_directions <- function(ed, max_regressors = 50L) {
  p <- if (is.null(ed$row_start)) ncol(ed$x) else ed$dim[2]
  if (p > max_regressors) return(row_level_directions(ed))
  ed <- dense_engine_data(ed)
  vapply(seq_len(p), function(j) {
    obs <- ed$observed[, j] == 1L
    if (all(obs) || p == 1 || sum(obs) < 3) return(1)
    design <- cbind(1, ed$x[, -j, drop = FALSE])
    beta <- stats::lm.fit(design[obs, , drop = FALSE], ed$x[obs, j])$coefficients
    beta[is.na(beta)] <- 0
    predicted <- drop(design %*% beta)
    if (mean(predicted[!obs]) < mean(predicted[obs])) -1 else 1
  }, numeric(1))
}

# selfmask_directions() for wide tables: the mean of each row's other
# observed values as the prediction.
row_level_directions <- function(ed) {
  cells <- observed_cells(ed)
  n <- engine_rows(ed)
  p <- if (is.null(ed$row_start)) ncol(ed$x) else ed$dim[2]
  row_count <- tabulate(cells$row, n)
  row_sum <- sum_by(cells$value, cells$row, n)
  level <- row_sum / row_count  # NaN for a row without observed values
  # a row that observes column j: the mean of its other values
  others <- (row_sum[cells$row] - cells$value) / (row_count[cells$row] - 1)
  has_others <- row_count[cells$row] > 1
  observed_mean <- sum_by(others[has_others], cells$col[has_others], p) / tabulate(cells$col[has_others], p)
  # a row that misses column j: the mean of all its values
  rated <- row_count > 0
  missing_n <- sum(rated) - tabulate(cells$col, p)
  missing_mean <- (sum(level[rated]) - sum_by(level[cells$row], cells$col, p)) / missing_n
  ifelse(missing_n > 0 & tabulate(cells$col[has_others], p) >= 3 & missing_mean < observed_mean, -1, 1)
}

# Sums of `values` by an integer index in 1..size (0 where none).
sum_by <- function(values, index, size) {
  out <- numeric(size)
  if (!length(values)) return(out)
  s <- rowsum(values, index)
  out[as.integer(rownames(s))] <- s[, 1]
  out
}

# The observed cells as (row, col, value), 1-based.
observed_cells <- function(ed) {
  if (!is.null(ed$row_start)) {
    return(list(row = rep(seq_len(ed$dim[1]), diff(ed$row_start)), col = ed$col_index + 1L, value = ed$values))
  }
  at <- which(ed$observed == 1L, arr.ind = TRUE)
  list(row = at[, 1], col = at[, 2], value = ed$x[at])
}

fresh_state <- function(theta) {
  list(theta = theta, adam_m = numeric(length(theta)), adam_v = numeric(length(theta)), iteration = 0)
}

# Several short starts from different initial parameters, each trained on the
# same 80% of the rows and scored by the bound on the other 20% (the same
# importance draws for every start); the best one goes on training. Its seed
# becomes the fit's seed, so refitting with that seed and `starts = 1` retraces
# the same path. Returns the winning state, the start table and its trace.
select_start <- function(spec, ed, args, starts, progress) {
  n <- engine_rows(ed)
  start_iterations <- min(args$iterations, max(250L, as.integer(round(0.05 * args$iterations))))
  # as in early stopping (its default `max_rows`), the score needs a few
  # thousand rows, not a share
  held_out <- if (n >= 50) {
    with_seed(args$seed, sample.int(n, min(early_stopping()$max_rows, max(10L, round(0.2 * n)))))
  } else seq_len(n)
  train_rows <- if (n >= 50) setdiff(seq_len(n), held_out) else seq_len(n)
  train_ed <- rows_of_engine_data(ed, train_rows)
  held_ed <- rows_of_engine_data(ed, held_out)
  start_args <- args
  start_args$iterations <- start_iterations
  start_args$batch_size <- min(args$batch_size, length(train_rows))
  seeds <- start_seeds(args$seed, starts)
  runs <- lapply(seeds, function(s) {
    start_args$seed <- s
    run <- run_training(spec, train_ed, fresh_state(initial_params(spec, ed, s)), start_args, progress, "Start")
    c(run, list(held_out_bound = held_out_bound(spec, held_ed, run$state$theta, args)))
  })
  bounds <- vapply(runs, `[[`, numeric(1), "held_out_bound")
  best <- if (all(!is.finite(bounds))) 1L else which.max(replace(bounds, !is.finite(bounds), -Inf))
  list(state = runs[[best]]$state, seed = seeds[best], trace = runs[[best]]$trace,
       table = data.frame(start = seq_len(starts), seed = seeds, held_out_bound = bounds,
                          chosen = seq_len(starts) == best))
}

# The seed of the held-out split of early stopping: the user's (a start's
# seed replaces args$seed once chosen).
split_seed <- function(args) if (is.null(args$split_seed)) args$seed else args$split_seed

# The first start keeps the user's seed, so `starts = 1` is the plain fit.
start_seeds <- function(seed, starts) {
  c(seed, (seed + seq_len(starts - 1L) * 7919L) %% .Machine$integer.max)
}

# The bound on held-out rows, with held_out_K() importance samples and the
# fit's seed, so that every parameter vector scored is judged on the same draws.
held_out_bound <- function(spec, held_ed, theta, args) {
  cpp_bound(spec, held_ed, theta, held_out_K(args), args$seed, FALSE, args$threads)$bound
}

held_out_K <- function(args) max(args$K, 20L)

# Adam steps from `state` until `args$iterations` are done, in one engine
# call that updates the bar and honours Ctrl-C from inside its loop.
run_training <- function(spec, ed, state, args, progress, label = "Training") {
  todo <- args$iterations - state$iteration
  if (todo <= 0) return(list(state = state, trace = numeric(0), interrupted = FALSE))
  out <- with_iteration_bar(progress, label, args$iterations, "bound {format(round(bound, 3))} | {cli::pb_eta}",
                            function(show) cpp_train(spec, ed, state, todo, args$K, args$batch_size, args$lr,
                                                     args$seed, args$threads, show))
  list(state = trained_state(out, args), trace = out$trace, interrupted = isTRUE(out$interrupted))
}

# Runs work(show) under a progress bar of `total` iterations; show() is the
# callback the engine's monitor calls with the iterations done, the recent
# minibatch bound and, in early stopping, the last held-out bound and the best
# (NULL without progress). `shows` reads `bound`, `held` and `best`.
with_iteration_bar <- function(progress, label, total, shows, work) {
  if (!progress) return(work(NULL))
  bound <- held <- best <- NA_real_
  bar <- cli::cli_progress_bar(label, total = total, clear = TRUE, .envir = environment(),
                               format = paste(label, "{cli::pb_current}/{cli::pb_total} iterations |", shows))
  on.exit(cli::cli_progress_done(id = bar))
  work(function(done, bound_now, held_now = NA_real_, best_now = NA_real_) {
    bound <<- bound_now
    held <<- held_now
    best <<- best_now
    cli::cli_progress_update(set = done, id = bar)
  })
}

# The state an engine training call returned; a diverged bound is an error,
# an interrupt a warning (an error before the first iteration).
trained_state <- function(out, args) {
  if (!is.na(out$failed_at)) abort_nonfinite_training(out$failed_at, args$lr)
  state <- out[c("theta", "adam_m", "adam_v", "iteration")]
  if (isTRUE(out$interrupted)) {
    if (state$iteration == 0) deepmnar_abort("Training was interrupted before the first iteration.", kind = "interrupt")
    deepmnar_warn(sprintf("Training was interrupted after %d of %d iterations; the fit holds the parameters reached.",
                          as.integer(state$iteration), args$iterations), kind = "interrupt")
  }
  state
}

# The data were checked finite and of a size whose mean and sd exist, and
# the parameters were finite before the step: a non-finite bound is the
# optimisation diverging.
abort_nonfinite_training <- function(iteration, lr) {
  deepmnar_abort(sprintf(paste0(
    "Training diverged: the bound became non-finite at iteration %d (the data and the starting parameters were ",
    "finite). Try a lower learning rate (e.g. `lr = %g`) or a larger `sigma_floor`."),
    as.integer(iteration), lr / 10), kind = "nonfinite", data = list(iteration = iteration))
}

#' Early stopping on held-out rows
#'
#' A rule for the `stop_early` argument of the model functions: a share
#' `holdout` of the rows is set aside, the importance-weighted bound on them is
#' computed every `every` iterations (the same draws each time, so checks are
#' comparable), training stops when it has not improved for `patience` checks,
#' and the fit keeps the parameters of the best check. `iterations` is then a
#' cap; reaching it while the held-out bound still improves gives a warning.
#' The held-out rows are not trained on, but they are imputed like the others.
#'
#' @param holdout Share of the rows held out, in (0, 0.5].
#' @param max_rows At most this many rows are held out. Each check evaluates
#'   the bound on every held-out row with at least 20 importance samples, so
#'   on large tables a share alone makes the checks cost more than training
#'   (10,000 held-out rows of a 10^5-row table took most of a 233 s fit in
#'   `bench/scale.R`), while the check only needs the bound's mean to move by
#'   more than its noise: with 2,000 rows its standard error is a few hundredths
#'   of a nat per row.
#' @param every Iterations between checks; default `max(50, iterations / 200)`,
#'   and at least half a pass over the training rows (`rows / (2 batch_size)`),
#'   so that `patience` checks span at least five passes on a large table.
#' @param patience Checks without improvement before training stops.
#' @param patience_ratio Training also goes on until the iterations since the
#'   best check are at least this multiple of the iterations it took to reach
#'   it, so a held-out bound that still creeps up after a plateau keeps
#'   training going (at most `iterations`). When values go missing whenever
#'   they are large, the imputations keep improving long after the bound levels
#'   off, and `patience_ratio = 1` helps: replayed on pima, glass and quakes at
#'   probability 1 (`bench/results/stopping.md`) RMSE fell from 0.99 to 0.84,
#'   and on boston and creditcard, which the choice was not made on, from 1.47
#'   / 1.50 to 1.44 / 1.44. But with a weaker mechanism (each such value
#'   missing with probability 0.8) the longer training made some fits unstable
#'   there (boston 1.06 -> 1.28, creditcard 1.30 -> 1.64, one seed at 2.29;
#'   `bench/results/generalisation_patience_ratio1.md`), and at probability 0.2
#'   it changed little, so the default stays 0 (stop after `patience` flat
#'   checks).
#' @return A rule (a list of class `deepmnar_early_stopping`).
#' @examples
#' x <- banknote[, 1:4]
#' x$variance[x$variance > mean(x$variance)] <- NA
#' rule <- early_stopping(patience = 3)
#' fit <- notmiwae(x, hidden = c(32, 32), iterations = 5000, stop_early = rule, seed = 1, threads = 1)
#' fit$stopping$reason
#' @export
early_stopping <- function(holdout = 0.1, every = NULL, patience = 10, max_rows = 2000, patience_ratio = 0) {
  ok <- is.numeric(holdout) && length(holdout) == 1 && !is.na(holdout) && holdout > 0 && holdout <= 0.5
  if (!ok) {
    deepmnar_abort(sprintf("`holdout` must be a share of the rows in (0, 0.5], not %s.", describe(holdout)),
                   data = list(argument = "holdout"))
  }
  structure(list(holdout = as.numeric(holdout), max_rows = check_count(max_rows, "max_rows", 1, 1e9),
                 every = if (is.null(every)) NULL else check_count(every, "every", 1, 1e9),
                 patience = check_count(patience, "patience", 1, 1e6),
                 patience_ratio = check_nonnegative_number(patience_ratio, "patience_ratio")),
            class = "deepmnar_early_stopping")
}

check_stop_early <- function(stop_early) {
  if (is.null(stop_early) || isFALSE(stop_early)) return(NULL)
  if (isTRUE(stop_early)) return(early_stopping())
  if (!inherits(stop_early, "deepmnar_early_stopping")) {
    deepmnar_abort(sprintf("`stop_early` must be TRUE, FALSE or an `early_stopping()` rule, not %s.", describe(stop_early)),
                   data = list(argument = "stop_early"))
  }
  stop_early
}

# Checks every iterations / 200 (at least 50), and at least every half pass
# over the training rows: `patience` checks then span at least five passes,
# so a large table does not stop on the noise of a fraction of its rows.
# Tables of up to 3,200 training rows at batch 16 keep 100.
default_check_interval <- function(iterations, train_rows, batch_size) {
  max(50L, as.integer(iterations %/% 200L), as.integer(ceiling(train_rows / (2 * batch_size))))
}

# How many rows a fit holds out (rules saved before max_rows existed have none).
held_out_size <- function(n, rule) {
  max(1L, min(n - 2L, as.integer(round(rule$holdout * n)), if (is.null(rule$max_rows)) Inf else rule$max_rows))
}

# The held-out rows of fold `fold`: the fold-th block of `held_out_size()`
# rows of one permutation, so that folds are disjoint and fold 1 is the
# split of a single fit. The permutation follows the user's seed, not a
# start's, so that every candidate mechanism holds out the same rows.
held_out_rows <- function(n, rule, seed, fold = 1L) {
  size <- held_out_size(n, rule)
  sort(with_seed(seed, sample.int(n, fold * size))[(fold - 1L) * size + seq_len(size)])
}

# Trains on all rows but the held-out ones, scoring the held-out bound every
# `every` iterations and keeping the best parameters, in one engine call
# (early_stopping.h).
run_with_early_stopping <- function(spec, ed, state, args, progress, rule) {
  n <- engine_rows(ed)
  held_out <- held_out_rows(n, rule, split_seed(args), if (is.null(args$fold)) 1L else args$fold)
  train_ed <- rows_of_engine_data(ed, setdiff(seq_len(n), held_out))
  held_ed <- rows_of_engine_data(ed, held_out)
  every <- if (is.null(rule$every)) default_check_interval(args$iterations, n - length(held_out), args$batch_size) else
    rule$every
  patience_ratio <- if (is.null(rule$patience_ratio)) 0 else rule$patience_ratio  # rules saved before it existed
  out <- with_iteration_bar(progress, "Training", args$iterations,
                            "held-out bound {format(round(held, 3))}, best {format(round(best, 3))}",
                            function(show) {
                              cpp_train_early_stopping(spec, train_ed, held_ed, state, args$iterations, args$K,
                                                       min(args$batch_size, engine_rows(train_ed)), args$lr, args$seed,
                                                       args$threads, every, rule$patience, patience_ratio,
                                                       held_out_K(args), show)
                            })
  state <- trained_state(out, args)
  if (out$reason == "iteration cap") {
    deepmnar_warn(sprintf(paste0(
      "Training reached the cap of %d iterations while the bound on the held-out rows was still improving ",
      "(its best check was among the last %d): it has not converged. Raise `iterations`."),
      as.integer(args$iterations), rule$patience), kind = "not_converged")
  }
  list(state = state, trace = out$trace, interrupted = isTRUE(out$interrupted),
       stopping = list(held_out_rows = held_out, every = every, patience = rule$patience,
                       checks = data.frame(iteration = out$check_iteration, held_out_bound = out$check_bound),
                       best_iteration = as.integer(out$best_iteration), stopped_at = as.integer(state$iteration),
                       reason = out$reason, converged = out$reason == "held-out bound stopped improving"))
}

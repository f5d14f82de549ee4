# A model spec is a plain list that describes the network shapes; the engine
# rebuilds every layer from it and the flat parameter vector.

# The engine's registry (registry.h) is the one list of models and options:
# the codes below are read from it, once per session.
registry <- local({
  cached <- NULL
  function() {
    if (is.null(cached)) cached <<- cpp_registry()
    cached
  }
})

# What `model` can do (registry.h, model_capabilities()): its observation
# models, whether it offers obs = "categorical", point masses, mask models,
# encoders, default batch size, whether every fit learns a mask, and what its
# held-out score is ("bound" or "elbo").
capabilities <- function(model) registry()$capabilities[[model]]

# Named codes of one option: "model", "missing_model", "obs", "decoder",
# "encoder", "activation" or "variant".
codes_of <- function(option) registry()$options[[option]]

# Mask models with one self-masking slope for all columns (its sign may be
# learned: direction 0).
shares_slope <- function(missing_model) isTRUE(missing_model %in% registry()$shared_slope_mask_models)

model_spec <- function(model, columns, latent_dim, hidden, activation, obs, decoder, missing_model,
                       direction, sigma_floor, alpha = 1, K2 = 1L, eta_dim = 1L, k = 1L, variant = "b",
                       pi_prime = 0.5, encoder_mask = FALSE, point_mass = rep(NA_real_, length(columns)),
                       binary_other = rep(NA_real_, length(columns)), temperature = 0.5,
                       category_group = rep(0L, length(columns)), category_ordinal = rep(0L, length(columns)),
                       rating_lower = rep(NA_real_, length(columns)), rating_upper = rep(NA_real_, length(columns)),
                       category_value = rep(NA_real_, length(columns)), encoder = "mlp", set_embedding = 20L,
                       set_code = 50L, aux_dim = 0L, log_scale = rep(0, length(columns)), precision = "double") {
  p <- length(columns)
  list(
    model = model, model_code = codes_of("model")[[model]], alpha = alpha, K2 = K2, eta_dim = eta_dim,
    k = k, variant = variant, variant_code = codes_of("variant")[[variant]], pi_prime = pi_prime,
    columns = columns, p = p, latent_dim = latent_dim, hidden = hidden,
    missing_hidden = hidden[1], activation = activation, activation_code = codes_of("activation")[[activation]],
    obs = obs, obs_code = codes_of("obs")[[obs]], decoder = decoder, decoder_code = codes_of("decoder")[[decoder]],
    missing_model = missing_model, missing_code = codes_of("missing_model")[[missing_model]],
    direction = direction, sigma_floor = sigma_floor, encoder_mask = as.integer(isTRUE(encoder_mask)),
    encoder = encoder, encoder_code = codes_of("encoder")[[encoder]], set_embedding = as.integer(set_embedding),
    set_code = as.integer(set_code), aux_dim = as.integer(aux_dim),
    point_mass = point_mass, binary_other = binary_other, temperature = temperature,
    category_group = as.integer(category_group), category_ordinal = as.integer(category_ordinal),
    rating_lower = as.numeric(rating_lower), rating_upper = as.numeric(rating_upper),
    category_value = as.numeric(category_value), log_scale = as.numeric(log_scale),
    precision = precision, precision_code = codes_of("precision")[[precision]],
    registry_version = registry()$version
  )
}

# `direction` says which values of each column go missing in the
# `selfmask_known` model: "high" (+1, the default) or "low" (-1).
check_direction <- function(direction, columns) {
  p <- length(columns)
  values <- if (is.character(direction)) {
    bad <- setdiff(direction, c("high", "low"))
    if (length(bad)) {
      deepmnar_abort(sprintf("`direction` must hold \"high\" or \"low\" (or +1 / -1), not %s.", describe(bad)),
                     data = list(argument = "direction"))
    }
    ifelse(direction == "high", 1, -1)
  } else if (is.numeric(direction) && !anyNA(direction) && all(direction %in% c(-1, 1))) {
    as.numeric(direction)
  } else {
    deepmnar_abort(sprintf("`direction` must hold \"high\" or \"low\" (or +1 / -1), not %s.", describe(direction)),
                   data = list(argument = "direction"))
  }
  if (!is.null(names(direction))) {
    unknown <- setdiff(names(direction), columns)
    if (length(unknown)) {
      deepmnar_abort(sprintf("`direction` names unknown column %s.", quote_names(unknown)),
                     data = list(argument = "direction", columns = unknown))
    }
    out <- rep(1, p)
    out[match(names(direction), columns)] <- values
    return(out)
  }
  if (length(values) == 1) return(rep(values, p))
  if (length(values) != p) {
    deepmnar_abort(sprintf("`direction` must have length 1 or %d (one per column), not %d.", p, length(values)),
                   data = list(argument = "direction"))
  }
  values
}

# The `direction` of each column for the mask model: a shared slope
# (shares_slope()) has one for all columns, and `NULL` (the user gave
# none) leaves its sign to training, 0 for the engine.
mask_directions <- function(missing_model, direction, columns) {
  if (!shares_slope(missing_model)) return(check_direction(direction, columns))
  if (is.null(direction)) return(rep(0, length(columns)))
  values <- check_direction(direction, columns)
  if (length(unique(values)) > 1) {
    deepmnar_abort(paste0(
      "`direction` must give every column the same direction with `missing_model = \"", missing_model, "\"`: its one ",
      "slope is shared by all columns. Give one of \"high\" or \"low\", or leave `direction` out to learn the sign."),
      data = list(argument = "direction"))
  }
  values
}

# Which engine columns are levels of a categorical variable (fits made
# before categorical columns have none).
level_columns <- function(spec) {
  if (is.null(spec$category_group)) return(rep(FALSE, spec$p))
  spec$category_group > 0
}

# Column types: what each column of the user's data is, how it enters the
# engine (numbers) and how imputations go back to its type. The rule, by the
# column's class:
#   numeric, integer      continuous (Gaussian or Student-t, with the point
#                         masses and floors of observation.R); integer columns
#                         (counts) get rounded imputations
#   logical, 2-level      binary: a Bernoulli, whose missing draws are relaxed
#   factor or ordered     in training (components.h); in psmvae(), which has
#                         no point masses, a categorical with two levels
#   factor with           categorical: one engine column per level holding the
#   3-50 levels           one-hot code, a softmax over the levels, missing
#                         levels drawn by Gumbel-softmax in training
#   ordered factor with   ordinal: the same columns and draws, with the level
#   3-50 levels           probabilities of a cumulative logit (one location
#                         from the decoder, K - 1 learned cutpoints)
# Characters, dates and factors with one level or more than
# `max_factor_levels()` levels are refused with what to do.

# A level is an engine column, a decoder logit and an effect in the mask
# model, each learned from the rows that hold it: past 50 levels (postcodes,
# identifiers) most levels rest on a handful of rows in tables of the sizes
# these models fit, and grouping levels serves the user better.
max_factor_levels <- function() 50L

# The type of each column of `data` (a data.frame or matrix): a list per
# column with `kind` ("numeric", "integer", "binary" or "categorical"),
# `class` (the R class to give back) and, for binary and categorical columns,
# `levels` (binary: coded 0 and 1) and, for categorical ones, `units` (the
# names of its engine columns, one per level).
column_types <- function(data, arg = "data") {
  if (!is.data.frame(data)) return(NULL)
  types <- lapply(names(data), function(name) column_type(data[[name]], name, arg))
  names(types) <- names(data)
  types
}

column_type <- function(col, name, arg) {
  refuse <- function(text) deepmnar_abort(sprintf(text, name, arg), data = list(argument = arg, columns = name))
  if (length(dim(col)) > 1) {
    refuse(paste0("Column `%s` of `%s` is a matrix or data.frame column (it holds several columns in one): split it ",
                  "into ordinary columns first, e.g. `do.call(data.frame, data)`."))
  }
  if (inherits(col, c("Date", "POSIXt", "difftime"))) {
    refuse("Column `%s` of `%s` holds dates or times: convert it to numbers (e.g. days since a reference date) first.")
  }
  if (is.logical(col) && !all(is.na(col))) return(list(kind = "binary", class = "logical", levels = c("FALSE", "TRUE")))
  if (is.factor(col)) return(factor_type(col, name, arg))
  if (is.character(col)) refuse("Column `%s` of `%s` holds character strings: make it a factor (or numbers) first.")
  if (!is.numeric(col) && !all(is.na(col))) {
    refuse("Column `%s` of `%s` is not numeric, logical or a factor: drop it or convert it first.")
  }
  list(kind = if (is.integer(col)) "integer" else "numeric", class = class(col)[1], levels = NULL)
}

factor_type <- function(col, name, arg) {
  lv <- levels(col)
  cls <- if (is.ordered(col)) "ordered" else "factor"
  refuse <- function(text, ...) deepmnar_abort(sprintf(text, name, arg, ...), data = list(argument = arg, columns = name))
  if (all(is.na(col))) refuse("Column `%s` of `%s` is a factor with no observed value: nothing can be learned about it; drop it.")
  if (length(lv) < 2) {
    refuse("Column `%s` of `%s` is a factor with one level (%s): it carries no information; drop it.", describe(lv))
  }
  if (length(lv) == 2) return(list(kind = "binary", class = cls, levels = lv))
  if (length(lv) > max_factor_levels()) {
    refuse(paste0("Column `%s` of `%s` is a factor with %d levels; deepmnar models at most %d levels per factor ",
                  "(each level needs rows of its own to be learned): group rare levels, or drop it."),
           length(lv), max_factor_levels())
  }
  list(kind = "categorical", class = cls, levels = lv, units = paste0(name, "=", lv))
}

# `obs = "categorical"`: each numeric column becomes a categorical variable
# over its rating levels, the grid from the lower to the upper end of its
# range (`ranges`, a row per column) in steps of its grain (1 for whole
# numbers, else the smallest gap between observed values), with any observed
# value off the grid. Levels never observed still get a logit of their own,
# which the mask model can favour: under MNAR the lowest ratings of an item
# may never be seen. Imputations come back as numbers (`values`).
numeric_as_rating_levels <- function(data, types, ranges) {
  for (name in names(types)[vapply(types, function(t) t$kind %in% c("numeric", "integer"), logical(1))]) {
    types[[name]] <- rating_level_type(data[[name]], types[[name]]$class, name, ranges[name, ])
  }
  types
}

rating_level_type <- function(col, class, name, ends) {
  seen <- sort(unique(col[!is.na(col)]))
  whole <- all(c(seen, ends) == round(c(seen, ends)))
  step <- if (whole || length(seen) < 2) 1 else min(diff(seen))
  values <- sort(unique(c(seq(ends[[1]], ends[[2]], by = step), seen)))
  if (length(values) > max_factor_levels()) {
    deepmnar_abort(sprintf(paste0("Column `%s` of `data` has %d rating levels between %s and %s; `obs = \"categorical\"` ",
                                  "models at most %d (see `max_factor_levels()`): use `obs = \"rating\"`."),
                           name, length(values), format(ends[[1]]), format(ends[[2]]), max_factor_levels()),
                   data = list(argument = "obs", columns = name))
  }
  levels <- format(values, trim = TRUE)
  list(kind = "categorical", class = class, levels = levels, values = values, units = paste0(name, "=", levels))
}

# Binary columns as categorical ones with two levels (two engine columns),
# for a model without the binary (point-mass) observation model.
binary_as_categorical <- function(types) {
  for (name in binary_columns(types)) {
    types[[name]]$kind <- "categorical"
    types[[name]]$units <- paste0(name, "=", types[[name]]$levels)
  }
  types
}

columns_of_kind <- function(types, kind) {
  if (is.null(types)) return(character(0))
  names(types)[vapply(types, function(t) identical(t$kind, kind), logical(1))]
}
binary_columns <- function(types) columns_of_kind(types, "binary")
categorical_columns <- function(types) columns_of_kind(types, "categorical")

# The engine's columns: binary columns become 0/1 (their first and second
# level) and a categorical column is replaced, in place, by one indicator
# column per level (all NA where it is missing). An unseen level is an error
# naming the column and the level.
encode_columns <- function(data, types, arg) {
  for (name in binary_columns(types)) data[[name]] <- level_codes(data[[name]], types[[name]], name, arg) - 1
  categorical <- categorical_columns(types)
  if (!length(categorical)) return(data)
  pieces <- lapply(names(data), function(name) {
    if (!name %in% categorical) return(data[name])
    code <- level_codes(data[[name]], types[[name]], name, arg)
    onehot <- outer(code, seq_along(types[[name]]$levels), `==`) + 0
    colnames(onehot) <- types[[name]]$units
    as.data.frame(onehot, optional = TRUE)
  })
  out <- do.call(cbind, pieces)
  names(out) <- unlist(lapply(pieces, names))
  out
}

# 1-based codes of a factor's (or logical's) values among the fit's levels.
level_codes <- function(col, type, name, arg) {
  if (!is.null(type$values)) return(rating_level_codes(col, type, name, arg))
  if (is.logical(col) || (all(is.na(col)) && !is.factor(col))) return(as.numeric(col) + 1)
  values <- as.character(col)
  unseen <- setdiff(unique(values[!is.na(values)]), type$levels)
  if (length(unseen)) {
    deepmnar_abort(sprintf("Column `%s` of `%s` has level %s, which the model was not fitted with (levels: %s).",
                           name, arg, quote_names(unseen), paste(type$levels, collapse = ", ")),
                   data = list(argument = arg, columns = name, levels = unseen))
  }
  match(values, type$levels)
}

# Per engine column: the standardised value of the rating level it is (by the
# observed values' mean and sd of its column; engine's spec$category_value),
# NA elsewhere.
rating_level_values <- function(columns, types, data) {
  out <- rep(NA_real_, length(columns))
  for (name in categorical_columns(types)) {
    type <- types[[name]]
    if (is.null(type$values)) next
    seen <- data[[name]][!is.na(data[[name]])]
    spread <- if (length(seen) > 1 && stats::sd(seen) > 0) stats::sd(seen) else 1
    out[match(type$units, columns)] <- (type$values - mean(seen)) / spread
  }
  out
}

rating_level_codes <- function(col, type, name, arg) {
  code <- match(col, type$values)
  unseen <- unique(col[!is.na(col) & is.na(code)])
  if (length(unseen)) {
    deepmnar_abort(sprintf("Column `%s` of `%s` has value %s, not one of the rating levels the model was fitted with (%s).",
                           name, arg, paste(format(unseen), collapse = ", "), paste(type$levels, collapse = ", ")),
                   data = list(argument = arg, columns = name, levels = unseen))
  }
  code
}

# Per engine column: 0, or the number of the categorical variable it is a
# level of (engine's spec$category_group).
category_groups <- function(columns, types) {
  group <- integer(length(columns))
  categorical <- categorical_columns(types)
  for (g in seq_along(categorical)) group[columns %in% types[[categorical[g]]]$units] <- g
  group
}

# The engine columns (one per level) of the categorical columns `names`.
level_unit_names <- function(types, names = categorical_columns(types)) {
  unlist(lapply(types[names], `[[`, "units"), use.names = FALSE)
}

# Per engine column: 1 for the levels of an ordered factor (a cumulative
# logit in the engine), else 0.
ordinal_levels <- function(columns, types) {
  ordered <- Filter(function(name) identical(types[[name]]$class, "ordered"), categorical_columns(types))
  as.integer(columns %in% level_unit_names(types, ordered))
}

# 0/1 (or a probability, cut at 1/2: the posterior mode) back to the column's
# levels and class.
decode_binary <- function(values, type) {
  code <- ifelse(is.na(values), NA_integer_, as.integer(values >= 0.5))
  as_levels(code + 1L, type)
}

# Rows of level probabilities (or one-hot draws) back to the most probable
# level, in the column's class.
decode_categorical <- function(probabilities, type) {
  probabilities <- matrix(probabilities, ncol = length(type$levels))
  # rating levels: the expected rating (a mean of one-hot draws is the draw)
  if (!is.null(type$values)) return(drop(probabilities %*% type$values))
  code <- max.col(probabilities, ties.method = "first")
  code[!stats::complete.cases(probabilities)] <- NA_integer_
  as_levels(code, type)
}

as_levels <- function(code, type) {
  switch(type$class,
         logical = as.logical(code - 1L),
         ordered = factor(type$levels[code], levels = type$levels, ordered = TRUE),
         factor(type$levels[code], levels = type$levels))
}

# The engine's columns (a data.frame) back to the user's: each categorical
# variable's indicators collapsed into its factor, in the original order.
collapse_categories <- function(frame, types) {
  for (name in categorical_columns(types)) {
    units <- types[[name]]$units
    frame[[name]] <- decode_categorical(as.matrix(frame[units]), types[[name]])
  }
  frame[names(types)]
}

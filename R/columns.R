# Column types: what each column of the user's data is, how it enters the
# engine (numbers) and how imputations go back to its type. Numeric and
# integer columns are modelled as continuous; logical columns and factors
# with two levels as binary (a Bernoulli whose missing draws are relaxed in
# training, see components.h); other factors and characters are refused with
# what to do.

# The type of each column of `data` (a data.frame or matrix): a list per
# column with `kind` ("numeric", "integer" or "binary"), `class` (the R class
# to give back) and, for binary columns, `levels` (coded 0 and 1).
column_types <- function(data, arg = "data") {
  if (!is.data.frame(data)) return(NULL)
  types <- lapply(names(data), function(name) column_type(data[[name]], name, arg))
  names(types) <- names(data)
  types
}

column_type <- function(col, name, arg) {
  if (is.logical(col) && !all(is.na(col))) return(list(kind = "binary", class = "logical", levels = c("FALSE", "TRUE")))
  if (is.factor(col)) {
    lv <- levels(col)
    if (length(lv) == 2) {
      return(list(kind = "binary", class = if (is.ordered(col)) "ordered" else "factor", levels = lv))
    }
    deepmnar_abort(sprintf(paste0(
      "Column `%s` of `%s` is a factor with %d levels; deepmnar models numeric and two-level (binary) columns so ",
      "far. Recode it as binary indicators, or drop it."), name, arg, length(lv)),
      data = list(argument = arg, columns = name))
  }
  if (is.character(col)) {
    deepmnar_abort(sprintf("Column `%s` of `%s` holds character strings: make it a factor (or numbers) first.", name, arg),
                   data = list(argument = arg, columns = name))
  }
  list(kind = if (is.integer(col)) "integer" else "numeric", class = class(col)[1], levels = NULL)
}

binary_columns <- function(types) {
  if (is.null(types)) return(character(0))
  names(types)[vapply(types, function(t) identical(t$kind, "binary"), logical(1))]
}

# Binary columns become 0/1 (their first and second level); an unseen level
# is an error naming the column and the level.
encode_binary <- function(data, types, arg) {
  for (name in binary_columns(types)) {
    col <- data[[name]]
    if (is.logical(col) || (all(is.na(col)) && !is.factor(col))) {
      data[[name]] <- as.numeric(col)
      next
    }
    values <- as.character(col)
    unseen <- setdiff(unique(values[!is.na(values)]), types[[name]]$levels)
    if (length(unseen)) {
      deepmnar_abort(sprintf("Column `%s` of `%s` has level %s, which the model was not fitted with (levels: %s).",
                             name, arg, quote_names(unseen), paste(types[[name]]$levels, collapse = ", ")),
                     data = list(argument = arg, columns = name, levels = unseen))
    }
    data[[name]] <- match(values, types[[name]]$levels) - 1
  }
  data
}

# 0/1 (or a probability, cut at 1/2: the posterior mode) back to the column's
# levels and class.
decode_binary <- function(values, type) {
  code <- ifelse(is.na(values), NA_integer_, as.integer(values >= 0.5))
  switch(type$class,
         logical = as.logical(code),
         ordered = factor(type$levels[code + 1L], levels = type$levels, ordered = TRUE),
         factor(type$levels[code + 1L], levels = type$levels))
}

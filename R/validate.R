# Checks of user input. Each returns the cleaned value or raises a classed
# error that names the argument or the column and says what to do.

check_count <- function(x, arg, min = 1, max = Inf) {
  ok <- is.numeric(x) && length(x) == 1 && !is.na(x) && is.finite(x) && x == round(x) && x >= min && x <= max
  if (!ok) {
    range <- if (is.finite(max)) sprintf("between %s and %s", format(min), format(max)) else sprintf("at least %s", format(min))
    deepmnar_abort(sprintf("`%s` must be a single whole number %s, not %s.", arg, range, describe(x)),
                   data = list(argument = arg))
  }
  as.integer(x)
}

check_positive_number <- function(x, arg, max = Inf) {
  ok <- is.numeric(x) && length(x) == 1 && !is.na(x) && is.finite(x) && x > 0 && x <= max
  if (!ok) {
    deepmnar_abort(sprintf("`%s` must be a single positive number%s, not %s.", arg,
                           if (is.finite(max)) sprintf(" at most %s", format(max)) else "", describe(x)),
                   data = list(argument = arg))
  }
  as.numeric(x)
}

check_number <- function(value, arg, lower = -Inf, upper = Inf) {
  if (!is.numeric(value) || length(value) != 1L || !is.finite(value)) {
    abort_input(sprintf("`%s` must be a single finite number.", arg))
  }
  if (value < lower || value > upper) {
    abort_input(sprintf("`%s` must be between %s and %s, not %s.", arg,
                        lower, upper, format(value)))
  }
}

check_nonnegative_number <- function(x, arg) {
  ok <- is.numeric(x) && length(x) == 1 && !is.na(x) && is.finite(x) && x >= 0
  if (!ok) {
    deepmnar_abort(sprintf("`%s` must be a single number >= 0, not %s.", arg, describe(x)), data = list(argument = arg))
  }
  as.numeric(x)
}

check_hidden <- function(hidden, arg = "hidden") {
  ok <- is.numeric(hidden) && length(hidden) >= 1 && !anyNA(hidden) && all(is.finite(hidden)) &&
    all(hidden == round(hidden)) && all(hidden >= 1) && all(hidden <= 4096)
  if (!ok) {
    deepmnar_abort(sprintf("`%s` must be a vector of layer widths, whole numbers between 1 and 4096 (e.g. c(128, 128)), not %s.",
                           arg, describe(hidden)), data = list(argument = arg))
  }
  as.integer(hidden)
}

check_choice <- function(x, choices, arg) {
  if (identical(x, choices)) return(choices[[1]])
  if (!is.character(x) || length(x) != 1 || is.na(x) || !x %in% choices) {
    deepmnar_abort(sprintf("`%s` must be one of %s, not %s.", arg, quote_names(choices, Inf), describe(x)),
                   data = list(argument = arg))
  }
  x
}

check_seed <- function(seed) {
  if (is.null(seed)) return(sample.int(.Machine$integer.max, 1))
  check_count(seed, "seed", min = 0, max = .Machine$integer.max)
}

default_threads <- function() {
  as.integer(getOption("deepmnar.threads", min(RcppParallel::defaultNumThreads(), 4L)))
}

check_threads <- function(threads) {
  if (is.null(threads)) return(default_threads())
  check_count(threads, "threads", min = 1, max = 1024)
}

describe <- function(x) {
  if (is.null(x)) return("NULL")
  if (is.character(x) && length(x) == 1) return(sprintf("\"%s\"", x))
  if (is.atomic(x) && length(x) == 1) return(format(x))
  if (is.atomic(x) && length(x) <= 4) return(sprintf("c(%s)", paste(format(x), collapse = ", ")))
  sprintf("a %s of length %d", class(x)[1], length(x))
}

# Turns data into a numeric matrix, refusing what cannot be imputed.
as_numeric_matrix <- function(data, arg = "data") {
  if (is.matrix(data)) {
    if (!is.numeric(data) && !all(is.na(data))) {
      deepmnar_abort(sprintf("`%s` must be numeric; this matrix is %s.", arg, typeof(data)), data = list(argument = arg))
    }
    if (ncol(data) == 0) deepmnar_abort(sprintf("`%s` has no columns.", arg), data = list(argument = arg))
    cols <- colnames(data)
    if (is.null(cols)) cols <- paste0("V", seq_len(ncol(data)))
    check_column_names(cols, arg)
    x <- matrix(as.numeric(data), nrow(data), ncol(data), dimnames = list(NULL, cols))
    return(x)
  }
  if (!is.data.frame(data)) {
    deepmnar_abort(sprintf("`%s` must be a data.frame, tibble or numeric matrix, not %s.", arg, class(data)[1]),
                   data = list(argument = arg))
  }
  check_column_names(names(data), arg)
  bad <- names(data)[!vapply(data, function(col) is.numeric(col) || all(is.na(col)), logical(1))]
  if (length(bad)) {
    deepmnar_abort(sprintf(
      "Column %s of `%s` is %s, where the model needs numbers: convert it or drop it first.",
      quote_names(bad[1]), arg, describe_class(data[[bad[1]]])), data = list(argument = arg, columns = bad))
  }
  x <- matrix(vapply(data, as.numeric, numeric(nrow(data))), nrow(data), ncol(data))
  colnames(x) <- names(data)
  x
}

describe_class <- function(col) {
  if (is.factor(col)) return("a factor")
  if (is.character(col)) return("a character column")
  if (is.logical(col)) return("a logical column")
  paste("of class", class(col)[1])
}

# Columns are matched by name (newdata, imputed output), so names must be
# present and unique.
check_column_names <- function(cols, arg) {
  if (!length(cols)) return(invisible(cols))
  unnamed <- which(is.na(cols) | cols == "")
  if (length(unnamed)) {
    deepmnar_abort(sprintf("Column %s of `%s` has no name: give every column a name.",
                           paste(unnamed, collapse = ", "), arg), data = list(argument = arg))
  }
  dup <- unique(cols[duplicated(cols)])
  if (length(dup)) {
    deepmnar_abort(sprintf("Column name %s appears more than once in `%s`: column names must be unique.",
                           quote_names(dup), arg), data = list(argument = arg, columns = dup))
  }
  invisible(cols)
}

# `levels` marks the indicator columns of categorical variables, whose
# constancy (a level never seen) is no concern of the user's.
check_training_matrix <- function(x, levels = rep(FALSE, ncol(x))) {
  if (nrow(x) < 2) {
    deepmnar_abort(sprintf("`data` must have at least 2 rows, not %d.", nrow(x)), data = list(argument = "data"))
  }
  if (ncol(x) < 1) deepmnar_abort("`data` has no columns.", data = list(argument = "data"))
  check_cells(x, "data")
  empty <- colnames(x)[colSums(!is.na(x)) == 0]
  if (length(empty)) {
    deepmnar_abort(sprintf("Column %s of `data` has no observed value, so nothing can be learned about it: drop it.",
                           quote_names(empty)), data = list(argument = "data", columns = empty))
  }
  sds <- apply(x, 2, stats::sd, na.rm = TRUE)
  huge <- colnames(x)[is.infinite(sds) | !is.finite(colMeans(x, na.rm = TRUE))]
  if (length(huge)) {
    deepmnar_abort(sprintf(
      "Column %s of `data` has values too large for its mean and standard deviation to be computed (they overflow): rescale it.",
      quote_names(huge)), data = list(argument = "data", columns = huge))
  }
  # Values that differ by less than the smallest normal double have a
  # standard deviation of 0 (it underflows), or one whose inverse overflows.
  # (Only those columns are scanned for distinct values: this runs on every fit.)
  suspect <- which(!is.na(sds) & (sds == 0 | !is.finite(1 / sds)))
  distinct <- vapply(suspect, function(j) length(unique(x[!is.na(x[, j]), j])) > 1, logical(1))
  tiny <- colnames(x)[suspect[distinct]]
  if (length(tiny)) {
    deepmnar_abort(sprintf(
      "Column %s of `data` has values too close together for their standard deviation to be computed (it underflows): rescale it.",
      quote_names(tiny)), data = list(argument = "data", columns = tiny))
  }
  # As mice drops a constant column from its models: a fully observed one
  # tells the model nothing and has nothing to impute.
  fixed <- colnames(x)[!is.na(sds) & sds == 0 & colSums(is.na(x)) == 0 & !levels]
  if (length(fixed)) {
    deepmnar_abort(sprintf(paste0(
      "Column %s of `data` is constant and fully observed: it carries no information and has nothing to impute. ",
      "Drop it before fitting (and add it back to the imputed data)."), quote_names(fixed)),
      data = list(argument = "data", columns = fixed))
  }
  constant <- colnames(x)[(is.na(sds) | sds == 0) & colSums(is.na(x)) > 0 & !levels]
  if (length(constant)) {
    deepmnar_warn(sprintf(paste0(
      "Column %s of `data` takes a single value over its observed cells: nothing in the data says what else its ",
      "missing cells could be, so they are imputed as that value. Consider dropping it."),
      quote_names(constant)), kind = "constant_column")
  }
  invisible(x)
}

check_cells <- function(x, arg) {
  nonfinite <- is.nan(x) | is.infinite(x)
  if (any(nonfinite)) {
    cols <- colnames(x)[colSums(nonfinite) > 0]
    deepmnar_abort(sprintf(
      "Column %s of `%s` holds Inf or NaN values. Recode them as NA if they are missing, or fix them.",
      quote_names(cols), arg), data = list(argument = arg, columns = cols))
  }
}

# The rows a fit's methods work on: the training data, or `newdata` aligned
# to the training columns.
rows_of <- function(fit, newdata) {
  if (is.null(newdata)) fit$data else align_newdata(newdata, fit$columns, fit$data_format$types)
}

# newdata must carry the training columns; they are reordered to match, and
# binary columns are coded with the fit's levels.
align_newdata <- function(newdata, columns, types = NULL) {
  if (is_sparse_input(newdata)) return(align_sparse_newdata(newdata, columns))
  # rating levels (obs = "categorical") are coded from numbers, matrix or not
  if (!is.data.frame(newdata) && length(categorical_columns(types))) newdata <- as_rating_frame(newdata)
  if (is.data.frame(newdata)) newdata <- encode_columns(newdata, types[intersect(names(types), names(newdata))], "newdata")
  x <- as_numeric_matrix(newdata, "newdata")
  missing_cols <- setdiff(columns, colnames(x))
  extra_cols <- setdiff(colnames(x), columns)
  if (length(missing_cols) || length(extra_cols)) {
    parts <- c(if (length(missing_cols)) sprintf("lacks %s", quote_names(missing_cols)),
               if (length(extra_cols)) sprintf("has %s, unknown to the fit", quote_names(extra_cols)))
    deepmnar_abort(sprintf("`newdata` must have the columns the model was fitted on: it %s.",
                           paste(parts, collapse = " and ")),
                   data = list(argument = "newdata", columns = c(missing_cols, extra_cols)))
  }
  x <- x[, columns, drop = FALSE]
  check_cells(x, "newdata")
  x
}

check_probability <- function(x, arg) {
  ok <- is.numeric(x) && length(x) == 1 && !is.na(x) && x >= 0 && x <= 1
  if (!ok) {
    deepmnar_abort(sprintf("`%s` must be a single number between 0 and 1, not %s.", arg, describe(x)),
                   data = list(argument = arg))
  }
  as.numeric(x)
}

# S3 methods must take `...`; an argument that lands there is a typo or an
# argument of another function, and ignoring it would impute the wrong data.
check_no_extra_args <- function(...) {
  extra <- list(...)
  if (!length(extra)) return(invisible())
  nms <- names(extra)
  if (is.null(nms)) nms <- rep("", length(extra))
  shown <- ifelse(nzchar(nms), sprintf("`%s`", nms), sprintf("an unnamed argument (position %d)", seq_along(nms)))
  deepmnar_abort(sprintf("Unknown argument %s: check its spelling (e.g. `newdata`, not `new_data`).",
                         paste(shown, collapse = ", ")), data = list(argument = nms[1]))
}

check_flag <- function(x, arg) {
  if (!is.logical(x) || length(x) != 1 || is.na(x)) {
    deepmnar_abort(sprintf("`%s` must be TRUE or FALSE, not %s.", arg, describe(x)), data = list(argument = arg))
  }
  x
}

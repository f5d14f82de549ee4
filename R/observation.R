# How each column is observed: the floor of its decoder scale and its point
# mass, chosen from the column's own values unless the user gives them.

# A value recorded to a grain of `g` is only known to within +-g/2, so a
# continuous density for it should not be narrower than the rounding error,
# sd g / sqrt(12). The grain is the smallest gap between distinct observed
# values; on finely recorded data it is tiny and the floor of 1e-4 sd applies.
resolution_floor <- function(col, sd) {
  values <- sort(unique(col[!is.na(col)]))
  if (length(values) < 2) return(1)
  gaps <- diff(values)
  grain <- min(gaps[gaps > 1e-12 * (values[length(values)] - values[1])])
  max(1e-4, grain / (sqrt(12) * sd))
}

# `sigma_floor`: "auto", one number for every column, or numbers per column
# (unnamed, one per column; or named, the others "auto").
column_floors <- function(sigma_floor, x) {
  columns <- colnames(x)
  auto <- vapply(seq_along(columns), function(j) resolution_floor(x[, j], stats::sd(x[, j], na.rm = TRUE)), 0)
  if (identical(sigma_floor, "auto")) return(stats::setNames(auto, columns))
  values <- per_column_values(sigma_floor, columns, "sigma_floor", function(v) is.numeric(v) && all(is.finite(v) & v >= 0 & v <= 1),
                              "numbers in [0, 1] or \"auto\"")
  stats::setNames(ifelse(is.na(values), auto, values), columns)
}

# A point mass is a value that a share of the column holds exactly at one
# end of its range: exact zeros of an amount, a detection limit, top-coding.
# Exact ties have no probability under a continuous model, which would shrink
# its scale onto them; a separate mass keeps them from driving the fit.
detect_point_mass <- function(col, share = 0.1) {
  col <- col[!is.na(col)]
  if (length(unique(col)) < 2) return(NA_real_)
  top <- most_frequent(col)
  at_end <- top$value == min(col) || top$value == max(col)
  if (at_end && top$share >= share) top$value else NA_real_
}

# The most frequent observed value of a column and the share of the observed
# cells that hold it.
most_frequent <- function(col) {
  col <- col[!is.na(col)]
  values <- unique(col)
  counts <- tabulate(match(col, values))
  list(value = values[which.max(counts)], share = max(counts) / length(col))
}

# `point_mass`: "auto", "none" (or NULL / FALSE), or a named vector of values
# for some columns (NA: none; the others "auto").
column_point_masses <- function(point_mass, x) {
  columns <- colnames(x)
  if (is.null(point_mass) || isFALSE(point_mass) || identical(point_mass, "none")) {
    return(stats::setNames(rep(NA_real_, length(columns)), columns))
  }
  auto <- vapply(seq_along(columns), function(j) detect_point_mass(x[, j]), 0)
  if (identical(point_mass, "auto")) return(stats::setNames(auto, columns))
  if (is.null(names(point_mass))) {
    deepmnar_abort("`point_mass` must be \"auto\", \"none\" or a named vector of values (NA for none) for some columns.",
                   data = list(argument = "point_mass"))
  }
  values <- per_column_values(point_mass, columns, "point_mass", function(v) is.numeric(v) && !any(is.infinite(v)),
                              "finite numbers or NA")
  given <- names(point_mass)
  out <- stats::setNames(auto, columns)
  out[given] <- values[match(given, columns)]
  absent <- given[!is.na(out[given]) & !vapply(given, function(g) any(x[, g] == out[[g]], na.rm = TRUE), logical(1))]
  if (length(absent)) {
    deepmnar_abort(sprintf("`point_mass` for column %s is a value that column never takes.", quote_names(absent)),
                   data = list(argument = "point_mass", columns = absent))
  }
  out
}

# Values given for all columns (unnamed: one, or one per column) or for some
# (named); NA where a named vector leaves a column out.
per_column_values <- function(v, columns, arg, ok, what) {
  if (is.logical(v) && length(v) && all(is.na(v))) v <- stats::setNames(rep(NA_real_, length(v)), names(v))
  if (!is.numeric(v) || !ok(v[!is.na(v)]) || (is.null(names(v)) && anyNA(v))) {
    deepmnar_abort(sprintf("`%s` must hold %s, not %s.", arg, what, describe(v)), data = list(argument = arg))
  }
  if (!is.null(names(v))) {
    unknown <- setdiff(names(v), columns)
    if (length(unknown)) {
      deepmnar_abort(sprintf("`%s` names unknown column %s.", arg, quote_names(unknown)),
                     data = list(argument = arg, columns = unknown))
    }
    return(as.numeric(v[columns]))
  }
  if (length(v) == 1) return(rep(as.numeric(v), length(columns)))
  if (length(v) != length(columns)) {
    deepmnar_abort(sprintf("`%s` must have length 1 or %d (one per column), not %d.", arg, length(columns), length(v)),
                   data = list(argument = arg))
  }
  as.numeric(v)
}

# The ends of each rating column's scale (a matrix with columns "lower" and
# "upper", NA off the `rating` columns): the observed minimum and maximum,
# unless `rating_range` gives them, as c(lower, upper) for every rating
# column, a 2-column matrix with a row per rating column, or a list of
# c(lower, upper), one per rating column or named for some (the others
# from the data).
column_rating_ranges <- function(rating_range, x, rating, obs) {
  ranges <- matrix(NA_real_, ncol(x), 2, dimnames = list(colnames(x), c("lower", "upper")))
  if (!is.null(rating_range) && obs != "rating") {
    deepmnar_abort(sprintf("`rating_range` applies to `obs = \"rating\"` or `\"categorical\"` only, not `obs = \"%s\"`.",
                           obs),
                   data = list(argument = "rating_range"))
  }
  columns <- colnames(x)[rating]
  if (!length(columns)) return(ranges)
  ranges[columns, "lower"] <- apply(x[, columns, drop = FALSE], 2, min, na.rm = TRUE)
  ranges[columns, "upper"] <- apply(x[, columns, drop = FALSE], 2, max, na.rm = TRUE)
  if (is.null(rating_range)) return(ranges)
  given <- given_rating_ranges(rating_range, columns)
  ranges[rownames(given), ] <- given
  outside <- columns[vapply(columns, function(col) {
    any(x[, col] < ranges[col, "lower"] | x[, col] > ranges[col, "upper"], na.rm = TRUE)
  }, logical(1))]
  if (length(outside)) {
    deepmnar_abort(sprintf(
      "Column %s holds observed values outside its `rating_range` (%s): widen the range or fix the values.",
      quote_names(outside), paste(sprintf("[%s, %s]", format(ranges[outside, "lower"]), format(ranges[outside, "upper"])),
                                  collapse = ", ")),
      data = list(argument = "rating_range", columns = outside))
  }
  ranges
}

# `rating_range` as a matrix of the rows it gives, named by column.
given_rating_ranges <- function(rating_range, columns) {
  bad <- function() {
    deepmnar_abort(sprintf(paste0(
      "`rating_range` must be c(lower, upper) for every rating column, a 2-column matrix with one row per rating ",
      "column, or a list of c(lower, upper), each finite with lower < upper; not %s."), describe(rating_range)),
      data = list(argument = "rating_range"))
  }
  given <- if (is.list(rating_range) && !is.data.frame(rating_range)) {
    if (!length(rating_range) || !all(vapply(rating_range, function(r) is.numeric(r) && length(r) == 2, logical(1)))) bad()
    out <- do.call(rbind, lapply(rating_range, as.numeric))
    rownames(out) <- names(rating_range)
    out
  } else if (is.matrix(rating_range) && is.numeric(rating_range) && ncol(rating_range) == 2) {
    rating_range
  } else if (is.numeric(rating_range) && is.null(dim(rating_range)) && length(rating_range) == 2) {
    matrix(rating_range, length(columns), 2, byrow = TRUE, dimnames = list(columns, NULL))
  } else {
    bad()
  }
  if (!all(is.finite(given)) || any(given[, 1] >= given[, 2])) bad()
  if (is.null(rownames(given))) {
    if (nrow(given) != length(columns)) {
      deepmnar_abort(sprintf("`rating_range` must have one row per rating column (%d), not %d.", length(columns),
                             nrow(given)), data = list(argument = "rating_range"))
    }
    rownames(given) <- columns
  }
  unknown <- setdiff(rownames(given), columns)
  if (length(unknown)) {
    deepmnar_abort(sprintf("`rating_range` names %s, not a rating column of `data`.", quote_names(unknown)),
                   data = list(argument = "rating_range", columns = unknown))
  }
  given
}

# The observation model of each column, kept in the fit for print(),
# summary() and the user.
observation_table <- function(x, obs, floors, masses, ranges = NULL, logged = rep(FALSE, ncol(x))) {
  share <- vapply(seq_len(ncol(x)), function(j) if (is.na(masses[j])) NA_real_ else mean(x[, j] == masses[j], na.rm = TRUE), 0)
  out <- data.frame(column = colnames(x), family = obs, point_mass = unname(masses), point_mass_share = share,
                    scale_floor = unname(floors), transform = ifelse(logged, "log", "none"), row.names = NULL)
  if (!is.null(ranges)) {
    out$rating_lower <- unname(ranges[, "lower"])
    out$rating_upper <- unname(ranges[, "upper"])
  }
  out
}

describe_observation <- function(fit) {
  tab <- fit$observation
  if (is.null(tab)) return(character(0))
  masses <- tab[!is.na(tab$point_mass) & !tab$family %in% c("bernoulli", "constant"), ]
  mass_text <- if (nrow(masses)) {
    paste(sprintf("%s at %s (%.0f%%)", masses$column, format(masses$point_mass, digits = 4), 100 * masses$point_mass_share),
          collapse = ", ")
  } else "none"
  floors <- suppressWarnings(range(tab$scale_floor, na.rm = TRUE))
  floor_text <- if (!all(is.finite(floors))) "none" else if (floors[1] == floors[2]) format(floors[1], digits = 2) else
    sprintf("%s to %s", format(floors[1], digits = 2), format(floors[2], digits = 2))
  binary <- tab$column[tab$family == "bernoulli"]
  constant <- tab$column[tab$family == "constant"]
  types <- fit$data_format$types
  categorical <- vapply(types[categorical_columns(types)], function(t) length(t$levels), integer(1))
  ordered <- vapply(types[names(categorical)], function(t) identical(t$class, "ordered"), logical(1))
  describe_levels <- function(keep) paste(sprintf("%s (%d levels)", names(categorical)[keep], categorical[keep]), collapse = ", ")
  ratings <- tab[tab$family == "rating", ]
  rating_text <- if (nrow(ratings)) {
    ends <- sprintf("[%s, %s]", format(ratings$rating_lower), format(ratings$rating_upper))
    # PSMVAE's two heads keep the scales they give per sample
    scales <- if (identical(fit$spec$model, "psmvae")) "scales from the decoder" else "one scale per column"
    sprintf("ratings (Gaussian, mean inside the range, %s): %s", scales,
            paste(vapply(unique(ends), function(e) sprintf("%s on %s", name_list(ratings$column[ends == e]), e),
                         character(1)), collapse = "; "))
  }
  logged <- if (is.null(tab$transform)) character(0) else tab$column[tab$transform == "log"]
  c(if (length(binary)) sprintf("binary (Bernoulli): %s", name_list(binary)),
    if (length(logged)) sprintf("log scale (Gaussian logs; means imputed as E[x]): %s", name_list(logged)),
    rating_text,
    if (any(!ordered)) sprintf("categorical (softmax; Gumbel-softmax draws in training): %s", describe_levels(!ordered)),
    if (any(ordered)) sprintf("ordinal (cumulative logit; Gumbel-softmax draws in training): %s", describe_levels(ordered)),
    if (length(constant)) sprintf("one observed value (imputed as it): %s", name_list(constant)),
    sprintf("point masses: %s; scale floors: %s sd", mass_text, floor_text))
}

# Column names for a line of print(): the first `max` and how many more, so
# that a table of a thousand items prints in one line.
name_list <- function(names, max = 8) {
  if (length(names) <= max) return(paste(names, collapse = ", "))
  sprintf("%s and %d more", paste(names[seq_len(max)], collapse = ", "), length(names) - max)
}

# Columns modelled on the log scale. A positive, right-skewed column (an
# income, a concentration, a price) is far from Gaussian given z, and the
# tail that goes missing under self-masking is the part a Gaussian decoder
# reaches worst. Its logs are modelled instead (standardised by their own mean
# and sd, the mask model reading them); imputed means are E[x] on the original
# scale, E[exp(log x)], not exp(E[log x]) (the engine's log_scale), and
# medians and draws are transformed back.

# Which columns are logged: `transform` is "none", "auto", "log" (every
# eligible column) or a named vector of "log" / "none" for some columns (the
# others "auto"). `eligible` marks the continuous columns without a point mass.
choose_log_columns <- function(transform, x, eligible) {
  columns <- colnames(x)
  auto <- vapply(seq_along(columns), function(j) eligible[j] && looks_log_normal(x[, j]), logical(1))
  names(auto) <- columns
  if (is.character(transform) && is.null(names(transform)) && length(transform) == 1 &&
      transform %in% c("none", "auto", "log")) {
    if (transform == "none") return(stats::setNames(rep(FALSE, length(columns)), columns))
    if (transform == "auto") return(auto)
    given <- columns[eligible]
    if (!length(given)) {
      deepmnar_abort(paste0("`transform = \"log\"`: no column can be logged (it is for continuous columns without a ",
                            "point mass under `obs = \"gaussian\"`, in dense data)."), data = list(argument = "transform"))
    }
    transform <- stats::setNames(rep("log", length(given)), given)
  }
  if (!is.character(transform) || is.null(names(transform)) || anyNA(transform) ||
      !all(transform %in% c("log", "none"))) {
    deepmnar_abort(paste0("`transform` must be \"none\", \"auto\", \"log\" or a named vector of \"log\" / \"none\" ",
                          "for some columns, not ", describe(transform), "."), data = list(argument = "transform"))
  }
  unknown <- setdiff(names(transform), columns)
  if (length(unknown)) {
    deepmnar_abort(sprintf("`transform` names unknown column %s.", quote_names(unknown)),
                   data = list(argument = "transform", columns = unknown))
  }
  logged <- names(transform)[transform == "log"]
  check_loggable(x, logged, eligible)
  out <- auto
  out[names(transform)] <- transform == "log"
  out
}

# A log needs positive values of a continuous column.
check_loggable <- function(x, logged, eligible) {
  not_continuous <- logged[!eligible[match(logged, colnames(x))]]
  if (length(not_continuous)) {
    deepmnar_abort(sprintf(paste0("`transform = \"log\"` is for continuous Gaussian columns; column %s is binary, ",
                                  "categorical, a rating, constant, has a point mass, `obs` is not \"gaussian\" or the data are sparse."),
                           quote_names(not_continuous)),
                   data = list(argument = "transform", columns = not_continuous))
  }
  nonpositive <- nonpositive_columns(x, logged)
  if (length(nonpositive)) {
    deepmnar_abort(sprintf("`transform = \"log\"` needs positive values; column %s has values <= 0.",
                           quote_names(nonpositive)), data = list(argument = "transform", columns = nonpositive))
  }
}

# The "auto" rule, Box and Cox's (1964) choice between their lambda = 1 (no
# transformation) and lambda = 0 (the log) by the Gaussian profile
# likelihood of the observed values, the log's Jacobian included:
# log when -n/2 log var(log y) - sum(log y) > -n/2 log var(y). It needs no
# skewness threshold, which matters here: when the high values of a skewed
# column go missing, what is observed is far less skewed than the column
# (in bench/coverage.R's skewed design, log-normal columns of skewness about
# 3 show 0.7 to 1.5 in their observed values), while the likelihood
# comparison still sees the shape. Positive columns with at least 20
# values, 10 of them distinct.
looks_log_normal <- function(col) {
  col <- col[!is.na(col)]
  if (length(col) < 20 || any(col <= 0) || length(unique(col)) < 10) return(FALSE)
  logs <- log(col)
  n <- length(col)
  spread <- function(v) mean((v - mean(v))^2)
  -n / 2 * log(spread(logs)) - sum(logs) > -n / 2 * log(spread(col))
}

# The data on the scale the model sees: logs of the log columns.
to_model_scale <- function(x, logged) {
  if (is.null(logged) || !any(logged)) return(x)
  x[, logged] <- log(x[, logged])
  x
}

from_model_scale <- function(x, logged) {
  if (is.null(logged) || !any(logged)) return(x)
  x[, logged] <- exp(x[, logged])
  x
}

# The named columns of `x` holding a value <= 0.
nonpositive_columns <- function(x, columns) {
  columns[vapply(columns, function(name) any(x[, name] <= 0, na.rm = TRUE), logical(1))]
}

# Values of log columns in data to impute must be positive too.
check_positive_log_columns <- function(x, logged, arg) {
  if (is.null(logged) || !any(logged) || is_sparse_input(x)) return(invisible())
  bad <- nonpositive_columns(x, colnames(x)[logged])
  if (length(bad)) {
    deepmnar_abort(sprintf("Column %s of `%s` has values <= 0, but the fit models its logs (`transform`).",
                           quote_names(bad), arg), data = list(argument = arg, columns = bad))
  }
}

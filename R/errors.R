# Classed conditions: every error the package raises on purpose inherits from
# "deepmnar_error", with a subclass saying what kind of problem it is, so that
# callers can catch them precisely.
deepmnar_abort <- function(message, kind = "input", data = list()) {
  cond <- structure(
    c(list(message = message, call = NULL), data),
    class = c(paste0("deepmnar_error_", kind), "deepmnar_error", "error", "condition")
  )
  stop(cond)
}

# An input error whose argument is the first name the message quotes in
# backticks (every message names the argument or column at fault).
abort_input <- function(message) {
  quoted <- regmatches(message, regexpr("`[^`]+`", message))
  argument <- if (length(quoted)) sub("^([A-Za-z_.][A-Za-z0-9_.]*).*$", "\\1", gsub("`", "", quoted)) else NULL
  deepmnar_abort(message, "input", data = list(argument = argument))
}

# The glue checks everything that crosses into the engine and refuses what
# does not fit with "deepmnar boundary: <field>: <problem>"; such a refusal
# is a damaged (or foreign) fit, raised as a classed error naming the field.
through_engine <- function(expr) {
  tryCatch(expr, error = function(e) {
    message <- conditionMessage(e)
    if (!startsWith(message, "deepmnar boundary: ")) stop(e)
    what <- sub("^deepmnar boundary: ", "", message)
    deepmnar_abort(sprintf("This fit is damaged or from another version of deepmnar: %s. Refit the model.", what),
                   kind = "damaged_fit", data = list(argument = "fit", field = sub(":.*", "", what)))
  })
}

deepmnar_warn <- function(message, kind = "input") {
  cond <- structure(
    list(message = message, call = NULL),
    class = c(paste0("deepmnar_warning_", kind), "deepmnar_warning", "warning", "condition")
  )
  warning(cond)
}

quote_names <- function(x, max = 5) {
  shown <- paste0("`", utils::head(x, max), "`", collapse = ", ")
  if (length(x) > max) paste0(shown, " and ", length(x) - max, " more") else shown
}

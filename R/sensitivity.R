#' Sensitivity of a pooled analysis to the missingness mechanism
#'
#' Under MNAR the data cannot tell which mechanism produced the missing values,
#' so a conclusion should be shown under several plausible ones. This fits one
#' model per assumption about the mechanism, draws proper multiple imputations
#' from each ([multiple_impute()] with `method = "bootstrap"`), runs the same
#' analysis on every completed dataset and pools it by Rubin's rules with
#' [mice::pool()]. The table and its plot show how the estimates and their
#' intervals move with the assumption, as delta-adjustment does for mice users.
#'
#' @param data The incomplete data (data.frame, tibble or numeric matrix).
#' @param analysis The analysis of one completed dataset: a function of the
#'   data.frame returning a model that [mice::pool()] can pool (e.g.
#'   `function(d) lm(y ~ x, data = d)`), or a formula, taken as `lm(formula)`.
#' @param models A named list of functions `function(data, seed)` that each fit
#'   a deepmnar model; [sensitivity_models()] gives the usual set.
#' @param m Imputations per model.
#' @param L Importance samples per imputed row.
#' @param seed Integer seed; every model gets the same one.
#' @param threads Threads of each fit and imputation.
#' @param progress Show progress.
#' @return A data.frame of class `deepmnar_sensitivity`, one row per model and
#'   term: `model`, `term`, `estimate`, `std.error`, `conf.low`, `conf.high`
#'   (95%), `df`, `fmi` (fraction of missing information), `seconds`
#'   (fit plus imputations), and the evidence: `loglik`, each model's held-out
#'   log-likelihood of the observed values and the mask per row
#'   ([logLik.deepmnar_fit()], the same held-out rows for every model fitted
#'   with the same seed and early stopping; `NA` otherwise), and `favoured`,
#'   `TRUE` for the models within one paired standard error of the best (the
#'   mechanisms the data cannot tell from the best supported). The data rank
#'   mechanisms within the models tried and cannot rule out the others: the
#'   spread of the estimates is the point of the analysis. `plot()` draws the
#'   estimates with their intervals, favoured models marked with `*`.
#' @examples
#' \donttest{
#' x <- banknote[1:300, 1:4]
#' x$variance[x$variance > mean(x$variance)] <- NA
#' models <- sensitivity_models(iterations = 500, threads = 1)
#' sens <- mnar_sensitivity(x, variance ~ skewness, models = models, m = 3, L = 200, seed = 1)
#' sens
#' plot(sens)
#' }
#' @export
mnar_sensitivity <- function(data, analysis, models = sensitivity_models(), m = 10, L = 1000, seed = NULL,
                             threads = NULL, progress = interactive()) {
  if (!requireNamespace("mice", quietly = TRUE)) {
    deepmnar_abort("`mnar_sensitivity()` pools with the mice package: install.packages(\"mice\").",
                   kind = "dependency", data = list(argument = "analysis"))
  }
  analyse <- as_analysis(analysis)
  models <- check_models(models)
  m <- check_count(m, "m", 2, 1000)
  seed <- check_seed(seed)
  threads <- check_threads(threads)
  scores <- list()
  rows <- lapply(names(models), function(name) {
    if (progress) cli::cli_alert_info("Fitting {name}")
    started <- proc.time()[["elapsed"]]
    fit <- models[[name]](data, seed)
    check_fit(fit)
    if (!is.null(fit$stopping$held_out_rows)) {
      scores[[name]] <<- held_out_scores(fit, K = 1000, seed = seed, threads = threads)
    }
    completed <- multiple_impute(fit, m = m, L = L, format = "list", seed = seed, threads = threads, progress = progress)
    pooled <- pool_analysis(completed, analyse, name)
    pooled$seconds <- proc.time()[["elapsed"]] - started
    pooled
  })
  out <- do.call(rbind, rows)
  rownames(out) <- NULL
  evidence <- sensitivity_evidence(scores, names(models))
  out$loglik <- evidence$loglik[match(out$model, evidence$mechanism)]
  out$favoured <- evidence$favoured[match(out$model, evidence$mechanism)]
  structure(out, class = c("deepmnar_sensitivity", "data.frame"))
}

# Which models the held-out rows favour: all within one paired standard
# error of the best, when every model was scored on the same rows.
sensitivity_evidence <- function(scores, names) {
  comparable <- length(scores) == length(names) &&
    all(vapply(scores, function(s) identical(s$rows, scores[[1]]$rows), logical(1)))
  if (!comparable) return(data.frame(mechanism = names, loglik = NA_real_, favoured = NA))
  table <- evidence_table(scores, names)
  data.frame(mechanism = names, loglik = table$loglik, favoured = within_one_se(table$loglik, table$difference_se))
}

#' Models for a sensitivity analysis
#'
#' The usual set of assumptions about the mechanism for [mnar_sensitivity()]:
#' missing at random (MIWAE), self-masking with high values missing, with low
#' values missing (both with a known direction), self-masking with the
#' direction learned from the data, and a mask that depends on the whole row
#' (`missing_model = "linear"`, learned), which nests missingness driven by
#' other, observed columns. The last two are not interchangeable: on data
#' whose missingness is driven by an observed column, a self-masking model
#' fits better by the bound than MAR and still imputes far off
#' (`bench/results/coverage.md`, design `gauss_mar`), which is why no single
#' model should be trusted alone.
#'
#' @param ... Settings passed to every [notmiwae()] fit (e.g. `iterations`,
#'   `hidden`, `threads`).
#' @return A named list of functions `function(data, seed)`.
#' @export
sensitivity_models <- function(...) {
  settings <- list(...)
  model <- function(missing_model, direction = "high") {
    force(missing_model)
    force(direction)
    function(data, seed) {
      do.call(notmiwae, c(list(data, missing_model = missing_model, direction = direction, seed = seed,
                               progress = FALSE), settings))
    }
  }
  list(
    "MAR (MIWAE)" = model("none"),
    "self-masking, high values missing" = model("selfmask_known", "high"),
    "self-masking, low values missing" = model("selfmask_known", "low"),
    "self-masking, direction learned" = model("selfmask"),
    "mask from the whole row, learned" = model("linear")
  )
}

as_analysis <- function(analysis) {
  if (inherits(analysis, "formula")) {
    formula <- analysis
    return(function(d) stats::lm(formula, data = d))
  }
  if (!is.function(analysis)) {
    deepmnar_abort(sprintf("`analysis` must be a function of a completed data.frame or a formula, not %s.",
                           describe(analysis)), data = list(argument = "analysis"))
  }
  analysis
}

check_models <- function(models) {
  ok <- is.list(models) && length(models) >= 1 && !is.null(names(models)) && all(nzchar(names(models))) &&
    !anyDuplicated(names(models)) && all(vapply(models, is.function, logical(1)))
  if (!ok) {
    deepmnar_abort("`models` must be a named list of functions(data, seed) that fit deepmnar models, as `sensitivity_models()` gives.",
                   data = list(argument = "models"))
  }
  models
}

# Runs the analysis on each completed dataset and pools it with mice; an
# analysis that fails on one dataset stops with the model and imputation named.
pool_analysis <- function(completed, analyse, model_name) {
  analyses <- lapply(seq_along(completed), function(d) {
    tryCatch(analyse(completed[[d]]), error = function(e) {
      deepmnar_abort(sprintf("`analysis` failed on imputation %d of model \"%s\": %s", d, model_name,
                             conditionMessage(e)), kind = "analysis",
                     data = list(argument = "analysis", model = model_name, imputation = d))
    })
  })
  pooled <- mice::pool(mice::as.mira(analyses))
  s <- summary(pooled, conf.int = TRUE)
  data.frame(model = model_name, term = as.character(s$term), estimate = s$estimate, std.error = s$std.error,
             conf.low = s[["2.5 %"]], conf.high = s[["97.5 %"]], df = s$df, fmi = pooled$pooled$fmi,
             stringsAsFactors = FALSE)
}

#' @export
print.deepmnar_sensitivity <- function(x, digits = 3, ...) {
  cat("Pooled estimates under each assumption about the missingness mechanism (95% intervals)\n")
  if (any(x$favoured %in% TRUE)) {
    cat("favoured: within one paired SE of the best held-out log-likelihood per row (loglik) of (x_obs, mask)\n")
  }
  cat("\n")
  shown <- as.data.frame(unclass(x), stringsAsFactors = FALSE)
  numeric_cols <- vapply(shown, is.numeric, logical(1))
  shown[numeric_cols] <- lapply(shown[numeric_cols], signif, digits = digits)
  print(shown, row.names = FALSE)
  invisible(x)
}

#' Plot a sensitivity analysis
#'
#' One panel per term: each model's pooled estimate with its 95% interval.
#' @param x A [mnar_sensitivity()] result.
#' @param terms Terms to show (default all but the intercept).
#' @param ... Passed to [graphics::plot()].
#' @return `x`, invisibly.
#' @export
plot.deepmnar_sensitivity <- function(x, terms = NULL, ...) {
  if (is.null(terms)) terms <- setdiff(unique(x$term), "(Intercept)")
  if (!length(terms)) terms <- unique(x$term)
  models <- unique(x$model)
  old <- graphics::par(mfrow = c(length(terms), 1), mar = c(4, 16, 2, 1))
  on.exit(graphics::par(old))
  for (term in terms) {
    rows <- x[x$term == term, , drop = FALSE]
    rows <- rows[match(models, rows$model), , drop = FALSE]
    y <- rev(seq_along(models))
    graphics::plot(rows$estimate, y, xlim = range(rows$conf.low, rows$conf.high), ylim = c(0.5, length(models) + 0.5),
                   yaxt = "n", pch = 19, xlab = "pooled estimate (95% interval)", ylab = "", main = term, ...)
    graphics::segments(rows$conf.low, y, rows$conf.high, y, lwd = 2)
    favoured <- isTRUE(any(rows$favoured)) & rows$favoured %in% TRUE
    graphics::axis(2, at = y, labels = paste0(models, ifelse(favoured, " *", "")), las = 1, cex.axis = 0.8)
  }
  invisible(x)
}

# Summary, autoplot and plot of a compare_imputers() result.

comparison_metric_names <- function(x) {
  metrics <- attr(x, "metrics")
  if (is.null(metrics)) {
    numeric_cols <- names(x)[vapply(x, is.numeric, logical(1))]
    metrics <- setdiff(numeric_cols, c("seed", "seconds"))
  }
  intersect(metrics, names(x))
}

# Columns that define a group of runs: everything but the seed, the metrics,
# the timing and the error (so columns a user adds, such as `prob` after
# rbind()ing several comparisons, define groups too).
comparison_design <- function(x, metrics) {
  setdiff(names(x), c(metrics, "seed", "seconds", "error"))
}

#' @rdname compare_imputers
#' @param object,x A `"deepmnar_comparison"` result.
#' @param ... Unused.
#' @return `summary()`: a data.frame with one row per dataset, mechanism and
#'   method (and any column added to the result), with the number of runs
#'   `n`, the number that failed, the mean and standard deviation of each
#'   metric over the successful runs (`rmse_mean`, `rmse_sd`, ...) and the
#'   mean `seconds`.
#' @md
#' @export
summary.deepmnar_comparison <- function(object, ...) {
  metrics <- comparison_metric_names(object)
  design <- comparison_design(object, metrics)
  x <- as.data.frame(unclass(object), stringsAsFactors = FALSE)
  key <- do.call(paste, c(unname(x[design]), sep = "\r"))
  groups <- unique(key)
  rows <- lapply(groups, function(g) {
    part <- x[key == g, , drop = FALSE]
    ok <- if ("error" %in% names(part)) is.na(part$error) else rep(TRUE, nrow(part))
    stats_cols <- unlist(lapply(metrics, function(m) {
      v <- part[[m]][ok & !is.na(part[[m]])]
      stats::setNames(c(if (length(v)) mean(v) else NA_real_, if (length(v) > 1L) stats::sd(v) else NA_real_),
                      paste0(m, c("_mean", "_sd")))
    }))
    seconds <- if ("seconds" %in% names(part)) mean(part$seconds[ok]) else NA_real_
    cbind(part[1L, design, drop = FALSE], n = nrow(part), failed = sum(!ok), as.list(stats_cols),
          seconds = if (any(ok)) seconds else NA_real_)
  })
  out <- do.call(rbind, rows)
  rownames(out) <- NULL
  out
}

#' @rdname compare_imputers
#' @param metric The metric to plot, a metric column of the result.
#' @return `autoplot()`: a ggplot: one point per seed and a bar at the mean
#'   for each method, one panel per dataset (and one row of panels per
#'   mechanism or added design column when these vary). `plot()` draws it and
#'   returns it invisibly.
#' @usage \method{autoplot}{deepmnar_comparison}(object, metric = "rmse", ...)
#' @md
#' @exportS3Method ggplot2::autoplot
autoplot.deepmnar_comparison <- function(object, metric = "rmse", ...) {
  if (!requireNamespace("ggplot2", quietly = TRUE)) {
    deepmnar_abort("Plotting a comparison needs the ggplot2 package: install.packages(\"ggplot2\").",
                   kind = "dependency")
  }
  metrics <- comparison_metric_names(object)
  if (!is.character(metric) || length(metric) != 1L || !metric %in% metrics) {
    abort_input(sprintf("`metric` must be one of %s.", paste0("\"", metrics, "\"", collapse = ", ")))
  }
  design <- comparison_design(object, metrics)
  x <- as.data.frame(unclass(object), stringsAsFactors = FALSE)
  ok <- !is.na(x[[metric]])
  if (!any(ok)) abort_input(sprintf("No run has a value of `%s` to plot (every run failed?).", metric))
  varying <- Filter(function(v) length(unique(x[[v]])) > 1L, setdiff(design, c("dataset", "method")))
  panel_row <- if (length(varying)) {
    do.call(paste, c(lapply(varying, function(v) paste(v, "=", x[[v]])), sep = ", "))
  } else {
    ""
  }
  # Panels and methods in the order of the result (first method on top).
  pts <- data.frame(dataset = factor(x$dataset, levels = unique(x$dataset)),
                    method = factor(x$method, levels = rev(unique(x$method))),
                    value = x[[metric]], panel_row = factor(panel_row, levels = unique(panel_row)))[ok, , drop = FALSE]
  means <- stats::aggregate(value ~ dataset + method + panel_row, data = pts, FUN = mean)
  label <- switch(metric,
                  rmse = "RMSE on the missing cells (standardised)",
                  mae = "MAE on the missing cells (standardised)",
                  metric)
  # aes() from symbols, so that no global variable is referenced.
  p <- ggplot2::ggplot(pts, do.call(ggplot2::aes, list(x = as.name("value"), y = as.name("method")))) +
    ggplot2::geom_point(alpha = 0.6, position = ggplot2::position_jitter(width = 0, height = 0.12, seed = 1)) +
    ggplot2::geom_point(data = means, shape = 124, size = 7, colour = "firebrick") +
    ggplot2::scale_x_continuous(n.breaks = 3) +
    ggplot2::labs(x = label, y = NULL,
                  subtitle = sprintf("%s; points: seeds, bars: means", paste(unique(x$mechanism), collapse = ", ")))
  p + if (length(varying)) {
    ggplot2::facet_grid(stats::as.formula("panel_row ~ dataset"), scales = "free_x")
  } else {
    ggplot2::facet_wrap(stats::as.formula("~ dataset"), scales = "free_x")
  }
}

#' @rdname compare_imputers
#' @md
#' @export
plot.deepmnar_comparison <- function(x, metric = "rmse", ...) {
  p <- autoplot.deepmnar_comparison(x, metric = metric, ...)
  print(p)
  invisible(p)
}

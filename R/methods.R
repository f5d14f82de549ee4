model_label <- function(fit) {
  spec <- fit$spec
  switch(spec$model,
    notmiwae = if (spec$missing_model == "none") "MIWAE" else sprintf("not-MIWAE (%s missing model%s)", spec$missing_model,
                                                                      shared_slope_label(spec)),
    gnr = sprintf("GNR (alpha = %g%s)", spec$alpha,
                  if (isTRUE(spec$aux_dim > 0)) sprintf(", auxiliary u of dimension %d", spec$aux_dim) else ""),
    not2miwae = sprintf("not-2-MIWAE (K2 = %d, eta dimension %d)", spec$K2, spec$eta_dim),
    psmvae = sprintf("PSMVAE (%s), %d pattern sets, pi' = %g", spec$variant, spec$k, spec$pi_prime),
    spec$model
  )
}

# A shared self-masking slope's sign: learned, or the direction given.
shared_slope_label <- function(spec) {
  if (!shares_slope(spec$missing_model)) return("")
  if (learns_shared_sign(spec)) return(", one slope of learned sign")
  sprintf(", one slope, %s values missing", if (spec$direction[1] > 0) "high" else "low")
}

#' @export
print.deepmnar_fit <- function(x, ...) {
  spec <- x$spec
  s <- x$settings
  missing <- missing_cells(x)
  cat(sprintf("<deepmnar fit> %s\n", model_label(x)))
  cat(sprintf("  data: %d rows x %d columns%s, %.0f missing cells (%.1f%%)\n", missing$rows, length(missing$per_column),
              if (is_sparse_input(x$data)) " (sparse)" else "", sum(missing$per_column),
              100 * sum(missing$per_column) / (missing$rows * length(missing$per_column))))
  cat(sprintf("  network: %s decoder, %s observations, latent %d, hidden %s (%s), %d parameters%s%s\n", spec$decoder,
              spec$obs, spec$latent_dim, paste(spec$hidden, collapse = "x"), spec$activation, length(x$theta),
              encoder_label(spec), if (identical(spec$precision, "float")) "; float arithmetic in the layers" else ""))
  for (line in describe_observation(x)) cat(sprintf("  %s\n", line))
  cat(sprintf("  training: %d/%d iterations, K = %d, batch %d, lr %g, seed %d (%.1f s, %s)\n", s$iterations_done,
              s$iterations, s$K, s$batch_size, s$lr, s$seed, x$seconds, x$instruction_set))
  if (!is.null(x$stopping)) {
    st <- x$stopping
    cat(sprintf("  early stopping: %s at iteration %d (checks every %d iterations on %d held-out rows); best at %d%s\n",
                if (isTRUE(st$converged)) "converged, stopped" else "did not converge, stopped", st$stopped_at,
                st$every, length(st$held_out_rows), st$best_iteration,
                if (isTRUE(st$converged)) sprintf(" (no gain in %d checks)", st$patience) else sprintf(" (%s)", st$reason)))
  }
  if (!is.null(x$ensemble)) {
    e <- x$ensemble
    cat(sprintf("  ensemble of %d fits (%s), imputations averaged over them; iterations %s%s\n", length(e$theta),
                if (is.null(e$held_out_rows)) paste("seeds", paste(e$seed, collapse = ", ")) else
                  "one per fold of held-out rows", paste(e$iterations_done, collapse = ", "),
                if (any(!e$converged, na.rm = TRUE)) sprintf("; %d did not converge", sum(!e$converged, na.rm = TRUE)) else ""))
    cat("  (the lines on training, stopping and the bound describe the first fit)\n")
  }
  if (!is.null(x$starts)) {
    cat(sprintf("  starts: best of %d by the held-out bound (%s)\n", nrow(x$starts),
                paste(sprintf("%.3f%s", x$starts$held_out_bound, ifelse(x$starts$chosen, "*", "")), collapse = ", ")))
  }
  for (line in describe_mechanisms(x)) cat(sprintf("  %s\n", line))
  if (!is.null(x$replicate)) {
    cat(sprintf("  bootstrap replicate (seed %d) warm-started from its parent fit\n", x$replicate$seed))
  }
  cat(sprintf("  bound (mean of the last 100 minibatches): %.4f\n", final_bound(x)))
  invisible(x)
}

# Missing cells per user variable (a categorical variable counted once) and
# the number of rows.
missing_cells <- function(fit) {
  x <- fit$data
  if (is_sparse_input(x)) return(list(rows = nrow(x), per_column = nrow(x) - diff(x@p)))
  per_unit <- by_variable(is.na(x) + 0, fit$data_format$types)
  list(rows = nrow(x), per_column = colSums(per_unit))
}

# What the encoder of z reads, when not the zero-filled row alone.
encoder_label <- function(spec) {
  if (identical(spec$encoder, "set")) {
    return(sprintf("; set encoder (embedding %d, code %d)", spec$set_embedding, spec$set_code))
  }
  if (isTRUE(spec$encoder_mask == 1L)) "; the encoder reads the mask" else ""
}

final_bound <- function(fit) mean(utils::tail(fit$trace, 100))

#' @export
summary.deepmnar_fit <- function(object, ...) {
  x <- object$data
  missing <- if (is_sparse_input(x)) nrow(x) - diff(x@p) else colSums(is.na(x))
  columns <- data.frame(
    column = object$columns,
    missing = unname(missing),
    missing_pct = round(100 * unname(missing) / nrow(x), 1),
    # the observed share of a level (its indicator's mean); levels are not standardised
    observed_mean = if (is_sparse_input(x)) Matrix::colSums(x) / diff(x@p) else unname(colMeans(x, na.rm = TRUE)),
    observed_sd = unname(ifelse(level_columns(object$spec), NA_real_, object$scaling$scale)),
    row.names = NULL
  )
  if (!is.null(object$observation)) {
    shown <- c("point_mass", "point_mass_share", "scale_floor",
               if (any(object$observation$family == "rating")) c("rating_lower", "rating_upper"),
               if (!is.null(object$observation$transform)) "transform")
    columns <- cbind(columns, object$observation[, shown])
  }
  if (object$spec$missing_model %in% c("selfmask", "selfmask_known") || shares_slope(object$spec$missing_model)) {
    columns <- cbind(columns, selfmask_parameters(object))
  }
  mechanisms <- if (!is.null(object$mechanisms)) mechanism_table(object)
  structure(list(model = model_label(object), columns = columns, settings = object$settings,
                 final_bound = final_bound(object), trace_length = length(object$trace), mechanisms = mechanisms),
            class = "summary.deepmnar_fit")
}

# Where not-MIWAE's self-masking parameters sit in theta, as the engine
# lays them out (its named parameter blocks).
selfmask_indices <- function(spec) {
  blocks <- param_blocks(spec)
  list(slope = block_indices(blocks, "mask_slope"), location = block_indices(blocks, "mask_location"))
}

# Where the engine's parameter block `name` sits in theta.
block_indices <- function(blocks, name) {
  b <- blocks[blocks$name == name, ]
  b$start + seq_len(b$size) - 1
}

param_blocks <- function(spec) through_engine(cpp_param_blocks(spec))

# The self-masking logistic regression on the original scale: P(observed) is
# 1/2 at `midpoint`, and `slope` is the logit's change per unit of the column
# (a shared slope is one in standardised units, so it differs per column
# here by the columns' scales); for a log column, per unit of its log.
selfmask_parameters <- function(fit) {
  spec <- fit$spec
  at <- selfmask_indices(spec)
  raw_w <- fit$theta[at$slope]
  b <- fit$theta[at$location]
  signed <- spec$missing_model == "selfmask_known" || (shares_slope(spec$missing_model) && !learns_shared_sign(spec))
  w <- if (signed) spec$direction * log1p(exp(raw_w)) else rep_len(raw_w, spec$p)
  midpoint <- fit$scaling$center + b * fit$scaling$scale
  if (!is.null(fit$scaling$log)) midpoint[fit$scaling$log] <- exp(midpoint[fit$scaling$log])
  data.frame(mask_slope = -w / fit$scaling$scale, mask_midpoint = midpoint)
}

#' @export
print.summary.deepmnar_fit <- function(x, ...) {
  cat(sprintf("%s\n\n", x$model))
  print(x$columns, row.names = FALSE, digits = 4)
  cat(sprintf("\nFinal bound %.4f after %d iterations (K = %d, batch %d).\n", x$final_bound, x$trace_length,
              x$settings$K, x$settings$batch_size))
  if (isTRUE(x$settings$ensemble > 1)) {
    cat(sprintf("An ensemble of %d fits: the mask parameters and the bound are the first fit's.\n", x$settings$ensemble))
  }
  if (!is.null(x$mechanisms)) {
    cat("\nThe mechanism was chosen by the data among these candidates (* chosen):\n")
    print(x$mechanisms)
  }
  invisible(x)
}

#' Plot the training curve
#'
#' Draws the minibatch bound over iterations with a running mean.
#' @param x A deepmnar fit.
#' @param window Width of the running mean, in iterations.
#' @param ... Passed to [graphics::plot()].
#' @return `x`, invisibly.
#' @export
plot.deepmnar_fit <- function(x, window = NULL, ...) {
  y <- x$trace
  it <- seq_along(y)
  if (is.null(window)) window <- max(1, length(y) %/% 100)
  smooth <- if (window > 1 && length(y) > window) stats::filter(y, rep(1 / window, window), sides = 1) else y
  lim <- stats::quantile(y, c(0.01, 1), na.rm = TRUE)
  graphics::plot(it, y, type = "l", col = "grey80", ylim = lim, xlab = "iteration",
                 ylab = if (capabilities(x$model)$score == "elbo") "ELBO" else "importance-weighted bound", main = model_label(x), ...)
  graphics::lines(it, smooth, col = "black", lwd = 2)
  invisible(x)
}

# Benchmark harness: ampute complete data with ampute_mnar(), run several
# imputation methods over several seeds, score them on the cells that were
# removed. The grid of tasks (dataset x seed x method) runs through
# future.apply when it is installed, so any future plan spreads it; every task
# seeds itself from its own seed, so a result does not depend on the plan.

#' Compare imputation methods on data made missing not at random
#'
#' Takes complete data, makes it missing with [ampute_mnar()] once per seed,
#' imputes it with every method, and scores each imputation on the cells that
#' were removed. The result is a tidy data.frame with one row per dataset,
#' seed and method.
#'
#' @section Methods:
#' A method is either the name of a built-in or a function. Built-ins:
#' \describe{
#'   \item{`"mean"`, `"median"`}{each missing value replaced by the mean
#'     (median) of the observed values of its column.}
#'   \item{`"mice_norm"`}{`mice::mice(x, m = 5, method = "norm")` (Bayesian
#'     linear regression), the imputation being the average of the `m`
#'     completed datasets.}
#'   \item{`"mice_pmm"`}{`mice::mice(x, m = 5)` with mice's default method
#'     for numeric columns, predictive mean matching, averaged over the `m`
#'     completed datasets.}
#'   \item{`"missforest"`}{`missForest::missForest(x)` with its defaults
#'     (100 trees, at most 10 iterations).}
#'   \item{`"notmiwae"`}{[notmiwae()] (its defaults, including
#'     `missing_model = "selfmask_known"`) followed by [impute()]
#'     (conditional mean, `L = 10000`).}
#'   \item{`"gnr"`, `"not2miwae"`, `"psmvae"`}{[gnr()], [not2miwae()] or
#'     [psmvae()] with their defaults, followed by [impute()].}
#' }
#' mice and missForest are suggested packages: when one is not installed,
#' its methods are not run and their rows carry an error saying so.
#'
#' A method given as a function must have the signature
#' `function(x, seed, ...)`: `x` is the amputed data (same class, column names
#' and column order as the dataset, with `NA` in the removed cells) and `seed`
#' the integer seed of the run; it returns the completed data, a data.frame or
#' matrix with the same dimensions and column order, whose cells that were
#' missing are filled in (its other cells are not used). Any
#' fit-then-impute workflow plugs in this way, for example MIWAE:
#' `function(x, seed) impute(notmiwae(x, missing_model = "none", seed = seed), seed = seed)`.
#'
#' `methods` is a character vector of built-in names, or a list whose
#' elements are built-in names or functions; the names of the list (required
#' for functions) label the methods in the result, so
#' `list(pmm = "mice_pmm", miwae = my_function)` is allowed.
#'
#' `method_args` is a list, named by method label, of further arguments:
#' \describe{
#'   \item{`mice_norm`, `mice_pmm`}{passed to `mice::mice()`, e.g.
#'     `list(m = 10, maxit = 10)`.}
#'   \item{`missforest`}{passed to `missForest::missForest()`, e.g.
#'     `list(ntree = 50)`.}
#'   \item{`notmiwae`, `gnr`, `not2miwae`, `psmvae`}{`L` and `type` are passed to
#'     [impute()], `mask_L` (if given) makes the run also predict the mask
#'     with [predict_mask()] for [mask_accuracy_metric()], everything else goes
#'     to the model, e.g. `list(iterations = 5000, L = 1000)`. When
#'     the future plan has more than one worker and `threads` is not given,
#'     `threads = 1` is used so that the workers do not compete for cores.}
#'   \item{a function method}{passed to the function after `x` and `seed`.}
#' }
#' `seed` is set by the grid and cannot be given in `method_args`.
#'
#' @section Seeds and parallel runs:
#' For each dataset and seed `s`, the data are amputed with
#' `ampute_mnar(data, mechanism, seed = s, ...)`, so every method sees the
#' same missing cells. Each method then runs after `set.seed(s)` (with the
#' random number generator kinds of the calling session), and the seed-aware
#' methods get `s` itself (`mice(seed = s)`, `notmiwae(seed = s)`,
#' `impute(seed = s)`). A result therefore depends only on the data, the
#' method and `s`: not on the other methods, the order of the runs or the
#' future plan.
#'
#' When the future.apply package is installed, the tasks (one per dataset,
#' seed and method) run through [future.apply::future_lapply()] with
#' `future.seed = TRUE` and one future per task, so `future::plan()` decides
#' where they run: sequentially in the current session by default, or on
#' local workers with `future::plan(future::multisession, workers = 2)`, or
#' on a cluster. Without future.apply they run sequentially with [lapply()].
#' (Set `options(deepmnar.future = FALSE)` to bypass future.apply.)
#' The random number stream of the calling session is left as it was. The
#' `seconds` column is the elapsed time of the method alone (not of the
#' scoring); runs that share a machine slow each other down.
#'
#' @param data A complete numeric data.frame or matrix (no `NA`; drop labels
#'   first), or a named list of them to compare on several datasets.
#' @param mechanism Missingness mechanism, see [ampute_mnar()].
#' @param methods Methods to compare (see "Methods"): a character vector of
#'   built-in names or a list of names and functions.
#' @param seeds Integer seeds, one run of every method per seed.
#' @param dataset Label(s) of the dataset(s) in the result; default the
#'   expression given as `data`, or the names of the list.
#' @param mechanism_args Further arguments of [ampute_mnar()], such as
#'   `prob`, `columns` or `mcar`.
#' @param method_args Further arguments of the methods, a list named by
#'   method label (see "Methods").
#' @param metrics Named list of scoring functions
#'   `function(truth, imputed, mask)` returning one number; each gives a
#'   column of the result. The default scores the root mean squared and the
#'   mean absolute error on the missing cells on the standardised scale
#'   ([imputation_rmse()], [imputation_mae()]), the papers' numbers; for data
#'   with factor or logical columns these cover the numeric columns, and the
#'   proportion of falsely classified levels ([imputation_pfc()]) is added.
#'   On such data mice uses its default method per column type (pmm, logreg,
#'   polyreg, polr; its m completions are averaged, factors by majority vote)
#'   and missForest its classification forests.
#' @param progress If `TRUE`, a message after each run.
#'
#' @return A data.frame of class `"deepmnar_comparison"` with one row per
#'   dataset, seed and method (in that nesting order) and the columns
#'   `dataset`, `mechanism`, `method`, `seed`, one column per metric (`rmse`,
#'   `mae` by default), `seconds` and `error` (`NA`, or the message of the
#'   error that stopped the method or its scoring, in which case the metrics
#'   are `NA`: a failing method does not stop the others). Methods:
#'   `summary()` (mean and standard deviation of each metric per dataset and
#'   method), `plot()` and `autoplot()` (ggplot2).
#'
#' @seealso [ampute_mnar()], [imputation_rmse()],
#'   `vignette("benchmark", package = "deepmnar")`; `bench/uci.R` in the
#'   package sources runs the not-MIWAE UCI protocol with this function.
#' @examples
#' x <- banknote[, 1:4]
#' res <- compare_imputers(x, methods = c("mean", "median"), seeds = 1:3)
#' res
#' summary(res)
#'
#' # any function of the amputed data and the seed is a method
#' # (here: the mean plus noise, `noise` observed standard deviations)
#' noisy_mean <- function(x, seed, noise = 0.1) {
#'   for (j in seq_along(x)) {
#'     miss <- is.na(x[[j]])
#'     s <- sd(x[[j]], na.rm = TRUE)
#'     x[[j]][miss] <- mean(x[[j]], na.rm = TRUE) + rnorm(sum(miss), sd = noise * s)
#'   }
#'   x
#' }
#' compare_imputers(list(banknote = x, yeast = yeast[, 1:8]),
#'                  methods = list("mean", noisy = noisy_mean), seeds = 1:2,
#'                  mechanism_args = list(prob = 0.8),
#'                  method_args = list(noisy = list(noise = 0.5)))
#' \donttest{
#' # not-MIWAE (short training) against mice; in parallel with
#' # future::plan(future::multisession, workers = 2)
#' res <- compare_imputers(x, methods = c("mean", "mice_pmm", "notmiwae"),
#'                         seeds = 1:2,
#'                         method_args = list(notmiwae = list(iterations = 1000, L = 500)))
#' summary(res)
#' if (requireNamespace("ggplot2", quietly = TRUE)) plot(res)
#' }
#' @md
#' @export
compare_imputers <- function(data, mechanism = "self_mask_mean",
                             methods = c("mean", "median", "mice_norm", "mice_pmm", "missforest", "notmiwae"),
                             seeds = 1:5, dataset = NULL, mechanism_args = list(), method_args = list(),
                             metrics = list(rmse = imputation_rmse, mae = imputation_mae),
                             progress = FALSE) {
  datasets <- comparison_datasets(data, dataset, substitute(data))
  mechanism <- match_mechanism(mechanism)
  seeds <- comparison_seeds(seeds)
  methods <- comparison_methods(methods)
  method_args <- comparison_method_args(method_args, names(methods))
  mechanism_args <- comparison_mechanism_args(mechanism_args)
  # Classes have no RMSE: with factor columns the default also scores PFC.
  if (missing(metrics) && any(vapply(datasets, function(d) any(discrete_columns(d)), logical(1)))) {
    metrics$pfc <- imputation_pfc
  }
  metrics <- comparison_metrics_arg(metrics)

  # Amputation happens here, once per dataset and seed: it is cheap, input
  # errors surface before any method runs, and all methods of a seed share
  # the same missing cells.
  amputed <- list()
  for (d in names(datasets)) {
    for (s in seeds) {
      a <- do.call(ampute_mnar, c(list(datasets[[d]], mechanism = mechanism, seed = s), mechanism_args))
      amputed[[length(amputed) + 1L]] <- list(dataset = d, seed = s, truth = datasets[[d]], data = a$data,
                                               mask = a$mask)
    }
  }
  tasks <- list()
  for (a in amputed) {
    for (m in names(methods)) {
      tasks[[length(tasks) + 1L]] <- c(a, list(label = m, method = methods[[m]], args = method_args[[m]]))
    }
  }

  parallel_plan <- use_future_apply() && future::nbrOfWorkers() > 1
  context <- list(rng_kind = RNGkind(), metrics = metrics, mechanism = mechanism, progress = isTRUE(progress),
                  default_threads = if (parallel_plan) 1L else NULL)

  # The caller's random number stream is put back afterwards (future.seed =
  # TRUE draws from it; the tasks reseed and restore themselves).
  rng <- save_rng()
  on.exit(restore_rng(rng), add = TRUE)
  rows <- if (use_future_apply()) {
    future.apply::future_lapply(tasks, run_comparison_task, context = context, future.seed = TRUE,
                                future.scheduling = Inf, future.packages = "deepmnar")
  } else {
    lapply(tasks, run_comparison_task, context = context)
  }
  out <- do.call(rbind, lapply(rows, as.data.frame, stringsAsFactors = FALSE, optional = TRUE))
  rownames(out) <- NULL
  structure(out, class = c("deepmnar_comparison", "data.frame"), metrics = names(metrics))
}

use_future_apply <- function() {
  isTRUE(getOption("deepmnar.future", TRUE)) && requireNamespace("future.apply", quietly = TRUE)
}

# One method on one amputed dataset: seeded, timed, scored; never throws.
run_comparison_task <- function(task, context) {
  metric_names <- names(context$metrics)
  row <- c(list(dataset = task$dataset, mechanism = context$mechanism, method = task$label, seed = task$seed),
           stats::setNames(as.list(rep(NA_real_, length(metric_names))), metric_names),
           list(seconds = NA_real_, error = NA_character_))
  rng <- save_rng()
  on.exit(restore_rng(rng), add = TRUE)
  kind <- context$rng_kind
  set.seed(task$seed, kind = kind[1], normal.kind = kind[2], sample.kind = kind[3])
  start <- proc.time()[["elapsed"]]
  completed <- tryCatch(
    call_method(task$method, task$data, task$seed, task$args, context$default_threads),
    error = function(e) e
  )
  row$seconds <- proc.time()[["elapsed"]] - start
  if (inherits(completed, "error")) {
    row$error <- conditionMessage(completed)
  } else {
    scored <- tryCatch({
      imputed <- completed_matrix(completed, task$truth)
      for (a in c("prob_observed", "prob_observed_unconditional")) attr(imputed, a) <- attr(completed, a)
      vapply(context$metrics, function(f) as.numeric(f(task$truth, imputed, task$mask))[1], numeric(1))
    }, error = function(e) e)
    if (inherits(scored, "error")) {
      row$error <- paste("scoring failed:", conditionMessage(scored))
    } else {
      row[metric_names] <- as.list(scored)
    }
  }
  if (context$progress) {
    status <- if (is.na(row$error)) {
      paste(sprintf("%s %.3f", metric_names, unlist(row[metric_names])), collapse = ", ")
    } else {
      paste("error:", row$error)
    }
    message(sprintf("%s / seed %d / %s: %s (%.1f s)", row$dataset, row$seed, row$method, status, row$seconds))
  }
  row
}


# ---- argument checks ----------------------------------------------------------

comparison_datasets <- function(data, dataset, expr) {
  several <- is.list(data) && !is.data.frame(data)
  datasets <- if (several) data else list(data)
  if (length(datasets) == 0L) abort_input("`data` must be a data.frame or matrix, or a non-empty list of them.")
  labels <- if (!is.null(dataset)) {
    dataset
  } else if (several) {
    names(datasets)
  } else {
    paste(deparse(expr, width.cutoff = 500L), collapse = " ")
  }
  if (!is.character(labels) || length(labels) != length(datasets) || anyNA(labels) || any(labels == "") ||
      anyDuplicated(labels)) {
    abort_input(if (several && is.null(dataset)) {
      "`data` must be a named list of datasets (unique, non-empty names), or give the labels in `dataset`."
    } else {
      sprintf("`dataset` must be %d unique, non-empty label(s), one per dataset.", length(datasets))
    })
  }
  for (i in seq_along(datasets)) {
    x <- numeric_matrix(datasets[[i]], sprintf("data (%s)", labels[i]), factors = TRUE)
    check_complete(x)
  }
  stats::setNames(datasets, labels)
}

comparison_seeds <- function(seeds) {
  ok <- is.numeric(seeds) && length(seeds) >= 1L && !anyNA(seeds) && all(seeds == round(seeds)) &&
    all(abs(seeds) <= .Machine$integer.max) && !anyDuplicated(seeds)
  if (!ok) abort_input("`seeds` must be distinct whole numbers, such as 1:5.")
  as.integer(seeds)
}

comparison_builtins <- c("mean", "median", "mice_norm", "mice_pmm", "missforest", "notmiwae", "gnr", "not2miwae",
                         "psmvae")

comparison_methods <- function(methods) {
  if (is.function(methods)) abort_input("`methods` must be a list: wrap a single function as list(name = f).")
  if (!(is.character(methods) || is.list(methods)) || length(methods) == 0L) {
    abort_input("`methods` must be a character vector of built-in methods or a list of names and functions.")
  }
  methods <- as.list(methods)
  labels <- names(methods)
  if (is.null(labels)) labels <- rep("", length(methods))
  for (i in seq_along(methods)) {
    m <- methods[[i]]
    if (is.character(m) && length(m) == 1L && !is.na(m)) {
      if (!m %in% comparison_builtins) {
        abort_input(sprintf("Unknown method \"%s\": the built-in methods are %s; other methods are functions.",
                            m, paste0("\"", comparison_builtins, "\"", collapse = ", ")))
      }
      if (labels[i] == "") labels[i] <- m
    } else if (is.function(m)) {
      if (labels[i] == "") abort_input("Functions in `methods` must be named, e.g. list(\"mean\", miwae = f).")
      if (length(formals(m)) < 2L && !"..." %in% names(formals(m))) {
        abort_input(sprintf("Method `%s` must be a function(x, seed, ...).", labels[i]))
      }
    } else {
      abort_input(sprintf("Element %d of `methods` must be a built-in method name or a function.", i))
    }
  }
  if (anyDuplicated(labels)) {
    abort_input(sprintf("Method label \"%s\" is used twice in `methods`.", labels[anyDuplicated(labels)]))
  }
  stats::setNames(methods, labels)
}

comparison_method_args <- function(method_args, labels) {
  if (!is.list(method_args) || (length(method_args) > 0L && is.null(names(method_args)))) {
    abort_input("`method_args` must be a list named by method, e.g. list(notmiwae = list(iterations = 5000)).")
  }
  unknown <- setdiff(names(method_args), labels)
  if (length(unknown)) {
    abort_input(sprintf("`method_args` names method(s) not in `methods`: %s.",
                        paste0("\"", unknown, "\"", collapse = ", ")))
  }
  out <- stats::setNames(rep(list(list()), length(labels)), labels)
  for (m in names(method_args)) {
    a <- method_args[[m]]
    if (!is.list(a) || (length(a) > 0L && (is.null(names(a)) || any(names(a) == "")))) {
      abort_input(sprintf("`method_args$%s` must be a list of named arguments.", m))
    }
    if ("seed" %in% names(a)) {
      abort_input(sprintf("`method_args$%s` must not set `seed`: the seeds come from `seeds`.", m))
    }
    out[[m]] <- a
  }
  out
}

comparison_mechanism_args <- function(mechanism_args) {
  if (!is.list(mechanism_args) || (length(mechanism_args) > 0L &&
                                   (is.null(names(mechanism_args)) || any(names(mechanism_args) == "")))) {
    abort_input("`mechanism_args` must be a list of named arguments of ampute_mnar(), e.g. list(prob = 0.8).")
  }
  taken <- intersect(names(mechanism_args), c("data", "mechanism", "seed"))
  if (length(taken)) {
    abort_input(sprintf("`mechanism_args` must not set %s: use the arguments of compare_imputers().",
                        paste0("`", taken, "`", collapse = ", ")))
  }
  unknown <- setdiff(names(mechanism_args), names(formals(ampute_mnar)))
  if (length(unknown)) {
    abort_input(sprintf("`mechanism_args` has argument(s) unknown to ampute_mnar(): %s.",
                        paste0("`", unknown, "`", collapse = ", ")))
  }
  mechanism_args
}

comparison_metrics_arg <- function(metrics) {
  ok <- is.list(metrics) && length(metrics) >= 1L && !is.null(names(metrics)) && all(names(metrics) != "") &&
    !anyDuplicated(names(metrics)) && all(vapply(metrics, is.function, logical(1)))
  if (!ok) abort_input("`metrics` must be a named list of functions(truth, imputed, mask).")
  reserved <- intersect(names(metrics), c("dataset", "mechanism", "method", "seed", "seconds", "error"))
  if (length(reserved)) abort_input(sprintf("`metrics` cannot be named \"%s\": that column is taken.", reserved[1]))
  metrics
}

# ---- random number stream -----------------------------------------------------

save_rng <- function() {
  env <- globalenv()
  list(kind = RNGkind(), seed = get0(".Random.seed", envir = env, inherits = FALSE))
}

restore_rng <- function(state) {
  env <- globalenv()
  if (is.null(state$seed)) {
    RNGkind(state$kind[1], state$kind[2], state$kind[3])
    if (exists(".Random.seed", envir = env, inherits = FALSE)) rm(".Random.seed", envir = env)
  } else {
    assign(".Random.seed", state$seed, envir = env)
  }
}

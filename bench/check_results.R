# Guard over the committed bench results (issue 34, item 4).
#
# Lists every cell of bench/results/ where a deepmnar method (notmiwae, miwae,
# gnr, not2miwae, psmvae, their variants such as psmvae_a or gnr_set, and
# "default", the package's default of the mechanism bench) does worse than the
# naive baseline of its table: mean imputation (RMSE; the mode for factor
# cells, PFC), item means on the rating tables, complete cases on the coverage
# table (absolute bias of the pooled estimate). A cell is worse when its value,
# as its table shows it (mean over the seeds run), is strictly above the
# baseline's. The mechanism bench (bench/results/mechanisms_cells.csv, when
# present) is checked like every other file, one cell per (dataset, mechanism,
# rate, seed) as that bench defines its cells.
#
# Exits with status 1 if any such cell is not named in the allow-list
# bench/results_allowlist.csv (columns file, dataset, setting, method, metric,
# reason; the first five are the key printed for each cell, `setting` being
# "name=value" pairs joined by "; "). Each allow-listed cell carries its reason
# and is one that a later change must remove: the list shrinks over time and
# never grows silently. Allow-listed cells that are no longer worse are printed
# so that they can be deleted. Files of bench/results/ that no rule below
# covers are printed too, so that a new table does not escape the guard.
#
# Base R only (no deepmnar), a few seconds. Run from the package root:
#   Rscript bench/check_results.R              # the committed results
#   Rscript bench/check_results.R --self-test  # the guard's own logic
#   Rscript bench/check_results.R --results=DIR --allowlist=FILE

deep_pattern <- "^(default|notmiwae|miwae|gnr|not2miwae|psmvae)(_.*)?$"

# ---------------------------------------------------------------------------
# Readers: each returns a long table of cells with columns dataset, setting,
# method, metric, value, and `bkey` (what the baseline is matched on).

setting_string <- function(d, keys) {
  if (!length(keys)) return(rep("", nrow(d)))
  do.call(paste, c(lapply(keys, function(k) paste0(k, "=", format_value(d[[k]]))), sep = "; "))
}
format_value <- function(v) if (is.numeric(v)) as.character(signif(v, 6)) else as.character(v)

# Mean of `value` over the seeds (rows) of each (keys, method); rows with an
# error or a missing value are not results and are dropped, as the tables do.
aggregate_cells <- function(d, keys, metric, value) {
  d$.value <- value
  ok <- is.finite(d$.value)
  if ("error" %in% names(d)) ok <- ok & (is.na(d$error) | d$error == "")
  d <- d[ok, , drop = FALSE]
  if (!nrow(d)) return(NULL)
  group <- interaction(d[c(keys, "method")], drop = TRUE, lex.order = TRUE)
  first <- d[!duplicated(group), c(keys, "method"), drop = FALSE]
  means <- tapply(d$.value, group, mean)
  first$value <- as.numeric(means[as.character(group[!duplicated(group)])])
  first$metric <- metric
  first
}

# Long per-seed csv: dataset, the keys, method, metric columns.
# `baseline_from`: the baseline is read from that file instead (the run holds
# none); `fallback`: from that file for the cells whose own baseline is absent.
long_csv <- function(keys, metrics, baseline, bkeys = keys, baseline_from = NULL, transform = NULL, fallback = NULL) {
  function(path, dir) {
    d <- utils::read.csv(path, stringsAsFactors = FALSE)
    if (!is.null(transform)) d <- transform(d)
    cells <- do.call(rbind, lapply(names(metrics), function(m)
      aggregate_cells(d, keys, m, metrics[[m]](d))))
    base <- cells[cells$method == baseline, , drop = FALSE]
    if (!is.null(baseline_from)) {
      b <- utils::read.csv(file.path(dir, baseline_from), stringsAsFactors = FALSE)
      b <- b[b$method == baseline, , drop = FALSE]
      base <- do.call(rbind, lapply(names(metrics), function(m)
        aggregate_cells(b, bkeys, m, metrics[[m]](b))))
    }
    if (!is.null(fallback)) {
      b <- utils::read.csv(file.path(dir, fallback), stringsAsFactors = FALSE)
      b <- b[b$method == baseline, , drop = FALSE]
      extra <- do.call(rbind, lapply(names(metrics), function(m) aggregate_cells(b, bkeys, m, metrics[[m]](b))))
      k <- function(x) do.call(paste, c(lapply(c(bkeys, "metric"), function(v) format_value(x[[v]])), sep = "\r"))
      base <- rbind(base[c(bkeys, "method", "value", "metric")],
                    extra[!k(extra) %in% k(base), c(bkeys, "method", "value", "metric")])
    }
    compare(cells, base, keys, bkeys, baseline)
  }
}

# Wide per-row csv: one column per method (mechanisms_cells.csv, ensemble.csv).
wide_csv <- function(keys, columns, baseline_column, metric, baseline_from = NULL, bkeys = keys,
                     baseline_method = "mean", method_name = function(cl, d) cl, per_row = FALSE) {
  function(path, dir) {
    d <- utils::read.csv(path, stringsAsFactors = FALSE)
    cols <- intersect(columns, names(d))
    if (!length(cols)) return(NULL)
    long <- do.call(rbind, lapply(cols, function(cl) {
      x <- d[keys]; x$method <- method_name(cl, d); x$.v <- d[[cl]]; x
    }))
    agg_keys <- if (per_row) keys else setdiff(keys, "seed")
    cells <- aggregate_cells(long, agg_keys, metric, long$.v)
    if (is.null(baseline_from)) {
      if (!baseline_column %in% names(d)) return(NULL)
      b <- d[keys]; b$method <- baseline_method
      base <- aggregate_cells(b, agg_keys, metric, d[[baseline_column]])
      bk <- agg_keys
    } else {
      b <- utils::read.csv(file.path(dir, baseline_from), stringsAsFactors = FALSE)
      b <- b[b$method == baseline_method, , drop = FALSE]
      base <- aggregate_cells(b, bkeys, metric, b[[baseline_column]])
      bk <- bkeys
    }
    compare(cells, base, agg_keys, bk, baseline_method)
  }
}

# Joins each deepmnar cell with its baseline on `bkeys` and the metric.
compare <- function(cells, base, keys, bkeys, baseline) {
  if (is.null(cells) || is.null(base) || !nrow(cells)) return(NULL)
  cells <- cells[grepl(deep_pattern, cells$method), , drop = FALSE]
  if (!nrow(cells)) return(NULL)
  bk <- function(x) do.call(paste, c(lapply(c(bkeys, "metric"), function(k) format_value(x[[k]])), sep = "\r"))
  cells$baseline_value <- base$value[match(bk(cells), bk(base))]
  cells$baseline <- baseline
  out <- data.frame(dataset = if ("dataset" %in% keys) as.character(cells$dataset) else
                      if ("design" %in% keys) as.character(cells$design) else "",
                    setting = setting_string(cells, setdiff(keys, c("dataset", "design"))),
                    method = cells$method, metric = cells$metric, value = cells$value,
                    baseline = baseline, baseline_value = cells$baseline_value, stringsAsFactors = FALSE)
  out
}

# Markdown tables: the cells under each "## heading".
md_tables <- function(path) {
  lines <- readLines(path, warn = FALSE, encoding = "UTF-8")
  split_row <- function(l) trimws(strsplit(sub("\\|\\s*$", "", sub("^\\s*\\|", "", l)), "|", fixed = TRUE)[[1]])
  out <- list(); heading <- ""; i <- 1
  while (i <= length(lines)) {
    if (grepl("^#+ ", lines[i])) heading <- sub("^#+ +", "", lines[i])
    if (grepl("^\\s*\\|", lines[i]) && i < length(lines) && grepl("^\\s*\\|[-|: ]+\\|?\\s*$", lines[i + 1])) {
      header <- split_row(lines[i]); j <- i + 2; rows <- list()
      while (j <= length(lines) && grepl("^\\s*\\|", lines[j])) {
        r <- split_row(lines[j]); length(r) <- length(header); rows[[length(rows) + 1]] <- r; j <- j + 1
      }
      tab <- as.data.frame(do.call(rbind, rows), stringsAsFactors = FALSE)
      names(tab) <- header
      out[[length(out) + 1]] <- list(heading = heading, table = tab)
      i <- j; next
    }
    i <- i + 1
  }
  out
}
# "1.234 ± 0.010 (3)" -> 1.234; "" or text -> NA.
md_number <- function(s) {
  s <- ifelse(is.na(s), "", s)
  suppressWarnings(as.numeric(sub("^\\s*\\**([-+]?[0-9]*\\.?[0-9]+([eE][-+]?[0-9]+)?).*$", "\\1",
                                  ifelse(grepl("^\\s*\\**[-+]?[0-9]*\\.?[0-9]", s), s, NA))))
}
strip_shape <- function(s) trimws(sub("\\s*\\(.*$", "", s))

# Rows are methods (ratings.md): `method_col`, `metric_col`; the heading is
# the dataset.
md_long <- function(method_col, metric_col, baseline, metric) {
  function(path, dir) {
    do.call(rbind, lapply(md_tables(path), function(t) {
      tab <- t$table
      if (!all(c(method_col, metric_col) %in% names(tab))) return(NULL)
      cells <- data.frame(dataset = strip_shape(t$heading), method = tab[[method_col]],
                          value = md_number(tab[[metric_col]]), metric = metric, stringsAsFactors = FALSE)
      cells <- cells[is.finite(cells$value), , drop = FALSE]
      compare(cells, cells[cells$method == baseline, ], "dataset", "dataset", baseline)
    }))
  }
}

# Columns are methods (generalisation-style tables): one row per dataset, the
# heading (e.g. "Probability 1") is the setting; only headings matching `keep`.
md_wide <- function(key_col, baseline, metric, keep) {
  function(path, dir) {
    do.call(rbind, lapply(md_tables(path), function(t) {
      tab <- t$table
      if (!grepl(keep, t$heading) || !all(c(key_col, baseline) %in% names(tab))) return(NULL)
      methods <- setdiff(names(tab), key_col)
      cells <- do.call(rbind, lapply(methods, function(m)
        data.frame(dataset = strip_shape(tab[[key_col]]), table = t$heading, method = m,
                   value = md_number(tab[[m]]), metric = metric, stringsAsFactors = FALSE)))
      cells <- cells[is.finite(cells$value), , drop = FALSE]
      compare(cells, cells[cells$method == baseline, ], c("dataset", "table"), c("dataset", "table"), baseline)
    }))
  }
}

# ---------------------------------------------------------------------------
# Which rule covers which file of bench/results/ (paths relative to it).

rmse <- list(rmse = function(d) d$rmse)
uci_keys <- c("dataset", "prob", "mechanism")
rules <- list(
  "uci.csv" = long_csv(uci_keys, rmse, "mean"),
  "uci-quick.csv" = long_csv(uci_keys, rmse, "mean"),
  "uci_paper/uci.csv" = long_csv(uci_keys, rmse, "mean"),
  # These runs hold no mean imputation of their own: the baseline is uci.csv's
  # (same protocol, datasets, probabilities and masks by seed).
  "uci_defaults_complete/uci.csv" = long_csv(uci_keys, rmse, "mean", baseline_from = "uci.csv"),
  "uci_defaults_observed/uci.csv" = long_csv(uci_keys, rmse, "mean", baseline_from = "uci.csv"),
  "uci_gnr_complete/uci.csv" = long_csv(uci_keys, rmse, "mean", baseline_from = "uci.csv"),
  "uci_gnr_complete_u0/uci.csv" = long_csv(uci_keys, rmse, "mean", baseline_from = "uci.csv"),
  "uci_gnr_complete_u4/uci.csv" = long_csv(uci_keys, rmse, "mean", baseline_from = "uci.csv"),
  "uci_gnr_observed/uci.csv" = long_csv(uci_keys, rmse, "mean", baseline_from = "uci.csv"),
  "uci_gnr_observed_u0/uci.csv" = long_csv(uci_keys, rmse, "mean", baseline_from = "uci.csv"),
  "uci_gnr_observed_u4/uci.csv" = long_csv(uci_keys, rmse, "mean", baseline_from = "uci.csv"),
  "uci_psmvae_complete/uci.csv" = long_csv(uci_keys, rmse, "mean", baseline_from = "uci.csv"),
  "uci_psmvae_observed/uci.csv" = long_csv(uci_keys, rmse, "mean", baseline_from = "uci.csv"),
  "psmvae_pi.csv" = long_csv(c("dataset", "prob", "variant", "pi_prime"), rmse, "mean", bkeys = c("dataset", "prob"),
                             baseline_from = "uci.csv",
                             transform = function(d) { d$method <- paste0("psmvae_", d$variant); d }),
  # The bundled datasets' rows hold no mean imputation: uci.csv's (same protocol).
  "generalisation.csv" = long_csv(c("dataset", "prob"), rmse, "mean", fallback = "uci.csv"),
  "generalisation_transform.csv" = long_csv(c("dataset", "prob"), rmse, "mean", baseline_from = "generalisation.csv"),
  "ensemble.csv" = wide_csv(c("dataset", "prob", "seed"), c("one_fit", "best_bound", "ensemble_2", "ensemble_4"),
                            "rmse", "rmse", baseline_from = "generalisation.csv", bkeys = c("dataset", "prob"),
                            method_name = function(cl, d) paste0(d$model, "_", cl)),
  "mixed.csv" = long_csv(c("dataset", "prob"), list(rmse = function(d) d$rmse, pfc = function(d) d$pfc), "mean"),
  "coverage.csv" = long_csv(c("design", "estimand"), list(abs_bias = function(d) abs(d$bias)), "cc"),
  # the default's own run (no complete cases of its own): coverage.csv's, same designs and seeds
  "coverage_auto/coverage.csv" = long_csv(c("design", "estimand"), list(abs_bias = function(d) abs(d$bias)), "cc",
                                          baseline_from = "coverage.csv"),
  "ratings_scale.csv" = long_csv(character(0), list(mse = function(d) d$mse), "item_mean",
                                 transform = function(d) { d$dataset <- "yahoo_size"; d }),
  "ratings.md" = md_long("method", "MSE", "item_mean", "mse"),
  "ratings_mechanisms.csv" = long_csv("mechanism", list(mse = function(d) d$mse), "item_mean"),
  "ratings_activity.csv" = long_csv(c("slope", "user_sd"), list(mse = function(d) d$mse), "item_mean"),
  "ratings_slope_start.csv" = long_csv(c("slope", "user_sd"), list(mse = function(d) d$mse), "item_mean",
                                       baseline_from = "ratings_activity.csv"),
  "generalisation_patience_ratio1.md" = md_wide("dataset", "mean", "rmse", "^Probability"),
  "mechanisms_cells.csv" = function(path, dir) rbind(
    wide_csv(c("dataset", "mechanism", "rate", "seed"), "default", "mean", "rmse", per_row = TRUE)(path, dir),
    wide_csv(c("dataset", "mechanism", "rate", "seed"), "default_pfc", "mean_pfc", "pfc", per_row = TRUE,
             method_name = function(cl, d) "default")(path, dir))
)

# Files no rule reads, and why.
same_reason <- function(files, reason) stats::setNames(rep(reason, length(files)), files)
not_checked <- c(
  "uci.md" = "from uci.csv", "uci-quick.md" = "from uci-quick.csv", "generalisation.md" = "from generalisation.csv",
  "generalisation_transform.md" = "from generalisation_transform.csv", "mixed.md" = "from mixed.csv",
  "coverage.md" = "from coverage.csv", "coverage_auto/coverage.md" = "from coverage_auto/coverage.csv", "ensemble.md" = "from ensemble.csv", "psmvae_pi.md" = "from psmvae_pi.csv",
  "gnr_protocols.md" = "from the uci_*/uci.csv files", "defaults_vs_paper.md" = "from generalisation.csv and uci_paper/uci.csv",
  "mechanisms.csv" = "per-candidate rows; the default's cells are in mechanisms_cells.csv",
  "mechanisms.md" = "from mechanisms_cells.csv",
  "ratings_mechanisms.md" = "from ratings_mechanisms.csv", "ratings_activity.md" = "from ratings_activity.csv", "ratings_slope_start.md" = "from ratings_slope_start.csv",
  "mechanism_cost.csv" = "timings, no baseline", "mechanism_cost.md" = "from mechanism_cost.csv",
  "coverage_log.md" = "no complete-case baseline in the table", "marginal_mask.csv" = "no baseline (not-MIWAE only)",
  "marginal_mask.md" = "no baseline (not-MIWAE only)", "precision.csv" = "no baseline (not-MIWAE only)",
  "precision.md" = "no baseline (not-MIWAE only)", "scale.csv" = "no mean imputation in the table",
  "scale.md" = "no mean imputation in the table", "speed.csv" = "timings", "speed.md" = "timings",
  "pytorch_anchor.csv" = "timings", "inference_cost.md" = "timings",
  "early_stopping_overhead.csv" = "timings", "early_stopping_overhead.md" = "timings",
  "early_stopping_overhead_r_loop.csv" = "timings",
  "coverage_auto/evidence.csv" = "held-out scores relative to the MAR candidate, no imputations",
  "workflow.md" = "timings", "eigen_version.csv" = "timings", "eigen_version.md" = "timings",
  "marginal_levels.csv" = "no baseline (not-MIWAE only, drawn against summed)",
  "marginal_levels.md" = "no baseline (not-MIWAE only, drawn against summed)",
  "ratings.csv" = "every cell of ratings.md, which is checked",
  "schedule.csv" = "no mean imputation in the table", "schedule.md" = "no mean imputation in the table",
  "pattern_sets.csv" = "pattern-set accuracy, no naive baseline", "pattern_sets.md" = "pattern-set accuracy, no naive baseline",
  "psmvae_starts.md" = "no baseline (PSMVAE only)", "stopping.md" = "no baseline (not-MIWAE only)",
  "mechanism_rules.csv" = "rules compared on the default's fits; the default's own cells are checked in mechanisms_cells.csv",
  "mechanism_rules.md" = "from mechanism_rules.csv",
  "mechanism_rules_folds2.csv" = "rules on the folds = 2 trial's fits (partial run)",
  "mechanism_rules_folds2.md" = "from mechanism_rules_folds2.csv",
  "mechanism_rules_selfmask_mar.csv" = "rules on the selfmask_mar trial's fits",
  "mechanism_rules_selfmask_mar.md" = "from mechanism_rules_selfmask_mar.csv",
  same_reason(paste0("mechanisms_linear", c(".csv", ".md", "_cells.csv")),
              "the previous default's candidates (linear in place of selfmask_mar), seed 1; not the default's"),
  same_reason(paste0("mechanisms_folds2", c(".csv", ".md", "_cells.csv")),
              "a setting under trial (folds = 2), partial run (seed 1, rate 0.2); see issue 31's note"),
  same_reason(paste0("mechanisms_selfmask_mar", c(".csv", ".md", "_cells.csv")),
              "the default's candidates plus selfmask_mar, rejected for the default (see issue 31's note)"),
  same_reason(paste0("coverage_auto_selfmask_mar/coverage", c(".csv", ".md")),
              "selfmask_mar among the candidates, rejected for the default (see issue 31's note)"),
  same_reason(paste0("coverage_auto_best/coverage", c(".csv", ".md")),
              "the best-score rule under trial, not the default's (see issue 31's note)"),
  same_reason(paste0(c("coverage_auto_selfmask_mar", "coverage_auto_best"), "/evidence.csv"),
              "held-out scores relative to the MAR candidate, no imputations")
)

# ---------------------------------------------------------------------------

key_of <- function(d) paste(d$file, d$dataset, d$setting, d$method, d$metric, sep = " | ")

check <- function(results, allowlist, quiet = FALSE) {
  say <- function(...) if (!quiet) cat(..., sep = "")
  files <- list.files(results, recursive = TRUE)
  files <- files[!grepl("^cache/", files) & grepl("\\.(csv|md)$", files)]
  found <- do.call(rbind, lapply(intersect(names(rules), files), function(f) {
    cells <- rules[[f]](file.path(results, f), results)
    if (is.null(cells) || !nrow(cells)) return(NULL)
    cbind(file = f, cells, stringsAsFactors = FALSE)
  }))
  if (is.null(found)) found <- data.frame(file = character(0), dataset = character(0), setting = character(0),
                                          method = character(0), metric = character(0), value = numeric(0),
                                          baseline = character(0), baseline_value = numeric(0))
  unmatched <- found[is.na(found$baseline_value), , drop = FALSE]
  worse <- found[!is.na(found$baseline_value) & found$value > found$baseline_value, , drop = FALSE]
  allow <- if (file.exists(allowlist)) utils::read.csv(allowlist, stringsAsFactors = FALSE, colClasses = "character") else
    data.frame(file = character(0), dataset = character(0), setting = character(0), method = character(0),
               metric = character(0), reason = character(0))
  allowed <- key_of(worse) %in% key_of(allow)
  new <- worse[!allowed, , drop = FALSE]
  stale <- allow[!key_of(allow) %in% key_of(worse), , drop = FALSE]
  uncovered <- setdiff(files, c(names(rules), names(not_checked), grep("^uci[^/]*/uci\\.md$", files, value = TRUE)))

  say(sprintf("check_results: %d files read, %d deepmnar cells compared with their baseline (%d without a baseline cell)\n",
              length(intersect(names(rules), files)), nrow(found) - nrow(unmatched), nrow(unmatched)))
  line <- function(d) sprintf("  %s | %s | %s | %s | %s: %.3f against %s %.3f", d$file, d$dataset, d$setting,
                              d$method, d$metric, d$value, d$baseline, d$baseline_value)
  if (nrow(worse)) {
    say("Cells worse than the baseline of their table (file | dataset | setting | method | metric):\n")
    reason <- allow$reason[match(key_of(worse), key_of(allow))]
    say(paste0(line(worse), ifelse(is.na(reason), "   NEW: not in the allow-list", paste0("   allowed: ", reason)),
               collapse = "\n"), "\n")
  }
  if (nrow(stale)) say("Allow-listed cells no longer worse than the baseline (delete them from the list):\n",
                       paste0("  ", key_of(stale), collapse = "\n"), "\n")
  if (length(uncovered)) say("Files in ", results, " that no rule checks (add a rule or a reason): ",
                             paste(uncovered, collapse = ", "), "\n")
  say(sprintf("check_results: %d cells worse than the baseline, %d allow-listed, %d new\n",
              nrow(worse), sum(allowed), nrow(new)))
  invisible(list(worse = worse, new = new, stale = stale, uncovered = uncovered))
}

self_test <- function() {
  dir <- tempfile("check_results_"); dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE))
  uci <- expand.grid(dataset = "toy", prob = 1, mechanism = "self_mask_mean", seed = 1:2,
                     method = c("mean", "notmiwae", "gnr", "missforest"), stringsAsFactors = FALSE)
  uci$rmse <- c(mean = 1, notmiwae = 1.5, gnr = 0.5, missforest = 2)[uci$method]
  uci$error <- NA
  utils::write.csv(uci, file.path(dir, "uci.csv"), row.names = FALSE)
  writeLines(c("# toy ratings", "", "## toyset (10 users x 5 items)", "", "| method | MSE | seconds |",
               "|---|---|---|", "| item_mean | 0.800 ± 0.010 (3) | 0 |", "| miwae | 0.700 ± 0.010 (3) | 1 |",
               "| psmvae | 5.000 ± 0.100 (3) | 2 |", "| mf | 9.000 | 1 |"), file.path(dir, "ratings.md"))
  allow <- file.path(dir, "allow.csv")
  r <- check(dir, allow, quiet = TRUE)
  stopifnot(nrow(r$worse) == 2, nrow(r$new) == 2,
            setequal(r$worse$method, c("notmiwae", "psmvae")),          # missforest, mf: not deepmnar
            r$worse$setting[r$worse$method == "notmiwae"] == "prob=1; mechanism=self_mask_mean",
            r$worse$value[r$worse$method == "psmvae"] == 5)
  utils::write.csv(data.frame(file = "uci.csv", dataset = "toy", setting = "prob=1; mechanism=self_mask_mean",
                              method = "notmiwae", metric = "rmse", reason = "test"), allow, row.names = FALSE)
  r <- check(dir, allow, quiet = TRUE)
  stopifnot(nrow(r$worse) == 2, nrow(r$new) == 1, r$new$method == "psmvae")
  utils::write.csv(data.frame(file = c("uci.csv", "ratings.md"), dataset = c("toy", "toyset"),
                              setting = c("prob=1; mechanism=self_mask_mean", ""), method = c("notmiwae", "psmvae"),
                              metric = c("rmse", "mse"), reason = "test"), allow, row.names = FALSE)
  r <- check(dir, allow, quiet = TRUE)
  stopifnot(nrow(r$new) == 0, nrow(r$stale) == 0)
  # Fixed cell: no longer worse, so its allow-list entry is reported as stale.
  uci$rmse[uci$method == "notmiwae"] <- 0.9
  utils::write.csv(uci, file.path(dir, "uci.csv"), row.names = FALSE)
  r <- check(dir, allow, quiet = TRUE)
  stopifnot(nrow(r$new) == 0, nrow(r$worse) == 1, nrow(r$stale) == 1, r$stale$method == "notmiwae")
  # A new bad cell is caught.
  uci$rmse[uci$method == "gnr"] <- 1.2
  utils::write.csv(uci, file.path(dir, "uci.csv"), row.names = FALSE)
  r <- check(dir, allow, quiet = TRUE)
  stopifnot(nrow(r$new) == 1, r$new$method == "gnr")
  # The mechanism bench's wide per-cell table: default against mean, per seed.
  utils::write.csv(data.frame(dataset = "toy", mechanism = "mar", rate = 0.3, seed = 1:2, default = c(0.5, 1.4),
                              mean = 1, default_pfc = NA, mean_pfc = NA), file.path(dir, "mechanisms_cells.csv"),
                   row.names = FALSE)
  r <- check(dir, allow, quiet = TRUE)
  stopifnot(nrow(r$new) == 2, "default" %in% r$new$method,
            r$new$setting[r$new$method == "default"] == "mechanism=mar; rate=0.3; seed=2")
  cat("check_results --self-test: ok\n")
}

args <- commandArgs(trailingOnly = TRUE)
opt <- list(results = file.path("bench", "results"), allowlist = file.path("bench", "results_allowlist.csv"))
for (a in args) {
  if (a == "--self-test") { self_test(); quit(save = "no", status = 0) }
  kv <- regmatches(a, regexec("^--(results|allowlist)=(.*)$", a))[[1]]
  if (length(kv) != 3) stop("cannot read option ", a)
  opt[[kv[2]]] <- kv[3]
}
res <- check(opt$results, opt$allowlist)
quit(save = "no", status = if (nrow(res$new)) 1 else 0)

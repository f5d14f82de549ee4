# Does the default choose the mechanism well when nobody knows why values are
# missing? Real datasets that no default was chosen on, made missing by seven
# mechanisms at two rates; the default notmiwae() (missing_model = "auto")
# against each of its candidates, mice (pmm), missForest and mean imputation.
#
# Data (real, from CRAN packages; provenance in bench/generalisation.R and
# bench/mixed.R): boston, pima, glass, quakes, creditcard (numeric) and
# penguins (three factors). concrete, abalone, letter, spambase and adult stay
# out of every bench (independent checks).
#
# Mechanisms, on the first half (rounded up) of the columns (the "at-risk"
# columns; the others are always observed), each column's cells missing with
# probability plogis(a_j + score), a_j solved so that a share `rate` of the
# column goes missing. Scores use the complete data standardised (a factor's
# level code standardised):
#   mcar        0
#   mar         2 z_k, k an always-observed column (at-risk column j driven by
#               always-observed column ((j - 1) mod #observed) + 1)
#   mnar_high   2 z_j
#   mnar_low    -2 z_j
#   mnar_tails  1.5 z_j^2
#   mnar_latent 2 u, u the first principal component of all columns (a
#               latent cause shared by the values and their masks)
#   mnar_mixed  2 z_j on odd at-risk columns, -2 z_j on even ones
# Rates 0.2 and 0.4; seeds 1-3 (amputation and fits).
#
# Metrics: RMSE over the missing numeric cells (complete-data standardised),
# PFC over missing factor cells. The default's fit trains every candidate; each
# candidate's imputation comes from the same fit (candidate_fit()), so "the
# oracle" (the candidate with the lowest RMSE in hindsight) and the regret of
# the default's choice are measured on the same fits.
#
# Run from the package root, with the package installed:
#   Rscript bench/mechanisms.R --methods=deepmnar --seeds=1
#   Rscript bench/mechanisms.R --methods=mean,mice,missforest
#   Rscript bench/mechanisms.R --report
# --derive-from=TAG --seeds=... writes the default's cells from a tagged run
# whose candidates include the default's (see derive_cells()).
# Options: --datasets, --mechanisms, --rates (0.2,0.4), --seeds (1:3),
# --methods (deepmnar,mean,mice,missforest), --report; --folds=N (the
# default's `folds`, with --tag); --candidates=a,b,...
# with --tag=NAME runs the default with other candidates into its own cache
# and writes bench/results/mechanisms_NAME.md and .csv (the baselines are
# read from the main cache, which the committed mechanisms.csv seeds). Cells are cached in
# bench/results/cache/mechanisms/ as they finish, so runs resume and two
# processes with disjoint --datasets (or --methods) use both cores.

suppressPackageStartupMessages(library(deepmnar))
source(file.path("bench", "datasets.R"))

args <- commandArgs(trailingOnly = TRUE)
datasets_all <- c("boston", "pima", "glass", "quakes", "creditcard", "penguins")
mechanisms_all <- c("mcar", "mar", "mnar_high", "mnar_low", "mnar_tails", "mnar_latent", "mnar_mixed")
split_option <- function(name, default) strsplit(command_option(args, name, default), ",")[[1]]
datasets <- split_option("datasets", paste(datasets_all, collapse = ","))
mechanisms <- split_option("mechanisms", paste(mechanisms_all, collapse = ","))
rates <- as.numeric(split_option("rates", "0.2,0.4"))
seeds <- eval(parse(text = command_option(args, "seeds", "1:3")))
methods <- split_option("methods", "deepmnar,mean,mice,missforest")
report_only <- "--report" %in% args
tag <- command_option(args, "tag", "")
candidate_set <- if (nzchar(tag)) strsplit(command_option(args, "candidates", ""), ",")[[1]] else NULL
if (nzchar(tag) && !length(candidate_set)) stop("--tag needs --candidates", call. = FALSE)
folds <- as.integer(command_option(args, "folds", "1"))
main_cache_dir <- file.path("bench", "results", "cache", "mechanisms")
cache_dir <- if (nzchar(tag)) paste0(main_cache_dir, "_", tag) else main_cache_dir
results_name <- if (nzchar(tag)) paste0("mechanisms_", tag) else "mechanisms"
dir.create(cache_dir, recursive = TRUE, showWarnings = FALSE)
dir.create(main_cache_dir, recursive = TRUE, showWarnings = FALSE)

# The committed bench/results/mechanisms.csv holds every finished cell: a
# fresh clone (no cache) resumes from it instead of refitting.
seed_cache_from_csv <- function() {
  csv <- file.path("bench", "results", "mechanisms.csv")
  if (!file.exists(csv)) return(invisible())
  done <- utils::read.csv(csv, stringsAsFactors = FALSE)
  done$method_group <- ifelse(is.na(done$chosen) & done$method != "default", done$method, "deepmnar")
  for (cell in split(done, paste(done$dataset, done$mechanism, done$rate, done$seed, done$method_group))) {
    file <- cell_file(cell$dataset[1], cell$mechanism[1], cell$rate[1], cell$seed[1], cell$method_group[1],
                      main_cache_dir)
    if (!file.exists(file)) saveRDS(cell[setdiff(names(cell), "method_group")], file)
  }
}

# Missingness of the at-risk columns under `mechanism` at `rate`.
ampute <- function(data, mechanism, rate, seed) {
  set.seed(seed)
  z <- scale(vapply(data, function(col) as.numeric(col), numeric(nrow(data))))
  p <- ncol(z)
  at_risk <- seq_len(ceiling(p / 2))
  observed <- setdiff(seq_len(p), at_risk)
  u <- drop(scale(stats::prcomp(z)$x[, 1]))
  mask <- matrix(FALSE, nrow(z), p)
  for (i in seq_along(at_risk)) {
    j <- at_risk[i]
    score <- switch(mechanism,
      mcar = rep(0, nrow(z)),
      mar = 2 * z[, observed[(i - 1) %% length(observed) + 1]],
      mnar_high = 2 * z[, j],
      mnar_low = -2 * z[, j],
      mnar_tails = 1.5 * z[, j]^2,
      mnar_latent = 2 * u,
      mnar_mixed = if (i %% 2 == 1) 2 * z[, j] else -2 * z[, j])
    a <- stats::uniroot(function(a) mean(stats::plogis(a + score)) - rate, c(-50, 50))$root
    mask[, j] <- stats::runif(nrow(z)) < stats::plogis(a + score)
  }
  # every row keeps an observed value
  mask[rowSums(!mask) == 0, p] <- FALSE
  x <- data
  for (j in at_risk) x[[j]][mask[, j]] <- NA
  list(data = x, mask = mask)
}

scores_of <- function(truth, completed, mask) {
  numeric_cols <- vapply(truth, is.numeric, logical(1))
  m_num <- mask
  m_num[, !numeric_cols] <- FALSE
  c(rmse = if (any(m_num)) imputation_rmse(truth, completed, m_num) else NA_real_,
    pfc = imputation_pfc(truth, completed, mask))
}

cell_file <- function(dataset, mechanism, rate, seed, method, dir = if (method == "deepmnar") cache_dir else main_cache_dir) {
  file.path(dir, sprintf("%s_%s_%g_%d_%s.rds", dataset, mechanism, rate, seed, method))
}

# A cell's saved candidates (completed data and held-out row scores), beside
# its file.
details_file_of <- function(file) sub("\\.rds$", "_details.rds", file)

run_deepmnar <- function(amputed, truth, seed, details_file) {
  started <- proc.time()[["elapsed"]]
  fit <- notmiwae(amputed$data, seed = seed, threads = 1L, progress = FALSE, candidates = candidate_set, folds = folds)
  seconds <- proc.time()[["elapsed"]] - started
  table <- compare_mechanisms(fit)
  completed <- lapply(stats::setNames(nm = table$mechanism), function(m) {
    impute(candidate_fit(fit, m), seed = seed, threads = 1L)
  })
  save_candidate_details(fit, completed, amputed, seed, details_file)
  rows <- lapply(table$mechanism, function(m) {
    s <- scores_of(truth, completed[[m]], amputed$mask)
    data.frame(method = m, rmse = s[["rmse"]], pfc = s[["pfc"]], loglik = table$loglik[table$mechanism == m],
               loglik_se = table$difference_se[table$mechanism == m], chosen = table$chosen[table$mechanism == m],
               seconds = table$seconds[table$mechanism == m], iterations = table$iterations[table$mechanism == m])
  })
  out <- do.call(rbind, rows)
  chosen <- out[out$chosen, ]
  rbind(out, data.frame(method = "default", rmse = chosen$rmse, pfc = chosen$pfc, loglik = chosen$loglik,
                        loglik_se = NA_real_, chosen = NA, seconds = seconds, iterations = NA_integer_))
}

# Each candidate's completed data and held-out row log-likelihoods, beside
# the cell's file, so that rules which weight the candidates by their
# evidence can be scored on the same fits (bench/mechanism_rules.R).
save_candidate_details <- function(fit, completed, amputed, seed, details_file) {
  loglik <- lapply(stats::setNames(nm = names(completed)), function(m) {
    deepmnar:::held_out_scores(candidate_fit(fit, m), K = fit$mechanisms$K, seed = seed, threads = 1L)$loglik
  })
  saveRDS(list(completed = completed, loglik = loglik, mask = amputed$mask), details_file)
}

run_baseline <- function(method, amputed, truth, seed) {
  started <- proc.time()[["elapsed"]]
  x <- amputed$data
  completed <- switch(method,
    mean = {
      for (j in seq_along(x)) {
        miss <- is.na(x[[j]])
        if (!any(miss)) next
        x[[j]][miss] <- if (is.numeric(x[[j]])) mean(x[[j]], na.rm = TRUE) else
          names(which.max(table(x[[j]])))
      }
      x
    },
    mice = {
      imp <- suppressWarnings(mice::mice(x, m = 5, printFlag = FALSE, seed = seed,
                                         defaultMethod = c("pmm", "logreg", "polyreg", "polr")))
      done <- lapply(seq_len(5), function(i) mice::complete(imp, i))
      out <- done[[1]]
      for (j in seq_along(out)) {
        if (is.numeric(out[[j]])) out[[j]] <- Reduce(`+`, lapply(done, `[[`, j)) / 5 else
          out[[j]] <- factor(apply(vapply(done, function(d) as.character(d[[j]]), character(nrow(out))), 1,
                                   function(v) names(which.max(table(v)))), levels = levels(out[[j]]))
      }
      out
    },
    missforest = { set.seed(seed); suppressWarnings(missForest::missForest(x)$ximp) })
  s <- scores_of(truth, completed, amputed$mask)
  data.frame(method = method, rmse = s[["rmse"]], pfc = s[["pfc"]], loglik = NA_real_, loglik_se = NA_real_,
             chosen = NA, seconds = proc.time()[["elapsed"]] - started, iterations = NA_integer_)
}

# --derive-from=TAG: the default's cells of --seeds from a run whose
# candidates include the default's (its cells and saved row scores), without
# refitting: each candidate trains on its own with the fit's seed and
# held-out rows, so its fit, score and imputations are those the default
# makes; the default's rule is applied to its own candidates, with paired
# standard errors from the saved row scores. The default's own time is not
# measured there (NA).
derive_cells <- function(from) {
  from_dir <- paste0(main_cache_dir, "_", from)
  set <- deepmnar:::default_candidates("gaussian", 2L, FALSE)
  for (dataset in datasets) for (seed in seeds) for (rate in rates) for (mechanism in mechanisms) {
    file <- cell_file(dataset, mechanism, rate, seed, "deepmnar")
    source_file <- cell_file(dataset, mechanism, rate, seed, "deepmnar", from_dir)
    source_details <- details_file_of(source_file)
    if (file.exists(file) || !file.exists(source_details)) next
    r <- readRDS(source_file)
    d <- readRDS(source_details)
    cand <- r[match(set, r$method), ]
    L <- do.call(cbind, d$loglik[set])
    cand$loglik <- colMeans(L)
    cand$loglik_se <- apply(L - L[, which.max(cand$loglik)], 2, stats::sd) / sqrt(nrow(L))
    pick <- deepmnar:::one_se_choice(cand$loglik, cand$loglik_se)
    cand$chosen <- seq_along(set) == pick
    default <- cand[pick, ]
    default$method <- "default"
    default[c("loglik_se", "chosen", "seconds", "iterations")] <- list(NA_real_, NA, NA_real_, NA_integer_)
    saveRDS(list(completed = d$completed[set], loglik = d$loglik[set], mask = d$mask), details_file_of(file))
    saveRDS(rbind(cand, default), file)
  }
}

seed_cache_from_csv()
derive_from <- command_option(args, "derive-from", "")
if (nzchar(derive_from)) derive_cells(derive_from)
if (!report_only && !nzchar(derive_from)) {
  for (dataset in datasets) {
    truth <- load_dataset(dataset)
    for (seed in seeds) for (rate in rates) for (mechanism in mechanisms) for (method in methods) {
      file <- cell_file(dataset, mechanism, rate, seed, method)
      if (file.exists(file)) next
      amputed <- ampute(truth, mechanism, rate, seed)
      cat(sprintf("%s %s rate %g seed %d %s ... ", dataset, mechanism, rate, seed, method))
      res <- tryCatch(if (method == "deepmnar") run_deepmnar(amputed, truth, seed, details_file_of(file)) else
                        run_baseline(method, amputed, truth, seed),
                      error = function(e) data.frame(method = method, rmse = NA_real_, pfc = NA_real_, loglik = NA_real_,
                                                     loglik_se = NA_real_, chosen = NA, seconds = NA_real_,
                                                     iterations = NA_integer_, error = conditionMessage(e)))
      if (is.null(res$error)) res$error <- NA_character_
      res <- cbind(data.frame(dataset = dataset, mechanism = mechanism, rate = rate, seed = seed), res)
      saveRDS(res, file)
      cat(sprintf("%.1f s\n", sum(res$seconds[res$method %in% c("default", method)], na.rm = TRUE)))
    }
  }
}

# ---- report -----------------------------------------------------------------
files <- list.files(cache_dir, full.names = TRUE, pattern = "_(deepmnar|mean|mice|missforest)\\.rds$")
if (!length(files)) quit(save = "no")
if (nzchar(tag)) {
  ran <- do.call(rbind, lapply(files, readRDS))
  baselines <- list.files(main_cache_dir, full.names = TRUE, pattern = "_(mean|mice|missforest)\\.rds$")
  files <- c(files, baselines[sub(".*/", "", baselines) %in% sprintf("%s_%s_%g_%d_%s.rds", rep(ran$dataset, 3),
                                rep(ran$mechanism, 3), rep(ran$rate, 3), rep(ran$seed, 3),
                                rep(c("mean", "mice", "missforest"), each = nrow(ran)))])
}
all <- do.call(rbind, lapply(files, readRDS))
utils::write.csv(all, file.path("bench", "results", paste0(results_name, ".csv")), row.names = FALSE)
candidates <- setdiff(unique(all$method[!is.na(all$chosen)]), NA)
key <- c("dataset", "mechanism", "rate", "seed")
cells <- unique(all[all$method == "default", key])
per_cell <- do.call(rbind, lapply(seq_len(nrow(cells)), function(i) {
  c0 <- cells[i, ]
  rows <- all[all$dataset == c0$dataset & all$mechanism == c0$mechanism & all$rate == c0$rate & all$seed == c0$seed, ]
  get <- function(m) { v <- rows$rmse[rows$method == m]; if (length(v)) v[1] else NA_real_ }
  cand <- rows[rows$method %in% candidates & !is.na(rows$chosen), ]
  oracle <- cand$method[which.min(cand$rmse)]
  # the package's rule, applied to the candidates' scores in the default's
  # order (others last); cells cached before the rule or the order changed
  # are rescored alike
  cand <- cand[order(match(cand$method, deepmnar:::default_candidates("gaussian", 2L, FALSE))), ]
  pick <- deepmnar:::one_se_choice(cand$loglik, cand$loglik_se)
  top <- which.max(cand$loglik)
  data.frame(c0, default = cand$rmse[pick], chosen = cand$method[pick], oracle = oracle,
             oracle_rmse = min(cand$rmse), best_rule = cand$rmse[top], best_choice = cand$method[top],
             mice = get("mice"), missforest = get("missforest"), mean = get("mean"),
             t(stats::setNames(vapply(candidates, get, numeric(1)), candidates)),
             default_pfc = cand$pfc[pick],
             mice_pfc = { v <- rows$pfc[rows$method == "mice"]; if (length(v)) v[1] else NA_real_ },
             missforest_pfc = { v <- rows$pfc[rows$method == "missforest"]; if (length(v)) v[1] else NA_real_ },
             mean_pfc = { v <- rows$pfc[rows$method == "mean"]; if (length(v)) v[1] else NA_real_ },
             seconds = rows$seconds[rows$method == "default"][1])
}))
per_cell$regret <- per_cell$default / per_cell$oracle_rmse - 1
per_cell$regret_best_rule <- per_cell$best_rule / per_cell$oracle_rmse - 1
utils::write.csv(per_cell, file.path("bench", "results", paste0(results_name, "_cells.csv")), row.names = FALSE)
# the vignette "Which mechanism?" reads the installed copy of the default's
if (!nzchar(tag)) utils::write.csv(per_cell, file.path("inst", "extdata", "mechanisms_cells.csv"), row.names = FALSE)

fmt <- function(v) ifelse(is.na(v), "", sprintf("%.3f", v))
mean_sd <- function(v) if (all(is.na(v))) "" else if (sum(!is.na(v)) > 1)
  sprintf("%.3f ± %.3f", mean(v, na.rm = TRUE), stats::sd(v, na.rm = TRUE)) else sprintf("%.3f", mean(v, na.rm = TRUE))
by_mech <- split(per_cell, per_cell$mechanism)
lines <- c(
  "# The data choose the mechanism: bench/mechanisms.R",
  "",
  sprintf("Generated %s by `Rscript bench/mechanisms.R` (deepmnar %s). %d cells (dataset x mechanism x rate x seed).",
          format(Sys.time(), "%Y-%m-%d %H:%M"), utils::packageVersion("deepmnar"), nrow(per_cell)),
  "RMSE over the missing numeric cells (complete-data standardised), mean ± sd over the cells of a mechanism",
  "(datasets x rates x seeds). `default` is notmiwae() with its defaults (missing_model = \"auto\": the first",
  "candidate, in the default's order, within one paired SE of the best held-out log-likelihood); each candidate",
  "is its imputation from the same fit; `oracle` the candidate with the lowest RMSE in each cell (hindsight);",
  "`argmax` the candidate with the best held-out log-likelihood (the rule without the one-SE margin).",
  "bench/results/mechanism_rules.md compares more rules on the same fits.",
  "",
  paste0("| mechanism | cells | default | oracle | argmax | ", paste(candidates, collapse = " | "),
         " | mice | missForest | mean | regret (mean) | argmax regret | chose oracle |"),
  paste0("|", paste(rep("---", 11 + length(candidates)), collapse = "|"), "|"))
for (m in intersect(mechanisms_all, names(by_mech))) {
  d <- by_mech[[m]]
  lines <- c(lines, sprintf("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %+.1f%% | %+.1f%% | %d/%d |", m, nrow(d),
    mean_sd(d$default), mean_sd(d$oracle_rmse), mean_sd(d$best_rule),
    paste(vapply(candidates, function(cn) mean_sd(d[[cn]]), character(1)), collapse = " | "),
    mean_sd(d$mice), mean_sd(d$missforest), mean_sd(d$mean), 100 * mean(d$regret, na.rm = TRUE),
    100 * mean(d$regret_best_rule, na.rm = TRUE), sum(d$chosen == d$oracle, na.rm = TRUE), nrow(d)))
}
choice_table <- table(per_cell$mechanism, per_cell$chosen)
lines <- c(lines, "", "## Which candidate the default chose, by mechanism", "",
           paste0("| mechanism | ", paste(colnames(choice_table), collapse = " | "), " |"),
           paste0("|", paste(rep("---", ncol(choice_table) + 1), collapse = "|"), "|"))
for (m in rownames(choice_table)) lines <- c(lines, sprintf("| %s | %s |", m, paste(choice_table[m, ], collapse = " | ")))

mar_side <- per_cell$mechanism %in% c("mcar", "mar")
mnar_side <- !mar_side
bar <- function(ok) if (isTRUE(ok)) "met" else "**not met**"
avg_regret <- mean(per_cell$regret, na.rm = TRUE)
ratio_mf <- mean(per_cell$default[mar_side] / per_cell$missforest[mar_side], na.rm = TRUE)
mnar_vs <- vapply(split(per_cell[mnar_side, ], per_cell$mechanism[mnar_side]), function(d)
  mean(d$default) < mean(d$mice, na.rm = TRUE) && mean(d$default) < mean(d$missforest, na.rm = TRUE), logical(1))
worse_than_mean <- per_cell[per_cell$default > per_cell$mean, ]
lines <- c(lines, "", "## Bars (issue: the data choose the mechanism)", "",
  sprintf("- default within 5%% of the oracle candidate on average over cells: regret %+.1f%% (%s)", 100 * avg_regret,
          bar(avg_regret <= 0.05)),
  sprintf("- MCAR and MAR: default / missForest on average %.3f (within 5%%: %s)", ratio_mf, bar(ratio_mf <= 1.05)),
  sprintf("- every MNAR mechanism below mice and missForest on average: %s (%s)",
          paste(sprintf("%s %s", names(mnar_vs), ifelse(mnar_vs, "yes", "no")), collapse = ", "), bar(all(mnar_vs))),
  sprintf("- never worse than mean imputation in any cell: %d cells worse (%s)", nrow(worse_than_mean),
          bar(nrow(worse_than_mean) == 0)))
if (nrow(worse_than_mean)) {
  lines <- c(lines, "", "Cells where the default is worse than mean imputation:", "",
             sprintf("- %s %s rate %g seed %d: default %.3f (chose %s), mean %.3f", worse_than_mean$dataset,
                     worse_than_mean$mechanism, worse_than_mean$rate, worse_than_mean$seed, worse_than_mean$default,
                     worse_than_mean$chosen, worse_than_mean$mean))
}
pfc <- per_cell[!is.na(per_cell$default_pfc), ]
if (nrow(pfc)) {
  lines <- c(lines, "", "## Factor cells (PFC, penguins)", "",
             "| mechanism | default | mice | missForest | mode |", "|---|---|---|---|---|")
  for (m in unique(pfc$mechanism)) {
    d <- pfc[pfc$mechanism == m, ]
    lines <- c(lines, sprintf("| %s | %s | %s | %s | %s |", m, mean_sd(d$default_pfc), mean_sd(d$mice_pfc),
                              mean_sd(d$missforest_pfc), mean_sd(d$mean_pfc)))
  }
}
failed <- all[!is.na(all$error), ]
if (nrow(failed)) {
  lines <- c(lines, "", sprintf(paste0("Failures (excluded from that method's means): %s. mice leaves cells unimputed when ",
                                       "it drops a column from its models (collinear or constant within a replicate)."),
                                paste(sprintf("%s %d cells (%s)", names(table(failed$method)), as.integer(table(failed$method)),
                                              vapply(split(failed$dataset, failed$method), function(d)
                                                paste(unique(d), collapse = ", "), character(1))), collapse = "; ")))
}
timed <- per_cell$seconds[!is.na(per_cell$seconds)]
lines <- c(lines, "", sprintf(paste0("Default fit and imputation time per cell (one thread): median %.1f s (range %.1f-%.1f) ",
                                     "over the %d cells run as the default%s."),
                              stats::median(timed), min(timed), max(timed), length(timed),
                              if (length(timed) < nrow(per_cell)) sprintf(paste0("; the other %d were derived from a ",
                                "run with more candidates (`--derive-from`: the same fits, the default's rule on its own ",
                                "candidates' saved scores)"), nrow(per_cell) - length(timed)) else ""),
           "", "Per-cell numbers: bench/results/mechanisms_cells.csv; every row: bench/results/mechanisms.csv.")
if (nzchar(tag)) {
  lines <- append(lines, c("", sprintf(paste0("**Candidates of this run (`--tag=%s`): %s** in place of the default's; ",
                                              "mice, missForest and mean from the main run's cells."),
                                       tag, paste(candidate_set, collapse = ", "))), after = 1)
}
writeLines(lines, file.path("bench", "results", paste0(results_name, ".md")))
cat(lines, sep = "\n")

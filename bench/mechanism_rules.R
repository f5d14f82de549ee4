# How should the default turn the candidates' held-out evidence into an
# imputation? Each rule is scored on the same fits: the cells of a
# bench/mechanisms.R run (its candidates' completed data and held-out row
# log-likelihoods, saved beside each cell), so differences between rules are
# differences of rule only.
#
# Rules (L: held-out rows x candidates, each row's log p(x_obs, m)):
#   argmax      the candidate with the best mean held-out log-likelihood
#   one_se      the first candidate within one paired SE of the best, in the
#               default's order (MCAR, MAR, the self-mask; candidates outside
#               the default's set last): the default's rule
#   one_se_nested_first the same with the self-mask that nests MAR
#               (selfmask_mar) before the pure one
#   pseudo_bma  weights softmax(colSums(L)) (Akaike-type weights)
#   bma_plus    pseudo-BMA+ (Yao et al. 2018): the softmax weights averaged
#               over Bayesian-bootstrap reweightings of the held-out rows,
#               which spreads the weight when rows disagree
#   stacking    weights maximising sum_i log sum_k w_k exp(L_ik) (stacking
#               of predictive densities, Yao et al. 2018)
#   equal       every candidate 1/C
# and each rule again without one candidate (`--without`, default
# selfmask_quadratic), as `<rule>_without`, against the same oracle.
# A weighted rule imputes each numeric cell by the weighted mean of the
# candidates' imputations and each factor cell by the weighted vote.
#
#   Rscript bench/mechanism_rules.R [--tag=NAME]
# (the cells of the default's run, or of `bench/mechanisms.R --tag=NAME`)
# writes bench/results/mechanism_rules.md and .csv (mechanism_rules_NAME with
# --tag, and then a comparison with the default's cells).

suppressPackageStartupMessages(library(deepmnar))
source(file.path("bench", "datasets.R"))
args <- commandArgs(trailingOnly = TRUE)
tag <- command_option(args, "tag", "")
dropped <- command_option(args, "without", "selfmask_quadratic")
main_cache_dir <- file.path("bench", "results", "cache", "mechanisms")
cache_dir <- if (nzchar(tag)) paste0(main_cache_dir, "_", tag) else main_cache_dir
run <- if (nzchar(tag)) sprintf("`bench/mechanisms.R --tag=%s`", tag) else "`bench/mechanisms.R` (the default's)"

# The default's order of the candidates (the one-standard-error rule keeps
# the first within reach of the best; others after them), and the order
# with the self-mask that nests MAR before the pure one.
default_order <- deepmnar:::default_candidates("gaussian", 2L, FALSE)
nested_first <- c("mcar", "mar", "selfmask_mar", "selfmask_quadratic")

# Which of the candidates `names` (their mean scores and paired SEs) the
# one-standard-error rule picks with the candidates in `order`.
pick_in_order <- function(names, loglik, paired_se, order) {
  k <- order(match(names, order))
  k[deepmnar:::one_se_choice(loglik[k], paired_se[k])]
}

# The same for a cell's candidate rows.
cell_pick <- function(cand, order) pick_in_order(cand$method, cand$loglik, cand$loglik_se, order)

# A baseline's RMSE in the cell of a deepmnar cell file (or its details).
baseline_rmse <- function(file, method) {
  b <- file.path(main_cache_dir, sub("_deepmnar(_details)?\\.rds$", paste0("_", method, ".rds"), basename(file)))
  if (file.exists(b)) readRDS(b)$rmse[1] else NA_real_
}

softmax <- function(z) { e <- exp(z - max(z)); e / sum(e) }

bma_plus_weights <- function(L, draws = 1000, seed = 1) {
  set.seed(seed)
  n <- nrow(L)
  w <- matrix(0, draws, ncol(L))
  for (b in seq_len(draws)) {
    alpha <- stats::rexp(n)
    w[b, ] <- softmax(n * colSums(L * (alpha / sum(alpha))))
  }
  colMeans(w)
}

stacking_weights <- function(L) {
  objective <- function(a) {
    w <- softmax(c(0, a))
    m <- apply(L, 1, max)
    -sum(m + log(exp(L - m) %*% w))
  }
  softmax(c(0, stats::optim(rep(0, ncol(L) - 1), objective, method = "BFGS")$par))
}

# `order`: the candidates' names, most preferred first.
one_se_weights <- function(L, order) {
  ll <- colMeans(L)
  se <- apply(L - L[, which.max(ll)], 2, stats::sd) / sqrt(nrow(L))
  replace(numeric(ncol(L)), pick_in_order(colnames(L), ll, se, order), 1)
}

rule_weights <- function(L) {
  onehot <- function(k) replace(numeric(ncol(L)), k, 1)
  list(argmax = onehot(which.max(colMeans(L))), one_se = one_se_weights(L, default_order),
       one_se_nested_first = one_se_weights(L, nested_first),
       pseudo_bma = softmax(colSums(L)), bma_plus = bma_plus_weights(L), stacking = stacking_weights(L),
       equal = rep(1 / ncol(L), ncol(L)))
}

# The rules again on a subset of the candidates (the others weighted 0), to
# ask whether a smaller set would serve as well.
subset_weights <- function(L, keep) {
  lapply(rule_weights(L[, keep, drop = FALSE]), function(w) replace(numeric(ncol(L)), keep, w))
}

# The completed data of the candidates combined by weights `w`.
combine <- function(completed, w) {
  out <- completed[[1]]
  for (j in seq_along(out)) {
    if (is.numeric(out[[j]])) {
      out[[j]] <- Reduce(`+`, Map(function(d, wk) wk * d[[j]], completed, w))
    } else {
      votes <- vapply(levels(out[[j]]), function(l)
        Reduce(`+`, Map(function(d, wk) wk * (d[[j]] == l), completed, w)), numeric(nrow(out)))
      out[[j]] <- factor(levels(out[[j]])[max.col(matrix(votes, nrow(out)), ties.method = "first")],
                         levels = levels(out[[j]]))
    }
  }
  out
}

files <- list.files(cache_dir, pattern = "_details\\.rds$", full.names = TRUE)
if (!length(files)) stop("no candidate details in ", cache_dir, ": run bench/mechanisms.R first", call. = FALSE)
truths <- list()
rows <- lapply(files, function(f) {
  cell <- as.list(readRDS(sub("_details\\.rds$", ".rds", f))[1, c("dataset", "mechanism", "rate", "seed")])
  if (is.null(truths[[cell$dataset]])) truths[[cell$dataset]] <<- load_dataset(cell$dataset)
  truth <- truths[[cell$dataset]]
  d <- readRDS(f)
  L <- do.call(cbind, d$loglik)
  weights <- rule_weights(L)
  if (!is.null(dropped) && dropped %in% colnames(L)) {
    without <- subset_weights(L, colnames(L) != dropped)
    weights <- c(weights, stats::setNames(without, paste0(names(without), "_without")))
  }
  numeric_mask <- d$mask
  numeric_mask[, !vapply(truth, is.numeric, logical(1))] <- FALSE
  score <- function(completed) c(rmse = imputation_rmse(truth, completed, numeric_mask),
                                 pfc = imputation_pfc(truth, completed, d$mask))
  candidates <- vapply(d$completed, score, numeric(2))
  ruled <- vapply(weights, function(w) score(combine(d$completed, w)), numeric(2))
  data.frame(cell, held_out_rows = nrow(L), oracle = min(candidates["rmse", ]),
             t(ruled["rmse", ]), t(stats::setNames(candidates["rmse", ], paste0("cand_", colnames(candidates)))),
             pfc_bma_plus = ruled["pfc", "bma_plus"], pfc_stacking = ruled["pfc", "stacking"],
             pfc_argmax = ruled["pfc", "argmax"],
             weight_bma_plus = paste(sprintf("%.2f", weights$bma_plus), collapse = "/"),
             weight_stacking = paste(sprintf("%.2f", weights$stacking), collapse = "/"),
             mice = baseline_rmse(f, "mice"), missforest = baseline_rmse(f, "missforest"), mean = baseline_rmse(f, "mean"))
})
cells <- do.call(rbind, rows)
rules <- c("argmax", "one_se", "one_se_nested_first", "pseudo_bma", "bma_plus", "stacking", "equal")
rules <- c(rules, intersect(paste0(rules, "_without"), names(cells)))
out_name <- if (nzchar(tag)) paste0("mechanism_rules_", tag) else "mechanism_rules"
utils::write.csv(cells, file.path("bench", "results", paste0(out_name, ".csv")), row.names = FALSE)

mean_sd <- function(v) sprintf("%.3f ± %.3f", mean(v, na.rm = TRUE), stats::sd(v, na.rm = TRUE))
regret <- function(v, d) sprintf("%+.1f%%", 100 * mean(v / d$oracle - 1, na.rm = TRUE))
summary_row <- function(label, d) {
  sprintf("| %s | %d | %s | %s | %s | %s | %s |", label, nrow(d), mean_sd(d$oracle),
          paste(vapply(rules, function(r) sprintf("%s (%s)", sprintf("%.3f", mean(d[[r]])), regret(d[[r]], d)),
                       character(1)), collapse = " | "),
          sprintf("%.3f", mean(d$mice, na.rm = TRUE)), sprintf("%.3f", mean(d$missforest, na.rm = TRUE)),
          sprintf("%.3f", mean(d$mean, na.rm = TRUE)))
}
header <- c(paste0("| cells | n | oracle | ", paste(rules, collapse = " | "), " | mice | missForest | mean |"),
            paste0("|", paste(rep("---", 6 + length(rules)), collapse = "|"), "|"))
mechs <- c("mcar", "mar", "mnar_high", "mnar_low", "mnar_tails", "mnar_latent", "mnar_mixed")
lines <- c("# From evidence to imputation: bench/mechanism_rules.R", "",
  sprintf(paste0("Generated %s by `Rscript bench/mechanism_rules.R%s` (deepmnar %s) from the %d cells of ",
                 "%s that saved their candidates (seeds %s); candidates %s."),
          format(Sys.time(), "%Y-%m-%d %H:%M"), if (nzchar(tag)) paste0(" --tag=", tag) else "",
          utils::packageVersion("deepmnar"), nrow(cells), run,
          paste(sort(unique(cells$seed)), collapse = ", "), paste(names(readRDS(files[1])$loglik), collapse = ", ")),
  "Mean RMSE over the missing numeric cells (complete-data standardised) and, in brackets, the mean regret",
  "against the oracle (the best candidate of the cell in hindsight). Every rule sees the same fits.", "",
  "## By mechanism", "", header,
  vapply(intersect(mechs, unique(cells$mechanism)), function(m) summary_row(m, cells[cells$mechanism == m, ]),
         character(1)),
  summary_row("all", cells), "", "## By dataset", "", header,
  vapply(sort(unique(cells$dataset)), function(s) summary_row(s, cells[cells$dataset == s, ]), character(1)),
  "", "## Against mean imputation", "",
  paste0("Cells worse than mean imputation: ", paste(vapply(rules, function(r)
    sprintf("%s %d", r, sum(cells[[r]] > cells$mean, na.rm = TRUE)), character(1)), collapse = ", "), "."),
  "", sprintf("MCAR and MAR, rule / missForest on average: %s.", paste(vapply(rules, function(r) {
    d <- cells[cells$mechanism %in% c("mcar", "mar"), ]
    sprintf("%s %.3f", r, mean(d[[r]] / d$missforest, na.rm = TRUE))
  }, character(1)), collapse = ", ")))
if (any(!is.na(cells$pfc_argmax))) {
  p <- cells[!is.na(cells$pfc_argmax), ]
  lines <- c(lines, "", sprintf("Factor cells (PFC, %d cells): argmax %.3f, bma_plus %.3f, stacking %.3f.", nrow(p),
                                mean(p$pfc_argmax), mean(p$pfc_bma_plus), mean(p$pfc_stacking)))
}
# Selection rules need only each candidate's score and RMSE, which every cell
# of the run keeps (also those that predate the saved details): the same
# comparison over all seeds.
cell_files <- list.files(cache_dir, pattern = "_deepmnar\\.rds$", full.names = TRUE)
cell_results <- lapply(cell_files, readRDS)
selection_cells <- do.call(rbind, Map(function(f, r) {
  cand <- r[!is.na(r$chosen), ]
  data.frame(r[1, c("dataset", "mechanism", "rate", "seed")], oracle = min(cand$rmse),
             argmax = cand$rmse[which.max(cand$loglik)], one_se = cand$rmse[cell_pick(cand, default_order)],
             one_se_nested_first = cand$rmse[cell_pick(cand, nested_first)], mean = baseline_rmse(f, "mean"))
}, cell_files, cell_results))
selection_rules <- c("argmax", "one_se", "one_se_nested_first")
selection_row <- function(label, d) {
  sprintf("| %s | %d | %.3f | %s |", label, nrow(d), mean(d$oracle), paste(vapply(selection_rules, function(r)
    sprintf("%.3f (%s)", mean(d[[r]]), regret(d[[r]], d)), character(1)), collapse = " | "))
}
lines <- c(lines, "", sprintf("## Selection rules on every cell of the run (seeds %s, %d cells)",
                              paste(sort(unique(selection_cells$seed)), collapse = ", "), nrow(selection_cells)), "",
  "| cells | n | oracle | argmax | one_se | one_se_nested_first |", "|---|---|---|---|---|---|",
  vapply(intersect(mechs, unique(selection_cells$mechanism)), function(m)
    selection_row(m, selection_cells[selection_cells$mechanism == m, ]), character(1)),
  selection_row("all", selection_cells),
  "", paste0("Cells worse than mean imputation: ", paste(vapply(selection_rules, function(r)
    sprintf("%s %d", r, sum(selection_cells[[r]] > selection_cells$mean, na.rm = TRUE)), character(1)),
    collapse = ", "), "."))
# A tagged run (another setting of the default) against the default's run on
# the same cells: the setting's choice and the default's, each against the
# default's oracle.
if (nzchar(tag)) {
  main_cells <- file.path("bench", "results", "mechanisms_cells.csv")
  if (file.exists(main_cells)) {
    base <- utils::read.csv(main_cells)
    here <- do.call(rbind, lapply(cell_results, function(r) {
      cand <- r[!is.na(r$chosen), ]
      data.frame(r[1, c("dataset", "mechanism", "rate", "seed")], tagged = cand$rmse[cell_pick(cand, default_order)],
                 seconds = r$seconds[r$method == "default"])
    }))
    both <- merge(here, base[, c("dataset", "mechanism", "rate", "seed", "default", "oracle_rmse", "seconds")],
                  by = c("dataset", "mechanism", "rate", "seed"), suffixes = c("_tagged", "_default"))
    compare_row <- function(label, d) {
      sprintf("| %s | %d | %.3f (%+.1f%%) | %.3f (%+.1f%%) | %.1f | %.1f |", label, nrow(d), mean(d$default),
              100 * mean(d$default / d$oracle_rmse - 1), mean(d$tagged), 100 * mean(d$tagged / d$oracle_rmse - 1),
              stats::median(d$seconds_default, na.rm = TRUE), stats::median(d$seconds_tagged, na.rm = TRUE))
    }
    lines <- c(lines, "", sprintf("## `--tag=%s` against the default on the same %d cells", tag, nrow(both)), "",
      "Mean RMSE and, in brackets, mean regret against the default's oracle; median seconds per cell (fit and imputation).", "",
      sprintf("| cells | n | default | %s | default s | %s s |", tag, tag), "|---|---|---|---|---|---|",
      vapply(intersect(mechs, unique(both$mechanism)), function(m) compare_row(m, both[both$mechanism == m, ]),
             character(1)),
      compare_row("all", both))
  }
}
lines <- c(lines, "", sprintf("Per-cell numbers and weights: bench/results/%s.csv.", out_name))
writeLines(lines, file.path("bench", "results", paste0(out_name, ".md")))
cat(lines, sep = "\n")

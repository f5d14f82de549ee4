# Coverage of multiply imputed analyses under MNAR: a simulation with known
# truth, pooled by mice's own pool() (Rubin's rules).
#
# Designs (n rows each; x3 and x4 always observed):
#   gauss_selfmask  4-d Gaussian, correlations 0.5-0.7; x1 and x2 each missing
#                   with probability plogis(a + 3 x), high values first,
#                   about 35% each (the design of issue 11).
#   latent_skewed   a 2-d latent factor model with a nonlinear link and
#                   skewed (log-normal-like) x1, x2; x1, x2 self-masked on
#                   their population-standardised values as above. Truth from
#                   a 10^6-row sample of the same model.
#   skewed_logmask  the data of latent_skewed, but x1 and x2 self-masked on
#                   their standardised logs: the mechanism a log-scale model
#                   (`transform`) assumes, to separate the transformation
#                   from a wrong mask model.
#   gauss_mar       the Gaussian of gauss_selfmask, but x1 and x2 missing with
#                   probability plogis(a + 3 x3): MAR, where the MNAR models
#                   must not hurt.
# Estimands: the mean of x1 (lm(x1 ~ 1)) and the slope of lm(x1 ~ x3).
# Methods: complete cases, mice pmm and norm (m imputations, mice's
# defaults), and deepmnar's MIWAE, not-MIWAE selfmask_known, selfmask and
# linear (the mask from the whole row, which nests MAR on observed columns),
# GNR and PSMVAE, each fitted once and multiply imputed with
# multiple_impute(method = "bootstrap"), the package default; a method name
# ending in "_sir" (e.g. notmiwae_known_sir) draws all imputations from the
# one fit instead (method = "sir"), to show what the bootstrap adds;
# notmiwae_auto is notmiwae() with its default missing_model = "auto" (the
# chosen candidate is recorded per replication, column `choice`);
# notmiwae_auto_argmax the same fits with the best-scoring candidate instead
# of the one-standard-error rule's;
# notmiwae_known_log is notmiwae_known with `transform = "auto"` (log-scale
# columns where Box and Cox's criterion prefers the log).
#
# Run from the package root with the package installed:
#   Rscript bench/coverage.R --reps=1:100 --designs=gauss_selfmask
#   Rscript bench/coverage.R --report
# Options: --reps=1:100, --designs=a,b, --methods=a,b, --n=500, --m=10,
#   --iterations=3000, --hidden=64, --L=1000, --refit=NULL (package default),
#   --threads=1, --out=bench/results, --report.
# Resumable: each (design, method, replication) result is cached in
# DIR/cache/coverage/ as soon as it is computed; two processes with disjoint
# --reps (e.g. odd and even) use both cores.

suppressPackageStartupMessages({
  library(deepmnar)
  library(mice)
})

source(file.path("bench", "datasets.R"))
parse_ints <- function(s) as.integer(eval(parse(text = paste0("c(", s, ")"))))

opt <- command_options(list(reps = "1:100", designs = "gauss_selfmask,latent_skewed,gauss_mar",
                       methods = "cc,mice_pmm,mice_norm,miwae,notmiwae_known,notmiwae_selfmask,gnr,psmvae",
                       n = "500", m = "10", iterations = "3000", hidden = "64", L = "1000", refit = "NULL",
                       threads = "1", out = "bench/results"), flags = "report")
reps <- parse_ints(opt$reps)
designs <- strsplit(opt$designs, ",")[[1]]
methods <- strsplit(opt$methods, ",")[[1]]
n <- as.integer(opt$n)
m <- as.integer(opt$m)
iterations <- as.integer(opt$iterations)
hidden <- rep(as.integer(opt$hidden), 2)
L <- as.integer(opt$L)
refit <- if (opt$refit == "NULL") NULL else as.integer(opt$refit)
threads <- as.integer(opt$threads)
cache_dir <- file.path(opt$out, "cache", "coverage")
dir.create(cache_dir, recursive = TRUE, showWarnings = FALSE)

# ---- designs ------------------------------------------------------------------

corr <- matrix(c(1, .6, .5, .7,
                 .6, 1, .6, .5,
                 .5, .6, 1, .6,
                 .7, .5, .6, 1), 4, 4)
chol_corr <- chol(corr)
gauss_rows <- function(n) {
  x <- matrix(stats::rnorm(n * 4), n, 4) %*% chol_corr
  colnames(x) <- paste0("x", 1:4)
  x
}
# Intercept a with E[plogis(a + 3 z)] = 0.35 for z ~ N(0, 1).
mask_intercept <- stats::uniroot(function(a) stats::integrate(function(z) stats::plogis(a + 3 * z) * stats::dnorm(z), -Inf, Inf)$value - 0.35,
                                 c(-5, 5))$root

latent_rows <- function(n) {
  z <- matrix(stats::rnorm(n * 2), n, 2)
  e <- matrix(stats::rnorm(n * 4), n, 4)
  x <- cbind(exp(0.6 * z[, 1] + 0.3 * z[, 2] + 0.3 * e[, 1]),
             exp(0.4 * z[, 1] - 0.5 * z[, 2] + 0.3 * e[, 2]),
             tanh(z[, 1]) + 0.5 * z[, 2] + 0.4 * e[, 3],
             z[, 2] - 0.5 * z[, 1]^2 + 0.4 * e[, 4])
  colnames(x) <- paste0("x", 1:4)
  x
}
latent_population <- local({
  set.seed(20261202)
  big <- latent_rows(1e6)
  list(center = colMeans(big), scale = apply(big, 2, stats::sd),
       log_center = colMeans(log(abs(big))), log_scale = apply(log(abs(big)), 2, stats::sd),
       mean_x1 = mean(big[, 1]), slope = unname(stats::coef(stats::lm.fit(cbind(1, big[, 3]), big[, 1]))[2]))
})

self_mask <- function(v) stats::runif(length(v)) < stats::plogis(mask_intercept + 3 * v)

designs_known <- c("gauss_selfmask", "latent_skewed", "gauss_mar", "skewed_logmask")

make_data <- function(design, rep) {
  set.seed(1e4 * match(design, designs_known) + rep)
  if (design %in% c("latent_skewed", "skewed_logmask")) {
    x <- latent_rows(n)
    v <- if (design == "latent_skewed") sweep(sweep(x, 2, latent_population$center), 2, latent_population$scale, "/")
         else sweep(sweep(log(abs(x)), 2, latent_population$log_center), 2, latent_population$log_scale, "/")
    miss <- cbind(self_mask(v[, 1]), self_mask(v[, 2]))
    truth <- c(mean_x1 = latent_population$mean_x1, slope_x1_x3 = latent_population$slope)
  } else {
    x <- gauss_rows(n)
    miss <- if (design == "gauss_mar") cbind(self_mask(x[, 3]), self_mask(x[, 3])) else cbind(self_mask(x[, 1]), self_mask(x[, 2]))
    truth <- c(mean_x1 = 0, slope_x1_x3 = corr[1, 3])
  }
  data <- as.data.frame(x)
  data$x1[miss[, 1]] <- NA
  data$x2[miss[, 2]] <- NA
  list(data = data, truth = truth)
}

# ---- analyses -----------------------------------------------------------------

analyses <- list(mean_x1 = function(d) stats::lm(x1 ~ 1, data = d),
                 slope_x1_x3 = function(d) stats::lm(x1 ~ x3, data = d))
term_of <- c(mean_x1 = "(Intercept)", slope_x1_x3 = "x3")

pooled_rows <- function(completed) {
  do.call(rbind, lapply(names(analyses), function(est) {
    pooled <- mice::pool(mice::as.mira(lapply(completed, analyses[[est]])))
    s <- summary(pooled, conf.int = TRUE)
    k <- match(term_of[[est]], as.character(s$term))
    data.frame(estimand = est, estimate = s$estimate[k], se = s$std.error[k], lower = s[["2.5 %"]][k],
               upper = s[["97.5 %"]][k], fmi = pooled$pooled$fmi[k])
  }))
}

complete_case_rows <- function(data) {
  do.call(rbind, lapply(names(analyses), function(est) {
    fit <- analyses[[est]](data)
    k <- term_of[[est]]
    ci <- stats::confint(fit)[k, ]
    data.frame(estimand = est, estimate = unname(stats::coef(fit)[k]),
               se = unname(sqrt(diag(stats::vcov(fit)))[k]), lower = ci[1], upper = ci[2], fmi = NA_real_)
  }))
}

deep_fit <- function(method, data, seed) {
  common <- list(data, hidden = hidden, iterations = iterations, seed = seed, threads = threads, progress = FALSE)
  switch(method,
    miwae = do.call(notmiwae, c(common, missing_model = "none")),
    notmiwae_auto = do.call(notmiwae, common),
    notmiwae_auto_argmax = argmax_candidate(do.call(notmiwae, common)),
    notmiwae_known = do.call(notmiwae, c(common, missing_model = "selfmask_known")),
    notmiwae_known_log = do.call(notmiwae, c(common, missing_model = "selfmask_known", transform = "auto")),
    notmiwae_selfmask = do.call(notmiwae, c(common, missing_model = "selfmask")),
    notmiwae_linear = do.call(notmiwae, c(common, missing_model = "linear")),
    gnr = do.call(gnr, common),
    psmvae = do.call(psmvae, c(common[names(common) != "iterations"], iterations = iterations)))
}

# The default's fit, but the candidate with the best held-out score rather
# than the one-standard-error rule's choice (the same fits, another rule).
argmax_candidate <- function(fit) {
  table <- compare_mechanisms(fit)
  candidate_fit(fit, table$mechanism[which.max(table$loglik)])
}

# Slopes of the learned self-masking model on the standardised scale
# (positive: high values go missing); a fit with either below 0.5, a sixth of
# the true 3, has fallen back to a MAR-like mechanism.
learned_slopes <- function(fit) {
  if (!identical(fit$spec$missing_model, "selfmask")) return(c(NA_real_, NA_real_))
  s <- summary(fit)$columns
  -s$mask_slope[1:2] * s$observed_sd[1:2]
}

run_cell <- function(design, method, rep) {
  d <- make_data(design, rep)
  started <- proc.time()[["elapsed"]]
  slopes <- c(NA_real_, NA_real_)
  rows <- switch(method,
    cc = complete_case_rows(d$data),
    mice_pmm = , mice_norm = {
      imp <- mice::mice(d$data, m = m, method = sub("mice_", "", method), printFlag = FALSE, seed = rep)
      pooled_rows(lapply(seq_len(m), function(i) mice::complete(imp, i)))
    },
    {
      single_fit <- grepl("_sir$", method)
      fit <- deep_fit(sub("_sir$", "", method), d$data, seed = rep)
      slopes <- learned_slopes(fit)
      completed <- multiple_impute(fit, m = m, method = if (single_fit) "sir" else "bootstrap", L = L,
                                   refit_iterations = refit, format = "list", seed = rep, threads = threads,
                                   progress = FALSE)
      pooled_rows(completed)
    })
  rows$truth <- d$truth[rows$estimand]
  rows$seconds <- proc.time()[["elapsed"]] - started
  rows$slope1 <- slopes[1]
  rows$slope2 <- slopes[2]
  chose <- exists("fit", inherits = FALSE) && !is.null(fit$mechanisms)
  rows$choice <- if (chose) fit$spec$missing_model else NA_character_
  rows$evidence <- if (chose) evidence_string(compare_mechanisms(fit)) else NA_character_
  rows$settings <- if (method %in% c("cc", "mice_pmm", "mice_norm")) sprintf("m %d", m) else
    sprintf("m %d, hidden %s, %d iterations, L %d, refit %s", m, paste(hidden, collapse = "x"), iterations, L,
            if (grepl("_sir$", method)) "none (sir)" else if (is.null(refit)) "default" else refit)
  cbind(design = design, method = method, rep = rep, rows)
}

# Each candidate's mean held-out log-likelihood per row, "mechanism=value;...".
evidence_string <- function(table) paste(sprintf("%s=%.6f", table$mechanism, table$loglik), collapse = ";")

cell_file <- function(design, method, rep) file.path(cache_dir, sprintf("%s__%s__%03d.rds", design, method, rep))

if (!isTRUE(opt$report)) {
  for (rep in reps) for (design in designs) for (method in methods) {
    f <- cell_file(design, method, rep)
    if (file.exists(f)) next
    res <- tryCatch(run_cell(design, method, rep), error = function(e) {
      message(sprintf("%s %s %d failed: %s", design, method, rep, conditionMessage(e)))
      NULL
    })
    if (!is.null(res)) saveRDS(res, f)
    message(sprintf("%s %s rep %d: %.1f s", design, method, rep, if (is.null(res)) NA else res$seconds[1]))
  }
}

# ---- report -------------------------------------------------------------------

files <- list.files(cache_dir, pattern = "\\.rds$", full.names = TRUE)
if (!length(files)) stop("no cached cells in ", cache_dir, ": run the grid first")
cells <- lapply(files, readRDS)
columns <- unique(unlist(lapply(cells, names)))
all <- do.call(rbind, lapply(cells, function(cell) {
  for (col in setdiff(columns, names(cell))) cell[[col]] <- NA
  cell[columns]
}))
# Cells cached before the settings were recorded ran with the first grid's
# settings: hidden 32x32, 6000 iterations, L 1000, default refit.
if (is.null(all$settings)) all$settings <- NA_character_
all$settings[is.na(all$settings)] <- ifelse(all$method[is.na(all$settings)] %in% c("cc", "mice_pmm", "mice_norm"),
                                            "m 10", "m 10, hidden 32x32, 6000 iterations, L 1000, refit default")

summarise_cell <- function(r) {
  R <- nrow(r)
  err <- r$estimate - r$truth
  cover <- r$lower <= r$truth & r$truth <= r$upper
  emp_se <- stats::sd(r$estimate)
  data.frame(
    R = R,
    bias = mean(err), bias_mcse = emp_se / sqrt(R),
    emp_se = emp_se, pooled_se = mean(r$se), se_ratio = mean(r$se) / emp_se,
    coverage = mean(cover), coverage_mcse = sqrt(mean(cover) * (1 - mean(cover)) / R),
    width = mean(r$upper - r$lower), fmi = mean(r$fmi), seconds = mean(r$seconds),
    mar_like = if (all(is.na(r$slope1))) NA_integer_ else sum(pmin(r$slope1, r$slope2) < 0.5)
  )
}

method_order <- c("cc", "mice_pmm", "mice_norm", "miwae", "notmiwae_auto", "notmiwae_auto_argmax", "notmiwae_known_sir", "notmiwae_known", "notmiwae_known_log",
                  "notmiwae_selfmask",
                  "notmiwae_linear", "gnr", "psmvae")
method_label <- c(cc = "complete cases", mice_pmm = "mice pmm", mice_norm = "mice norm", miwae = "MIWAE",
                  notmiwae_auto = "not-MIWAE default (mechanism chosen by the data)",
                  notmiwae_auto_argmax = "not-MIWAE default's candidates, best held-out score (no one-SE margin)",
                  notmiwae_known = "not-MIWAE selfmask_known",
                  notmiwae_known_log = "not-MIWAE selfmask_known, `transform = \"auto\"`",
                  notmiwae_known_sir = "not-MIWAE selfmask_known, single-fit draws (sir)", notmiwae_selfmask = "not-MIWAE selfmask (learned)",
                  notmiwae_linear = "not-MIWAE linear (learned)",
                  gnr = "GNR", psmvae = "PSMVAE")
keys <- unique(all[c("design", "method", "estimand")])
summary_table <- do.call(rbind, lapply(seq_len(nrow(keys)), function(i) {
  k <- keys[i, ]
  r <- all[all$design == k$design & all$method == k$method & all$estimand == k$estimand, ]
  cbind(k, summarise_cell(r))
}))
summary_table <- summary_table[order(match(summary_table$design, designs_known),
                                     summary_table$estimand, match(summary_table$method, method_order)), ]

cell_settings <- if (is.null(all$settings)) character(0) else
  tapply(all$settings, all$method, function(v) paste(unique(v), collapse = " / "))
fmt <- function(x, d = 3) ifelse(is.na(x), "", formatC(x, format = "f", digits = d))
lines <- c(
  "# Coverage of pooled analyses under MNAR (bench/coverage.R)",
  "",
  sprintf("Generated %s by `Rscript bench/coverage.R --report` from the cached cells (n = %d rows; mice %s with its defaults; deepmnar %s, each fit followed by multiple_impute(method = \"bootstrap\"), the default, with refit_iterations at the package default max(500, iterations / 4) unless stated). Settings of the cells: %s.",
          format(Sys.time(), "%Y-%m-%d %H:%M"), n, as.character(utils::packageVersion("mice")),
          as.character(utils::packageVersion("deepmnar")),
          paste(sprintf("%s: %s", names(cell_settings), cell_settings), collapse = "; ")),
  "",
  "Per design, estimand and method: R replications; bias (± its Monte Carlo SE); empirical SE of the estimates; mean pooled SE; their ratio; coverage of the 95% interval (± MCSE); mean interval width; mean fraction of missing information; mean seconds per replication (fit and all imputations). `MAR-like` counts learned self-masking fits whose standardised slope on x1 or x2 is below 0.5 (the true slope is 3).",
  "")
for (design in unique(summary_table$design)) {
  lines <- c(lines, sprintf("## %s", design), "",
             "| estimand | method | R | bias (MCSE) | emp. SE | pooled SE | ratio | coverage (MCSE) | width | FMI | s | MAR-like |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|")
  t <- summary_table[summary_table$design == design, ]
  for (i in seq_len(nrow(t))) {
    r <- t[i, ]
    lines <- c(lines, sprintf("| %s | %s | %d | %s (%s) | %s | %s | %s | %s (%s) | %s | %s | %.1f | %s |",
                              r$estimand, method_label[[r$method]], r$R, fmt(r$bias), fmt(r$bias_mcse), fmt(r$emp_se),
                              fmt(r$pooled_se), fmt(r$se_ratio, 2), fmt(r$coverage), fmt(r$coverage_mcse),
                              fmt(r$width), fmt(r$fmi, 2), r$seconds, if (is.na(r$mar_like)) "" else r$mar_like))
  }
  lines <- c(lines, "")
}
# The default's choice of mechanism, per design (one row per replication).
if (!is.null(all$choice) && any(!is.na(all$choice))) {
  chosen <- all[!is.na(all$choice) & all$estimand == all$estimand[1], ]
  counts <- table(paste(chosen$design, chosen$method, sep = " | "), chosen$choice)
  lines <- c(lines, "## The mechanism the default chose", "",
             paste0("| design | method | ", paste(colnames(counts), collapse = " | "), " |"),
             paste0("|", paste(rep("---", ncol(counts) + 2), collapse = "|"), "|"),
             sprintf("| %s | %s |", rownames(counts), apply(counts, 1, paste, collapse = " | ")), "")
}
# Coverage of the default by the candidate it chose: whether a miss comes
# from the choice or from the chosen candidate itself.
if (!is.null(all$choice) && any(!is.na(all$choice))) {
  auto <- all[!is.na(all$choice) & all$method == "notmiwae_auto", ]
  auto$covered <- auto$lower <= auto$truth & auto$truth <= auto$upper
  groups <- split(auto, list(auto$design, auto$estimand, auto$choice), drop = TRUE)
  lines <- c(lines, "## The default's coverage by the candidate it chose", "",
             "| design | estimand | chosen | R | bias | coverage |", "|---|---|---|---|---|---|",
             vapply(groups, function(g) sprintf("| %s | %s | %s | %d | %s | %s |", g$design[1], g$estimand[1], g$choice[1],
                                                nrow(g), fmt(mean(g$estimate - g$truth)), fmt(mean(g$covered))), ""), "")
}
# What the held-out rows can tell: each candidate's score minus the MAR
# candidate's (the same rows and fits), averaged over replications.
if (!is.null(all$evidence) && any(!is.na(all$evidence))) {
  scored <- all[!is.na(all$evidence) & all$estimand == all$estimand[1] & all$method == "notmiwae_auto", ]
  parse_evidence <- function(e) {
    kv <- strsplit(strsplit(e, ";")[[1]], "=")
    stats::setNames(as.numeric(vapply(kv, `[`, "", 2)), vapply(kv, `[`, "", 1))
  }
  evidence_rows <- list()
  lines <- c(lines, "## What the held-out rows can tell",  "",
             paste("Each candidate's mean held-out log-likelihood per row minus the MAR candidate's, on the same rows",
                   "(notmiwae_auto's fits): mean over replications (± its Monte Carlo SE), and the share of",
                   "replications where the candidate scored above MAR."), "",
             "| design | candidate | R | score − MAR's (MCSE) | share above MAR |", "|---|---|---|---|---|")
  for (design in unique(scored$design)) {
    ev <- do.call(rbind, lapply(scored$evidence[scored$design == design], parse_evidence))
    for (cand in setdiff(colnames(ev), "mar")) {
      d <- ev[, cand] - ev[, "mar"]
      lines <- c(lines, sprintf("| %s | %s | %d | %s (%s) | %.2f |", design, cand, length(d), fmt(mean(d)),
                                fmt(stats::sd(d) / sqrt(length(d))), mean(d > 0)))
      evidence_rows[[length(evidence_rows) + 1]] <- data.frame(
        design = design, candidate = cand, R = length(d), minus_mar = mean(d), mcse = stats::sd(d) / sqrt(length(d)),
        share_above_mar = mean(d > 0), chosen_share = mean(scored$choice[scored$design == design] == cand))
    }
  }
  lines <- c(lines, "")
  # the vignette "Which mechanism?" reads this table
  evidence <- do.call(rbind, evidence_rows)
  utils::write.csv(evidence, file.path(opt$out, "evidence.csv"), row.names = FALSE)
  utils::write.csv(evidence, file.path("inst", "extdata", "coverage_evidence.csv"), row.names = FALSE)
}
writeLines(lines, file.path(opt$out, "coverage.md"))
utils::write.csv(summary_table, file.path(opt$out, "coverage.csv"), row.names = FALSE)
cat(lines, sep = "\n")

# A trial, not a default: does the shared self-masking slope over-correct
# because of where it starts? selfmask_shared starts its slope at 1.5 (per
# standard deviation, with the sign the data suggest; MissingModel::
# start_from_data). bench/ratings_activity.md shows it over-correcting under
# weak MNAR when users differ in activity. Here the start is scaled to
# `--start` (its location rescaled so that P(observed) at the column's mean
# is still its observed share), in this process only, by wrapping the
# package's initial_params(); the package is unchanged.
#
# Data and cells: bench/ratings_activity.R's (activity_ratings() in
# bench/datasets.R), the same seeds. One fit per cell: notmiwae(obs =
# "rating") with candidates mcar and selfmask_shared (the default's for
# ratings), so `default` is the default's rule with the changed start; the
# ratings_activity.csv cells of the unchanged start sit beside it.
#
# Run from the package root: Rscript bench/ratings_slope_start.R [--start=0.25]
#   [--slopes=0,0.5,1] [--user_sd=0,1] [--seeds=1:2] [--report]; cells cached
#   in bench/results/cache/ratings_slope_start/, results in
#   bench/results/ratings_slope_start.md and .csv.
suppressPackageStartupMessages(library(deepmnar))
source(file.path("bench", "datasets.R"))
opt <- command_options(list(start = "0.25", slopes = "0,0.5,1", user_sd = "0,1", seeds = "1:2"), flags = "report")
start <- as.numeric(opt$start)
slopes <- as.numeric(strsplit(opt$slopes, ",")[[1]])
user_sds <- as.numeric(strsplit(opt$user_sd, ",")[[1]])
seeds <- eval(parse(text = opt$seeds))
cache_dir <- file.path("bench", "results", "cache", "ratings_slope_start")
dir.create(cache_dir, recursive = TRUE, showWarnings = FALSE)

# The shared slope w starts at +-1.5 and each incomplete column's location at
# logit(share) / w; both scale so that w = +-start.
with_slope_start <- function(initial_params, start) {
  function(spec, ed, seed) {
    theta <- initial_params(spec, ed, seed)
    if (!identical(spec$missing_model, "selfmask_shared")) return(theta)
    blocks <- deepmnar:::cpp_param_blocks(spec)
    slope_at <- blocks$start[blocks$name == "mask_slope"]
    location_at <- blocks$start[blocks$name == "mask_location"] + seq_len(spec$p) - 1
    factor <- start / abs(theta[slope_at])
    incomplete <- deepmnar:::mask_start(spec, ed)$incomplete == 1L
    theta[slope_at] <- theta[slope_at] * factor
    theta[location_at[incomplete]] <- theta[location_at[incomplete]] / factor
    theta
  }
}
ns <- asNamespace("deepmnar")
original <- get("initial_params", ns)
unlockBinding("initial_params", ns)
assign("initial_params", with_slope_start(original, start), ns)

run_cell <- function(slope, user_sd, seed) {
  d <- activity_ratings(slope, user_sd, seed)
  fit <- suppressWarnings(notmiwae(as.data.frame(d$train), obs = "rating", rating_range = c(1, 5), latent_dim = 20,
                                   candidates = c("mcar", "selfmask_shared"), seed = seed, threads = 1,
                                   progress = FALSE))
  table <- fit$mechanisms$table
  mse <- function(m) {
    imputed <- suppressWarnings(impute(candidate_fit(fit, m), seed = seed, progress = FALSE))
    mean((as.matrix(imputed)[d$test] - d$truth)^2)
  }
  shared <- candidate_fit(fit, "selfmask_shared")
  data.frame(slope = slope, user_sd = user_sd, seed = seed, start = start,
             method = c("default", "notmiwae_selfmask_shared"),
             mse = c(mse(table$mechanism[table$chosen]), mse("selfmask_shared")),
             chosen = c(table$mechanism[table$chosen], NA),
             learned_slope = summary(shared)$columns$mask_slope[1])
}

for (seed in seeds) for (slope in slopes) for (user_sd in user_sds) {
  file <- file.path(cache_dir, sprintf("start%g_slope%g_user%g_seed%d.rds", start, slope, user_sd, seed))
  if (file.exists(file) || opt$report) next
  cell <- run_cell(slope, user_sd, seed)
  saveRDS(cell, file)
  message(sprintf("[%s] start %g slope %g user_sd %g seed %d: default %.3f (%s), selfmask_shared %.3f",
                  format(Sys.time(), "%H:%M:%S"), start, slope, user_sd, seed, cell$mse[1], cell$chosen[1], cell$mse[2]))
}

rows <- do.call(rbind, lapply(list.files(cache_dir, pattern = "\\.rds$", full.names = TRUE), readRDS))
utils::write.csv(rows, file.path("bench", "results", "ratings_slope_start.csv"), row.names = FALSE)
before <- utils::read.csv(file.path("bench", "results", "ratings_activity.csv"))
settings <- unique(rows[c("slope", "user_sd")])
settings <- settings[order(settings$slope, settings$user_sd), ]
cell_mean <- function(d, s, u, m) {
  v <- d$mse[d$slope == s & d$user_sd == u & d$method == m & d$seed %in% rows$seed]
  if (length(v)) sprintf("%.3f", mean(v)) else ""
}
self_chosen <- function(d, s, u) {
  ch <- d$chosen[d$slope == s & d$user_sd == u & d$method == "default" & d$seed %in% rows$seed]
  sprintf("%d of %d", sum(ch == "selfmask_shared"), length(ch))
}
lines <- vapply(seq_len(nrow(settings)), function(k) {
  s <- settings$slope[k]; u <- settings$user_sd[k]
  sprintf("| %g | %g | %s | %s | %s | %s | %s | %s | %s | %.2f |", s, u, cell_mean(before, s, u, "notmiwae_mcar"),
          cell_mean(before, s, u, "default"), cell_mean(rows, s, u, "default"),
          cell_mean(before, s, u, "notmiwae_selfmask_shared"), cell_mean(rows, s, u, "notmiwae_selfmask_shared"),
          self_chosen(before, s, u), self_chosen(rows, s, u),
          mean(rows$learned_slope[rows$slope == s & rows$user_sd == u & rows$method == "notmiwae_selfmask_shared"]))
}, character(1))
writeLines(c(
  "# Where the shared self-masking slope starts (bench/ratings_slope_start.R; a trial)", "",
  sprintf("Generated %s (deepmnar %s); seeds %s; the script's header gives the design. Test MSE, mean over seeds; the start of 1.5 is the package's (from bench/results/ratings_activity.csv, the same cells); the trial start is %g.",
          format(Sys.time(), "%Y-%m-%d %H:%M"), utils::packageVersion("deepmnar"), paste(sort(unique(rows$seed)), collapse = ", "), start), "",
  sprintf("| slope | user_sd | MIWAE's model (mcar) | default, start 1.5 | default, start %g | selfmask_shared alone, start 1.5 | selfmask_shared alone, start %g | self-mask chosen, start 1.5 | self-mask chosen, start %g | learned slope, start %g (per rating point) |", start, start, start, start),
  "|---|---|---|---|---|---|---|---|---|---|", lines), file.path("bench", "results", "ratings_slope_start.md"))
cat("wrote bench/results/ratings_slope_start.md\n")

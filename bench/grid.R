# What bench/generalisation.R and bench/mixed.R share: their command line,
# the resumable grid of (dataset, prob, seed, method) cells cached one file
# each, and the mean ± sd cells of their tables. Sourced by both.

# "--name=value" options over `defaults` (datasets, methods, probs, seeds),
# plus --fresh and --report.
grid_options <- function(args, defaults, datasets, methods) {
  opt <- c(defaults, list(fresh = FALSE, report = FALSE))
  for (a in args) {
    if (a == "--fresh") { opt$fresh <- TRUE; next }
    if (a == "--report") { opt$report <- TRUE; next }
    kv <- regmatches(a, regexec("^--([a-z]+)=(.*)$", a))[[1]]
    if (length(kv) != 3) stop("cannot read option ", a)
    value <- kv[3]
    opt[[kv[2]]] <- switch(kv[2],
      datasets = strsplit(value, ",")[[1]], methods = strsplit(value, ",")[[1]],
      probs = as.numeric(strsplit(value, ",")[[1]]), seeds = eval(parse(text = value)),
      stop("unknown option --", kv[2]))
  }
  stopifnot(all(opt$datasets %in% datasets), all(opt$methods %in% methods))
  opt
}

# Runs every cell not cached yet (or cached with an error):
# run_cell(x, dataset, prob, seed, method, file) must write `file`.
run_cached_grid <- function(opt, cache_dir, load_dataset, run_cell) {
  dir.create(cache_dir, recursive = TRUE, showWarnings = FALSE)
  for (dataset in opt$datasets) {
    x <- load_dataset(dataset)
    for (prob in opt$probs) for (seed in opt$seeds) for (method in opt$methods) {
      file <- file.path(cache_dir, sprintf("%s_p%s_s%d_%s.rds", dataset, prob, seed, method))
      if (!opt$fresh && file.exists(file) && is.na(readRDS(file)$error)) next
      run_cell(x, dataset, prob, seed, method, file)
    }
  }
}

# Saves one cell's row atomically, with the commit that produced it.
save_cell <- function(row, file) {
  row$commit <- tryCatch(system("git rev-parse --short HEAD", intern = TRUE), error = function(e) NA_character_)
  saveRDS(row, paste0(file, ".tmp"))
  file.rename(paste0(file, ".tmp"), file)
}

fmt <- function(m, s) ifelse(is.na(m), "", ifelse(is.na(s), sprintf("%.3f", m), sprintf("%.3f ± %.3f", m, s)))

# Median seconds per fit and imputation, dataset x method.
seconds_table <- function(rows, sets, methods) {
  lines <- vapply(sets, function(d) {
    cells <- vapply(methods, function(m) {
      a <- rows[rows$dataset == d & rows$method == m, ]
      if (nrow(a)) sprintf("%.1f", stats::median(a$seconds)) else ""
    }, "")
    sprintf("| %s | %s |", d, paste(cells, collapse = " | "))
  }, "")
  c("## Median seconds per fit and imputation", "", paste0("| dataset | ", paste(methods, collapse = " | "), " |"),
    paste0("|---|", strrep("---|", length(methods))), lines)
}

failed_cells <- function(failed) {
  if (!nrow(failed)) return(character(0))
  c("", "## Cells that failed", "", "| dataset | prob | method | error |", "|---|---|---|---|",
    sprintf("| %s | %s | %s | %s |", failed$dataset, failed$prob, failed$method,
            gsub("[|\n]", " ", substr(failed$error, 1, 160))))
}

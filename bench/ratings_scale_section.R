# The section of bench/results/ratings.md on the Yahoo!-size run, from
# bench/results/ratings_scale.csv: written by bench/ratings.R's report and, in
# place, by bench/ratings_scale.R, so either script can be rerun alone.
scale_heading <- "## Yahoo! R3 size"

ratings_scale_section <- function(scale_file = file.path("bench", "results", "ratings_scale.csv")) {
  if (!file.exists(scale_file)) return(character(0))
  big <- utils::read.csv(scale_file)
  c(sprintf("%s, sparse input (%s users x 1,000 items, %s ratings; bench/ratings_scale.R)", scale_heading,
            format(big$users[1], big.mark = ","), format(big$ratings[1], big.mark = ",")), "",
    paste("One run per method in its own R process, 2 threads; MSE on", format(big$test_cells[1], big.mark = ","),
          "MCAR test cells (impute_cells(), its defaults: L = 10,000 at most, tolerance 0.05 on the cells",
          "asked for); peak resident memory of the process (R and the data generator included) from",
          "`/usr/bin/time -v`; CPU seconds of all threads; the machine's 1-minute load average before and",
          "after the run (2 cores: a load above 2 stretches the wall times)."), "",
    "| method | MSE | seconds: fit | impute | total | CPU seconds | peak MB | load | training | outcome |",
    "|---|---|---|---|---|---|---|---|---|---|",
    sprintf("| %s | %.3f | %s | %s | %.0f | %s | %.0f | %s | %s | %s |", big$method, big$mse,
            ifelse(is.na(big$fit_seconds), "-", sprintf("%.0f", big$fit_seconds)),
            ifelse(is.na(big$fit_seconds), "-", sprintf("%.0f", big$seconds - big$fit_seconds)), big$seconds,
            ifelse(is.na(big$cpu_seconds), "", sprintf("%.0f", big$cpu_seconds)), big$peak_mb,
            if (is.null(big$load_before)) "" else sprintf("%.1f / %.1f", big$load_before, big$load_after),
            ifelse(is.na(big$note), "", sub("^fit: ", "", big$note)), big$outcome), "")
}

# Replaces the section in an existing ratings.md (or appends it).
update_ratings_scale_section <- function(md_file = file.path("bench", "results", "ratings.md")) {
  if (!file.exists(md_file)) return(invisible(FALSE))
  lines <- readLines(md_file)
  at <- which(startsWith(lines, scale_heading))
  if (length(at)) lines <- lines[seq_len(at[1] - 1L)]
  writeLines(c(lines, ratings_scale_section()), md_file)
  invisible(TRUE)
}

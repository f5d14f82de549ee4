# Builds the bundled UCI datasets in data/ from the checked CSV copies in
# ../shared/data (provenance, hashes and checks: ../shared/data/README.md).
# Run from the package root:  Rscript data-raw/datasets.R
#
# Every data set stays a data.frame with the label column last: an integer
# for banknote `class` and wine `quality`, a factor for yeast `class` and
# wdbc `diagnosis`. Feature columns are doubles.

source_dir <- file.path("..", "shared", "data")

read_uci <- function(file, n_rows, n_cols, label, label_as) {
  path <- file.path(source_dir, file)
  if (!file.exists(path)) stop("missing source file: ", path, call. = FALSE)
  df <- utils::read.csv(path, header = TRUE, stringsAsFactors = FALSE,
                        check.names = FALSE, strip.white = FALSE)
  # Guard against a changed source: shape, label position, complete values.
  stopifnot(
    nrow(df) == n_rows, ncol(df) == n_cols,
    names(df)[n_cols] == label, !anyNA(df)
  )
  features <- setdiff(names(df), label)
  for (f in features) {
    stopifnot(is.numeric(df[[f]]))
    df[[f]] <- as.double(df[[f]])
  }
  df[[label]] <- switch(label_as,
    integer = {
      stopifnot(all(df[[label]] == round(df[[label]])))
      as.integer(df[[label]])
    },
    factor = factor(df[[label]])
  )
  rownames(df) <- NULL
  df
}

banknote <- read_uci("banknote.csv", 1372, 5, "class", "integer")
wine_white <- read_uci("winequality_white.csv", 4898, 12, "quality", "integer")
wine_red <- read_uci("winequality_red.csv", 1599, 12, "quality", "integer")
yeast <- read_uci("yeast.csv", 1484, 9, "class", "factor")
wdbc <- read_uci("wdbc.csv", 569, 31, "diagnosis", "factor")

# Label counts published by UCI (see ../shared/data/README.md).
stopifnot(
  identical(as.vector(table(banknote$class)), c(762L, 610L)),
  identical(range(wine_white$quality), c(3L, 9L)),
  identical(range(wine_red$quality), c(3L, 8L)),
  identical(as.vector(table(yeast$class)[c("CYT", "NUC", "MIT", "ME3", "ME2",
                                           "ME1", "EXC", "VAC", "POX",
                                           "ERL")]),
            c(463L, 429L, 244L, 163L, 51L, 44L, 35L, 30L, 20L, 5L)),
  identical(as.vector(table(wdbc$diagnosis)), c(357L, 212L))
)

dir.create("data", showWarnings = FALSE)
save(banknote, file = file.path("data", "banknote.rda"), compress = "xz")
save(wine_white, file = file.path("data", "wine_white.rda"), compress = "xz")
save(wine_red, file = file.path("data", "wine_red.rda"), compress = "xz")
save(yeast, file = file.path("data", "yeast.rda"), compress = "xz")
save(wdbc, file = file.path("data", "wdbc.rda"), compress = "xz")

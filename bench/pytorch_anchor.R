# The PyTorch speed anchor shared by bench/speed.R and bench/precision.R.

# PyTorch's one-thread figures as measured by bench/pytorch_anchor.py on this
# machine (bench/results/pytorch_anchor.csv), medians over its repeats. Only
# measured numbers: nothing is copied from notes. A figure the file does not
# hold is NA and is left out of the reports; without the file every figure is
# NA. Training: ms per iteration, float32 and float64, p = 4 and 30.
# Imputation: float32 seconds for every one of the 1372 rows of the
# banknote-shaped data, L = 10,000 in one pass per row (fixed L).
pytorch_anchor <- function(path = file.path("bench", "results", "pytorch_anchor.csv")) {
  none <- c(`4` = NA_real_, `30` = NA_real_)
  if (!file.exists(path))
    return(list(training = none, training_f64 = none, imputation = NA_real_, imputation_rows = 1372L,
                source = "no PyTorch anchor measured (bench/results/pytorch_anchor.csv is absent)"))
  a <- utils::read.csv(path)
  med <- function(what, dtype, p) {
    v <- a$seconds[a$what == what & a$dtype == dtype & a$p == p]
    if (length(v)) stats::median(v) else NA_real_
  }
  train <- function(dtype) c(`4` = med("training_per_1000", dtype, 4), `30` = med("training_per_1000", dtype, 30))
  list(training = train("float32"), training_f64 = train("float64"),
       imputation = med("imputation", "float32", 4), imputation_rows = 1372L,
       source = sprintf(paste0("bench/pytorch_anchor.py on this machine (bench/results/pytorch_anchor.csv, ",
                               "median of %d repeats): training per iteration, float32 and float64, one thread; ",
                               "imputation float32, one thread, all 1372 rows with L = 10,000 each"),
                        max(a$repeat.)))
}

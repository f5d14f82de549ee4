# The PyTorch speed anchor shared by bench/speed.R and bench/precision.R.

# PyTorch's float32 one-thread figures: bench/results/pytorch_anchor.csv when
# bench/pytorch_anchor.py ran on this machine, else the reference notes'.
pytorch_anchor <- function() {
  path <- file.path("bench", "results", "pytorch_anchor.csv")
  notes <- list(training = c(`4` = 2.46, `30` = 3.19), imputation = 21.7, source = "the reference notes, section 7")
  if (!file.exists(path)) return(notes)
  a <- utils::read.csv(path)
  f32 <- a[a$dtype == "float32", ]
  # The imputation loop of bench/pytorch_anchor.py (one row per pass, the
  # mask term on drawn values) is slower than the notes' (21.7 s), so the
  # notes' figure stays the imputation anchor: the ratio against it is the
  # smaller one.
  own <- stats::median(f32$seconds[f32$what == "imputation"])
  list(training = c(`4` = stats::median(f32$seconds[f32$what == "training_per_1000" & f32$p == 4]),
                    `30` = stats::median(f32$seconds[f32$what == "training_per_1000" & f32$p == 30])),
       imputation = min(notes$imputation, own),
       source = sprintf(paste0("training from bench/pytorch_anchor.py on this machine just before (%s, median of %d ",
                               "repeats of 1000 iterations); imputation %.1f s from the notes (the script's own ",
                               "loop took %.1f s)"),
                        format(file.mtime(path), "%Y-%m-%d %H:%M"), max(a$repeat.), notes$imputation, own))
}

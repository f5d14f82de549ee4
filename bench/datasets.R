# The real datasets of bench/generalisation.R (numeric columns of data
# shipped in CRAN packages; provenance in that script's header) and the five
# bundled ones, loaded by name. Shared by bench/generalisation.R and
# bench/stopping.R.
datasets_all <- c("boston", "pima", "glass", "quakes", "creditcard", "diamonds")
# The five datasets of the papers, bundled with the package: not part of the
# generalisation test (defaults were checked on them); run with
# --datasets=banknote,... to put the defaults next to bench/results/uci.md.
bundled <- c("banknote", "yeast", "wine_red", "wine_white", "wdbc")

load_dataset <- function(name) {
  env <- new.env()
  if (name %in% bundled) return(as.data.frame(get(name, asNamespace("deepmnar"))[, seq_len(c(
    banknote = 4, yeast = 8, wine_red = 11, wine_white = 11, wdbc = 30)[[name]])]))
  x <- switch(name,
    boston = { utils::data("Boston", package = "MASS", envir = env); env$Boston[, setdiff(names(env$Boston), "medv")] },
    pima = { utils::data("PimaIndiansDiabetes", package = "mlbench", envir = env)
             env$PimaIndiansDiabetes[, 1:8] },
    glass = { utils::data("Glass", package = "mlbench", envir = env); env$Glass[, 1:9] },
    quakes = datasets::quakes,
    creditcard = { utils::data("CreditCard", package = "AER", envir = env)
                   cc <- env$CreditCard; cc[, vapply(cc, is.numeric, logical(1))] },
    diamonds = { d <- as.data.frame(ggplot2::diamonds)
                 set.seed(20261202); d <- d[sort(sample(nrow(d), 20000)), ]
                 d[, vapply(d, is.numeric, logical(1))] })
  x <- as.data.frame(lapply(x, as.numeric))
  rownames(x) <- NULL
  x
}


# The real datasets of bench/generalisation.R (numeric columns of data
# shipped in CRAN packages; provenance in that script's header) and the five
# bundled ones, loaded by name; the synthetic design of bench/scale.R and a
# command-line helper. Shared by the scripts of bench/.
datasets_all <- c("boston", "pima", "glass", "quakes", "creditcard", "diamonds")
# The five datasets of the papers, bundled with the package: not part of the
# generalisation test (defaults were checked on them); run with
# --datasets=banknote,... to put the defaults next to bench/results/uci.md.
bundled <- c("banknote", "yeast", "wine_red", "wine_white", "wdbc")

# The value of --name=value among a script's arguments (the last one given).
command_option <- function(args, name, default) {
  hit <- grep(paste0("^--", name, "="), args, value = TRUE)
  if (length(hit)) sub(paste0("^--", name, "="), "", hit[length(hit)]) else default
}

# Every option of a bench script at once: `--name=value` or `--name value` for
# each name of `defaults` (values stay strings), a bare `--flag` for each of
# `flags` (then TRUE, else FALSE); anything else stops, naming it.
command_options <- function(defaults, flags = character(0), args = commandArgs(trailingOnly = TRUE)) {
  opt <- c(defaults, stats::setNames(as.list(rep(FALSE, length(flags))), flags))
  args <- args[args != "--args"]  # Rscript -e 'source(...)' --args ... passes it on
  i <- 1L
  while (i <= length(args)) {
    name <- sub("^--([A-Za-z_]+).*$", "\\1", args[i])
    if (grepl("^--[A-Za-z_]+=", args[i]) && name %in% names(defaults)) {
      opt[[name]] <- sub("^--[A-Za-z_]+=", "", args[i])
    } else if (grepl("^--[A-Za-z_]+$", args[i]) && name %in% flags) {
      opt[[name]] <- TRUE
    } else if (grepl("^--[A-Za-z_]+$", args[i]) && name %in% names(defaults) && i < length(args)) {
      opt[[name]] <- args[i + 1L]
      i <- i + 1L
    } else {
      stop("unknown option ", args[i], call. = FALSE)
    }
    i <- i + 1L
  }
  opt
}

# bench/scale.R's synthetic design: n x 20 from a 3-factor model (a skewed
# column exp(x/2)), MNAR: a row is at risk when its first column is above the
# median, and in an at-risk row each of columns 1-5 goes missing when above
# its mean, with probability 0.8.
scale_synthetic <- function(n, p = 20, seed = 1) {
  set.seed(seed)
  z <- matrix(rnorm(n * 3), n, 3)
  w <- matrix(rnorm(3 * p, sd = 0.8), 3, p)
  x <- z %*% w + matrix(rnorm(n * p, sd = 0.6), n, p)
  x[, p] <- exp(x[, p] / 2)
  colnames(x) <- sprintf("x%02d", seq_len(p))
  truth <- as.data.frame(x)
  at_risk <- x[, 1] > stats::median(x[, 1])
  for (j in 1:5) x[at_risk & x[, j] > mean(x[, j]) & runif(n) < 0.8, j] <- NA
  list(truth = truth, data = as.data.frame(x))
}

load_dataset <- function(name) {
  env <- new.env()
  if (name == "penguins") return(load_penguins())
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

# palmerpenguins::penguins, complete rows, year dropped, 333 x 7 (species,
# island and sex as factors; integer columns as numeric).
load_penguins <- function() {
  env <- new.env()
  utils::data("penguins", package = "palmerpenguins", envir = env)
  d <- as.data.frame(env$penguins)
  d <- d[stats::complete.cases(d), setdiff(names(d), "year")]
  for (col in names(d)) if (is.integer(d[[col]])) d[[col]] <- as.numeric(d[[col]])
  rownames(d) <- NULL
  d
}

# Real tables of >= 20,000 rows with factor columns, whole and as shipped:
#   diamonds  ggplot2::diamonds, 53,940 x 10 (cut, color and clarity as
#             unordered factors)
#   cps1988   AER::CPS1988, 28,155 x 7 (US Current Population Survey, March
#             1988: wage, education, experience; ethnicity, smsa, parttime
#             binary; region 4 levels)
#   chem97    mlmRev::Chem97, 31,022 x 5 (A-level chemistry scores, England
#             1997; the lea, school and student identifiers dropped)
load_large_table <- function(name) {
  env <- new.env()
  switch(name,
    diamonds = {
      d <- as.data.frame(ggplot2::diamonds)
      for (j in c("cut", "color", "clarity")) d[[j]] <- factor(d[[j]], ordered = FALSE)
      d
    },
    cps1988 = { utils::data("CPS1988", package = "AER", envir = env); env$CPS1988 },
    chem97 = {
      utils::data("Chem97", package = "mlmRev", envir = env)
      d <- as.data.frame(env$Chem97)
      d[, setdiff(names(d), c("lea", "school", "student"))]
    },
    stop("unknown table ", name, call. = FALSE))
}

# bench/ratings_activity.R's synthetic ratings (its header gives the design):
# users x items, ratings 1-5 from a rank-3 model, rated with probability
# plogis(a + u_i + v_j + slope (rating - 3)) (u_i ~ N(0, user_sd^2) the user's
# activity), about 10% rated; test cells 5% of all, random among the unrated.
activity_ratings <- function(slope, user_sd, seed, n = 500, p = 100, rank = 3) {
  set.seed(seed)
  score <- matrix(rnorm(n * rank), n) %*% t(matrix(rnorm(p * rank), p)) / sqrt(rank) +
    outer(rnorm(n, sd = 0.4), rnorm(p, sd = 0.6), `+`)
  truth <- pmin(pmax(round(3 + 1.1 * score + rnorm(n * p, sd = 0.4)), 1), 5)
  propensity <- outer(rnorm(n, sd = user_sd), rnorm(p, sd = 0.5), `+`) + slope * (truth - 3)
  a <- stats::uniroot(function(a) mean(stats::plogis(a + propensity)) - 0.10, c(-20, 5))$root
  rated <- matrix(stats::runif(n * p) < stats::plogis(a + propensity), n)
  # every user keeps two ratings
  for (i in which(rowSums(rated) < 2)) rated[i, sample(p, 2)] <- TRUE
  test <- sort(sample(which(!rated), round(0.05 * n * p)))
  train <- truth
  train[!rated] <- NA
  list(train = train, test = test, truth = truth[test])
}

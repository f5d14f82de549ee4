#!/usr/bin/env bash
# Installs everything deepmnar needs (Debian's prebuilt R packages, missForest
# from CRAN), then builds and installs the package from this checkout.
# Run from the package root as root (or with sudo available).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

debian_packages=(
  r-cran-rcpp r-cran-rcppeigen r-cran-rcppparallel r-cran-cli r-cran-testthat
  r-cran-mice r-cran-knitr r-cran-rmarkdown r-cran-ggplot2 r-cran-roxygen2 r-cran-tibble
  r-cran-future r-cran-future.apply
  r-cran-randomforest r-cran-foreach r-cran-itertools r-cran-dorng r-cran-rngtools r-cran-iterators
  pandoc qpdf
)
if command -v apt-get >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${debian_packages[@]}" >/dev/null
fi

# Anything Debian did not provide (or another OS): from CRAN.
as_root Rscript -e '
  needed <- c("Rcpp", "RcppEigen", "RcppParallel", "cli", "testthat", "mice", "nnet", "missForest", "knitr",
              "rmarkdown", "ggplot2", "tibble", "future", "future.apply")
  missing <- needed[!vapply(needed, requireNamespace, logical(1), quietly = TRUE)]
  if (length(missing)) install.packages(missing, repos = "https://cloud.r-project.org")
  # missForest >= 1.6 grows its forests with ranger and passes min.bucket,
  # which ranger knows from 0.15 on (Debian 12 ships 0.14).
  if (utils::packageVersion("ranger") < "0.15.0") install.packages("ranger", repos = "https://cloud.r-project.org")
  still <- needed[!vapply(needed, requireNamespace, logical(1), quietly = TRUE)]
  if (length(still)) stop("could not install: ", paste(still, collapse = ", "))
'

# --strip drops the debug information of the two engine builds: 110 MB of
# libs become about 1 MB.
as_root R CMD INSTALL --preclean --strip . >/tmp/deepmnar-install.log 2>&1 || { tail -40 /tmp/deepmnar-install.log; exit 1; }
echo "deepmnar installed ($(Rscript -e 'cat(as.character(packageVersion("deepmnar")), deepmnar:::cpp_instruction_set())'))"

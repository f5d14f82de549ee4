# Documentation of the bundled UCI datasets (built by data-raw/datasets.R).
# All are licensed CC BY 4.0 by the UCI Machine Learning Repository; the
# attribution is the citation line in each @source.

#' Banknote authentication data
#'
#' Features extracted from images of genuine and forged banknote-like
#' specimens (400 x 400 pixel grey-scale images, wavelet transformed): one of
#' the four UCI data sets of the not-MIWAE experiments.
#'
#' @format A data.frame with 1372 rows and 5 columns:
#' \describe{
#'   \item{`variance`}{Variance of the wavelet-transformed image (numeric).}
#'   \item{`skewness`}{Skewness of the wavelet-transformed image (numeric).}
#'   \item{`curtosis`}{Kurtosis of the wavelet-transformed image (numeric).}
#'   \item{`entropy`}{Entropy of the image (numeric).}
#'   \item{`class`}{Label, integer 0 (762 rows) or 1 (610 rows): genuine
#'     versus forged. UCI does not document which code is which.}
#' }
#'
#' @details
#' The label is the last column. It is not used by the imputation models and
#' is usually dropped before amputing and imputing, e.g.
#' `ampute_mnar(banknote[-ncol(banknote)])`; keep it aside for downstream analyses.
#'
#' The CSV copy in the package sources (`data-raw/datasets.R`) was checked
#' against the official row, column and label counts and against independent
#' copies of the UCI file; see the provenance notes shipped with the
#' sources.
#'
#' @source UCI Machine Learning Repository, data set 267,
#'   <https://archive.ics.uci.edu/dataset/267/banknote+authentication>.
#'   Citation: Lohweg, V. (2012). Banknote Authentication \[Dataset\]. UCI
#'   Machine Learning Repository. \doi{10.24432/C55P57}.
#'   License: CC BY 4.0 (<https://creativecommons.org/licenses/by/4.0/>);
#'   the citation above is the required attribution. Changes: header names
#'   added.
#' @md
#' @examples
#' str(banknote)
#' a <- ampute_mnar(banknote[-5], "self_mask_mean", seed = 1)
#' colMeans(a$mask)
"banknote"

#' Wine quality data (white and red vinho verde)
#'
#' Physicochemical measurements and a sensory quality score of Portuguese
#' "vinho verde" wines: `wine_white` (4898 white wines) and `wine_red` (1599
#' red wines). White wine is the main UCI example of the not-MIWAE paper.
#'
#' @format Data frames with 4898 (`wine_white`) and 1599 (`wine_red`) rows and
#'   12 columns:
#' \describe{
#'   \item{`fixed_acidity`}{Fixed acidity, g(tartaric acid)/dm^3.}
#'   \item{`volatile_acidity`}{Volatile acidity, g(acetic acid)/dm^3.}
#'   \item{`citric_acid`}{Citric acid, g/dm^3.}
#'   \item{`residual_sugar`}{Residual sugar, g/dm^3.}
#'   \item{`chlorides`}{Chlorides, g(sodium chloride)/dm^3.}
#'   \item{`free_sulfur_dioxide`}{Free sulfur dioxide, mg/dm^3.}
#'   \item{`total_sulfur_dioxide`}{Total sulfur dioxide, mg/dm^3.}
#'   \item{`density`}{Density, g/cm^3.}
#'   \item{`pH`}{pH.}
#'   \item{`sulphates`}{Sulphates, g(potassium sulphate)/dm^3.}
#'   \item{`alcohol`}{Alcohol, % by volume.}
#'   \item{`quality`}{Label: median sensory score of at least three
#'     assessors on a 0-10 scale, integer (3-9 for white, 3-8 for red).}
#' }
#'
#' @details
#' The label is the last column. It is not used by the imputation models and
#' is usually dropped before amputing and imputing, e.g.
#' `ampute_mnar(wine_white[-ncol(wine_white)])`; keep it aside for downstream
#' analyses.
#'
#' The CSV copy in the package sources (`data-raw/datasets.R`) was checked
#' against the official row, column and label counts and against independent
#' copies of the UCI file; see the provenance notes shipped with the
#' sources.
#'
#' @source UCI Machine Learning Repository, data set 186,
#'   <https://archive.ics.uci.edu/dataset/186/wine+quality>.
#'   Citation: Cortez, P., Cerdeira, A., Almeida, F., Matos, T., & Reis, J.
#'   (2009). Wine Quality \[Dataset\]. UCI Machine Learning Repository.
#'   \doi{10.24432/C56S3T}.
#'   License: CC BY 4.0 (<https://creativecommons.org/licenses/by/4.0/>);
#'   the citation above is the required attribution. Changes: the
#'   `;`-separated files were converted to comma-separated and the header
#'   names to snake_case.
#' @md
#' @examples
#' str(wine_white)
#' summary(wine_red$quality)
#' @name wine
#' @aliases wine_white wine_red
NULL

#' @rdname wine
#' @format NULL
"wine_white"

#' @rdname wine
#' @format NULL
"wine_red"

#' Yeast protein localisation data
#'
#' Scores of sequence-based predictors for 1484 yeast proteins and the
#' cellular localisation site of each protein.
#'
#' @format A data.frame with 1484 rows and 9 columns:
#' \describe{
#'   \item{`mcg`}{McGeoch's method for signal sequence recognition.}
#'   \item{`gvh`}{von Heijne's method for signal sequence recognition.}
#'   \item{`alm`}{Score of the ALOM membrane spanning region prediction
#'     program.}
#'   \item{`mit`}{Score of discriminant analysis of the amino acid content
#'     of the N-terminal region (20 residues long) of mitochondrial and
#'     non-mitochondrial proteins.}
#'   \item{`erl`}{Presence of the "HDEL" substring (a signal for retention
#'     in the endoplasmic reticulum lumen); binary, coded 0.5 or 1.}
#'   \item{`pox`}{Peroxisomal targeting signal in the C-terminus (3
#'     distinct values).}
#'   \item{`vac`}{Score of discriminant analysis of the amino acid content
#'     of vacuolar and extracellular proteins.}
#'   \item{`nuc`}{Score of discriminant analysis of nuclear localisation
#'     signals of nuclear and non-nuclear proteins.}
#'   \item{`class`}{Label, factor with 10 localisation sites: CYT
#'     (cytosolic or cytoskeletal, 463), NUC (nuclear, 429), MIT
#'     (mitochondrial, 244), ME3 (membrane protein, no N-terminal signal,
#'     163), ME2 (membrane protein, uncleaved signal, 51), ME1 (membrane
#'     protein, cleaved signal, 44), EXC (extracellular, 35), VAC (vacuolar,
#'     30), POX (peroxisomal, 20), ERL (endoplasmic reticulum lumen, 5).}
#' }
#'
#' @details
#' The label is the last column. It is not used by the imputation models and
#' is usually dropped before amputing and imputing, e.g.
#' `ampute_mnar(yeast[-ncol(yeast)])`; keep it aside for downstream analyses.
#' `erl` and `pox` are nearly constant (`erl` is 1 in 14 rows only), which
#' matters for mechanisms based on the mean or the median.
#'
#' The CSV copy in the package sources (`data-raw/datasets.R`) was checked
#' against the official row, column and label counts and against independent
#' copies of the UCI file; see the provenance notes shipped with the
#' sources.
#'
#' @source UCI Machine Learning Repository, data set 110,
#'   <https://archive.ics.uci.edu/dataset/110/yeast>.
#'   Citation: Nakai, K. (1991). Yeast \[Dataset\]. UCI Machine Learning
#'   Repository. \doi{10.24432/C5KG68}.
#'   License: CC BY 4.0 (<https://creativecommons.org/licenses/by/4.0/>);
#'   the citation above is the required attribution. Changes: the first
#'   column (sequence name, an identifier) was dropped; exact duplicate rows
#'   of the original are kept.
#' @md
#' @examples
#' str(yeast)
#' table(yeast$class)
"yeast"

#' Breast Cancer Wisconsin (Diagnostic) data
#'
#' Features of the cell nuclei in digitised images of fine needle aspirates
#' of breast masses, with the diagnosis (the "breast" data set of the
#' not-MIWAE and PSMVAE experiments). Ten features are measured on every
#' nucleus; each is summarised per image by its mean, its standard error and
#' its "worst" value.
#'
#' @format A data.frame with 569 rows and 31 columns:
#' \describe{
#'   \item{`radius_mean`}{Mean over the nuclei in the image of the radius (mean of distances from the centre to points on the perimeter).}
#'   \item{`texture_mean`}{Mean over the nuclei in the image of the texture (standard deviation of grey-scale values).}
#'   \item{`perimeter_mean`}{Mean over the nuclei in the image of the perimeter.}
#'   \item{`area_mean`}{Mean over the nuclei in the image of the area.}
#'   \item{`smoothness_mean`}{Mean over the nuclei in the image of the smoothness (local variation in radius lengths).}
#'   \item{`compactness_mean`}{Mean over the nuclei in the image of the compactness (perimeter^2 / area - 1).}
#'   \item{`concavity_mean`}{Mean over the nuclei in the image of the concavity (severity of concave portions of the contour).}
#'   \item{`concave_points_mean`}{Mean over the nuclei in the image of the concave points (number of concave portions of the contour).}
#'   \item{`symmetry_mean`}{Mean over the nuclei in the image of the symmetry.}
#'   \item{`fractal_dimension_mean`}{Mean over the nuclei in the image of the fractal dimension ("coastline approximation" - 1).}
#'   \item{`radius_se`}{Standard error over the nuclei of the radius (mean of distances from the centre to points on the perimeter).}
#'   \item{`texture_se`}{Standard error over the nuclei of the texture (standard deviation of grey-scale values).}
#'   \item{`perimeter_se`}{Standard error over the nuclei of the perimeter.}
#'   \item{`area_se`}{Standard error over the nuclei of the area.}
#'   \item{`smoothness_se`}{Standard error over the nuclei of the smoothness (local variation in radius lengths).}
#'   \item{`compactness_se`}{Standard error over the nuclei of the compactness (perimeter^2 / area - 1).}
#'   \item{`concavity_se`}{Standard error over the nuclei of the concavity (severity of concave portions of the contour).}
#'   \item{`concave_points_se`}{Standard error over the nuclei of the concave points (number of concave portions of the contour).}
#'   \item{`symmetry_se`}{Standard error over the nuclei of the symmetry.}
#'   \item{`fractal_dimension_se`}{Standard error over the nuclei of the fractal dimension ("coastline approximation" - 1).}
#'   \item{`radius_worst`}{Largest value (mean of the three largest) over the nuclei of the radius (mean of distances from the centre to points on the perimeter).}
#'   \item{`texture_worst`}{Largest value (mean of the three largest) over the nuclei of the texture (standard deviation of grey-scale values).}
#'   \item{`perimeter_worst`}{Largest value (mean of the three largest) over the nuclei of the perimeter.}
#'   \item{`area_worst`}{Largest value (mean of the three largest) over the nuclei of the area.}
#'   \item{`smoothness_worst`}{Largest value (mean of the three largest) over the nuclei of the smoothness (local variation in radius lengths).}
#'   \item{`compactness_worst`}{Largest value (mean of the three largest) over the nuclei of the compactness (perimeter^2 / area - 1).}
#'   \item{`concavity_worst`}{Largest value (mean of the three largest) over the nuclei of the concavity (severity of concave portions of the contour).}
#'   \item{`concave_points_worst`}{Largest value (mean of the three largest) over the nuclei of the concave points (number of concave portions of the contour).}
#'   \item{`symmetry_worst`}{Largest value (mean of the three largest) over the nuclei of the symmetry.}
#'   \item{`fractal_dimension_worst`}{Largest value (mean of the three largest) over the nuclei of the fractal dimension ("coastline approximation" - 1).}
#'   \item{`diagnosis`}{Label, factor: B (benign, 357) or M (malignant,
#'     212).}
#' }
#'
#' @details
#' The label is the last column. It is not used by the imputation models and
#' is usually dropped before amputing and imputing, e.g.
#' `ampute_mnar(wdbc[-ncol(wdbc)])`; keep it aside for downstream analyses.
#'
#' The CSV copy in the package sources (`data-raw/datasets.R`) was checked
#' against the official row, column and label counts and against independent
#' copies of the UCI file; see the provenance notes shipped with the
#' sources.
#'
#' @source UCI Machine Learning Repository, data set 17,
#'   <https://archive.ics.uci.edu/dataset/17/breast+cancer+wisconsin+diagnostic>.
#'   Citation: Wolberg, W., Mangasarian, O., Street, N., & Street, W. (1993).
#'   Breast Cancer Wisconsin (Diagnostic) \[Dataset\]. UCI Machine Learning
#'   Repository. \doi{10.24432/C5DW2B}.
#'   License: CC BY 4.0 (<https://creativecommons.org/licenses/by/4.0/>);
#'   the citation above is the required attribution. Changes: the ID column
#'   was dropped and `diagnosis` moved from the second to the last column.
#' @md
#' @examples
#' dim(wdbc)
#' table(wdbc$diagnosis)
"wdbc"

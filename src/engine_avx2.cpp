// The engine again, compiled with -mavx2 -mfma (see Makevars). Every inline
// function and template it instantiates must differ by name from the baseline
// build's, or the linker could keep one copy for both (ODR): the standard
// library is included first, then Eigen and the core are compiled under
// renamed namespaces.
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#define Eigen deepmnar_avx2_eigen
#define deepmnar deepmnar_avx2
#include <deepmnar/engine.h>

// The engine again, for AVX2+FMA. The instruction set comes from a target
// pragma rather than from compiler flags, and the macros Eigen reads to pick
// its vector paths are set by hand; configure compiles this file's preamble
// first and leaves the file out where the compiler refuses it. The CPU is
// checked at run time before this build is used.
//
// Every inline function and template this file instantiates must differ by
// name from the baseline build's, or the linker could keep one copy for both
// (ODR): the standard library is included before the pragma (so its inline
// functions stay baseline code), then Eigen and the core are compiled under
// renamed namespaces.
#include <algorithm>
#include <chrono>
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

// The plain types shared with the glue, too, so that their implicit member
// functions are baseline code in both builds.
#include <deepmnar/io.h>

#include "avx2_target.h"

#define Eigen deepmnar_avx2_eigen
#define deepmnar deepmnar_avx2
#include <deepmnar/engine.h>

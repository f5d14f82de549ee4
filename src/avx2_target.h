// Switches the rest of the translation unit to AVX2+FMA code generation (GCC).
#ifndef DEEPMNAR_AVX2_TARGET_H
#define DEEPMNAR_AVX2_TARGET_H
#pragma GCC target("avx2,fma")
#ifndef __SSE3__
#define __SSE3__ 1
#endif
#ifndef __SSSE3__
#define __SSSE3__ 1
#endif
#ifndef __SSE4_1__
#define __SSE4_1__ 1
#endif
#ifndef __SSE4_2__
#define __SSE4_2__ 1
#endif
#ifndef __AVX__
#define __AVX__ 1
#endif
#ifndef __AVX2__
#define __AVX2__ 1
#endif
#ifndef __FMA__
#define __FMA__ 1
#endif
#include <immintrin.h>
#endif

#pragma once
// Compiler switches shared by the sweep's hot loops. None of them changes a
// result: every element is computed by the same float operations in the
// same order whatever the vector width.
//
// No FMA anywhere: a fused a * b + c rounds once where a * b then + c rounds
// twice, so code that may fuse gives machine-dependent numbers. The clones
// below target AVX2 (which, unlike AVX-512F, has no FMA instructions) and the
// baseline x86-64 (none either); g++ fuses by default (-ffp-contract=fast)
// wherever the target has FMA, so a build with -march=native or -mfma gets
// other numbers than the ones in the README (still the same on every rerun).

#if defined(_OPENMP)
#include <omp.h>
#define SWEEP_PRAGMA(x) _Pragma(#x)
#else
#define SWEEP_PRAGMA(x)
#endif

// Load-time dispatch of a function compiled for AVX2 and for the baseline
// ISA (GCC/Clang on x86-64 Linux, through an ifunc).
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(__CUDACC__) && !defined(__AVX2__)
#define SWEEP_TARGET_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SWEEP_TARGET_CLONES
#endif
// Clang does not clone function templates (yet): those stay single-ISA there.
#if defined(__clang__)
#define SWEEP_TARGET_CLONES_TEMPLATE
#else
#define SWEEP_TARGET_CLONES_TEMPLATE SWEEP_TARGET_CLONES
#endif

// g++ -O2 (the CI preset) vectorises only loops whose trip count it knows;
// the element loops of the recipes are 2-4x faster vectorised, so they ask
// for it. (Clang vectorises at -O2 already.)
#if defined(__GNUC__) && !defined(__clang__)
#define SWEEP_VECTORIZE __attribute__((optimize("tree-vectorize", "vect-cost-model=dynamic")))
#else
#define SWEEP_VECTORIZE
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SWEEP_STR_(x) #x
#define SWEEP_UNROLL(n) _Pragma(SWEEP_STR_(GCC unroll n))
#else
#define SWEEP_UNROLL(n)
#endif

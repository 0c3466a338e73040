#pragma once
// Host/device annotation and small portability macros.
//
// PQT_HD is keyed on __CUDACC__ (not __CUDA_ARCH__) so that nvcc's host and
// device passes see the same declarations.

#if defined(__CUDACC__)
#define PQT_HD __host__ __device__
#define PQT_DEVICE __device__
#else
#define PQT_HD
#define PQT_DEVICE
#endif

#if defined(__CUDACC__) || defined(__GNUC__) || defined(__clang__)
#define PQT_FORCEINLINE __forceinline__
#endif
#if !defined(__CUDACC__)
#undef PQT_FORCEINLINE
#if defined(__GNUC__) || defined(__clang__)
#define PQT_FORCEINLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define PQT_FORCEINLINE __forceinline
#else
#define PQT_FORCEINLINE inline
#endif
#endif  // !__CUDACC__

// The tensor loops (detail/tensor_runs.hpp, fake_quant.hpp) inline every
// call below a chunk whatever the inliner's budget in the including file, so
// the element loops vectorise and a 16- or 32-element run costs no call.
// g++: their per-element and per-run lambdas are always_inline
// (PQT_INLINE_LAMBDA); clang: the chunk is flattened (PQT_FLATTEN). Each is
// the faster compile for that compiler (a file calling the whole tensor API
// at -O2, bench/compile_time/run.sh, interleaved runs: g++ 32-36 s instead
// of 38-42 s flattened; clang 20 s instead of 29-30 s with the lambdas
// forced), at the same speed. Both are left out under AddressSanitizer (and
// with PQT_NO_FLATTEN): instrumenting the inlined loops multiplies a
// sanitizer build's compile time, in a build that is not about speed (the
// results are the same bits).
#if defined(__has_feature)
#if __has_feature(address_sanitizer) && !defined(PQT_NO_FLATTEN)
#define PQT_NO_FLATTEN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(PQT_NO_FLATTEN)
#define PQT_NO_FLATTEN 1
#endif
#if defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__) && !defined(PQT_NO_FLATTEN)
#define PQT_INLINE_LAMBDA __attribute__((always_inline))
#else
#define PQT_INLINE_LAMBDA
#endif
#if defined(__clang__) && !defined(__CUDACC__) && !defined(PQT_NO_FLATTEN)
#define PQT_FLATTEN __attribute__((flatten))
#else
#define PQT_FLATTEN
#endif

// Kept out of line (detail/tensor_ops.hpp's store_codes): a helper called
// once per run of hundreds of elements, which would otherwise be copied into
// every element loop's instantiation.
#if defined(__CUDACC__)
#define PQT_NOINLINE __noinline__
#elif defined(__GNUC__) || defined(__clang__)
#define PQT_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define PQT_NOINLINE __declspec(noinline)
#else
#define PQT_NOINLINE
#endif

// Unrolls a loop over a kernel unit's elements in device code only (keyed on
// __CUDA_ARCH__: nvcc's host pass hands pragmas to the host compiler, where
// "unroll" is unknown). On the host the kernel bodies run only in tests
// (cuda/host_executor.hpp), where unrolling the up to 16
// copies of the generic encoder cost 66 of test_cuda_bodies' 88 s of g++ -O2
// compile time; the host tensor loops (detail/tensor_runs.hpp) do not use it.
#if defined(__CUDA_ARCH__)
#define PQT_UNROLL _Pragma("unroll")
#else
#define PQT_UNROLL
#endif

#if __cplusplus < 201703L && !defined(_MSVC_LANG)
#error "pqt needs C++17"
#endif

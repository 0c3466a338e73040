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

// Kept out of line even under flatten (detail/tensor_runs.hpp): a helper
// called once per run of hundreds of elements, which would otherwise be
// copied into every element loop's instantiation.
#if defined(__CUDACC__)
#define PQT_NOINLINE __noinline__
#elif defined(__GNUC__) || defined(__clang__)
#define PQT_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define PQT_NOINLINE __declspec(noinline)
#else
#define PQT_NOINLINE
#endif

#define PQT_STRINGIFY_(x) #x
// Keyed on __CUDA_ARCH__: nvcc's host pass hands the pragma to the host
// compiler, where "unroll" is unknown to gcc and "GCC unroll" to nvcc's front end.
#if defined(__CUDA_ARCH__)
#define PQT_UNROLL _Pragma("unroll")
#elif defined(__CUDACC__)
#define PQT_UNROLL
#elif defined(__clang__)
#define PQT_UNROLL _Pragma("clang loop unroll(enable)")
#elif defined(__GNUC__)
#define PQT_UNROLL _Pragma("GCC unroll 8")
#else
#define PQT_UNROLL
#endif

#if __cplusplus < 201703L && !defined(_MSVC_LANG)
#error "pqt needs C++17"
#endif

#pragma once
// The sweep's one matrix product, C = A * B (row-major, overwrite), and a
// transpose. Every output element is summed as ((0 + a0 b0) + a1 b1) + ...
// in k order, whatever the blocking or the thread count, so results are
// bit-identical across runs, machines with the same float unit, and
// OMP_NUM_THREADS. (No -ffast-math: that would let the compiler reorder.)

#include <cstddef>
#include <cstring>
#include <type_traits>

#include "platform.hpp"

namespace sweep {

namespace detail {

// Rows [i0, i1) of C, in MR x NR register tiles held as GNU vectors of VB
// bytes (so no vectoriser heuristic, which differ between -O2 and -O3, can
// undo them: left to itself, -O3's loop vectoriser made the plain-loop
// version 6x slower). The ragged right edge and bottom rows run the same sums
// one element at a time.
template <bool TA, int VB, class R>
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
inline void gemm_rows_body(std::size_t i0, std::size_t i1, std::size_t N, std::size_t K, const R* A, std::size_t lda,
                           const R* B, std::size_t ldb, R* C, std::size_t ldc) {
  constexpr std::size_t MR = 4, NR = 16;
  std::size_t i = i0;
  for (; i + MR <= i1; i += MR) {
    std::size_t j = 0;
    for (; j + NR <= N; j += NR) {
#if defined(__GNUC__) || defined(__clang__)
      typedef R vec __attribute__((vector_size(VB)));
      constexpr std::size_t NV = NR * sizeof(R) / VB;  // vectors per tile row
      vec acc[MR][NV] = {};
      for (std::size_t k = 0; k < K; ++k) {
        vec b[NV];
        SWEEP_UNROLL(4)
        for (std::size_t v = 0; v < NV; ++v) std::memcpy(&b[v], B + k * ldb + j + v * (VB / sizeof(R)), VB);
        SWEEP_UNROLL(4)
        for (std::size_t r = 0; r < MR; ++r) {
          const R a = TA ? A[k * lda + i + r] : A[(i + r) * lda + k];
          SWEEP_UNROLL(4)
          for (std::size_t v = 0; v < NV; ++v) acc[r][v] += a * b[v];
        }
      }
      for (std::size_t r = 0; r < MR; ++r)
        for (std::size_t v = 0; v < NV; ++v) std::memcpy(C + (i + r) * ldc + j + v * (VB / sizeof(R)), &acc[r][v], VB);
#else
      R acc[MR][NR] = {};
      for (std::size_t k = 0; k < K; ++k) {
        const R* b = B + k * ldb + j;
        for (std::size_t r = 0; r < MR; ++r) {
          const R a = TA ? A[k * lda + i + r] : A[(i + r) * lda + k];
          for (std::size_t c = 0; c < NR; ++c) acc[r][c] += a * b[c];
        }
      }
      for (std::size_t r = 0; r < MR; ++r)
        for (std::size_t c = 0; c < NR; ++c) C[(i + r) * ldc + j + c] = acc[r][c];
#endif
    }
    for (; j < N; ++j)
      for (std::size_t r = 0; r < MR; ++r) {
        R s = 0;
        for (std::size_t k = 0; k < K; ++k) s += (TA ? A[k * lda + i + r] : A[(i + r) * lda + k]) * B[k * ldb + j];
        C[(i + r) * ldc + j] = s;
      }
  }
  for (; i < i1; ++i) {
    std::size_t j = 0;
    for (; j + NR <= N; j += NR) {
      R acc[NR] = {};
      for (std::size_t k = 0; k < K; ++k) {
        const R a = TA ? A[k * lda + i] : A[i * lda + k];
        const R* b = B + k * ldb + j;
        for (std::size_t c = 0; c < NR; ++c) acc[c] += a * b[c];
      }
      for (std::size_t c = 0; c < NR; ++c) C[i * ldc + j + c] = acc[c];
    }
    for (; j < N; ++j) {
      R s = 0;
      for (std::size_t k = 0; k < K; ++k) s += (TA ? A[k * lda + i] : A[i * lda + k]) * B[k * ldb + j];
      C[i * ldc + j] = s;
    }
  }
}

// The float kernel twice: AVX2 (32-byte vectors) and the baseline ISA
// (16-byte), picked once at run time. AVX2 has no FMA instructions (AVX-512F
// has, which is why it is not a target here), so both compute every element
// by the same float multiplies and adds in the same order: the same bits.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__AVX2__)
#define SWEEP_GEMM_DISPATCH 1
__attribute__((target("avx2"))) inline void gemm_rows_f32_avx2(bool ta, std::size_t i0, std::size_t i1, std::size_t N,
                                                              std::size_t K, const float* A, std::size_t lda,
                                                              const float* B, std::size_t ldb, float* C,
                                                              std::size_t ldc) {
  if (ta)
    gemm_rows_body<true, 32>(i0, i1, N, K, A, lda, B, ldb, C, ldc);
  else
    gemm_rows_body<false, 32>(i0, i1, N, K, A, lda, B, ldb, C, ldc);
}
#endif

inline void gemm_rows_f32(bool ta, std::size_t i0, std::size_t i1, std::size_t N, std::size_t K, const float* A,
                          std::size_t lda, const float* B, std::size_t ldb, float* C, std::size_t ldc) {
#if defined(SWEEP_GEMM_DISPATCH)
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) return gemm_rows_f32_avx2(ta, i0, i1, N, K, A, lda, B, ldb, C, ldc);
#endif
#if defined(__AVX2__)
  constexpr int vb = 32;
#else
  constexpr int vb = 16;
#endif
  if (ta)
    gemm_rows_body<true, vb>(i0, i1, N, K, A, lda, B, ldb, C, ldc);
  else
    gemm_rows_body<false, vb>(i0, i1, N, K, A, lda, B, ldb, C, ldc);
}

template <class R>
void gemm_rows(bool ta, std::size_t i0, std::size_t i1, std::size_t N, std::size_t K, const R* A, std::size_t lda,
               const R* B, std::size_t ldb, R* C, std::size_t ldc) {
  if constexpr (std::is_same<R, float>::value)
    gemm_rows_f32(ta, i0, i1, N, K, A, lda, B, ldb, C, ldc);
  else if (ta)
    gemm_rows_body<true, 16>(i0, i1, N, K, A, lda, B, ldb, C, ldc);
  else
    gemm_rows_body<false, 16>(i0, i1, N, K, A, lda, B, ldb, C, ldc);
}

}  // namespace detail

/// C[M x N] = op(A) * B[K x N], op(A) = A[M x K] (trans_a false) or the
/// transpose of A[K x M] (trans_a true); lda/ldb/ldc are row strides. Splits
/// rows over OpenMP threads when called outside a parallel region and the
/// product is big enough to pay for it (the sweep itself runs whole training
/// runs in parallel, so there this is serial).
template <class R>
void gemm(bool trans_a, std::size_t M, std::size_t N, std::size_t K, const R* A, std::size_t lda, const R* B,
          std::size_t ldb, R* C, std::size_t ldc) {
#if defined(_OPENMP)
  if (!omp_in_parallel() && omp_get_max_threads() > 1 && M * N * K >= (std::size_t{1} << 20)) {
    const long blocks = static_cast<long>((M + 3) / 4);
    SWEEP_PRAGMA(omp parallel for schedule(static))
    for (long b = 0; b < blocks; ++b) {
      const std::size_t i0 = static_cast<std::size_t>(b) * 4, i1 = i0 + 4 < M ? i0 + 4 : M;
      detail::gemm_rows(trans_a, i0, i1, N, K, A, lda, B, ldb, C, ldc);
    }
    return;
  }
#endif
  detail::gemm_rows(trans_a, 0, M, N, K, A, lda, B, ldb, C, ldc);
}

/// C = A * B.
template <class R>
void gemm(std::size_t M, std::size_t N, std::size_t K, const R* A, std::size_t lda, const R* B, std::size_t ldb, R* C,
          std::size_t ldc) {
  gemm(false, M, N, K, A, lda, B, ldb, C, ldc);
}

/// C = A^T * B, A stored K x M.
template <class R>
void gemm_tn(std::size_t M, std::size_t N, std::size_t K, const R* A, std::size_t lda, const R* B, std::size_t ldb, R* C,
             std::size_t ldc) {
  gemm(true, M, N, K, A, lda, B, ldb, C, ldc);
}

/// dst[cols x rows] = transpose(src[rows x cols]).
template <class R>
void transpose(const R* src, std::size_t rows, std::size_t cols, R* dst) {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) dst[c * rows + r] = src[r * cols + c];
}

}  // namespace sweep

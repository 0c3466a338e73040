#pragma once
/// Optional hardware conversions (PTX cvt) beside their software twins (the
/// generic pqt::encode). Each pair converts two floats; the hardware one is
/// used where the compiling architecture has the instruction (FP8: sm_89+,
/// bf16/fp16: sm_80+) and falls back to the twin otherwise, so both compile
/// everywhere. tests/cuda/test_hw_convert.cu checks on a GPU that each pair
/// agrees bit for bit; pqt's kernels do not use them (the software path is
/// the reference), they are for callers' own kernels. CUDA-only.
///   std::uint16_t two = pqt::cuda::hw::e4m3x2_rn_satfinite(lo, hi);   // lo in the low byte
///
/// Instructions (PTX ISA): cvt.rn.satfinite.e4m3x2.f32 / .e5m2x2.f32 (7.8,
/// sm_89), cvt.rn.bf16x2.f32 and cvt.rn.f16x2.f32 (7.0, sm_80); the first
/// source operand goes to the upper half of the result.
/// Software twins: encode<e4m3 / e5m2, nearest_even, saturate> (satfinite:
/// +-Inf and overflow to +-max), encode<bf16 / fp16, nearest_even, nonsaturating>.

#if !defined(__CUDACC__)
#error "pqt/cuda/hw_convert.cuh is CUDA-only: compile it with nvcc"
#endif

#include <cstdint>

#include "../config.hpp"
#include "../convert.hpp"
#include "../format.hpp"
#include "../rounding.hpp"

namespace pqt {
namespace cuda {
namespace hw {

// ---- software twins (host and device) -------------------------------------------

PQT_HD inline std::uint16_t e4m3x2_rn_satfinite_sw(float lo, float hi) {
  return static_cast<std::uint16_t>(encode<fmt::e4m3, rounding::nearest_even, overflow::saturate>(lo) |
                                    (encode<fmt::e4m3, rounding::nearest_even, overflow::saturate>(hi) << 8));
}
PQT_HD inline std::uint16_t e5m2x2_rn_satfinite_sw(float lo, float hi) {
  return static_cast<std::uint16_t>(encode<fmt::e5m2, rounding::nearest_even, overflow::saturate>(lo) |
                                    (encode<fmt::e5m2, rounding::nearest_even, overflow::saturate>(hi) << 8));
}
PQT_HD inline std::uint32_t bf16x2_rn_sw(float lo, float hi) {
  return encode<fmt::bf16, rounding::nearest_even, overflow::nonsaturating>(lo) |
         (static_cast<std::uint32_t>(encode<fmt::bf16, rounding::nearest_even, overflow::nonsaturating>(hi)) << 16);
}
PQT_HD inline std::uint32_t fp16x2_rn_sw(float lo, float hi) {
  return encode<fmt::fp16, rounding::nearest_even, overflow::nonsaturating>(lo) |
         (static_cast<std::uint32_t>(encode<fmt::fp16, rounding::nearest_even, overflow::nonsaturating>(hi)) << 16);
}

// ---- hardware (device) --------------------------------------------------------------

/// Whether the device pass compiling the caller has the FP8 instructions.
__device__ constexpr bool has_fp8_cvt() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
  return true;
#else
  return false;
#endif
}

__device__ inline std::uint16_t e4m3x2_rn_satfinite(float lo, float hi) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
  unsigned short r;
  asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(r) : "f"(hi), "f"(lo));
  return r;
#else
  return e4m3x2_rn_satfinite_sw(lo, hi);
#endif
}

__device__ inline std::uint16_t e5m2x2_rn_satfinite(float lo, float hi) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
  unsigned short r;
  asm("cvt.rn.satfinite.e5m2x2.f32 %0, %1, %2;" : "=h"(r) : "f"(hi), "f"(lo));
  return r;
#else
  return e5m2x2_rn_satfinite_sw(lo, hi);
#endif
}

__device__ inline std::uint32_t bf16x2_rn(float lo, float hi) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  unsigned int r;
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
#else
  return bf16x2_rn_sw(lo, hi);
#endif
}

__device__ inline std::uint32_t fp16x2_rn(float lo, float hi) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  unsigned int r;
  asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
#else
  return fp16x2_rn_sw(lo, hi);
#endif
}

}  // namespace hw
}  // namespace cuda
}  // namespace pqt

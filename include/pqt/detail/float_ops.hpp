#pragma once
// Correctly rounded float operations that give the same bits on the host and
// in CUDA device code, whatever the compiler flags: explicit fma (never a
// contracted a * b + c), division and square root named _rn on the device (so
// -use_fast_math cannot approximate them), and float -> double through the
// bits (so -ftz=true cannot flush a subnormal).

#include <cmath>
#include <cstdint>

#include "../config.hpp"
#include "bits.hpp"

namespace pqt {
namespace detail {

/// a * b + c rounded once: std::fma on the host, __fmaf_rn on the device.
PQT_HD PQT_FORCEINLINE float fma_rn(float a, float b, float c) noexcept {
#if defined(__CUDA_ARCH__)
  return __fmaf_rn(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}

/// a / b rounded to nearest even.
PQT_HD PQT_FORCEINLINE constexpr float div_rn(float a, float b) noexcept {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}

/// sqrt(x) rounded to nearest even.
PQT_HD PQT_FORCEINLINE float sqrt_rn(float x) noexcept {
#if defined(__CUDA_ARCH__)
  return __fsqrt_rn(x);
#else
  return std::sqrt(x);
#endif
}

/// |x| as bits (sign cleared).
PQT_HD PQT_FORCEINLINE constexpr std::uint32_t abs_bits(float x) noexcept {
  return bit_cast<std::uint32_t>(x) & 0x7FFFFFFFu;
}

/// float -> double, exactly, built from the bits (what widen is on the device).
PQT_HD PQT_FORCEINLINE constexpr double widen_bits(float x) noexcept {
  const std::uint32_t b = bit_cast<std::uint32_t>(x);
  const std::uint32_t e = (b >> 23) & 0xFFu, m = b & 0x7FFFFFu;
  const std::uint64_t sign = static_cast<std::uint64_t>(b >> 31) << 63;
  if (e == 0) {  // zero or subnormal: m * 2^-149 (double arithmetic is never flushed)
    return bit_cast<double>(bit_cast<std::uint64_t>(static_cast<double>(m) * 0x1p-149) | sign);
  }
  const std::uint64_t ed = e == 0xFFu ? 0x7FFu : e + (1023u - 127u);  // Inf/NaN keep all-ones
  return bit_cast<double>(sign | (ed << 52) | (static_cast<std::uint64_t>(m) << 29));
}

/// float -> double, exactly. On the device, and in -ffast-math host builds
/// (whose DAZ mode reads subnormal inputs as zero), widen_bits: nvcc
/// -ftz=true turns a plain conversion into cvt.ftz.f64.f32, which flushes
/// subnormal inputs to zero. Elsewhere the plain conversion, which is exact
/// and, unlike the branchy bit version, vectorises.
PQT_HD PQT_FORCEINLINE constexpr double widen(float x) noexcept {
#if !defined(__CUDA_ARCH__) && !defined(__FAST_MATH__)
  return static_cast<double>(x);
#else
  return widen_bits(x);
#endif
}

}  // namespace detail
}  // namespace pqt

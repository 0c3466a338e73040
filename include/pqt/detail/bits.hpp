#pragma once
// Small host/device helpers: bit_cast, count-leading-zeros, min/max.
// constexpr where C++17 allows; nvcc's device pass sees the same code.

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "../config.hpp"

namespace pqt {
namespace detail {

#if defined(__has_builtin)
#if __has_builtin(__builtin_bit_cast)
#define PQT_HAS_BUILTIN_BIT_CAST 1
#endif
#endif

/// std::bit_cast for C++17; constexpr wherever the compiler has the builtin
/// (g++ >= 11, clang, nvcc with either as host compiler).
template <class To, class From>
PQT_HD PQT_FORCEINLINE constexpr To bit_cast(const From& from) noexcept {
  static_assert(sizeof(To) == sizeof(From), "bit_cast: sizes differ");
  static_assert(std::is_trivially_copyable<To>::value && std::is_trivially_copyable<From>::value,
                "bit_cast: types must be trivially copyable");
#if defined(PQT_HAS_BUILTIN_BIT_CAST)
  return __builtin_bit_cast(To, from);
#else
  To to{};
  std::memcpy(&to, &from, sizeof(To));
  return to;
#endif
}

/// Number of leading zero bits of a 64-bit word; 64 for zero.
PQT_HD constexpr int clz64(std::uint64_t v) noexcept {
#if defined(__CUDA_ARCH__)
  return __clzll(static_cast<long long>(v));
#else
  if (v == 0) return 64;
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_clzll(v);
#else
  int n = 0;
  while (!(v & (std::uint64_t{1} << 63))) { v <<= 1; ++n; }
  return n;
#endif
#endif  // __CUDA_ARCH__
}

template <class T>
PQT_HD constexpr T min_(T a, T b) noexcept { return b < a ? b : a; }
template <class T>
PQT_HD constexpr T max_(T a, T b) noexcept { return a < b ? b : a; }

/// Mask of the low n bits, for n in [0, 64].
PQT_HD constexpr std::uint64_t low_mask64(int n) noexcept {
  return n >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
}

/// Exact 2^e as float for e in [-149, 127] (built from bits: no libm).
PQT_HD constexpr float exp2f_exact(int e) noexcept {
  return e >= -126 ? bit_cast<float>(static_cast<std::uint32_t>(e + 127) << 23)
                   : bit_cast<float>(std::uint32_t{1} << (e + 149));
}

/// Exact 2^e as double for e in [-1074, 1023].
PQT_HD constexpr double exp2_exact(int e) noexcept {
  return e >= -1022 ? bit_cast<double>(static_cast<std::uint64_t>(e + 1023) << 52)
                    : bit_cast<double>(std::uint64_t{1} << (e + 1074));
}

}  // namespace detail
}  // namespace pqt

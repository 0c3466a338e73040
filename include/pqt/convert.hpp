#pragma once
/// encode / decode / quantize / convert: float or double <-> any pqt format.
///   std::uint8_t b = pqt::encode<pqt::fmt::e4m3>(1.3f);          // RNE, nonsaturating
///   float y = pqt::decode<pqt::fmt::e4m3>(b);                     // exact
///   auto s = pqt::encode<pqt::fmt::e2m1, pqt::rounding::stochastic,
///                        pqt::overflow::saturate, /*K=*/8>(x, random_word);
///
/// There is one generic routine (detail::encode_magnitude) for every format,
/// rounding mode and input type; see the numbered steps there. A float input is
/// widened to the same 64-bit significand form as a double, so both round once.

#include <cstdint>
#include <type_traits>

#include "config.hpp"
#include "detail/bits.hpp"
#include "detail/fast_paths.hpp"
#include "format.hpp"
#include "rounding.hpp"

namespace pqt {
namespace detail {

/// A finite nonzero |x| as sig * 2^(ex - 63) with bit 63 of sig set, so that
/// ex = floor(log2 |x|). Both float and double reduce to this exactly.
struct unpacked {
  std::uint64_t sig;
  int ex;
};

PQT_HD PQT_FORCEINLINE constexpr unpacked unpack_nonzero(std::uint64_t mant, int lsb_exp) {
  const int lz = clz64(mant);
  return {mant << lz, lsb_exp + 63 - lz};
}

/// Does the rounding mode move |x| up to the next grid point?
///   lo     code of the lower neighbour (its last bit decides ties and odd)
///   frac   the discarded bits as a 64-bit binary fraction of one ulp
///   sticky nonzero bits below frac (only when more than 64 bits were discarded)
PQT_HD PQT_FORCEINLINE constexpr bool round_up(rounding r, bool neg, std::uint64_t lo,
                                                std::uint64_t frac, bool sticky,
                                                std::uint32_t rbits, int k) {
  constexpr std::uint64_t half = std::uint64_t{1} << 63;
  const bool inexact = frac != 0 || sticky;
  switch (r) {
    case rounding::nearest_even: return frac > half || (frac == half && (sticky || (lo & 1)));
    case rounding::nearest_away: return frac >= half;
    case rounding::toward_zero: return false;
    case rounding::upward: return inexact && !neg;
    case rounding::downward: return inexact && neg;
    case rounding::odd: return inexact && !(lo & 1);
    case rounding::stochastic: {
      // t_k: the top k bits of the fraction; r_k: the low k bits of the word.
      // Up iff t_k + r_k >= 2^k, i.e. P(up) = t_k / 2^k ("add random bits, then
      // truncate"); exact inputs (t_k = 0... and frac = 0) never move.
      const std::uint64_t tk = frac >> (64 - k);
      const std::uint64_t rk = rbits & low_mask64(k);
      return tk + rk >= (std::uint64_t{1} << k);
    }
    case rounding::gaussian: break;  // not a plain rounding: see fake_quant.hpp
  }
  return false;
}

/// Overflow result: +max, +Inf, or NaN (caller adds the sign except to NaN).
PQT_HD PQT_FORCEINLINE constexpr std::uint32_t overflow_code(const format_facts& f, rounding r,
                                                              overflow o, bool neg) {
  const bool to_max = o == overflow::saturate || f.enc == encoding::finite ||
                      r == rounding::toward_zero || r == rounding::odd ||
                      (r == rounding::downward && !neg) || (r == rounding::upward && neg);
  if (to_max) return f.max_mag_code();
  if (f.has_inf()) return f.inf_code();
  if (f.has_nan()) return f.nan_code();
  return f.max_mag_code();
}

/// The one generic encoder. |x| = u.sig * 2^(u.ex - 63) is finite and nonzero.
PQT_HD PQT_FORCEINLINE constexpr std::uint32_t encode_magnitude(const format_facts& f, bool neg,
                                                                 unpacked u, rounding r, overflow o,
                                                                 std::uint32_t rbits, int k) {
  // Step 1. Grid spacing at |x|. Normal range: 2^(ex - M). Below the smallest
  // normal: the subnormal spacing 2^(emin - M). Above max the top binade is
  // continued upward (ex keeps growing), so overflow is decided after rounding.
  //
  //   sig (64 bits):  1 xxxxxxx | ggggggg...  <- `shift` low bits are discarded
  //                   \_ n ___/   \_ frac _/
  const int emin = f.emin();
  if (f.enc == encoding::scale && u.ex < emin) return 0u;  // no zero: clamp to 2^emin
  const int below = u.ex < emin ? emin - u.ex : 0;
  const int shift = 63 - f.m + below;  // >= 40: always discards something

  // Step 2. Split into integer significand n and the discarded fraction.
  std::uint64_t n = 0, frac = 0;
  bool sticky = false;
  if (shift < 64) {
    n = u.sig >> shift;
    frac = u.sig << (64 - shift);
  } else {
    const int s = shift - 64;  // the fraction of one ulp is sig / 2^shift
    frac = s < 64 ? u.sig >> s : 0;
    sticky = (u.sig & low_mask64(s)) != 0;
  }

  // Step 3. Assemble the lower neighbour's code. For a normal x, n is in
  // [2^M, 2^(M+1)) and adding it to (biased exponent - 1) << M both places the
  // implicit bit and lets a rounding carry ripple into the exponent field;
  // subnormals have exponent field 0.
  const std::int64_t base = below ? 0 : static_cast<std::int64_t>(u.ex) + f.bias - 1;
  std::uint64_t mag = (static_cast<std::uint64_t>(base) << f.m) + n;

  // Step 4. Round by the mode's rule. Ties-to-even and round-to-odd look at the
  // code's last bit (for M = 0 that is the exponent's last bit).
  mag += round_up(r, neg, mag, frac, sticky, rbits, k) ? 1 : 0;

  // Step 5. Overflow: the rounded magnitude is past the largest finite code.
  if (mag > f.max_mag_code()) {
    const std::uint32_t c = overflow_code(f, r, o, neg);
    return c == f.nan_code() && f.has_nan() ? c : c | (neg ? f.sign_mask() : 0u);
  }
  // Step 6. Sign. Zero keeps the input's sign where the format has -0.
  if (mag == 0 && !f.has_negative_zero()) return 0u;
  return static_cast<std::uint32_t>(mag) | (neg ? f.sign_mask() : 0u);
}

/// Non-finite, zero and sign handling around encode_magnitude.
PQT_HD PQT_FORCEINLINE constexpr std::uint32_t encode_special(const format_facts& f, bool neg,
                                                               bool is_nan, bool is_inf,
                                                               overflow o) {
  // NaN: canonical NaN, or +max where the format has none (as CUDA's FP4/FP6).
  if (is_nan) return f.has_nan() ? f.nan_code() : f.max_mag_code();
  // Negative into an unsigned format: 0 when saturating, else NaN (0 if none).
  // (-0 is not negative: callers pass neg = false for zero.)
  if (neg && !f.is_signed)
    return o == overflow::saturate || !f.has_nan() ? 0u : f.nan_code();
  if (is_inf) {
    if (o == overflow::saturate || f.enc == encoding::finite || (!f.has_inf() && !f.has_nan()))
      return f.max_mag_code() | (neg ? f.sign_mask() : 0u);
    return f.has_inf() ? (f.inf_code() | (neg ? f.sign_mask() : 0u)) : f.nan_code();
  }
  return 0u;
}

PQT_HD PQT_FORCEINLINE constexpr std::uint32_t encode_float(const format_facts& f, float x,
                                                             rounding r, overflow o,
                                                             std::uint32_t rbits, int k) {
  const std::uint32_t b = bit_cast<std::uint32_t>(x);
  const bool neg = (b >> 31) != 0;
  const std::uint32_t ef = (b >> 23) & 0xFF, mant = b & 0x7FFFFF;
  if (ef == 0xFF) return encode_special(f, neg, mant != 0, mant == 0, o);
  if (ef == 0 && mant == 0) {  // zero
    if (f.enc == encoding::scale) return 0u;
    return neg && f.has_negative_zero() ? f.sign_mask() : 0u;
  }
  if (neg && !f.is_signed) return encode_special(f, true, false, false, o);
  const unpacked u = ef == 0 ? unpack_nonzero(mant, -149)
                             : unpacked{std::uint64_t{mant | 0x800000u} << 40, static_cast<int>(ef) - 127};
  return encode_magnitude(f, neg, u, r, o, rbits, k);
}

PQT_HD PQT_FORCEINLINE constexpr std::uint32_t encode_double(const format_facts& f, double x,
                                                              rounding r, overflow o,
                                                              std::uint32_t rbits, int k) {
  const std::uint64_t b = bit_cast<std::uint64_t>(x);
  const bool neg = (b >> 63) != 0;
  const std::uint32_t ef = static_cast<std::uint32_t>(b >> 52) & 0x7FF;
  const std::uint64_t mant = b & low_mask64(52);
  if (ef == 0x7FF) return encode_special(f, neg, mant != 0, mant == 0, o);
  if (ef == 0 && mant == 0) {
    if (f.enc == encoding::scale) return 0u;
    return neg && f.has_negative_zero() ? f.sign_mask() : 0u;
  }
  if (neg && !f.is_signed) return encode_special(f, true, false, false, o);
  const unpacked u = ef == 0 ? unpack_nonzero(mant, -1074)
                             : unpacked{(mant | (std::uint64_t{1} << 52)) << 11, static_cast<int>(ef) - 1023};
  return encode_magnitude(f, neg, u, r, o, rbits, k);
}

/// Whether encode<F, R>(float) and decode<F> take the fast paths.
template <class F, rounding R>
PQT_HD constexpr bool use_float_fast_path() {
#if defined(__CUDA_ARCH__) || defined(__FAST_MATH__) || defined(PQT_NO_FAST_PATHS)
  return false;
#else
  return fast_path_applies(F::get_facts()) && R != rounding::gaussian;
#endif
}

/// Compile-time checks shared by the encode overloads.
template <class Fmt, rounding R>
PQT_HD constexpr void check_encode_args() {
  static_assert(is_format<Fmt>::value, "pqt::encode: Fmt must be a pqt::format<> or pqt::minifloat<>");
  static_assert(R != rounding::gaussian,
                "pqt::encode: gaussian rounding needs a noise sample; use pqt::gaussian_round or pqt::quantize_op (fake_quant.hpp)");
}

}  // namespace detail

/// Storage type of a format (uint8_t / uint16_t / uint32_t).
template <class Fmt>
using storage_t = typename Fmt::format_type::storage_type;

/// Encode x (float or double, rounded once) into Fmt's bits.
///   auto b = pqt::encode<pqt::fmt::e5m2, pqt::rounding::upward, pqt::overflow::saturate>(x);
/// Stochastic rounding takes r from the low K bits (1..32) of random_bits.
template <class Fmt, rounding R = rounding::nearest_even, overflow O = overflow::nonsaturating,
          int K = 32, class T,
          std::enable_if_t<std::is_same<T, float>::value || std::is_same<T, double>::value, int> = 0>
PQT_HD PQT_FORCEINLINE constexpr storage_t<Fmt> encode(T x, std::uint32_t random_bits = 0) {
  detail::check_encode_args<Fmt, R>();
  static_assert(K >= 1 && K <= 32, "pqt::encode: stochastic rounding uses 1..32 random bits");
  constexpr detail::format_facts f = Fmt::format_type::get_facts();
  if constexpr (std::is_same<T, float>::value && detail::use_float_fast_path<typename Fmt::format_type, R>() &&
                R == rounding::nearest_even && O == overflow::nonsaturating && detail::is_truncated_float(f)) {
    return static_cast<storage_t<Fmt>>(detail::encode_truncated_float_rne<f.m>(x));
  } else if constexpr (std::is_same<T, float>::value && detail::use_float_fast_path<typename Fmt::format_type, R>()) {
    constexpr detail::fast_params p = detail::make_fast_params(f, R, O);
    return static_cast<storage_t<Fmt>>(detail::encode_float_fast<detail::class_of(R), detail::policy_of(O)>(p, x, random_bits, K));
  } else if constexpr (std::is_same<T, float>::value)
    return static_cast<storage_t<Fmt>>(detail::encode_float(f, x, R, O, random_bits, K));
  else
    return static_cast<storage_t<Fmt>>(detail::encode_double(f, x, R, O, random_bits, K));
}

/// Decode Fmt's bits to float, exactly (every value of every format is a float).
template <class Fmt>
PQT_HD PQT_FORCEINLINE constexpr float decode(storage_t<Fmt> bits) {
  static_assert(is_format<Fmt>::value, "pqt::decode: Fmt must be a pqt::format<> or pqt::minifloat<>");
  constexpr detail::format_facts f = Fmt::format_type::get_facts();
  if constexpr (detail::use_float_fast_path<typename Fmt::format_type, rounding::nearest_even>() &&
                detail::is_truncated_float(f)) {
    return detail::decode_truncated_float<f.m>(bits);
  } else if constexpr (detail::use_float_fast_path<typename Fmt::format_type, rounding::nearest_even>()) {
    constexpr detail::fast_params p = detail::make_fast_params(f, rounding::nearest_even, overflow::nonsaturating);
    return detail::decode_fast(p, bits);  // (reads no mode field)
  } else {
    return detail::decode_facts(f, bits);
  }
}

/// decode(encode(x)): the nearest value of Fmt under the rounding mode, as float.
template <class Fmt, rounding R = rounding::nearest_even, overflow O = overflow::nonsaturating,
          int K = 32, class T>
PQT_HD PQT_FORCEINLINE constexpr float quantize(T x, std::uint32_t random_bits = 0) {
  return decode<Fmt>(encode<Fmt, R, O, K>(x, random_bits));
}

/// Convert bits of format From into format To, rounding once (decode is exact).
template <class To, class From, rounding R = rounding::nearest_even,
          overflow O = overflow::nonsaturating, int K = 32>
PQT_HD PQT_FORCEINLINE constexpr storage_t<To> convert(storage_t<From> bits,
                                                       std::uint32_t random_bits = 0) {
  return encode<To, R, O, K>(decode<From>(bits), random_bits);
}

/// e8m0 scale from a value, with the OCP/CUDA conventions: |x| is rounded to a
/// power of two by `rule` (rceil rounds up like ceil; it differs only in what
/// scale.hpp feeds it: amax / max_elem), results below 2^-127 (zero too) clip
/// to 2^-127 (code 0), above 2^127 give 2^127 when saturating and NaN (0xFF)
/// otherwise (floor never rounds above 2^127, as IEEE toward-zero), NaN gives
/// 0xFF. Matches CUDA's __nv_cvt_float_to_e8m0 / __nv_cvt_double_to_e8m0.
///   std::uint8_t s = pqt::encode_e8m0(amax / 448.0f, pqt::e8m0_rounding::rceil);
template <class T>
PQT_HD PQT_FORCEINLINE constexpr std::uint8_t encode_e8m0(T x, e8m0_rounding rule,
                                                           overflow o = overflow::saturate) {
  static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value,
                "pqt::encode_e8m0: x must be float or double");
  const rounding r = rule == e8m0_rounding::floor ? rounding::toward_zero
                     : rule == e8m0_rounding::nearest_even ? rounding::nearest_even
                                                           : rounding::upward;
  const T ax = x < 0 ? -x : x;
  const std::uint32_t c = std::is_same<T, float>::value
                              ? detail::encode_float(fmt::e8m0::get_facts(), static_cast<float>(ax), r, o, 0, 32)
                              : detail::encode_double(fmt::e8m0::get_facts(), static_cast<double>(ax), r, o, 0, 32);
  return static_cast<std::uint8_t>(c);
}

}  // namespace pqt

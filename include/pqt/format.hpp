#pragma once
/// Format traits: format<E, M, Encoding, Bias, Signed> and the named formats.
///   using f = pqt::format<4, 3, pqt::encoding::fn>;   // OCP E4M3
///   static_assert(f::max() == 448.0f);

#include <climits>
#include <cstdint>
#include <type_traits>

#include "config.hpp"
#include "detail/bits.hpp"

namespace pqt {

/// NaN/Inf convention of a format (README "Encodings").
enum class encoding : int {
  ieee = 0,    ///< Inf = exp all-ones, mant 0; NaN = exp all-ones, mant != 0
  fn = 1,      ///< no Inf; NaN only S.1..1.1..1; the rest of the top binade is finite
  fnuz = 2,    ///< no Inf, no -0; NaN is the "-0" code 1.0..0.0..0
  finite = 3,  ///< no Inf, no NaN; every code is a number
  scale = 4,   ///< unsigned powers of two (M = 0): no zero, no Inf, NaN = all ones (e8m0)
};

constexpr const char* to_string(encoding e) {
  switch (e) {
    case encoding::ieee: return "ieee";
    case encoding::fn: return "fn";
    case encoding::fnuz: return "fnuz";
    case encoding::finite: return "finite";
    case encoding::scale: return "scale";
  }
  return "?";
}

/// Bias template argument meaning "the encoding's default bias".
constexpr int default_bias = INT_MIN;

namespace detail {

/// The default bias: 2^(E-1) for fnuz, 2^(E-1) - 1 otherwise.
PQT_HD constexpr int default_bias_for(int e, encoding enc) {
  return enc == encoding::fnuz ? (1 << (e - 1)) : (1 << (e - 1)) - 1;
}

/// Every fact of a format, computed from (E, M, encoding, bias, signed).
/// Shared by the compile-time format<> and the runtime format_desc so the two
/// cannot disagree. All members are plain integers; values are built from them.
struct format_facts {
  int e, m;
  encoding enc;
  int bias;
  bool is_signed;

  PQT_HD constexpr int total_bits() const { return e + m + (is_signed ? 1 : 0); }
  PQT_HD constexpr std::uint32_t exp_all_ones() const { return (1u << e) - 1; }
  PQT_HD constexpr std::uint32_t mant_all_ones() const { return (1u << m) - 1; }
  /// All bits of the magnitude set (exponent and mantissa fields).
  PQT_HD constexpr std::uint32_t mag_all_ones() const {
    return static_cast<std::uint32_t>((std::uint64_t{1} << (e + m)) - 1);
  }
  PQT_HD constexpr std::uint32_t sign_mask() const {
    return is_signed ? static_cast<std::uint32_t>(std::uint64_t{1} << (e + m)) : 0u;
  }
  PQT_HD constexpr bool has_inf() const { return enc == encoding::ieee; }
  PQT_HD constexpr bool has_nan() const {
    return enc == encoding::fn || enc == encoding::scale || enc == encoding::fnuz ||
           (enc == encoding::ieee && m > 0);
  }
  PQT_HD constexpr bool has_zero() const { return enc != encoding::scale; }
  PQT_HD constexpr bool has_negative_zero() const {
    return is_signed && enc != encoding::fnuz && enc != encoding::scale;
  }
  PQT_HD constexpr bool has_subnormals() const { return enc != encoding::scale && m > 0; }
  /// Largest finite magnitude code (exponent and mantissa fields only).
  PQT_HD constexpr std::uint32_t max_mag_code() const {
    switch (enc) {
      case encoding::ieee: return ((exp_all_ones() - 1) << m) | mant_all_ones();
      case encoding::fn:
      case encoding::scale: return mag_all_ones() - 1;
      default: return mag_all_ones();
    }
  }
  /// Canonical NaN code (README "NaN codes"); 0 when the format has no NaN.
  PQT_HD constexpr std::uint32_t nan_code() const {
    switch (enc) {
      case encoding::ieee: return m > 0 ? mag_all_ones() : 0u;
      case encoding::fn:
      case encoding::scale: return mag_all_ones();
      case encoding::fnuz: return sign_mask();
      default: return 0u;
    }
  }
  /// +Inf code; 0 when the format has no Inf.
  PQT_HD constexpr std::uint32_t inf_code() const { return has_inf() ? exp_all_ones() << m : 0u; }
  /// Smallest exponent of a normal value (for scale: of the smallest value).
  PQT_HD constexpr int emin() const { return enc == encoding::scale ? -bias : 1 - bias; }
  /// Exponent of the largest finite value.
  PQT_HD constexpr int emax() const {
    return static_cast<int>(max_mag_code() >> m) - bias;
  }
  /// Exponent of the smallest positive value.
  PQT_HD constexpr int emin_value() const { return has_subnormals() ? emin() - m : emin(); }

  /// Why the format cannot exist, or nullptr if it can.
  PQT_HD constexpr const char* invalid_reason() const {
    if (e < 1 || e > 8) return "exponent bits E must be in 1..8 (every value must be an exact float)";
    if (m < 0 || m > 23) return "mantissa bits M must be in 0..23 (every value must be an exact float)";
    if (bias < -1000 || bias > 1000) return "the bias must be in -1000..1000";
    if (total_bits() > 32) return "a format has at most 32 bits (sign + E + M)";
    if (enc == encoding::scale && (m != 0 || is_signed))
      return "the scale encoding (e8m0-like) is unsigned with M = 0";
    if (enc == encoding::fnuz && !is_signed)
      return "fnuz keeps NaN in the negative-zero code, so it must be signed";
    if (enc != encoding::scale && max_mag_code() == 0)
      return "the format has no positive finite value (ieee/fn need E >= 2 or M >= 1)";
    if (emax() > 127) return "the bias puts the largest value above float's range (2^127)";
    if (emin_value() < -149)
      return "the bias puts the smallest value below float's range (2^-149)";
    return nullptr;
  }
  PQT_HD constexpr bool valid() const { return invalid_reason() == nullptr; }
};

/// sig * 2^e as float, built from bits (sig < 2^24 and the value a float):
/// no float arithmetic, so flush-to-zero modes (nvcc -ftz=true, DAZ) cannot
/// touch subnormal results.
PQT_HD PQT_FORCEINLINE constexpr float make_float(bool neg, std::uint32_t sig, int e) {
  std::uint32_t bits = neg ? 0x80000000u : 0u;
  if (sig != 0) {
    const int p = 63 - clz64(sig);  // position of the leading 1
    const int biased = e + p + 127;
    bits |= biased >= 1 ? (static_cast<std::uint32_t>(biased) << 23) | ((sig << (23 - p)) & 0x7FFFFFu)
                        : sig << (e + 149);
  }
  return bit_cast<float>(bits);
}

/// Decode a code of a valid format to float, exactly. Shared by every path.
PQT_HD constexpr float decode_facts(const format_facts& f, std::uint32_t code) {
  const std::uint32_t mag = code & f.mag_all_ones();
  const bool neg = (code & f.sign_mask()) != 0;
  if (f.has_nan() && (code == f.nan_code() ||
                      (f.enc == encoding::ieee && (mag >> f.m) == f.exp_all_ones() &&
                       (mag & f.mant_all_ones()) != 0) ||
                      ((f.enc == encoding::fn) && mag == f.mag_all_ones())))
    return bit_cast<float>(0x7FC00000u);
  if (f.has_inf() && mag == f.inf_code()) return bit_cast<float>(neg ? 0xFF800000u : 0x7F800000u);
  const int ef = static_cast<int>(mag >> f.m);
  const std::uint32_t mant = mag & f.mant_all_ones();
  if (f.enc == encoding::scale) return make_float(false, 1, ef - f.bias);
  if (ef == 0) return make_float(neg, mant, f.emin() - f.m);
  return make_float(neg, mant | (1u << f.m), ef - f.bias - f.m);
}

template <int Bits>
struct storage_for {
  using type = std::conditional_t<(Bits <= 8), std::uint8_t,
                                  std::conditional_t<(Bits <= 16), std::uint16_t, std::uint32_t>>;
};

}  // namespace detail

/// A floating-point format: E exponent bits, M mantissa bits, a NaN/Inf
/// encoding, a bias (default: the encoding's) and signedness. Only traits;
/// see minifloat<> for the value type and encode()/decode() to convert.
///   using e3m4 = pqt::format<3, 4>;  float m = e3m4::max();
template <int E, int M, encoding Enc = encoding::ieee, int Bias = default_bias, bool Signed = true>
struct format {
  static_assert(E >= 1 && E <= 8, "pqt::format: exponent bits E must be in 1..8 (every value must be an exact float)");
  static_assert(M >= 0 && M <= 23, "pqt::format: mantissa bits M must be in 0..23 (every value must be an exact float)");
  static_assert(E + M + (Signed ? 1 : 0) <= 32, "pqt::format: at most 32 bits (sign + E + M)");
  static_assert(Enc != encoding::scale || (M == 0 && !Signed),
                "pqt::format: the scale encoding (e8m0-like) is unsigned with M = 0");
  static_assert(Enc != encoding::fnuz || Signed,
                "pqt::format: fnuz keeps NaN in the negative-zero code, so it must be signed");

  using format_type = format;
  static constexpr int exponent_bits = E;
  static constexpr int mantissa_bits = M;
  static constexpr encoding enc = Enc;
  static constexpr bool is_signed = Signed;
  static constexpr int bias = Bias == default_bias ? detail::default_bias_for(E, Enc) : Bias;
  static constexpr detail::format_facts facts{E, M, Enc, bias, Signed};
  /// The same facts by value: device code may not odr-use a host static member.
  PQT_HD static constexpr detail::format_facts get_facts() { return {E, M, Enc, bias, Signed}; }

  static_assert(Enc == encoding::scale || facts.max_mag_code() != 0,
                "pqt::format: the format has no positive finite value (ieee/fn need E >= 2 or M >= 1)");
  static_assert(facts.emax() <= 127, "pqt::format: the bias puts the largest value above float's range (2^127)");
  static_assert(facts.emin_value() >= -149,
                "pqt::format: the bias puts the smallest value below float's range (2^-149)");

  static constexpr int total_bits = facts.total_bits();
  using storage_type = typename detail::storage_for<total_bits>::type;

  static constexpr bool has_inf = facts.has_inf();
  static constexpr bool has_nan = facts.has_nan();
  static constexpr bool has_zero = facts.has_zero();
  static constexpr bool has_negative_zero = facts.has_negative_zero();
  static constexpr bool has_subnormals = facts.has_subnormals();
  static constexpr int emin = facts.emin();  ///< exponent of the smallest normal
  static constexpr int emax = facts.emax();  ///< exponent of max()

  static constexpr storage_type sign_mask = static_cast<storage_type>(facts.sign_mask());
  static constexpr storage_type max_code = static_cast<storage_type>(facts.max_mag_code());
  static constexpr storage_type lowest_code = static_cast<storage_type>(Signed ? (facts.max_mag_code() | facts.sign_mask()) : 0u);
  static constexpr storage_type nan_code = static_cast<storage_type>(facts.nan_code());
  static constexpr storage_type inf_code = static_cast<storage_type>(facts.inf_code());
  static constexpr storage_type min_normal_code = static_cast<storage_type>(Enc == encoding::scale ? 0u : (1u << M));
  static constexpr storage_type min_subnormal_code = static_cast<storage_type>(has_subnormals ? 1u : min_normal_code);

  /// Number of codes that are finite numbers (+0 and -0 both count).
  static constexpr std::uint64_t finite_codes =
      (std::uint64_t{facts.max_mag_code()} + 1) * (Signed ? 2 : 1) -
      ((Enc == encoding::fnuz) ? 1 : 0);
  /// Number of distinct finite values (-0 == +0 counted once).
  static constexpr std::uint64_t finite_values = finite_codes - (has_negative_zero ? 1 : 0);

  PQT_HD static constexpr float max() { return detail::decode_facts(get_facts(), get_facts().max_mag_code()); }
  PQT_HD static constexpr float lowest() {
    return Signed ? -max() : detail::decode_facts(facts, 0);
  }
  PQT_HD static constexpr float min_normal() { return detail::exp2f_exact(emin); }
  PQT_HD static constexpr float min_subnormal() { return detail::exp2f_exact(facts.emin_value()); }
  /// Distance from 1 to the next larger value, 2^-M.
  PQT_HD static constexpr float epsilon() { return detail::exp2f_exact(-M); }
};

/// Is Fmt something encode/decode accept (a format<> or a minifloat<>)?
template <class T, class = void>
struct is_format : std::false_type {};
template <class T>
struct is_format<T, std::void_t<typename T::format_type>> : std::true_type {};

/// Named formats as traits (the value types of the same names are in minifloat.hpp).
namespace fmt {
using e4m3 = format<4, 3, encoding::fn>;           ///< OCP FP8 E4M3 ("e4m3fn")
using e5m2 = format<5, 2, encoding::ieee>;         ///< OCP FP8 E5M2
using e4m3fnuz = format<4, 3, encoding::fnuz>;     ///< bias 8, NaN = 0x80
using e5m2fnuz = format<5, 2, encoding::fnuz>;     ///< bias 16, NaN = 0x80
using e3m2 = format<3, 2, encoding::finite>;       ///< OCP MX FP6 E3M2
using e2m3 = format<2, 3, encoding::finite>;       ///< OCP MX FP6 E2M3
using e2m1 = format<2, 1, encoding::finite>;       ///< OCP MX FP4 E2M1
using ue4m3 = format<4, 3, encoding::fn, 7, false>;  ///< NVFP4 block scale (unsigned)
using bf16 = format<8, 7, encoding::ieee>;         ///< bfloat16
using fp16 = format<5, 10, encoding::ieee>;        ///< IEEE binary16
using fp32 = format<8, 23, encoding::ieee>;        ///< IEEE binary32 (identity)
template <int M>
using e8m = format<8, M, encoding::ieee>;          ///< BF16-exponent family; e8m<7> == bf16
using e8m0 = format<8, 0, encoding::scale, 127, false>;  ///< OCP MX scale 2^-127..2^127, 0xFF NaN
}  // namespace fmt

}  // namespace pqt

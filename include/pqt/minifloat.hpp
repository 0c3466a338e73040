#pragma once
/// minifloat<E, M, ...>: a value type stored in the format's bits.
///   pqt::e4m3 a{1.3f};                 // RNE, nonsaturating (IEEE-like default)
///   float f = a;                        // exact
///   pqt::bf16 w = pqt::bf16{0.1f} * pqt::bf16{3.0f};  // computed wide, rounded once
///   auto c = pqt::e2m1::from_bits(0x7);  // 6.0

#include <cstdint>
#include <limits>
#include <ostream>

#include "config.hpp"
#include "convert.hpp"
#include "format.hpp"

namespace pqt {

/// A number of format<E, M, Enc, Bias, Signed>. Trivially copyable, the size
/// of its storage type; construction from float/double rounds to nearest even
/// and does not saturate (like _Float16 and ml_dtypes); arithmetic is done in
/// a wider type and rounded once (see README "minifloat arithmetic").
template <int E, int M, encoding Enc = encoding::ieee, int Bias = default_bias, bool Signed = true>
class minifloat : public format<E, M, Enc, Bias, Signed> {
 public:
  using format_type = format<E, M, Enc, Bias, Signed>;
  using storage_type = typename format_type::storage_type;
  /// Arithmetic type: float is exact enough for a single rounding of + - * /
  /// when 2(M+1)+2 <= 24 (M <= 10); wider formats compute in double.
  using compute_type = std::conditional_t<(M <= 10), float, double>;

  minifloat() = default;  // uninitialised like float; minifloat{} is +0
  PQT_HD constexpr explicit minifloat(float x) : bits_(encode<format_type>(x)) {}
  PQT_HD constexpr explicit minifloat(double x) : bits_(encode<format_type>(x)) {}
  /// Integers go through double (exact up to 2^53), then round once.
  template <class I, std::enable_if_t<std::is_integral<I>::value, int> = 0>
  PQT_HD constexpr explicit minifloat(I i) : bits_(encode<format_type>(static_cast<double>(i))) {}

  PQT_HD static constexpr minifloat from_bits(storage_type b) {
    minifloat r{};
    r.bits_ = b;
    return r;
  }
  PQT_HD constexpr storage_type bits() const { return bits_; }
  PQT_HD constexpr operator float() const { return decode<format_type>(bits_); }
  PQT_HD constexpr explicit operator double() const { return static_cast<double>(decode<format_type>(bits_)); }

  PQT_HD constexpr bool is_nan() const {
    const float f = *this;
    return f != f;
  }

  PQT_HD constexpr minifloat operator-() const {
    if constexpr (!Signed) {
      return minifloat(-static_cast<float>(*this));  // unsigned: negative -> NaN/0 rules
    } else {
      // Flip the sign bit, except where that would make a NaN (fnuz 0) or
      // move a NaN off its canonical code.
      if (is_nan() || (Enc == encoding::fnuz && (bits_ & ~format_type::sign_mask) == 0)) return *this;
      return from_bits(static_cast<storage_type>(bits_ ^ format_type::sign_mask));
    }
  }
  PQT_HD constexpr minifloat operator+() const { return *this; }

#define PQT_MINIFLOAT_BINARY_(op)                                                         \
  PQT_HD friend constexpr minifloat operator op(minifloat a, minifloat b) {               \
    return minifloat(static_cast<compute_type>(static_cast<compute_type>(static_cast<float>(a)) \
                                                   op static_cast<compute_type>(static_cast<float>(b)))); \
  }                                                                                       \
  PQT_HD constexpr minifloat& operator op##=(minifloat b) { return *this = *this op b; }
  PQT_MINIFLOAT_BINARY_(+)
  PQT_MINIFLOAT_BINARY_(-)
  PQT_MINIFLOAT_BINARY_(*)
  PQT_MINIFLOAT_BINARY_(/)
#undef PQT_MINIFLOAT_BINARY_

  // IEEE comparisons through float: NaN is unordered, -0 == +0.
  PQT_HD friend constexpr bool operator==(minifloat a, minifloat b) { return float(a) == float(b); }
  PQT_HD friend constexpr bool operator!=(minifloat a, minifloat b) { return float(a) != float(b); }
  PQT_HD friend constexpr bool operator<(minifloat a, minifloat b) { return float(a) < float(b); }
  PQT_HD friend constexpr bool operator<=(minifloat a, minifloat b) { return float(a) <= float(b); }
  PQT_HD friend constexpr bool operator>(minifloat a, minifloat b) { return float(a) > float(b); }
  PQT_HD friend constexpr bool operator>=(minifloat a, minifloat b) { return float(a) >= float(b); }

  friend std::ostream& operator<<(std::ostream& os, minifloat v) { return os << static_cast<float>(v); }

 private:
  storage_type bits_;
};

/// Is T a minifloat<>?
template <class T>
struct is_minifloat : std::false_type {};
template <int E, int M, encoding Enc, int Bias, bool Signed>
struct is_minifloat<minifloat<E, M, Enc, Bias, Signed>> : std::true_type {};

// Named value types (the traits of the same names live in pqt::fmt).
using e4m3 = minifloat<4, 3, encoding::fn>;
using e5m2 = minifloat<5, 2, encoding::ieee>;
using e4m3fnuz = minifloat<4, 3, encoding::fnuz>;
using e5m2fnuz = minifloat<5, 2, encoding::fnuz>;
using e3m2 = minifloat<3, 2, encoding::finite>;
using e2m3 = minifloat<2, 3, encoding::finite>;
using e2m1 = minifloat<2, 1, encoding::finite>;
using ue4m3 = minifloat<4, 3, encoding::fn, 7, false>;
using bf16 = minifloat<8, 7, encoding::ieee>;
using fp16 = minifloat<5, 10, encoding::ieee>;
template <int M>
using e8m = minifloat<8, M, encoding::ieee>;
using e8m0 = minifloat<8, 0, encoding::scale, 127, false>;

static_assert(sizeof(e4m3) == 1 && sizeof(bf16) == 2 && sizeof(e8m<23>) == 4, "minifloat is its storage");
static_assert(std::is_trivially_copyable<bf16>::value, "minifloat must be trivially copyable");

}  // namespace pqt

namespace std {
template <int E, int M, pqt::encoding Enc, int Bias, bool Signed>
class numeric_limits<pqt::minifloat<E, M, Enc, Bias, Signed>> {
  using T = pqt::minifloat<E, M, Enc, Bias, Signed>;
  using F = typename T::format_type;
  using S = typename F::storage_type;

 public:
  static constexpr bool is_specialized = true;
  static constexpr bool is_signed = Signed;
  static constexpr bool is_integer = false;
  static constexpr bool is_exact = false;
  static constexpr bool has_infinity = F::has_inf;
  static constexpr bool has_quiet_NaN = F::has_nan;
  static constexpr bool has_signaling_NaN = false;
  static constexpr float_denorm_style has_denorm = F::has_subnormals ? denorm_present : denorm_absent;
  static constexpr bool has_denorm_loss = false;
  static constexpr float_round_style round_style = round_to_nearest;
  static constexpr bool is_iec559 = false;
  static constexpr bool is_bounded = true;
  static constexpr bool is_modulo = false;
  static constexpr int digits = M + 1;
  static constexpr int digits10 = (M * 30103) / 100000;              // floor(M log10 2)
  static constexpr int max_digits10 = 2 + ((M + 1) * 30103) / 100000;  // ceil(1 + p log10 2)
  static constexpr int radix = 2;
  static constexpr int min_exponent = F::emin + 1;
  static constexpr int min_exponent10 = (F::emin * 30103) / 100000;
  static constexpr int max_exponent = F::emax + 1;
  static constexpr int max_exponent10 = (F::emax * 30103) / 100000;
  static constexpr bool traps = false;
  static constexpr bool tinyness_before = false;

  static constexpr T min() noexcept { return T::from_bits(F::min_normal_code); }
  static constexpr T max() noexcept { return T::from_bits(F::max_code); }
  static constexpr T lowest() noexcept { return T::from_bits(F::lowest_code); }
  static constexpr T epsilon() noexcept { return T(F::epsilon()); }
  static constexpr T round_error() noexcept { return T(0.5f); }
  static constexpr T infinity() noexcept { return T::from_bits(F::inf_code); }
  static constexpr T quiet_NaN() noexcept { return T::from_bits(F::nan_code); }
  static constexpr T signaling_NaN() noexcept { return T::from_bits(F::nan_code); }
  static constexpr T denorm_min() noexcept { return T::from_bits(F::min_subnormal_code); }
};
}  // namespace std

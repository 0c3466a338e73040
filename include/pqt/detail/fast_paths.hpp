#pragma once
/// The float fast paths of encode / decode on the host: branch-free element
/// code, the same bits as the generic routine (convert.hpp), written so that a
/// loop over it vectorises. fast_params holds a format's constants (and the
/// call's rounding mode and overflow policy); encode_float_fast,
/// round_value_fast and decode_fast are what the tensor loops
/// (detail/tensor_runs.hpp) and encode<F> / decode<F> call.

#include <cstdint>

#include "../config.hpp"
#include "../format.hpp"
#include "../rounding.hpp"
#include "bits.hpp"

namespace pqt {
namespace detail {

/// c ? a : b for c in {0, 1}, as arithmetic: gcc's jump threading turns
/// ternaries back into branches, which stops the loop from vectorising.
PQT_HD PQT_FORCEINLINE constexpr std::uint32_t sel(std::uint32_t c, std::uint32_t a, std::uint32_t b) noexcept {
  return b ^ ((a ^ b) & (0u - c));
}

/// What an element loop is compiled for: a class of rounding modes. The mode
/// within the class and the overflow policy are run-time fields of
/// fast_params, so one loop serves the five directed modes and both policies
/// (a quarter of the instantiations of one loop per mode and policy; the
/// per-element cost is a few selects on loop-invariant words). Nearest-even,
/// the common case, keeps its own shorter loop; stochastic draws words.
enum class mode_class { nearest_even, directed, stochastic, gaussian };

/// The overflow policy of a fast-path instantiation: fixed at compile time,
/// where the clamps fold into constants (the nearest-even loops, the hot ones:
/// about 20 % faster than reading the policy), or read from fast_params.
enum class policy { saturate, nonsaturating, run_time };

PQT_HD constexpr policy policy_of(overflow o) {
  return o == overflow::saturate ? policy::saturate : policy::nonsaturating;
}

PQT_HD constexpr mode_class class_of(rounding r) {
  return r == rounding::nearest_even ? mode_class::nearest_even
         : r == rounding::stochastic ? mode_class::stochastic
         : r == rounding::gaussian   ? mode_class::gaussian
                                     : mode_class::directed;
}

/// Constants of the float fast paths for one format and one (mode, overflow)
/// pair, computed once (at compile time for encode<Fmt>, once per call for
/// run-time formats).
struct fast_params {
  format_facts f;
  int s;                         // 23 - M: float mantissa bits below the format's last bit
  std::uint32_t half, low;       // 1 << (s-1), (1 << s) - 1
  std::uint32_t min_normal_bits; // lanes below take the scale-up region (0: none do)
  std::uint32_t rebias;          // (127 - bias) << M
  float scale_up1, scale_up2;    // 2^(M - emin) in two factors
  std::uint32_t sub_limit;       // decode: codes below are integer * 2^(emin - M)
  float sub_scale;               // 2^(emin - M)
  // The format's facts as plain fields: a run-time format reads these in the
  // element loops instead of recomputing them per element.
  std::uint32_t max_mag, sign_mask, nan_code, inf_code, mag_all_ones, mant_all_ones, exp_all_ones;
  int sign_shift;
  bool has_inf, has_nan, has_negative_zero, is_signed, finite, ieee, fn, fnuz;
  // The same as 0/1 words and codes for branch-free selects (loop-invariant
  // conditions written as ternaries stop gcc from vectorising the loop).
  std::uint32_t special;    // overflow result when not clamped: Inf, else NaN, else max
  std::uint32_t nan_out;    // result for a NaN input: NaN, else +max
  std::uint32_t has_nan_u, has_negzero_u, unsigned_u, finite_u, ieee_u, fn_u, fnuz_u, signed_u;
  // round_value_fast: float bits of the largest value and of `special` decoded
  // (Inf, the canonical NaN 0x7FC00000, or the largest value).
  std::uint32_t max_value_bits, special_value_bits;
  float sub_magic;  // 2^(emin + 23 - M): nearest-even rounding onto the subnormal grid by (|x| + C) - C
  // The mode and policy as 0/1 words (mode_class::directed reads the first
  // four; toward_zero is all four 0): up on ties and above (nearest_away), up
  // when inexact and positive (upward) / negative (downward) / even (odd);
  // an overflowing positive / negative magnitude clamps to max; saturate.
  rounding mode;
  std::uint32_t away_u, upward_u, downward_u, odd_u, clamp_pos_u, clamp_neg_u, saturate_u;
};

/// Whether the fast paths apply to a format: 1 <= M <= 22, -127 <= emin <=
/// 104 + M (so 2^(emin + 23 - M) is a float), not the scale encoding.
PQT_HD constexpr bool fast_path_applies(const format_facts& f) {
  return f.enc != encoding::scale && f.m >= 1 && f.m <= 22 && f.emin() >= -127 && f.emin() + 23 - f.m <= 127;
}

PQT_HD constexpr fast_params make_fast_params(const format_facts& f, rounding r, overflow o) {
  const int s = 23 - f.m;
  // E8 with bias 127 (bf16, E8Mm) shares float's exponent range: the shift
  // alone also maps float subnormals, so no lane needs the scale-up region.
  const bool float_range = f.e == 8 && f.bias == 127;
  // For emin = -127 (E8 fnuz) the target's lowest normal binade is
  // float-subnormal; the scale-up region is exact there too, since that
  // binade has the subnormal spacing.
  const int lowest_shifted = f.emin() < -126 ? -126 : f.emin();
  const int up_total = f.m - f.emin();  // can exceed float's range (bf16: 133): split
  return {f,
          s,
          s > 0 ? 1u << (s - 1) : 0u,  // M = 23 (fp32-like): no bits below the last one (no fast path either)
          (1u << s) - 1,
          float_range ? 0u : static_cast<std::uint32_t>(lowest_shifted + 127) << 23,
          static_cast<std::uint32_t>(127 - f.bias) << f.m,
          exp2f_exact(up_total > 127 ? 127 : up_total),
          exp2f_exact(up_total > 127 ? up_total - 127 : 0),
          float_range ? 0u : (f.emin() < -126 ? 2u : 1u) << f.m,
          exp2f_exact(f.emin() - f.m),
          f.max_mag_code(),
          f.sign_mask(),
          f.nan_code(),
          f.inf_code(),
          f.mag_all_ones(),
          f.mant_all_ones(),
          f.exp_all_ones(),
          f.e + f.m,
          f.has_inf(),
          f.has_nan(),
          f.has_negative_zero(),
          f.is_signed,
          f.enc == encoding::finite,
          f.enc == encoding::ieee,
          f.enc == encoding::fn,
          f.enc == encoding::fnuz,
          f.has_inf() ? f.inf_code() : f.has_nan() ? f.nan_code() : f.max_mag_code(),
          f.has_nan() ? f.nan_code() : f.max_mag_code(),
          f.has_nan() ? 1u : 0u,
          f.has_negative_zero() ? 1u : 0u,
          f.is_signed ? 0u : 1u,
          f.enc == encoding::finite ? 1u : 0u,
          f.enc == encoding::ieee ? 1u : 0u,
          f.enc == encoding::fn ? 1u : 0u,
          f.enc == encoding::fnuz ? 1u : 0u,
          f.is_signed ? 1u : 0u,
          bit_cast<std::uint32_t>(decode_facts(f, f.max_mag_code())),
          f.has_inf() ? 0x7F800000u : f.has_nan() ? 0x7FC00000u : bit_cast<std::uint32_t>(decode_facts(f, f.max_mag_code())),
          exp2f_exact(f.emin() + 23 - f.m),
          r,
          r == rounding::nearest_away ? 1u : 0u,
          r == rounding::upward ? 1u : 0u,
          r == rounding::downward ? 1u : 0u,
          r == rounding::odd ? 1u : 0u,
          // overflow_code's rule: directed modes that never round a positive
          // (negative) magnitude away from zero clamp it to max.
          o == overflow::saturate || r == rounding::toward_zero || r == rounding::odd || r == rounding::downward ? 1u : 0u,
          o == overflow::saturate || r == rounding::toward_zero || r == rounding::odd || r == rounding::upward ? 1u : 0u,
          o == overflow::saturate ? 1u : 0u};
}

/// The rounding step of the float fast paths: |x|'s bits a (finite, or Inf /
/// NaN whose result the caller replaces) split at the format's last bit; lo is
/// the lower neighbour's code magnitude and up whether the mode moves to the
/// next one. Two regions are computed and one is selected:
///   normal target: the float's bits, shifted right by s = 23 - M, are the
///     code plus a rebias; the discarded low s bits are the fraction.
///   below the target's smallest normal: y = |x| * 2^(M - emin) is exact in
///     float (a power-of-two scale-up), its integer part is the code and
///     y - floor(y) the fraction.
/// The second needs IEEE subnormals, so -ffast-math (FTZ/DAZ) builds and
/// device code use the generic routine. k (1..32) is the stochastic bit count.
struct fast_rounding {
  std::uint32_t normal;  ///< 1: the normal region (a >= min_normal_bits)
  std::uint32_t lo, up;
};

template <mode_class C>
PQT_HD PQT_FORCEINLINE constexpr fast_rounding fast_round(const fast_params& p, std::uint32_t a, std::uint32_t neg,
                                                          std::uint32_t rbits, int k) noexcept {
  // Flags are 0/1 integers combined with & and | (not && and ||): gcc only
  // if-converts, and so vectorises, straight-line selects.
  const std::uint32_t normal = a >= p.min_normal_bits;

  // Normal region (meaningful when `normal`; computed for all lanes).
  const std::uint32_t lo_n = (a >> p.s) - p.rebias;
  const std::uint32_t disc = a & p.low;
  // Below the smallest normal (meaningful when !normal).
  const float y = bit_cast<float>(a & (normal - 1u)) * p.scale_up1 * p.scale_up2;
  const std::uint32_t lo_s = static_cast<std::uint32_t>(static_cast<std::int32_t>(y));  // y < 2^23
  const float fr = y - static_cast<float>(static_cast<std::int32_t>(lo_s));

  const std::uint32_t lo = sel(normal, lo_n, lo_s);
  const std::uint32_t inexact = sel(normal, disc != 0, fr != 0.0f);
  std::uint32_t up = 0;
  if constexpr (C == mode_class::nearest_even) {
    const std::uint32_t gt = sel(normal, disc > p.half, fr > 0.5f);
    const std::uint32_t eq = sel(normal, disc == p.half, fr == 0.5f);
    up = (gt | (eq & lo)) & 1u;
  } else if constexpr (C == mode_class::directed) {
    // Each mode's rule masked by its 0/1 word in p (at most one is 1).
    const std::uint32_t ge_half = sel(normal, disc >= p.half, fr >= 0.5f);
    const std::uint32_t dir = (p.upward_u & (neg ^ 1u)) | (p.downward_u & neg) | (p.odd_u & ~lo);
    up = ((p.away_u & ge_half) | (inexact & dir)) & 1u;
    (void)rbits, (void)k;
  } else if constexpr (C == mode_class::stochastic) {
    // t_k: the top k bits of the fraction, exact in both regions. Up iff
    // t_k + r_k >= 2^k, i.e. t_k > (2^k - 1) - r_k = ~r & mask (no 64-bit add).
    const std::uint32_t tk_n = sel(k >= p.s, disc << ((k - p.s) & 31), disc >> ((p.s - k) & 31));
    // 2^k and the k-bit mask without branches (k in 1..32): a ternary here,
    // even a loop-invariant one, keeps gcc from vectorising the loop.
    const float two_k = bit_cast<float>(static_cast<std::uint32_t>(k + 127) << 23);
    const std::uint32_t tk_s = static_cast<std::uint32_t>(fr * two_k);
    const std::uint32_t mask = 0xFFFFFFFFu >> ((32 - k) & 31);
    up = sel(normal, tk_n, tk_s) > (~rbits & mask);
  } else {
    (void)neg, (void)rbits, (void)k, (void)inexact;
  }
  return {normal, lo, up};
}

/// Nearest-even onto the format's grid, the two regions of the fast paths:
/// normal target, |x|'s bits a rounded at the format's last bit (ties to even;
/// a carry ripples into the exponent); below the smallest normal, (|x| + C) - C
/// with C = 2^(emin + 23 - M), whose ulp is the format's subnormal spacing:
/// float addition's own nearest-even rounding onto that grid (|x| + C stays in
/// C's binade because M < 23). Shared by encode_float_fast (codes) and
/// round_value_fast (values).
PQT_HD PQT_FORCEINLINE constexpr std::uint32_t rne_normal_bits(const fast_params& p, std::uint32_t a) noexcept {
  return (a + (p.half - 1u) + ((a >> p.s) & 1u)) & ~p.low;
}
PQT_HD PQT_FORCEINLINE constexpr float rne_below_normal(const fast_params& p, float ax) noexcept {
  return (ax + p.sub_magic) - p.sub_magic;
}

/// What an overflowing positive / negative magnitude and an infinite input
/// become in the fast paths (overflow_code's rule as selects): `max` when the
/// mode or policy clamps or the format is finite, else `special` (Inf, NaN or
/// max). Codes for encode_float_fast, float bits for round_value_fast.
struct fast_overflow {
  std::uint32_t pos, neg, inf;
};
template <mode_class C, policy P>
PQT_HD PQT_FORCEINLINE constexpr fast_overflow fast_overflow_results(const fast_params& p, std::uint32_t max,
                                                                      std::uint32_t special) noexcept {
  if constexpr (P == policy::saturate) {
    (void)p, (void)special;
    return {max, max, max};
  } else if constexpr (P == policy::nonsaturating && C != mode_class::directed) {
    const std::uint32_t r = sel(p.finite_u, max, special);  // only the directed modes clamp
    return {r, r, r};
  } else {
    return {sel(p.clamp_pos_u | p.finite_u, max, special), sel(p.clamp_neg_u | p.finite_u, max, special),
            sel(p.saturate_u | p.finite_u, max, special)};
  }
}

/// 1 where the policy saturates: P's, or p's own for policy::run_time.
template <policy P>
PQT_HD PQT_FORCEINLINE constexpr std::uint32_t saturates(const fast_params& p) noexcept {
  return P == policy::run_time ? p.saturate_u : P == policy::saturate ? 1u : 0u;
}

/// Fast path for float input, host only: the same results as encode_float
/// (tested bit for bit on every format of the test matrix and on all 2^32
/// floats for E4M3/E5M2), written without branches or early exits so that a
/// loop over it vectorises (fast_round, then overflow, specials and sign).
template <mode_class C, policy P = policy::run_time>
PQT_HD PQT_FORCEINLINE constexpr std::uint32_t encode_float_fast(const fast_params& p, float x, std::uint32_t rbits,
                                                                 int k) noexcept {
  static_assert(C != mode_class::gaussian, "gaussian rounding has no float fast path");
  const std::uint32_t b = bit_cast<std::uint32_t>(x);
  const std::uint32_t a = b & 0x7FFFFFFFu;
  const std::uint32_t neg = b >> 31;
  std::uint32_t mag = 0;
  if constexpr (C == mode_class::nearest_even) {
    // The nearest-even value (round_value_fast's), then its code: normal
    // region, the rounded bits shifted and rebiased; below the smallest
    // normal, the value times 2^(M - emin), an exact integer (2^M when it
    // rounds up to the smallest normal: that code). About half fast_round's
    // work; normal lanes feed 0 to the float side.
    (void)rbits, (void)k;
    const std::uint32_t normal = a >= p.min_normal_bits;
    const std::uint32_t v_n = rne_normal_bits(p, a);
    const float v_s = rne_below_normal(p, bit_cast<float>(a & (normal - 1u)));
    const std::uint32_t mag_s = static_cast<std::uint32_t>(static_cast<std::int32_t>(v_s * p.scale_up1 * p.scale_up2));
    mag = sel(normal, (v_n >> p.s) - p.rebias, mag_s);
  } else {
    const fast_rounding fr = fast_round<C>(p, a, neg, rbits, k);
    mag = fr.lo + fr.up;
  }

  // Overflow, Inf, NaN, zero and sign, each a select on per-format constants
  // (overflow_code's rule, on p's fields).
  const fast_overflow ovf = fast_overflow_results<C, P>(p, p.max_mag, p.special);
  const std::uint32_t nan_out = p.nan_out;
  mag = sel(mag > p.max_mag, sel(neg, ovf.neg, ovf.pos), mag);
  mag = sel(a == 0x7F800000u, ovf.inf, mag);
  // The sign goes on everything but NaN and, without -0, zero.
  const std::uint32_t keep_sign = neg & ((mag != p.nan_code) | (p.has_nan_u ^ 1u)) & (p.has_negzero_u | (mag != 0));
  std::uint32_t code = mag | (p.sign_mask & (0u - keep_sign));
  const std::uint32_t neg_out = p.nan_code & (0u - (p.has_nan_u & (saturates<P>(p) ^ 1u)));  // saturating: 0
  code = sel(neg & (a != 0) & p.unsigned_u, neg_out, code);  // unsigned formats
  return sel(a > 0x7F800000u, nan_out, code);
}

/// decode_fast(encode_float_fast<C, P>(p, x, rbits, k)) without the code in
/// between: the rounded value is formed on float bits (normal region: x's
/// bits truncated at the format's last bit plus up << s, a carry rippling into
/// the exponent; below the smallest normal: (lo + up) * 2^(emin - M), exact),
/// and overflow, Inf, NaN, sign and the unsigned rule are selects on float
/// constants. What fake-quant loops use: about half the work of the two calls.
/// Finite: the caller knows x is finite (an MX block with a finite scale),
/// and the Inf / NaN selects are left out.
template <mode_class C, policy P = policy::run_time, bool Finite = false>
PQT_HD PQT_FORCEINLINE constexpr float round_value_fast(const fast_params& p, float x, std::uint32_t rbits,
                                                        int k) noexcept {
  static_assert(C != mode_class::gaussian, "gaussian rounding has no float fast path");
  constexpr std::uint32_t qnan = 0x7FC00000u, inf = 0x7F800000u;
  const std::uint32_t b = bit_cast<std::uint32_t>(x);
  const std::uint32_t a = b & 0x7FFFFFFFu;
  const std::uint32_t neg = b >> 31;
  std::uint32_t v = 0;
  if constexpr (C == mode_class::nearest_even) {
    v = sel(a >= p.min_normal_bits, rne_normal_bits(p, a), bit_cast<std::uint32_t>(rne_below_normal(p, bit_cast<float>(a))));
  } else {
    const fast_rounding fr = fast_round<C>(p, a, neg, rbits, k);
    const std::uint32_t v_n = (a & ~p.low) + (fr.up << p.s);
    const std::uint32_t v_s =
        bit_cast<std::uint32_t>(static_cast<float>(static_cast<std::int32_t>(fr.lo + fr.up)) * p.sub_scale);
    v = sel(fr.normal, v_n, v_s);
  }

  const fast_overflow ovf = fast_overflow_results<C, P>(p, p.max_value_bits, p.special_value_bits);
  v = sel(v > p.max_value_bits, sel(neg, ovf.neg, ovf.pos), v);
  if constexpr (!Finite) v = sel(a == inf, ovf.inf, v);
  // (Saturating with finite input, v is never NaN here.)
  const std::uint32_t not_nan = (P == policy::saturate && Finite) ? 1u : static_cast<std::uint32_t>(v != qnan);
  const std::uint32_t keep_sign = neg & not_nan & (p.has_negzero_u | (v != 0));
  v |= keep_sign << 31;
  const std::uint32_t neg_out = qnan & (0u - (p.has_nan_u & (saturates<P>(p) ^ 1u)));  // saturating: 0
  v = sel(neg & (a != 0) & p.unsigned_u, neg_out, v);
  if constexpr (Finite)
    return bit_cast<float>(v);
  else
    return bit_cast<float>(sel(a > inf, sel(p.has_nan_u, qnan, p.max_value_bits), v));
}

/// p's grid scaled by 2^e, for round_value_fast: rounding x onto it is
/// rounding x * 2^-e onto p's grid and multiplying by 2^e, exactly (an MX
/// block with scale 2^e, without the two multiplications). Only the fields
/// round_value_fast reads for finite inputs are moved (an MX block holding
/// Inf or NaN has the NaN scale and never gets here), most of them by adding
/// e to a float exponent field. Valid for e in [scaled_grid_min_exp(p),
/// scaled_grid_max_exp(p, mode)], where the scaled grid stays in float's normal
/// range (its smallest normal and largest value at least 2^-126, the point above its largest
/// value at most 2^127) and, for modes other than nearest-even, where the
/// scale-up of the region below the smallest normal, 2^(M - emin - e), is not
/// a scale-down (which could underflow and lose a tiny x's inexactness);
/// outside, the caller scales the elements instead.
PQT_HD PQT_FORCEINLINE constexpr int scaled_grid_min_exp(const fast_params& p) noexcept {
  // Both the smallest normal and the largest value (below it in formats
  // with no normals) must stay normal floats.
  const int a = -126 - p.f.emin(), b = -126 - (static_cast<int>(p.max_value_bits >> 23) - 127);
  return p.min_normal_bits == 0 ? 1 : (a > b ? a : b);
}
PQT_HD PQT_FORCEINLINE constexpr int scaled_grid_max_exp(const fast_params& p, rounding r) noexcept {
  const int a = 126 - p.f.emax(), b = 104 + p.f.m - p.f.emin(), up = p.f.m - p.f.emin();
  const int m = a < b ? a : b;
  return p.min_normal_bits == 0 ? 0 : (r == rounding::nearest_even || m < up ? m : up);
}
template <mode_class C>
PQT_HD PQT_FORCEINLINE constexpr fast_params scaled_fast_params(const fast_params& p, int e) noexcept {
  const std::uint32_t shift = static_cast<std::uint32_t>(e) << 23;
  fast_params out = p;
  out.min_normal_bits = p.min_normal_bits + shift;
  out.max_value_bits = p.max_value_bits + shift;
  out.special_value_bits = p.special_value_bits == p.max_value_bits ? out.max_value_bits : p.special_value_bits;
  out.sub_magic = bit_cast<float>(bit_cast<std::uint32_t>(p.sub_magic) + shift);
  if constexpr (C != mode_class::nearest_even) {  // fast_round's scale-up region
    const int up_total = p.f.m - p.f.emin() - e;  // 2^(M - emin - e), in two factors
    out.sub_scale = exp2f_exact(p.f.emin() + e - p.f.m);
    out.scale_up1 = exp2f_exact(up_total > 127 ? 127 : up_total);
    out.scale_up2 = exp2f_exact(up_total > 127 ? up_total - 127 : 0);
  }
  return out;
}

/// Fast decode, host only, the same bits as decode_facts (tested on every code
/// of the test matrix), branch-free so a fake-quant loop vectorises: normal
/// codes become float bits by a shift and a rebias; codes below 2^-126
/// (subnormals; with emin = -127 also the lowest normal binade, which has the
/// subnormal spacing) are the integer code times 2^(emin - M), exact in float
/// (needs IEEE subnormals, like encode_float_fast). E8 formats with bias 127
/// share float's exponent field, so a shift alone maps every finite code.
PQT_HD PQT_FORCEINLINE constexpr float decode_fast(const fast_params& p, std::uint32_t code) noexcept {
  const std::uint32_t mag = code & p.mag_all_ones;
  const std::uint32_t neg = (code >> p.sign_shift) & p.signed_u;
  const std::uint32_t ef = mag >> (23 - p.s);
  std::uint32_t bits = (mag << p.s) + (p.rebias << p.s);
  const std::uint32_t sub = bit_cast<std::uint32_t>(static_cast<float>(mag) * p.sub_scale);
  bits = sel(mag < p.sub_limit, sub, bits);
  // ieee: the top exponent is Inf or NaN.
  const std::uint32_t top = p.ieee_u & (ef == p.exp_all_ones);
  bits = sel(top, sel((mag & p.mant_all_ones) != 0, 0x7FC00000u, 0x7F800000u), bits);
  bits |= neg << 31;
  bits = sel(p.fn_u & (mag == p.mag_all_ones), 0x7FC00000u, bits);     // fn: S.1..1.1..1
  bits = sel(p.fnuz_u & (code == p.nan_code), 0x7FC00000u, bits);      // fnuz: the "-0" code
  return bit_cast<float>(bits);
}

/// Formats that are float with the low mantissa bits cut off (bf16 and the
/// other E8 bias-127 IEEE signed formats): nearest-even encode is an add and
/// a shift of the float's bits, decode a shift (NaN made canonical, its sign
/// kept, as decode_fast).
PQT_HD constexpr bool is_truncated_float(const format_facts& f) {
  return f.e == 8 && f.bias == 127 && f.enc == encoding::ieee && f.is_signed && f.m >= 1 && f.m <= 22;
}
template <int M>
PQT_HD PQT_FORCEINLINE constexpr std::uint32_t encode_truncated_float_rne(float x) noexcept {
  constexpr int s = 23 - M;
  const std::uint32_t b = bit_cast<std::uint32_t>(x);
  const std::uint32_t r = (b + ((1u << (s - 1)) - 1u) + ((b >> s) & 1u)) >> s;  // carries into the exponent
  return sel((b & 0x7FFFFFFFu) > 0x7F800000u, (1u << (8 + M)) - 1u, r);  // NaN: the canonical all-ones code
}
template <int M>
PQT_HD PQT_FORCEINLINE constexpr float decode_truncated_float(std::uint32_t code) noexcept {
  constexpr int s = 23 - M;
  const std::uint32_t b = code << s;
  return bit_cast<float>(sel((b & 0x7FFFFFFFu) > 0x7F800000u, (b & 0x80000000u) | 0x7FC00000u, b));
}

}  // namespace detail
}  // namespace pqt

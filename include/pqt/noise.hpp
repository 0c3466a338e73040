#pragma once
/// Noise samplers for pseudo-quantization training: pure functions of the
/// 32-bit random words they are given (random.hpp supplies those words).
///   int r = pqt::gaussws_r(word);                // R in {-3..3}, R ~ round(N(0,1) / 2)
///   float g = pqt::gaussian_noise(w0, w1);       // N(0,1) by Box-Muller, same bits on host and device
///   float u = pqt::uniform_noise(word);          // U(-1/2, 1/2), exactly symmetric
///   std::uint16_t b = pqt::gaussws_element<pqt::fmt::bf16>(w, delta, word);  // bf16(w + R * delta)
///
/// Every sampler gives the same bits on the host and in CUDA device code: R
/// and the uniform are integer work plus exact float steps, and the Gaussian
/// uses its own log and sin/cos built from correctly rounded operations only
/// (+, -, *, / and explicit fused multiply-adds), never libm or CUDA's
/// logf/cosf, which differ from each other by an ulp here and there.
///
/// Bit-identity assumes IEEE float evaluation (FLT_EVAL_METHOD == 0, i.e. SSE
/// on x86, not x87) and a host build without -ffast-math (which may
/// reassociate sums, drop NaN checks and turn divisions into reciprocals).
/// nvcc's -use_fast_math does not change any result: the device path names
/// its roundings (__fmaf_rn, __fdiv_rn, __fsqrt_rn), the Gaussian never meets
/// a subnormal, and gaussws_element moves floats to and from double through
/// their bits, which -ftz=true cannot flush.

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "config.hpp"
#include "convert.hpp"
#include "detail/bits.hpp"
#include "detail/float_ops.hpp"
#include "format.hpp"
#include "random.hpp"
#include "rounding.hpp"

namespace pqt {

// =============================================================================
// GaussWS R: an integer threshold table on one 32-bit word
// =============================================================================

/// Threshold T_j (j = 1..6) of the GaussWS R table: R = -3 + #{j : word >= T_j}.
/// T_j = round(2^32 * Phi(2j - 7)) for j = 1, 2, 3 and T_(7-j) = 2^32 - T_j, so
/// the table is exactly symmetric: P(R = k) == P(R = -k) as counts of words.
///   std::uint64_t zeros = pqt::gaussws_r_threshold(4) - pqt::gaussws_r_threshold(3);
///
///   k    target P(R=k) = Phi(2k+1) - Phi(2k-1)   words (of 2^32)   realised = words / 2^32
///   0    0.682689492137086                        2932129042        0.682689492125064
///   +-1  0.157305355899827                        675621359         0.157305355882272
///   +-2  0.00134961138005822                      5796537           0.00134961144067347
///   +-3  2.86651571879194e-7  (1 - Phi(5))        1231              2.86614522337914e-7
///
/// Every threshold is within 1/2 of 2^32 * Phi(2j - 7), so each realised
/// cumulative probability is within 2^-33 of its target and each P(R=k)
/// within 2^-32 (computed with mpmath at 50 digits; tests/test_noise.cpp
/// recomputes the targets with erfc and checks these numbers).
PQT_HD constexpr std::uint32_t gaussws_r_threshold(int j) noexcept {
  switch (j) {
    case 1: return 0x000004CFu;  //       1231 = round(2^32 Phi(-5)),  2^32 Phi(-5) = 1231.159...
    case 2: return 0x00587788u;  //    5797768 = round(2^32 Phi(-3)),  2^32 Phi(-3) = 5797767.899...
    case 3: return 0x289DA177u;  //  681419127 = round(2^32 Phi(-1)),  2^32 Phi(-1) = 681419126.974...
    case 4: return 0xD7625E89u;  // 2^32 - T3
    case 5: return 0xFFA78878u;  // 2^32 - T2
    case 6: return 0xFFFFFB31u;  // 2^32 - T1
    default: return 0u;
  }
}

/// GaussWS noise integer R in {-3, ..., 3} from one random word: R = k iff a
/// standard normal falls in [2k-1, 2k+1) (R ~ round(N(0,1)/2)), the tails
/// beyond +-5 merged into +-3. See gaussws_r_threshold for the table and its
/// exact probabilities. Monotone non-decreasing in the word; six unsigned
/// compares and no branches, so a loop over it vectorises.
///   int r = pqt::gaussws_r(pqt::random_word(seed, offset, i));
PQT_HD PQT_FORCEINLINE constexpr int gaussws_r(std::uint32_t word) noexcept {
  // Sum of 0/1 flags rather than a search: branch-free, and identical on
  // every target because it is integer-only.
  return -3 + static_cast<int>(word >= gaussws_r_threshold(1)) + static_cast<int>(word >= gaussws_r_threshold(2)) +
         static_cast<int>(word >= gaussws_r_threshold(3)) + static_cast<int>(word >= gaussws_r_threshold(4)) +
         static_cast<int>(word >= gaussws_r_threshold(5)) + static_cast<int>(word >= gaussws_r_threshold(6));
}

// =============================================================================
// Uniform noise
// =============================================================================

/// DiffQ's U(-1/2, 1/2) noise from one random word: (2m + 1 - 2^24) * 2^-25
/// with m = word >> 8, i.e. the centres of 2^24 equal cells of (-1/2, 1/2).
/// Every step is exact (an odd integer of at most 24 bits times a power of
/// two), so: the range is [-1/2 + 2^-25, 1/2 - 2^-25] (never +-1/2, never 0);
/// uniform_noise(~word) == -uniform_noise(word) bit for bit; the mean over all
/// words is exactly 0 and the variance (1 - 2^-48) / 12.
///   float u = pqt::uniform_noise(pqt::random_word(seed, offset, i));
PQT_HD PQT_FORCEINLINE constexpr float uniform_noise(std::uint32_t word) noexcept {
  // ((word >> 8) + 0.5f) * 2^-24 - 0.5f would not do: m + 0.5 needs 25 bits
  // and rounds for m = 2^24 - 1. The odd integer below has at most 24 bits.
  const std::int32_t odd = static_cast<std::int32_t>(((word >> 8) << 1) | 1u) - (std::int32_t{1} << 24);
  return static_cast<float>(odd) * 0x1p-25f;
}

// =============================================================================
// Gaussian noise: Box-Muller with our own log and sin/cos
// =============================================================================
namespace detail {




/// Natural log of a positive, normal, finite float (no special cases: 0,
/// negatives, subnormals, Inf and NaN give unspecified values). Max error
/// 0.87 ulp, measured against double log on all 2^24 inputs the Gaussian
/// sampler uses and on every 211th normal float (tests/test_noise.cpp).
///   x = 2^k f, f in [sqrt(1/2), sqrt(2)), z = f - 1 (exact),
///   log(1 + z) = 2 atanh(s), s = z / (2 + z), |s| <= 0.1716,
///             = z - (z^2/2 - s (z^2/2 + R(s^2))),  R(w) = w (2/3 + 2w/5 + ...),
/// so the division's rounding only touches the small correction term.
/// R's three coefficients are a Chebyshev fit of (2 atanh(s)/s - 2)/s^2 on
/// s^2 in [0, 0.0295] (max error 1.9e-7 in R, i.e. < 3e-9 relative in log).
PQT_HD inline float log_(float x) noexcept {
  // Subtracting the bits of sqrt(1/2) (0x3F3504F3 = 0.70710677f) borrows
  // from the exponent exactly when the mantissa is below sqrt(2)'s, which
  // splits x at sqrt(2) * 2^k rather than at 2^k: f stays near 1.
  constexpr std::uint32_t sqrt_half_bits = 0x3F3504F3u;
  const std::uint32_t b = bit_cast<std::uint32_t>(x);
  const int k = static_cast<int>(b >> 23) - 127 + static_cast<int>((b & 0x7FFFFFu) >= (sqrt_half_bits & 0x7FFFFFu));
  const float f = bit_cast<float>(((b - sqrt_half_bits) & 0x7FFFFFu) + sqrt_half_bits);
  const float z = f - 1.0f;  // exact (Sterbenz: f in [1/2, 2])

  constexpr float r1 = 0x1.55555Cp-1f;   // 0.66666687
  constexpr float r2 = 0x1.997C10p-2f;   // 0.39988732
  constexpr float r3 = 0x1.2EEBDAp-2f;   // 0.29582158
  const float s = div_rn(z, 2.0f + z);
  const float w = s * s;
  const float rw = fma_rn(fma_rn(r3, w, r2), w, r1);  // R(w) / w
  const float hfsq = (0.5f * z) * z;              // z^2 / 2
  const float corr = fma_rn(-s, fma_rn(w, rw, hfsq), hfsq);  // z^2/2 - s (z^2/2 + R)
  const float log1p_z = z - corr;

  // k ln 2 with ln 2 split in two: ln2_hi has 15 significant bits, so
  // k * ln2_hi is exact for every k here (|k| <= 128) and the outer fma
  // rounds the whole sum once.
  constexpr float ln2_hi = 0x1.62E4p-1f;     // 0.693145751953125
  constexpr float ln2_lo = 0x1.7F7D1Cp-20f;  // ln 2 - ln2_hi = 1.42860677e-6
  const float kf = static_cast<float>(k);
  return fma_rn(kf, ln2_hi, fma_rn(kf, ln2_lo, log1p_z));
}

/// sin and cos of (pi/4) u for u in [0, 1].
/// sin = (pi/4) u + u^3 S(u^2), cos = 1 + u^2 C(u^2), with S and C Chebyshev
/// fits on u^2 in [0, 1] (fit errors 1.4e-11 and 1.9e-10, far below an ulp).
/// The leading term (pi/4) u uses pi/4 split into two floats, so that its
/// product is exact inside the fma.
PQT_HD PQT_FORCEINLINE void sincos_pi4_(float u, float& s, float& c) noexcept {
  constexpr float pi4_hi = 0x1.921FB6p-1f;   // 0.78539819
  constexpr float pi4_lo = -0x1.777A5Cp-26f; // pi/4 - pi4_hi = -2.18556941e-8
  constexpr float s3 = -0x1.4ABBCEp-4f;      // -0.080745511
  constexpr float s5 = 0x1.466BC2p-9f;       //  0.0024903941
  constexpr float s7 = -0x1.32CE1Ep-15f;     // -3.6574023e-5
  constexpr float s9 = 0x1.4CB762p-22f;      //  3.0986624e-7
  constexpr float c2 = -0x1.3BD3CCp-2f;      // -0.30842513
  constexpr float c4 = 0x1.03C1EAp-6f;       //  0.015854338
  constexpr float c6 = -0x1.55CB98p-12f;     // -0.00032596139
  constexpr float c8 = 0x1.DB6492p-19f;      //  3.5419528e-6
  const float u2 = u * u;
  const float sp = fma_rn(fma_rn(fma_rn(s9, u2, s7), u2, s5), u2, s3);
  s = fma_rn(u, pi4_hi, fma_rn(u2 * u, sp, u * pi4_lo));
  const float cp = fma_rn(fma_rn(fma_rn(c8, u2, c6), u2, c4), u2, c2);
  c = fma_rn(u2, cp, 1.0f);
}

/// sin and cos of 2 pi j / 2^24 for j in [0, 2^24). The angle is a whole
/// number of 2^-24 turns, so range reduction is exact integer work: the top
/// two bits give the quadrant, the next one the octant, and the remainder is
/// an exact u in [0, 1] for sincos_pi4_. Max error 1.02 ulp, measured on all
/// 2^24 angles; multiples of pi/2 give exactly 0 and +-1.
PQT_HD PQT_FORCEINLINE void sincos_turn24_(std::uint32_t j, float& s, float& c) noexcept {
  const std::uint32_t quadrant = (j >> 22) & 3u;
  const std::uint32_t r = j & 0x3FFFFFu;                 // angle within the quadrant: (pi/2) r / 2^22
  const std::uint32_t upper = r > 0x200000u;             // second octant: use pi/2 - angle
  const std::uint32_t rr = upper ? 0x400000u - r : r;    // in [0, 2^21]
  float so, co;
  sincos_pi4_(static_cast<float>(rr) * 0x1p-21f, so, co);  // both steps exact
  // sin/cos(q pi/2 + phi): odd quadrants swap sin and cos (as does the upper
  // octant); sin is negative in quadrants 2, 3 and cos in 1, 2.
  const std::uint32_t swap = upper ^ (quadrant & 1u);
  const float smag = swap ? co : so, cmag = swap ? so : co;
  s = bit_cast<float>(bit_cast<std::uint32_t>(smag) ^ ((quadrant >> 1) << 31));
  c = bit_cast<float>(bit_cast<std::uint32_t>(cmag) ^ (((quadrant ^ (quadrant >> 1)) & 1u) << 31));
}

}  // namespace detail

/// Standard normal noise from two random words by Box-Muller:
///   g = sqrt(-2 ln u1) cos(2 pi u2),  u1 = ((w0 >> 8) + 1) 2^-24 in (0, 1],
///                                     u2 = (w1 >> 8) 2^-24 in [0, 1),
/// both exact. u1 > 0, so the log never sees 0, and |g| <= sqrt(48 ln 2) =
/// 5.768 (the sampler has no mass beyond, where N(0,1) has 8.0e-9).
/// Bit-identical on host and device (see the top of this file). g is within
/// 2.5 ulp of Box-Muller of the same (u1, u2) computed in double, and the
/// sampler's exact CDF over all 2^48 inputs is within 3e-8 of Phi at every
/// point tests/test_noise.cpp evaluates. g(w0, w1 ^ 2^31) == -g(w0, w1)
/// exactly. Not constexpr: it needs fma.
///   pqt::word_pair p = pqt::random_words2(seed, offset, i);  float g = pqt::gaussian_noise(p.a, p.b);
PQT_HD inline float gaussian_noise(std::uint32_t w0, std::uint32_t w1) noexcept {
  const float u1 = static_cast<float>((w0 >> 8) + 1u) * 0x1p-24f;
  const float radius = detail::sqrt_rn(-2.0f * detail::log_(u1));
  float s, c;
  detail::sincos_turn24_(w1 >> 8, s, c);
  return radius * c;
}

// =============================================================================
// GaussWS element: cast_C(w + R * delta), rounded once
// =============================================================================
namespace detail {

/// a + b rounded to odd at double precision (53 bits): if the sum is inexact,
/// the neighbour whose last bit is 1. Rounding that once more, to nearest-even
/// with at most 51 bits, equals rounding a + b directly (Boldo & Melquiond,
/// "Emulation of FMA and correctly rounded sums: proved algorithms using
/// rounding to odd", IEEE TC 2008): the odd last bit stands in for every bit
/// the double lost. Finite inputs whose sum does not overflow; otherwise the
/// plain double sum is returned.
PQT_HD PQT_FORCEINLINE constexpr double add_round_odd_(double a, double b) noexcept {
  // TwoSum (Knuth): s + e == a + b exactly, with additions only, so there is
  // nothing for an fma contraction to change.
  const double s = a + b;
  const double bv = s - a;
  const double e = (a - (s - bv)) + (b - bv);
  // Inexact (e nonzero; NaN when s is not finite) and s even: step one ulp
  // toward a + b, i.e. up in magnitude when e has the sign of s.
  const std::uint64_t step = static_cast<std::uint64_t>(e != 0.0 && e == e) &
                             ~bit_cast<std::uint64_t>(s) & 1u;
  const std::uint64_t away = (e > 0.0) == (s > 0.0);
  return bit_cast<double>(bit_cast<std::uint64_t>(s) + (away ? step : 0u - step));
}


template <class Carrier>
struct gaussws_result {
  static_assert(is_format<Carrier>::value,
                "pqt::gaussws_element: Carrier must be float or a pqt format (e.g. pqt::fmt::bf16)");
  using type = storage_t<Carrier>;
};
template <>
struct gaussws_result<float> {
  using type = float;
};

}  // namespace detail

/// float for Carrier = float, else the format's storage bits (uint16_t for bf16).
template <class Carrier>
using gaussws_result_t = typename detail::gaussws_result<Carrier>::type;

/// One GaussWS element: cast_C(w + r * delta), rounded ONCE to nearest-even
/// in the carrier C: bits of a pqt format (pqt::fmt::bf16, the default
/// carrier of GaussWS; any format works) or a float, both through pqt::encode. Overflow
/// follows O (default nonsaturating: Inf, like a plain cast or
/// __float2bfloat16_rn; tensor fake-quant passes saturate). A NaN w gives the
/// carrier's canonical NaN (float: 0x7FFFFFFF), Inf stays Inf.
///
/// delta > 0 is meant to be a power of two (GaussWS's block or element Δ), but
/// the result is correctly rounded for any finite float delta and |r| < 2^29:
/// r * delta is then exact in double, and the sum is rounded to odd in double
/// before the one rounding to C (see add_round_odd_). A plain double sum would
/// not do for bf16: w = 1 + 2^-8 (a bf16 tie), r = 1, delta = 2^-60 gives 1 + 2^-8
/// in double, which ties down to 1, while w + r delta rounds up to 1 + 2^-7.
/// r == 0 returns cast_C(w) exactly, -0 included (r delta is taken as -0).
///   std::uint16_t b = pqt::gaussws_element<pqt::fmt::bf16>(w, 0x1p-9f, r);
///   float y = pqt::gaussws_element<float>(w, delta, r);
/// The third argument must be exactly an int (R) or a std::uint32_t (a random
/// word, see the overload below); other integer types do not compile, so a
/// word cannot be mistaken for R or the other way round.
template <class Carrier, overflow O = overflow::nonsaturating, class Int,
          std::enable_if_t<std::is_same<Int, int>::value, int> = 0>
PQT_HD PQT_FORCEINLINE constexpr gaussws_result_t<Carrier> gaussws_element(float w, float delta, Int r) noexcept {
  // -((-r) delta): equal to r delta, but -0 when r == 0, and w + (-0) == w
  // for every w (including -0) under round-to-nearest.
  const double noise = -(static_cast<double>(-r) * detail::widen(delta));
  const double x = detail::add_round_odd_(detail::widen(w), noise);
  if constexpr (std::is_same<Carrier, float>::value) {
    // Not static_cast<float>(x): on the device -ftz=true would flush
    // subnormal results (cvt.rn.ftz.f32.f64), and it keeps NaN payloads.
    return detail::bit_cast<float>(encode<fmt::fp32, rounding::nearest_even, O>(x));
  } else {
    return encode<Carrier, rounding::nearest_even, O>(x);
  }
}

/// One GaussWS element with R drawn from a random word: the same as
/// gaussws_element<C, O>(w, delta, pqt::gaussws_r(word)).
///   std::uint16_t b = pqt::gaussws_element<pqt::fmt::bf16>(w, delta, pqt::random_word(seed, offset, i));
template <class Carrier, overflow O = overflow::nonsaturating, class Word,
          std::enable_if_t<std::is_same<Word, std::uint32_t>::value, int> = 0>
PQT_HD PQT_FORCEINLINE constexpr gaussws_result_t<Carrier> gaussws_element(float w, float delta, Word word) noexcept {
  return gaussws_element<Carrier, O>(w, delta, gaussws_r(word));
}

// =============================================================================
// Gaussian rounding (README "Noise")
// =============================================================================

namespace detail {

/// Spacing of a format's grid at |x| (finite x), as a power of two: 2^(e - M)
/// in binade e, the subnormal spacing below the smallest normal, the top
/// binade continued above max.
PQT_HD constexpr double grid_spacing(const format_facts& f, float x) {
  const std::uint32_t a = bit_cast<std::uint32_t>(x) & 0x7FFFFFFFu;
  const int ex = a < 0x00800000u ? -127 : static_cast<int>(a >> 23) - 127;  // float subnormals: below any emin
  const int e = ex < f.emin() ? f.emin() : ex;
  return exp2_exact(e - f.m);
}

/// Gaussian rounding on any format's facts; see gaussian_round.
PQT_HD inline std::uint32_t gaussian_round_facts(const format_facts& f, float x, float sigma, word_pair w,
                                                 overflow o) {
  const bool finite = (bit_cast<std::uint32_t>(x) & 0x7F800000u) != 0x7F800000u;
  const double xd = widen(x);
  const double noise = widen(sigma * gaussian_noise(w.a, w.b)) * grid_spacing(f, x);
  return encode_double(f, finite ? add_round_odd_(xd, noise) : xd, rounding::nearest_even, o, 0, 32);
}

}  // namespace detail

/// Gaussian rounding (README "Noise"): RNE(x + sigma * g * ulp_F(x)) with
/// g = gaussian_noise(w.a, w.b) ~ N(0,1) and ulp_F(x) the grid spacing at |x|.
/// The noise sigma * g is rounded to float and scaled by ulp_F(x) (a power of
/// two: exact); x + noise is formed with round-to-odd in double and rounded
/// once to Fmt, so the result is the correctly rounded exact sum. NaN and Inf
/// get no noise.
///   auto b = pqt::gaussian_round<pqt::fmt::e4m3, pqt::overflow::saturate>(x, 0.5f, pqt::random_words2(s, o, i));
template <class Fmt, overflow O = overflow::saturate>
PQT_HD storage_t<Fmt> gaussian_round(float x, float sigma, word_pair w) {
  constexpr detail::format_facts f = Fmt::format_type::get_facts();
  return static_cast<storage_t<Fmt>>(detail::gaussian_round_facts(f, x, sigma, w, O));
}

}  // namespace pqt

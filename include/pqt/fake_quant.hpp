#pragma once
/// Element functors: the per-element operations every tensor path (host spans,
/// CUDA kernels, thrust::transform) is built from. Random bits come from
/// (seed, offset, element index) only (random.hpp), so a functor gives the same
/// result for element i wherever and however it is called.
///   pqt::quantize_op<pqt::fmt::e4m3, pqt::rounding::stochastic> q{seed, offset};
///   std::uint8_t code = q(x, index_base + j);
///   float y = pqt::fake_quant_op<pqt::fmt::e5m2, pqt::rounding::gaussian>{seed, offset, 0.5f}(x, i);

#include <cstdint>

#include "config.hpp"
#include "convert.hpp"
#include "detail/bits.hpp"
#include "format.hpp"
#include "noise.hpp"
#include "random.hpp"
#include "rounding.hpp"

namespace pqt {
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

/// Gaussian rounding (DESIGN §3): RNE(x + sigma * g * ulp_F(x)) with
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

/// x -> code of Fmt for element `index`: deterministic modes ignore the RNG;
/// stochastic uses random_word(seed, offset, index) (low K bits); gaussian uses
/// random_words2(seed, offset, index) and sigma. Callable as f(x, index) on the
/// host, in kernels and in thrust::transform with a counting iterator.
///   pqt::quantize_op<pqt::fmt::e2m1, pqt::rounding::stochastic, pqt::overflow::saturate, 8> q{42, step};
template <class Fmt, rounding R = rounding::nearest_even, overflow O = overflow::saturate, int K = 32>
struct quantize_op {
  static_assert(is_format<Fmt>::value, "pqt::quantize_op: Fmt must be a pqt::format<> or pqt::minifloat<>");
  static_assert(K >= 1 && K <= 32, "pqt::quantize_op: stochastic rounding uses 1..32 random bits");
  std::uint64_t seed = 0;
  std::uint64_t offset = 0;
  float sigma = 0.5f;  ///< gaussian rounding only: noise scale in ulps

  PQT_HD storage_t<Fmt> operator()(float x, std::uint64_t index) const {
    if constexpr (R == rounding::stochastic)
      return encode<Fmt, R, O, K>(x, random_word(seed, offset, index));
    else if constexpr (R == rounding::gaussian)
      return gaussian_round<Fmt, O>(x, sigma, random_words2(seed, offset, index));
    else
      return encode<Fmt, R, O>(x);
  }
};

/// decode(quantize_op(x, index)): x rounded to Fmt, returned as float.
///   float y = pqt::fake_quant_op<pqt::fmt::e4m3, pqt::rounding::stochastic>{seed, offset}(x, i);
template <class Fmt, rounding R = rounding::nearest_even, overflow O = overflow::saturate, int K = 32>
struct fake_quant_op {
  std::uint64_t seed = 0;
  std::uint64_t offset = 0;
  float sigma = 0.5f;

  PQT_HD float operator()(float x, std::uint64_t index) const {
    return decode<Fmt>(quantize_op<Fmt, R, O, K>{seed, offset, sigma}(x, index));
  }
};

}  // namespace pqt

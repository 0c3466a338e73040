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

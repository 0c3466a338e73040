#pragma once
/// The host fast path of GaussWS with block Delta: w + noise * 2^e rounded
/// once to a float or bf16 carrier, in float arithmetic that the compiler
/// vectorises, bit for bit gaussws_value's exact double route.
///
/// Why float suffices. For R and uniform noise, noise * 2^e is exact in float
/// while 2^e stays inside the ranges checked below (R is an integer in -3..3;
/// uniform noise has 24 significant bits and its last one is 2^-25). Then:
///   * a float carrier: fl(w + nz) is the sum rounded once (IEEE addition);
///   * a bf16 carrier: s = fl(w + nz) and the TwoSum error t = (w + nz) - s,
///     exact as long as s is finite. bf16's grid is part of float's, so
///     RNE_bf16(w + nz) = RNE_bf16(s) unless s lies exactly half-way between
///     two bf16 values: then the sum is above s (t > 0), below it (t < 0) or
///     on it (t == 0, ties to even), and t decides. If s overflows to Inf, the
///     sum is at least FLT_MAX + half an ulp, beyond bf16's rounding boundary
///     too, so Inf is right for a nonsaturating carrier.
/// Blocks whose exponent leaves those ranges, and gaussian noise, keep the
/// double route (gaussws.hpp).

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../noise.hpp"
#include "../random.hpp"
#include "bits.hpp"
#include "float_ops.hpp"
#include "tensor_ops.hpp"

namespace pqt {
namespace detail {

/// Whether noise * 2^e is exact in float for every draw of this noise kind.
PQT_HD PQT_FORCEINLINE bool gaussws_fast_applies(noise_kind k, int e) {
  if (k == noise_kind::r) return e >= -149 && e <= 125;         // |R| <= 3: 3 * 2^125 < FLT_MAX
  if (k == noise_kind::uniform) return e >= -124 && e <= 126;   // last bit 2^(e-25) >= 2^-149
  return false;
}

/// 2^e as a float, e in [-149, 127].
PQT_HD PQT_FORCEINLINE float pow2f(int e) {
  return e >= -126 ? bit_cast<float>(static_cast<std::uint32_t>(e + 127) << 23)
                   : bit_cast<float>(std::uint32_t{1} << (e + 149));
}

/// RNE_bf16 of the exact sum w + nz (both finite floats) as bf16 bits.
/// Branch-free (selects on integers), so the block loop vectorises.
PQT_HD PQT_FORCEINLINE std::uint16_t add_to_bf16(float w, float nz) {
  const float s = w + nz;
  const float bv = s - w;
  const float t = (w - (s - bv)) + (nz - bv);  // TwoSum: w + nz == s + t exactly
  const std::uint32_t sb = bit_cast<std::uint32_t>(s);
  const std::uint32_t tb = bit_cast<std::uint32_t>(t);
  // nearest-even of s: + 0x7FFF + the lsb of the kept part; at an exact
  // half-way s (low half 0x8000) and t != 0, t decides: + 0x8000 (away from
  // zero) when t has s's sign, + 0 (toward zero) when it has the other
  const std::uint32_t rne = 0x7FFFu + ((sb >> 16) & 1u);
  const std::uint32_t by_t = ((sb ^ tb) >> 31) != 0 ? 0u : 0x8000u;
  const bool decided = (sb & 0xFFFFu) == 0x8000u && (tb & 0x7FFFFFFFu) != 0;
  return static_cast<std::uint16_t>((sb + (decided ? by_t : rne)) >> 16);
}

/// The noise of one element as a float times p2 = 2^e (exact: see above).
/// R = 0 gives -0, as gaussws_value's -(-R * Delta), so that w = -0 stays -0.
template <noise_kind K>
PQT_HD PQT_FORCEINLINE float gaussws_fast_noise(std::uint32_t word, float p2) {
  static_assert(K == noise_kind::r || K == noise_kind::uniform, "R or uniform noise");
  if constexpr (K == noise_kind::r)
    return -(static_cast<float>(-gaussws_r(word)) * p2);
  else
    return uniform_noise(word) * p2;
}

PQT_HD PQT_FORCEINLINE float gaussws_fast_noise(noise_kind k, std::uint32_t word, float p2) {
  return k == noise_kind::r ? gaussws_fast_noise<noise_kind::r>(word, p2)
                            : gaussws_fast_noise<noise_kind::uniform>(word, p2);
}

template <class Carrier, noise_kind K, class Load, class Out>
PQT_FORCEINLINE void gaussws_chunk_fast(Load load, Out* out, std::size_t m, const std::uint32_t* words, float p2) {
  for (std::size_t j = 0; j < m; ++j) {
    const float nz = gaussws_fast_noise<K>(words[j], p2);
    if constexpr (std::is_same<Carrier, float>::value)
      out[j] = load(j) + nz;
    else
      out[j] = Out::from_bits(add_to_bf16(load(j), nz));
  }
}

/// GaussWS of m elements of one block (exponent e, gaussws_fast_applies),
/// words[j] being element j's draw; load(j) reads element j as a float. Out
/// is float or bf16.
template <class Carrier, class Load, class Out>
PQT_FORCEINLINE void gaussws_run_fast(Load load, Out* out, std::size_t m, int e, noise_kind k,
                                      const std::uint32_t* words) {
  const float p2 = pow2f(e);
  if (k == noise_kind::r)
    gaussws_chunk_fast<Carrier, noise_kind::r>(load, out, m, words, p2);
  else
    gaussws_chunk_fast<Carrier, noise_kind::uniform>(load, out, m, words, p2);
}

}  // namespace detail
}  // namespace pqt

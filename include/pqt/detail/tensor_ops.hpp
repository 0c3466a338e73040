#pragma once
// Per-element and per-run pieces of the tensor API that the host code
// (fake_quant.hpp) and the CUDA kernels (cuda/kernel_bodies.hpp) share, so the
// two cannot drift apart: the scaling enums, how each scaling turns x into the
// value that is encoded and a code back into a value, e8m0 runs, sub-byte code
// packing, and one GaussWS element. Everything here is PQT_HD and free of
// exceptions and allocation; validation lives with the host API.

#include <climits>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../config.hpp"
#include "../convert.hpp"
#include "../format.hpp"
#include "../noise.hpp"
#include "../random.hpp"
#include "../rounding.hpp"
#include "../scale.hpp"
#include "bits.hpp"
#include "float_ops.hpp"

namespace pqt {

/// How a tensor is scaled before its elements are rounded (README "Tensor API").
enum class scaling : int {
  none = 0,    ///< elements rounded as they are
  tensor = 1,  ///< one float scale s: encode(x * s), dequantized as decode * (1 / s)
  block = 2,   ///< one scale per block_size contiguous elements (MX: e8m0; NVFP4: ue4m3 + fp32)
  tile = 3,    ///< one e8m0 scale per tile_rows x tile_cols tile of a row-major rows x cols matrix
};

/// The block scale of scaling::block / scaling::tile.
enum class block_scale : int {
  mx = 0,     ///< OCP MX: an e8m0 power of two X from the block amax by e8m0_rule
  nvfp4 = 1,  ///< NVIDIA NVFP4: ue4m3 block scale and an fp32 tensor scale (e2m1 elements)
};

/// The noise GaussWS adds, in units of Delta.
enum class noise_kind : int {
  r = 0,         ///< the GaussWS R in {-3..3} (noise.hpp's table), one word per element
  gaussian = 1,  ///< sigma * N(0,1), two words per element
  uniform = 2,   ///< U(-1/2, 1/2) (DiffQ), one word per element
};

/// How Delta is chosen.
enum class delta_mode : int {
  block = 0,    ///< Delta = 2^(floor(log2 amax) + 1 - bits) per block / tile / tensor
  element = 1,  ///< Delta = ulp of `format` at each element after MX block scaling
};

namespace detail {

// ---- packed codes -------------------------------------------------------------

/// ORs element i's code into a packed FP4/FP6 stream (pack.hpp's bit order:
/// element k occupies bits k*bits .. k*bits+bits-1 of the little-endian stream).
PQT_HD PQT_FORCEINLINE void or_packed_code(std::uint8_t* codes, std::size_t i, std::uint32_t code, int bits) {
  const std::size_t bit = i * static_cast<std::size_t>(bits);
  const std::size_t byte = bit >> 3;
  const unsigned shift = static_cast<unsigned>(bit & 7);
  const std::uint32_t v = code << shift;  // at most 6 + 7 bits: two bytes
  codes[byte] = static_cast<std::uint8_t>(codes[byte] | (v & 0xFFu));
  if ((v >> 8) != 0) codes[byte + 1] = static_cast<std::uint8_t>(codes[byte + 1] | (v >> 8));
}

PQT_HD PQT_FORCEINLINE std::uint32_t read_packed_code(const std::uint8_t* codes, std::size_t i, int bits) {
  const std::size_t bit = i * static_cast<std::size_t>(bits);
  const std::size_t byte = bit >> 3;
  const unsigned shift = static_cast<unsigned>(bit & 7);
  std::uint32_t v = codes[byte];
  if (shift + static_cast<unsigned>(bits) > 8) v |= static_cast<std::uint32_t>(codes[byte + 1]) << 8;
  return (v >> shift) & ((1u << bits) - 1);
}

/// Stores the codes c[0..m) of elements first .. first + m - 1 into the
/// quantize layout: FP4 / FP6 packed (pack.hpp's bit order; whole bytes inside
/// the range stored, the partial bytes at its ends ORed in, since a
/// neighbouring range may hold their other bits and bytes start zeroed),
/// wider formats little-endian in `bytes` bytes each.
PQT_HD PQT_NOINLINE inline void store_codes(const std::uint32_t* c, std::size_t m, std::size_t first, int bits,
                                            int bytes, std::uint8_t* codes) {
  std::size_t j = 0;
  if (bits == 4) {
    if (first % 2 != 0 && m > 0) or_packed_code(codes, first + j++, c[0], 4);
    std::uint8_t* out = codes + (first + j) / 2;
    const std::size_t pairs = (m - j) / 2;
    for (std::size_t k = 0; k < pairs; ++k)
      out[k] = static_cast<std::uint8_t>(c[j + 2 * k] | (c[j + 2 * k + 1] << 4));
    for (j += 2 * pairs; j < m; ++j) or_packed_code(codes, first + j, c[j], 4);
  } else if (bits == 6) {
    for (; j < m && (first + j) % 4 != 0; ++j) or_packed_code(codes, first + j, c[j], 6);
    std::uint8_t* out = codes + (first + j) / 4 * 3;
    const std::size_t quads = (m - j) / 4;
    for (std::size_t k = 0; k < quads; ++k) {
      const std::uint32_t w = c[j + 4 * k] | (c[j + 4 * k + 1] << 6) | (c[j + 4 * k + 2] << 12) | (c[j + 4 * k + 3] << 18);
      out[3 * k] = static_cast<std::uint8_t>(w);
      out[3 * k + 1] = static_cast<std::uint8_t>(w >> 8);
      out[3 * k + 2] = static_cast<std::uint8_t>(w >> 16);
    }
    for (j += 4 * quads; j < m; ++j) or_packed_code(codes, first + j, c[j], 6);
  } else if (bytes == 1) {
    for (; j < m; ++j) codes[first + j] = static_cast<std::uint8_t>(c[j]);
  } else {
    const std::size_t nb = static_cast<std::size_t>(bytes);
    for (; j < m; ++j)
      for (std::size_t k = 0; k < nb; ++k) codes[(first + j) * nb + k] = static_cast<std::uint8_t>(c[j] >> (8 * k));
  }
}

// ---- scaling of one run ----------------------------------------------------------

/// Scaling of one run of elements: v = x * mul (exact for powers of two, see
/// below), y = decode(code) * back.
struct run_scale {
  float mul = 1.0f, back = 1.0f;
  bool pow2 = false;  ///< mul is a power of two: keep x * mul exact (tiny results)
  int exp = 0;        ///< pow2: back = 2^exp
};

/// x * mul, where mul = 2^-e is a power of two: exact unless the product is
/// below 2^-126, where float would round it. Such a product is far below the
/// smallest subnormal of the element formats MX uses (>= 2^-94 checked by the
/// caller), so only its sign and its being nonzero matter; 2^-127 with x's sign
/// stands in for it in every rounding mode (t_K of it is 0 for K <= 32).
PQT_HD PQT_FORCEINLINE float scale_pow2(float x, float mul) {
  const float v = x * mul;
  const std::uint32_t xb = bit_cast<std::uint32_t>(x);
  const std::uint32_t tiny = (abs_bits(v) < 0x00800000u) & ((xb & 0x7FFFFFFFu) != 0) & ((xb & 0x7FFFFFFFu) < 0x7F800000u);
  return bit_cast<float>(sel(tiny, (xb & 0x80000000u) | 0x00400000u, bit_cast<std::uint32_t>(v)));
}

/// e8m0 block scale -> run_scale (X = 2^e: mul = 2^-e, back = 2^e). NaN scale
/// (block amax Inf/NaN) makes every element NaN (OCP).
PQT_HD PQT_FORCEINLINE run_scale e8m0_run(std::uint8_t code) {
  if (code == 0xFF) return {bit_cast<float>(0x7FC00000u), bit_cast<float>(0x7FC00000u), false};
  const int e = static_cast<int>(code) - 127;
  return {exp2f_exact(-e), exp2f_exact(e), true, e};
}

/// Per-tensor scale s -> run_scale: encode(x * s), decode * (1 / s) in float
/// (as Transformer Engine); 1 / s correctly rounded on host and device.
PQT_HD PQT_FORCEINLINE run_scale tensor_run(float s) { return {s, div_rn(1.0f, s), false}; }

/// The value encoded for x under a run's scale (no scaling, tensor, MX/tile
/// power of two, or a NaN block scale: every element NaN).
PQT_HD PQT_FORCEINLINE float scaled_value(float x, run_scale sc) {
  return sc.pow2 ? scale_pow2(x, sc.mul) : x * sc.mul;
}

/// The value of a decoded code under a run's scale: decode * back (exact for
/// powers of two; tensor scaling multiplies by 1 / s in float).
PQT_HD PQT_FORCEINLINE float unscaled_value(float decoded, run_scale sc) { return decoded * sc.back; }

/// NVFP4: the divisor decode(block) * s_t, exact in double (scale.hpp's rule).
PQT_HD PQT_FORCEINLINE double nvfp4_divisor(std::uint8_t block, float tensor_scale) {
  return static_cast<double>(decode<fmt::ue4m3>(block)) * widen(tensor_scale);
}

/// q rounded to float by round-to-odd: truncated toward zero, the last bit set
/// if anything was lost. Rounding that float again to a format with at most
/// 22 significant bits (nearest-even or any mode) gives what rounding q once
/// would; NaN stays NaN, beyond float's range gives +-FLT_MAX (odd).
PQT_HD PQT_FORCEINLINE float round_to_odd_float(double q) {
  const float f = static_cast<float>(q);
  std::uint32_t b = bit_cast<std::uint32_t>(f);
  const double aq = bit_cast<double>(bit_cast<std::uint64_t>(q) & 0x7FFFFFFFFFFFFFFFull);
  b -= static_cast<std::uint32_t>(widen(bit_cast<float>(b & 0x7FFFFFFFu)) > aq);  // rounded away: step back
  b |= static_cast<std::uint32_t>(widen(bit_cast<float>(b)) != q);                 // inexact: odd
  return bit_cast<float>(b);
}

/// NVFP4: x / (block scale * s_t) in double, rounded once when encoded; a zero
/// divisor gives +-0 (x * 0.0: the block decodes to zeros; NaN stays NaN).
PQT_HD PQT_FORCEINLINE double nvfp4_scaled(float x, double d) {
#if defined(__CUDA_ARCH__)
  return d == 0.0 ? widen(x) * 0.0 : __ddiv_rn(widen(x), d);
#else
  return d == 0.0 ? widen(x) * 0.0 : widen(x) / d;
#endif
}

/// NVFP4 nearest-even by comparisons, for a block divisor d that is positive
/// and finite. |x| / d rounds to the e2m1 magnitude k = the number of the
/// midpoints m_j = 0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5 (j = 0..6) that it
/// exceeds, a tie counting as above where the upper neighbour's code is even
/// (odd j); beyond 5 is 6 (e2m1 saturates). m_j * d is exact in double (3 + 28
/// significant bits), so comparing |x| with it is comparing the exact quotient
/// with m_j: the once-rounded quotient of nvfp4_encode_element. above[j] is
/// the float with |x| > above[j] <=> |x| is above m_j * d by that rule: m_j * d
/// rounded down to float, one float lower where a tie counts as above and
/// m_j * d is a float. value[k] = float(V_k * d), nvfp4_decode_element's
/// product for magnitude k.
struct nvfp4_grid {
  float above[7];
  float value[8];
};

PQT_HD inline nvfp4_grid make_nvfp4_grid(double d) {
  constexpr double mid[7] = {0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0};
  constexpr double val[8] = {0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0};
  nvfp4_grid g{};
  for (int j = 0; j < 7; ++j) {
    const double t = mid[j] * d;
    std::uint32_t b = bit_cast<std::uint32_t>(static_cast<float>(t));  // t > 0: b > 0
    b -= static_cast<std::uint32_t>(widen(bit_cast<float>(b)) > t);     // rounded up (or to Inf): step down
    if (j % 2 == 1 && widen(bit_cast<float>(b)) == t) --b;              // a tie counts as above
    g.above[j] = bit_cast<float>(b);
  }
  for (int k = 0; k < 8; ++k) g.value[k] = static_cast<float>(val[k] * d);
  return g;
}

/// The e2m1 code of x under g (nearest-even; NaN gives +6, code 7, as
/// encode<e2m1> does), and its value (nvfp4_decode_element) where Values.
template <bool Values>
PQT_HD PQT_FORCEINLINE std::conditional_t<Values, float, std::uint32_t> nvfp4_grid_round(const nvfp4_grid& g, float x) {
  // Selects, no table lookup: the compiler vectorises the block's loop.
  const std::uint32_t xb = bit_cast<std::uint32_t>(x);
  const float ax = bit_cast<float>(xb & 0x7FFFFFFFu);
  const bool nan = !(ax == ax);
  const std::uint32_t sign = nan ? 0u : xb & 0x80000000u;
  if constexpr (Values) {
    float v = nan ? g.value[7] : g.value[0];
    for (int j = 0; j < 7; ++j) v = ax > g.above[j] ? g.value[j + 1] : v;
    return bit_cast<float>(bit_cast<std::uint32_t>(v) | sign);
  } else {
    std::uint32_t k = nan ? 7u : 0u;
    for (int j = 0; j < 7; ++j) k += static_cast<std::uint32_t>(ax > g.above[j]);
    return k | (sign >> 28);
  }
}

// ---- GaussWS -----------------------------------------------------------------------

/// The scalar fields of a gaussws_config one element needs (plain data: device code
/// gets it by value).
struct gaussws_params {
  noise_kind noise = noise_kind::r;
  float sigma = 1.0f;
  bool element_delta = false;  ///< delta_mode::element
  int bits = 9;
  format_facts f{4, 3, encoding::fn, 7, true};  ///< element mode: the simulated format
  int emax = 8;                                 ///< f.emax()
  float max_f = 448.0f;                         ///< f's largest value
  std::uint64_t seed = 0, offset = 0;
};

/// The exponent e of Delta = 2^e for a block with amax a (block mode), or the
/// MX block scale exponent (element mode); INT_MIN: no noise (amax 0 or not finite).
PQT_HD PQT_FORCEINLINE int gaussws_exponent(const gaussws_params& g, float a) {
  const std::uint32_t ab = abs_bits(a);
  if (ab == 0 || ab >= 0x7F800000u) return INT_MIN;
  if (g.element_delta) {
    const std::uint8_t code = mx_scale(g.emax, g.max_f, a, e8m0_rounding::floor);
    return static_cast<int>(code) - 127;
  }
  const log2_parts lp = scale_log2_parts(ab);  // floor(log2 amax) from the exponent field
  return lp.e + 1 - g.bits;
}

/// w + nz rounded once to the carrier (nz = noise * Delta, exact in double).
template <class Carrier>
PQT_HD PQT_FORCEINLINE gaussws_result_t<Carrier> gaussws_add(float w, double nz) {
  const double x = add_round_odd_(widen(w), nz);
  if constexpr (std::is_same<Carrier, float>::value)
    return bit_cast<float>(encode<fmt::fp32, rounding::nearest_even, overflow::nonsaturating>(x));
  else
    return encode<Carrier, rounding::nearest_even, overflow::nonsaturating>(x);
}

/// One GaussWS element: w plus its noise times Delta = 2^e (block mode) or the
/// ulp of the simulated format at w / 2^e (element mode), rounded once to the
/// carrier. `word` is the element's one-word draw (R, uniform) and `pair` its
/// two-word draw (gaussian); only the one the noise kind uses is read. e ==
/// INT_MIN: no noise (cast_C(w), -0 kept).
template <class Carrier>
PQT_HD PQT_FORCEINLINE gaussws_result_t<Carrier> gaussws_value(const gaussws_params& g, float w, int e,
                                                               std::uint32_t word, word_pair pair) {
  if (e == INT_MIN) return gaussws_add<Carrier>(w, -0.0);
  double delta = exp2_exact(e < -1074 ? -1074 : (e > 1023 ? 1023 : e));
#if defined(__CUDA_ARCH__)
  if (g.element_delta) delta = grid_spacing(g.f, __double2float_rn(__ddiv_rn(widen(w), delta))) * delta;
#else
  if (g.element_delta) delta = grid_spacing(g.f, static_cast<float>(widen(w) / delta)) * delta;
#endif
  switch (g.noise) {
    case noise_kind::r: {
      const int r = gaussws_r(word);
      return gaussws_add<Carrier>(w, -(static_cast<double>(-r) * delta));
    }
    case noise_kind::uniform:
      return gaussws_add<Carrier>(w, static_cast<double>(uniform_noise(word)) * delta);
    default:
      return gaussws_add<Carrier>(w, widen(g.sigma * gaussian_noise(pair.a, pair.b)) * delta);
  }
}

}  // namespace detail
}  // namespace pqt

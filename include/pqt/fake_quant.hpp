#pragma once
/// Element functors, and the host tensor API built on them: fake_quant,
/// quantize / dequantize (codes + scales, sub-byte packing; configs in
/// quant_config.hpp) and, from gaussws.hpp, gaussws, with no
/// scaling, per-tensor, per-block (MX, NVFP4) or 2-D tile scaling, over
/// float, bf16 and fp16 arrays, multithreaded with OpenMP when enabled. Random
/// bits come from (seed, offset, element index) only (random.hpp), so every
/// element's result is the same for any thread count or sharding. The loops
/// under these functions (element coder, scaling dispatch, chunk runner,
/// encode_run / decode_run) are in detail/tensor_runs.hpp.
///   pqt::quantize_op<pqt::fmt::e4m3, pqt::rounding::stochastic> q{seed, offset};
///   std::uint8_t code = q(x, index_base + j);
///   float y = pqt::fake_quant_op<pqt::fmt::e5m2, pqt::rounding::gaussian>{seed, offset, 0.5f}(x, i);

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "config.hpp"
#include "convert.hpp"
#include "detail/bits.hpp"
#include "detail/tensor_ops.hpp"
#include "detail/tensor_pieces.hpp"
#include "detail/tensor_runs.hpp"
#include "format.hpp"
#include "minifloat.hpp"
#include "noise.hpp"
#include "pack.hpp"
#include "quant_config.hpp"
#include "random.hpp"
#include "rounding.hpp"
#include "runtime.hpp"
#include "scale.hpp"

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

namespace detail {

/// Throws unless n elements of T fit a size_t and [x, x + n) and [out, out + n)
/// are the same range or disjoint (a partial overlap would read results).
template <class T>
void check_arrays(const char* fn, const T* x, const T* out, std::size_t n) {
  if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) tensor_fail(fn, "n * element size overflows size_t");
  if (x == nullptr || out == nullptr) tensor_fail(fn, "null pointer");
  const auto a = reinterpret_cast<std::uintptr_t>(x), b = reinterpret_cast<std::uintptr_t>(out);
  if (a != b && a < b + n * sizeof(T) && b < a + n * sizeof(T))
    tensor_fail(fn, "x and out overlap partly (out may be x itself, or apart from it)");
}

/// fake_quant's loops over float: out = x rounded under cfg with the scales
/// q (prepare_scales), each block's or tile's scale written to fill.
inline void fake_quant_runs(const float* x, float* out, std::size_t n, const quant_config& cfg, const scale_set& q,
                            std::uint8_t* fill) {
  const element_coder ec(cfg);
  dispatch(cfg, ec, [&](auto ct, auto pt, auto kt, auto ft) {
    constexpr mode_class C = decltype(ct)::value;
    constexpr policy P = decltype(pt)::value;
    constexpr value_kind K = decltype(kt)::value;
    constexpr bool F = decltype(ft)::value;
    for_each_run<K, F && K == value_kind::pow2>(
        ec, x, n, cfg, q, fill,
        [&](const element_coder& lec, std::size_t b, auto len, run_scale sc, std::size_t si) PQT_INLINE_LAMBDA {
          encode_run<C, P, K, F, true>(lec, q, x, b, len, sc, si, cfg.index_base,
                                       [&](std::size_t i, float v) PQT_INLINE_LAMBDA { out[i] = v; });
        });
  });
}

template <class T>
void fake_quant_impl(const T* x, T* out, std::size_t n, const quant_config& cfg) {
  const std::size_t nscales = check_config("fake_quant", n, cfg);
  if (n == 0) return;
  check_arrays("fake_quant", x, out, n);
  std::vector<std::uint8_t> scales(nscales);  // none without block/tile scaling
  const scale_set q = prepare_scales("fake_quant", x, n, cfg, scales.data(), nscales);
  if constexpr (std::is_same<T, float>::value) {
    fake_quant_runs(x, out, n, cfg, q, scales.data());
  } else {  // bf16, fp16: piece by piece through the float loops, rounded back once
    for_each_piece(n, cfg, q, [&](float* buf, std::size_t s, std::size_t len, const piece_config& p) {
      widen(x + s, len, buf);
      fake_quant_runs(buf, buf, len, p.c, p.q, scales.data() + p.first);
      narrow(buf, len, out + s);
    });
  }
}

// The instantiations of the compiled mode (PQT_TENSOR_LIB): declared here,
// defined in the pqt_tensor library (src/tensor_fake_quant.cpp, target
// pqt::tensor), so that a user file compiles none of the loops.
#define PQT_FAKE_QUANT_INSTANCES(X, T) X void fake_quant_impl<T>(const T*, T*, std::size_t, const quant_config&);
#if defined(PQT_TENSOR_LIB)
PQT_FAKE_QUANT_INSTANCES(extern template, float)
PQT_FAKE_QUANT_INSTANCES(extern template, bf16)
PQT_FAKE_QUANT_INSTANCES(extern template, fp16)
#endif

}  // namespace detail

/// out[i] = x[i] rounded to cfg's format under its scaling and mode (=
/// dequantize(quantize(x))), over float, bf16 or fp16 arrays (bf16/fp16 read
/// exactly; the result stored with one nearest-even rounding, exact whenever
/// the format's values are bf16/fp16 values, e.g. FP8 into bf16). out may alias
/// x. Allocates the block/tile scales (one byte each) and, for bf16 and fp16,
/// a float buffer per thread (detail/tensor_pieces.hpp).
///   pqt::fake_quant(w.data(), w.data(), w.size(), pqt::quant_config::mxfp8());
inline void fake_quant(const float* x, float* out, std::size_t n, const quant_config& cfg) {
  detail::fake_quant_impl(x, out, n, cfg);
}
inline void fake_quant(const bf16* x, bf16* out, std::size_t n, const quant_config& cfg) {
  detail::fake_quant_impl(x, out, n, cfg);
}
inline void fake_quant(const fp16* x, fp16* out, std::size_t n, const quant_config& cfg) {
  detail::fake_quant_impl(x, out, n, cfg);
}

namespace detail {

/// quantize's loops over float: the codes of x under c with the scales q
/// (prepare_scales), each block's or tile's scale written to fill; codes
/// start at element 0 of `codes` (bytes that start zeroed where packed).
inline void quantize_runs(const float* x, std::size_t n, const quant_config& c, const scale_set& q,
                          std::uint8_t* fill, std::uint8_t* codes) {
  const int bits = c.format.total_bits(), bytes = c.format.storage_bytes();
  const element_coder ec(c);
  dispatch(c, ec, [&](auto ct, auto pt, auto kt, auto ft) {
    constexpr mode_class C = decltype(ct)::value;
    constexpr policy P = decltype(pt)::value;
    constexpr value_kind K = decltype(kt)::value;
    constexpr bool F = decltype(ft)::value;
    for_each_run<K, F && K == value_kind::pow2>(
        ec, x, n, c, q, fill,
        [&](const element_coder& lec, std::size_t b, auto len, run_scale sc, std::size_t si) PQT_INLINE_LAMBDA {
          // Codes of up to 1024 elements into a local buffer (the element loop
          // vectorises), then stored or packed in one pass.
          if constexpr (K == value_kind::nvfp4 && C == mode_class::gaussian) return;  // check_config rejects it
          constexpr std::size_t piece = 1024;
          alignas(64) std::uint32_t buf[piece];
          for (std::size_t p = 0; p < len; p += piece) {
            const std::size_t m = len - p < piece ? len - p : piece;
            encode_run<C, P, K, F, false>(lec, q, x, b + p, m, sc, si, c.index_base,
                                          [&](std::size_t i, std::uint32_t code) PQT_INLINE_LAMBDA { buf[i - b - p] = code; });
            store_codes(buf, m, b + p, bits, bytes, codes);
          }
        });
  });
}

}  // namespace detail

/// Codes and scales of x (float, bf16 or fp16) under cfg into caller-owned
/// memory (README "Tensor API" for the layout); v.tensor_scale receives s
/// (tensor scaling), NVFP4's s_t, or 1. Allocates nothing for float arrays;
/// bf16 and fp16 go through a float buffer per thread (detail/tensor_pieces.hpp).
///   pqt::quantize(x, n, cfg, pqt::quantized_view{codes, pqt::code_bytes(n, cfg), scales, pqt::scale_count(n, cfg), &ts, n});
template <class T, std::enable_if_t<std::is_same<T, float>::value || std::is_same<T, bf16>::value ||
                                        std::is_same<T, fp16>::value, int> = 0>
void quantize(const T* x, std::size_t n, const quant_config& cfg, const quantized_view& v) {
  const std::size_t nscales = detail::check_view("quantize", n, cfg, v);
  if (v.tensor_scale != nullptr) *v.tensor_scale = 1.0f;
  if (n == 0) return;
  if (x == nullptr) detail::tensor_fail("quantize", "null pointer");
  const int bits = cfg.format.total_bits();
  // Packed codes are ORed into bytes that start zeroed; parallel runs must not share a byte.
  quant_config c = cfg;
  if (bits < 8) {
    std::memset(v.codes, 0, v.code_bytes);
    if ((cfg.scale == scaling::block && cfg.block_size * static_cast<std::size_t>(bits) % 8 != 0) ||
        (cfg.scale == scaling::tile && cfg.cols * static_cast<std::size_t>(bits) % 8 != 0))
      c.threads = 1;
  }
  const detail::scale_set q = detail::prepare_scales("quantize", x, n, c, v.scales, nscales);
  if (v.tensor_scale != nullptr) *v.tensor_scale = q.tensor_scale;
  if constexpr (std::is_same<T, float>::value) {
    detail::quantize_runs(x, n, c, q, v.scales, v.codes);
  } else {  // bf16, fp16: pieces start on a byte of the codes (detail::piece_elements)
    detail::for_each_piece(n, cfg, q, [&](float* buf, std::size_t s, std::size_t len, const detail::piece_config& p) {
      detail::widen(x + s, len, buf);
      detail::quantize_runs(buf, len, p.c, p.q, v.scales + p.first, v.codes + code_bytes(s, cfg));
    });
  }
}

/// Codes and scales of x (float, bf16 or fp16) under cfg (README "Tensor
/// API" for the layout). Reuses q's capacity: for float arrays no allocation
/// once q has held a tensor this size.
///   pqt::quantized q;  pqt::quantize(x, n, pqt::quant_config::mxfp4(), q);
template <class T, std::enable_if_t<std::is_same<T, float>::value || std::is_same<T, bf16>::value ||
                                        std::is_same<T, fp16>::value, int> = 0>
void quantize(const T* x, std::size_t n, const quant_config& cfg, quantized& q) {
  const std::size_t nscales = detail::check_config("quantize", n, cfg);
  q.n = n;
  q.codes.resize(code_bytes(n, cfg));
  q.scales.resize(nscales);
  quantize(x, n, cfg, quantized_view{q.codes.data(), q.codes.size(), q.scales.data(), nscales, &q.tensor_scale, n});
}

namespace detail {

/// dequantize's loops into float: out[0..n) = the values of the codes (from
/// element 0 of `codes`) under c with the scales q.
inline void dequantize_runs(const std::uint8_t* codes, std::size_t n, const quant_config& c, const scale_set& q,
                            float* out) {
  const element_coder ec(c);
  const int bits = c.format.total_bits(), bytes = c.format.storage_bytes();
  dispatch_kind(c, ec, [&](auto kt, auto ft) {
    constexpr value_kind K = decltype(kt)::value;
    constexpr bool F = decltype(ft)::value;
    if constexpr (K != value_kind::nvfp4) {
      if (bits <= 8) {  // codes of at most 8 bits: a table of their decoded values, then a load per element
        float table[256];
        for (std::uint32_t code = 0; code < (1u << bits); ++code) table[code] = ec.decode<F>(code);
        for_each_run<K>(ec, nullptr, n, c, q, nullptr,
                        [&](const element_coder&, std::size_t b, auto len, run_scale sc, std::size_t) PQT_INLINE_LAMBDA {
                          if (bits == 4) {  // two per byte, the first in the low nibble (pack.hpp)
                            for (std::size_t i = b; i < b + len; ++i)
                              out[i] = unscaled_value(table[(codes[i >> 1] >> ((i & 1) * 4)) & 0xFu], sc);
                          } else if (bits == 6) {
                            for (std::size_t i = b; i < b + len; ++i)
                              out[i] = unscaled_value(table[read_packed_code(codes, i, 6)], sc);
                          } else {
                            for (std::size_t i = b; i < b + len; ++i) out[i] = unscaled_value(table[codes[i]], sc);
                          }
                        });
        return;
      }
    }
    for_each_run<K>(ec, nullptr, n, c, q, nullptr,
                    [&](const element_coder& lec, std::size_t b, auto len, run_scale sc, std::size_t si) PQT_INLINE_LAMBDA {
                      for (std::size_t i = b; i < b + len; ++i) {
                        std::uint32_t code = 0;
                        if (bits == 4 || bits == 6) {
                          code = read_packed_code(codes, i, bits);
                        } else {
                          for (int k = 0; k < bytes; ++k)
                            code |= static_cast<std::uint32_t>(
                                        codes[i * static_cast<std::size_t>(bytes) + static_cast<std::size_t>(k)])
                                    << (8 * k);
                        }
                        out[i] = decode_run<F, K == value_kind::nvfp4>(lec, q, code, sc, si);
                      }
                    });
  });
}

}  // namespace detail

/// Values of v's codes under cfg (the config quantize used): out[0..n), as
/// float, bf16 or fp16 (one nearest-even rounding for the latter two, through
/// a float buffer per thread). v.tensor_scale is read for tensor and NVFP4
/// scaling only.
template <class T, std::enable_if_t<std::is_same<T, float>::value || std::is_same<T, bf16>::value ||
                                        std::is_same<T, fp16>::value, int> = 0>
void dequantize(const quantized_view& v, const quant_config& cfg, T* out, std::size_t n) {
  const std::size_t nscales = detail::check_view("dequantize", n, cfg, v);
  if (n == 0) return;
  if (out == nullptr) detail::tensor_fail("dequantize", "null pointer");
  const detail::scale_set q{v.scales, nscales, detail::needs_tensor_scale(cfg) ? *v.tensor_scale : 1.0f};
  if constexpr (std::is_same<T, float>::value) {
    detail::dequantize_runs(v.codes, n, cfg, q, out);
  } else {
    detail::for_each_piece(n, cfg, q, [&](float* buf, std::size_t s, std::size_t len, const detail::piece_config& p) {
      detail::dequantize_runs(v.codes + code_bytes(s, cfg), len, p.c, p.q, buf);
      detail::narrow(buf, len, out + s);
    });
  }
}

// The instantiations of the compiled mode (PQT_TENSOR_LIB): declared here,
// defined in the pqt_tensor library (src/tensor_quantize.cpp,
// src/tensor_dequantize.cpp).
#define PQT_QUANTIZE_INSTANCES(X, T) \
  X void quantize<T, 0>(const T*, std::size_t, const quant_config&, const quantized_view&);
#define PQT_DEQUANTIZE_INSTANCES(X, T) \
  X void dequantize<T, 0>(const quantized_view&, const quant_config&, T*, std::size_t);
#if defined(PQT_TENSOR_LIB)
PQT_QUANTIZE_INSTANCES(extern template, float)
PQT_QUANTIZE_INSTANCES(extern template, bf16)
PQT_QUANTIZE_INSTANCES(extern template, fp16)
PQT_DEQUANTIZE_INSTANCES(extern template, float)
PQT_DEQUANTIZE_INSTANCES(extern template, bf16)
PQT_DEQUANTIZE_INSTANCES(extern template, fp16)
#endif

/// Values of q's codes under cfg (the config quantize used): out[0..q.n), as
/// float, bf16 or fp16 (one nearest-even rounding for the latter two).
template <class T, std::enable_if_t<std::is_same<T, float>::value || std::is_same<T, bf16>::value ||
                                        std::is_same<T, fp16>::value, int> = 0>
void dequantize(const quantized& q, const quant_config& cfg, T* out, std::size_t n) {
  if (n != q.n) detail::tensor_fail("dequantize", "n differs from the quantized tensor's");
  float ts = q.tensor_scale;
  dequantize(quantized_view{const_cast<std::uint8_t*>(q.codes.data()), q.codes.size(),
                            const_cast<std::uint8_t*>(q.scales.data()), q.scales.size(), &ts, q.n},
             cfg, out, n);
}

/// amax of x (max |x|; NaN if any element is NaN), on OpenMP threads.
template <class T>
float amax(const T* x, std::size_t n, int threads) {
  if (n != 0 && x == nullptr) detail::tensor_fail("amax", "null pointer");
  return detail::amax_parallel(x, n, threads);
}

}  // namespace pqt

// GaussWS over tensors uses this header's loops; included here so that
// <pqt/fake_quant.hpp> keeps offering it.
#include "gaussws.hpp"

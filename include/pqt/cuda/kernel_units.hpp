#pragma once
/// The pieces of the CUDA tensor kernels below the bodies (kernel_bodies.hpp),
/// as PQT_HD code that plain g++ compiles too: the kernels' parameters
/// (kernel_params, gaussws_kernel_params, built on the host from the host
/// API's configs), the element types (float, bf16/fp16 as 16-bit codes), the
/// 16-byte vector loads and stores, how an elementwise pass splits [0, n) into
/// units (unit_plan), a unit's random words, the block/tile cursor, and one
/// unit of fake_quant / quantize (quant_unit: encode, decode, store).
///   pqt::cuda::kernel_params p = pqt::cuda::make_kernel_params(cfg);

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../config.hpp"
#include "../convert.hpp"
#include "../detail/bits.hpp"
#include "../detail/float_ops.hpp"
#include "../detail/tensor_ops.hpp"
#include "../fake_quant.hpp"
#include "../format.hpp"
#include "../minifloat.hpp"
#include "../noise.hpp"
#include "../random.hpp"
#include "../scale.hpp"

namespace pqt {
namespace cuda {

// =============================================================================
// Parameters: plain data built on the host from the host API's configs
// =============================================================================

/// The scalar fields of a quant_config that kernels need (quant_config holds a
/// format_desc, a host class): device code gets this by value.
struct kernel_params {
  pqt::detail::format_facts f{4, 3, encoding::fn, 7, true};
  rounding round = rounding::nearest_even;
  overflow over = overflow::saturate;
  int k = 32;
  float sigma = 0.5f;
  std::uint64_t seed = 0, offset = 0, index_base = 0;
  scaling scale = scaling::none;
  block_scale kind = block_scale::mx;
  e8m0_rounding rule = e8m0_rounding::floor;
  tensor_scaling tensor = {};
  float tensor_scale = 0.0f;  ///< > 0: given (delayed scaling)
  std::size_t block_size = 32, rows = 0, cols = 0, tile_rows = 16, tile_cols = 16;
  int emax = 8;           ///< element format's largest exponent
  float max_f = 448.0f;   ///< element format's largest value
  int bits = 8;           ///< element format's total bits
  int bytes = 1;          ///< element format's storage bytes
};

/// kernel_params of a (validated) quant_config.
inline kernel_params make_kernel_params(const quant_config& c) {
  kernel_params p;
  p.f = c.format.facts();
  p.round = c.round;
  p.over = c.over;
  p.k = c.random_bits;
  p.sigma = c.sigma;
  p.seed = c.seed;
  p.offset = c.offset;
  p.index_base = c.index_base;
  p.scale = c.scale;
  p.kind = c.block_kind;
  p.rule = c.e8m0_rule;
  p.tensor = c.tensor;
  p.tensor_scale = c.tensor_scale;
  p.block_size = c.block_size;
  p.rows = c.rows;
  p.cols = c.cols;
  p.tile_rows = c.tile_rows;
  p.tile_cols = c.tile_cols;
  p.emax = c.format.facts().emax();
  p.max_f = c.format.max();
  p.bits = c.format.total_bits();
  p.bytes = c.format.storage_bytes();
  return p;
}

/// The scalar fields of a gaussws_config that kernels need.
struct gaussws_kernel_params {
  pqt::detail::gaussws_params g;
  std::uint64_t index_base = 0;
  scaling scale = scaling::block;
  std::size_t block_size = 32, rows = 0, cols = 0, tile_rows = 16, tile_cols = 16;
};

inline gaussws_kernel_params make_gaussws_kernel_params(const gaussws_config& c) {
  gaussws_kernel_params p;
  p.g = pqt::detail::make_gaussws_params(c);
  p.index_base = c.index_base;
  p.scale = c.scale;
  p.block_size = c.block_size;
  p.rows = c.rows;
  p.cols = c.cols;
  p.tile_rows = c.tile_rows;
  p.tile_cols = c.tile_cols;
  return p;
}

/// Where quantize writes (device pointers) and dequantize reads: the host
/// API's pqt::quantized_view over device memory.
///   pqt::cuda::quantized_view q{d_codes, code_bytes(n, cfg), d_scales, scale_count(n, cfg), d_ts, n};
using pqt::quantized_view;

namespace detail {

using pqt::detail::abs_bits;
using pqt::detail::bit_cast;
using pqt::detail::run_scale;

// =============================================================================
// Element types: float, and bf16 / fp16 carried as their 16-bit codes
// =============================================================================

template <class Elem>
struct elem_traits;
template <>
struct elem_traits<float> {
  using storage = float;
  PQT_HD PQT_FORCEINLINE static float widen(float x) { return x; }
  PQT_HD PQT_FORCEINLINE static float narrow(float y) { return y; }
};
/// bf16 and fp16 (format F) carried as their 16-bit codes.
template <class F>
struct code16_traits {
  using storage = std::uint16_t;
  PQT_HD PQT_FORCEINLINE static float widen(std::uint16_t b) { return decode<F>(b); }
  /// One nearest-even rounding, as the host API narrows (bf16(float)).
  PQT_HD PQT_FORCEINLINE static std::uint16_t narrow(float y) {
    return encode<F, rounding::nearest_even, overflow::nonsaturating>(y);
  }
};
template <>
struct elem_traits<bf16> : code16_traits<fmt::bf16> {};
template <>
struct elem_traits<fp16> : code16_traits<fmt::fp16> {};

/// GaussWS carriers: float, or bf16 as its code.
template <class Carrier>
struct carrier_traits;
template <>
struct carrier_traits<float> {
  using storage = float;
  using format = float;  // gaussws_value<float> returns the float
};
template <>
struct carrier_traits<bf16> {
  using storage = std::uint16_t;
  using format = fmt::bf16;  // gaussws_value<fmt::bf16> returns the bf16 code
};

/// Elements per unit: 16 bytes of the narrower of two storage types.
template <class A, class B>
constexpr int unit_size() {
  return (sizeof(A) < sizeof(B) ? 16 / static_cast<int>(sizeof(A)) : 16 / static_cast<int>(sizeof(B)));
}

// =============================================================================
// Vector I/O: 16-byte loads/stores (uint4 on the device, memcpy on the host)
// =============================================================================

template <class S>
struct alignas(16) pack16 {
  S s[16 / sizeof(S)];
};

template <class S>
PQT_HD PQT_FORCEINLINE pack16<S> load16(const S* p) {
#if defined(__CUDA_ARCH__)
  return bit_cast<pack16<S>>(*reinterpret_cast<const uint4*>(p));
#else
  pack16<S> v;
  std::memcpy(&v, p, 16);
  return v;
#endif
}

template <class S>
PQT_HD PQT_FORCEINLINE void store16(S* p, const pack16<S>& v) {
#if defined(__CUDA_ARCH__)
  *reinterpret_cast<uint4*>(p) = bit_cast<uint4>(v);
#else
  std::memcpy(p, &v, 16);
#endif
}

/// nbytes (1..8) little-endian bytes of v at p: one store when p is aligned
/// to a power-of-two nbytes on the device, byte by byte otherwise.
PQT_HD PQT_FORCEINLINE void store_le(std::uint8_t* p, std::uint64_t v, int nbytes) {
#if defined(__CUDA_ARCH__)
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  if (nbytes == 8 && (a & 7u) == 0) {
    *reinterpret_cast<unsigned long long*>(p) = v;
    return;
  }
  if (nbytes == 4 && (a & 3u) == 0) {
    *reinterpret_cast<unsigned int*>(p) = static_cast<unsigned int>(v);
    return;
  }
  if (nbytes == 2 && (a & 1u) == 0) {
    *reinterpret_cast<unsigned short*>(p) = static_cast<unsigned short>(v);
    return;
  }
#endif
  for (int k = 0; k < nbytes; ++k) p[k] = static_cast<std::uint8_t>(v >> (8 * k));
}

PQT_HD PQT_FORCEINLINE std::uint32_t load_le(const std::uint8_t* p, int nbytes) {
#if defined(__CUDA_ARCH__)
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  if (nbytes == 4 && (a & 3u) == 0) return *reinterpret_cast<const unsigned int*>(p);
  if (nbytes == 2 && (a & 1u) == 0) return *reinterpret_cast<const unsigned short*>(p);
#endif
  std::uint32_t v = 0;
  for (int k = 0; k < nbytes; ++k) v |= static_cast<std::uint32_t>(p[k]) << (8 * k);
  return v;
}

PQT_HD PQT_FORCEINLINE bool aligned16(const void* p) { return (reinterpret_cast<std::uintptr_t>(p) & 15u) == 0; }

/// Loads `count` (<= V) elements from x + first, widened to float: 16-byte
/// vectors when `vec` and the unit is full, element by element otherwise.
/// Missing elements read as +0.
template <class Elem, int V>
PQT_HD PQT_FORCEINLINE void load_unit(const typename elem_traits<Elem>::storage* x, std::size_t first, int count,
                                      bool vec, float (&v)[V]) {
  using S = typename elem_traits<Elem>::storage;
  constexpr int per = 16 / static_cast<int>(sizeof(S));
  static_assert(V % per == 0, "a unit is whole 16-byte vectors");
  if (vec && count == V) {
    PQT_UNROLL for (int c = 0; c < V / per; ++c) {
      const pack16<S> p = load16(x + first + static_cast<std::size_t>(c * per));
      PQT_UNROLL for (int j = 0; j < per; ++j) v[c * per + j] = elem_traits<Elem>::widen(p.s[j]);
    }
  } else {
    PQT_UNROLL for (int j = 0; j < V; ++j) v[j] = j < count ? elem_traits<Elem>::widen(x[first + static_cast<std::size_t>(j)]) : 0.0f;
  }
}

/// Stores `count` (<= V) values of storage type S at out + first.
template <class S, int V>
PQT_HD PQT_FORCEINLINE void store_unit(S* out, std::size_t first, int count, bool vec, const S (&y)[V]) {
  constexpr int per = 16 / static_cast<int>(sizeof(S));
  static_assert(V % per == 0, "a unit is whole 16-byte vectors");
  if (vec && count == V) {
    PQT_UNROLL for (int c = 0; c < V / per; ++c) {
      pack16<S> p;
      PQT_UNROLL for (int j = 0; j < per; ++j) p.s[j] = y[c * per + j];
      store16(out + first + static_cast<std::size_t>(c * per), p);
    }
  } else {
    PQT_UNROLL for (int j = 0; j < V; ++j) if (j < count) out[first + static_cast<std::size_t>(j)] = y[j];
  }
}

// =============================================================================
// Units: how an elementwise pass splits [0, n)
// =============================================================================

/// head (elements before the first 16-byte aligned unit, its own unit), nvec
/// full units of V, and a tail unit. Without a common alignment there is no
/// head and units are processed element by element.
struct unit_plan {
  std::size_t head = 0, nvec = 0, tail = 0;
  int v = 4;
  bool vec = false;

  PQT_HD std::size_t items() const { return (head != 0 ? 1 : 0) + nvec + (tail != 0 ? 1 : 0); }
  PQT_HD void item(std::size_t it, std::size_t& first, int& count) const {
    if (head != 0) {
      if (it == 0) {
        first = 0;
        count = static_cast<int>(head);
        return;
      }
      --it;
    }
    if (it < nvec) {
      first = head + it * static_cast<std::size_t>(v);
      count = v;
      return;
    }
    first = head + nvec * static_cast<std::size_t>(v);
    count = static_cast<int>(tail);
  }
};

/// A pointer taking part in a pass and its element size (addr 0: none).
struct ptr_info {
  std::uintptr_t addr = 0;
  int size = 4;
};
template <class T>
ptr_info info(const T* p) {
  return {reinterpret_cast<std::uintptr_t>(p), static_cast<int>(sizeof(T))};
}

/// Units of V over n elements. With allow_head, the head aligns `a` (the
/// pointer with the smaller elements); vectors are used when `a` and `b` are
/// both 16-byte aligned after the head. Without allow_head units start at
/// multiples of V (quantize: packed codes never straddle units).
inline unit_plan make_plan(std::size_t n, int v, bool allow_head, ptr_info a, ptr_info b = {}) {
  unit_plan p;
  p.v = v;
  std::size_t head = 0;
  if (allow_head && a.addr != 0 && a.addr % static_cast<std::uintptr_t>(a.size) == 0)
    head = ((16 - a.addr % 16) % 16) / static_cast<std::size_t>(a.size);
  if (head > n) head = n;
  auto ok = [&](ptr_info q) {
    return q.addr == 0 || (q.addr + head * static_cast<std::size_t>(q.size)) % 16 == 0;
  };
  p.vec = ok(a) && ok(b);
  if (!p.vec) head = 0;
  if (head >= static_cast<std::size_t>(v)) head %= static_cast<std::size_t>(v);  // cannot happen for 16-byte units
  p.head = head;
  p.nvec = (n - head) / static_cast<std::size_t>(v);
  p.tail = (n - head) % static_cast<std::size_t>(v);
  return p;
}

// =============================================================================
// Random words of a unit
// =============================================================================

/// One-word draws of elements base .. base + count - 1 (count <= V): one Philox
/// call per four when base is a multiple of four and the unit is full.
template <int V>
PQT_HD PQT_FORCEINLINE void unit_words(std::uint64_t seed, std::uint64_t offset, std::uint64_t base, int count,
                                       std::uint32_t (&w)[V]) {
  if (count == V && (base & 3u) == 0) {
    PQT_UNROLL for (int g = 0; g < V / 4; ++g) {
      const u32x4 b = random_block4(seed, offset, (base >> 2) + static_cast<std::uint64_t>(g));
      PQT_UNROLL for (int j = 0; j < 4; ++j) w[4 * g + j] = b.v[j];
    }
  } else {
    PQT_UNROLL for (int j = 0; j < V; ++j) w[j] = j < count ? random_word(seed, offset, base + static_cast<std::uint64_t>(j)) : 0u;
  }
}

/// Two-word draws (Box-Muller): one Philox call per two elements when base is even.
template <int V>
PQT_HD PQT_FORCEINLINE void unit_pairs(std::uint64_t seed, std::uint64_t offset, std::uint64_t base, int count,
                                       word_pair (&pr)[V]) {
  if (count == V && (base & 1u) == 0) {
    PQT_UNROLL for (int h = 0; h < V / 2; ++h) {
      const u32x4 b = random_block2(seed, offset, (base >> 1) + static_cast<std::uint64_t>(h));
      pr[2 * h] = word_pair{b.v[0], b.v[1]};
      pr[2 * h + 1] = word_pair{b.v[2], b.v[3]};
    }
  } else {
    PQT_UNROLL for (int j = 0; j < V; ++j) pr[j] = j < count ? random_words2(seed, offset, base + static_cast<std::uint64_t>(j)) : word_pair{0, 0};
  }
}

// =============================================================================
// Which block / tile an element belongs to, walking a unit without divisions
// =============================================================================

struct scale_cursor {
  int mode = 0;  // 0: one scale for all, 1: blocks of bs, 2: tiles
  std::size_t bs = 1, blk = 0, rem = 0;
  std::size_t cols = 1, tr = 1, tc = 1, across = 1;
  std::size_t col = 0, tcol = 0, in_tcol = 0, trow = 0, in_trow = 0;

  PQT_HD static scale_cursor blocks(std::size_t block_size) {
    scale_cursor c;
    c.mode = 1;
    c.bs = block_size;
    return c;
  }
  PQT_HD static scale_cursor tiles(const tile_shape& s) {
    scale_cursor c;
    c.mode = 2;
    c.cols = s.cols;
    c.tr = s.tile_rows;
    c.tc = s.tile_cols;
    c.across = s.tiles_across();
    return c;
  }
  PQT_HD void start(std::size_t i) {
    if (mode == 1) {
      blk = i / bs;
      rem = i - blk * bs;
    } else if (mode == 2) {
      const std::size_t row = i / cols;
      col = i - row * cols;
      tcol = col / tc;
      in_tcol = col - tcol * tc;
      trow = row / tr;
      in_trow = row - trow * tr;
    }
  }
  PQT_HD std::size_t index() const { return mode == 1 ? blk : mode == 2 ? trow * across + tcol : 0; }
  PQT_HD void step() {
    if (mode == 1) {
      if (++rem == bs) {
        rem = 0;
        ++blk;
      }
    } else if (mode == 2) {
      if (++col == cols) {
        col = tcol = in_tcol = 0;
        if (++in_trow == tr) {
          in_trow = 0;
          ++trow;
        }
      } else if (++in_tcol == tc) {
        in_tcol = 0;
        ++tcol;
      }
    }
  }
};

// =============================================================================
// One element of fake_quant / quantize / dequantize
// =============================================================================

/// An element's scaling: a run_scale, or NVFP4's block code and divisor.
struct elem_scale {
  run_scale sc;
  std::uint8_t code = 0;  ///< NVFP4 block scale code
  double d = 1.0;         ///< NVFP4 divisor decode(code) * s_t
};

PQT_HD PQT_FORCEINLINE elem_scale scale_of_code(bool nvfp4, std::uint8_t code, float st) {
  elem_scale e;
  e.code = code;
  if (nvfp4) e.d = pqt::detail::nvfp4_divisor(code, st);
  else e.sc = pqt::detail::e8m0_run(code);
  return e;
}

/// x -> code, as the host's encode_run (scaled value, then one rounding).
PQT_HD PQT_FORCEINLINE std::uint32_t quant_encode(const kernel_params& p, bool nvfp4, float x, const elem_scale& es,
                                                  std::uint32_t word, word_pair pr) {
  if (nvfp4) return pqt::detail::encode_double(p.f, pqt::detail::nvfp4_scaled(x, es.d), p.round, p.over, word, p.k);
  const float v = pqt::detail::scaled_value(x, es.sc);
  if (p.round == rounding::gaussian) return pqt::detail::gaussian_round_facts(p.f, v, p.sigma, pr, p.over);
  return pqt::detail::encode_float(p.f, v, p.round, p.over, word, p.k);
}

/// code -> value, as the host's decode_run.
PQT_HD PQT_FORCEINLINE float quant_decode(const kernel_params& p, bool nvfp4, std::uint32_t code, const elem_scale& es,
                                          float st) {
  if (nvfp4) return nvfp4_decode_element(static_cast<std::uint8_t>(code), es.code, st);
  return pqt::detail::unscaled_value(pqt::detail::decode_facts(p.f, code), es.sc);
}

/// Writes the unit's codes: packed FP4/FP6 and other sub-byte codes as one
/// little-endian store of the unit's bytes (units start at multiples of 4
/// elements, so no byte is shared), 16/32-bit codes one by one.
template <int V>
PQT_HD PQT_FORCEINLINE void store_codes(std::uint8_t* codes, std::size_t first, int count, const std::uint32_t (&c)[V],
                                        int bits, int bytes) {
  if (bytes == 1) {
    const int width = (bits == 4 || bits == 6) ? bits : 8;
    std::uint64_t acc = 0;
    PQT_UNROLL for (int j = 0; j < V; ++j) if (j < count) acc |= static_cast<std::uint64_t>(c[j]) << (width * j);
    store_le(codes + first * static_cast<std::size_t>(width) / 8, acc, (width * count + 7) / 8);
  } else {
    PQT_UNROLL for (int j = 0; j < V; ++j) if (j < count) store_le(codes + (first + static_cast<std::size_t>(j)) * static_cast<std::size_t>(bytes), c[j], bytes);
  }
}

PQT_HD PQT_FORCEINLINE std::uint32_t read_code(const std::uint8_t* codes, std::size_t i, int bits, int bytes) {
  if (bits == 4 || bits == 6) return pqt::detail::read_packed_code(codes, i, bits);
  return load_le(codes + i * static_cast<std::size_t>(bytes), bytes);
}

enum class qop : int { fake_quant = 0, quantize = 1 };

/// Encodes one loaded unit and writes it: fake_quant narrows the decoded
/// values into out, quantize writes codes. scale_at(j) gives element j's scale.
template <class Elem, qop Op, int V, class ScaleAt>
PQT_HD PQT_FORCEINLINE void quant_unit(const kernel_params& p, bool nvfp4, float st, std::size_t first, int count,
                                       bool vec, const float (&v)[V], ScaleAt&& scale_at,
                                       typename elem_traits<Elem>::storage* out, std::uint8_t* codes) {
  using S = typename elem_traits<Elem>::storage;
  std::uint32_t w[V] = {};
  word_pair pr[V] = {};
  const std::uint64_t base = p.index_base + first;
  if (p.round == rounding::stochastic) unit_words<V>(p.seed, p.offset, base, count, w);
  else if (p.round == rounding::gaussian) unit_pairs<V>(p.seed, p.offset, base, count, pr);
  std::uint32_t c[V] = {};
  S y[V] = {};
  PQT_UNROLL for (int j = 0; j < V; ++j) {
    if (j < count) {
      const elem_scale es = scale_at(j);
      c[j] = quant_encode(p, nvfp4, v[j], es, w[j], pr[j]);
      if constexpr (Op == qop::fake_quant) y[j] = elem_traits<Elem>::narrow(quant_decode(p, nvfp4, c[j], es, st));
    }
  }
  if constexpr (Op == qop::fake_quant) {
    (void)codes;
    store_unit<S, V>(out, first, count, vec, y);
  } else {
    (void)out;
    (void)vec;
    store_codes<V>(codes, first, count, c, p.bits, p.bytes);
  }
}

}  // namespace detail
}  // namespace cuda
}  // namespace pqt

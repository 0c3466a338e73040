#pragma once
/// The CUDA tensor kernels' per-thread bodies and their launch sequences,
/// written as PQT_HD code that plain g++ compiles too. This is the one file
/// under pqt/cuda/ that is not CUDA-only (it does not #error without
/// __CUDACC__): tests run every body over every (block, thread) of a launch on
/// the host (host_executor below), so the indexing, vector, alignment and
/// tail logic the GPU runs is tested without a GPU. The .cuh files add only
/// the __global__ wrappers, CUB/warp reductions and the launchers.
///   pqt::cuda::host_executor ex;                          // emulates a grid on the host
///   pqt::cuda::run_fake_quant<float>(ex, pqt::cuda::make_kernel_params(cfg), x, y, n);
///
/// Shape of the work (README "CUDA"):
///   * elementwise passes walk "units" of V elements (V = 16 bytes of the
///     narrower of input and output: 4 floats or 8 bf16/fp16) in a grid-stride
///     loop; a unit is one 16-byte vector load/store when the pointers are
///     16-byte aligned at the same element, else element by element; a head
///     (elements before the first aligned unit) and a tail are units of their
///     own. Codes written by quantize never share a byte between units.
///   * random words: a unit whose first index (index_base + i) is a multiple of
///     four takes one Philox call per four elements (random_block4), others
///     one call per element (random_word); the words are the same either way.
///   * MX / NVFP4 / GaussWS blocks of L * V elements, L in {1, 2, ..., 32}, are
///     fused: L lanes of a warp hold a block's units in registers, reduce its
///     amax with warp shuffles, then encode (one read, one write). Other block
///     sizes, unaligned pointers and 2-D tiles take two passes: scales (one
///     thread per block, one thread block per tile), then the elementwise pass.
///   * per-tensor amax: a grid-stride max over magnitude bits (exact and
///     order-free), reduced per block and combined with atomicMax.
/// Device code uses the generic encode/decode routines (the host's float fast
/// paths give the same bits, tested): kernel_params never enables them.

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

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
template <>
struct elem_traits<bf16> {
  using storage = std::uint16_t;
  PQT_HD PQT_FORCEINLINE static float widen(std::uint16_t b) { return decode<fmt::bf16>(b); }
  /// One nearest-even rounding, as the host API narrows (bf16(float)).
  PQT_HD PQT_FORCEINLINE static std::uint16_t narrow(float y) {
    return encode<fmt::bf16, rounding::nearest_even, overflow::nonsaturating>(y);
  }
};
template <>
struct elem_traits<fp16> {
  using storage = std::uint16_t;
  PQT_HD PQT_FORCEINLINE static float widen(std::uint16_t b) { return decode<fmt::fp16>(b); }
  PQT_HD PQT_FORCEINLINE static std::uint16_t narrow(float y) {
    return encode<fmt::fp16, rounding::nearest_even, overflow::nonsaturating>(y);
  }
};

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

// =============================================================================
// Bodies. map:     void operator()(thread, nthreads)   one grid-stride loop
//         reduce:  std::uint32_t operator()(thread, nthreads)   partial max
//         group:   load(tile, lane, state) -> partial; finish(tile, lane, state, group max)
//         segment: partial(seg, t, nt); finish(seg, max)   one thread block per segment
// =============================================================================

/// Per-tensor amax as magnitude bits; NaNs count as the quiet NaN 0x7FC00000
/// (so the max is exactly amax()'s result).
template <class Elem>
struct amax_body {
  using S = typename elem_traits<Elem>::storage;
  static constexpr int V = 16 / static_cast<int>(sizeof(S));
  const S* x = nullptr;
  std::size_t n = 0;
  unit_plan plan;

  PQT_HD std::uint32_t operator()(std::size_t thread, std::size_t nthreads) const {
    std::uint32_t m = 0;
    const std::size_t items = plan.items();
    for (std::size_t it = thread; it < items; it += nthreads) {
      std::size_t first = 0;
      int count = 0;
      plan.item(it, first, count);
      float v[V];
      load_unit<Elem, V>(x, first, count, plan.vec, v);
      PQT_UNROLL for (int j = 0; j < V; ++j) {
        std::uint32_t a = abs_bits(v[j]);  // missing elements are +0
        a = a > 0x7F800000u ? 0x7FC00000u : a;
        m = a > m ? a : m;
      }
    }
    return m;
  }
};

/// The tensor-level scale (one thread): s of per-tensor scaling (given, or
/// compute_scale of the amax), NVFP4's s_t, or 1.
struct tensor_scale_body {
  kernel_params p;
  const std::uint32_t* amax = nullptr;
  float* out = nullptr;

  PQT_HD void operator()(std::size_t thread, std::size_t) const {
    if (thread != 0) return;
    const float a = bit_cast<float>(*amax);
    float s = 1.0f;
    if (p.scale == scaling::tensor) s = p.tensor_scale > 0 ? p.tensor_scale : compute_scale(p.max_f, a, p.tensor, 1.0f);
    else if (p.scale == scaling::block && p.kind == block_scale::nvfp4) s = nvfp4_tensor_scale(a);
    *out = s;
  }
};

/// Elementwise fake_quant / quantize: no or per-tensor scaling, or block/tile
/// codes computed by an earlier pass.
template <class Elem, qop Op>
struct quant_map_body {
  using S = typename elem_traits<Elem>::storage;
  static constexpr int V = 16 / static_cast<int>(sizeof(S));
  kernel_params p;
  const S* x = nullptr;
  std::size_t n = 0;
  unit_plan plan;
  S* out = nullptr;                       ///< fake_quant
  std::uint8_t* codes = nullptr;          ///< quantize
  const std::uint8_t* scales = nullptr;   ///< block / tile scale codes
  const float* tscale = nullptr;          ///< per-tensor s or NVFP4 s_t

  PQT_HD void operator()(std::size_t thread, std::size_t nthreads) const {
    const bool nv = p.scale == scaling::block && p.kind == block_scale::nvfp4;
    const float st = (p.scale == scaling::tensor || nv) ? *tscale : 1.0f;
    elem_scale fixed;
    if (p.scale == scaling::tensor) fixed.sc = pqt::detail::tensor_run(st);
    scale_cursor cur = p.scale == scaling::block ? scale_cursor::blocks(p.block_size)
                       : p.scale == scaling::tile ? scale_cursor::tiles(tile_shape{p.rows, p.cols, p.tile_rows, p.tile_cols})
                                                  : scale_cursor{};
    const std::size_t items = plan.items();
    for (std::size_t it = thread; it < items; it += nthreads) {
      std::size_t first = 0;
      int count = 0;
      plan.item(it, first, count);
      float v[V];
      load_unit<Elem, V>(x, first, count, plan.vec, v);
      cur.start(first);
      quant_unit<Elem, Op, V>(p, nv, st, first, count, plan.vec, v,
                              [&](int) {
                                elem_scale e = fixed;
                                if (cur.mode != 0) e = scale_of_code(nv, scales[cur.index()], st);
                                cur.step();
                                return e;
                              },
                              out, codes);
    }
  }
};

/// Fused per-block fake_quant / quantize (MX or NVFP4): a warp-tile is 32
/// units; the L = block_size / V lanes of a block reduce its amax together.
template <class Elem, qop Op>
struct quant_group_body {
  using S = typename elem_traits<Elem>::storage;
  static constexpr int V = 16 / static_cast<int>(sizeof(S));
  kernel_params p;
  const S* x = nullptr;
  std::size_t n = 0;
  S* out = nullptr;
  std::uint8_t* codes = nullptr;
  std::uint8_t* scales = nullptr;   ///< quantize: block scale codes out
  const float* tscale = nullptr;    ///< NVFP4 s_t

  struct state {
    float v[V];
  };

  PQT_HD int group_lanes() const { return static_cast<int>(p.block_size / V); }
  PQT_HD PQT_FORCEINLINE void unit(std::size_t tile, int lane, std::size_t& first, int& count) const {
    first = (tile * 32 + static_cast<std::size_t>(lane)) * V;
    count = first >= n ? 0 : (n - first < static_cast<std::size_t>(V) ? static_cast<int>(n - first) : V);
  }
  PQT_HD std::uint32_t load(std::size_t tile, int lane, state& s) const {
    std::size_t first = 0;
    int count = 0;
    unit(tile, lane, first, count);
    load_unit<Elem, V>(x, first, count, true, s.v);
    std::uint32_t m = 0;
    PQT_UNROLL for (int j = 0; j < V; ++j) {
      const std::uint32_t a = abs_bits(s.v[j]);
      m = a > m ? a : m;
    }
    return m;
  }
  PQT_HD void finish(std::size_t tile, int lane, const state& s, std::uint32_t amax) const {
    std::size_t first = 0;
    int count = 0;
    unit(tile, lane, first, count);
    if (count == 0) return;
    const bool nv = p.kind == block_scale::nvfp4;
    const float st = nv ? *tscale : 1.0f;
    const float a = bit_cast<float>(amax);
    const std::uint8_t code = nv ? nvfp4_block_scale(a, st) : mx_scale(p.emax, p.max_f, a, p.rule);
    if (Op == qop::quantize && first % p.block_size == 0) scales[first / p.block_size] = code;
    const elem_scale es = scale_of_code(nv, code, st);
    quant_unit<Elem, Op, V>(p, nv, st, first, count, true, s.v, [&](int) { return es; }, out, codes);
  }
};

/// Block scales, one thread per block (block sizes the fused path does not
/// take, or unaligned pointers): MX / NVFP4 codes, or GaussWS exponents.
template <class Elem>
struct block_scale_body {
  using S = typename elem_traits<Elem>::storage;
  const S* x = nullptr;
  std::size_t n = 0, bs = 32;
  int what = 0;  // 0: MX e8m0, 1: NVFP4 ue4m3, 2: GaussWS exponent
  int emax = 8;
  float max_f = 448.0f;
  e8m0_rounding rule = e8m0_rounding::floor;
  const float* tscale = nullptr;
  pqt::detail::gaussws_params g;
  std::uint8_t* codes = nullptr;
  int* exps = nullptr;

  PQT_HD void operator()(std::size_t thread, std::size_t nthreads) const {
    const std::size_t nb = n / bs + (n % bs != 0 ? 1 : 0);
    for (std::size_t b = thread; b < nb; b += nthreads) {
      const std::size_t end = (b + 1) * bs < n ? (b + 1) * bs : n;
      std::uint32_t m = 0;
      for (std::size_t i = b * bs; i < end; ++i) {
        const std::uint32_t a = abs_bits(elem_traits<Elem>::widen(x[i]));
        m = a > m ? a : m;
      }
      const float a = bit_cast<float>(m);
      if (what == 0) codes[b] = mx_scale(emax, max_f, a, rule);
      else if (what == 1) codes[b] = nvfp4_block_scale(a, *tscale);
      else exps[b] = pqt::detail::gaussws_exponent(g, a);
    }
  }
};

/// Tile scales, one thread block per tile: e8m0 codes or GaussWS exponents.
template <class Elem>
struct tile_scale_body {
  using S = typename elem_traits<Elem>::storage;
  const S* x = nullptr;
  tile_shape shape;
  bool gaussws = false;
  int emax = 8;
  float max_f = 448.0f;
  e8m0_rounding rule = e8m0_rounding::floor;
  pqt::detail::gaussws_params g;
  std::uint8_t* codes = nullptr;
  int* exps = nullptr;

  PQT_HD std::uint32_t partial(std::size_t seg, std::size_t t, std::size_t nt) const {
    const tile_rect r = shape.tile(seg);
    const std::size_t count = r.rows * r.cols;
    std::uint32_t m = 0;
    for (std::size_t k = t; k < count; k += nt) {
      const std::size_t i = k / r.cols, j = k - i * r.cols;
      const std::uint32_t a = abs_bits(elem_traits<Elem>::widen(x[(r.row + i) * shape.cols + r.col + j]));
      m = a > m ? a : m;
    }
    return m;
  }
  PQT_HD void finish(std::size_t seg, std::uint32_t m) const {
    const float a = bit_cast<float>(m);
    if (gaussws) exps[seg] = pqt::detail::gaussws_exponent(g, a);
    else codes[seg] = mx_scale(emax, max_f, a, rule);
  }
};

/// dequantize: codes (+ scales, tensor scale) -> values.
template <class Elem>
struct dequant_body {
  using S = typename elem_traits<Elem>::storage;
  static constexpr int V = 16 / static_cast<int>(sizeof(S));
  kernel_params p;
  const std::uint8_t* codes = nullptr;
  const std::uint8_t* scales = nullptr;
  const float* tscale = nullptr;
  S* out = nullptr;
  std::size_t n = 0;
  unit_plan plan;

  PQT_HD void operator()(std::size_t thread, std::size_t nthreads) const {
    const bool nv = p.scale == scaling::block && p.kind == block_scale::nvfp4;
    const float st = (p.scale == scaling::tensor || nv) ? *tscale : 1.0f;
    elem_scale fixed;
    if (p.scale == scaling::tensor) fixed.sc = pqt::detail::tensor_run(st);
    scale_cursor cur = p.scale == scaling::block ? scale_cursor::blocks(p.block_size)
                       : p.scale == scaling::tile ? scale_cursor::tiles(tile_shape{p.rows, p.cols, p.tile_rows, p.tile_cols})
                                                  : scale_cursor{};
    const std::size_t items = plan.items();
    for (std::size_t it = thread; it < items; it += nthreads) {
      std::size_t first = 0;
      int count = 0;
      plan.item(it, first, count);
      cur.start(first);
      S y[V] = {};
      PQT_UNROLL for (int j = 0; j < V; ++j) {
        if (j < count) {
          const elem_scale es = cur.mode != 0 ? scale_of_code(nv, scales[cur.index()], st) : fixed;
          cur.step();
          const std::uint32_t c = read_code(codes, first + static_cast<std::size_t>(j), p.bits, p.bytes);
          y[j] = elem_traits<Elem>::narrow(quant_decode(p, nv, c, es, st));
        }
      }
      store_unit<S, V>(out, first, count, plan.vec, y);
    }
  }
};

/// One GaussWS unit: noise words, then gaussws_value per element.
template <class Carrier, int V, class ExpAt>
PQT_HD PQT_FORCEINLINE void gaussws_unit(const gaussws_kernel_params& p, std::size_t first, int count, bool vec,
                                         const float (&v)[V], ExpAt&& exp_at,
                                         typename carrier_traits<Carrier>::storage* out) {
  using CS = typename carrier_traits<Carrier>::storage;
  std::uint32_t w[V] = {};
  word_pair pr[V] = {};
  const std::uint64_t base = p.index_base + first;
  if (p.g.noise == noise_kind::gaussian) unit_pairs<V>(p.g.seed, p.g.offset, base, count, pr);
  else unit_words<V>(p.g.seed, p.g.offset, base, count, w);
  CS y[V] = {};
  PQT_UNROLL for (int j = 0; j < V; ++j) {
    if (j < count) y[j] = pqt::detail::gaussws_value<typename carrier_traits<Carrier>::format>(p.g, v[j], exp_at(j), w[j], pr[j]);
  }
  store_unit<CS, V>(out, first, count, vec, y);
}

/// Elementwise GaussWS: per-tensor exponent from the amax, or per-block /
/// per-tile exponents from an earlier pass.
template <class Elem, class Carrier>
struct gaussws_map_body {
  using S = typename elem_traits<Elem>::storage;
  using CS = typename carrier_traits<Carrier>::storage;
  static constexpr int V = unit_size<S, CS>();
  gaussws_kernel_params p;
  const S* w = nullptr;
  std::size_t n = 0;
  unit_plan plan;
  CS* out = nullptr;
  const std::uint32_t* amax = nullptr;  ///< scaling::tensor
  const int* exps = nullptr;            ///< block / tile exponents

  PQT_HD void operator()(std::size_t thread, std::size_t nthreads) const {
    const int e_tensor = p.scale == scaling::tensor ? pqt::detail::gaussws_exponent(p.g, bit_cast<float>(*amax)) : 0;
    scale_cursor cur = p.scale == scaling::block ? scale_cursor::blocks(p.block_size)
                       : p.scale == scaling::tile ? scale_cursor::tiles(tile_shape{p.rows, p.cols, p.tile_rows, p.tile_cols})
                                                  : scale_cursor{};
    const std::size_t items = plan.items();
    for (std::size_t it = thread; it < items; it += nthreads) {
      std::size_t first = 0;
      int count = 0;
      plan.item(it, first, count);
      float v[V];
      load_unit<Elem, V>(w, first, count, plan.vec, v);
      cur.start(first);
      gaussws_unit<Carrier, V>(p, first, count, plan.vec, v,
                               [&](int) {
                                 const int e = cur.mode != 0 ? exps[cur.index()] : e_tensor;
                                 cur.step();
                                 return e;
                               },
                               out);
    }
  }
};

/// Fused per-block GaussWS (block mode or element mode): one read, one write.
template <class Elem, class Carrier>
struct gaussws_group_body {
  using S = typename elem_traits<Elem>::storage;
  using CS = typename carrier_traits<Carrier>::storage;
  static constexpr int V = unit_size<S, CS>();
  gaussws_kernel_params p;
  const S* w = nullptr;
  std::size_t n = 0;
  CS* out = nullptr;

  struct state {
    float v[V];
  };

  PQT_HD int group_lanes() const { return static_cast<int>(p.block_size / V); }
  PQT_HD PQT_FORCEINLINE void unit(std::size_t tile, int lane, std::size_t& first, int& count) const {
    first = (tile * 32 + static_cast<std::size_t>(lane)) * V;
    count = first >= n ? 0 : (n - first < static_cast<std::size_t>(V) ? static_cast<int>(n - first) : V);
  }
  PQT_HD std::uint32_t load(std::size_t tile, int lane, state& s) const {
    std::size_t first = 0;
    int count = 0;
    unit(tile, lane, first, count);
    load_unit<Elem, V>(w, first, count, true, s.v);
    std::uint32_t m = 0;
    PQT_UNROLL for (int j = 0; j < V; ++j) {
      const std::uint32_t a = abs_bits(s.v[j]);
      m = a > m ? a : m;
    }
    return m;
  }
  PQT_HD void finish(std::size_t tile, int lane, const state& s, std::uint32_t amax) const {
    std::size_t first = 0;
    int count = 0;
    unit(tile, lane, first, count);
    if (count == 0) return;
    const int e = pqt::detail::gaussws_exponent(p.g, bit_cast<float>(amax));
    gaussws_unit<Carrier, V>(p, first, count, true, s.v, [&](int) { return e; }, out);
  }
};

/// Whether blocks of bs elements can take the fused warp path with units of V:
/// a block is 1, 2, 4, 8, 16 or 32 whole units.
PQT_HD inline bool group_block_ok(std::size_t bs, int v) {
  if (bs == 0 || bs % static_cast<std::size_t>(v) != 0) return false;
  const std::size_t l = bs / static_cast<std::size_t>(v);
  return l <= 32 && (l & (l - 1)) == 0;
}

}  // namespace detail

// =============================================================================
// Launch sequences, generic over an executor (host_executor below; the CUDA
// one is in launch.cuh). An executor provides:
//   T* scratch<T>(count)                     zeroed device/host memory for the call
//   map(body, work)                          grid-stride body over >= 1 thread
//   reduce_max(body, work, std::uint32_t*)   *dst = max(*dst, every thread's partial)
//   group(body, tiles)                       warp tiles with lane-group max reductions
//   segments(body, count)                    one thread block per segment
//   bool ok()                                false after an error (then nothing more runs)
// =============================================================================

/// fake_quant (out != nullptr) or quantize (q.codes != nullptr) of n elements.
template <class Elem, detail::qop Op, class Exec>
void run_quant(Exec& ex, const kernel_params& p, const typename detail::elem_traits<Elem>::storage* x, std::size_t n,
               typename detail::elem_traits<Elem>::storage* out, const quantized_view& q) {
  using namespace detail;
  constexpr int V = quant_map_body<Elem, Op>::V;
  const bool nv = p.scale == scaling::block && p.kind == block_scale::nvfp4;
  const bool need_amax = nv || (p.scale == scaling::tensor && !(p.tensor_scale > 0));
  const bool need_ts = nv || p.scale == scaling::tensor || (Op == qop::quantize && q.tensor_scale != nullptr);
  float* ts = nullptr;
  if (need_ts) {
    ts = (Op == qop::quantize && q.tensor_scale != nullptr) ? q.tensor_scale : ex.template scratch<float>(1);
    std::uint32_t* am = ex.template scratch<std::uint32_t>(1);
    if (!ex.ok()) return;
    if (need_amax) ex.reduce_max(amax_body<Elem>{x, n, make_plan(n, V, true, info(x))}, make_plan(n, V, true, info(x)).items(), am);
    ex.map(tensor_scale_body{p, am, ts}, 1);
  }
  const unit_plan plan = Op == qop::quantize ? make_plan(n, V, false, info(x)) : make_plan(n, V, true, info(x), info(out));
  quant_map_body<Elem, Op> body{p, x, n, plan, out, q.codes, nullptr, ts};
  if (p.scale == scaling::block) {
    const std::size_t nb = n / p.block_size + (n % p.block_size != 0 ? 1 : 0);
    if (group_block_ok(p.block_size, V) && aligned16(x) && (Op == qop::quantize || aligned16(out))) {
      const std::size_t tiles = (n + 32 * V - 1) / (32 * V);
      ex.group(quant_group_body<Elem, Op>{p, x, n, out, q.codes, q.scales, ts}, tiles);
      return;
    }
    std::uint8_t* sc = Op == qop::quantize ? q.scales : ex.template scratch<std::uint8_t>(nb);
    if (!ex.ok()) return;
    block_scale_body<Elem> sb;
    sb.x = x;
    sb.n = n;
    sb.bs = p.block_size;
    sb.what = nv ? 1 : 0;
    sb.emax = p.emax;
    sb.max_f = p.max_f;
    sb.rule = p.rule;
    sb.tscale = ts;
    sb.codes = sc;
    ex.map(sb, nb);
    body.scales = sc;
  } else if (p.scale == scaling::tile) {
    const tile_shape shape{p.rows, p.cols, p.tile_rows, p.tile_cols};
    std::uint8_t* sc = Op == qop::quantize ? q.scales : ex.template scratch<std::uint8_t>(shape.count());
    if (!ex.ok()) return;
    tile_scale_body<Elem> tb;
    tb.x = x;
    tb.shape = shape;
    tb.emax = p.emax;
    tb.max_f = p.max_f;
    tb.rule = p.rule;
    tb.codes = sc;
    ex.segments(tb, shape.count());
    body.scales = sc;
  }
  ex.map(body, plan.items());
}

template <class Elem, class Exec>
void run_fake_quant(Exec& ex, const kernel_params& p, const typename detail::elem_traits<Elem>::storage* x,
                    typename detail::elem_traits<Elem>::storage* out, std::size_t n) {
  run_quant<Elem, detail::qop::fake_quant>(ex, p, x, n, out, quantized_view{});
}

template <class Elem, class Exec>
void run_quantize(Exec& ex, const kernel_params& p, const typename detail::elem_traits<Elem>::storage* x, std::size_t n,
                  const quantized_view& q) {
  run_quant<Elem, detail::qop::quantize>(ex, p, x, n, nullptr, q);
}

template <class Elem, class Exec>
void run_dequantize(Exec& ex, const kernel_params& p, const quantized_view& q,
                    typename detail::elem_traits<Elem>::storage* out, std::size_t n) {
  using namespace detail;
  constexpr int V = dequant_body<Elem>::V;
  const unit_plan plan = make_plan(n, V, true, info(out));
  ex.map(dequant_body<Elem>{p, q.codes, q.scales, q.tensor_scale, out, n, plan}, plan.items());
}

template <class Elem, class Carrier, class Exec>
void run_gaussws(Exec& ex, const gaussws_kernel_params& p, const typename detail::elem_traits<Elem>::storage* w,
                 typename detail::carrier_traits<Carrier>::storage* out, std::size_t n) {
  using namespace detail;
  constexpr int V = gaussws_map_body<Elem, Carrier>::V;
  const unit_plan plan = make_plan(n, V, true, sizeof(*w) <= sizeof(*out) ? info(w) : info(out),
                                   sizeof(*w) <= sizeof(*out) ? info(out) : info(w));
  gaussws_map_body<Elem, Carrier> body{p, w, n, plan, out, nullptr, nullptr};
  if (p.scale == scaling::tensor) {
    std::uint32_t* am = ex.template scratch<std::uint32_t>(1);
    if (!ex.ok()) return;
    const unit_plan ap = make_plan(n, amax_body<Elem>::V, true, info(w));
    ex.reduce_max(amax_body<Elem>{w, n, ap}, ap.items(), am);
    body.amax = am;
  } else if (p.scale == scaling::block) {
    if (group_block_ok(p.block_size, V) && aligned16(w) && aligned16(out)) {
      ex.group(gaussws_group_body<Elem, Carrier>{p, w, n, out}, (n + 32 * V - 1) / (32 * V));
      return;
    }
    const std::size_t nb = n / p.block_size + (n % p.block_size != 0 ? 1 : 0);
    int* ex_exps = ex.template scratch<int>(nb);
    if (!ex.ok()) return;
    block_scale_body<Elem> sb;
    sb.x = w;
    sb.n = n;
    sb.bs = p.block_size;
    sb.what = 2;
    sb.g = p.g;
    sb.exps = ex_exps;
    ex.map(sb, nb);
    body.exps = ex_exps;
  } else {
    const tile_shape shape{p.rows, p.cols, p.tile_rows, p.tile_cols};
    int* ex_exps = ex.template scratch<int>(shape.count());
    if (!ex.ok()) return;
    tile_scale_body<Elem> tb;
    tb.x = w;
    tb.shape = shape;
    tb.gaussws = true;
    tb.g = p.g;
    tb.exps = ex_exps;
    ex.segments(tb, shape.count());
    body.exps = ex_exps;
  }
  ex.map(body, plan.items());
}

/// amax into *result (float bits; zeroed first): max |x|, quiet NaN if any NaN.
template <class Elem, class Exec>
void run_amax(Exec& ex, const typename detail::elem_traits<Elem>::storage* x, std::size_t n, std::uint32_t* result) {
  using namespace detail;
  const unit_plan plan = make_plan(n, amax_body<Elem>::V, true, info(x));
  ex.reduce_max(amax_body<Elem>{x, n, plan}, plan.items(), result);
}

// =============================================================================
// Grid sizing, shared by the CUDA executor and the host emulation
// =============================================================================

/// Threads per block of every pqt kernel, and resident blocks per SM aimed at.
constexpr int block_threads = 256;
constexpr int blocks_per_sm = 8;

/// Blocks for `threads_wanted` threads: enough for one thread each, at most
/// sm_count * blocks_per_sm (the rest is done by grid-stride loops), at least 1.
inline unsigned grid_blocks(std::size_t threads_wanted, int sm_count, int threads_per_block = block_threads) {
  const std::size_t tpb = static_cast<std::size_t>(threads_per_block);
  std::size_t b = (threads_wanted + tpb - 1) / tpb;
  const std::size_t cap = static_cast<std::size_t>(sm_count > 0 ? sm_count : 1) * blocks_per_sm;
  if (b > cap) b = cap;
  return static_cast<unsigned>(b > 0 ? b : 1);
}

/// Runs the bodies on the host over every (block, thread) of the grid the
/// CUDA executor would launch for a device with sm_count multiprocessors (the
/// lane groups of `group` reduce as the warp shuffles do). For tests: the
/// memory is host memory.
///   pqt::cuda::host_executor ex{4, 64};   // 4 "SMs", 64 threads per block
class host_executor {
 public:
  int sm_count = 132;
  int threads = block_threads;

  host_executor() = default;
  host_executor(int sms, int threads_per_block) : sm_count(sms), threads(threads_per_block) {}

  bool ok() const { return true; }

  template <class T>
  T* scratch(std::size_t count) {
    buffers_.emplace_back(new std::uint8_t[(count > 0 ? count : 1) * sizeof(T)]());
    return reinterpret_cast<T*>(buffers_.back().get());
  }

  template <class Body>
  void map(const Body& body, std::size_t work) {
    if (work == 0) return;
    const std::size_t grid = grid_blocks(work, sm_count, threads), tpb = static_cast<std::size_t>(threads);
    for (std::size_t b = 0; b < grid; ++b)
      for (std::size_t t = 0; t < tpb; ++t) body(b * tpb + t, grid * tpb);
  }

  template <class Body>
  void reduce_max(const Body& body, std::size_t work, std::uint32_t* dst) {
    if (work == 0) return;
    const std::size_t grid = grid_blocks(work, sm_count, threads), tpb = static_cast<std::size_t>(threads);
    for (std::size_t b = 0; b < grid; ++b)
      for (std::size_t t = 0; t < tpb; ++t) {
        const std::uint32_t v = body(b * tpb + t, grid * tpb);
        *dst = v > *dst ? v : *dst;
      }
  }

  template <class Body>
  void group(const Body& body, std::size_t tiles) {
    if (tiles == 0) return;
    const std::size_t grid = grid_blocks(tiles * 32, sm_count, threads);
    const std::size_t nwarps = grid * static_cast<std::size_t>(threads / 32);
    const int l = body.group_lanes();
    std::vector<typename Body::state> st(32);
    std::uint32_t part[32];
    for (std::size_t w = 0; w < nwarps; ++w)
      for (std::size_t tile = w; tile < tiles; tile += nwarps) {
        for (int lane = 0; lane < 32; ++lane) part[lane] = body.load(tile, lane, st[static_cast<std::size_t>(lane)]);
        for (int g = 0; g < 32; g += l) {
          std::uint32_t m = 0;
          for (int lane = g; lane < g + l; ++lane) m = part[lane] > m ? part[lane] : m;
          for (int lane = g; lane < g + l; ++lane) body.finish(tile, lane, st[static_cast<std::size_t>(lane)], m);
        }
      }
  }

  template <class Body>
  void segments(const Body& body, std::size_t count) {
    if (count == 0) return;
    const std::size_t grid = count < static_cast<std::size_t>(sm_count) * blocks_per_sm ? count : static_cast<std::size_t>(sm_count) * blocks_per_sm;
    const std::size_t tpb = static_cast<std::size_t>(threads);
    for (std::size_t b = 0; b < grid; ++b)
      for (std::size_t seg = b; seg < count; seg += grid) {
        std::uint32_t m = 0;
        for (std::size_t t = 0; t < tpb; ++t) {
          const std::uint32_t v = body.partial(seg, t, tpb);
          m = v > m ? v : m;
        }
        body.finish(seg, m);
      }
  }

 private:
  std::vector<std::unique_ptr<std::uint8_t[]>> buffers_;
};

}  // namespace cuda
}  // namespace pqt

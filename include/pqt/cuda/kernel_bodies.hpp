#pragma once
/// The CUDA tensor kernels' per-thread bodies and their launch sequences,
/// written as PQT_HD code that plain g++ compiles too. With the pieces they
/// are made of (kernel_units.hpp) and the host emulation (host_executor.hpp)
/// these are the .hpp files under pqt/cuda/, the ones that are not CUDA-only
/// (they do not #error without __CUDACC__): tests run every body over every
/// (block, thread) of a launch on the host, so the indexing, vector,
/// alignment and tail logic the GPU runs is tested without a GPU. The .cuh
/// files add only the __global__ wrappers, CUB/warp reductions and the
/// launchers.
///   pqt::cuda::host_executor ex;                          // host_executor.hpp: a grid on the host
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


#include <cstddef>
#include <cstdint>

#include "kernel_units.hpp"

namespace pqt {
namespace cuda {
namespace detail {

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
// Launch sequences, generic over an executor (host_executor.hpp; the CUDA
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

}  // namespace cuda
}  // namespace pqt

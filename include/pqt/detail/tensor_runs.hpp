#pragma once
/// The host tensor loops under fake_quant, quantize, dequantize and gaussws
/// (fake_quant.hpp): the per-call element coder, the scaling dispatch, the
/// chunk runner (chunks in parallel, blocks or tile rows inside a chunk, each
/// block's scale computed just before its elements are rounded), and
/// encode_run / decode_run, the one place that turns a run's elements into
/// codes or values under its scale.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "../config.hpp"
#include "../convert.hpp"
#include "../format.hpp"
#include "../minifloat.hpp"
#include "../noise.hpp"
#include "../pack.hpp"
#include "../quant_config.hpp"
#include "../random.hpp"
#include "../rounding.hpp"
#include "../runtime.hpp"
#include "../scale.hpp"
#include "bits.hpp"
#include "tensor_ops.hpp"

namespace pqt {

namespace detail {

/// One element's rounding: encode v (already scaled) with the mode's random
/// word(s) for element `index`. Fast path where it applies, else the generic
/// routine; the same bits either way.
struct element_coder {
  fast_params p;
  bool fast;
  rounding round;  ///< the generic path reads the mode at run time (dispatch)
  overflow over;
  int k;
  float sigma;
  std::uint64_t seed, offset;
  int grid_min_exp, grid_max_exp;  ///< scaled_fast_params's range

  explicit element_coder(const quant_config& c)
      : p(make_fast_params(c.format.facts(), c.round, c.over)),
#if defined(__FAST_MATH__) || defined(PQT_NO_FAST_PATHS)
        fast(false),
#else
        fast(fast_path_applies(c.format.facts())),
#endif
        round(c.round), over(c.over), k(c.random_bits), sigma(c.sigma), seed(c.seed), offset(c.offset), grid_min_exp(scaled_grid_min_exp(p)),
        grid_max_exp(scaled_grid_max_exp(p, c.round)) {
  }

  // Fast is decided once per call (dispatch), not per element, so the
  // element loops have no branch and vectorise. `word` is the element's
  // stochastic word, `index` its absolute index (gaussian draws two words).
  // C is the class of `round` (class_of); the fast path reads the mode within
  // it from p, and the policy too unless P fixes it; the generic routine reads
  // round / over.
  template <mode_class C, policy P, bool Fast>
  PQT_FORCEINLINE std::uint32_t code(float v, std::uint32_t word, std::uint64_t index) const {
    if constexpr (C == mode_class::gaussian)
      return gaussian_round_facts(p.f, v, sigma, random_words2(seed, offset, index), over);
    else if constexpr (Fast)
      return encode_float_fast<C, P>(p, v, word, k);
    else
      return encode_float(p.f, v, round, over, word, k);
  }
  /// The NVFP4 quotient (double, generic routine; never gaussian, check_config).
  PQT_FORCEINLINE std::uint32_t code(double v, std::uint32_t word) const {
    return encode_double(p.f, v, round, over, word, k);
  }
  /// decode(code(...)): on the fast path formed on float bits with no code in
  /// between (round_value_fast), which is what fake_quant's loops use.
  template <mode_class C, policy P, bool Fast>
  PQT_FORCEINLINE float value(float v, std::uint32_t word, std::uint64_t index) const {
    if constexpr (Fast && C != mode_class::gaussian)
      return round_value_fast<C, P>(p, v, word, k);
    else
      return decode<Fast>(code<C, P, Fast>(v, word, index));
  }
  template <bool Fast>
  PQT_FORCEINLINE float decode(std::uint32_t code) const {
    if constexpr (Fast)
      return decode_fast(p, code);
    else
      return decode_facts(p.f, code);
  }
};

// run_scale, scale_pow2, scaled_value, unscaled_value, e8m0_run, tensor_run and
// the NVFP4 quotient are in detail/tensor_ops.hpp (shared with the CUDA kernels).

/// Rounds value(i) for i in [begin, begin + len) (absolute element index
/// index_base + i) with round(coder, v, word, index) and hands each result to
/// sink(i, result). Stochastic words come from random_words (one Philox call
/// per aligned group of four); other modes pass word 0. Inlined into a chunk's loop
/// (chunk_runs), whose local copy of the coder the stores cannot alias.
/// len is a std::size_t, or a std::integral_constant for a run of known
/// length (a full 32-element MX block: no loop prologue or epilogue).
template <mode_class C, class Value, class Round, class Len, class Sink>
PQT_FORCEINLINE void round_run(const element_coder& ec, Value&& value, Round&& round, std::size_t begin, Len len,
                               std::uint64_t index_base, Sink&& sink) {
  if constexpr (C == mode_class::stochastic) {
    // The words of up to 256 elements at a time (random_words: a vectorised
    // Philox loop), then the elements.
    constexpr std::size_t piece = 256;
    alignas(64) std::uint32_t w[piece];
    for (std::size_t p = 0; p < len; p += piece) {
      const std::size_t m = len - p < piece ? len - p : piece;
      const std::size_t i = begin + p;
      random_words(ec.seed, ec.offset, index_base + i, m, w);
      for (std::size_t j = 0; j < m; ++j) sink(i + j, round(ec, value(i + j), w[j], index_base + i + j));
    }
  } else {
    for (std::size_t j = 0; j < len; ++j) sink(begin + j, round(ec, value(begin + j), 0u, index_base + begin + j));
  }
}

/// Runs body(begin, end) over [0, count) in chunks, on OpenMP threads when
/// enabled. Results never depend on the split: every element's bits depend
/// only on its index.
template <class Body>
void parallel_chunks(std::size_t count, std::size_t grain, int threads, Body&& body) {
  const std::size_t chunks = count / grain + (count % grain != 0 ? 1 : 0);
#if defined(_OPENMP)
  if (threads != 1 && chunks > 1) {
    const int nt = threads > 0 ? threads : omp_get_max_threads();
    const long long nchunks = static_cast<long long>(chunks);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (long long c = 0; c < nchunks; ++c) {
      const std::size_t b = static_cast<std::size_t>(c) * grain;
      body(b, b + grain < count ? b + grain : count);
    }
    return;
  }
#else
  (void)threads;
#endif
  for (std::size_t c = 0; c < chunks; ++c) {
    const std::size_t b = c * grain;
    body(b, b + grain < count ? b + grain : count);
  }
}

/// An array element as float: float itself, a minifloat (bf16, fp16) decoded
/// exactly (amax, the widening of tensor_pieces.hpp, gaussws's loops).
template <class T>
PQT_FORCEINLINE float to_f(const T& v) {
  if constexpr (std::is_same<T, float>::value)
    return v;
  else
    return static_cast<float>(v);
}

/// A float result stored as an array element: float as is, a minifloat by
/// one nearest-even rounding.
template <class T>
PQT_FORCEINLINE T from_f(float v) {
  if constexpr (std::is_same<T, float>::value)
    return v;
  else
    return T(v);
}

/// amax, parallel; the integer max on magnitude bits is exact and order-free.
template <class T>
float amax_parallel(const T* x, std::size_t n, int threads) {
  std::uint32_t best = 0;
#if defined(_OPENMP)
  if (threads != 1 && n > 65536) {
    const long long nn = static_cast<long long>(n);
    const int nt = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for reduction(max : best) schedule(static) num_threads(nt)
    for (long long i = 0; i < nn; ++i) {
      const std::uint32_t a = abs_bits(to_f(x[i]));
      best = a > best ? a : best;
    }
    return amax_from_bits(best);
  }
#else
  (void)threads;
#endif
  best = max_abs_bits(x, n);
  return amax_from_bits(best);
}

inline void check_pow2_range(const char* fn, const quant_config& c) {
  if (c.format.facts().emin_value() < -94)
    tensor_fail(fn, "power-of-two block/tile scaling supports element formats whose smallest value is >= 2^-94 "
                    "(FP8, FP6, FP4 and the like)");
}

/// check_pow2_range where c has MX or tile scales and there are elements to
/// scale: the host checks it as it computes the scales (prepare_scales), the
/// CUDA launchers and the Python binding before any work.
inline void check_scale_range(const char* fn, std::size_t n, const quant_config& c) {
  if (n > 0 && ((c.scale == scaling::block && c.block_kind == block_scale::mx) || c.scale == scaling::tile))
    check_pow2_range(fn, c);
}

/// The tensor-level part of c's scaling: the per-tensor scale, or NVFP4's
/// tensor scale (a pass over x for amax), over `scales` (nscales bytes of
/// room for the block or tile scales, which for_each_run fills chunk by chunk).
template <class T>
scale_set prepare_scales(const char* fn, const T* x, std::size_t n, const quant_config& c, std::uint8_t* scales,
                         std::size_t nscales) {
  scale_set s{scales, nscales, 1.0f};
  if (c.scale == scaling::tensor)
    s.tensor_scale = c.tensor_scale > 0 ? c.tensor_scale
                                        : compute_scale(c.format.max(), amax_parallel(x, n, c.threads), c.tensor, 1.0f);
  else if (c.scale == scaling::block && c.block_kind == block_scale::nvfp4)
    s.tensor_scale = nvfp4_tensor_scale(amax_parallel(x, n, c.threads));
  else
    check_scale_range(fn, n, c);
  return s;
}

/// How a run's elements become the values rounded, fixed per call so the
/// element loop is one straight-line body: as they are (no scaling), times
/// the tensor scale, times an MX/tile power of two (scale_pow2; a NaN block
/// scale gives NaN through it too), or NVFP4's double quotient. No scaling
/// has a loop of its own: running it as the tensor-scale loop with scale 1
/// (the same bits) made it, the fastest loop (fq_none), about 20 % slower.
enum class value_kind { plain, mul, pow2, nvfp4 };

template <value_kind K>
using kind_tag = std::integral_constant<value_kind, K>;

/// Calls f(kind tag, fast tag) for c's scaling and whether ec takes the fast
/// paths (NVFP4: the generic double routine; dispatch adds its nearest-even
/// fast path).
template <class F>
void dispatch_kind(const quant_config& c, const element_coder& ec, F&& f) {
  auto with_fast = [&](auto kt) {
    if (ec.fast) f(kt, std::true_type{});
    else f(kt, std::false_type{});
  };
  if (c.scale == scaling::none) with_fast(kind_tag<value_kind::plain>{});
  else if (c.scale == scaling::tensor) with_fast(kind_tag<value_kind::mul>{});
  else if (c.scale == scaling::block && c.block_kind == block_scale::nvfp4)
    f(kind_tag<value_kind::nvfp4>{}, std::false_type{});
  else with_fast(kind_tag<value_kind::pow2>{});
}

template <mode_class C>
using class_tag = std::integral_constant<mode_class, C>;
template <policy P>
using policy_tag = std::integral_constant<policy, P>;

/// Calls f(class tag, policy tag, kind tag, fast tag) (std::integral_constant
/// tags) for c's mode and scaling and whether ec takes the fast paths, so
/// each element loop is compiled for one case while the format, the mode
/// within its class and (but for nearest-even) the overflow policy stay
/// run-time values. The fast paths: nearest-even once per policy, directed,
/// stochastic, gaussian (NVFP4: nearest-even only); the generic routine
/// (formats off the fast path, NVFP4's other modes), which reads the mode at
/// run time: directed for every deterministic mode, stochastic, gaussian.
template <class F>
void dispatch(const quant_config& c, const element_coder& ec, F&& f) {
  const mode_class mc = class_of(c.round);
  using rt = policy_tag<policy::run_time>;
  auto nearest_even = [&](auto kt) {
    using ne = class_tag<mode_class::nearest_even>;
    if (c.over == overflow::saturate) return f(ne{}, policy_tag<policy::saturate>{}, kt, std::true_type{});
    f(ne{}, policy_tag<policy::nonsaturating>{}, kt, std::true_type{});
  };
  dispatch_kind(c, ec, [&](auto kt, auto ft) {
    // NVFP4 with nearest-even (its forward recipe) has a fast path too.
    if constexpr (decltype(kt)::value == value_kind::nvfp4) {
      if (ec.fast && mc == mode_class::nearest_even) return nearest_even(kt);
    }
    switch (mc) {
      case mode_class::stochastic: return f(class_tag<mode_class::stochastic>{}, rt{}, kt, ft);
      case mode_class::gaussian: return f(class_tag<mode_class::gaussian>{}, rt{}, kt, ft);
      case mode_class::nearest_even:
        if constexpr (decltype(ft)::value) return nearest_even(kt);
        break;
      case mode_class::directed: break;
    }
    f(class_tag<mode_class::directed>{}, rt{}, kt, ft);
  });
}

/// The runs of one chunk [lo, hi) — elements (no or tensor scaling), blocks,
/// or rows of one band of tiles — each handed to fn(coder, begin, len,
/// run_scale, scale_index); len is a std::size_t, or std::integral_constant
/// 32 for a full block of the usual MX size. With `fill` (fake_quant,
/// quantize) each block's or tile's scale is computed from x just before its
/// elements are rounded, while they are in cache (x is read from memory
/// once); without (dequantize) the scales are read from q.
template <value_kind K, bool Fixed32, class Fn>
PQT_FLATTEN void chunk_runs(const element_coder& ec_in, const float* x, std::size_t n, const quant_config& c,
                            const scale_set& q, std::uint8_t* fill, std::size_t lo, std::size_t hi, Fn& fn) {
  // A local copy: the output stores cannot alias it, so its fields stay in
  // registers across the chunk.
  const element_coder ec = ec_in;
  if constexpr (K == value_kind::plain || K == value_kind::mul) {
    (void)x, (void)n, (void)fill;
    fn(ec, lo, hi - lo, K == value_kind::mul ? tensor_run(q.tensor_scale) : run_scale{}, std::size_t{0});
  } else {
    const int emax = c.format.facts().emax();
    const float max_f = c.format.max();
    auto scale_of = [&](std::uint32_t amax_bits) PQT_INLINE_LAMBDA -> std::uint8_t {
      if constexpr (K == value_kind::nvfp4)
        return nvfp4_block_scale(amax_from_bits(amax_bits), q.tensor_scale);
      else
        return mx_scale(emax, max_f, bit_cast<float>(amax_bits), c.e8m0_rule);
    };
    if (c.scale == scaling::block) {
      auto blocks = [&](auto bs) PQT_INLINE_LAMBDA {  // bs: the block size, std::size_t or a constant
        for (std::size_t b = lo; b < hi; ++b) {
          const std::size_t begin = b * bs;
          auto run = [&](auto len) PQT_INLINE_LAMBDA {
            if (fill != nullptr) fill[b] = scale_of(max_abs_bits(x + begin, len));
            fn(ec, begin, len, K == value_kind::nvfp4 ? run_scale{} : e8m0_run(q.scales[b]), b);
          };
          if (n - begin >= bs)
            run(bs);
          else
            run(n - begin);  // the partial last block
        }
      };
      if constexpr (Fixed32) {
        if (c.block_size == 32) return blocks(std::integral_constant<std::size_t, 32>{});
      }
      blocks(c.block_size);
    } else if constexpr (K == value_kind::pow2) {  // tiles: [lo, hi) is one band of tile_rows rows
      const std::size_t across = tile_shape{c.rows, c.cols, c.tile_rows, c.tile_cols}.tiles_across();
      const std::size_t t0 = (lo / c.tile_rows) * across;
      for (std::size_t tc = 0; tc < across && fill != nullptr; ++tc) {
        const std::size_t c0 = tc * c.tile_cols, width = c0 + c.tile_cols < c.cols ? c.tile_cols : c.cols - c0;
        std::uint32_t a = 0;
        for (std::size_t r = lo; r < hi; ++r) {
          const std::uint32_t row = max_abs_bits(x + r * c.cols + c0, width);
          a = a < row ? row : a;
        }
        fill[t0 + tc] = scale_of(a);
      }
      for (std::size_t r = lo; r < hi; ++r)
        for (std::size_t tc = 0; tc < across; ++tc) {
          const std::size_t c0 = tc * c.tile_cols, c1 = c0 + c.tile_cols < c.cols ? c0 + c.tile_cols : c.cols;
          fn(ec, r * c.cols + c0, c1 - c0, e8m0_run(q.scales[t0 + tc]), t0 + tc);
        }
    }
  }
}

/// Visits every run of the tensor (chunk_runs), chunks in parallel. Fixed32:
/// give full 32-element blocks their own loop of constant length (the fast
/// MX paths; elsewhere it would only add compile time).
template <value_kind K, bool Fixed32 = false, class Fn>
void for_each_run(const element_coder& ec, const float* x, std::size_t n, const quant_config& c, const scale_set& q,
                  std::uint8_t* fill, Fn&& fn) {
  constexpr std::size_t grain = 1 << 14;  // elements per chunk (a multiple of 4)
  auto chunk = [&](std::size_t lo, std::size_t hi) { chunk_runs<K, Fixed32>(ec, x, n, c, q, fill, lo, hi, fn); };
  if (c.scale == scaling::none || c.scale == scaling::tensor)
    parallel_chunks(n, grain, c.threads, chunk);
  else if (c.scale == scaling::block)
    parallel_chunks(q.count, grain / c.block_size > 0 ? grain / c.block_size : 1, c.threads, chunk);
  else
    parallel_chunks(c.rows, c.tile_rows, c.threads, chunk);
}

/// Rounds the elements [b, b + len) of one run and hands each result to
/// sink(i, result): the one place that knows how each scaling turns x into
/// the value rounded and a code back into a value. The result is the code,
/// or with Values (fake_quant) the element's final value (the code's value
/// times the run's scale) as float.
template <mode_class C, policy P, value_kind K, bool Fast, bool Values, class Len, class Sink>
PQT_FORCEINLINE void encode_run(const element_coder& ec, const scale_set& q, const float* x, std::size_t b, Len len,
                                run_scale sc, std::size_t si, std::uint64_t index_base, Sink&& sink) {
  if constexpr (K == value_kind::nvfp4 && Fast) {
    // Nearest-even only (dispatch). A positive finite divisor: by comparisons
    // with the block's midpoints (nvfp4_grid). Else (a zero or NaN block
    // scale): the double quotient rounded to odd in float then to e2m1 by the
    // fast path gives the code of the quotient rounded once
    // (round_to_odd_float); decoded in double as nvfp4_decode_element.
    static_assert(C == mode_class::nearest_even, "NVFP4's fast path is nearest-even only");
    (void)sc;
    const std::uint8_t block = q.scales[si];
    const double d = nvfp4_divisor(block, q.tensor_scale);
    if (d > 0.0 && d <= 0x1.fffffffffffffp1023) {
      const nvfp4_grid g = make_nvfp4_grid(d);
      for (std::size_t j = 0; j < len; ++j) sink(b + j, nvfp4_grid_round<Values>(g, x[b + j]));
      return;
    }
    round_run<C>(
        ec, [&](std::size_t i) PQT_INLINE_LAMBDA { return round_to_odd_float(nvfp4_scaled(x[i], d)); },
        [&](const element_coder& k, float v, std::uint32_t, std::uint64_t) PQT_INLINE_LAMBDA {
          const std::uint32_t code = encode_float_fast<C, P>(k.p, v, 0u, 32);
          if constexpr (Values)
            return static_cast<float>(widen(decode_fast(k.p, code)) * d);
          else
            return code;
        },
        b, len, index_base, sink);
  } else if constexpr (K == value_kind::nvfp4) {
    // x / (block scale * s_t) in double, rounded once (scale.hpp's NVFP4 rule).
    (void)sc;
    if constexpr (C != mode_class::gaussian) {
      const std::uint8_t block = q.scales[si];
      const double d = nvfp4_divisor(block, q.tensor_scale);
      round_run<C>(
          ec, [&](std::size_t i) PQT_INLINE_LAMBDA { return nvfp4_scaled(x[i], d); },
          [](const element_coder& k, double v, std::uint32_t w, std::uint64_t) PQT_INLINE_LAMBDA { return k.code(v, w); }, b, len,
          index_base, [&](std::size_t i, std::uint32_t code) PQT_INLINE_LAMBDA {
            if constexpr (Values)
              sink(i, nvfp4_decode_element(static_cast<std::uint8_t>(code), block, q.tensor_scale));
            else
              sink(i, code);
          });
    }
  } else {
    (void)q, (void)si;
    if constexpr (Values && Fast && K == value_kind::pow2 && C != mode_class::gaussian) {
      // Round x onto the grid scaled by the block's 2^exp: no scaling either way.
      if (sc.pow2 && sc.exp >= ec.grid_min_exp && sc.exp <= ec.grid_max_exp) {
        const fast_params g = scaled_fast_params<C>(ec.p, sc.exp);
        const int k = ec.k;
        round_run<C>(
            ec, [&](std::size_t i) PQT_INLINE_LAMBDA { return x[i]; },
            [&](const element_coder&, float v, std::uint32_t w, std::uint64_t) PQT_INLINE_LAMBDA {
              return round_value_fast<C, P, true>(g, v, w, k);
            },
            b, len, index_base, sink);
        return;
      }
    }
    auto value = [&](std::size_t i) PQT_INLINE_LAMBDA {
      if constexpr (K == value_kind::plain)
        return x[i];
      else if constexpr (K == value_kind::mul)
        return x[i] * sc.mul;
      else
        return scale_pow2(x[i], sc.mul);
    };
    auto round = [&](const element_coder& k, float v, std::uint32_t w, std::uint64_t idx) PQT_INLINE_LAMBDA {
      if constexpr (!Values)
        return k.template code<C, P, Fast>(v, w, idx);
      else if constexpr (K == value_kind::plain)
        return k.template value<C, P, Fast>(v, w, idx);
      else
        return unscaled_value(k.template value<C, P, Fast>(v, w, idx), sc);
    };
    round_run<C>(ec, value, round, b, len, index_base, sink);
  }
}

/// The value of a code under a run's scale: decode * back (exact for powers
/// of two; tensor scaling multiplies by 1/s in float, as Transformer Engine);
/// NVFP4: code * block * s_t.
template <bool Fast, bool Nvfp4>
PQT_FORCEINLINE float decode_run(const element_coder& ec, const scale_set& q, std::uint32_t code, run_scale sc,
                                 std::size_t si) {
  if constexpr (Nvfp4)
    return nvfp4_decode_element(static_cast<std::uint8_t>(code), q.scales[si], q.tensor_scale);
  else
    return unscaled_value(ec.decode<Fast>(code), sc);
}

}  // namespace detail
}  // namespace pqt

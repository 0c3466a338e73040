#pragma once
/// GaussWS over tensors: out = cast_C(w + noise * Delta), formed exactly and
/// rounded once, with R / gaussian / uniform noise and block / element Delta
/// over block, tensor or tile scaling (README "Noise"). Also included by
/// <pqt/fake_quant.hpp>.
///   pqt::gaussws_config g;  g.bits = 6;  g.seed = 1;  g.offset = step;
///   pqt::gaussws(w, w_bf16, n, g);

#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "detail/gaussws_fast.hpp"
#include "fake_quant.hpp"

namespace pqt {

// noise_kind and delta_mode are in detail/tensor_ops.hpp.

/// Configuration of gaussws: out = cast_C(w + noise * Delta), rounded once.
///   pqt::gaussws_config g;  g.bits = 6;  g.seed = 1;  g.offset = step;
struct gaussws_config {
  noise_kind noise = noise_kind::r;
  float sigma = 1.0f;              ///< gaussian noise: sigma * N(0,1)
  delta_mode delta = delta_mode::block;
  int bits = 9;                    ///< block mode: b, bits of precision ("9-bit noise")
  format_desc format = format_desc::of<fmt::e4m3>();  ///< element mode: the simulated format F
  scaling scale = scaling::block;  ///< block (default), tensor or tile; element mode needs block
  std::size_t block_size = 32;
  std::size_t rows = 0, cols = 0, tile_rows = 16, tile_cols = 16;
  std::uint64_t seed = 0, offset = 0, index_base = 0;
  int threads = 0;
};

namespace detail {

/// The plain-data part of a gaussws_config (detail/tensor_ops.hpp; the CUDA
/// kernels take it by value).
inline gaussws_params make_gaussws_params(const gaussws_config& g) {
  gaussws_params p;
  p.noise = g.noise;
  p.sigma = g.sigma;
  p.element_delta = g.delta == delta_mode::element;
  p.bits = g.bits;
  p.f = g.format.facts();
  p.emax = g.format.facts().emax();
  p.max_f = g.format.max();
  p.seed = g.seed;
  p.offset = g.offset;
  return p;
}

/// The exponent e of Delta = 2^e for a block with amax a (block mode), or the
/// MX block scale exponent (element mode); INT_MIN: no noise (amax 0 or not finite).
inline int gaussws_block_exponent(const gaussws_config& g, float a) {
  return gaussws_exponent(make_gaussws_params(g), a);
}

/// Throws std::invalid_argument naming what is wrong with g for n elements.
inline void check_gaussws_config(const gaussws_config& g, std::size_t n) {
  if (g.bits < 1 || g.bits > 64) tensor_fail("gaussws", "bits must be in 1..64");
  if (g.threads < 0 || g.threads > max_threads) tensor_fail("gaussws", "threads must be in 0..1024 (0: OpenMP's default)");
  if (static_cast<int>(g.noise) < 0 || static_cast<int>(g.noise) > static_cast<int>(noise_kind::uniform))
    tensor_fail("gaussws", "invalid noise kind");
  if (g.delta != delta_mode::block && g.delta != delta_mode::element) tensor_fail("gaussws", "invalid delta mode");
  if (g.noise == noise_kind::gaussian && !(g.sigma >= 0 && g.sigma < 1e30f)) tensor_fail("gaussws", "sigma must be finite and >= 0");
  if (g.delta == delta_mode::element && g.scale != scaling::block)
    tensor_fail("gaussws", "element-mode Delta needs block scaling");
  if (g.delta == delta_mode::element && !fast_path_applies(g.format.facts()) && g.format.mantissa_bits() == 0)
    tensor_fail("gaussws", "element-mode Delta needs a format with mantissa bits");
  if (g.scale == scaling::none) tensor_fail("gaussws", "scaling must be block, tensor or tile");
  if (g.scale == scaling::block && g.block_size == 0) tensor_fail("gaussws", "block_size must be > 0");
  if (g.scale == scaling::tile &&
      (g.tile_rows == 0 || g.tile_cols == 0 || g.cols == 0 || g.rows > std::numeric_limits<std::size_t>::max() / g.cols ||
       g.rows * g.cols != n))
    tensor_fail("gaussws", "tile scaling needs tile sizes > 0 and rows * cols == n");
}

template <class Carrier, class T, class Out>
void gaussws_impl(const T* w, Out* out, std::size_t n, const gaussws_config& g) {
  check_gaussws_config(g, n);
  if (n == 0) return;
  if (w == nullptr || out == nullptr) tensor_fail("gaussws", "null pointer");
  const gaussws_params gp = make_gaussws_params(g);

  // One element: noise from its words, Delta from the run's exponent e
  // (gaussws_value, shared with the CUDA kernels).
  auto element = [&](std::size_t i, int e) -> gaussws_result_t<Carrier> {
    const std::uint64_t idx = g.index_base + i;
    if (e == std::numeric_limits<int>::min()) return gaussws_value<Carrier>(gp, to_f(w[i]), e, 0u, word_pair{0, 0});
    if (g.noise == noise_kind::gaussian)
      return gaussws_value<Carrier>(gp, to_f(w[i]), e, 0u, random_words2(g.seed, g.offset, idx));
    return gaussws_value<Carrier>(gp, to_f(w[i]), e, random_word(g.seed, g.offset, idx), word_pair{0, 0});
  };
  auto store = [&](std::size_t i, gaussws_result_t<Carrier> v) {
    if constexpr (std::is_same<Carrier, float>::value) out[i] = v;
    else out[i] = Out::from_bits(v);
  };
  // Elements [i0, i1) under one exponent e. R and uniform noise with block
  // Delta take the float route (same bits, detail/gaussws_fast.hpp) where e
  // allows, with wd[j] = the word of element i0 + j drawn beforehand (the
  // words of up to `run` elements come from one vectorised call); else, or
  // with wd == nullptr, the exact double route element by element.
  constexpr std::size_t run = 256;
  const bool fast = !gp.element_delta && (g.noise == noise_kind::r || g.noise == noise_kind::uniform);
  auto span = [&](std::size_t i0, std::size_t i1, int e, const std::uint32_t* wd) {
    if (wd != nullptr && gaussws_fast_applies(g.noise, e)) {
      const T* wc = w + i0;
      gaussws_run_fast<Carrier>([wc](std::size_t j) { return to_f(wc[j]); }, out + i0, i1 - i0, e, g.noise, wd);
    } else {
      for (std::size_t i = i0; i < i1; ++i) store(i, element(i, e));
    }
  };
  // [lo, hi) in runs of at most `run` elements with their words drawn, each
  // handed to f(c0, c1, words of c0).
  auto runs = [&](std::size_t lo, std::size_t hi, auto&& f) {
    std::uint32_t words[run];
    for (std::size_t c0 = lo; c0 < hi; c0 += run) {
      const std::size_t c1 = c0 + run < hi ? c0 + run : hi;
      if (fast) random_words(g.seed, g.offset, g.index_base + c0, c1 - c0, words);
      f(c0, c1, fast ? words : nullptr);
    }
  };

  if (g.scale == scaling::tensor) {
    const int e = gaussws_exponent(gp, amax_parallel(w, n, g.threads));
    parallel_chunks(n, 1 << 14, g.threads, [&](std::size_t b, std::size_t end) {
      runs(b, end, [&](std::size_t c0, std::size_t c1, const std::uint32_t* wd) { span(c0, c1, e, wd); });
    });
  } else if (g.scale == scaling::block) {
    // Each block's exponent is read before the block is written (out may be w).
    const std::size_t bs = g.block_size, nb = n / bs + (n % bs != 0 ? 1 : 0);
    auto exponent = [&](std::size_t bl) {
      const std::size_t be = bl + bs < n ? bl + bs : n;
      return gaussws_exponent(gp, amax_from_bits(max_abs_bits(w + bl, be - bl)));
    };
    parallel_chunks(nb, (1 << 14) / bs > 0 ? (1 << 14) / bs : 1, g.threads, [&](std::size_t b0, std::size_t b1) {
      if (bs > run) {  // a block in runs, under its one exponent
        for (std::size_t b = b0; b < b1; ++b) {
          const int e = exponent(b * bs);
          runs(b * bs, (b + 1) * bs < n ? (b + 1) * bs : n,
               [&](std::size_t c0, std::size_t c1, const std::uint32_t* wd) { span(c0, c1, e, wd); });
        }
        return;
      }
      const std::size_t per = run / bs;  // whole blocks per run
      for (std::size_t bg = b0; bg < b1; bg += per) {
        const std::size_t bend = bg + per < b1 ? bg + per : b1;
        runs(bg * bs, bend * bs < n ? bend * bs : n, [&](std::size_t c0, std::size_t c1, const std::uint32_t* wd) {
          for (std::size_t bl = c0; bl < c1; bl += bs) {
            const std::size_t be = bl + bs < c1 ? bl + bs : c1;
            span(bl, be, exponent(bl), wd != nullptr ? wd + (bl - c0) : nullptr);
          }
        });
      }
    });
  } else {
    const tile_shape shape{g.rows, g.cols, g.tile_rows, g.tile_cols};
    std::vector<float> amaxes(shape.count());  // once per call
    tile_amax(w, shape, amaxes.data());
    parallel_chunks(g.rows, g.tile_rows, g.threads, [&](std::size_t r0, std::size_t r1) {
      for (std::size_t r = r0; r < r1; ++r) {
        const std::size_t row = r * g.cols, trow = (r / g.tile_rows) * shape.tiles_across();
        runs(row, row + g.cols, [&](std::size_t c0, std::size_t c1, const std::uint32_t* wd) {
          for (std::size_t s0 = c0; s0 < c1;) {  // split at tile boundaries
            const std::size_t tc = (s0 - row) / g.tile_cols, tend = row + (tc + 1) * g.tile_cols;
            const std::size_t s1 = tend < c1 ? tend : c1;
            span(s0, s1, gaussws_exponent(gp, amaxes[trow + tc]), wd != nullptr ? wd + (s0 - c0) : nullptr);
            s0 = s1;
          }
        });
      }
    });
  }
}

// The instantiations of the compiled mode (PQT_TENSOR_LIB): declared here,
// defined in the pqt_tensor library (src/tensor_gaussws.cpp).
#define PQT_GAUSSWS_INSTANCES(X, T)                                                    \
  X void gaussws_impl<fmt::bf16, T, bf16>(const T*, bf16*, std::size_t, const gaussws_config&); \
  X void gaussws_impl<float, T, float>(const T*, float*, std::size_t, const gaussws_config&);
#if defined(PQT_TENSOR_LIB)
PQT_GAUSSWS_INSTANCES(extern template, float)
PQT_GAUSSWS_INSTANCES(extern template, bf16)
PQT_GAUSSWS_INSTANCES(extern template, fp16)
#endif

}  // namespace detail

/// GaussWS: out = cast_C(w + noise * Delta), C = bf16 (here) or float (below),
/// computed exactly and rounded once (nearest-even). Noise is regenerated from
/// (seed, offset, index_base + i), never stored; the backward pass is the
/// identity (straight-through), so nothing else is needed. The master weights
/// w are float, bf16 or fp16 (read exactly).
///   pqt::gaussws(w.data(), w_bf16.data(), w.size(), cfg);
inline void gaussws(const float* w, bf16* out, std::size_t n, const gaussws_config& cfg) {
  detail::gaussws_impl<fmt::bf16>(w, out, n, cfg);
}
inline void gaussws(const float* w, float* out, std::size_t n, const gaussws_config& cfg) {
  detail::gaussws_impl<float>(w, out, n, cfg);
}
/// gaussws over bf16 or fp16 master weights (the 2-bytes-per-parameter setting).
template <class T, std::enable_if_t<std::is_same<T, bf16>::value || std::is_same<T, fp16>::value, int> = 0>
void gaussws(const T* w, bf16* out, std::size_t n, const gaussws_config& cfg) {
  detail::gaussws_impl<fmt::bf16>(w, out, n, cfg);
}
template <class T, std::enable_if_t<std::is_same<T, bf16>::value || std::is_same<T, fp16>::value, int> = 0>
void gaussws(const T* w, float* out, std::size_t n, const gaussws_config& cfg) {
  detail::gaussws_impl<float>(w, out, n, cfg);
}
}  // namespace pqt

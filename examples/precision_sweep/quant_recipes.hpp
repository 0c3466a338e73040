#pragma once
// Precision recipes: what happens to every GEMM operand (weight, activation,
// output gradient) of the sweep's transformer. Every pqt call of the demo is
// in this file, behind one function, recipe::quantize.
//
// The first recipes (E8Mm, per-tensor FP8, MXFP8, block-Δ GaussWS and DiffQ)
// are written against pqt's element layer (convert.hpp's quantize, noise.hpp,
// random.hpp), the scaling spelled out here with its rules, vectorised and
// cloned per ISA (platform.hpp), and checked bit for bit against
// pqt::fake_quant / pqt::gaussws on a 64 x 96 tensor. The later ones
// (IEEE eXmY, element-Δ GaussWS, MX weights) call the tensor API directly.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <pqt/convert.hpp>
#include <pqt/fake_quant.hpp>
#include <pqt/format.hpp>
#include <pqt/noise.hpp>
#include <pqt/random.hpp>

#include "gemm.hpp"
#include "platform.hpp"

namespace sweep {

/// What a GEMM operand is: the recipe picks formats by role.
enum class role { weight, activation, grad_output };

/// Which way an operand's scaling blocks run: along its rows (the last,
/// contiguous axis) or down its columns. The model always passes the GEMM's
/// contraction axis; only block-scaled recipes (MXFP8; GaussWS/DiffQ blocks
/// for Δ) look at it.
enum class block_axis { along_rows, down_columns };

enum class recipe_kind {
  fp32,        ///< no quantization (gradient check, reference)
  e8m,         ///< every operand rounded to E8Mm (bf16 = E8M7) with one rounding mode
  fp8_tensor,  ///< E4M3 weights/activations, E5M2 gradients, per-tensor current scaling
  mxfp8,       ///< OCP MXFP8: E4M3 elements, e8m0 scale per 32 along the contraction axis
  gaussws,     ///< weights: bf16(w + R * Δ) (GaussWS), Δ per block or per element; activations/gradients bf16
  diffq,       ///< weights: bf16(w + a * U(-1/2, 1/2) * Δ_block) (DiffQ); activations/gradients bf16
  minifloat,   ///< every operand rounded to an IEEE eXmY format (exponent reductions: E5M7, E6M7, ...)
  mx_weights,  ///< weights: MX fake-quant (RNE, e8m0 per 32 or per row); activations/gradients bf16 (post-training quantization)
};

/// Elements per scaling block (MX, and the block Δ of GaussWS/DiffQ).
constexpr std::size_t block_size = 32;  // block_amaxes shifts by 5

struct recipe {
  std::string name;    ///< table / CSV label, no spaces
  std::string group;   ///< plot family
  recipe_kind kind = recipe_kind::fp32;
  int mantissa = 7;    ///< e8m: M
  pqt::rounding rounding = pqt::rounding::nearest_even;
  int bits = 0;        ///< gaussws / diffq with block Δ: b, bits of precision of the simulated weights
  bool per_row = false;  ///< mx_weights: one e8m0 scale per row of input features instead of per 32
  bool bf16_grads = false;  ///< mxfp8: output gradients in bf16 instead (a diagnostic variant)
  /// minifloat: the format; gaussws with element Δ: the simulated format F
  /// (Δ = ulp of F under the block's MX scale); mx_weights: the element format.
  pqt::format_desc format = pqt::format_desc::of<pqt::fmt::bf16>();
  bool element_delta = false;  ///< gaussws: Δ per element from `format` instead of per block from `bits`
  double noise_amp = 1.0;      ///< diffq: a (sqrt(12 Var(R)) matches GaussWS's noise variance)

  /// True when an operand needs one quantized copy per contraction axis
  /// (block scaling along that axis); otherwise one copy serves both GEMMs
  /// that use it, as a cast tensor would.
  bool per_axis() const { return kind == recipe_kind::mxfp8; }

  /// Fake-quantize x (rows x cols, row-major) in place. (seed, offset) name
  /// the random stream (stochastic rounding, GaussWS/DiffQ noise): the
  /// caller gives every tensor of every step its own offset, so noise is
  /// regenerated from (seed, offset, index), never stored.
  void quantize(float* x, std::size_t rows, std::size_t cols, role r, block_axis a, std::uint64_t seed,
                std::uint64_t offset) const;
};

namespace detail {

// ---- element-wise E8Mm ---------------------------------------------------------
// x[i] = pqt::fake_quant_op<F, R, nonsaturating>{seed, offset}(x[i], i),
// written with pqt::quantize (always inlined) so the loop vectorises inside
// the target clones. nonsaturating: an Inf stays Inf (as a bf16 cast does),
// so a blow-up shows as a non-finite loss instead of being clipped to max.
template <int M, pqt::rounding R>
SWEEP_TARGET_CLONES_TEMPLATE SWEEP_VECTORIZE void e8m_elements(float* x, std::size_t n, std::uint64_t seed,
                                                      std::uint64_t offset) {
  using F = pqt::fmt::e8m<M>;
  constexpr auto O = pqt::overflow::nonsaturating;
  if constexpr (R == pqt::rounding::stochastic) {
    // Element i takes word i & 3 of Philox block i >> 2, exactly the word
    // pqt::random_word(seed, offset, i) gives: one Philox call per 4 elements.
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      const pqt::u32x4 w = pqt::random_block4(seed, offset, i >> 2);
      for (int k = 0; k < 4; ++k) x[i + k] = pqt::quantize<F, R, O>(x[i + k], w[k]);
    }
    for (; i < n; ++i) x[i] = pqt::quantize<F, R, O>(x[i], pqt::random_word(seed, offset, i));
  } else {
    (void)seed, (void)offset;
    for (std::size_t i = 0; i < n; ++i) x[i] = pqt::quantize<F, R, O>(x[i]);
  }
}

template <pqt::rounding R>
void e8m_dispatch(int m, float* x, std::size_t n, std::uint64_t seed, std::uint64_t offset) {
  switch (m) {
    case 1: return e8m_elements<1, R>(x, n, seed, offset);
    case 2: return e8m_elements<2, R>(x, n, seed, offset);
    case 3: return e8m_elements<3, R>(x, n, seed, offset);
    case 4: return e8m_elements<4, R>(x, n, seed, offset);
    case 5: return e8m_elements<5, R>(x, n, seed, offset);
    case 6: return e8m_elements<6, R>(x, n, seed, offset);
    case 7: return e8m_elements<7, R>(x, n, seed, offset);
    default: throw std::invalid_argument("e8m recipe: mantissa bits must be 1..7");
  }
}

inline void e8m_any(int m, pqt::rounding r, float* x, std::size_t n, std::uint64_t seed, std::uint64_t offset) {
  switch (r) {
    case pqt::rounding::nearest_even: return e8m_dispatch<pqt::rounding::nearest_even>(m, x, n, seed, offset);
    case pqt::rounding::toward_zero: return e8m_dispatch<pqt::rounding::toward_zero>(m, x, n, seed, offset);
    case pqt::rounding::stochastic: return e8m_dispatch<pqt::rounding::stochastic>(m, x, n, seed, offset);
    default: throw std::invalid_argument("e8m recipe: rounding must be nearest_even, toward_zero or stochastic");
  }
}

inline void bf16_elements(float* x, std::size_t n) { e8m_elements<7, pqt::rounding::nearest_even>(x, n, 0, 0); }

// ---- per-tensor current scaling (Transformer Engine style) --------------------
// amax over the tensor; s = max_F / amax (not a power of two, margin 0);
// y = RNE_sat_F(x * s) * (1 / s), the dequantising multiply by the stored
// inverse scale as TE's GEMMs do. amax 0, Inf or NaN, or an s that overflows,
// give s = 1 (TE keeps its previous scale; with current scaling that is 1 at
// the first step). Span API: pqt::amax + pqt::compute_scale<F> + fake_quant.
template <class F>
SWEEP_TARGET_CLONES_TEMPLATE SWEEP_VECTORIZE void fp8_tensor_scaled(float* x, std::size_t n) {
  float amax = 0;
  bool nan = false;
  for (std::size_t i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    nan |= a != a;
    amax = a > amax ? a : amax;
  }
  float s = 1.0f;
  if (!nan && amax > 0 && std::isfinite(amax)) {
    s = F::max() / amax;
    if (!std::isfinite(s)) s = 1.0f;
  }
  const float inv = 1.0f / s;
  for (std::size_t i = 0; i < n; ++i)
    x[i] = pqt::quantize<F, pqt::rounding::nearest_even, pqt::overflow::saturate>(x[i] * s) * inv;
}

// ---- blocks of 32 along either axis ----------------------------------------------
// A block is up to 32 consecutive elements along a row (along_rows) or down
// a column (down_columns), never crossing a row / column end. Each recipe
// below makes one pass for the block amaxes and one flat, vectorisable pass
// over the elements that reads its block's parameter.
struct block_map {
  std::size_t rows, cols;
  block_axis axis;
  std::size_t per_row() const { return (cols + block_size - 1) / block_size; }
  std::size_t count() const {
    return axis == block_axis::along_rows ? rows * per_row() : ((rows + block_size - 1) / block_size) * cols;
  }
};

/// amax of every block; NaN for a block holding a NaN. Taken as an integer
/// max of the magnitudes' bits (monotone for floats of one sign, and every
/// NaN sorts above Inf), which vectorises where a float max with NaN rules
/// would not.
SWEEP_TARGET_CLONES SWEEP_VECTORIZE inline void block_amax_bits(const float* x, std::size_t rows, std::size_t cols,
                                                                  bool along_rows, std::uint32_t* out) {
  const std::size_t per_row = (cols + block_size - 1) / block_size;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row = x + r * cols;
    if (along_rows) {
      for (std::size_t c0 = 0; c0 < cols; c0 += block_size) {
        const std::size_t len = cols - c0 < block_size ? cols - c0 : block_size;
        std::uint32_t m = 0;
        for (std::size_t k = 0; k < len; ++k) {
          std::uint32_t v;
          std::memcpy(&v, row + c0 + k, sizeof v);
          v &= 0x7FFFFFFFu;
          m = v > m ? v : m;
        }
        out[r * per_row + c0 / block_size] = m;
      }
    } else {
      std::uint32_t* o = out + (r / block_size) * cols;
      for (std::size_t c = 0; c < cols; ++c) {
        std::uint32_t v;
        std::memcpy(&v, row + c, sizeof v);
        v &= 0x7FFFFFFFu;
        o[c] = v > o[c] ? v : o[c];
      }
    }
  }
}

inline void block_amaxes(const float* x, const block_map& m, std::vector<float>& amax) {
  thread_local std::vector<std::uint32_t> bits;
  bits.assign(m.count(), 0u);
  block_amax_bits(x, m.rows, m.cols, m.axis == block_axis::along_rows, bits.data());
  amax.resize(bits.size());
  std::memcpy(amax.data(), bits.data(), bits.size() * sizeof(float));
}

/// floor(log2 a) for finite a > 0, read off the exponent field (a subnormal
/// a has none to read: ilogb).
inline int floor_log2(float a) {
  std::uint32_t b;
  std::memcpy(&b, &a, sizeof b);
  const int field = static_cast<int>((b >> 23) & 0xFFu);
  return field == 0 ? std::ilogb(a) : field - 127;
}

/// Per-thread scratch, reused across calls (runs execute in parallel).
inline std::vector<float>& scratch_a() {
  thread_local std::vector<float> v;
  return v;
}
inline std::vector<float>& scratch_b() {
  thread_local std::vector<float> v;
  return v;
}
inline std::vector<std::uint32_t>& scratch_words() {
  thread_local std::vector<std::uint32_t> v;
  return v;
}

/// words[i] = pqt::random_word(seed, offset, i) for i < n, one Philox call
/// per four elements (random_block4).
inline const std::uint32_t* random_words(std::uint64_t seed, std::uint64_t offset, std::size_t n) {
  auto& w = scratch_words();
  w.resize((n + 3) & ~std::size_t{3});
  for (std::size_t q = 0; 4 * q < n; ++q) {
    const pqt::u32x4 b = pqt::random_block4(seed, offset, q);
    for (int k = 0; k < 4; ++k) w[4 * q + static_cast<std::size_t>(k)] = b[k];
  }
  return w.data();
}

// ---- MXFP8 (OCP MX v1.0) ----------------------------------------------------------
// Per block: X = 2^(floor(log2 amax) - emax_elem) as an e8m0 code (the OCP
// floor rule: pqt::encode_e8m0 gives 2^floor(log2 amax), then the exponent
// drops by emax_elem = 8 for E4M3, clamped at 2^-127); elements
// RNE_sat_E4M3(x / X) * X, both scalings exact multiplies by powers of two
// (2^-127 is a float subnormal, 2^127 a normal). A block whose amax is NaN or
// Inf gets the NaN scale (0xFF): all its elements become NaN.
// Span API: pqt::mx_scale<F> / mx_encode_element<F>.
SWEEP_TARGET_CLONES SWEEP_VECTORIZE inline void mx_elements_e4m3(float* x, std::size_t rows, std::size_t cols,
                                                                   std::size_t per_row, bool along_rows,
                                                                   const float* inv, const float* scale) {
  using F = pqt::fmt::e4m3;
  constexpr auto R = pqt::rounding::nearest_even;
  constexpr auto O = pqt::overflow::saturate;
  for (std::size_t r = 0; r < rows; ++r) {
    float* row = x + r * cols;
    if (along_rows) {
      for (std::size_t c0 = 0; c0 < cols; c0 += block_size) {
        const std::size_t len = cols - c0 < block_size ? cols - c0 : block_size;
        const float iv = inv[r * per_row + c0 / block_size], sc = scale[r * per_row + c0 / block_size];
        for (std::size_t k = 0; k < len; ++k) row[c0 + k] = pqt::quantize<F, R, O>(row[c0 + k] * iv) * sc;
      }
    } else {
      const float* ir = inv + (r / block_size) * cols;
      const float* sr = scale + (r / block_size) * cols;
      for (std::size_t c = 0; c < cols; ++c) row[c] = pqt::quantize<F, R, O>(row[c] * ir[c]) * sr[c];
    }
  }
}

inline void mx_blocks_e4m3(float* x, std::size_t rows, std::size_t cols, block_axis a) {
  constexpr int emax_elem = pqt::fmt::e4m3::emax;  // 8: 448 = 1.75 * 2^8
  const block_map m{rows, cols, a};
  auto& amax = scratch_a();
  block_amaxes(x, m, amax);
  auto& scale = scratch_b();
  scale.resize(2 * amax.size());
  float* inv = scale.data() + amax.size();
  for (std::size_t b = 0; b < amax.size(); ++b) {
    if (!std::isfinite(amax[b])) {  // NaN scale: the block decodes to NaN
      inv[b] = scale[b] = std::numeric_limits<float>::quiet_NaN();
      continue;
    }
    const int code = pqt::encode_e8m0(amax[b], pqt::e8m0_rounding::floor);  // 127 + floor(log2 amax), >= 0
    const int e = (code - emax_elem < 0 ? 0 : code - emax_elem) - 127;    // X = 2^e
    scale[b] = std::ldexp(1.0f, e);
    inv[b] = std::ldexp(1.0f, -e);
  }
  mx_elements_e4m3(x, rows, cols, m.per_row(), a == block_axis::along_rows, inv, scale.data());
}

// ---- GaussWS and DiffQ: weights + noise, cast to bf16 -------------------------------
// Δ per block of 32 along the weight's contraction axis (the last axis of a
// PyTorch [out, in] weight): Δ = 2^(floor(log2 amax) + 1 - b). A block of
// zeros, or one holding Inf/NaN, gets Δ = 0 (no noise; the cast keeps Inf/NaN).
inline const float* block_deltas(const float* x, const block_map& m, int b) {
  auto& d = scratch_a();
  block_amaxes(x, m, d);
  for (float& v : d) v = (v > 0 && std::isfinite(v)) ? std::ldexp(1.0f, floor_log2(v) + 1 - b) : 0.0f;
  return d.data();
}

/// Calls f(i, delta) for every element i of a rows x cols tensor, delta
/// being its block's value, in flat order.
template <class Fn>
PQT_FORCEINLINE void for_each_with_block(std::size_t rows, std::size_t cols, bool along_rows, const float* per_block,
                                         Fn&& f) {
  const std::size_t per_row = (cols + block_size - 1) / block_size;
  for (std::size_t r = 0; r < rows; ++r) {
    if (along_rows) {
      for (std::size_t c0 = 0; c0 < cols; c0 += block_size) {
        const std::size_t len = cols - c0 < block_size ? cols - c0 : block_size;
        const float d = per_block[r * per_row + c0 / block_size];
        for (std::size_t k = 0; k < len; ++k) f(r * cols + c0 + k, d);
      }
    } else {
      const float* dr = per_block + (r / block_size) * cols;
      for (std::size_t c = 0; c < cols; ++c) f(r * cols + c, dr[c]);
    }
  }
}

/// GaussWS: w~ = bf16(w + R * Δ), R = pqt::gaussws_r(random_word(seed,
/// offset, i)), rounded once (pqt::gaussws_element). Span API: pqt::gaussws.
SWEEP_TARGET_CLONES SWEEP_VECTORIZE inline void gaussws_elements(float* x, std::size_t rows, std::size_t cols,
                                                                   bool along_rows, const float* delta,
                                                                   const std::uint32_t* words) {
  for_each_with_block(rows, cols, along_rows, delta, [&](std::size_t i, float d) {
    x[i] = pqt::decode<pqt::fmt::bf16>(pqt::gaussws_element<pqt::fmt::bf16>(x[i], d, words[i]));
  });
}

inline void gaussws_weights(float* x, std::size_t rows, std::size_t cols, block_axis a, int b, std::uint64_t seed,
                            std::uint64_t offset) {
  const block_map m{rows, cols, a};
  const float* delta = block_deltas(x, m, b);
  gaussws_elements(x, rows, cols, a == block_axis::along_rows, delta, random_words(seed, offset, rows * cols));
}

/// DiffQ baseline: w~ = bf16(w + a u Δ), u = pqt::uniform_noise(word) in
/// (-1/2, 1/2). w + a u Δ is formed in double (exact there for a = 1) and
/// rounded once to bf16.
inline void diffq_weights(float* x, std::size_t rows, std::size_t cols, block_axis a, int b, double amp,
                          std::uint64_t seed, std::uint64_t offset) {
  const block_map m{rows, cols, a};
  const float* delta = block_deltas(x, m, b);
  const std::uint32_t* words = random_words(seed, offset, rows * cols);
  for_each_with_block(rows, cols, a == block_axis::along_rows, delta, [&](std::size_t i, float d) {
    const double v = static_cast<double>(x[i]) + static_cast<double>(pqt::uniform_noise(words[i])) * amp * static_cast<double>(d);
    x[i] = pqt::decode<pqt::fmt::bf16>(pqt::encode<pqt::fmt::bf16>(v));
  });
}

// ---- through pqt's tensor API (the newer recipes) -------------------------------------
// pqt::fake_quant and pqt::gaussws block along the flat array; here each row
// along the block axis is its own call (blocks never cross a row; a partial
// last block per row, as the older recipes), index_base = the row's first
// element (distinct random words). A weight's blocks run down its columns
// (its input features), so it is transposed to [out, in] first and back after.
template <class Fn>
void along_axis(float* x, std::size_t rows, std::size_t cols, block_axis a, Fn&& f) {
  auto each_row = [&](float* y, std::size_t r, std::size_t c) {
    for (std::size_t i = 0; i < r; ++i) f(y + i * c, c, static_cast<std::uint64_t>(i * c));
  };
  if (a == block_axis::along_rows) return each_row(x, rows, cols);
  auto& t = scratch_b();
  t.resize(rows * cols);
  transpose(x, rows, cols, t.data());
  each_row(t.data(), cols, rows);
  transpose(t.data(), cols, rows, x);
}

/// Every element rounded to F with mode r, nonsaturating (an overflow is
/// Inf, so a blow-up shows), element i's stochastic word
/// random_word(seed, offset, i): pqt::fake_quant.
inline void minifloat_elements(const pqt::format_desc& f, pqt::rounding r, float* x, std::size_t n, std::uint64_t seed,
                               std::uint64_t offset) {
  pqt::quant_config c;
  c.format = f;
  c.round = r;
  c.over = pqt::overflow::nonsaturating;
  c.seed = seed;
  c.offset = offset;
  c.threads = 1;  // runs train in parallel already
  pqt::fake_quant(x, x, n, c);
}

/// GaussWS with element Δ: bf16(w + R * ulp_F(w / X) * X), X the MX scale of
/// w's block of 32 for F: pqt::gaussws, delta_mode::element.
inline void gaussws_element_weights(float* x, std::size_t rows, std::size_t cols, block_axis a,
                                    const pqt::format_desc& f, std::uint64_t seed, std::uint64_t offset) {
  along_axis(x, rows, cols, a, [&](float* y, std::size_t len, std::uint64_t first) {
    pqt::gaussws_config g;
    g.delta = pqt::delta_mode::element;
    g.format = f;
    g.seed = seed;
    g.offset = offset;
    g.index_base = first;
    g.threads = 1;
    thread_local std::vector<pqt::bf16> out;
    out.resize(len);
    pqt::gaussws(y, out.data(), len, g);
    for (std::size_t i = 0; i < len; ++i) y[i] = static_cast<float>(out[i]);
  });
}

/// MX fake-quant of a weight with element format F (RNE, saturating, e8m0
/// per 32 along the input features, or per_row: one e8m0 scale for all of
/// an output's input features): pqt::fake_quant, quant_config::mx(F).
inline void mx_weights(float* x, std::size_t rows, std::size_t cols, block_axis a, const pqt::format_desc& f,
                       bool per_row) {
  along_axis(x, rows, cols, a, [&](float* y, std::size_t len, std::uint64_t) {
    pqt::quant_config q = pqt::quant_config::mx(f);
    if (per_row) q.block_size = len;
    q.threads = 1;
    pqt::fake_quant(y, y, len, q);
  });
}

/// Var(R) of the GaussWS table, from its thresholds (R = j - 4 on the words
/// [T_(j-1), T_j)): 0.3254...
inline double gaussws_r_variance() {
  double s = 0;
  std::uint64_t prev = 0;
  for (int j = 1; j <= 7; ++j) {
    const std::uint64_t t = j == 7 ? std::uint64_t{1} << 32 : pqt::gaussws_r_threshold(j);
    s += static_cast<double>((j - 4) * (j - 4)) * static_cast<double>(t - prev);
    prev = t;
  }
  return s / 4294967296.0;
}

}  // namespace detail

inline void recipe::quantize(float* x, std::size_t rows, std::size_t cols, role r, block_axis a, std::uint64_t seed,
                             std::uint64_t offset) const {
  const std::size_t n = rows * cols;
  switch (kind) {
    case recipe_kind::fp32: return;
    case recipe_kind::e8m: return detail::e8m_any(mantissa, rounding, x, n, seed, offset);
    case recipe_kind::fp8_tensor:
      if (r == role::grad_output) return detail::fp8_tensor_scaled<pqt::fmt::e5m2>(x, n);
      return detail::fp8_tensor_scaled<pqt::fmt::e4m3>(x, n);
    case recipe_kind::mxfp8:
      if (bf16_grads && r == role::grad_output) return detail::bf16_elements(x, n);
      return detail::mx_blocks_e4m3(x, rows, cols, a);
    case recipe_kind::gaussws:
      if (r == role::weight && element_delta) return detail::gaussws_element_weights(x, rows, cols, a, format, seed, offset);
      if (r == role::weight) return detail::gaussws_weights(x, rows, cols, a, bits, seed, offset);
      return detail::bf16_elements(x, n);
    case recipe_kind::diffq:
      if (r == role::weight) return detail::diffq_weights(x, rows, cols, a, bits, noise_amp, seed, offset);
      return detail::bf16_elements(x, n);
    case recipe_kind::minifloat: return detail::minifloat_elements(format, rounding, x, n, seed, offset);
    case recipe_kind::mx_weights:
      if (r == role::weight) return detail::mx_weights(x, rows, cols, a, format, per_row);
      return detail::bf16_elements(x, n);
  }
}

// ---- the recipes the sweep knows ----------------------------------------------------

inline const char* rounding_suffix(pqt::rounding r) {
  return r == pqt::rounding::nearest_even ? "rne" : r == pqt::rounding::toward_zero ? "trunc" : "sr";
}

inline recipe make_e8m(int m, pqt::rounding r) {
  recipe q;
  q.kind = recipe_kind::e8m;
  q.mantissa = m;
  q.rounding = r;
  const char* suffix = rounding_suffix(r);
  q.name = m == 7 && r == pqt::rounding::nearest_even ? std::string("bf16") : "e8m" + std::to_string(m) + "_" + suffix;
  q.group = m == 7 && r == pqt::rounding::nearest_even ? std::string("bf16") : std::string("e8m_") + suffix;
  return q;
}

inline recipe make_noise(recipe_kind k, int b) {
  recipe q;
  q.kind = k;
  q.bits = b;
  q.group = k == recipe_kind::gaussws ? "gaussws" : "diffq";
  q.name = q.group + "_b" + std::to_string(b);
  return q;
}

/// Every operand in IEEE format f ("e5m7", "e4m3 ieee"), mode r: e5m7_rne, e4m3ieee_sr.
inline recipe make_minifloat(const char* f, pqt::rounding r) {
  recipe q;
  q.kind = recipe_kind::minifloat;
  q.format = pqt::format_desc::parse(f);
  q.rounding = r;
  std::string name = f;
  name.erase(std::remove(name.begin(), name.end(), ' '), name.end());  // "e4m3 ieee" -> e4m3ieee
  q.name = name + "_" + rounding_suffix(r);
  q.group = std::string("exp_") + rounding_suffix(r);
  return q;
}

/// GaussWS, element Δ from format f: gaussws_e2m3, ...; gaussws_bf16ulp for bf16.
inline recipe make_gaussws_element(const char* f) {
  recipe q;
  q.kind = recipe_kind::gaussws;
  q.element_delta = true;
  q.format = pqt::format_desc::parse(f);
  q.group = "gaussws_fp";
  q.name = std::string("gaussws_") + f + (std::string(f) == "bf16" ? "ulp" : "");
  return q;
}

/// MX weights with element format f (post-training quantization):
/// ptq_mx_e2m3, ...; per_row: ptq_row_e2m1, ... (a scale per output).
inline recipe make_mx_weights(const char* f, bool per_row) {
  recipe q;
  q.kind = recipe_kind::mx_weights;
  q.format = pqt::format_desc::parse(f);
  q.per_row = per_row;
  q.group = "ptq";
  q.name = std::string(per_row ? "ptq_row_" : "ptq_mx_") + f;
  return q;
}

/// Every recipe the sweep can run (--list), in this order.
inline std::vector<recipe> known_recipes() {
  using pqt::rounding;
  std::vector<recipe> out;
  out.push_back(make_e8m(7, rounding::nearest_even));
  for (int m = 6; m >= 3; --m) out.push_back(make_e8m(m, rounding::nearest_even));
  for (int m = 6; m >= 3; --m) out.push_back(make_e8m(m, rounding::toward_zero));
  for (int m = 6; m >= 3; --m) out.push_back(make_e8m(m, rounding::stochastic));
  recipe fp8;
  fp8.kind = recipe_kind::fp8_tensor;
  fp8.name = "fp8_e4m3_e5m2";
  fp8.group = "fp8";
  out.push_back(fp8);
  recipe mx;
  mx.kind = recipe_kind::mxfp8;
  mx.name = "mxfp8_e4m3";
  mx.group = "fp8";
  out.push_back(mx);
  for (int b : {9, 6, 4}) out.push_back(make_noise(recipe_kind::gaussws, b));
  out.push_back(make_noise(recipe_kind::diffq, 4));
  // Not in the default sweep; by name with --recipes.
  recipe f32;
  f32.name = "fp32";
  f32.group = "fp32";
  out.push_back(f32);
  out.push_back(make_e8m(7, rounding::toward_zero));
  out.push_back(make_e8m(7, rounding::stochastic));
  recipe mx_bf16_grads = mx;
  mx_bf16_grads.name = "mxfp8_bf16_grads";
  mx_bf16_grads.bf16_grads = true;
  out.push_back(mx_bf16_grads);
  out.push_back(make_noise(recipe_kind::diffq, 6));
  // Exponent reductions (To FP8 and Back Again): IEEE E6/E5/E4 formats.
  // ("e4m3 ieee": IEEE E4M3 with Inf, max 240; plain "e4m3" is OCP's.)
  for (const char* f : {"e6m7", "e5m7", "e5m5", "e5m3", "e4m3 ieee"})
    for (auto r : {rounding::nearest_even, rounding::stochastic}) out.push_back(make_minifloat(f, r));
  // GaussWS with FP-format noise: Δ = the element's ulp in F under its MX block scale.
  for (const char* f : {"e3m2", "e2m3", "e2m1", "bf16"}) out.push_back(make_gaussws_element(f));
  // DiffQ with GaussWS's noise variance: a = sqrt(12 Var(R)).
  for (int b : {6, 4}) {
    recipe d = make_noise(recipe_kind::diffq, b);
    d.noise_amp = std::sqrt(12.0 * detail::gaussws_r_variance());
    d.name += "_var";
    out.push_back(d);
  }
  // Weights only, for post-training quantization: MXFP6 and MXFP4, and the
  // same elements with one scale per output (per row), a coarser PTQ.
  for (const char* f : {"e2m3", "e3m2", "e2m1"}) out.push_back(make_mx_weights(f, false));
  for (const char* f : {"e2m3", "e2m1"}) out.push_back(make_mx_weights(f, true));
  for (int m = 2; m >= 1; --m)
    for (auto r : {rounding::nearest_even, rounding::toward_zero, rounding::stochastic}) out.push_back(make_e8m(m, r));
  return out;
}

}  // namespace sweep

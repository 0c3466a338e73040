#pragma once
/// Scaling: amax, per-tensor scales (current and delayed, as Transformer
/// Engine / MS-AMP), MX block scales (OCP MX v1.0, e8m0) and NVFP4's two-level
/// scales (ue4m3 per 16 elements + an fp32 tensor scale), and 2-D tiles.
///   float a = pqt::amax(x, n);                                         // NaN if any x[i] is NaN
///   float s = pqt::compute_scale<pqt::fmt::e4m3>(a);                   // a * s <= 448
///   std::uint8_t X = pqt::mx_scale<pqt::fmt::e2m1>(block_amax);        // e8m0 code, OCP floor rule
///   auto q = pqt::mx_encode_element<pqt::fmt::e2m1>(x, X);             // encode(x / 2^(X - 127))
///   float st = pqt::nvfp4_tensor_scale(a);                            // a / (6 * 448)
///   std::uint8_t b = pqt::nvfp4_block_scale(block_amax, st);          // ue4m3 code
///
/// Per-element and per-block functions are PQT_HD (host and CUDA device) and
/// constexpr where C++17 allows; functions over arrays are host-only and throw
/// std::invalid_argument on bad arguments. The rules, their sources and every
/// fall-back are documented on each function; in short:
///
///   per tensor  s = RZ(max_F * 2^-margin / amax), the largest float with
///               amax * s <= max_F * 2^-margin (TE rounds to nearest, so TE's s
///               may be 1 ulp larger); power_of_two keeps the largest power of
///               two <= s; amax 0, negative, Inf or NaN, or a quotient that
///               overflows float, give previous_scale (1 by default).
///   delayed     a window of the last history_len amaxes; "max" or
///               "most_recent" of the window feeds compute_scale. Non-finite
///               amaxes are recorded: while one is in the window the scale stays
///               at previous_scale (as TE).
///   MX          X = 2^(E - emax_elem), E = floor / ceil / nearest(log2 amax),
///               or X = ceil_pow2(amax / max_elem) (rceil); exponent clamped to
///               [-127, 127]; amax 0 -> 2^-127 (code 0); amax Inf/NaN -> NaN (0xFF).
///   NVFP4       s_t = amax_t / 2688, block = RNE_sat_ue4m3(amax_b / (6 s_t)),
///               element = RNE_sat_e2m1(x / (block * s_t)).
///
/// Float arithmetic here is IEEE: host builds without -ffast-math; device
/// divisions use __fdiv_rn and subnormals are read from their bits, but a
/// device build with -use_fast_math (FTZ) may flush float-subnormal results
/// of the dequantising multiplications.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "config.hpp"
#include "convert.hpp"
#include "detail/bits.hpp"
#include "detail/float_ops.hpp"
#include "format.hpp"
#include "minifloat.hpp"
#include "rounding.hpp"

namespace pqt {
namespace detail {




/// A finite |x| > 0 as 2^e * 1.f: e = floor(log2 |x|) read off the exponent
/// field (a float subnormal by its leading one), `below` = the bits after the
/// leading one and `nbelow` their count (23 for normals, fewer for subnormals).
struct log2_parts {
  int e;
  std::uint32_t below;
  int nbelow;
};

PQT_HD PQT_FORCEINLINE constexpr log2_parts scale_log2_parts(std::uint32_t abits) noexcept {
  const std::uint32_t ef = abits >> 23;
  if (ef != 0) return {static_cast<int>(ef) - 127, abits & 0x7FFFFFu, 23};
  const int lead = 63 - clz64(abits);  // position of the leading one, 0..22
  return {lead - 149, abits & ((1u << lead) - 1u), lead};
}


PQT_HD PQT_FORCEINLINE constexpr int clamp_int(int v, int lo, int hi) noexcept {
  return v < lo ? lo : (v > hi ? hi : v);
}

/// Running amax: max(acc, |x|) where NaN wins (in either argument) and Inf
/// is the largest number. For non-negative floats the order of the bit
/// patterns is the order of the values and every NaN pattern is above +Inf,
/// so this is one integer max on the magnitude bits (it vectorises). The NaN
/// returned keeps whatever payload it had.
///   float acc = 0; for (...) acc = pqt::detail::amax_update(acc, x[i]);
PQT_HD PQT_FORCEINLINE constexpr float amax_update(float acc, float x) noexcept {
  const std::uint32_t a = abs_bits(acc), b = abs_bits(x);
  return bit_cast<float>(a < b ? b : a);
}

/// max |x[i]| for i < n as magnitude bits (every NaN pattern is above +Inf),
/// read with element stride `stride`: the one block / tile / tensor amax loop
/// of the host code. An integer max with an integer accumulator, so it
/// vectorises (a float accumulator round-tripped through bit_cast does not).
/// T is float or a minifloat (bf16, fp16, ...; decoded exactly).
template <class T>
PQT_FORCEINLINE std::uint32_t max_abs_bits(const T* x, std::size_t n, std::size_t stride = 1) noexcept {
  std::uint32_t acc = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t b = abs_bits(static_cast<float>(x[i * stride]));
    acc = acc < b ? b : acc;
  }
  return acc;
}

/// A quiet NaN for NaN inputs, the value otherwise (amax's result has no payload).
PQT_HD PQT_FORCEINLINE constexpr float quiet_if_nan(float x) noexcept {
  return abs_bits(x) > 0x7F800000u ? bit_cast<float>(0x7FC00000u) : x;
}

/// The amax a max_abs_bits result stands for: the magnitude, or a quiet NaN.
PQT_HD PQT_FORCEINLINE constexpr float amax_from_bits(std::uint32_t bits) noexcept {
  return bits > 0x7F800000u ? bit_cast<float>(0x7FC00000u) : bit_cast<float>(bits);
}

[[noreturn]] inline void scale_fail(const char* fn, const char* what) {
  throw std::invalid_argument(std::string("pqt::") + fn + ": " + what);
}

/// Number of blocks of block_size covering n elements (the last may be partial).
inline std::size_t checked_block_count(const char* fn, std::size_t n, std::size_t block_size) {
  if (block_size == 0) scale_fail(fn, "block_size must be > 0");
  return n / block_size + (n % block_size != 0 ? 1 : 0);
}

}  // namespace detail

// =============================================================================
// amax
// =============================================================================

/// max |x[i]| over n floats (host). NaN propagates: if any element is NaN the
/// result is (a quiet) NaN; ±Inf gives +Inf; n == 0 gives 0. Throws
/// std::invalid_argument if x is null and n > 0.
///   float a = pqt::amax(x.data(), x.size());
inline float amax(const float* x, std::size_t n) {
  if (x == nullptr && n > 0) detail::scale_fail("amax", "x is null but n > 0");
  return detail::amax_from_bits(detail::max_abs_bits(x, n));
}

/// max |x[i]| over n minifloats (bf16, fp16, e4m3, ...), each decoded exactly;
/// same NaN/Inf rules as amax(const float*, n).
///   float a = pqt::amax(weights_bf16.data(), weights_bf16.size());
template <int E, int M, encoding Enc, int Bias, bool Signed>
float amax(const minifloat<E, M, Enc, Bias, Signed>* x, std::size_t n) {
  if (x == nullptr && n > 0) detail::scale_fail("amax", "x is null but n > 0");
  return detail::amax_from_bits(detail::max_abs_bits(x, n));
}

/// amax of each block of block_size consecutive elements: out[b] = amax(x +
/// b * block_size, ...), ceil(n / block_size) values; the last block may be
/// partial (it covers the remaining n % block_size elements). Throws
/// std::invalid_argument for block_size == 0 or null pointers with n > 0.
///   std::vector<float> a((n + 31) / 32); pqt::block_amax(x, n, 32, a.data());
inline void block_amax(const float* x, std::size_t n, std::size_t block_size, float* out) {
  const std::size_t nb = detail::checked_block_count("block_amax", n, block_size);
  if (n > 0 && (x == nullptr || out == nullptr)) detail::scale_fail("block_amax", "null pointer with n > 0");
  for (std::size_t b = 0; b < nb; ++b) {
    const std::size_t lo = b * block_size, len = (n - lo < block_size) ? n - lo : block_size;
    out[b] = amax(x + lo, len);
  }
}

// =============================================================================
// Per-tensor scaling (current and delayed), as Transformer Engine / MS-AMP
// =============================================================================

/// Per-tensor scaling options.
///   pqt::tensor_scaling cfg{/*margin=*/1.0f, /*power_of_two=*/true};
struct tensor_scaling {
  /// Headroom in powers of two (TE's `margin`): the target is max_F * 2^-margin.
  /// Usually a small non-negative integer; any finite value is accepted.
  float margin = 0.0f;
  /// Round s down to a power of two (TE's power-of-two scales), so that scaling
  /// and unscaling are exact.
  bool power_of_two = false;
};

/// Scale s for a tensor with absolute maximum amax, to be applied as
/// encode<Fmt>(x * s) and undone as decode(...) / s:
///   1. M' = max_F * 2^-margin (TE computes the target the same way:
///      fp8_max * 2^-margin, then divides by amax). Exact for integer margins
///      in [-1000, 1000]; otherwise 2^-margin comes from exp2f, whose last bit
///      may differ between host libm and CUDA.
///   2. s = M' / amax rounded toward zero, i.e. the largest float with
///      amax * s <= M' exactly (TE rounds to nearest: its s can be one ulp
///      larger, with amax * s just above M').
///   3. power_of_two: s becomes the largest power of two <= s, which is the
///      largest power of two with amax * s <= M' (TE masks the mantissa of its
///      rounded-to-nearest s; the two differ only when M' / amax is within half
///      an ulp below a power of two).
/// So amax * s <= max_F whenever margin >= 0.
/// Fall-backs (as TE's delayed scaling, which keeps the previous scale):
/// previous_scale is returned when amax is 0, negative, Inf or NaN, when M' / amax
/// overflows float (amax tiny: TE's current scaling uses FLT_MAX there instead)
/// and when s would be 0 or NaN (a huge or NaN margin).
///   float s = pqt::compute_scale<pqt::fmt::e4m3>(amax, {}, previous_s);
/// compute_scale for a format whose largest value is max_f (run-time formats).
PQT_HD constexpr float compute_scale(float max_f, float amax, tensor_scaling cfg, float previous_scale) {
  const std::uint32_t ab = detail::bit_cast<std::uint32_t>(amax);
  if ((ab >> 31) != 0 || ab == 0 || ab >= 0x7F800000u) return previous_scale;  // <= 0, Inf, NaN
  // Step 1. M' = max_F * 2^-margin: exact for integer margins, else through exp2f.
  float target = 0.0f;
  const float m = cfg.margin;
  if (m >= -1000.0f && m <= 1000.0f && m == static_cast<float>(static_cast<int>(m))) {
    target = static_cast<float>(static_cast<double>(max_f) * detail::exp2_exact(-static_cast<int>(m)));
  } else {
    target = max_f * ::exp2f(-m);  // NaN margin -> NaN target -> fall-back below
  }
  // Step 2. Round to nearest, then step down one ulp if that went above M' /
  // amax. The product of two floats is exact in double.
  float s = detail::div_rn(target, amax);
  std::uint32_t sb = detail::bit_cast<std::uint32_t>(s);
  if (!(sb > 0 && sb < 0x7F800000u)) return previous_scale;  // 0, Inf, NaN
  if (detail::widen(amax) * detail::widen(s) > detail::widen(target)) {
    --sb;  // s > 0: the next float toward zero
    if (sb == 0) return previous_scale;
  }
  // Step 3. Largest power of two <= s: keep the leading one.
  if (cfg.power_of_two)
    sb = sb >= 0x00800000u ? (sb & 0xFF800000u) : (std::uint32_t{1} << (63 - detail::clz64(sb)));
  return detail::bit_cast<float>(sb);
}

template <class Fmt>
PQT_HD constexpr float compute_scale(float amax, tensor_scaling cfg = {}, float previous_scale = 1.0f) {
  static_assert(is_format<Fmt>::value, "pqt::compute_scale: Fmt must be a pqt::format<> or pqt::minifloat<>");
  return compute_scale(Fmt::max(), amax, cfg, previous_scale);
}

/// How delayed scaling reduces its amax history (TE's amax_compute_algo).
enum class amax_compute : int {
  max = 0,          ///< the largest amax in the window ("max")
  most_recent = 1,  ///< the latest recorded amax ("most_recent")
};

/// Delayed scaling: the scale for the next step comes from the amaxes of the
/// last history_len steps (TE DelayedScaling: amax_history_len,
/// amax_compute_algo, margin; MS-AMP's scaling window). Host only. The caller
/// keeps the current scale and passes it back, as TE keeps its scale tensor:
///   pqt::delayed_scaling ds(16, {}, pqt::amax_compute::max);
///   float s = 1.0f;
///   for (...) { use encode<e4m3>(x * s); ds.record(pqt::amax(x, n)); s = ds.scale<pqt::fmt::e4m3>(s); }
///
/// Non-finite amaxes are recorded, not skipped, and they propagate: the window
/// amax is NaN if any recorded value in it is NaN (else +Inf if one is Inf), so
/// while one is in the window compute_scale returns the previous scale. This is
/// what TE does for Inf in both implementations and for NaN in its PyTorch one
/// (torch.max propagates NaN, then torch.where(isfinite(amax), sf, scale));
/// TE's CUDA kernel reduces with fmaxf, which drops NaN from "max" windows.
/// Before anything is recorded the window amax is 0 (TE zero-fills its
/// history), so scale() returns the previous scale.
class delayed_scaling {
 public:
  /// Throws std::invalid_argument if history_len == 0 or cfg.margin is not finite.
  ///   pqt::delayed_scaling ds(1024, pqt::tensor_scaling{0.0f, false}, pqt::amax_compute::max);
  explicit delayed_scaling(std::size_t history_len, tensor_scaling cfg = {},
                           amax_compute algo = amax_compute::max)
      : cfg_(cfg), algo_(algo) {
    if (history_len == 0) detail::scale_fail("delayed_scaling", "history_len must be > 0");
    if (!std::isfinite(cfg.margin)) detail::scale_fail("delayed_scaling", "margin must be finite");
    if (algo != amax_compute::max && algo != amax_compute::most_recent)
      detail::scale_fail("delayed_scaling", "unknown amax_compute");
    history_.assign(history_len, 0.0f);
  }

  /// Record one step's amax (the oldest leaves the window once it is full).
  /// Throws std::invalid_argument for a negative amax (-0 is zero); NaN and
  /// +Inf are recorded (see the class comment).
  ///   ds.record(pqt::amax(grad, n));
  void record(float amax) {
    if (amax < 0.0f) detail::scale_fail("delayed_scaling::record", "amax must be >= 0 (or NaN / +Inf)");
    history_[next_] = amax;
    next_ = next_ + 1 == history_.size() ? 0 : next_ + 1;
    if (count_ < history_.size()) ++count_;
  }

  /// The amax that feeds the scale: max of the window or the latest value;
  /// 0 before the first record.
  ///   float a = ds.amax();
  float amax() const {
    if (count_ == 0) return 0.0f;
    if (algo_ == amax_compute::most_recent) return latest();
    float acc = 0.0f;
    for (std::size_t i = 0; i < count_; ++i) acc = detail::amax_update(acc, history_[i]);
    return detail::quiet_if_nan(acc);
  }

  /// compute_scale<Fmt>(amax(), config(), previous_scale).
  ///   s = ds.scale<pqt::fmt::e5m2>(s);
  template <class Fmt>
  float scale(float previous_scale = 1.0f) const {
    return compute_scale<Fmt>(amax(), cfg_, previous_scale);
  }

  /// The window, oldest first (size() values).
  ///   for (float a : ds.history()) ...
  std::vector<float> history() const {
    std::vector<float> out;
    out.reserve(count_);
    const std::size_t start = count_ < history_.size() ? 0 : next_;
    for (std::size_t i = 0; i < count_; ++i) out.push_back(history_[(start + i) % history_.size()]);
    return out;
  }

  /// The latest recorded amax (0 before the first record).
  float latest() const {
    if (count_ == 0) return 0.0f;
    return history_[next_ == 0 ? history_.size() - 1 : next_ - 1];
  }

  std::size_t history_len() const noexcept { return history_.size(); }
  /// Number of values in the window (min(records so far, history_len)).
  std::size_t size() const noexcept { return count_; }
  const tensor_scaling& config() const noexcept { return cfg_; }
  amax_compute algo() const noexcept { return algo_; }
  /// Forget the history.
  void reset() {
    history_.assign(history_.size(), 0.0f);
    next_ = count_ = 0;
  }

 private:
  std::vector<float> history_;
  std::size_t next_ = 0, count_ = 0;
  tensor_scaling cfg_;
  amax_compute algo_;
};

// =============================================================================
// MX block scaling (OCP Microscaling Formats v1.0): e8m0 shared scales
// =============================================================================

/// Elements per MX block (OCP MX v1.0 uses k = 32 for every concrete format).
constexpr std::size_t mx_block_size = 32;

/// The value 2^(code - 127) of an e8m0 code, exactly (code 0 is 2^-127, a
/// float subnormal); 0xFF is NaN.
///   float X = pqt::e8m0_value(pqt::mx_scale<pqt::fmt::e4m3>(amax));
PQT_HD constexpr float e8m0_value(std::uint8_t code) { return decode<fmt::e8m0>(code); }

/// Shared e8m0 scale code of an MX block whose largest magnitude is amax,
/// with emax_elem = ElemFmt::emax (e4m3 8, e5m2 15, e3m2 4, e2m3 2, e2m1 2):
///   floor         X = 2^(floor(log2 amax) - emax_elem), the OCP MX v1.0 rule
///                 (spec §6.3; Microsoft's microxcaling reference). amax / X is
///                 in [2^emax, 2^(emax+1)), which can exceed max_elem (e4m3:
///                 up to 511.97 > 448): elements above max_elem saturate when
///                 encoded (OCP: "clamped to max normal").
///   ceil          X = 2^(ceil(log2 amax) - emax_elem): amax / X <= 2^emax <=
///                 max_elem, never saturates.
///   nearest_even  X = 2^(E - emax_elem), 2^E the power of two nearest to amax
///                 as a value (threshold 1.5 * 2^k); a tie amax = 1.5 * 2^k goes
///                 to the power whose e8m0 code E + 127 is even, i.e. to 2^k if
///                 k is odd and 2^(k+1) if k is even (the rule encode_e8m0
///                 applies). amax / X <= 1.5 * 2^emax, which is <= max_elem for
///                 all five OCP element formats.
///   rceil         X = encode_e8m0(amax / max_elem, rceil): the smallest power of
///                 two >= amax / max_elem (CUDA / TE MXFP8 "round up", cuDNN's
///                 quantize_round_up(amax / vmax)). The quotient is one float
///                 division (rounded to nearest); it never rounds down onto a
///                 power of two from above (the float just above max_elem * 2^k
///                 is more than half an ulp of 2^k above it), so amax / X <=
///                 max_elem exactly. TE multiplies amax by a rounded 1/max_elem
///                 instead, which can pick the other power when amax / max_elem
///                 is within a float ulp of a power of two.
/// floor(log2 amax) is read off the float's exponent field (no log2 call); a
/// subnormal amax by its leading one. The exponent E - emax_elem is clamped to
/// e8m0's range [-127, 127] (microxcaling clamps underflow to -127 too; it
/// turns overflow, impossible for the OCP formats, into NaN).
/// Fall-backs: amax == 0 (an all-zero block) gives code 0, X = 2^-127: the OCP
/// spec leaves the scale of a zero block free (any X dequantises zeros
/// exactly); code 0 is what microxcaling (log2 of FLT_MIN then clamping) and
/// TE's float_to_e8m0(0) produce. amax Inf or NaN gives 0xFF, the NaN scale,
/// which makes every element of the block NaN on decode (OCP MX v1.0; the
/// microxcaling reference turns an Inf/NaN block max into a NaN scale; TE's
/// float_to_e8m0 gives 0xFE for Inf). The sign of amax is ignored.
///   std::uint8_t X = pqt::mx_scale<pqt::fmt::e4m3>(block_amax, pqt::e8m0_rounding::rceil);
/// mx_scale for an element format with largest exponent emax and largest
/// value max_elem (run-time formats); the same rules.
PQT_HD constexpr std::uint8_t mx_scale(int emax, float max_elem, float amax, e8m0_rounding rule) {
  const std::uint32_t a = detail::abs_bits(amax);
  if (a >= 0x7F800000u) return 0xFF;  // Inf or NaN: NaN scale
  if (a == 0) return 0;               // all-zero block: 2^-127
  if (rule == e8m0_rounding::rceil) {
    const float q = detail::div_rn(detail::bit_cast<float>(a), max_elem);
    return encode_e8m0(q, e8m0_rounding::rceil);  // saturates at 2^127, clips at 2^-127
  }
  const detail::log2_parts p = detail::scale_log2_parts(a);
  int e = p.e;
  if (rule == e8m0_rounding::ceil) {
    e += p.below != 0 ? 1 : 0;
  } else if (rule == e8m0_rounding::nearest_even && p.nbelow > 0) {
    // Compare |amax| with 1.5 * 2^e: the first bit after the leading one is
    // the half, the rest decide; a tie goes to the even code e + 127 (+1).
    const std::uint32_t half = (p.below >> (p.nbelow - 1)) & 1u;
    const std::uint32_t rest = p.below & ((1u << (p.nbelow - 1)) - 1u);
    if (half != 0 && (rest != 0 || e % 2 == 0)) ++e;
  }
  return static_cast<std::uint8_t>(detail::clamp_int(e - emax, -127, 127) + 127);
}

template <class ElemFmt>
PQT_HD constexpr std::uint8_t mx_scale(float amax, e8m0_rounding rule = e8m0_rounding::floor) {
  static_assert(is_format<ElemFmt>::value, "pqt::mx_scale: ElemFmt must be a pqt::format<> or pqt::minifloat<>");
  static_assert(ElemFmt::format_type::enc != encoding::scale, "pqt::mx_scale: the element format cannot be a scale format");
  return mx_scale(ElemFmt::format_type::emax, ElemFmt::max(), amax, rule);
}

/// Element code of x in a block with e8m0 scale code `scale`:
/// encode<ElemFmt, R, saturate, K>(x / X), X = 2^(scale - 127). The quotient is
/// formed exactly (X is a power of two: in float when x / X is a normal float,
/// else in double, where it is always exact) and rounded once; elements above
/// max_elem saturate (OCP: clamped to max normal). A NaN scale (0xFF) encodes
/// NaN (the format's NaN, or +max where it has none, README); the block
/// decodes to NaN whatever the element codes.
///   auto c = pqt::mx_encode_element<pqt::fmt::e4m3, pqt::rounding::stochastic>(x, X, word);
template <class ElemFmt, rounding R = rounding::nearest_even, int K = 32>
PQT_HD constexpr storage_t<ElemFmt> mx_encode_element(float x, std::uint8_t scale,
                                                      std::uint32_t random_bits = 0) {
  if (scale == 0xFF) return encode<ElemFmt, R, overflow::saturate, K>(detail::bit_cast<float>(0x7FC00000u), random_bits);
  const int s = static_cast<int>(scale) - 127;
  const std::uint32_t xb = detail::abs_bits(x);
  if (xb >= 0x00800000u) {  // normal, Inf or NaN: try float
    const float q = x * detail::exp2f_exact(-s);
    if (detail::abs_bits(q) >= 0x00800000u)  // normal (or Inf, which saturates either way)
      return encode<ElemFmt, R, overflow::saturate, K>(q, random_bits);
  } else if (xb == 0) {
    return encode<ElemFmt, R, overflow::saturate, K>(x, random_bits);  // keeps -0
  }
  return encode<ElemFmt, R, overflow::saturate, K>(detail::widen(x) * detail::exp2_exact(-s), random_bits);
}

/// decode<ElemFmt>(code) * X, rounded once to float (exact unless the product
/// leaves float's normal range); NaN when the scale is 0xFF.
///   float y = pqt::mx_decode_element<pqt::fmt::e2m1>(c, X);
template <class ElemFmt>
PQT_HD constexpr float mx_decode_element(storage_t<ElemFmt> code, std::uint8_t scale) {
  return decode<ElemFmt>(code) * e8m0_value(scale);
}

/// mx_scale<ElemFmt>(amax of each block, rule) for consecutive blocks of
/// block_size elements (default 32): ceil(n / block_size) codes, the last
/// block possibly partial. Throws std::invalid_argument for block_size == 0 or
/// null pointers with n > 0.
///   std::vector<std::uint8_t> X((n + 31) / 32); pqt::mx_block_scales<pqt::fmt::e4m3>(x, n, X.data());
template <class ElemFmt>
void mx_block_scales(const float* x, std::size_t n, std::uint8_t* scales,
                     e8m0_rounding rule = e8m0_rounding::floor, std::size_t block_size = mx_block_size) {
  const std::size_t nb = detail::checked_block_count("mx_block_scales", n, block_size);
  if (n > 0 && (x == nullptr || scales == nullptr)) detail::scale_fail("mx_block_scales", "null pointer with n > 0");
  for (std::size_t b = 0; b < nb; ++b) {
    const std::size_t lo = b * block_size, len = (n - lo < block_size) ? n - lo : block_size;
    scales[b] = mx_scale<ElemFmt>(amax(x + lo, len), rule);
  }
}

// =============================================================================
// NVFP4: e2m1 elements, a ue4m3 scale per 16 elements, an fp32 tensor scale
// =============================================================================
//
// NVIDIA's two-level recipe (Transformer Engine NVFP4 recipe and its
// core_nvfp4.cuh; NVIDIA's NVFP4 pre-training paper, arXiv 2509.25149): the
// tensor scale maps the tensor amax onto 6 * 448, the largest product of an
// e2m1 value and a ue4m3 scale; each 16-element block stores the ue4m3 of its
// own amax / 6 relative to the tensor scale (round to nearest even,
// saturating); elements are x divided by (block scale * tensor scale), rounded
// to e2m1 (RNE, saturating). Decode multiplies back: x ~ e2m1 * ue4m3 * s_t.
// TE evaluates the same quantities with float reciprocals (S_enc = 2688 /
// amax, block = amax_b * (S_enc * (1/6)), element = x * (1 / (block *
// (1/S_enc)))), each rounded to float; pqt computes each quotient once, so the
// codes can differ from TE's by one when a quotient lies within a few float
// ulps of a rounding boundary.

/// Elements per NVFP4 block.
constexpr std::size_t nvfp4_block_size = 16;

/// NVFP4 per-tensor (decode) scale s_t = amax_tensor / (6 * 448), one float
/// division rounded to nearest; stored as fp32 and multiplied back on decode.
/// Fall-backs: amax 0, negative, Inf or NaN, or a quotient that underflows to
/// 0 (amax < 2^-149 * 1344), give 1.0 (TE: 1.0 for amax 0 or Inf; for NaN its
/// fminf(NaN, FLT_MAX) gives an encode scale of FLT_MAX).
///   float st = pqt::nvfp4_tensor_scale(pqt::amax(x, n));
PQT_HD constexpr float nvfp4_tensor_scale(float amax_tensor) {
  const std::uint32_t ab = detail::bit_cast<std::uint32_t>(amax_tensor);
  if ((ab >> 31) != 0 || ab == 0 || ab >= 0x7F800000u) return 1.0f;
  const float s = detail::div_rn(amax_tensor, 2688.0f);
  return detail::abs_bits(s) == 0 ? 1.0f : s;
}

/// ue4m3 block-scale code: encode<ue4m3, nearest_even, saturate>(amax_block /
/// (6 * tensor_scale)), the quotient rounded once (in double, where 6 *
/// tensor_scale is exact; no double-rounding error is possible for a 3-bit
/// target). amax_block Inf saturates to 448 (0x7E); NaN gives ue4m3's NaN
/// (0x7F), which makes the block decode to NaN; a quotient below 2^-10 gives
/// 0 (the block decodes to zeros). tensor_scale must be positive and finite
/// (as nvfp4_tensor_scale returns); otherwise the result is the NaN code. The
/// sign of amax_block is ignored.
///   std::uint8_t b = pqt::nvfp4_block_scale(block_amax, st);
PQT_HD constexpr std::uint8_t nvfp4_block_scale(float amax_block, float tensor_scale) {
  const std::uint32_t tb = detail::bit_cast<std::uint32_t>(tensor_scale);
  if ((tb >> 31) != 0 || tb == 0 || tb >= 0x7F800000u) return fmt::ue4m3::nan_code;
  const std::uint32_t a = detail::abs_bits(amax_block);
  if (a >= 0x7F800000u)
    return encode<fmt::ue4m3, rounding::nearest_even, overflow::saturate>(detail::bit_cast<float>(a));
  const double q = detail::widen(detail::bit_cast<float>(a)) / (6.0 * detail::widen(tensor_scale));
  return encode<fmt::ue4m3, rounding::nearest_even, overflow::saturate>(q);
}

/// Effective decode scale of a block: decode<ue4m3>(block) * tensor_scale,
/// rounded once to float (a 4-bit times a 24-bit significand: not always a
/// float; nvfp4_decode_element uses the exact product).
///   float S = pqt::nvfp4_decode_scale(b, st);
PQT_HD constexpr float nvfp4_decode_scale(std::uint8_t block, float tensor_scale) {
  return static_cast<float>(static_cast<double>(decode<fmt::ue4m3>(block)) * detail::widen(tensor_scale));
}

/// e2m1 code of x: encode<e2m1, R, saturate, K>(x / (decode(block) *
/// tensor_scale)). The divisor is exact in double and the quotient is rounded
/// once in double: nearest, directed and odd rounding then give the code of
/// the exact quotient (it is never within 2^-53 of an e2m1 grid point or
/// midpoint without being one); stochastic rounding reads t_K from the double
/// quotient, which can very rarely differ from the exact one in its last unit.
/// A zero block scale stores ±0 (the block decodes to zeros); a NaN block scale
/// stores +6 (e2m1 has no NaN; the block decodes to NaN). tensor_scale is the
/// positive finite value nvfp4_tensor_scale returns.
///   auto c = pqt::nvfp4_encode_element(x, b, st);
template <rounding R = rounding::nearest_even, int K = 32>
PQT_HD constexpr std::uint8_t nvfp4_encode_element(float x, std::uint8_t block, float tensor_scale,
                                                   std::uint32_t random_bits = 0) {
  const double d = static_cast<double>(decode<fmt::ue4m3>(block)) * detail::widen(tensor_scale);
  if (d == 0.0) return (detail::bit_cast<std::uint32_t>(x) >> 31) != 0 ? fmt::e2m1::sign_mask : std::uint8_t{0};
  return encode<fmt::e2m1, R, overflow::saturate, K>(detail::widen(x) / d, random_bits);
}

/// decode<e2m1>(code) * decode<ue4m3>(block) * tensor_scale: the product is
/// exact in double (2 + 4 + 24 significant bits) and rounded once to float.
///   float y = pqt::nvfp4_decode_element(c, b, st);
PQT_HD constexpr float nvfp4_decode_element(std::uint8_t code, std::uint8_t block, float tensor_scale) {
  return static_cast<float>(static_cast<double>(decode<fmt::e2m1>(code)) *
                            static_cast<double>(decode<fmt::ue4m3>(block)) * detail::widen(tensor_scale));
}

/// nvfp4_block_scale(amax of each block, tensor_scale) for consecutive blocks
/// of block_size elements (default 16): ceil(n / block_size) codes, the last
/// block possibly partial. Throws std::invalid_argument for block_size == 0,
/// null pointers with n > 0, or a tensor_scale that is not positive and finite.
///   std::vector<std::uint8_t> b((n + 15) / 16); pqt::nvfp4_block_scales(x, n, st, b.data());
inline void nvfp4_block_scales(const float* x, std::size_t n, float tensor_scale, std::uint8_t* scales,
                               std::size_t block_size = nvfp4_block_size) {
  const std::size_t nb = detail::checked_block_count("nvfp4_block_scales", n, block_size);
  if (n > 0 && (x == nullptr || scales == nullptr)) detail::scale_fail("nvfp4_block_scales", "null pointer with n > 0");
  if (!(tensor_scale > 0.0f) || !std::isfinite(tensor_scale))
    detail::scale_fail("nvfp4_block_scales", "tensor_scale must be positive and finite");
  for (std::size_t b = 0; b < nb; ++b) {
    const std::size_t lo = b * block_size, len = (n - lo < block_size) ? n - lo : block_size;
    scales[b] = nvfp4_block_scale(amax(x + lo, len), tensor_scale);
  }
}

// =============================================================================
// 2-D tiles
// =============================================================================

/// One tile of a matrix: rows [row, row + rows) x columns [col, col + cols).
struct tile_rect {
  std::size_t row, col, rows, cols;
};

/// A rows x cols row-major matrix cut into tile_rows x tile_cols tiles,
/// numbered row-major (tile t is at tile-row t / tiles_across(), tile-column
/// t % tiles_across()). Edge tiles are partial when a dimension is not a
/// multiple of the tile size: they cover what is left.
///   pqt::tile_shape s{rows, cols, 128, 128};
///   for (std::size_t t = 0; t < s.count(); ++t) { pqt::tile_rect r = s.tile(t); ... }
struct tile_shape {
  std::size_t rows = 0, cols = 0, tile_rows = 1, tile_cols = 1;

  /// Number of tile rows, ceil(rows / tile_rows) (tile_rows > 0).
  PQT_HD constexpr std::size_t tiles_down() const {
    return rows / tile_rows + (rows % tile_rows != 0 ? 1 : 0);
  }
  /// Number of tile columns, ceil(cols / tile_cols) (tile_cols > 0).
  PQT_HD constexpr std::size_t tiles_across() const {
    return cols / tile_cols + (cols % tile_cols != 0 ? 1 : 0);
  }
  PQT_HD constexpr std::size_t count() const { return tiles_down() * tiles_across(); }
  /// The rectangle of tile t (t < count()).
  PQT_HD constexpr tile_rect tile(std::size_t t) const {
    const std::size_t tr = t / tiles_across(), tc = t % tiles_across();
    const std::size_t r0 = tr * tile_rows, c0 = tc * tile_cols;
    return {r0, c0, rows - r0 < tile_rows ? rows - r0 : tile_rows, cols - c0 < tile_cols ? cols - c0 : tile_cols};
  }
};

namespace detail {
template <class T>
void tile_amax_impl(const T* x, const tile_shape& shape, float* out) {
  if (shape.tile_rows == 0 || shape.tile_cols == 0) scale_fail("tile_amax", "tile sizes must be > 0");
  if (shape.cols != 0 && shape.rows > std::numeric_limits<std::size_t>::max() / shape.cols)
    scale_fail("tile_amax", "rows * cols overflows size_t");
  if (shape.rows * shape.cols == 0) return;
  if (x == nullptr || out == nullptr) scale_fail("tile_amax", "null pointer with a non-empty matrix");
  const std::size_t nt = shape.count();
  for (std::size_t t = 0; t < nt; ++t) {
    const tile_rect r = shape.tile(t);
    std::uint32_t acc = 0;
    for (std::size_t i = r.row; i < r.row + r.rows; ++i) {
      const std::uint32_t row = max_abs_bits(x + i * shape.cols + r.col, r.cols);
      acc = acc < row ? row : acc;
    }
    out[t] = amax_from_bits(acc);
  }
}
}  // namespace detail

/// amax of every tile of the row-major rows x cols matrix x (row stride cols):
/// out[t] for t < shape.count(), tiles numbered row-major, edge tiles partial.
/// NaN/Inf as amax(). Throws std::invalid_argument for tile_rows or tile_cols
/// == 0, rows * cols overflowing size_t, or null pointers with a non-empty
/// matrix.
///   std::vector<float> a(s.count()); pqt::tile_amax(x, s, a.data());
inline void tile_amax(const float* x, const tile_shape& shape, float* out) { detail::tile_amax_impl(x, shape, out); }

/// tile_amax over a matrix of minifloats (bf16, fp16, ...; decoded exactly).
template <int E, int M, encoding Enc, int Bias, bool Signed>
void tile_amax(const minifloat<E, M, Enc, Bias, Signed>* x, const tile_shape& shape, float* out) {
  detail::tile_amax_impl(x, shape, out);
}

}  // namespace pqt

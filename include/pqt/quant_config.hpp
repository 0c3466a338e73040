#pragma once
/// The configuration of the host and CUDA tensor APIs and its checks:
/// quant_config (format, rounding, overflow, scaling, random bits, threads),
/// quantized (codes + scales in vectors), quantized_view (the same in caller
/// memory), code_bytes / scale_count, and the validation every tensor call
/// runs first (std::invalid_argument naming the problem).
///   pqt::quant_config c = pqt::quant_config::mxfp8();  c.round = pqt::rounding::stochastic;  c.seed = 42;

#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "detail/tensor_ops.hpp"
#include "format.hpp"
#include "pack.hpp"
#include "rounding.hpp"
#include "runtime.hpp"
#include "scale.hpp"

namespace pqt {

// scaling, block_scale, noise_kind and delta_mode are in detail/tensor_ops.hpp,
// with the per-element pieces the CUDA kernels share.

/// Everything a tensor call needs, in one struct (named constructors below).
///   pqt::quant_config c = pqt::quant_config::mxfp8();  c.round = pqt::rounding::stochastic;  c.seed = 42;
struct quant_config {
  format_desc format = format_desc::of<fmt::e4m3>();
  rounding round = rounding::nearest_even;
  overflow over = overflow::saturate;  ///< as Transformer Engine
  int random_bits = 32;                ///< stochastic: K, 1..32
  float sigma = 0.5f;                  ///< gaussian: noise scale in ulps
  std::uint64_t seed = 0, offset = 0;  ///< random words (random.hpp)
  std::uint64_t index_base = 0;        ///< index of element 0 in the whole tensor (shards)
  scaling scale = scaling::none;
  tensor_scaling tensor = {};          ///< scaling::tensor: margin, power_of_two
  float tensor_scale = 0.0f;           ///< scaling::tensor: > 0 uses this s (delayed scaling); else current amax
  std::size_t block_size = 32;         ///< scaling::block
  block_scale block_kind = block_scale::mx;
  e8m0_rounding e8m0_rule = e8m0_rounding::floor;  ///< OCP MX v1.0 rule by default
  std::size_t rows = 0, cols = 0;      ///< scaling::tile: the matrix (rows * cols == n)
  std::size_t tile_rows = 16, tile_cols = 16;
  int threads = 0;                     ///< OpenMP threads; 0: OpenMP's default, 1: serial

  static quant_config mx(const format_desc& elem) {
    quant_config c;
    c.format = elem;
    c.scale = scaling::block;
    c.block_size = 32;
    return c;
  }
  static quant_config mxfp8(const format_desc& elem = format_desc::of<fmt::e4m3>()) { return mx(elem); }
  static quant_config mxfp6(const format_desc& elem = format_desc::of<fmt::e3m2>()) { return mx(elem); }
  static quant_config mxfp4() { return mx(format_desc::of<fmt::e2m1>()); }
  static quant_config nvfp4() {
    quant_config c = mx(format_desc::of<fmt::e2m1>());
    c.block_size = 16;
    c.block_kind = block_scale::nvfp4;
    return c;
  }
  static quant_config per_tensor(const format_desc& f, tensor_scaling t = {}) {
    quant_config c;
    c.format = f;
    c.scale = scaling::tensor;
    c.tensor = t;
    return c;
  }
};

/// The output of quantize: codes (FP4 two per byte, FP6 four per three bytes,
/// wider formats little-endian in their storage size), scales and the tensor
/// scale. Vectors keep their capacity across calls (quantize into the same
/// object: no allocation once warm).
struct quantized {
  std::vector<std::uint8_t> codes;
  std::vector<std::uint8_t> scales;  ///< e8m0 or ue4m3 codes, one per block or tile
  float tensor_scale = 1.0f;         ///< scaling::tensor: s; nvfp4: the fp32 tensor scale
  std::size_t n = 0;
};

/// Caller-owned memory in quantize's layout: codes (code_bytes(n, cfg) bytes),
/// scales (scale_count(n, cfg) codes) and one float tensor scale (needed by
/// tensor and NVFP4 scaling; may be null otherwise). The host overloads of
/// quantize / dequantize that take it allocate nothing for float arrays (bf16
/// and fp16 use a float buffer per thread), and the CUDA API takes the same
/// struct over device memory (pqt::cuda::quantized_view).
///   pqt::quantized_view v{codes, pqt::code_bytes(n, c), scales, pqt::scale_count(n, c), &ts, n};
struct quantized_view {
  std::uint8_t* codes = nullptr;
  std::size_t code_bytes = 0;
  std::uint8_t* scales = nullptr;
  std::size_t scale_count = 0;
  float* tensor_scale = nullptr;
  std::size_t n = 0;
};

namespace detail {

/// The scales the element loops read: one per block or tile, and the tensor
/// scale (1 where the scaling has none).
struct scale_set {
  const std::uint8_t* scales = nullptr;
  std::size_t count = 0;
  float tensor_scale = 1.0f;
};

[[noreturn]] inline void tensor_fail(const char* fn, const std::string& why) {
  throw std::invalid_argument(std::string("pqt::") + fn + ": " + why);
}

/// The most OpenMP threads a call may ask for (more fail to start, or crash).
constexpr int max_threads = 1024;

/// Whether c's scaling has a tensor scale (tensor scaling's s, NVFP4's s_t).
inline bool needs_tensor_scale(const quant_config& c) {
  return c.scale == scaling::tensor || (c.scale == scaling::block && c.block_kind == block_scale::nvfp4);
}

/// Checks a config against n elements; returns the number of scales.
inline std::size_t check_config(const char* fn, std::size_t n, const quant_config& c) {
  if (c.random_bits < 1 || c.random_bits > 32) tensor_fail(fn, "random_bits must be in 1..32");
  if (c.threads < 0 || c.threads > max_threads) tensor_fail(fn, "threads must be in 0..1024 (0: OpenMP's default)");
  if (c.round == rounding::gaussian && !(c.sigma >= 0 && c.sigma < 1e30f)) tensor_fail(fn, "sigma must be finite and >= 0");
  if (static_cast<int>(c.round) < 0 || static_cast<int>(c.round) >= rounding_count) tensor_fail(fn, "invalid rounding");
  if (c.over != overflow::saturate && c.over != overflow::nonsaturating) tensor_fail(fn, "invalid overflow policy");
  if (static_cast<int>(c.e8m0_rule) < 0 || static_cast<int>(c.e8m0_rule) > static_cast<int>(e8m0_rounding::rceil))
    tensor_fail(fn, "invalid e8m0 rule");
  if (c.block_kind != block_scale::mx && c.block_kind != block_scale::nvfp4) tensor_fail(fn, "invalid block scale kind");
  if (c.format.enc() == encoding::scale) tensor_fail(fn, "the element format cannot be a scale format (e8m0)");
  // tensor_scale: 0 = the current amax, > 0 = that s; Inf would zero every
  // element, a negative or NaN s has no meaning: refused, not replaced.
  if (c.scale == scaling::tensor && !(c.tensor_scale >= 0 && c.tensor_scale < std::numeric_limits<float>::infinity()))
    tensor_fail(fn, "tensor_scale must be finite and >= 0 (0: the current amax)");
  if (!(c.tensor.margin > -1e6f && c.tensor.margin < 1e6f)) tensor_fail(fn, "margin must be finite");
  switch (c.scale) {
    case scaling::none:
    case scaling::tensor:
      return 0;
    case scaling::block:
      if (c.block_size == 0) tensor_fail(fn, "block_size must be > 0");
      if (c.block_kind == block_scale::nvfp4 && c.format != format_desc::of<fmt::e2m1>())
        tensor_fail(fn, "NVFP4 block scaling needs e2m1 elements");
      if (c.block_kind == block_scale::nvfp4 && c.round == rounding::gaussian)
        tensor_fail(fn, "gaussian rounding is not available with NVFP4 scaling");
      return n / c.block_size + (n % c.block_size != 0 ? 1 : 0);  // a partial last block is allowed
    case scaling::tile:
      if (c.tile_rows == 0 || c.tile_cols == 0) tensor_fail(fn, "tile sizes must be > 0");
      if (c.block_kind != block_scale::mx) tensor_fail(fn, "tile scaling uses e8m0 scales");
      if (c.cols == 0 || c.rows > std::numeric_limits<std::size_t>::max() / c.cols || c.rows * c.cols != n)
        tensor_fail(fn, "tile scaling needs rows * cols == n (got " + std::to_string(c.rows) + " x " +
                            std::to_string(c.cols) + " for " + std::to_string(n) + " elements)");
      return tile_shape{c.rows, c.cols, c.tile_rows, c.tile_cols}.count();
  }
  tensor_fail(fn, "invalid scaling");
}


}  // namespace detail

/// Bytes quantize writes for n elements of cfg's format: FP4 n/2, FP6 3n/4
/// (rounded up), others n * storage bytes.
/// Throws std::invalid_argument where the byte count would not fit a size_t.
inline std::size_t code_bytes(std::size_t n, const quant_config& cfg) {
  const int bits = cfg.format.total_bits();
  if (bits == 4 || bits == 6) return packed_bytes(n, bits);
  const std::size_t bytes = static_cast<std::size_t>(cfg.format.storage_bytes());
  if (n > std::numeric_limits<std::size_t>::max() / bytes) detail::tensor_fail("code_bytes", "n * code size overflows size_t");
  return n * bytes;
}

/// Number of scales quantize writes (blocks or tiles; 0 otherwise).
inline std::size_t scale_count(std::size_t n, const quant_config& cfg) {
  return detail::check_config("scale_count", n, cfg);
}

namespace detail {

/// Checks v's sizes and pointers against cfg and n elements (quantize and
/// dequantize into caller-owned memory); returns the number of scales.
inline std::size_t check_view(const char* fn, std::size_t n, const quant_config& cfg, const quantized_view& v) {
  const std::size_t nscales = check_config(fn, n, cfg);
  if (v.n != n) tensor_fail(fn, "the view holds " + std::to_string(v.n) + " elements, not " + std::to_string(n));
  if (v.code_bytes != code_bytes(n, cfg) || v.scale_count != nscales)
    tensor_fail(fn, "codes/scales sizes do not match the config (" + std::to_string(v.code_bytes) + " code bytes and " +
                        std::to_string(v.scale_count) + " scales given, " + std::to_string(code_bytes(n, cfg)) +
                        " and " + std::to_string(nscales) + " needed)");
  if (n != 0 && (v.codes == nullptr || (nscales > 0 && v.scales == nullptr) ||
                 (needs_tensor_scale(cfg) && v.tensor_scale == nullptr)))
    tensor_fail(fn, "null pointer");
  return nscales;
}

}  // namespace detail

}  // namespace pqt

// Determinism: every tensor operation (fake_quant, quantize, dequantize,
// gaussws) in every mode, scaling and array type gives the same bits with 1
// and 2 OpenMP threads and split into shards (index_base = the shard's start)
// at several block-aligned points, because every element's bits depend only
// on (seed, offset, index) and its block's or tile's own elements. Sizes span
// several chunks of the parallel loops, so 2 threads really split the work.
// Shards of a tensor-scaled tensor get the whole tensor's scale (what a
// sharded caller passes: quant_config::tensor_scale); NVFP4 computes its fp32
// tensor scale from the whole tensor and has no such input, so it is checked
// across threads only. PQT_OPTIMIZE PQT_USES_OPENMP
// PQT_USES_TENSOR_LIB (CMake marker: the tensor API comes from pqt::tensor, compiled once per tree)
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <pqt/fake_quant.hpp>

#include "support/splitmix64.hpp"

namespace {

using pqt::quant_config;
using pqt::rounding;
using pqt::scaling;

constexpr std::size_t kRows = 250, kCols = 288, kN = kRows * kCols;  // 72000: five 16384-element chunks

std::vector<float> input(std::uint64_t seed) {
  pqt_test::splitmix64 rng{seed};
  std::vector<float> x(kN);
  for (auto& v : x) {  // magnitudes over many binades, some zeros and subnormal-range values
    const double u = static_cast<double>(rng.next() >> 11) * 0x1p-53;
    v = static_cast<float>(std::ldexp(u - 0.5, static_cast<int>(rng.next() % 24) - 12));
    if (rng.next() % 97 == 0) v = 0.0f;
  }
  return x;
}

template <class T>
void append(std::vector<std::uint8_t>& blob, const T* p, std::size_t n) {
  const auto* b = reinterpret_cast<const std::uint8_t*>(p);
  blob.insert(blob.end(), b, b + n * sizeof(T));
}

/// What an element-range [start, start + len) of x produces under c, by kind.
struct outputs {
  std::vector<std::uint8_t> values, codes, scales, deq;  // fake_quant, quantize, dequantize
  float tensor_scale = 0;                                 // what the last quantize reported

  template <class T>
  void add(const std::vector<T>& x, std::size_t start, std::size_t len, const quant_config& c) {
    std::vector<T> out(len);
    pqt::fake_quant(x.data() + start, out.data(), len, c);
    append(values, out.data(), len);
    pqt::quantized q;
    pqt::quantize(x.data() + start, len, c, q);
    append(codes, q.codes.data(), q.codes.size());
    append(scales, q.scales.data(), q.scales.size());
    tensor_scale = q.tensor_scale;
    pqt::dequantize(q, c, out.data(), len);
    append(deq, out.data(), len);
  }

  /// values, codes, scales, the tensor scale (tensor and NVFP4 scaling), values.
  std::vector<std::uint8_t> blob(const quant_config& c) const {
    std::vector<std::uint8_t> b = values;
    b.insert(b.end(), codes.begin(), codes.end());
    b.insert(b.end(), scales.begin(), scales.end());
    if (c.scale == scaling::tensor || c.block_kind == pqt::block_scale::nvfp4) append(b, &tensor_scale, 1);
    b.insert(b.end(), deq.begin(), deq.end());
    return b;
  }
};

/// The whole tensor's outputs as one blob.
template <class T>
std::vector<std::uint8_t> run(const std::vector<T>& x, const quant_config& c) {
  outputs o;
  o.add(x, 0, x.size(), c);
  return o.blob(c);
}

/// The same blob from shards [cuts[k], cuts[k + 1]), each with index_base
/// moved to its start (and, for tiles, its own row count); a tensor-scaled
/// c carries the whole tensor's scale, which each shard's quantize reports.
template <class T>
std::vector<std::uint8_t> run_shards(const std::vector<T>& x, const std::vector<std::size_t>& cuts, const quant_config& c) {
  outputs o;
  for (std::size_t k = 0; k + 1 < cuts.size(); ++k) {
    const std::size_t start = cuts[k], len = cuts[k + 1] - cuts[k];
    quant_config s = c;
    s.index_base = c.index_base + start;
    if (c.scale == scaling::tile) s.rows = len / c.cols;
    o.add(x, start, len, s);
  }
  return o.blob(c);
}

std::string describe(const quant_config& c) {
  return c.format.name() + " " + std::string(pqt::to_string(c.round)) + " scaling " + std::to_string(static_cast<int>(c.scale)) +
         " block " + std::to_string(c.block_size) + (c.block_kind == pqt::block_scale::nvfp4 ? " nvfp4" : "");
}

std::vector<quant_config> configs() {
  std::vector<quant_config> v;
  for (const char* f : {"e4m3", "e2m1", "e3m2", "e5m0"}) {  // e5m0: the generic routine (no fast path)
    const auto d = pqt::format_desc::parse(f);
    quant_config none;
    none.format = d;
    v.push_back(none);
    v.push_back(quant_config::per_tensor(d));
    v.push_back(quant_config::mx(d));
    quant_config b48 = quant_config::mx(d);
    b48.block_size = 48;
    v.push_back(b48);
    quant_config tile = quant_config::mx(d);
    tile.scale = scaling::tile;
    tile.rows = kRows;
    tile.cols = kCols;
    tile.tile_rows = 16;
    tile.tile_cols = 32;
    v.push_back(tile);
  }
  v.push_back(quant_config::nvfp4());
  return v;
}

template <class T>
void check_all(const std::vector<T>& x) {
  std::size_t cases = 0, bad = 0;
  for (quant_config c : configs()) {
    for (rounding r : {rounding::nearest_even, rounding::nearest_away, rounding::toward_zero, rounding::upward,
                       rounding::downward, rounding::odd, rounding::stochastic, rounding::gaussian}) {
      if (c.block_kind == pqt::block_scale::nvfp4 && r == rounding::gaussian) continue;  // not offered
      c.round = r;
      c.random_bits = 8;
      c.seed = 77;
      c.offset = 5;
      c.index_base = 1u << 20;
      c.threads = 1;
      const auto one = run(x, c);
      c.threads = 2;
      const bool same_threads = run(x, c) == one;
      bool same_shards = true;
      if (c.block_kind != pqt::block_scale::nvfp4) {
        quant_config s = c;
        if (c.scale == scaling::tensor) {
          pqt::quantized q;
          pqt::quantize(x.data(), kN, c, q);
          s.tensor_scale = q.tensor_scale;
        }
        // Cut points that are multiples of every block (32, 48), of a tile
        // band (16 rows of 288) and of the packing (4-bit and 6-bit codes).
        const std::size_t band = 16 * kCols;
        for (const auto& cuts : {std::vector<std::size_t>{0, band, kN}, std::vector<std::size_t>{0, 3 * band, 5 * band, kN},
                                 std::vector<std::size_t>{0, 4 * band, 9 * band, 11 * band, 14 * band, kN}})
          same_shards = same_shards && run_shards(x, cuts, s) == one;
      }
      if (!(same_threads && same_shards) && bad < 10)
        MESSAGE(describe(c) << ": threads " << same_threads << ", shards " << same_shards);
      bad += !(same_threads && same_shards);
      ++cases;
    }
  }
  MESSAGE(cases << " cases");
  CHECK(cases == 4 * 5 * 8 + 7);
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("fake_quant, quantize, dequantize: the same bits on 1 and 2 threads and in shards, float arrays") {
  check_all(input(1));
}

TEST_CASE("fake_quant, quantize, dequantize: the same bits on 1 and 2 threads and in shards, bf16 arrays") {
  const auto xf = input(2);
  std::vector<pqt::bf16> x(xf.size());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = pqt::bf16(xf[i]);
  check_all(x);
}

namespace {

/// The output's bytes (bits, not values: -0 and NaN payloads count).
template <class Carrier, class T>
std::vector<std::uint8_t> gaussws_run(const std::vector<T>& w, std::size_t start, std::size_t len,
                                      const pqt::gaussws_config& g) {
  std::vector<Carrier> out(len);
  pqt::gaussws(w.data() + start, out.data(), len, g);
  std::vector<std::uint8_t> blob;
  append(blob, out.data(), len);
  return blob;
}

template <class Carrier, class T>
void check_gaussws(const std::vector<T>& w) {
  std::size_t cases = 0, bad = 0;
  for (auto scale : {scaling::block, scaling::tensor, scaling::tile})
    for (auto noise : {pqt::noise_kind::r, pqt::noise_kind::uniform, pqt::noise_kind::gaussian})
      for (auto delta : {pqt::delta_mode::block, pqt::delta_mode::element}) {
        if (delta == pqt::delta_mode::element && scale != scaling::block) continue;  // element Delta needs block scaling
        pqt::gaussws_config g;
        g.scale = scale;
        g.noise = noise;
        g.delta = delta;
        g.format = pqt::format_desc::parse("e2m3");
        g.bits = 6;
        g.seed = 3;
        g.offset = 41;
        g.index_base = 1000;
        g.rows = kRows;
        g.cols = kCols;
        g.tile_cols = 32;
        g.threads = 1;
        const auto one = gaussws_run<Carrier>(w, 0, kN, g);
        g.threads = 2;
        const bool same_threads = gaussws_run<Carrier>(w, 0, kN, g) == one;
        bool same_shards = true;
        if (scale != scaling::tensor) {  // a shard's tensor-wide amax is its own: no shard check there
          const std::size_t band = 16 * kCols;
          for (const auto& cuts : {std::vector<std::size_t>{0, band, kN}, std::vector<std::size_t>{0, 4 * band, 9 * band, kN}}) {
            std::vector<std::uint8_t> joined;
            for (std::size_t k = 0; k + 1 < cuts.size(); ++k) {
              pqt::gaussws_config s = g;
              s.index_base = g.index_base + cuts[k];
              s.rows = (cuts[k + 1] - cuts[k]) / kCols;
              const auto part = gaussws_run<Carrier>(w, cuts[k], cuts[k + 1] - cuts[k], s);
              joined.insert(joined.end(), part.begin(), part.end());
            }
            same_shards = same_shards && joined == one;
          }
        }
        if (!(same_threads && same_shards) && bad < 10)
          MESSAGE("gaussws scaling " << static_cast<int>(scale) << " noise " << static_cast<int>(noise) << " delta "
                                     << static_cast<int>(delta) << ": threads " << same_threads << ", shards " << same_shards);
        bad += !(same_threads && same_shards);
        ++cases;
      }
  CHECK(cases == 12);
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("gaussws: the same bits on 1 and 2 threads and in shards, every noise, Delta and scaling") {
  const auto w = input(3);
  std::vector<pqt::bf16> wb(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) wb[i] = pqt::bf16(w[i]);
  check_gaussws<pqt::bf16>(w);
  check_gaussws<float>(w);
  check_gaussws<pqt::bf16>(wb);
}

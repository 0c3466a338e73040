// GaussWS's float fast path (detail/gaussws_fast.hpp) against the exact
// double route (gaussws_value), bit for bit, for R and uniform noise and both
// carriers: every bf16 pattern with the float bits just around a bf16 value
// and a half-way point, against noise exponents placed where the sum's
// rounding is decided (a bf16 ulp, a float ulp, far below), every R value and
// uniform draws at the ends; the ends of the fast range; 10^8 random
// (w, e, word) triples; and pqt::gaussws over tensors whose blocks take
// either route.
// PQT_OPTIMIZE PQT_USES_OPENMP
// PQT_USES_TENSOR_LIB (CMake marker: the tensor API comes from pqt::tensor, compiled once per tree)
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include <pqt/fake_quant.hpp>

#include "support/sanitizer.hpp"

namespace {

using pqt::detail::bit_cast;
using pqt::noise_kind;

std::uint32_t fbits(float f) { return bit_cast<std::uint32_t>(f); }

pqt::detail::gaussws_params params(noise_kind k) {
  pqt::detail::gaussws_params p;
  p.noise = k;
  p.element_delta = false;
  return p;
}

/// 1 when the fast path differs from the double route for (w, e, word).
template <class Carrier>
int mismatch(noise_kind k, float w, int e, std::uint32_t word) {
  const auto slow = pqt::detail::gaussws_value<Carrier>(params(k), w, e, word, pqt::word_pair{0, 0});
  const float nz = pqt::detail::gaussws_fast_noise(k, word, pqt::detail::pow2f(e));
  if constexpr (std::is_same<Carrier, float>::value) {
    return fbits(w + nz) != fbits(slow);
  } else {
    return pqt::detail::add_to_bf16(w, nz) != slow;
  }
}

int clamp_e(noise_kind k, int e) {
  const int lo = k == noise_kind::r ? -149 : -124, hi = k == noise_kind::r ? 125 : 126;
  return e < lo ? lo : (e > hi ? hi : e);
}

/// Words giving each R value -3..3 (its lower threshold) and the uniform
/// extremes and middle.
std::vector<std::uint32_t> boundary_words() {
  std::vector<std::uint32_t> v{0u, 0xFFFFFFFFu, 0x80000000u, 0x7FFFFFFFu, 0x000000FFu, 0xFFFFFF00u};
  for (int t = 1; t <= 6; ++t) {
    v.push_back(pqt::gaussws_r_threshold(t));
    v.push_back(pqt::gaussws_r_threshold(t) - 1);
  }
  return v;
}

std::uint64_t next(std::uint64_t& s) {
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}

}  // namespace

TEST_CASE("gaussws fast path: pow2f and the range test") {
  for (int e = -149; e <= 127; ++e) CHECK(pqt::detail::pow2f(e) == std::ldexp(1.0f, e));
  CHECK(pqt::detail::gaussws_fast_applies(noise_kind::r, -149));
  CHECK_FALSE(pqt::detail::gaussws_fast_applies(noise_kind::r, -150));
  CHECK_FALSE(pqt::detail::gaussws_fast_applies(noise_kind::r, 126));
  CHECK_FALSE(pqt::detail::gaussws_fast_applies(noise_kind::uniform, -125));
  CHECK_FALSE(pqt::detail::gaussws_fast_applies(noise_kind::gaussian, 0));
}

TEST_CASE("gaussws fast path == exact route at every rounding boundary") {
  const std::vector<std::uint32_t> words = boundary_words();
  const std::uint32_t lows[] = {0x0000u, 0x0001u, 0x7FFFu, 0x8000u, 0x8001u, 0xFFFFu};
  const int rel[] = {-60, -40, -25, -24, -23, -17, -16, -15, -9, -8, -7, -2, 0, 1, 3};
  const int ends[] = {-149, -148, -126, -125, -124, -123, 100, 124, 125, 126};
  long long checks = 0, bad = 0;
  // Every 4th high half under ASan (support/sanitizer.hpp).
  const auto hi_step = static_cast<std::uint32_t>(pqt_test::sample_stride);
  for (const noise_kind k : {noise_kind::r, noise_kind::uniform}) {
    for (std::uint32_t hi = 0; hi < 0x10000u; hi += hi_step) {
      if ((hi & 0x7F80u) == 0x7F80u) continue;  // Inf/NaN: the route with no noise, not this path
      for (const std::uint32_t low : lows) {
        const float w = bit_cast<float>((hi << 16) | low);
        const int ew = w == 0.0f ? -149 : std::ilogb(w);
        auto one = [&](int e) {
          e = clamp_e(k, e);
          for (const std::uint32_t word : words) {
            bad += mismatch<pqt::fmt::bf16>(k, w, e, word) + mismatch<float>(k, w, e, word);
            checks += 2;
          }
        };
        for (const int r : rel) one(ew + r);
        if (low == 0x8000u)
          for (const int e : ends) one(e);
      }
    }
  }
  MESSAGE(checks << " boundary checks");
  CHECK(bad == 0);
}

TEST_CASE("gaussws fast path == exact route on 10^8 random inputs") {
  long long bad = 0;
  const long long n = 100000000;
#pragma omp parallel for reduction(+ : bad) schedule(static)
  for (long long i = 0; i < n; ++i) {
    std::uint64_t s = 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(i + 1);
    const std::uint64_t a = next(s), b = next(s);
    std::uint32_t wb = static_cast<std::uint32_t>(a);
    if ((wb & 0x7F800000u) == 0x7F800000u) wb &= 0xBFFFFFFFu;  // finite
    const float w = bit_cast<float>(wb);
    const noise_kind k = (b & 1) ? noise_kind::r : noise_kind::uniform;
    const int ew = w == 0.0f ? -149 : std::ilogb(w);
    // mostly near w's own exponent (where the noise moves the result), some anywhere
    const int e = (b & 6) ? ew - 30 + static_cast<int>((b >> 8) % 36) : -149 + static_cast<int>((b >> 8) % 276);
    const std::uint32_t word = static_cast<std::uint32_t>(a >> 32);
    bad += (i & 2) ? mismatch<pqt::fmt::bf16>(k, w, clamp_e(k, e), word) : mismatch<float>(k, w, clamp_e(k, e), word);
  }
  CHECK(bad == 0);
}

TEST_CASE("pqt::gaussws: block, tensor and tile runs on either route give the element-wise bits, in place too") {
  // 64 x 32 weights: rows of ordinary weights (fast), of tiny subnormals
  // with a large b (e below -149: exact route), zeros, a NaN and an Inf (no
  // noise); blocks of 32 = rows, tiles of 16 x 16
  const std::size_t rows = 64, cols = 32;
  std::vector<float> w(rows * cols);
  std::uint64_t s = 7;
  for (std::size_t i = 0; i < w.size(); ++i) {
    const std::size_t r = i / cols;
    const float u = static_cast<float>(next(s) >> 40) * 0x1p-24f - 0.5f;
    w[i] = r % 4 == 1 ? u * 0x1p-140f : (r % 4 == 2 ? 0.0f : u * std::ldexp(1.0f, static_cast<int>(r % 9) - 4));
  }
  w[32 * 3 + 5] = NAN;
  w[32 * 7 + 1] = INFINITY;
  std::vector<pqt::bf16> wb(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) wb[i] = pqt::bf16(w[i]);
  // block sizes: 32 (8 blocks per run of 256 words), 48 (runs of 5 blocks),
  // 512 (a block in two runs)
  const std::pair<pqt::scaling, std::size_t> scalings[] = {{pqt::scaling::block, 32}, {pqt::scaling::block, 48},
                                                           {pqt::scaling::block, 512}, {pqt::scaling::tensor, 32},
                                                           {pqt::scaling::tile, 32}};
  for (const auto& scaling_and_block : scalings) {
    const pqt::scaling sc = scaling_and_block.first;  // not a structured binding: lambdas capture it (C++17)
    const std::size_t bs = scaling_and_block.second;
    for (const noise_kind k : {noise_kind::r, noise_kind::uniform, noise_kind::gaussian}) {
      for (const int bits : {4, 9, 24}) {
        pqt::gaussws_config g;
        g.scale = sc;
        g.block_size = bs;
        g.rows = rows;
        g.cols = cols;
        g.noise = k;
        g.bits = bits;
        g.seed = 11;
        g.offset = 3;
        g.index_base = 1000;
        std::vector<pqt::bf16> out(w.size()), outb(w.size());
        std::vector<float> outf(w.size());
        pqt::gaussws(w.data(), out.data(), w.size(), g);
        pqt::gaussws(w.data(), outf.data(), w.size(), g);
        pqt::gaussws(wb.data(), outb.data(), w.size(), g);
        std::vector<float> in_place = w;  // out == w: every exponent is read before its elements are written
        pqt::gaussws(in_place.data(), in_place.data(), w.size(), g);
        CHECK(std::memcmp(in_place.data(), outf.data(), w.size() * sizeof(float)) == 0);
        const auto p = pqt::detail::make_gaussws_params(g);
        for (const bool bf16_in : {false, true}) {
          auto at = [&](std::size_t i) { return bf16_in ? static_cast<float>(wb[i]) : w[i]; };
          // the elements sharing element i's exponent
          auto group = [&](std::size_t i, std::size_t j) {
            if (sc == pqt::scaling::tensor) return true;
            if (sc == pqt::scaling::block) return i / bs == j / bs;
            return (i / cols) / 16 == (j / cols) / 16 && (i % cols) / 16 == (j % cols) / 16;
          };
          for (std::size_t i = 0; i < w.size(); ++i) {
            float amax = 0.0f;
            bool nan = false;
            for (std::size_t j = 0; j < w.size(); ++j)
              if (group(i, j)) {
                nan |= std::isnan(at(j));
                amax = std::fmax(amax, std::fabs(at(j)));
              }
            const int e = pqt::detail::gaussws_exponent(p, nan ? NAN : amax);
            const std::uint64_t idx = g.index_base + i;
            const std::uint32_t word = pqt::random_word(g.seed, g.offset, idx);
            const pqt::word_pair pair = pqt::random_words2(g.seed, g.offset, idx);
            CHECK((bf16_in ? outb[i] : out[i]).bits() == pqt::detail::gaussws_value<pqt::fmt::bf16>(p, at(i), e, word, pair));
            if (!bf16_in) CHECK(fbits(outf[i]) == fbits(pqt::detail::gaussws_value<float>(p, at(i), e, word, pair)));
          }
        }
      }
    }
  }
}

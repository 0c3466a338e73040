// Host tensor API (fake_quant, quantize/dequantize, scaling, packing,
// threads) against slow references written here: the independent table
// reference for rounding, std::ilogb for MX exponents, naive loops for amax.
// PQT_OPTIMIZE PQT_USES_OPENMP
// PQT_USES_TENSOR_LIB (CMake marker: the tensor API comes from pqt::tensor, compiled once per tree)
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include <pqt/fake_quant.hpp>

#include "reference/slow_reference.hpp"
#include "support/matrix.hpp"

namespace {

using pqt::overflow;
using pqt::quant_config;
using pqt::rounding;
using pqt::scaling;

const std::size_t sizes[] = {0, 1, 15, 16, 17, 31, 33, 4097};

std::vector<float> make_input(std::size_t n, std::uint64_t seed, float scale) {
  std::vector<float> v(n);
  std::uint64_t s = seed;
  for (auto& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    const double u = static_cast<double>(s >> 11) * 0x1p-53;
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    const double w = static_cast<double>(s >> 11) * 0x1p-53;
    x = static_cast<float>(std::sqrt(-2 * std::log(u + 1e-300)) * std::cos(6.283185307179586 * w) * scale);
  }
  if (n > 3) v[3] = 0.0f;
  if (n > 5) v[5] = -v[5] * 1e-6f;  // tiny values within blocks
  return v;
}

/// The next 31-bit word of a 64-bit LCG (test inputs).
std::uint32_t lcg_word(std::uint64_t& s) {
  s = s * 6364136223846793005ull + 1442695040888963407ull;
  return static_cast<std::uint32_t>(s >> 33);
}

bool same(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) || pqt::detail::bit_cast<std::uint32_t>(a) == pqt::detail::bit_cast<std::uint32_t>(b);
}

/// The reference element: ref encode of v (a double, exactly the scaled value)
/// with element index i's word, decoded.
double ref_round(const pqt_ref::table& tab, const pqt_ref::fmt& f, double v, const quant_config& c, std::uint64_t i) {
  const std::uint32_t word = pqt::random_word(c.seed, c.offset, c.index_base + i);
  return pqt_ref::decode(f, tab.encode(v, static_cast<int>(c.round), c.over == overflow::saturate, c.random_bits, word));
}

std::size_t mismatches(const std::vector<float>& a, const std::vector<double>& b) {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < a.size(); ++i) bad += !same(a[i], static_cast<float>(b[i]));
  return bad;
}

}  // namespace

TEST_CASE("fake_quant without scaling == the slow reference, every mode, odd sizes") {
  for (const char* name : {"e4m3", "e5m2", "e2m1", "e3m2", "e2m3", "bf16", "e4m3fnuz"}) {
    quant_config c;
    c.format = pqt::format_desc::parse(name);
    const auto rf = pqt_test::to_ref(c.format);
    const pqt_ref::table& tab = pqt_ref::cached_table(rf);
    for (rounding r : {rounding::nearest_even, rounding::toward_zero, rounding::upward, rounding::odd,
                       rounding::stochastic}) {
      for (overflow o : {overflow::saturate, overflow::nonsaturating}) {
        c.round = r;
        c.over = o;
        c.seed = 99;
        c.offset = 3;
        c.index_base = 5;  // shards: element i is index 5 + i
        for (std::size_t n : sizes) {
          const auto x = make_input(n, n + 1, c.format.max() / 3);
          std::vector<float> y(n);
          pqt::fake_quant(x.data(), y.data(), n, c);
          std::vector<double> want(n);
          for (std::size_t i = 0; i < n; ++i) want[i] = ref_round(tab, rf, x[i], c, i);
          INFO(name << " " << std::string(pqt::to_string(r)) << " " << std::string(pqt::to_string(o)) << " n=" << n);
          CHECK(mismatches(y, want) == 0);
        }
      }
    }
  }
}

TEST_CASE("per-tensor scaling: encode(x * s), decode * (1/s), s from the current amax or given") {
  quant_config c = quant_config::per_tensor(pqt::format_desc::parse("e4m3"));
  const auto rf = pqt_test::to_ref(c.format);
  const pqt_ref::table& tab = pqt_ref::cached_table(rf);
  const auto x = make_input(4097, 7, 1000.0f);
  float amax = 0;
  for (float v : x) amax = std::fmax(amax, std::fabs(v));
  for (float given : {0.0f, 0.125f}) {
    c.tensor_scale = given;
    const float s = given > 0 ? given : pqt::compute_scale<pqt::fmt::e4m3>(amax);
    if (given == 0) CHECK(amax * s <= 448.0f);  // the current scale fits; a given one need not
    std::vector<float> y(x.size());
    pqt::fake_quant(x.data(), y.data(), x.size(), c);
    std::vector<double> want(x.size());
    for (std::size_t i = 0; i < x.size(); ++i)
      want[i] = static_cast<float>(ref_round(tab, rf, x[i] * s, c, i)) * (1.0f / s);
    CHECK(mismatches(y, want) == 0);
    pqt::quantized q;
    pqt::quantize(x.data(), x.size(), c, q);
    CHECK(q.tensor_scale == s);
  }
  // amax 0: the documented fall-back scale 1.
  std::vector<float> zeros(64, 0.0f), out(64, 1.0f);
  c.tensor_scale = 0;
  pqt::fake_quant(zeros.data(), out.data(), 64, c);
  for (float v : out) CHECK(v == 0.0f);
}

TEST_CASE("MX block scaling: the OCP v1.0 rule on hand-checked blocks and against ilogb") {
  const quant_config c = quant_config::mxfp8();  // e4m3 elements, emax 8, floor rule
  pqt::quantized q;
  SUBCASE("hand-checked blocks") {
    std::vector<float> x(32 * 5, 0.0f);
    // block 0: all zero -> scale code 0 (2^-127), values 0.
    // block 1: amax 448 * 2^3 = 3584, at a binade edge: floor(log2 3584) = 11, X = 2^(11-8) = 8.
    x[32] = 3584.0f;
    x[33] = -1.0f;
    // block 2: amax 2^10 exactly: X = 2^2.
    x[64] = 1024.0f;
    x[65] = 3.0f;
    // block 3: contains NaN: scale NaN (0xFF), every element NaN.
    x[96] = 1.0f;
    x[97] = NAN;
    // block 4: subnormal elements only: amax 2^-140: X = 2^(-140 - 8) clamps to 2^-127.
    x[128] = 0x1p-140f;
    x[129] = -0x1p-141f;
    pqt::quantize(x.data(), x.size(), c, q);
    REQUIRE(q.scales.size() == 5);
    CHECK(q.scales[0] == 0);
    CHECK(q.scales[1] == 127 + 3);
    CHECK(q.scales[2] == 127 + 2);
    CHECK(q.scales[3] == 0xFF);
    CHECK(q.scales[4] == 0);
    std::vector<float> y(x.size());
    pqt::dequantize(q, c, y.data(), y.size());
    CHECK(y[32] == 3584.0f);   // 448 * 8
    CHECK(y[33] == -1.0f);
    CHECK(y[64] == 1024.0f);  // 256 * 4
    CHECK(y[65] == 3.0f);
    CHECK(std::isnan(y[96]));
    CHECK(std::isnan(y[97]));
    CHECK(y[128] == 0.0f);  // 2^-140 / 2^-127 = 2^-13: below e4m3's smallest subnormal 2^-9
    for (std::size_t i = 0; i < 32; ++i) CHECK(y[i] == 0.0f);
  }
  SUBCASE("random blocks: X = 2^(floor(log2 amax) - emax) by ilogb; elements by the slow reference") {
    const auto rf = pqt_test::to_ref(c.format);
    const pqt_ref::table& tab = pqt_ref::cached_table(rf);
    for (std::size_t n : sizes) {
      const auto x = make_input(n, 100 + n, 5.0f);
      std::vector<float> y(n);
      pqt::fake_quant(x.data(), y.data(), n, c);
      std::vector<double> want(n);
      for (std::size_t b = 0; b * 32 < n; ++b) {
        const std::size_t e = std::min(n, (b + 1) * 32);
        double a = 0;
        for (std::size_t i = b * 32; i < e; ++i) a = std::max(a, std::fabs(static_cast<double>(x[i])));
        const int ex = a == 0 ? -127 : std::max(-127, std::min(127, std::ilogb(a) - 8));
        for (std::size_t i = b * 32; i < e; ++i)
          want[i] = ref_round(tab, rf, std::ldexp(static_cast<double>(x[i]), -ex), c, i) * std::ldexp(1.0, ex);
      }
      INFO("n = " << n);
      CHECK(mismatches(y, want) == 0);
    }
  }
}

TEST_CASE("MX and tile fake_quant == the slow reference: every element format, mode, e8m0 rule, block exponent") {
  // Blocks whose amax spans 2^-140 .. 2^120 (the fast path rounds onto the
  // element grid scaled by 2^exp; blocks beyond its range and NaN blocks take
  // the scaled path), elements spread over ten binades below their block's
  // amax (subnormal after scaling), zeros of both signs, one block with Inf;
  // block sizes 32 (the constant-length loop) and 16, 17; partial last blocks.
  std::vector<float> x;
  std::uint64_t s = 0x1234567;
  auto next = [&] { return lcg_word(s); };
  for (int b = 0; b < 96; ++b) {
    const int top = -140 + static_cast<int>(next() % 261);
    for (int j = 0; j < 32; ++j) {
      const float mant = 1.0f + static_cast<float>(next() % (1u << 23)) * 0x1p-23f;
      const int e = top - static_cast<int>(next() % 11);
      float v = std::ldexp(mant, std::max(e, -149));
      if (next() % 2) v = -v;
      if (next() % 29 == 0) v = next() % 2 ? 0.0f : -0.0f;
      x.push_back(v);
    }
  }
  x[40 * 32 + 7] = -INFINITY;
  x.resize(x.size() - 5);  // partial last block
  const auto n = x.size();
  std::vector<float> y(n);
  std::size_t checks = 0, bad = 0;
  for (const char* name : {"e4m3", "e5m2", "e3m2", "e2m3", "e2m1", "e4m3fnuz", "e5m2fnuz"}) {
    quant_config c = quant_config::mx(pqt::format_desc::parse(name));
    const auto rf = pqt_test::to_ref(c.format);
    const pqt_ref::table& tab = pqt_ref::cached_table(rf);
    for (auto rule : {pqt::e8m0_rounding::floor, pqt::e8m0_rounding::ceil, pqt::e8m0_rounding::nearest_even,
                      pqt::e8m0_rounding::rceil})
      for (rounding r : {rounding::nearest_even, rounding::nearest_away, rounding::toward_zero, rounding::upward,
                         rounding::downward, rounding::odd, rounding::stochastic})
        for (overflow o : {overflow::saturate, overflow::nonsaturating})
          for (std::size_t bs : {32, 16, 17}) {
            c.e8m0_rule = rule;
            c.round = r;
            c.over = o;
            c.block_size = bs;
            c.random_bits = bs == 17 ? 5 : 32;
            c.seed = 7;
            c.index_base = 3;
            pqt::fake_quant(x.data(), y.data(), n, c);
            for (std::size_t b0 = 0; b0 < n; b0 += bs) {
              const std::size_t e = std::min(n, b0 + bs);
              float a = 0;
              for (std::size_t i = b0; i < e; ++i) a = std::fmax(a, std::fabs(x[i]));
              const std::uint8_t code = pqt::mx_scale(c.format.facts().emax(), c.format.max(), a, rule);
              for (std::size_t i = b0; i < e; ++i, ++checks) {
                double want = NAN;
                if (code != 0xFF) {
                  const int ex = code - 127;
                  want = ref_round(tab, rf, std::ldexp(static_cast<double>(x[i]), -ex), c, i) * std::ldexp(1.0, ex);
                }
                if (!same(y[i], static_cast<float>(want)) && bad++ < 5)
                  MESSAGE(name << " rule " << static_cast<int>(rule) << " " << std::string(pqt::to_string(r)) << " "
                               << std::string(pqt::to_string(o)) << " bs " << bs << " i " << i << " x " << x[i]
                               << " scale " << int(code) << ": " << y[i] << " want " << want);
              }
            }
          }
    // Tiles (the scaled path only): rows of 57, tiles 5 x 8.
    c = quant_config::mxfp8(pqt::format_desc::parse(name));
    c.scale = scaling::tile;
    c.rows = n / 57;
    c.cols = 57;
    c.tile_rows = 5;
    c.tile_cols = 8;
    pqt::fake_quant(x.data(), y.data(), c.rows * c.cols, c);
    for (std::size_t r = 0; r < c.rows; ++r)
      for (std::size_t col = 0; col < c.cols; ++col, ++checks) {
        float a = 0;
        const std::size_t r0 = r / 5 * 5, c0 = col / 8 * 8;
        for (std::size_t i = r0; i < std::min(c.rows, r0 + 5); ++i)
          for (std::size_t j = c0; j < std::min(c.cols, c0 + 8); ++j) a = std::fmax(a, std::fabs(x[i * 57 + j]));
        const std::uint8_t code = pqt::mx_scale(c.format.facts().emax(), c.format.max(), a, c.e8m0_rule);
        const std::size_t i = r * 57 + col;
        double want = NAN;
        if (code != 0xFF)
          want = ref_round(tab, rf, std::ldexp(static_cast<double>(x[i]), -(code - 127)), c, i) * std::ldexp(1.0, code - 127);
        if (!same(y[i], static_cast<float>(want)) && bad++ < 5)
          MESSAGE(name << " tile i " << i << ": " << y[i] << " want " << want);
      }
  }
  MESSAGE(checks << " elements checked");
  CHECK(checks > 3000000);
  CHECK(bad == 0);
}

TEST_CASE("quantize -> dequantize == fake_quant for every scaling, with packing, any size") {
  std::vector<quant_config> configs = {quant_config::mxfp8(), quant_config::mxfp6(), quant_config::mxfp4(),
                                       quant_config::nvfp4(),
                                       quant_config::per_tensor(pqt::format_desc::parse("e5m2"))};
  quant_config none;
  none.format = pqt::format_desc::parse("e2m1");
  configs.push_back(none);
  quant_config st = quant_config::mxfp4();
  st.round = rounding::stochastic;
  st.seed = 5;
  configs.push_back(st);
  // Runs that start inside a byte (FP4 blocks of 17, FP6 blocks of 7 and 18),
  // and FP6 without scaling (chunks of whole quads).
  for (std::size_t bs : {17, 7, 18}) {
    quant_config odd = bs == 17 ? quant_config::mxfp4() : quant_config::mxfp6();
    odd.block_size = bs;
    configs.push_back(odd);
  }
  quant_config fp6;
  fp6.format = pqt::format_desc::parse("e2m3");
  configs.push_back(fp6);
  for (const auto& c : configs)
    for (std::size_t n : sizes) {
      const auto x = make_input(n, 3 * n + 1, 4.0f);
      std::vector<float> y(n), z(n);
      pqt::fake_quant(x.data(), y.data(), n, c);
      pqt::quantized q;
      pqt::quantize(x.data(), n, c, q);
      CHECK(q.codes.size() == pqt::code_bytes(n, c));
      pqt::dequantize(q, c, z.data(), n);
      std::size_t bad = 0;
      for (std::size_t i = 0; i < n; ++i) bad += !same(y[i], z[i]);
      INFO(c.format.name() << " scaling " << static_cast<int>(c.scale) << " n=" << n);
      CHECK(bad == 0);
    }
}

TEST_CASE("quantize / dequantize over caller memory (quantized_view): the vector API's bits, checked sizes") {
  std::vector<quant_config> configs = {quant_config::mxfp8(), quant_config::mxfp6(), quant_config::mxfp4(),
                                       quant_config::nvfp4(), quant_config::per_tensor(pqt::format_desc::parse("e5m2"))};
  quant_config wide;
  wide.format = pqt::format_desc::parse("e5m7");  // 13 bits: two bytes per code
  configs.push_back(wide);
  for (const auto& c : configs)
    for (std::size_t n : {std::size_t{1}, std::size_t{33}, std::size_t{4097}}) {
      const auto x = make_input(n, n + 7, 3.0f);
      pqt::quantized q;
      pqt::quantize(x.data(), n, c, q);
      // the caller's memory starts dirty: quantize must not rely on zeroed bytes
      std::vector<std::uint8_t> codes(pqt::code_bytes(n, c), 0xA5), scales(pqt::scale_count(n, c), 0x5A);
      float ts = -1.0f;
      const pqt::quantized_view v{codes.data(), codes.size(), scales.data(), scales.size(), &ts, n};
      pqt::quantize(x.data(), n, c, v);
      INFO(c.format.name() << " scaling " << static_cast<int>(c.scale) << " n=" << n);
      CHECK(codes == q.codes);
      CHECK(scales == q.scales);
      CHECK(same(ts, q.tensor_scale));
      std::vector<float> y(n), z(n);
      pqt::dequantize(q, c, y.data(), n);
      pqt::dequantize(v, c, z.data(), n);
      std::size_t bad = 0;
      for (std::size_t i = 0; i < n; ++i) bad += !same(y[i], z[i]);
      CHECK(bad == 0);
      pqt::quantized_view short_codes = v;
      short_codes.code_bytes -= 1;
      CHECK_THROWS_AS(pqt::quantize(x.data(), n, c, short_codes), std::invalid_argument);
      CHECK_THROWS_AS(pqt::dequantize(short_codes, c, z.data(), n), std::invalid_argument);
      if (c.scale == scaling::tensor || c.block_kind == pqt::block_scale::nvfp4) {
        pqt::quantized_view no_ts = v;
        no_ts.tensor_scale = nullptr;
        CHECK_THROWS_AS(pqt::quantize(x.data(), n, c, no_ts), std::invalid_argument);
      }
    }
}

TEST_CASE("FP4 codes are packed two per byte, low nibble first; NVFP4 scales are scale.hpp's") {
  quant_config c;
  c.format = pqt::format_desc::parse("e2m1");
  const std::vector<float> x = {0.5f, 1.0f, -6.0f, 3.0f, 2.0f};
  pqt::quantized q;
  pqt::quantize(x.data(), x.size(), c, q);
  REQUIRE(q.codes.size() == 3);
  CHECK(q.codes[0] == (0x1 | (0x2 << 4)));
  CHECK(q.codes[1] == (0xF | (0x5 << 4)));
  CHECK(q.codes[2] == 0x4);
  const auto y = make_input(64, 11, 30.0f);
  pqt::quantize(y.data(), y.size(), quant_config::nvfp4(), q);
  float a = 0;
  for (float v : y) a = std::fmax(a, std::fabs(v));
  CHECK(q.tensor_scale == pqt::nvfp4_tensor_scale(a));
  for (std::size_t b = 0; b < 4; ++b) {
    float ba = 0;
    for (std::size_t i = 16 * b; i < 16 * b + 16; ++i) ba = std::fmax(ba, std::fabs(y[i]));
    CHECK(q.scales[b] == pqt::nvfp4_block_scale(ba, q.tensor_scale));
  }
}

TEST_CASE("NVFP4 elements == scale.hpp's nvfp4_encode_element / nvfp4_decode_element, every mode") {
  // Blocks over 2^-60 .. 2^60 (quotients of every size, zero block scales),
  // zeros of both signs, a block with NaN and one with Inf; odd n.
  std::vector<float> x;
  std::uint64_t s = 99;
  auto next = [&] { return lcg_word(s); };
  for (int b = 0; b < 200; ++b) {
    const int top = -60 + static_cast<int>(next() % 121);
    for (int j = 0; j < 16; ++j) {
      float v = std::ldexp(1.0f + static_cast<float>(next() % (1u << 23)) * 0x1p-23f, top - static_cast<int>(next() % 30));
      if (next() % 2) v = -v;
      if (next() % 31 == 0) v = next() % 2 ? 0.0f : -0.0f;
      x.push_back(v);
    }
  }
  x[16 * 7 + 3] = NAN;
  x[16 * 9 + 5] = -INFINITY;
  x.resize(x.size() - 3);
  const std::size_t n = x.size();
  for (rounding r : {rounding::nearest_even, rounding::toward_zero, rounding::stochastic})
    for (overflow o : {overflow::saturate, overflow::nonsaturating}) {
      quant_config c = quant_config::nvfp4();
      c.round = r;
      c.over = o;
      c.seed = 4;
      pqt::quantized q;
      pqt::quantize(x.data(), n, c, q);
      std::vector<float> y(n);
      pqt::fake_quant(x.data(), y.data(), n, c);
      std::size_t bad = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t block = q.scales[i / 16];
        const std::uint32_t w = pqt::random_word(c.seed, c.offset, i);
        std::uint8_t want = 0;
        if (r == rounding::nearest_even) want = pqt::nvfp4_encode_element<rounding::nearest_even>(x[i], block, q.tensor_scale, w);
        if (r == rounding::toward_zero) want = pqt::nvfp4_encode_element<rounding::toward_zero>(x[i], block, q.tensor_scale, w);
        if (r == rounding::stochastic) want = pqt::nvfp4_encode_element<rounding::stochastic>(x[i], block, q.tensor_scale, w);
        const std::uint32_t got = pqt::detail::read_packed_code(q.codes.data(), i, 4);
        const float v = pqt::nvfp4_decode_element(want, block, q.tensor_scale);
        if ((got != want || !same(y[i], v)) && bad++ < 5)
          MESSAGE(std::string(pqt::to_string(r)) << " i " << i << " x " << x[i] << ": code " << got << " want " << int(want)
                                                 << ", value " << y[i] << " want " << v);
      }
      CHECK(bad == 0);
    }
}

TEST_CASE("NVFP4 nearest-even at the midpoints: ties, one float either side, tiny and huge scales") {
  // Blocks whose amax is 6 B (B a ue4m3 value) get the block scale B exactly
  // when s_t is a power of two (a tensor amax of 2688 * 2^e); the elements are
  // the midpoints m * B * s_t (exact ties), the float either side of each,
  // the values V * B * s_t, with both signs, and +-0 (with s_t = 1: NaN, Inf).
  const float mids[] = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f};
  const float vals[] = {0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
  const float bs[] = {1.5f, 0.25f, 0x1p-9f, 448.0f, 1.125f, 13.0f};
  for (int e : {0, -140, -130, 100}) {  // s_t = 2^e: midpoints subnormal in float, or near FLT_MAX
    const float st = std::ldexp(1.0f, e);
    std::vector<float> x = {2688.0f * st};  // sets s_t (then padded to a block)
    x.resize(16, 0.0f);
    for (float B : bs) {
      std::vector<float> blk;
      for (float m : mids) {
        const float t = m * B * st;  // exact where representable
        if (t == 0 || !std::isfinite(t)) continue;
        for (float v : {t, std::nextafter(t, 0.0f), std::nextafter(t, INFINITY)}) blk.push_back(v);
      }
      for (float v : vals) blk.push_back(v * B * st);
      for (std::size_t i = 0, m = blk.size(); i < m; ++i) blk.push_back(-blk[i]);
      // in blocks of their own (15 elements each): saturation and Inf, which
      // set a larger block scale (Inf: 448), and NaN, which sets the NaN scale
      blk.resize((blk.size() + 14) / 15 * 15, 0.0f);
      blk.insert(blk.end(), {-0.0f, 0.0f});
      if (B < 100) blk.insert(blk.end(), {7.0f * B * st, -20.0f * B * st});  // below the tensor amax 2688 s_t
      if (e == 0) {  // the tensor scale falls back to 1 (= 2^0) with them
        blk.insert(blk.end(), {-INFINITY, INFINITY});
        blk.resize((blk.size() + 14) / 15 * 15, 0.0f);
        blk.push_back(NAN);
      }
      // blocks of 15 elements plus the one that fixes the scale at 6 B
      for (std::size_t i = 0; i < blk.size(); i += 15) {
        const std::size_t start = x.size();
        x.push_back(6.0f * B * st);
        for (std::size_t j = i; j < i + 15; ++j) x.push_back(j < blk.size() ? blk[j] : 0.0f);
        CHECK(x.size() == start + 16);
      }
    }
    const std::size_t n = x.size();
    quant_config c = quant_config::nvfp4();
    pqt::quantized q;
    pqt::quantize(x.data(), n, c, q);
    CHECK(q.tensor_scale == st);
    std::vector<float> y(n);
    pqt::fake_quant(x.data(), y.data(), n, c);
    std::size_t bad = 0, ties = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint8_t block = q.scales[i / 16];
      const std::uint8_t want = pqt::nvfp4_encode_element(x[i], block, q.tensor_scale);
      const std::uint32_t got = pqt::detail::read_packed_code(q.codes.data(), i, 4);
      const float v = pqt::nvfp4_decode_element(want, block, q.tensor_scale);
      const double quot = static_cast<double>(x[i]) / pqt::detail::nvfp4_divisor(block, q.tensor_scale);
      for (float m : mids) ties += std::fabs(quot) == m;
      if ((got != want || !same(y[i], v)) && bad++ < 5)
        MESSAGE("2^" << e << " i " << i << " x " << x[i] << ": code " << got << " want " << int(want) << ", value " << y[i]
                     << " want " << v);
    }
    CHECK(bad == 0);
    CHECK(ties >= 2 * 7 * 4);  // the exact midpoints were reached, both signs, for most scales
  }
}

TEST_CASE("2-D tiles: one scale per tile, edge tiles partial") {
  quant_config c = quant_config::mxfp8();
  c.scale = scaling::tile;
  c.rows = 37;
  c.cols = 23;
  c.tile_rows = 16;
  c.tile_cols = 8;
  const auto x = make_input(c.rows * c.cols, 21, 50.0f);
  pqt::quantized q;
  pqt::quantize(x.data(), x.size(), c, q);
  REQUIRE(q.scales.size() == 3 * 3);
  const auto rf = pqt_test::to_ref(c.format);
  const pqt_ref::table& tab = pqt_ref::cached_table(rf);
  std::vector<float> y(x.size());
  pqt::fake_quant(x.data(), y.data(), x.size(), c);
  std::vector<double> want(x.size());
  for (std::size_t tr = 0; tr < 3; ++tr)
    for (std::size_t tc = 0; tc < 3; ++tc) {
      double a = 0;
      for (std::size_t r = tr * 16; r < std::min<std::size_t>(37, tr * 16 + 16); ++r)
        for (std::size_t col = tc * 8; col < std::min<std::size_t>(23, tc * 8 + 8); ++col)
          a = std::max(a, std::fabs(static_cast<double>(x[r * 23 + col])));
      const int ex = std::ilogb(a) - 8;
      CHECK(q.scales[tr * 3 + tc] == 127 + ex);
      for (std::size_t r = tr * 16; r < std::min<std::size_t>(37, tr * 16 + 16); ++r)
        for (std::size_t col = tc * 8; col < std::min<std::size_t>(23, tc * 8 + 8); ++col)
          want[r * 23 + col] = ref_round(tab, rf, std::ldexp(static_cast<double>(x[r * 23 + col]), -ex), c, r * 23 + col) *
                               std::ldexp(1.0, ex);
    }
  CHECK(mismatches(y, want) == 0);
  c.rows = 36;  // rows * cols != n
  CHECK_THROWS_AS(pqt::fake_quant(x.data(), y.data(), x.size(), c), std::invalid_argument);
}

TEST_CASE("thread and shard invariance of every stochastic path") {
  const std::size_t n = 100003;
  const auto x = make_input(n, 77, 3.0f);
  for (quant_config c : {quant_config::mxfp8(), quant_config::mxfp4(),
                         quant_config::per_tensor(pqt::format_desc::parse("e5m2"))}) {
    for (rounding r : {rounding::stochastic, rounding::gaussian}) {
      c.round = r;
      c.seed = 123;
      c.offset = 9;
      std::vector<float> one(n), two(n), shards(n);
      c.threads = 1;
      pqt::fake_quant(x.data(), one.data(), n, c);
      c.threads = 2;
      pqt::fake_quant(x.data(), two.data(), n, c);
      CHECK(one == two);
      // Shards at block boundaries with index_base = start (tensor scaling
      // needs the whole tensor's scale: pass it explicitly to the shards).
      quant_config sc = c;
      if (c.scale == scaling::tensor) {
        float a = 0;
        for (float v : x) a = std::fmax(a, std::fabs(v));
        sc.tensor_scale = pqt::compute_scale(c.format.max(), a, c.tensor, 1.0f);
      }
      for (std::size_t start = 0; start < n; start += 32 * 37) {
        const std::size_t len = std::min<std::size_t>(32 * 37, n - start);
        sc.index_base = start;
        pqt::fake_quant(x.data() + start, shards.data() + start, len, sc);
      }
      std::size_t bad = 0;
      for (std::size_t i = 0; i < n; ++i) bad += !same(shards[i], one[i]);
      INFO(c.format.name() << " " << std::string(pqt::to_string(r)));
      CHECK(bad == 0);
    }
  }
}

TEST_CASE("bf16 and fp16 arrays, and bad input is an error") {
  const auto x = make_input(1000, 5, 2.0f);
  std::vector<pqt::bf16> xb(x.size()), yb(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) xb[i] = pqt::bf16(x[i]);
  const quant_config c = quant_config::mxfp8();
  pqt::fake_quant(xb.data(), yb.data(), xb.size(), c);
  std::vector<float> xf(x.size()), yf(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) xf[i] = static_cast<float>(xb[i]);
  pqt::fake_quant(xf.data(), yf.data(), xf.size(), c);
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(static_cast<float>(yb[i]) == yf[i]);  // FP8 values are bf16 values
  pqt::quantized qb, qf;  // quantize reads bf16 exactly: the same codes as from the widened floats
  pqt::quantize(xb.data(), xb.size(), quant_config::mxfp4(), qb);
  pqt::quantize(xf.data(), xf.size(), quant_config::mxfp4(), qf);
  CHECK(qb.codes == qf.codes);
  CHECK(qb.scales == qf.scales);
  std::vector<pqt::bf16> db(x.size());
  pqt::dequantize(qb, quant_config::mxfp4(), db.data(), db.size());
  pqt::dequantize(qf, quant_config::mxfp4(), yf.data(), yf.size());
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(static_cast<float>(db[i]) == yf[i]);
  std::vector<pqt::fp16> xh(8, pqt::fp16(1.3f)), yh(8);
  pqt::fake_quant(xh.data(), yh.data(), 8, c);
  CHECK(static_cast<float>(yh[0]) == 1.25f);

  std::vector<float> y(10);
  quant_config bad = quant_config::mxfp8();
  bad.block_size = 0;
  CHECK_THROWS_WITH_AS(pqt::fake_quant(x.data(), y.data(), 10, bad), doctest::Contains("block_size"), std::invalid_argument);
  bad = quant_config::nvfp4();
  bad.format = pqt::format_desc::parse("e4m3");
  CHECK_THROWS_WITH_AS(pqt::fake_quant(x.data(), y.data(), 10, bad), doctest::Contains("e2m1"), std::invalid_argument);
  bad = quant_config{};
  bad.random_bits = 0;
  CHECK_THROWS_AS(pqt::fake_quant(x.data(), y.data(), 10, bad), std::invalid_argument);
  CHECK_THROWS_AS(pqt::fake_quant(nullptr, y.data(), 10, quant_config{}), std::invalid_argument);
  bad = quant_config{};
  bad.format = pqt::format_desc::parse("e8m0");
  CHECK_THROWS_AS(pqt::fake_quant(x.data(), y.data(), 10, bad), std::invalid_argument);
  pqt::quantized q;
  pqt::quantize(x.data(), 10, quant_config::mxfp8(), q);
  CHECK_THROWS_AS(pqt::dequantize(q, quant_config::mxfp8(), y.data(), 9), std::invalid_argument);
  CHECK_THROWS_AS(pqt::dequantize(q, quant_config::mxfp4(), y.data(), 10), std::invalid_argument);
  pqt::fake_quant(static_cast<const float*>(nullptr), nullptr, 0, quant_config{});  // n = 0 is fine
  for (int t : {-5, 1025}) {
    bad = quant_config{};
    bad.threads = t;
    CHECK_THROWS_WITH_AS(pqt::fake_quant(x.data(), y.data(), 10, bad), doctest::Contains("threads"), std::invalid_argument);
    pqt::gaussws_config g;
    g.threads = t;
    CHECK_THROWS_WITH_AS(pqt::gaussws(x.data(), y.data(), 10, g), doctest::Contains("threads"), std::invalid_argument);
  }
  // caller memory: tensor scaling reads the tensor scale, n = 0 still writes it (1)
  const quant_config t = quant_config::per_tensor(pqt::format_desc::parse("e4m3"));
  std::vector<std::uint8_t> codes(10);
  float ts = -1.0f;
  CHECK_THROWS_AS(pqt::dequantize(pqt::quantized_view{codes.data(), 10, nullptr, 0, nullptr, 10}, t, y.data(), 10),
                  std::invalid_argument);
  pqt::quantize(x.data(), 0, t, pqt::quantized_view{nullptr, 0, nullptr, 0, &ts, 0});
  CHECK(ts == 1.0f);

  // values that used to run: a tensor scale that is Inf, negative or NaN, enum
  // values out of range, partly overlapping arrays, sizes that overflow
  for (float s : {INFINITY, -1.0f, NAN}) {
    quant_config c2 = t;
    c2.tensor_scale = s;
    CHECK_THROWS_WITH_AS(pqt::fake_quant(x.data(), y.data(), 10, c2), doctest::Contains("tensor_scale"), std::invalid_argument);
  }
  bad = quant_config{};
  bad.over = static_cast<overflow>(7);
  CHECK_THROWS_WITH_AS(pqt::fake_quant(x.data(), y.data(), 10, bad), doctest::Contains("overflow"), std::invalid_argument);
  bad = quant_config::mxfp8();
  bad.e8m0_rule = static_cast<pqt::e8m0_rounding>(9);
  CHECK_THROWS_WITH_AS(pqt::fake_quant(x.data(), y.data(), 10, bad), doctest::Contains("e8m0"), std::invalid_argument);
  pqt::gaussws_config gn;
  gn.noise = static_cast<pqt::noise_kind>(3);
  CHECK_THROWS_AS(pqt::gaussws(x.data(), y.data(), 10, gn), std::invalid_argument);
  std::vector<float> z = x;
  CHECK_THROWS_WITH_AS(pqt::fake_quant(z.data(), z.data() + 1, 9, quant_config{}), doctest::Contains("overlap"),
                       std::invalid_argument);
  std::vector<float> expect(10);
  pqt::fake_quant(x.data(), expect.data(), 10, quant_config{});
  pqt::fake_quant(z.data(), z.data(), 10, quant_config{});  // in place is fine
  for (std::size_t i = 0; i < 10; ++i) CHECK(same(z[i], expect[i]));
  const std::size_t huge = std::numeric_limits<std::size_t>::max();
  CHECK_THROWS_AS(pqt::fake_quant(x.data(), y.data(), huge, quant_config{}), std::invalid_argument);
  quant_config two_bytes;
  two_bytes.format = pqt::format_desc::parse("bf16");
  CHECK_THROWS_AS(pqt::code_bytes(huge / 2 + 1, two_bytes), std::invalid_argument);
  // fp32 as the element format (M = 23: no fast path, no bits below the last): the identity
  quant_config f32;
  f32.format = pqt::format_desc::parse("fp32");
  pqt::fake_quant(x.data(), z.data(), 10, f32);
  for (std::size_t i = 0; i < 10; ++i) CHECK(same(z[i], x[i]));
}

namespace {

/// bf16/fp16 arrays run piece by piece through the float loops
/// (detail/tensor_pieces.hpp): fake_quant, quantize and dequantize give the
/// float loops' bits on the widened values (rounded once into T), whatever
/// the pieces' boundaries.
template <class T>
void check_pieces_like_float(const quant_config& c, std::size_t n) {
  const auto src = make_input(n, 17, 3.0f);
  std::vector<T> x(n), y(n);
  std::vector<float> xf(n), yf(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = T(src[i]);
    xf[i] = static_cast<float>(x[i]);
  }
  pqt::fake_quant(x.data(), y.data(), n, c);
  pqt::fake_quant(xf.data(), yf.data(), n, c);
  std::size_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) bad += !same(static_cast<float>(y[i]), static_cast<float>(T(yf[i])));
  CHECK(bad == 0);
  pqt::quantized q, qf;
  pqt::quantize(x.data(), n, c, q);
  pqt::quantize(xf.data(), n, c, qf);
  CHECK(q.codes == qf.codes);
  CHECK(q.scales == qf.scales);
  CHECK(same(q.tensor_scale, qf.tensor_scale));
  pqt::dequantize(q, c, y.data(), n);
  pqt::dequantize(qf, c, yf.data(), n);
  bad = 0;
  for (std::size_t i = 0; i < n; ++i) bad += !same(static_cast<float>(y[i]), static_cast<float>(T(yf[i])));
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("bf16 and fp16 arrays over many pieces: the float loops' bits, every scaling, packed codes, threads") {
  const pqt::format_desc e2m1 = pqt::format_desc::parse("e2m1"), e2m3 = pqt::format_desc::parse("e2m3");
  std::vector<quant_config> cs;
  quant_config c;  // no scaling: four modes, packed and byte codes
  c.index_base = 12345;
  c.seed = 9;
  for (auto [f, r] : {std::pair{e2m1, rounding::stochastic}, std::pair{e2m3, rounding::gaussian},
                      std::pair{pqt::format_desc::parse("e5m2"), rounding::toward_zero},
                      std::pair{pqt::format_desc::parse("e4m3"), rounding::nearest_even}}) {
    c.format = f;
    c.round = r;
    cs.push_back(c);
  }
  c = quant_config::per_tensor(pqt::format_desc::parse("e4m3"));  // the whole tensor's amax, not a piece's
  c.round = rounding::stochastic;
  cs.push_back(c);
  for (std::size_t bs : {32, 7, 20000}) {  // blocks whose packed codes do not start on a byte; a block over a piece
    for (auto f : {e2m1, e2m3}) {
      c = quant_config::mx(f);
      c.block_size = bs;
      c.round = bs == 7 ? rounding::stochastic : rounding::nearest_even;
      cs.push_back(c);
    }
  }
  for (auto r : {rounding::nearest_even, rounding::stochastic}) {  // NVFP4: the whole tensor's s_t
    c = quant_config::nvfp4();
    c.round = r;
    cs.push_back(c);
  }
  c = quant_config::mxfp4();  // tiles: bands of 16 rows of 239 columns
  c.scale = scaling::tile;
  c.rows = 300;
  c.cols = 239;
  c.tile_cols = 32;
  cs.push_back(c);
  std::size_t runs = 0;
  for (quant_config k : cs) {
    for (int threads : {1, 2}) {
      k.threads = threads;
      k.index_base += 12345;
      const std::size_t n = k.scale == scaling::tile ? k.rows * k.cols : 70001;
      check_pieces_like_float<pqt::bf16>(k, n);
      check_pieces_like_float<pqt::fp16>(k, n);
      ++runs;
    }
  }
  CHECK(runs == 2 * cs.size());
}

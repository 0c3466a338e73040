// GaussWS over tensors: Delta per block read off the exponent field, R noise
// statistics within 6-sigma bounds, large b leaves bf16 weights unchanged,
// element-mode Delta, gaussian/uniform noise, thread and shard invariance.
// PQT_OPTIMIZE PQT_USES_OPENMP
// PQT_USES_TENSOR_LIB (CMake marker: the tensor API comes from pqt::tensor, compiled once per tree)
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include <pqt/fake_quant.hpp>

namespace {

std::vector<float> weights(std::size_t n, std::uint64_t seed) {
  std::vector<float> v(n);
  std::uint64_t s = seed;
  for (auto& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    // log-uniform magnitudes over 2^-8 .. 2^8, random sign: every binade shows up.
    const double u = static_cast<double>(s >> 11) * 0x1p-53;
    x = static_cast<float>(std::ldexp(1.0 + u, static_cast<int>((s >> 3) % 17) - 8) * ((s & 1) ? -1 : 1));
  }
  return v;
}

// P(R = k) of the table (noise.hpp), for the variance bound.
double r_variance() {
  auto p = [](int k) {
    const double lo = k == -3 ? 0.0 : static_cast<double>(pqt::gaussws_r_threshold(k + 3));
    const double hi = k == 3 ? 0x1p32 : static_cast<double>(pqt::gaussws_r_threshold(k + 4));
    return (hi - lo) * 0x1p-32;
  };
  double v = 0;
  for (int k = -3; k <= 3; ++k) v += k * k * p(k);
  return v;
}

}  // namespace

TEST_CASE("Delta read from the exponent field is 2^(floor(log2 amax) + 1 - b) on every binade") {
  pqt::gaussws_config g;
  for (int b : {4, 6, 9, 24}) {
    g.bits = b;
    for (int k = -149; k <= 127; ++k)
      for (double frac : {1.0, 1.5, 1.999999}) {
        const float a = static_cast<float>(std::ldexp(frac, k));
        if (a == 0 || std::isinf(a)) continue;
        INFO("b = " << b << " amax = " << a);
        CHECK(pqt::detail::gaussws_block_exponent(g, a) == std::ilogb(a) + 1 - b);
      }
  }
  CHECK(pqt::detail::gaussws_block_exponent(g, 0.0f) == std::numeric_limits<int>::min());
  CHECK(pqt::detail::gaussws_block_exponent(g, INFINITY) == std::numeric_limits<int>::min());
}

TEST_CASE("R noise: out = float(w + R * Delta) on every element; (out - w) / Delta has mean 0 and variance Var(R) within 6 sigma") {
  const std::size_t n = 1 << 20;
  const auto w = weights(n, 1);
  for (int b : {4, 6, 9}) {
    pqt::gaussws_config g;
    g.bits = b;
    g.seed = 7;
    g.offset = 11;
    std::vector<float> out(n);
    pqt::gaussws(w.data(), out.data(), n, g);
    double sum = 0, sum2 = 0;
    std::size_t not_r = 0;
    for (std::size_t blk = 0; blk < n / 32; ++blk) {
      double a = 0;
      for (std::size_t i = 32 * blk; i < 32 * blk + 32; ++i) a = std::max(a, std::fabs(static_cast<double>(w[i])));
      const double delta = std::ldexp(1.0, std::ilogb(a) + 1 - b);
      for (std::size_t i = 32 * blk; i < 32 * blk + 32; ++i) {
        // out must be w + R * Delta (exact in double here) rounded once to float.
        const int big_r = pqt::gaussws_r(pqt::random_word(g.seed, g.offset, i));
        not_r += out[i] != static_cast<float>(static_cast<double>(w[i]) + big_r * delta);
        const double r = (static_cast<double>(out[i]) - w[i]) / delta;
        sum += r;
        sum2 += r * r;
      }
    }
    const double var_r = r_variance();
    const double mean = sum / n, var = sum2 / n - mean * mean;
    INFO("b = " << b << " mean " << mean << " var " << var << " (table " << var_r << ")");
    CHECK(not_r == 0);
    CHECK(std::fabs(mean) < 6 * std::sqrt(var_r / n));
    // Var of the sample variance ~ (E[R^4] - Var^2) / n; E[R^4] <= 81 * 2 * P(|R| >= 1) bounds it loosely.
    const double m4 = 2 * (0.157305 * 1 + 0.00134961 * 16 + 2.87e-7 * 81);
    CHECK(std::fabs(var - var_r) < 6 * std::sqrt((m4 - var_r * var_r) / n));
  }
}

TEST_CASE("b >= 24 leaves bf16 weights within 2^8 of their block amax unchanged (bf16 carrier)") {
  const std::size_t n = 1 << 16;
  auto w = weights(n, 2);
  for (std::size_t i = 0; i < n; ++i) {
    w[i] = static_cast<float>(pqt::bf16(w[i]));  // bf16 inputs
    if (i % 32 == 0) w[i] = 256.0f;             // each block's amax is 2^8 ... and the weights lie in [2^-8, 2^8]
  }
  for (int b : {24, 32, 64}) {
    pqt::gaussws_config g;
    g.bits = b;
    g.seed = 3;
    std::vector<pqt::bf16> out(n);
    pqt::gaussws(w.data(), out.data(), n, g);
    std::size_t changed = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (std::fabs(w[i]) >= 1.0f) changed += static_cast<float>(out[i]) != w[i];  // within 2^8 of 256
    INFO("b = " << b);
    CHECK(changed == 0);
  }
}

TEST_CASE("element-mode Delta is the ulp of F at each element after MX block scaling") {
  const std::size_t n = 1 << 14;
  const auto w = weights(n, 4);
  pqt::gaussws_config g;
  g.delta = pqt::delta_mode::element;
  g.format = pqt::format_desc::parse("e4m3");  // emax 8, M 3, emin -6
  g.seed = 5;
  std::vector<float> out(n);
  pqt::gaussws(w.data(), out.data(), n, g);
  std::size_t bad = 0;
  for (std::size_t blk = 0; blk < n / 32; ++blk) {
    double a = 0;
    for (std::size_t i = 32 * blk; i < 32 * blk + 32; ++i) a = std::max(a, std::fabs(static_cast<double>(w[i])));
    const int x_exp = std::ilogb(a) - 8;  // OCP MX scale X = 2^x_exp
    for (std::size_t i = 32 * blk; i < 32 * blk + 32; ++i) {
      const double v = std::ldexp(static_cast<double>(w[i]), -x_exp);
      const double ulp = std::ldexp(1.0, std::max(std::ilogb(v), -6) - 3 + x_exp);
      const int r = pqt::gaussws_r(pqt::random_word(g.seed, g.offset, i));
      bad += out[i] != static_cast<float>(static_cast<double>(w[i]) + r * ulp);
    }
  }
  CHECK(bad == 0);
}

TEST_CASE("gaussian and uniform noise kinds: moments within 6 sigma") {
  const std::size_t n = 1 << 20;
  std::vector<float> w(n, 1.0f);  // amax 1: Delta = 2^(1 - b), noise exact in float
  for (auto kind : {pqt::noise_kind::gaussian, pqt::noise_kind::uniform}) {
    pqt::gaussws_config g;
    g.noise = kind;
    g.bits = 12;
    g.sigma = 1.0f;
    g.seed = 8;
    std::vector<float> out(n);
    pqt::gaussws(w.data(), out.data(), n, g);
    const double delta = std::ldexp(1.0, 1 - 12);
    double sum = 0, sum2 = 0;
    for (float y : out) {
      const double z = (y - 1.0) / delta;
      sum += z;
      sum2 += z * z;
    }
    const double var_want = kind == pqt::noise_kind::gaussian ? 1.0 : 1.0 / 12;
    const double m4 = kind == pqt::noise_kind::gaussian ? 3.0 : 1.0 / 80;
    const double mean = sum / n, var = sum2 / n - mean * mean;
    INFO("kind " << static_cast<int>(kind) << " mean " << mean << " var " << var);
    CHECK(std::fabs(mean) < 6 * std::sqrt(var_want / n) + 1e-6);  // + float-carrier rounding of 1 + z*Delta
    CHECK(std::fabs(var - var_want) < 6 * std::sqrt((m4 - var_want * var_want) / n) + 1e-3);
  }
}

TEST_CASE("gaussws: thread and shard invariance; tensor and tile scaling; errors") {
  const std::size_t n = 100000;
  const auto w = weights(n, 9);
  for (auto kind : {pqt::noise_kind::r, pqt::noise_kind::gaussian, pqt::noise_kind::uniform}) {
    pqt::gaussws_config g;
    g.noise = kind;
    g.bits = 6;
    g.seed = 12;
    g.offset = 99;
    std::vector<pqt::bf16> one(n), two(n), shard(n);
    g.threads = 1;
    pqt::gaussws(w.data(), one.data(), n, g);
    g.threads = 2;
    pqt::gaussws(w.data(), two.data(), n, g);
    std::size_t diff = 0, sdiff = 0;
    for (std::size_t i = 0; i < n; ++i) diff += one[i].bits() != two[i].bits();
    for (std::size_t start = 0; start < n; start += 32 * 41) {
      pqt::gaussws_config s = g;
      s.index_base = start;
      const std::size_t len = std::min<std::size_t>(32 * 41, n - start);
      pqt::gaussws(w.data() + start, shard.data() + start, len, s);
    }
    for (std::size_t i = 0; i < n; ++i) sdiff += one[i].bits() != shard[i].bits();
    CHECK(diff == 0);
    CHECK(sdiff == 0);
  }
  pqt::gaussws_config t;
  t.scale = pqt::scaling::tensor;
  t.bits = 4;
  std::vector<float> out(n);
  pqt::gaussws(w.data(), out.data(), n, t);
  const double delta = std::ldexp(1.0, std::ilogb(256.0 * 1.999) + 1 - 4);  // amax < 2^9
  std::size_t not_r = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const int r = pqt::gaussws_r(pqt::random_word(t.seed, t.offset, i));
    not_r += out[i] != static_cast<float>(static_cast<double>(w[i]) + r * delta);
  }
  CHECK(not_r == 0);
  pqt::gaussws_config tile;
  tile.scale = pqt::scaling::tile;
  tile.rows = 100;
  tile.cols = 1000;
  tile.tile_rows = 64;
  tile.tile_cols = 64;
  pqt::gaussws(w.data(), out.data(), n, tile);  // shape checks pass
  tile.rows = 99;
  CHECK_THROWS_AS(pqt::gaussws(w.data(), out.data(), n, tile), std::invalid_argument);
  pqt::gaussws_config bad;
  bad.bits = 0;
  CHECK_THROWS_AS(pqt::gaussws(w.data(), out.data(), n, bad), std::invalid_argument);
  bad = {};
  bad.delta = pqt::delta_mode::element;
  bad.scale = pqt::scaling::tensor;
  CHECK_THROWS_AS(pqt::gaussws(w.data(), out.data(), n, bad), std::invalid_argument);
  CHECK_THROWS_AS(pqt::gaussws(nullptr, out.data(), n, pqt::gaussws_config{}), std::invalid_argument);
  pqt::gaussws(static_cast<const float*>(nullptr), static_cast<float*>(nullptr), 0, pqt::gaussws_config{});
}

TEST_CASE("gaussws over bf16 and fp16 master weights == over the same values widened to float") {
  const std::size_t n = 4096 + 17;
  const auto wf = weights(n, 21);
  std::vector<pqt::bf16> wb(n);
  std::vector<pqt::fp16> wh(n);
  std::vector<float> wb_f(n), wh_f(n);
  for (std::size_t i = 0; i < n; ++i) {
    wb[i] = pqt::bf16(wf[i]);
    wh[i] = pqt::fp16(wf[i]);
    wb_f[i] = static_cast<float>(wb[i]);
    wh_f[i] = static_cast<float>(wh[i]);
  }
  for (auto scale : {pqt::scaling::block, pqt::scaling::tensor, pqt::scaling::tile}) {
    for (auto delta : {pqt::delta_mode::block, pqt::delta_mode::element}) {
      if (delta == pqt::delta_mode::element && scale != pqt::scaling::block) continue;
      pqt::gaussws_config g;
      g.scale = scale;
      g.delta = delta;
      g.format = pqt::format_desc::parse("e2m1");
      g.bits = 5;
      g.seed = 3;
      g.rows = 1;
      g.cols = n;
      std::vector<pqt::bf16> a(n), b(n);
      std::vector<float> c(n), d(n);
      pqt::gaussws(wb.data(), a.data(), n, g);
      pqt::gaussws(wb_f.data(), b.data(), n, g);
      pqt::gaussws(wh.data(), c.data(), n, g);
      pqt::gaussws(wh_f.data(), d.data(), n, g);
      std::size_t bad = 0, changed = 0;
      for (std::size_t i = 0; i < n; ++i) {
        bad += a[i].bits() != b[i].bits() ||
               pqt::detail::bit_cast<std::uint32_t>(c[i]) != pqt::detail::bit_cast<std::uint32_t>(d[i]);
        changed += a[i].bits() != wb[i].bits();
      }
      INFO("scaling " << static_cast<int>(scale) << " delta " << static_cast<int>(delta));
      CHECK(bad == 0);
      CHECK(changed > n / 4);  // noise was added
    }
  }
}

// Stochastic rounding driven by Philox through the element functors:
// unbiased within its K-bit truncation (6-sigma bounds, fixed seeds), the
// exact per-draw rule t_K + r >= 2^K on every draw, and shard/thread
// invariance. PQT_OPTIMIZE
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <thread>
#include <vector>

#include <pqt/fake_quant.hpp>
#include <pqt/random.hpp>
#include <pqt/runtime.hpp>

namespace {

using pqt::overflow;
using pqt::rounding;

constexpr std::uint64_t seed = 0x5EEDF00DCAFEull;
constexpr std::uint64_t offset = 7;

struct case_result {
  double mean_error_sigmas;
  std::uint64_t rule_mismatches;
};

/// x = lo + frac * ulp (as the nearest float); n draws of element indices 0..n-1.
template <class Fmt, int K>
case_result run_case(double lo, double ulp, double frac, std::uint64_t n) {
  const float x = static_cast<float>(lo + frac * ulp);
  const double t = (static_cast<double>(x) - lo) / ulp;           // exact fraction of one ulp
  const double tk = std::floor(std::ldexp(t, K));                  // its top K bits
  const double p_up = std::ldexp(tk, -K);                          // P(round up) by the rule
  const pqt::fake_quant_op<Fmt, rounding::stochastic, overflow::saturate, K> op{seed, offset};
  double sum = 0;
  std::uint64_t mismatches = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    const float y = op(x, i);
    sum += y;
    const std::uint64_t r = pqt::random_word(seed, offset, i) & ((std::uint64_t{1} << K) - 1);
    const bool up = static_cast<std::uint64_t>(tk) + r >= (std::uint64_t{1} << K);
    mismatches += y != static_cast<float>(up ? lo + ulp : lo);
  }
  const double mean = sum / static_cast<double>(n);
  const double expected = lo + p_up * ulp;
  const double sd = ulp * std::sqrt(p_up * (1 - p_up) / static_cast<double>(n));
  const double err = mean - expected;
  return {sd > 0 ? std::fabs(err) / sd : (err == 0 ? 0.0 : 1e9), mismatches};
}

template <class Fmt>
void unbiased_for(const char* name) {
  using F = typename Fmt::format_type;
  const double normal_ulp = std::ldexp(1.0, -F::mantissa_bits);  // binade [1, 2)
  const double sub_ulp = F::min_subnormal();                     // subnormal spacing
  struct region {
    const char* what;
    double lo, ulp;
  };
  std::vector<region> regions = {{"normal", 1.0, normal_ulp}};
  if (F::has_subnormals) regions.push_back({"subnormal", 1.0 * sub_ulp, sub_ulp});
  for (const auto& reg : regions)
    for (double frac : {1.0 / 8, 1.0 / 3, 1.0 / 2, 0.9}) {
      const auto r32 = run_case<Fmt, 32>(reg.lo, reg.ulp, frac, 1000000);
      const auto r5 = run_case<Fmt, 5>(reg.lo, reg.ulp, frac, 200000);
      INFO(name << " " << reg.what << " frac " << frac);
      CHECK(r32.mean_error_sigmas < 6);
      CHECK(r5.mean_error_sigmas < 6);
      CHECK(r32.rule_mismatches == 0);
      CHECK(r5.rule_mismatches == 0);
    }
}

}  // namespace

TEST_CASE("stochastic rounding is unbiased within its K-bit truncation and follows t_K + r >= 2^K on every draw") {
  unbiased_for<pqt::fmt::e4m3>("e4m3");
  unbiased_for<pqt::fmt::e5m2>("e5m2");
  unbiased_for<pqt::fmt::e2m1>("e2m1");
  unbiased_for<pqt::fmt::bf16>("bf16");
}

TEST_CASE("K-bit truncation is visible: with K = 2, a fraction below 1/4 never rounds up") {
  // t = 0.2 of an ulp: t_2 = 0, so t_2 + r < 4 for every r: the bias is the truncation.
  const auto r = run_case<pqt::fmt::e4m3, 2>(1.0, 0.125, 0.2, 100000);
  CHECK(r.rule_mismatches == 0);
  const pqt::fake_quant_op<pqt::fmt::e4m3, rounding::stochastic, overflow::saturate, 2> op{seed, offset};
  for (std::uint64_t i = 0; i < 100000; ++i) REQUIRE(op(1.025f, i) == 1.0f);
}

TEST_CASE("shard and thread invariance of the stochastic functor on 10^6 elements") {
  const std::size_t n = 1000000;
  std::vector<float> in(n);
  std::uint64_t s = 0x1234;
  for (auto& v : in) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    v = static_cast<float>(static_cast<std::int64_t>(s >> 11) - (std::int64_t{1} << 52)) * 0x1p-50f;
  }
  const pqt::quantize_op<pqt::fmt::e4m3, rounding::stochastic, overflow::saturate> q{seed, offset};
  std::vector<std::uint8_t> whole(n), sharded(n), threaded(n);
  for (std::size_t i = 0; i < n; ++i) whole[i] = q(in[i], i);
  // Arbitrary chunks, each processed as if it were its own tensor with index_base = start.
  std::size_t start = 0, k = 0;
  const std::size_t sizes[] = {1, 3, 4, 5, 17, 1000, 65537, 4096};
  while (start < n) {
    const std::size_t len = std::min(sizes[k++ % 8], n - start);
    const float* chunk = in.data() + start;
    const std::uint64_t index_base = start;
    for (std::size_t j = 0; j < len; ++j) sharded[start + j] = q(chunk[j], index_base + j);
    start += len;
  }
  CHECK(sharded == whole);
  std::thread t1([&] {
    for (std::size_t i = 0; i < n; i += 2) threaded[i] = q(in[i], i);
  });
  std::thread t2([&] {
    for (std::size_t i = 1; i < n; i += 2) threaded[i] = q(in[i], i);
  });
  t1.join();
  t2.join();
  CHECK(threaded == whole);
  // Different offsets give different streams.
  const pqt::quantize_op<pqt::fmt::e4m3, rounding::stochastic, overflow::saturate> q2{seed, offset + 1};
  std::size_t differ = 0;
  for (std::size_t i = 0; i < n; ++i) differ += q2(in[i], i) != whole[i];
  CHECK(differ > n / 100);
}

TEST_CASE("gaussian rounding: an on-grid value moves k steps with P = Phi(2k+1) - Phi(2k-1) at sigma = 1/2") {
  // x = 1.5 sits mid-binade in E4M3 (spacing 1/8 on both sides), so
  // RNE(x + g/2 * ulp) moves by round(g/2) steps: the GaussWS R distribution.
  const float x = 1.5f;
  const double ulp = 0.125;
  const std::uint64_t n = 1000000;
  const pqt::fake_quant_op<pqt::fmt::e4m3, rounding::gaussian, overflow::saturate> op{seed, offset, 0.5f};
  std::uint64_t count[5] = {};  // steps -2..2; 3 steps needs |g| > 5 (P = 6e-7): none in 10^6 draws with this seed
  std::uint64_t per_draw_mismatches = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    const float y = op(x, i);
    const double steps = (y - x) / ulp;
    REQUIRE(std::fabs(steps) <= 2);  // fixed seed: holds, and a 3-step move would show here
    ++count[static_cast<int>(steps) + 2];
    // The same element computed independently: x + 0.5 g ulp is exact in
    // double here, then rounded once to nearest-even by the grid of E4M3.
    const auto w = pqt::random_words2(seed, offset, i);
    const double noisy = x + static_cast<double>(0.5f * pqt::gaussian_noise(w.a, w.b)) * ulp;
    per_draw_mismatches += pqt::encode<pqt::fmt::e4m3, rounding::nearest_even, overflow::saturate>(noisy) !=
                           pqt::encode<pqt::fmt::e4m3>(y);
  }
  CHECK(per_draw_mismatches == 0);
  auto phi = [](double t) { return 0.5 * std::erfc(-t / std::sqrt(2.0)); };
  for (int k = -2; k <= 2; ++k) {
    const double p = phi(2 * k + 1) - phi(2 * k - 1);
    const double mean = p * static_cast<double>(n), sd = std::sqrt(static_cast<double>(n) * p * (1 - p));
    INFO("k = " << k << " count " << count[k + 2] << " expected " << mean);
    CHECK(std::fabs(static_cast<double>(count[k + 2]) - mean) < 6 * sd + 1);
  }
}

TEST_CASE("gaussian rounding: run-time format_desc gives the compile-time bits; NaN/Inf pass through") {
  const auto d = pqt::format_desc::of<pqt::fmt::e5m2>();
  std::size_t mismatches = 0;
  for (std::uint64_t i = 0; i < 200000; ++i) {
    const float x = static_cast<float>(static_cast<double>(static_cast<std::int64_t>(i % 20001) - 10000) * 0.37);
    const auto w = pqt::random_words2(seed, offset, i);
    mismatches += d.gaussian_round(x, 0.5f, w, overflow::saturate) !=
                  pqt::gaussian_round<pqt::fmt::e5m2, overflow::saturate>(x, 0.5f, w);
  }
  CHECK(mismatches == 0);
  const auto w = pqt::random_words2(seed, offset, 3);
  CHECK(pqt::gaussian_round<pqt::fmt::e5m2, overflow::nonsaturating>(__builtin_inff(), 0.5f, w) == 0x7C);
  CHECK(pqt::gaussian_round<pqt::fmt::e5m2, overflow::saturate>(-__builtin_inff(), 0.5f, w) == 0xFB);
  CHECK(pqt::gaussian_round<pqt::fmt::e5m2, overflow::saturate>(__builtin_nanf(""), 0.5f, w) == 0x7F);
  // sigma = 0 is round-to-nearest-even.
  for (float x : {0.3f, 1.0f / 3, 1e-6f, -7.77f}) CHECK(pqt::gaussian_round<pqt::fmt::e5m2>(x, 0.0f, w) == pqt::encode<pqt::fmt::e5m2, rounding::nearest_even, overflow::saturate>(x));
}

namespace {

/// Both stochastic paths at the exact boundary: with t_K the top K bits of
/// x's fraction of an ulp, r = 2^K - t_K rounds up and r - 1 does not, in the
/// float fast path (encode<>), the generic routine (format_desc::encode, float
/// and double). Changing >= to > in either fails here.
template <class Fmt>
void boundary_for(const char* name) {
  using F = typename Fmt::format_type;
  const pqt::format_desc d = pqt::format_desc::of<Fmt>();
  const double ulp = std::ldexp(1.0, -F::mantissa_bits);
  const std::uint32_t lo_code = d.encode(1.0f);
  std::uint64_t s = 0x1234567ull;
  for (int k : {1, 2, 3, 5, 8, 13, 16, 24, 32}) {
    for (int trial = 0; trial < 64; ++trial) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      // x in (1, 1 + ulp) with random float bits below the format's last bit
      const int below = 23 - F::mantissa_bits;
      const std::uint32_t low = static_cast<std::uint32_t>(s >> 40) & ((1u << below) - 1u);
      if (low == 0) continue;
      const float x = pqt::detail::bit_cast<float>(0x3F800000u | low);
      const double t = (static_cast<double>(x) - 1.0) / ulp;          // exact
      const std::uint64_t tk = static_cast<std::uint64_t>(std::floor(std::ldexp(t, k)));
      if (tk == 0) continue;                                           // never rounds up
      const std::uint64_t r_up = (std::uint64_t{1} << k) - tk;
      for (std::uint64_t r : {r_up, r_up - 1}) {
        const std::uint32_t want = lo_code + (r == r_up ? 1u : 0u);
        const std::uint32_t w = static_cast<std::uint32_t>(r);
        INFO(name << " K=" << k << " x=" << x << " t_K=" << tk << " r=" << r);
        std::uint32_t fast = 0;
        switch (k) {  // K is a template parameter of encode<>
          case 1: fast = pqt::encode<Fmt, rounding::stochastic, overflow::saturate, 1>(x, w); break;
          case 2: fast = pqt::encode<Fmt, rounding::stochastic, overflow::saturate, 2>(x, w); break;
          case 3: fast = pqt::encode<Fmt, rounding::stochastic, overflow::saturate, 3>(x, w); break;
          case 5: fast = pqt::encode<Fmt, rounding::stochastic, overflow::saturate, 5>(x, w); break;
          case 8: fast = pqt::encode<Fmt, rounding::stochastic, overflow::saturate, 8>(x, w); break;
          case 13: fast = pqt::encode<Fmt, rounding::stochastic, overflow::saturate, 13>(x, w); break;
          case 16: fast = pqt::encode<Fmt, rounding::stochastic, overflow::saturate, 16>(x, w); break;
          case 24: fast = pqt::encode<Fmt, rounding::stochastic, overflow::saturate, 24>(x, w); break;
          default: fast = pqt::encode<Fmt, rounding::stochastic, overflow::saturate, 32>(x, w); break;
        }
        CHECK(fast == want);
        CHECK(d.encode(x, rounding::stochastic, overflow::saturate, w, k) == want);
        CHECK(d.encode(static_cast<double>(x), rounding::stochastic, overflow::saturate, w, k) == want);
      }
    }
  }
}

}  // namespace

TEST_CASE("stochastic rounding at the boundary t_K + r = 2^K and one below, fast and generic paths, several K") {
  boundary_for<pqt::fmt::e4m3>("e4m3");
  boundary_for<pqt::fmt::e5m2>("e5m2");
  boundary_for<pqt::fmt::e2m1>("e2m1");
  boundary_for<pqt::fmt::bf16>("bf16");
}

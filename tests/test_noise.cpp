// Noise samplers of include/pqt/noise.hpp: the GaussWS R threshold table
// against Phi (exactly, by counting words), R / Gaussian / uniform statistics
// on 10^7 fixed-seed draws (chi-square, 6-sigma moments, Kolmogorov-Smirnov),
// the private log and sin/cos against libm on every input the Gaussian
// sampler can produce, and gaussws_element's single rounding against an exact
// big-integer reference. Random words come from a local splitmix64, not from
// random.hpp, so these tests depend on noise.hpp alone. PQT_OPTIMIZE
#include <doctest/doctest.h>

#include "support/splitmix64.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include <pqt/noise.hpp>

namespace {

// ---- helpers -----------------------------------------------------------------

using pqt_test::splitmix64;

long double Phi(long double x) { return 0.5L * std::erfc(-x / std::sqrt(2.0L)); }
double Phi_d(double x) { return 0.5 * std::erfc(-x * 0.70710678118654752440); }

std::uint32_t bits_of(float x) { std::uint32_t b; std::memcpy(&b, &x, 4); return b; }
float float_of(std::uint32_t b) { float x; std::memcpy(&x, &b, 4); return x; }

/// One float ulp at |ref| (subnormal spacing below 2^-126).
double float_ulp(double ref) {
  int e;
  std::frexp(ref, &e);  // |ref| in [2^(e-1), 2^e)
  return std::ldexp(1.0, std::max(e - 1 - 23, -149));
}

/// Chi-square survival function for even degrees of freedom 2m:
/// Q(x) = exp(-x/2) sum_{i<m} (x/2)^i / i!  (closed form, no special functions).
double chi2_sf_even(double x, int dof) {
  double term = 1, sum = 0;
  for (int i = 0; i < dof / 2; ++i) {
    sum += term;
    term *= (x / 2) / (i + 1);
  }
  return std::exp(-x / 2) * sum;
}
/// Critical value x with Q(x) = p, by bisection (Q is decreasing).
double chi2_critical_even(double p, int dof) {
  double lo = 0, hi = 1000;
  for (int it = 0; it < 200; ++it) {
    const double mid = (lo + hi) / 2;
    (chi2_sf_even(mid, dof) > p ? lo : hi) = mid;
  }
  return hi;
}

constexpr int kDraws = 10000000;
constexpr std::uint64_t kTwo32 = std::uint64_t{1} << 32;

/// Words with R = k (k in -3..3), counted from the thresholds in 64-bit.
std::uint64_t r_count(int k) {
  const std::uint64_t lo = k == -3 ? 0 : pqt::gaussws_r_threshold(k + 3);
  const std::uint64_t hi = k == 3 ? kTwo32 : pqt::gaussws_r_threshold(k + 4);
  return hi - lo;
}

// ---- compile time ---------------------------------------------------------------
constexpr bool thresholds_ok() {
  for (int j = 1; j <= 6; ++j) {
    if (j > 1 && !(pqt::gaussws_r_threshold(j - 1) < pqt::gaussws_r_threshold(j))) return false;
    if (std::uint64_t{pqt::gaussws_r_threshold(j)} + pqt::gaussws_r_threshold(7 - j) != kTwo32) return false;
    // R steps exactly at each threshold.
    if (pqt::gaussws_r(pqt::gaussws_r_threshold(j) - 1) != j - 4) return false;
    if (pqt::gaussws_r(pqt::gaussws_r_threshold(j)) != j - 3) return false;
  }
  return true;
}
static_assert(thresholds_ok(), "R thresholds: increasing, symmetric, R steps at each");
static_assert(pqt::gaussws_r(0u) == -3 && pqt::gaussws_r(0xFFFFFFFFu) == 3 && pqt::gaussws_r(0x80000000u) == 0);
static_assert(pqt::uniform_noise(0u) == -0.5f + 0x1p-25f && pqt::uniform_noise(0xFFFFFFFFu) == 0.5f - 0x1p-25f);
static_assert(pqt::uniform_noise(0x80000000u) == 0x1p-25f && pqt::uniform_noise(0x7FFFFFFFu) == -0x1p-25f);
// bf16: 1 + 2^-8 is a tie between 1 and 1 + 2^-7; the tiny noise decides it.
static_assert(pqt::gaussws_element<pqt::fmt::bf16>(1.00390625f, 0x1p-60f, 1) == 0x3F81);
static_assert(pqt::gaussws_element<pqt::fmt::bf16>(1.00390625f, 0x1p-60f, -1) == 0x3F80);
static_assert(pqt::gaussws_element<pqt::fmt::bf16>(1.00390625f, 0x1p-60f, 0) == 0x3F80);  // tie -> even
static_assert(pqt::gaussws_element<pqt::fmt::bf16>(-0.0f, 0x1p-9f, 0) == 0x8000);        // r = 0 keeps -0
static_assert(pqt::gaussws_element<pqt::fmt::bf16>(1.0f, 0x1p-7f, 3) == 0x3F83);
static_assert(pqt::gaussws_element<float>(1.0f, 0x1p-24f, -2) == 1.0f - 0x1p-23f);
static_assert(pqt::gaussws_element<pqt::fmt::bf16>(1.0f, 0x1p-7f, 0xFFFFFFFFu) == 0x3F83);  // word -> R = 3
static_assert(std::is_same<pqt::gaussws_result_t<pqt::fmt::bf16>, std::uint16_t>::value &&
              std::is_same<pqt::gaussws_result_t<float>, float>::value);

}  // namespace

// =============================================================================
// GaussWS R
// =============================================================================

TEST_CASE("gaussws_r: the threshold table realises Phi(2k+1) - Phi(2k-1)") {
  std::uint64_t total = 0;
  for (int j = 1; j <= 6; ++j) {
    const long double target = static_cast<long double>(kTwo32) * Phi(2 * j - 7);
    CHECK(std::fabs(static_cast<long double>(pqt::gaussws_r_threshold(j)) - target) <= 0.5L);
  }
  std::printf("gaussws_r table:\n   k  target P(R=k)            words        realised P(R=k)          diff\n");
  for (int k = -3; k <= 3; ++k) {
    // 1 - Phi(5) written as Phi(-5): the subtraction would cancel digits.
    const long double target = k == -3 || k == 3 ? Phi(-5) : Phi(2 * k + 1) - Phi(2 * k - 1);
    const std::uint64_t n = r_count(k);
    const long double realised = static_cast<long double>(n) / kTwo32;
    std::printf("  %+d  %.15Lg  %10llu  %.15Lg  %+.3Lg\n", k, target, static_cast<unsigned long long>(n), realised,
                realised - target);
    CHECK(std::fabs(realised - target) <= 0x1p-32L);
    CHECK(n == r_count(-k));  // exactly symmetric
    total += n;
  }
  CHECK(total == kTwo32);

  // The same steps at run time (volatile: nothing constant-folded).
  for (int j = 1; j <= 6; ++j) {
    volatile std::uint32_t t = pqt::gaussws_r_threshold(j);
    CHECK(pqt::gaussws_r(t - 1) == j - 4);
    CHECK(pqt::gaussws_r(t) == j - 3);
  }
  volatile std::uint32_t lo = 0, hi = 0xFFFFFFFFu;
  CHECK(pqt::gaussws_r(lo) == -3);
  CHECK(pqt::gaussws_r(hi) == 3);
}

TEST_CASE("gaussws_r: monotone in the word, and equal to the table's definition") {
  // A prime stride visits every residue of the low bits; the thresholds'
  // neighbourhoods are covered exactly by the checks above.
  int prev = -3;
  bool monotone = true, matches = true;
  for (std::uint64_t w = 0; w < kTwo32; w += 4093) {
    const std::uint32_t word = static_cast<std::uint32_t>(w);
    const int r = pqt::gaussws_r(word);
    monotone &= r >= prev;
    prev = r;
    int expect = -3;
    for (int j = 1; j <= 6; ++j) expect += word >= pqt::gaussws_r_threshold(j) ? 1 : 0;
    matches &= r == expect;
  }
  CHECK(monotone);
  CHECK(matches);
}

TEST_CASE("gaussws_r: frequencies (chi-square), mean and variance over 10^7 draws") {
  splitmix64 g{0x5EED0001ull};
  std::uint64_t counts[7] = {};
  double sum = 0, sum2 = 0;
  for (int i = 0; i < kDraws; ++i) {
    const int r = pqt::gaussws_r(g.word());
    ++counts[r + 3];
    sum += r;
    sum2 += static_cast<double>(r) * r;
  }
  // Expected counts of +-3 are 10^7 * 2.87e-7 = 2.9 < 5: merge them into +-2,
  // leaving 5 bins and 4 degrees of freedom.
  double p[7];
  for (int k = -3; k <= 3; ++k) p[k + 3] = static_cast<double>(r_count(k)) / static_cast<double>(kTwo32);
  const double obs[5] = {double(counts[0] + counts[1]), double(counts[2]), double(counts[3]), double(counts[4]),
                         double(counts[5] + counts[6])};
  const double prob[5] = {p[0] + p[1], p[2], p[3], p[4], p[5] + p[6]};
  double chi2 = 0;
  for (int b = 0; b < 5; ++b) {
    const double e = prob[b] * kDraws;
    chi2 += (obs[b] - e) * (obs[b] - e) / e;
  }
  const double crit = chi2_critical_even(1e-6, 4);  // 33.38 (for 6 dof it would be 35.9)
  std::printf("gaussws_r: chi2 = %.3f (4 dof), critical value at p = 1e-6: %.3f\n", chi2, crit);
  CHECK(crit == doctest::Approx(33.38).epsilon(1e-3));
  CHECK(chi2 < crit);

  // Moments of the realised table: mean 0 (symmetric), variance s2, 4th moment m4.
  double s2 = 0, m4 = 0;
  for (int k = -3; k <= 3; ++k) {
    s2 += p[k + 3] * k * k;
    m4 += p[k + 3] * k * k * k * k;
  }
  const double mean = sum / kDraws, var = sum2 / kDraws - mean * mean;
  CHECK(std::fabs(mean) < 6 * std::sqrt(s2 / kDraws));
  CHECK(std::fabs(var - s2) < 6 * std::sqrt((m4 - s2 * s2) / kDraws));
}

// =============================================================================
// The private log and sin/cos: every input the Gaussian sampler can produce
// =============================================================================

TEST_CASE("log_: every u1 of the sampler, and a dense sweep of all normal floats") {
  double worst = 0;
  float worst_x = 0;
  for (std::uint32_t m = 1; m < (1u << 24); ++m) {  // u1 = m 2^-24; u1 = 1 below
    const float x = static_cast<float>(m) * 0x1p-24f;
    const double ref = std::log(static_cast<double>(x));
    const double err = std::fabs(pqt::detail::log_(x) - ref) / float_ulp(ref);
    if (err > worst) worst = err, worst_x = x;
  }
  CHECK(pqt::detail::log_(1.0f) == 0.0f);
  std::printf("log_: max error %.3f ulp over the 2^24 sampler inputs (at %a)\n", worst, static_cast<double>(worst_x));
  CHECK(worst < 1.0);

  worst = 0;
  for (std::uint32_t b = 0x00800000u; b < 0x7F800000u; b += 211) {  // ~1e7 normal floats, every binade
    const float x = float_of(b);
    const double ref = std::log(static_cast<double>(x));
    if (ref == 0) continue;
    const double err = std::fabs(pqt::detail::log_(x) - ref) / float_ulp(ref);
    if (err > worst) worst = err, worst_x = x;
  }
  std::printf("log_: max error %.3f ulp over normal floats (stride 211, at %a)\n", worst, static_cast<double>(worst_x));
  CHECK(worst < 1.0);
}

TEST_CASE("sincos_turn24_: every angle 2 pi j / 2^24") {
  const double two_pi = 6.283185307179586476925286766559;
  double worst_s = 0, worst_c = 0;
  std::uint32_t at_s = 0, at_c = 0;
  bool exact_axes = true;
  for (std::uint32_t j = 0; j < (1u << 24); ++j) {
    float s, c;
    pqt::detail::sincos_turn24_(j, s, c);
    if ((j & 0x3FFFFFu) == 0) {  // multiples of pi/2: exactly 0 and +-1
      const int q = static_cast<int>(j >> 22);
      exact_axes &= s == (q == 1 ? 1.0f : q == 3 ? -1.0f : 0.0f);
      exact_axes &= c == (q == 0 ? 1.0f : q == 2 ? -1.0f : 0.0f);
      continue;
    }
    // The double argument is off by <= 4e-16 absolute, which is < 0.01 float
    // ulp even at the smallest |sin| here (3.7e-7): double libm suffices.
    const double a = two_pi * static_cast<double>(j) * 0x1p-24;
    const double rs = std::sin(a), rc = std::cos(a);
    const double es = std::fabs(s - rs) / float_ulp(rs), ec = std::fabs(c - rc) / float_ulp(rc);
    if (es > worst_s) worst_s = es, at_s = j;
    if (ec > worst_c) worst_c = ec, at_c = j;
  }
  std::printf("sincos_turn24_: max error sin %.3f ulp (j = %u), cos %.3f ulp (j = %u)\n", worst_s, at_s, worst_c,
              at_c);
  CHECK(exact_axes);
  CHECK(worst_s < 1.1);
  CHECK(worst_c < 1.1);
}

// =============================================================================
// Gaussian noise
// =============================================================================

TEST_CASE("gaussian_noise: against exact Box-Muller, extremes, exact symmetry") {
  // The sampler's value vs Box-Muller of the same (u1, u2) in double.
  splitmix64 g{0x5EED0002ull};
  double worst = 0;
  bool symmetric = true;
  for (int i = 0; i < 1000000; ++i) {
    const std::uint32_t w0 = g.word(), w1 = g.word();
    const double u1 = ((w0 >> 8) + 1.0) * 0x1p-24, u2 = (w1 >> 8) * 0x1p-24;  // exact
    const std::uint32_t j = w1 >> 8;
    // cos is exactly 0 at pi/2 and 3 pi/2, where double cos of the rounded
    // angle is 6e-17 instead.
    const double cos_ref = (j & 0x3FFFFFu) == 0 ? (j == 0 ? 1.0 : j == (2u << 22) ? -1.0 : 0.0)
                                                 : std::cos(6.283185307179586476925 * u2);
    const double ref = std::sqrt(-2 * std::log(u1)) * cos_ref;
    const float x = pqt::gaussian_noise(w0, w1);
    if (ref != 0)
      worst = std::max(worst, std::fabs(x - ref) / float_ulp(ref));
    else
      symmetric &= x == 0;
    // cos(theta + pi) == -cos(theta) bit for bit: the quadrant only flips signs.
    symmetric &= bits_of(pqt::gaussian_noise(w0, w1 ^ 0x80000000u)) == (bits_of(x) ^ 0x80000000u);
  }
  std::printf("gaussian_noise: max error %.3f ulp vs double Box-Muller of the same (u1, u2)\n", worst);
  CHECK(worst < 3.0);
  CHECK(symmetric);

  const float gmax = static_cast<float>(std::sqrt(48 * std::log(2.0)));  // sqrt(-2 ln 2^-24) = 5.768
  volatile std::uint32_t zero = 0, ones = 0xFFFFFFFFu;
  CHECK(pqt::gaussian_noise(zero, zero) == doctest::Approx(gmax).epsilon(1e-6));
  CHECK(pqt::gaussian_noise(zero, 0x80000000u) == doctest::Approx(-gmax).epsilon(1e-6));
  CHECK(pqt::gaussian_noise(ones, 12345u) == 0.0f);  // u1 = 1
}

TEST_CASE("gaussian_noise: mean, variance and Kolmogorov-Smirnov over 10^7 draws") {
  splitmix64 g{0x5EED0003ull};
  std::vector<float> x(kDraws);
  double sum = 0, sum2 = 0;
  float maxabs = 0;
  for (int i = 0; i < kDraws; ++i) {
    const std::uint32_t w0 = g.word();
    x[i] = pqt::gaussian_noise(w0, g.word());
    sum += x[i];
    sum2 += static_cast<double>(x[i]) * x[i];
    maxabs = std::max(maxabs, std::fabs(x[i]));
  }
  const double mean = sum / kDraws, var = sum2 / kDraws - mean * mean;
  CHECK(std::fabs(mean) < 6 / std::sqrt(double(kDraws)));
  CHECK(std::fabs(var - 1) < 6 * std::sqrt(2.0 / kDraws));  // Var(s^2) = (mu4 - 1)/n = 2/n
  CHECK(maxabs <= 5.7683f);

  std::sort(x.begin(), x.end());
  double d = 0;
  for (int i = 0; i < kDraws; ++i) {
    const double f = Phi_d(x[i]);
    d = std::max({d, (i + 1.0) / kDraws - f, f - static_cast<double>(i) / kDraws});
  }
  // Asymptotic KS tail: P(sqrt(n) D > t) ~ 2 exp(-2 t^2) = 1e-6 at t = 2.694.
  const double t = std::sqrt(-std::log(1e-6 / 2) / 2);
  std::printf("gaussian_noise: KS distance %.3g (sqrt(n) D = %.3f, bound %.3f at p = 1e-6), mean %.2g, var-1 %.2g\n", d,
              d * std::sqrt(double(kDraws)), t, mean, var - 1);
  CHECK(d * std::sqrt(double(kDraws)) < t);
}

TEST_CASE("gaussian_noise: its exact CDF at a few points, over all 2^48 word pairs") {
  // g = radius(m) * c(j) for m = w0 >> 8 and j = w1 >> 8. radius is
  // non-increasing in m (checked), so for each j the m with g <= t form a
  // prefix (c < 0) or a suffix (c > 0) of [0, 2^24), and the boundary moves
  // little from one j to the next: walking it gives the exact count.
  constexpr std::uint32_t n = 1u << 24;
  std::vector<float> radius(n);
  bool monotone = true;
  for (std::uint32_t m = 0; m < n; ++m) {
    radius[m] = pqt::detail::sqrt_rn(-2.0f * pqt::detail::log_(static_cast<float>(m + 1) * 0x1p-24f));
    monotone &= m == 0 || radius[m] <= radius[m - 1];
  }
  REQUIRE(monotone);
  splitmix64 g{0x5EED000Bull};
  for (int i = 0; i < 1000; ++i) {  // the decomposition is the sampler's own arithmetic
    const std::uint32_t w0 = g.word(), w1 = g.word();
    float s, c;
    pqt::detail::sincos_turn24_(w1 >> 8, s, c);
    REQUIRE(bits_of(pqt::gaussian_noise(w0, w1)) == bits_of(radius[w0 >> 8] * c));
  }
  double worst = 0;
  for (const float t : {-3.0f, -1.5f, -0.25f, 0.5f, 1.0f, 2.0f}) {
    std::uint64_t total = 0;
    std::uint32_t first_true = n, first_false = 0;  // c > 0: suffix [first_true, n); c < 0: prefix [0, first_false)
    for (std::uint32_t j = 0; j < n; ++j) {
      float s, c;
      pqt::detail::sincos_turn24_(j, s, c);
      const auto below = [&](std::uint32_t m) { return radius[m] * c <= t; };
      if (c > 0) {
        while (first_true > 0 && below(first_true - 1)) --first_true;
        while (first_true < n && !below(first_true)) ++first_true;
        total += n - first_true;
      } else if (c < 0) {
        while (first_false > 0 && !below(first_false - 1)) --first_false;
        while (first_false < n && below(first_false)) ++first_false;
        total += first_false;
      } else {
        total += 0.0f <= t ? n : 0;
      }
    }
    const double f = static_cast<double>(total) * 0x1p-48, diff = f - Phi_d(t);
    std::printf("gaussian_noise: exact P(g <= %+.2f) - Phi = %+.2e\n", static_cast<double>(t), diff);
    worst = std::max(worst, std::fabs(diff));
  }
  CHECK(worst < 1e-7);
}

// =============================================================================
// Uniform noise
// =============================================================================

TEST_CASE("uniform_noise: every value exactly, range, symmetry, mean over all words") {
  bool exact = true, inside = true, increasing = true, symmetric = true;
  float prev = -1;
  std::int64_t odd_sum = 0;
  splitmix64 g{0x5EED0004ull};
  for (std::uint32_t m = 0; m < (1u << 24); ++m) {
    const std::uint32_t w = (m << 8) | (g.word() & 0xFFu);  // low bits must not matter
    const float u = pqt::uniform_noise(w);
    const std::int64_t odd = 2 * std::int64_t{m} + 1 - (std::int64_t{1} << 24);
    exact &= static_cast<double>(u) == std::ldexp(static_cast<double>(odd), -25);
    inside &= u > -0.5f && u < 0.5f;
    increasing &= u > prev;
    prev = u;
    symmetric &= bits_of(pqt::uniform_noise(~w)) == (bits_of(u) ^ 0x80000000u);
    odd_sum += odd;
  }
  CHECK(exact);
  CHECK(inside);
  CHECK(increasing);
  CHECK(symmetric);
  CHECK(odd_sum == 0);  // the mean over all 2^32 words is exactly 0
}

TEST_CASE("uniform_noise: mean and variance over 10^7 draws") {
  splitmix64 g{0x5EED0005ull};
  double sum = 0, sum2 = 0;
  for (int i = 0; i < kDraws; ++i) {
    const double u = pqt::uniform_noise(g.word());
    sum += u;
    sum2 += u * u;
  }
  const double mean = sum / kDraws, var = sum2 / kDraws - mean * mean;
  CHECK(std::fabs(mean) < 6 * std::sqrt(1.0 / 12 / kDraws));
  // U(-1/2, 1/2): sigma^2 = 1/12, mu4 = 1/80.
  CHECK(std::fabs(var - 1.0 / 12) < 6 * std::sqrt((1.0 / 80 - 1.0 / 144) / kDraws));
}

// =============================================================================
// gaussws_element: one rounding, checked against exact big-integer arithmetic
// =============================================================================
namespace {

/// Unsigned 320-bit integer: every finite float is X * 2^-149 with X < 2^277,
/// and |w| + 3 |delta| < 2^280, so sums are exact.
struct big {
  std::uint64_t v[5] = {};
  static big from(std::uint64_t m, int shift) {  // m * 2^shift, m < 2^27, 0 <= shift <= 277
    big b;
    b.v[shift / 64] = m << (shift % 64);
    if (shift % 64 && shift / 64 + 1 < 5) b.v[shift / 64 + 1] = m >> (64 - shift % 64);
    return b;
  }
  bool bit(int i) const { return (v[i / 64] >> (i % 64)) & 1; }
  bool zero() const { return !(v[0] | v[1] | v[2] | v[3] | v[4]); }
  int msb() const {
    for (int i = 4; i >= 0; --i)
      if (v[i]) return 64 * i + 63 - pqt::detail::clz64(v[i]);
    return -1;
  }
  bool any_below(int n) const {  // any bit set in positions [0, n)
    for (int i = 0; i < n; ++i)
      if (bit(i)) return true;
    return false;
  }
  std::uint64_t bits(int lo, int n) const {  // n <= 32 bits from position lo
    std::uint64_t r = 0;
    for (int i = 0; i < n; ++i) r |= std::uint64_t{bit(lo + i)} << i;
    return r;
  }
  friend bool operator<(const big& a, const big& b) {
    for (int i = 4; i >= 0; --i)
      if (a.v[i] != b.v[i]) return a.v[i] < b.v[i];
    return false;
  }
  friend big operator+(big a, const big& b) {
    unsigned carry = 0;
    for (int i = 0; i < 5; ++i) {
      const std::uint64_t s = a.v[i] + b.v[i];
      const unsigned c1 = s < a.v[i];
      a.v[i] = s + carry;
      carry = c1 | (a.v[i] < s);
    }
    return a;
  }
  friend big operator-(big a, const big& b) {  // a >= b
    unsigned borrow = 0;
    for (int i = 0; i < 5; ++i) {
      const std::uint64_t d = a.v[i] - b.v[i];
      const unsigned b1 = a.v[i] < b.v[i];
      a.v[i] = d - borrow;
      borrow = b1 | (d < borrow);
    }
    return a;
  }
};

/// |x| of a finite float as X with |x| = X * 2^-149.
big float_to_big(float x) {
  const std::uint32_t b = bits_of(x) & 0x7FFFFFFFu;
  const std::uint32_t e = b >> 23, m = b & 0x7FFFFFu;
  return e == 0 ? big::from(m, 0) : big::from(m | 0x800000u, static_cast<int>(e) - 1);
}

/// Carrier geometry: M mantissa bits, normal exponents emin..emax, IEEE Inf.
struct carrier {
  int m, emin, emax;
};

/// The exact reference: w + r delta computed exactly, rounded once to nearest
/// even on the carrier's grid (subnormals included), overflow to Inf or, when
/// saturating, to +-max. Returned as a float (every carrier value is one).
float reference(float w, float delta, int r, carrier c, bool saturate) {
  const float max = std::ldexp(static_cast<float>((1u << (c.m + 1)) - 1), c.emax - c.m);
  if (r == 0 && w == 0) return w;  // r = 0 is the identity on the input, -0 included
  const big a = float_to_big(w);
  big b;
  for (int i = 0; i < (r < 0 ? -r : r); ++i) b = b + float_to_big(delta);
  const bool wneg = std::signbit(w), bneg = r < 0;
  big s;
  bool neg;
  if (wneg == bneg) {
    s = a + b, neg = wneg;
  } else if (b < a) {
    s = a - b, neg = wneg;
  } else {
    s = b - a, neg = bneg;
  }
  if (s.zero()) return 0.0f;  // an exact zero sum is +0 under round-to-nearest
  // Value s * 2^-149; its binade 2^(p-149); the carrier's lsb there.
  const int p = s.msb();
  const int lsb = std::max(p - 149, c.emin) - c.m;
  const int sh = lsb + 149;  // >= 0 for every carrier here
  std::uint64_t keep = sh > 0 ? s.bits(sh, std::min(p - sh + 1, 32)) : s.bits(0, p + 1);
  if (sh > 0 && s.bit(sh - 1) && (s.any_below(sh - 1) || (keep & 1))) ++keep;
  float mag = std::ldexp(static_cast<float>(keep), lsb);  // exact, or Inf past float's range
  if (!(mag <= max)) mag = saturate ? max : INFINITY;
  return neg ? -mag : mag;
}

template <class C>
std::uint32_t result_bits(float w, float delta, int r, bool saturate) {
  if constexpr (std::is_same<C, float>::value) {
    return bits_of(saturate ? pqt::gaussws_element<float, pqt::overflow::saturate>(w, delta, r)
                            : pqt::gaussws_element<float>(w, delta, r));
  } else {
    return saturate ? pqt::gaussws_element<C, pqt::overflow::saturate>(w, delta, r)
                    : pqt::gaussws_element<C>(w, delta, r);
  }
}
template <class C>
std::uint32_t expected_bits(float ref) {
  if constexpr (std::is_same<C, float>::value) {
    return bits_of(ref);
  } else {
    return pqt::encode<C>(ref);  // ref is a value of C (or +-Inf): exact
  }
}

/// A random float of one of several shapes that matter for rounding.
float random_w(splitmix64& g) {
  const std::uint32_t b = g.word();
  std::uint32_t x;
  switch (g.next() % 8) {
    case 0: x = b; break;                                                  // any bit pattern
    case 1: x = b & 0xFFFF0000u; break;                                    // bf16-exact
    case 2: x = (b & 0xFFFF0000u) | 0x8000u; break;                        // bf16 tie
    case 3: x = (b & 0xFFFF0000u) | (0x8000u + (g.word() % 5) - 2); break;  // next to a bf16 tie
    case 4: x = (b & 0x807FFFFFu) | ((g.word() % 12) << 23); break;        // subnormal and tiny
    case 5: x = (b & 0x807FFFFFu) | ((112 + g.word() % 34) << 23); break;  // fp16's range
    case 6: x = (b & 0x807FE000u) | 0x1000u | ((127 + g.word() % 8) << 23); break;  // fp16 tie near 1
    default: x = (b & 0x80000000u) | ((g.word() % 3) == 0 ? 0x7F7FFFFFu - (g.word() % 0x10000) : 0u); break;
  }
  if ((x & 0x7F800000u) == 0x7F800000u) x &= ~0x00800000u;  // keep it finite
  return float_of(x);
}

/// delta: mostly a power of two whose exponent is tied to w's (gaps from far
/// below, where only a sticky bit survives, to far above), sometimes anywhere
/// in float's range, sometimes not a power of two at all.
float random_delta(splitmix64& g, float w) {
  int ew = 0;
  std::frexp(w, &ew);
  const std::uint64_t pick = g.next() % 8;
  int e = pick < 5 ? ew + static_cast<int>(g.next() % 121) - 90 : static_cast<int>(g.next() % 277) - 149;
  e = std::min(std::max(e, -149), 127);
  float d = std::ldexp(1.0f, e);
  if (pick == 7 && e > -126 && e < 127) d = float_of((bits_of(d) & 0x7F800000u) | (g.word() & 0x7FFFFFu));
  return d;
}

template <class C>
void check_against_reference(carrier c, int cases, std::uint64_t seed, const char* name) {
  splitmix64 g{seed};
  long mismatches = 0, naive_wrong = 0;
  for (int i = 0; i < cases; ++i) {
    const float w = random_w(g);
    const float delta = random_delta(g, w);
    for (int r = -3; r <= 3; ++r) {
      for (int sat = 0; sat < 2; ++sat) {
        const float ref = reference(w, delta, r, c, sat != 0);
        const std::uint32_t got = result_bits<C>(w, delta, r, sat != 0);
        const std::uint32_t want = expected_bits<C>(ref);
        if (got != want && ++mismatches <= 5)
          std::printf("%s mismatch: w=%a delta=%a r=%d sat=%d got=%08x want=%08x\n", name, static_cast<double>(w),
                      static_cast<double>(delta), r, sat, got, want);
        if (!sat) {
          // What the one-line version, encode(double(w) + r * delta), would give.
          const double naive_sum = static_cast<double>(w) + r * static_cast<double>(delta);
          std::uint32_t naive;
          if constexpr (std::is_same<C, float>::value)
            naive = bits_of(static_cast<float>(naive_sum));
          else
            naive = pqt::encode<C>(naive_sum);
          naive_wrong += naive != want && !(r == 0 && w == 0);
        }
      }
    }
  }
  std::printf("gaussws_element<%s>: %d x 7 x 2 cases, %ld mismatches (a plain double sum would be wrong in %ld)\n",
              name, cases, mismatches, naive_wrong);
  CHECK(mismatches == 0);
}

}  // namespace

TEST_CASE("gaussws_element: rounded once, bit for bit against exact arithmetic") {
  check_against_reference<pqt::fmt::bf16>({7, -126, 127}, 150000, 0x5EED0006ull, "bf16");
  check_against_reference<float>({23, -126, 127}, 150000, 0x5EED0007ull, "float");
  check_against_reference<pqt::fmt::fp16>({10, -14, 15}, 60000, 0x5EED0008ull, "fp16");
  check_against_reference<pqt::fmt::e8m<3>>({3, -126, 127}, 60000, 0x5EED0009ull, "e8m3");
}

TEST_CASE("widen_bits (the device's widen): float -> double through the bits equals the cast") {
  // Bit for bit, except that the cast quiets a signalling NaN; widen keeps
  // the payload as it is (either way encode then gives the canonical NaN).
  const auto same = [](std::uint32_t b) {
    const float x = float_of(b);
    const double got = pqt::detail::widen_bits(x), want = static_cast<double>(x);
    if (x != x) return got != got;
    return std::memcmp(&got, &want, sizeof got) == 0;
  };
  bool ok = true;
  for (std::uint32_t b = 0; b < (1u << 23); ++b) ok &= same(b) && same(b | 0x80000000u);  // +-0, subnormals
  for (std::uint64_t b = 0; b < kTwo32; b += 251) ok &= same(static_cast<std::uint32_t>(b));  // every exponent
  ok &= same(0x7F800000u) && same(0xFF800000u) && same(0x7FC00000u) && same(0x7F800001u);  // Inf, NaN
  CHECK(ok);
}

TEST_CASE("gaussws_element: the tie that a plain double sum gets wrong") {
  volatile float w = 1.00390625f, delta = 0x1p-60f;  // 1 + 2^-8: halfway between bf16 1 and 1 + 2^-7
  CHECK(pqt::gaussws_element<pqt::fmt::bf16>(w, delta, 1) == 0x3F81);
  CHECK(pqt::encode<pqt::fmt::bf16>(static_cast<double>(w) + static_cast<double>(delta)) == 0x3F80);
  // Same for the float carrier: 1 + 2^-24 is a float tie, 2^-80 decides it.
  volatile float w1 = 1.0f;
  CHECK(pqt::gaussws_element<float>(w1, 0x1p-24f, 1) == 1.0f);  // exact tie -> even
  CHECK(pqt::detail::add_round_odd_(1.0 + 0x1p-24, 0x1p-80) == 1.0 + 0x1p-24 + 0x1p-52);
}

TEST_CASE("gaussws_element: r = 0 is the plain cast; the word overload draws R") {
  splitmix64 g{0x5EED000Aull};
  bool cast_ok = true, word_ok = true;
  for (int i = 0; i < 200000; ++i) {
    float w = random_w(g);
    if (i < 2) w = i ? -0.0f : 0.0f;
    const float delta = random_delta(g, w);
    cast_ok &= pqt::gaussws_element<pqt::fmt::bf16>(w, delta, 0) == pqt::encode<pqt::fmt::bf16>(w);
    cast_ok &= bits_of(pqt::gaussws_element<float>(w, delta, 0)) == bits_of(w);
    const std::uint32_t word = g.word();
    word_ok &= pqt::gaussws_element<pqt::fmt::bf16>(w, delta, word) ==
               pqt::gaussws_element<pqt::fmt::bf16>(w, delta, pqt::gaussws_r(word));
    word_ok &= bits_of(pqt::gaussws_element<float>(w, delta, word)) ==
               bits_of(pqt::gaussws_element<float>(w, delta, pqt::gaussws_r(word)));
  }
  CHECK(cast_ok);
  CHECK(word_ok);

  // Overflow policy, NaN and Inf pass through.
  const float big_w = pqt::fmt::bf16::max();
  CHECK(pqt::gaussws_element<pqt::fmt::bf16>(big_w, 0x1p120f, 3) == 0x7F80);
  CHECK(pqt::gaussws_element<pqt::fmt::bf16, pqt::overflow::saturate>(big_w, 0x1p120f, 3) == 0x7F7F);
  CHECK(pqt::gaussws_element<pqt::fmt::bf16, pqt::overflow::saturate>(-big_w, 0x1p120f, -3) == 0xFF7F);
  CHECK(std::isinf(pqt::gaussws_element<float>(3e38f, 0x1p127f, 1)));
  CHECK(pqt::gaussws_element<float, pqt::overflow::saturate>(3e38f, 0x1p127f, 1) == 0x1.FFFFFEp127f);
  CHECK(pqt::gaussws_element<pqt::fmt::bf16>(INFINITY, 0x1p-9f, -3) == 0x7F80);
  CHECK(bits_of(pqt::gaussws_element<float>(NAN, 0x1p-9f, 2)) == 0x7FFFFFFFu);  // canonical NaN
  CHECK(pqt::fmt::bf16::nan_code == (pqt::gaussws_element<pqt::fmt::bf16>(NAN, 0x1p-9f, 2) & 0x7FFF));
}

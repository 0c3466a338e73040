// scale.hpp: amax, per-tensor (current and delayed) scaling, MX e8m0 block
// scales under the four rules, NVFP4 two-level scales, 2-D tiles, argument
// checks. Expected values are hand-computed or come from an independent route
// (std::ilogb / std::frexp / double arithmetic), never from the bit tricks
// under test.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <pqt/scale.hpp>

using namespace pqt;

namespace {

constexpr float inf = std::numeric_limits<float>::infinity();
const float qnan = std::numeric_limits<float>::quiet_NaN();

float from_bits(std::uint32_t b) {
  float x;
  std::memcpy(&x, &b, 4);
  return x;
}
float next_up(float x) { return std::nextafter(x, inf); }

/// A positive finite nonzero float with uniformly random bits: every binade,
/// subnormals included, equally likely.
float random_positive(std::mt19937& g) {
  std::uint32_t b;
  do b = static_cast<std::uint32_t>(g()) & 0x7FFFFFFFu;
  while (b == 0 || b >= 0x7F800000u);
  return from_bits(b);
}

/// Positive float in [2^lo, 2^hi) with a random significand.
float random_in(std::mt19937& g, int lo, int hi) {
  std::uniform_int_distribution<int> e(lo, hi - 1);
  std::uniform_real_distribution<float> m(1.0f, 2.0f);
  return std::ldexp(m(g), e(g));
}

bool is_pow2(float s) {
  int e;
  return std::frexp(s, &e) == 0.5f;
}

// emax of the five OCP element formats.
static_assert(fmt::e4m3::emax == 8 && fmt::e5m2::emax == 15 && fmt::e3m2::emax == 4 && fmt::e2m3::emax == 2 &&
              fmt::e2m1::emax == 2);

// A format with a negative emax (max = 1.75 * 2^-15, smallest 2^-32): reaches
// the upper clamp of the shared exponent and the subnormal-amax path.
using tiny = format<4, 3, encoding::fn, 30>;
static_assert(tiny::emax == -15 && tiny::max() == 0x1.Cp-15f);

}  // namespace

// =============================================================================
// amax
// =============================================================================

static_assert(detail::amax_update(0.0f, -3.0f) == 3.0f && detail::amax_update(5.0f, -3.0f) == 5.0f);
static_assert(detail::amax_update(1.0f, -inf) == inf);
static_assert(detail::amax_update(0.0f, 0x1p-149f) == 0x1p-149f);

TEST_CASE("amax: values, signs, zero length, Inf, NaN propagation") {
  const float a[] = {1.0f, -7.5f, 3.0f, -0.0f, 0x1p-149f};
  CHECK(amax(a, 5) == 7.5f);
  CHECK(amax(a, 0) == 0.0f);
  CHECK(amax(static_cast<const float*>(nullptr), 0) == 0.0f);
  const float z[] = {-0.0f, 0.0f};
  CHECK(amax(z, 2) == 0.0f);
  CHECK_FALSE(std::signbit(amax(z, 2)));
  const float sub[] = {0x1p-149f, -0x1.8p-140f};
  CHECK(amax(sub, 2) == 0x1.8p-140f);
  const float i[] = {1.0f, -inf, 2.0f};
  CHECK(amax(i, 3) == inf);
  for (int pos = 0; pos < 4; ++pos) {  // NaN first, middle, last, next to an Inf
    std::vector<float> v = {1.0f, inf, -2.0f, 3.0f};
    v[static_cast<std::size_t>(pos)] = pos % 2 ? -qnan : qnan;
    CHECK(std::isnan(amax(v.data(), v.size())));
  }
  // A signalling-NaN pattern and a negative NaN come back as a NaN too.
  const float s[] = {from_bits(0x7F800001u), 1.0f, from_bits(0xFFC00000u)};
  CHECK(std::isnan(amax(s, 3)));
  // amax_update: NaN wins in either argument.
  CHECK(std::isnan(detail::amax_update(qnan, inf)));
  CHECK(std::isnan(detail::amax_update(2.0f, qnan)));
  volatile float v1 = -3.0f, v2 = 2.0f;
  CHECK(detail::amax_update(v2, v1) == 3.0f);
}

TEST_CASE("amax: random sizes against a plain reference") {
  std::mt19937 g(1);
  std::normal_distribution<float> nd(0.0f, 10.0f);
  for (std::size_t n : {1u, 15u, 16u, 17u, 127u, 129u, 4095u, 4097u}) {
    std::vector<float> x(n);
    for (auto& e : x) e = nd(g);
    float ref = 0.0f;
    for (float e : x) ref = std::fabs(e) > ref ? std::fabs(e) : ref;
    CHECK(amax(x.data(), n) == ref);
    CHECK(amax(x.data() + 1, n - 1) <= ref);  // offset base pointer
  }
}

TEST_CASE("amax: minifloat arrays are decoded element by element") {
  const bf16 b[] = {bf16{1.5f}, bf16{-300.0f}, bf16{2.0f}};
  CHECK(amax(b, 3) == 300.0f);
  const fp16 h[] = {fp16{0.25f}, fp16{-65504.0f}};
  CHECK(amax(h, 2) == 65504.0f);
  const e4m3 e[] = {e4m3{-448.0f}, e4m3::from_bits(0x7F)};  // NaN
  CHECK(std::isnan(amax(e, 2)));
  CHECK(amax(e, 1) == 448.0f);
  const bf16 bi[] = {bf16{1.0f}, bf16{-inf}};
  CHECK(amax(bi, 2) == inf);
}

TEST_CASE("block_amax: full and partial blocks") {
  std::vector<float> x(70);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) * (i % 2 ? -1.0f : 1.0f);
  std::vector<float> out(3, -1.0f);
  block_amax(x.data(), x.size(), 32, out.data());
  CHECK(out[0] == 31.0f);
  CHECK(out[1] == 63.0f);
  CHECK(out[2] == 69.0f);  // 6 elements
  x[40] = qnan;
  block_amax(x.data(), x.size(), 32, out.data());
  CHECK(out[0] == 31.0f);
  CHECK(std::isnan(out[1]));
  CHECK(out[2] == 69.0f);
}

// =============================================================================
// Per-tensor scaling
// =============================================================================

static_assert(compute_scale<fmt::e4m3>(448.0f) == 1.0f);
static_assert(compute_scale<fmt::e4m3>(1.0f) == 448.0f);
static_assert(compute_scale<fmt::e4m3>(1.0f, tensor_scaling{1.0f, false}) == 224.0f);
static_assert(compute_scale<fmt::e4m3>(3.0f, tensor_scaling{0.0f, true}) == 128.0f);
static_assert(compute_scale<fmt::e4m3>(0.0f, {}, 2.0f) == 2.0f);

TEST_CASE("compute_scale: hand-checked values") {
  // 448 / 3 = 149.333...: RN is 0x1.2aaaaap+7 (below the quotient), kept.
  volatile float a3 = 3.0f;
  CHECK(compute_scale<fmt::e4m3>(a3) == 0x1.2aaaaap+7f);
  CHECK(compute_scale<fmt::e4m3>(a3, tensor_scaling{0.0f, true}) == 128.0f);
  // 448 / 9 = 49.777...: RN is 0x1.8e38e4p+5 (above: 9 * s > 448), so one ulp down.
  volatile float a9 = 9.0f;
  const float s9 = compute_scale<fmt::e4m3>(a9);
  CHECK(s9 == 0x1.8e38e2p+5f);
  CHECK(static_cast<double>(a9) * s9 <= 448.0);
  CHECK(static_cast<double>(a9) * next_up(s9) > 448.0);
  CHECK(448.0f / a9 == next_up(s9));  // TE's value
  CHECK(compute_scale<fmt::e5m2>(1.0f) == 57344.0f);
  CHECK(compute_scale<fmt::e2m1>(12.0f) == 0.5f);
  CHECK(compute_scale<fmt::e2m1>(12.0f, tensor_scaling{2.0f, false}) == 0.125f);
  // 448 / 7 = 64 exactly: no step down, and a power of two already.
  CHECK(compute_scale<fmt::e4m3>(7.0f) == 64.0f);
  CHECK(compute_scale<fmt::e4m3>(7.0f, tensor_scaling{0.0f, true}) == 64.0f);
  // Scale that is a float subnormal: amax = 2^127, max 6, margin 10.
  const float sub = compute_scale<fmt::e2m1>(0x1p127f, tensor_scaling{10.0f, true});
  CHECK(sub == 0x1p-135f);
}

TEST_CASE("compute_scale: amax * s <= max, maximal, power of two, margin (random)") {
  std::mt19937 g(2);
  auto run = [&](auto fmt_tag, const char* name) {
    using F = decltype(fmt_tag);
    const double mx = F::max();
    int bad = 0;
    for (int i = 0; i < 200000; ++i) {
      const float a = random_in(g, -100, 127);
      const float s = compute_scale<F>(a);
      const float p2 = compute_scale<F>(a, tensor_scaling{0.0f, true});
      const float te = static_cast<float>(mx) / a;  // TE: rounded to nearest
      bool ok = true;
      if (std::isinf(te)) {
        ok = s == 1.0f && p2 == 1.0f;  // max / amax overflows float: fall-back
      } else {
        // Largest float with amax * s <= max (products exact in double).
        ok = s > 0 && static_cast<double>(a) * s <= mx &&
             (next_up(s) == inf || static_cast<double>(a) * next_up(s) > mx);
        // Largest power of two with amax * s <= max.
        ok = ok && is_pow2(p2) && static_cast<double>(a) * p2 <= mx && static_cast<double>(a) * 2.0 * p2 > mx;
        // An integer margin m divides both by exactly 2^m while s stays normal.
        const float s3 = compute_scale<F>(a, tensor_scaling{3.0f, false});
        const float p3 = compute_scale<F>(a, tensor_scaling{3.0f, true});
        ok = ok && (s < 0x1p-123f || (s3 == s / 8.0f && p3 == p2 / 8.0f));
        // TE's round-to-nearest s is ours or one ulp above.
        ok = ok && (te == s || te == next_up(s));
      }
      if (!ok && bad++ == 0) {
        INFO(name << " amax=" << a << " s=" << s << " pow2=" << p2 << " te=" << te);
        CHECK(false);
      }
    }
    CHECK_MESSAGE(bad == 0, std::string(name));
  };
  run(fmt::e4m3{}, "e4m3");
  run(fmt::e5m2{}, "e5m2");
  run(fmt::e2m1{}, "e2m1");
  run(fmt::e3m2{}, "e3m2");
  run(fmt::bf16{}, "bf16");
}

TEST_CASE("compute_scale: fractional margin") {
  const float s = compute_scale<fmt::e4m3>(3.0f, tensor_scaling{0.5f, false});
  const float target = 448.0f * std::exp2(-0.5f);
  CHECK(static_cast<double>(3.0f) * s <= static_cast<double>(target));
  CHECK(static_cast<double>(3.0f) * next_up(s) > static_cast<double>(target));
}

TEST_CASE("compute_scale: fall-backs to the previous scale") {
  for (float a : {0.0f, -0.0f, -1.0f, qnan, -qnan, inf, -inf}) {
    CAPTURE(a);
    CHECK(compute_scale<fmt::e4m3>(a) == 1.0f);
    CHECK(compute_scale<fmt::e4m3>(a, {}, 3.5f) == 3.5f);
  }
  // amax so small that 448 / amax overflows float (subnormal and normal cases).
  CHECK(compute_scale<fmt::e4m3>(1e-40f, {}, 3.5f) == 3.5f);
  CHECK(compute_scale<fmt::e4m3>(1e-38f, {}, 3.5f) == 3.5f);
  CHECK(compute_scale<fmt::e4m3>(2e-36f, {}, 3.5f) != 3.5f);  // 2.24e38: still a float
  // Margins that make the target 0, Inf or NaN.
  CHECK(compute_scale<fmt::e4m3>(1.0f, tensor_scaling{300.0f, false}, 3.5f) == 3.5f);
  CHECK(compute_scale<fmt::e4m3>(1.0f, tensor_scaling{-300.0f, false}, 3.5f) == 3.5f);
  CHECK(compute_scale<fmt::e4m3>(1.0f, tensor_scaling{qnan, false}, 3.5f) == 3.5f);
  CHECK(compute_scale<fmt::e4m3>(1.0f, tensor_scaling{1e9f, false}, 3.5f) == 3.5f);
}

TEST_CASE("delayed_scaling: history window, max vs most_recent, scripted") {
  const float seq[] = {1.0f, 4.0f, 2.0f, 8.0f, 0.5f, 0.25f, 0.125f};
  const float want_max[] = {1.0f, 4.0f, 4.0f, 8.0f, 8.0f, 8.0f, 0.5f};
  delayed_scaling dmax(3, {}, amax_compute::max);
  delayed_scaling drec(3, {}, amax_compute::most_recent);
  CHECK(dmax.amax() == 0.0f);
  CHECK(dmax.scale<fmt::e4m3>(7.0f) == 7.0f);  // nothing recorded: previous
  for (int i = 0; i < 7; ++i) {
    dmax.record(seq[i]);
    drec.record(seq[i]);
    CAPTURE(i);
    CHECK(dmax.amax() == want_max[i]);
    CHECK(drec.amax() == seq[i]);
    CHECK(dmax.scale<fmt::e4m3>() == compute_scale<fmt::e4m3>(want_max[i]));
    CHECK(drec.scale<fmt::e4m3>() == compute_scale<fmt::e4m3>(seq[i]));
  }
  CHECK(dmax.history() == std::vector<float>{0.5f, 0.25f, 0.125f});
  CHECK(dmax.size() == 3);
  CHECK(dmax.latest() == 0.125f);
  // The margin and power-of-two options are applied.
  delayed_scaling dm(2, tensor_scaling{1.0f, true}, amax_compute::max);
  dm.record(3.0f);
  CHECK(dm.scale<fmt::e4m3>() == 64.0f);  // largest 2^k with 3 * 2^k <= 224
  dm.reset();
  CHECK(dm.size() == 0);
  CHECK(dm.amax() == 0.0f);
}

TEST_CASE("delayed_scaling: a non-finite amax freezes the scale while in the window") {
  for (float bad : {inf, qnan}) {
    CAPTURE(bad);
    delayed_scaling dmax(3, {}, amax_compute::max);
    delayed_scaling drec(3, {}, amax_compute::most_recent);
    float smax = 1.0f, srec = 1.0f;
    const float seq[] = {2.0f, bad, 4.0f, 4.0f, 4.0f, 4.0f};
    const float want_max[] = {224.0f, 224.0f, 224.0f, 224.0f, 112.0f, 112.0f};
    const float want_rec[] = {224.0f, 224.0f, 112.0f, 112.0f, 112.0f, 112.0f};
    for (int i = 0; i < 6; ++i) {
      dmax.record(seq[i]);
      drec.record(seq[i]);
      if (i >= 1 && i <= 3) {
        const bool same = std::isnan(bad) ? std::isnan(dmax.amax()) : dmax.amax() == inf;
        CHECK(same);
      }
      if (i == 1) {
        const bool same = std::isnan(bad) ? std::isnan(drec.amax()) : drec.amax() == inf;
        CHECK(same);
      }
      smax = dmax.scale<fmt::e4m3>(smax);
      srec = drec.scale<fmt::e4m3>(srec);
      CAPTURE(i);
      CHECK(smax == want_max[i]);
      CHECK(srec == want_rec[i]);
    }
  }
}

// =============================================================================
// MX block scaling
// =============================================================================

static_assert(e8m0_value(0) == 0x1p-127f && e8m0_value(127) == 1.0f && e8m0_value(254) == 0x1p127f);
static_assert(mx_scale<fmt::e4m3>(448.0f) == 127 && mx_scale<fmt::e2m1>(6.0f, e8m0_rounding::ceil) == 128);
static_assert(mx_scale<fmt::e4m3>(0.0f) == 0 && mx_scale<fmt::e4m3>(inf) == 0xFF);

TEST_CASE("e8m0_value") {
  CHECK(e8m0_value(0) == 0x1p-127f);
  CHECK(e8m0_value(1) == 0x1p-126f);
  CHECK(e8m0_value(127) == 1.0f);
  CHECK(e8m0_value(128) == 2.0f);
  CHECK(e8m0_value(254) == 0x1p127f);
  CHECK(std::isnan(e8m0_value(255)));
}

namespace {
struct mx_case {
  float amax;
  int floor, ceil, nearest, rceil;
};

template <class F>
void check_cases(const char* name, std::initializer_list<mx_case> cases) {
  for (const mx_case& c : cases) {
    INFO(name << " amax=" << c.amax);
    volatile float a = c.amax;
    CHECK(int{mx_scale<F>(a, e8m0_rounding::floor)} == c.floor);
    CHECK(int{mx_scale<F>(a, e8m0_rounding::ceil)} == c.ceil);
    CHECK(int{mx_scale<F>(a, e8m0_rounding::nearest_even)} == c.nearest);
    CHECK(int{mx_scale<F>(a, e8m0_rounding::rceil)} == c.rceil);
    CHECK(int{mx_scale<F>(-a, e8m0_rounding::floor)} == c.floor);  // sign ignored
  }
}
}  // namespace

TEST_CASE("mx_scale: hand-computed codes, four rules, five OCP element formats") {
  // e4m3: emax 8, max 448 = 1.75 * 2^8. Code = 127 + E - 8.
  check_cases<fmt::e4m3>("e4m3", {
      {448.0f, 127, 128, 128, 127},           // 1.75*2^8: nearest goes up; 448/448 = 1
      {256.0f, 127, 127, 127, 127},           // exactly 2^8; 256/448 -> 1
      {0x1.FFFFFEp7f, 126, 127, 127, 127},    // 2^8 - ulp: floor drops a binade
      {384.0f, 127, 128, 128, 127},           // 1.5*2^8 tie, k = 8 even -> 2^9 (code 136 even)
      {768.0f, 128, 129, 128, 128},           // 1.5*2^9 tie, k = 9 odd -> stays 2^9; 768/448 -> 2
      {449.0f, 127, 128, 128, 128},           // just above max: rceil needs 2
      {458752.0f, 137, 138, 138, 137},        // 448*2^10
      {1.0f, 119, 119, 119, 119},             // 1/448 -> 2^-8
      {300.0f, 127, 128, 127, 127},           // below 1.5*2^8
  });
  // e5m2: emax 15, max 57344 = 1.75 * 2^15.
  check_cases<fmt::e5m2>("e5m2", {
      {57344.0f, 127, 128, 128, 127},
      {32768.0f, 127, 127, 127, 127},
      {1.0f, 112, 112, 112, 112},             // 1/57344 -> 2^-15
      {65536.0f, 128, 128, 128, 128},
  });
  // e3m2: emax 4, max 28 = 1.75 * 2^4.
  check_cases<fmt::e3m2>("e3m2", {
      {28.0f, 127, 128, 128, 127},
      {20.0f, 127, 128, 127, 127},            // 1.25*2^4
      {24.0f, 127, 128, 128, 127},            // 1.5*2^4 tie, k = 4 even -> up
      {29.0f, 127, 128, 128, 128},
  });
  // e2m3: emax 2, max 7.5 = 1.875 * 2^2.
  check_cases<fmt::e2m3>("e2m3", {
      {7.5f, 127, 128, 128, 127},
      {6.0f, 127, 128, 128, 127},             // tie, k = 2 even -> up; 6/7.5 -> 1
      {4.0f, 127, 127, 127, 127},
      {8.0f, 128, 128, 128, 128},             // 8/7.5 -> 2
  });
  // e2m1: emax 2, max 6 = 1.5 * 2^2.
  check_cases<fmt::e2m1>("e2m1", {
      {6.0f, 127, 128, 128, 127},             // tie, k = 2 even -> up
      {7.0f, 127, 128, 128, 128},             // floor: 7/1 saturates to 6
      {12.0f, 128, 129, 128, 128},            // 1.5*2^3 tie, k = 3 odd -> stays
      {0.75f, 124, 125, 124, 124},            // 1.5*2^-1 tie, k = -1 odd -> stays; 0.125 = 2^-3
      {1.0f, 125, 125, 125, 125},             // 1/6 -> 2^-2
  });
}

TEST_CASE("mx_scale: zero, Inf and NaN blocks, every rule") {
  for (auto r : {e8m0_rounding::floor, e8m0_rounding::ceil, e8m0_rounding::nearest_even, e8m0_rounding::rceil}) {
    CAPTURE(static_cast<int>(r));
    CHECK(mx_scale<fmt::e4m3>(0.0f, r) == 0);
    CHECK(mx_scale<fmt::e2m1>(-0.0f, r) == 0);
    CHECK(mx_scale<fmt::e4m3>(inf, r) == 0xFF);
    CHECK(mx_scale<fmt::e4m3>(-inf, r) == 0xFF);
    CHECK(mx_scale<fmt::e5m2>(qnan, r) == 0xFF);
  }
  // An all-zero block: every element encodes to 0 and decodes to exactly 0.
  std::vector<float> z(32, 0.0f);
  const std::uint8_t X = mx_scale<fmt::e4m3>(amax(z.data(), z.size()));
  CHECK(X == 0);
  for (float v : z) CHECK(mx_decode_element<fmt::e4m3>(mx_encode_element<fmt::e4m3>(v, X), X) == 0.0f);
  // A block holding an Inf or a NaN: NaN scale, every element decodes to NaN.
  for (float bad : {inf, qnan}) {
    std::vector<float> b = {1.0f, -2.0f, bad, 0.0f};
    const std::uint8_t s = mx_scale<fmt::e2m1>(amax(b.data(), b.size()));
    CHECK(s == 0xFF);
    for (float v : b) CHECK(std::isnan(mx_decode_element<fmt::e2m1>(mx_encode_element<fmt::e2m1>(v, s), s)));
  }
}

TEST_CASE("mx_scale: clamping to [-127, 127] and subnormal amax") {
  // Lower clamp: floor(log2 amax) - 8 below -127.
  CHECK(mx_scale<fmt::e4m3>(0x1p-119f) == 0);      // exactly -127
  CHECK(mx_scale<fmt::e4m3>(0x1p-118f) == 1);
  CHECK(mx_scale<fmt::e4m3>(0x1p-130f) == 0);      // subnormal amax, clamped
  CHECK(mx_scale<fmt::e4m3>(0x1p-149f) == 0);
  CHECK(mx_scale<fmt::e4m3>(0x1p-149f, e8m0_rounding::rceil) == 0);
  CHECK(mx_scale<fmt::e2m1>(0x1p127f, e8m0_rounding::ceil) == 252);  // 127 - 2
  CHECK(mx_scale<fmt::e2m1>(0x1.FFFFFEp127f, e8m0_rounding::ceil) == 253);  // ceil = 128
  // Upper clamp needs emax < 0: tiny has emax -15.
  CHECK(mx_scale<tiny>(0x1p112f) == 254);          // exactly 127
  CHECK(mx_scale<tiny>(0x1p111f) == 253);
  CHECK(mx_scale<tiny>(0x1p120f) == 254);          // 135 -> 127
  CHECK(mx_scale<tiny>(0x1p120f, e8m0_rounding::rceil) == 254);  // quotient overflows float: saturates
  // Subnormal amax read off its leading bit (tiny keeps it off the clamp).
  const float s1 = 0x1p-140f;                      // 2^-140
  const float s2 = 0x1.8p-140f;                    // 1.5 * 2^-140: tie, k = -140 even -> up
  const float s3 = 0x1.Cp-141f;                    // 1.75 * 2^-141
  CHECK(std::fpclassify(s2) == FP_SUBNORMAL);
  CHECK(int{mx_scale<tiny>(s1)} == 127 - 140 + 15);
  CHECK(int{mx_scale<tiny>(s1, e8m0_rounding::ceil)} == 127 - 140 + 15);
  CHECK(int{mx_scale<tiny>(s2)} == 127 - 140 + 15);
  CHECK(int{mx_scale<tiny>(s2, e8m0_rounding::ceil)} == 127 - 139 + 15);
  CHECK(int{mx_scale<tiny>(s2, e8m0_rounding::nearest_even)} == 127 - 139 + 15);
  CHECK(int{mx_scale<tiny>(s3)} == 127 - 141 + 15);
  CHECK(int{mx_scale<tiny>(s3, e8m0_rounding::nearest_even)} == 127 - 140 + 15);
  CHECK(int{mx_scale<tiny>(s3, e8m0_rounding::rceil)} == 1);  // s3 / max = 2^-126 exactly
  CHECK(int{mx_scale<tiny>(0x1p-149f)} == 0);      // -134 clamps
}

namespace {
/// The expected code from std::ilogb / std::frexp and double arithmetic.
template <class F>
int expected_code(float a, e8m0_rounding r) {
  const int k = std::ilogb(a);  // floor(log2 a), subnormals included
  int fe;
  (void)std::frexp(a, &fe);
  REQUIRE(fe - 1 == k);
  const double p = std::ldexp(1.0, k);
  int E = k;
  switch (r) {
    case e8m0_rounding::floor: break;
    case e8m0_rounding::ceil: E = static_cast<double>(a) == p ? k : k + 1; break;
    case e8m0_rounding::nearest_even: {
      const double mid = 1.5 * p;
      if (a > mid) E = k + 1;
      else if (a == mid) E = ((k + 127) % 2 != 0) ? k + 1 : k;  // to the even code
      break;
    }
    case e8m0_rounding::rceil: {
      const float q = a / F::max();
      if (q == 0.0f) return 0;
      if (std::isinf(q)) return 254;
      const int kq = std::ilogb(q);
      const int c = static_cast<double>(q) == std::ldexp(1.0, kq) ? kq : kq + 1;
      return (c < -127 ? -127 : c > 127 ? 127 : c) + 127;
    }
  }
  const int s = E - F::emax;
  return (s < -127 ? -127 : s > 127 ? 127 : s) + 127;
}

template <class F>
void brute_force(const char* name, std::mt19937& g) {
  int bad = 0;
  for (int i = 0; i < 300000; ++i) {
    // Half uniform over bit patterns (every binade), half near the element range.
    const float a = i % 2 ? random_positive(g) : random_in(g, F::emax - 12, F::emax + 12);
    for (auto r : {e8m0_rounding::floor, e8m0_rounding::ceil, e8m0_rounding::nearest_even, e8m0_rounding::rceil}) {
      const int got = mx_scale<F>(a, r), want = expected_code<F>(a, r);
      if (got != want && bad++ < 3) {
        INFO(name << " amax=" << a << " rule=" << static_cast<int>(r) << " got=" << got << " want=" << want);
        CHECK(false);
      }
    }
    // Where encode_e8m0(amax) is not clipped, the three value rules agree with it.
    for (auto r : {e8m0_rounding::floor, e8m0_rounding::ceil, e8m0_rounding::nearest_even}) {
      const int ref = encode_e8m0(a, r);
      if (ref < 1 || ref > 253) continue;
      const int sh = ref - 127 - F::emax;
      const int want = (sh < -127 ? -127 : sh > 127 ? 127 : sh) + 127;
      const int got = mx_scale<F>(a, r);
      if (got != want && bad++ < 3) {
        INFO(name << " vs encode_e8m0 amax=" << a << " rule=" << static_cast<int>(r));
        CHECK(false);
      }
    }
  }
  CHECK_MESSAGE(bad == 0, std::string(name));
}
}  // namespace

TEST_CASE("mx_scale: brute force against ilogb/frexp over random amax") {
  std::mt19937 g(3);
  brute_force<fmt::e4m3>("e4m3", g);
  brute_force<fmt::e5m2>("e5m2", g);
  brute_force<fmt::e3m2>("e3m2", g);
  brute_force<fmt::e2m3>("e2m3", g);
  brute_force<fmt::e2m1>("e2m1", g);
  brute_force<tiny>("tiny", g);
}

namespace {
/// Over random blocks: the range of amax / X under each rule, and whether the
/// element encode saturates.
template <class F>
void check_ranges(const char* name, std::mt19937& g) {
  const double mx = F::max(), top = std::ldexp(1.0, F::emax);
  int floor_over = 0, bad = 0;
  for (int i = 0; i < 100000; ++i) {
    const float a = random_in(g, -60, 60);
    const double fl = a / static_cast<double>(e8m0_value(mx_scale<F>(a, e8m0_rounding::floor)));
    const double ce = a / static_cast<double>(e8m0_value(mx_scale<F>(a, e8m0_rounding::ceil)));
    const double ne = a / static_cast<double>(e8m0_value(mx_scale<F>(a, e8m0_rounding::nearest_even)));
    const double rc = a / static_cast<double>(e8m0_value(mx_scale<F>(a, e8m0_rounding::rceil)));
    floor_over += fl > mx;
    const bool ok = fl >= top && fl < 2 * top &&        // OCP floor: [2^emax, 2^(emax+1))
                    ce > top / 2 && ce <= top &&        // ceil: (2^(emax-1), 2^emax]
                    ne >= 0.75 * top && ne <= 1.5 * top && ne <= mx &&
                    rc <= mx && rc > mx / 2;            // rceil: tight, never above max
    // The element holding amax under floor: never above max, and max whenever amax / X > max.
    const std::uint8_t Xf = mx_scale<F>(a, e8m0_rounding::floor);
    const float y = mx_decode_element<F>(mx_encode_element<F>(a, Xf), Xf) / e8m0_value(Xf);
    const bool sat_ok = y <= F::max() && (fl <= mx || y == F::max());
    if (!(ok && sat_ok) && bad++ < 3) {
      INFO(name << " amax=" << a << " floor=" << fl << " ceil=" << ce << " nearest=" << ne << " rceil=" << rc);
      CHECK(false);
    }
  }
  CHECK_MESSAGE(bad == 0, std::string(name));
  MESSAGE(std::string(name) << ": OCP floor put amax above max_elem (saturating) in " << floor_over << " of 100000 blocks");
  CHECK(floor_over > 0);
}
}  // namespace

TEST_CASE("mx: element range after scaling (floor may saturate, rceil never exceeds max)") {
  std::mt19937 g(4);
  check_ranges<fmt::e4m3>("e4m3", g);
  check_ranges<fmt::e5m2>("e5m2", g);
  check_ranges<fmt::e3m2>("e3m2", g);
  check_ranges<fmt::e2m3>("e2m3", g);
  check_ranges<fmt::e2m1>("e2m1", g);
}

namespace {
template <class F, rounding R>
int element_mismatches(std::mt19937& g) {
  int bad = 0;
  for (int i = 0; i < 60000; ++i) {
    const float x = (g() & 1 ? -1.0f : 1.0f) * (i % 3 ? random_in(g, -140, 40) : random_positive(g));
    const std::uint8_t X = static_cast<std::uint8_t>(g() % 255);  // any finite scale
    const std::uint32_t w = static_cast<std::uint32_t>(g());
    const double q = static_cast<double>(x) / std::ldexp(1.0, X - 127);  // exact
    const auto want = encode<F, R, overflow::saturate>(q, w);
    const auto got = mx_encode_element<F, R>(x, X, w);
    if (want != got && bad++ < 3) {
      INFO("x=" << x << " X=" << int{X} << " got=" << int(got) << " want=" << int(want));
      CHECK(false);
    }
  }
  return bad;
}
}  // namespace

TEST_CASE("mx_encode_element: x / X is exact and rounded once (all modes, subnormals)") {
  std::mt19937 g(5);
  CHECK(element_mismatches<fmt::e4m3, rounding::nearest_even>(g) == 0);
  CHECK(element_mismatches<fmt::e4m3, rounding::upward>(g) == 0);
  CHECK(element_mismatches<fmt::e4m3, rounding::toward_zero>(g) == 0);
  CHECK(element_mismatches<fmt::e2m1, rounding::stochastic>(g) == 0);
  CHECK(element_mismatches<fmt::e5m2, rounding::downward>(g) == 0);
  CHECK(element_mismatches<fmt::bf16, rounding::stochastic>(g) == 0);  // a wide element: subnormal quotients matter
  CHECK(element_mismatches<fmt::bf16, rounding::nearest_away>(g) == 0);
  // -0 stays -0; a tiny x under a large scale rounds (upward) to the smallest subnormal, not 0.
  CHECK(mx_encode_element<fmt::e4m3>(-0.0f, 127) == 0x80);
  CHECK(mx_encode_element<fmt::e4m3, rounding::upward>(0x1p-149f, 254) == 0x01);
  CHECK(mx_encode_element<fmt::bf16, rounding::upward>(0x1p-149f, 140) == 0x0001);
}

TEST_CASE("mx: quantize/dequantize a block") {
  // Block of e4m3 values times 2^k is reproduced exactly with any rule whose
  // amax / X stays within range; floor: amax 448 * 2^5 -> X = 2^5.
  std::vector<float> v = {448.0f, -1.0f, 0.5f, 3.25f, -0.001953125f, 0.0f, -240.0f};
  for (float& e : v) e *= 32.0f;
  const std::uint8_t X = mx_scale<fmt::e4m3>(amax(v.data(), v.size()));
  CHECK(X == 127 + 5);
  for (float e : v) CHECK(mx_decode_element<fmt::e4m3>(mx_encode_element<fmt::e4m3>(e, X), X) == e);
  // e2m1: floor keeps X = 1, so 7 and 6.5 saturate to 6; rceil picks X = 2:
  // 7/2 = 3.5 ties to 4 (even), decoding to 8; -3/2 = -1.5 is exact.
  const float w[] = {7.0f, 6.5f, 1.0f, -3.0f};
  const std::uint8_t Xf = mx_scale<fmt::e2m1>(amax(w, 4));
  const std::uint8_t Xr = mx_scale<fmt::e2m1>(amax(w, 4), e8m0_rounding::rceil);
  CHECK(Xf == 127);
  CHECK(Xr == 128);
  CHECK(mx_decode_element<fmt::e2m1>(mx_encode_element<fmt::e2m1>(7.0f, Xf), Xf) == 6.0f);
  CHECK(mx_decode_element<fmt::e2m1>(mx_encode_element<fmt::e2m1>(6.5f, Xf), Xf) == 6.0f);
  CHECK(mx_decode_element<fmt::e2m1>(mx_encode_element<fmt::e2m1>(7.0f, Xr), Xr) == 8.0f);
  CHECK(mx_decode_element<fmt::e2m1>(mx_encode_element<fmt::e2m1>(-3.0f, Xr), Xr) == -3.0f);
  // mx_block_scales: two full blocks and a partial one.
  std::vector<float> x(70, 1.0f);
  x[33] = 448.0f;
  x[69] = -0x1p-20f;
  for (std::size_t i = 64; i < 69; ++i) x[i] = 0.0f;
  std::uint8_t s[3];
  mx_block_scales<fmt::e4m3>(x.data(), x.size(), s);
  CHECK(s[0] == 119);
  CHECK(s[1] == 127);
  CHECK(s[2] == 127 - 20 - 8);
  mx_block_scales<fmt::e4m3>(x.data(), x.size(), s, e8m0_rounding::rceil, 35);
  CHECK(s[0] == mx_scale<fmt::e4m3>(448.0f, e8m0_rounding::rceil));
  CHECK(s[1] == mx_scale<fmt::e4m3>(1.0f, e8m0_rounding::rceil));
}

// =============================================================================
// NVFP4
// =============================================================================

static_assert(nvfp4_tensor_scale(2688.0f) == 1.0f && nvfp4_tensor_scale(0.0f) == 1.0f);
static_assert(nvfp4_block_scale(6.0f, 1.0f) == 0x38 && nvfp4_block_scale(2688.0f, 1.0f) == 0x7E);

TEST_CASE("nvfp4: tensor scale and fall-backs") {
  CHECK(nvfp4_tensor_scale(2688.0f) == 1.0f);
  CHECK(nvfp4_tensor_scale(10752.0f) == 4.0f);
  CHECK(nvfp4_tensor_scale(1.0f) == 1.0f / 2688.0f);
  for (float a : {0.0f, -0.0f, -5.0f, inf, -inf, qnan}) {
    CAPTURE(a);
    CHECK(nvfp4_tensor_scale(a) == 1.0f);
  }
  CHECK(nvfp4_tensor_scale(0x1p-149f) == 1.0f);                     // quotient underflows to 0
  CHECK(nvfp4_tensor_scale(1e-40f) == 1e-40f / 2688.0f);            // a subnormal scale is kept
  CHECK(nvfp4_tensor_scale(1e-40f) > 0.0f);
}

TEST_CASE("nvfp4: hand-checked block scales and elements") {
  // s_t = 1: block scale = RNE(amax_b / 6) in ue4m3.
  CHECK(nvfp4_block_scale(6.0f, 1.0f) == 0x38);       // 1.0 = 2^0: exponent field 7
  CHECK(nvfp4_block_scale(2688.0f, 1.0f) == 0x7E);    // 448
  CHECK(nvfp4_block_scale(3000.0f, 1.0f) == 0x7E);    // 500 saturates
  CHECK(nvfp4_block_scale(0.0f, 1.0f) == 0x00);
  CHECK(nvfp4_block_scale(inf, 1.0f) == 0x7E);
  CHECK(nvfp4_block_scale(qnan, 1.0f) == 0x7F);
  CHECK(nvfp4_block_scale(0.006f, 1.0f) == 0x01);     // 0.001 > 2^-10: rounds up to 2^-9
  CHECK(nvfp4_block_scale(0.005f, 1.0f) == 0x00);     // 0.00083 < 2^-10: 0
  CHECK(nvfp4_block_scale(27.0f, 1.0f) == 0x49);      // 4.5 = 1.125 * 2^2: exact
  CHECK(nvfp4_block_scale(100.0f, 4.0f) == 0x48);     // 100/24 = 4.1667 -> 4
  for (float t : {0.0f, -1.0f, inf, qnan}) CHECK(nvfp4_block_scale(1.0f, t) == 0x7F);
  // One rounding: with s_t = 1 + 2^-23, 6 s_t is not a float (it rounds up to
  // 6 + 2^-20); amax_b = 6.375 + 2^-20 puts amax_b / (6 s_t) just above the
  // midpoint 1.0625 (-> 1.125), while amax_b / float(6 s_t) is not above it.
  CHECK(nvfp4_block_scale(6.375f + 0x1p-20f, 1.0f + 0x1p-23f) == 0x39);
  // A block with scale 1 and s_t = 1: elements are plain e2m1 RNE.
  const float x[] = {6.0f, -3.0f, 1.5f, 0.5f, 0.0f, -0.25f, 2.0f, 4.0f, 5.0f, 0.75f, -7.0f, 2.5f};
  const std::uint8_t want[] = {0x7, 0xD, 0x3, 0x1, 0x0, 0x8, 0x4, 0x6, 0x6, 0x2, 0xF, 0x4};
  const float st = nvfp4_tensor_scale(2688.0f);
  const std::uint8_t b = nvfp4_block_scale(amax(x, 12), st);
  CHECK(b == 0x39);  // amax 7 -> 7/6 = 1.1667 -> 1.125
  const std::uint8_t b1 = 0x38;
  for (int i = 0; i < 12; ++i) {
    CAPTURE(i);
    CHECK(int{nvfp4_encode_element(x[i], b1, st)} == int{want[i]});
  }
  // s_t = 4, block amax = tensor amax = 10752: scale 448, element 6.
  CHECK(nvfp4_block_scale(10752.0f, 4.0f) == 0x7E);
  CHECK(nvfp4_encode_element(10752.0f, 0x7E, 4.0f) == 0x7);
  CHECK(nvfp4_decode_element(0x7, 0x7E, 4.0f) == 10752.0f);
  CHECK(nvfp4_decode_scale(0x7E, 4.0f) == 1792.0f);
  // Zero and NaN block scales.
  CHECK(nvfp4_encode_element(3.0f, 0x00, 1.0f) == 0x0);
  CHECK(nvfp4_encode_element(-3.0f, 0x00, 1.0f) == 0x8);
  CHECK(nvfp4_decode_element(0x7, 0x00, 1.0f) == 0.0f);
  CHECK(std::isnan(nvfp4_decode_element(nvfp4_encode_element(3.0f, 0x7F, 1.0f), 0x7F, 1.0f)));
}

TEST_CASE("nvfp4: reconstruction error, tensor amax exact-ish, agreement with TE's float formula") {
  std::mt19937 g(6);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::uniform_int_distribution<int> mag(-30, 30);
  int bad = 0, te_block_diff = 0, te_elem_diff = 0, blocks = 0, elems = 0;
  for (int t = 0; t < 400; ++t) {
    std::vector<float> x(16 * 64 + 5);  // a partial last block
    const float base = std::ldexp(1.0f, mag(g));
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = nd(g) * base * (i % 16 == 3 ? 8.0f : 1.0f);
    const float at = amax(x.data(), x.size());
    const float st = nvfp4_tensor_scale(at);
    std::vector<std::uint8_t> bs((x.size() + 15) / 16);
    nvfp4_block_scales(x.data(), x.size(), st, bs.data());
    // TE's formula, in float.
    const float s_enc = std::fmin(2688.0f / at, std::numeric_limits<float>::max());
    const float s_dec = 1.0f / s_enc;
    for (std::size_t blk = 0; blk < bs.size(); ++blk) {
      const std::size_t lo = blk * 16, len = std::min<std::size_t>(16, x.size() - lo);
      const float ab = amax(x.data() + lo, len);
      ++blocks;
      const std::uint8_t te_b =
          encode<fmt::ue4m3, rounding::nearest_even, overflow::saturate>(ab * (s_enc * (1.0f / 6.0f)));
      te_block_diff += te_b != bs[blk];
      // The block scale is the RNE of amax_b / (6 s_t) (relative error <= 2^-4 for normals).
      const double ideal = static_cast<double>(ab) / (6.0 * st);
      const double got = decode<fmt::ue4m3>(bs[blk]);
      if (ideal >= 0x1p-6 && std::fabs(got - ideal) > ideal / 16.0 && bad++ < 3) {
        INFO("block scale " << got << " ideal " << ideal);
        CHECK(false);
      }
      const double S = got * st;  // exact in double
      const float te_rcp = std::fmin(1.0f / (decode<fmt::ue4m3>(te_b) * s_dec), std::numeric_limits<float>::max());
      for (std::size_t i = lo; i < lo + len; ++i) {
        ++elems;
        const std::uint8_t c = nvfp4_encode_element(x[i], bs[blk], st);
        const float y = nvfp4_decode_element(c, bs[blk], st);
        te_elem_diff += te_b == bs[blk] &&
                        encode<fmt::e2m1, rounding::nearest_even, overflow::saturate>(x[i] * te_rcp) != c;
        // Expected error: half an e2m1 spacing at |x| / S, or the saturation excess above 6.
        const double e = std::fabs(static_cast<double>(x[i])) / S;
        const double spacing = e < 2 ? 0.5 : e < 4 ? 1.0 : 2.0;
        const double bound = (e > 6 ? e - 6 : spacing / 2) * S;
        const double err = std::fabs(static_cast<double>(y) - static_cast<double>(x[i]));
        // + the final rounding of the exact product to float.
        if (!(S > 0 && err <= bound + std::fabs(static_cast<double>(y)) * 0x1p-24) && bad++ < 3) {
          INFO("x=" << x[i] << " y=" << y << " S=" << S << " bound=" << bound);
          CHECK(false);
        }
      }
    }
    // The element holding the tensor amax: block scale 448, element 6, decodes back to amax.
    std::size_t imax = 0;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (std::fabs(x[i]) == at) imax = i;
    const std::uint8_t bmax = bs[imax / 16];
    CHECK(bmax == 0x7E);
    const float y = nvfp4_decode_element(nvfp4_encode_element(x[imax], bmax, st), bmax, st);
    CHECK(std::fabs(std::fabs(y) - at) <= at * 0x1p-23f);
  }
  CHECK(bad == 0);
  MESSAGE("NVFP4 vs TE float formula: " << te_block_diff << " of " << blocks << " block scales and "
                                        << te_elem_diff << " of " << elems << " element codes differ");
  CHECK(te_block_diff * 1000 <= blocks);
  CHECK(te_elem_diff * 1000 <= elems);
}

// =============================================================================
// 2-D tiles
// =============================================================================

static_assert(tile_shape{5, 7, 2, 3}.count() == 9 && tile_shape{5, 7, 2, 3}.tile(8).rows == 1 &&
              tile_shape{5, 7, 2, 3}.tile(8).cols == 1);

TEST_CASE("tile_shape: counts and edge tiles") {
  const tile_shape s{5, 7, 2, 3};
  CHECK(s.tiles_down() == 3);
  CHECK(s.tiles_across() == 3);
  const tile_rect r4 = s.tile(4);
  CHECK((r4.row == 2 && r4.col == 3 && r4.rows == 2 && r4.cols == 3));
  const tile_rect r5 = s.tile(5);
  CHECK((r5.row == 2 && r5.col == 6 && r5.rows == 2 && r5.cols == 1));
  const tile_rect r8 = s.tile(8);
  CHECK((r8.row == 4 && r8.col == 6 && r8.rows == 1 && r8.cols == 1));
  CHECK(tile_shape{128, 256, 128, 128}.count() == 2);
  CHECK(tile_shape{0, 7, 2, 3}.count() == 0);
}

TEST_CASE("tile_amax: against a brute-force reference, partial tiles, NaN") {
  std::mt19937 g(7);
  std::normal_distribution<float> nd(0.0f, 3.0f);
  for (const tile_shape s : {tile_shape{5, 7, 2, 3}, tile_shape{33, 65, 16, 16}, tile_shape{16, 16, 16, 16},
                             tile_shape{1, 100, 1, 32}, tile_shape{17, 3, 32, 32}}) {
    std::vector<float> x(s.rows * s.cols);
    for (auto& e : x) e = nd(g);
    x[x.size() / 2] = qnan;
    std::vector<float> out(s.count(), -1.0f);
    tile_amax(x.data(), s, out.data());
    for (std::size_t t = 0; t < s.count(); ++t) {
      float ref = 0.0f;
      bool nan = false;
      for (std::size_t i = 0; i < s.rows; ++i)
        for (std::size_t j = 0; j < s.cols; ++j)
          if (i / s.tile_rows * s.tiles_across() + j / s.tile_cols == t) {
            const float v = x[i * s.cols + j];
            nan |= std::isnan(v);
            ref = std::fabs(v) > ref ? std::fabs(v) : ref;
          }
      CAPTURE(t);
      if (nan) CHECK(std::isnan(out[t]));
      else CHECK(out[t] == ref);
    }
  }
}

// =============================================================================
// Argument checks
// =============================================================================

TEST_CASE("host functions reject null pointers, zero sizes and overflow") {
  const float x[4] = {1, 2, 3, 4};
  float out[4];
  std::uint8_t codes[4];
  CHECK_THROWS_AS(amax(static_cast<const float*>(nullptr), 1), std::invalid_argument);
  CHECK_THROWS_AS(amax(static_cast<const bf16*>(nullptr), 3), std::invalid_argument);
  CHECK_THROWS_AS(block_amax(x, 4, 0, out), std::invalid_argument);
  CHECK_THROWS_AS(block_amax(nullptr, 4, 2, out), std::invalid_argument);
  CHECK_THROWS_AS(block_amax(x, 4, 2, nullptr), std::invalid_argument);
  CHECK_NOTHROW(block_amax(nullptr, 0, 2, nullptr));
  CHECK_THROWS_AS(mx_block_scales<fmt::e4m3>(x, 4, codes, e8m0_rounding::floor, 0), std::invalid_argument);
  CHECK_THROWS_AS(mx_block_scales<fmt::e4m3>(nullptr, 4, codes), std::invalid_argument);
  CHECK_THROWS_AS(mx_block_scales<fmt::e4m3>(x, 4, nullptr), std::invalid_argument);
  CHECK_THROWS_AS(nvfp4_block_scales(x, 4, 1.0f, codes, 0), std::invalid_argument);
  CHECK_THROWS_AS(nvfp4_block_scales(nullptr, 4, 1.0f, codes), std::invalid_argument);
  CHECK_THROWS_AS(nvfp4_block_scales(x, 4, 0.0f, codes), std::invalid_argument);
  CHECK_THROWS_AS(nvfp4_block_scales(x, 4, qnan, codes), std::invalid_argument);
  CHECK_THROWS_AS(nvfp4_block_scales(x, 4, inf, codes), std::invalid_argument);
  CHECK_THROWS_AS(tile_amax(x, tile_shape{2, 2, 0, 1}, out), std::invalid_argument);
  CHECK_THROWS_AS(tile_amax(x, tile_shape{2, 2, 1, 0}, out), std::invalid_argument);
  CHECK_THROWS_AS(tile_amax(nullptr, tile_shape{2, 2, 1, 1}, out), std::invalid_argument);
  CHECK_THROWS_AS(tile_amax(x, tile_shape{2, 2, 1, 1}, nullptr), std::invalid_argument);
  const std::size_t big = std::numeric_limits<std::size_t>::max() / 2 + 1;
  CHECK_THROWS_AS(tile_amax(x, tile_shape{big, 2, 1, 1}, out), std::invalid_argument);
  CHECK_NOTHROW(tile_amax(nullptr, tile_shape{0, 5, 1, 1}, nullptr));
  CHECK_THROWS_AS(delayed_scaling(0), std::invalid_argument);
  CHECK_THROWS_AS(delayed_scaling(4, tensor_scaling{qnan, false}), std::invalid_argument);
  CHECK_THROWS_AS(delayed_scaling(4, tensor_scaling{inf, false}), std::invalid_argument);
  delayed_scaling d(4);
  CHECK_THROWS_AS(d.record(-1.0f), std::invalid_argument);
  CHECK_THROWS_AS(d.record(-inf), std::invalid_argument);
  CHECK_NOTHROW(d.record(-0.0f));
  CHECK_NOTHROW(d.record(qnan));
  try {
    block_amax(x, 4, 0, out);
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("pqt::block_amax") != std::string::npos);
  }
}

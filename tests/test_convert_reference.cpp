// Exhaustive differential test: every code of every format in the matrix
// (E 1..8 x M 0..7 x each encoding, signed and unsigned, plus the named
// formats <= 16 bits) against the independent slow reference in
// tests/reference/slow_reference.hpp, under every rounding mode and both
// overflow policies. PQT_OPTIMIZE (build at -O2: this is ~10^8 checks).
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <sstream>

#include <pqt/runtime.hpp>

#include "support/matrix.hpp"

namespace {

using pqt::overflow;
using pqt::rounding;
using pqt_test::matrix_entry;

const std::vector<matrix_entry>& matrix() {
  static const std::vector<matrix_entry> m = pqt_test::format_matrix();
  return m;
}

/// The matrix the value-by-value comparisons visit (every format but under
/// AddressSanitizer: support/matrix.hpp).
const std::vector<matrix_entry>& checked() {
  static const std::vector<matrix_entry> m = pqt_test::checked_matrix();
  return m;
}

bool same_bits(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return a == b && std::signbit(a) == std::signbit(b);
}

/// Collects the first few mismatches across threads for a readable report.
struct failures {
  std::atomic<std::uint64_t> count{0};
  std::mutex mu;
  std::vector<std::string> first;
  void add(const std::string& s) {
    if (count.fetch_add(1) < 20) {
      std::lock_guard<std::mutex> l(mu);
      first.push_back(s);
    }
  }
  void report() {
    for (const auto& s : first) MESSAGE(s);
    CHECK(count.load() == 0);
  }
};

std::string describe(const pqt::format_desc& d, double x, int mode, bool sat, int k, std::uint32_t r,
                     std::uint32_t got, std::uint32_t want) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s (bias %d): x=%a mode=%s %s k=%d r=0x%x: got 0x%x want 0x%x",
                d.name().c_str(), d.bias(), x, pqt::to_string(static_cast<rounding>(mode)),
                sat ? "saturate" : "nonsaturating", k, r, got, want);
  return buf;
}

}  // namespace

TEST_CASE("the matrix covers every encoding and rejects only impossible formats") {
  std::vector<std::string> invalid;
  const auto m = pqt_test::format_matrix(&invalid);
  CHECK(m.size() > 400);
  // Expected rejections, derived independently: E1M0 ieee/fn have no positive
  // finite value; E8 fn (M >= 1) and E8 finite with the default bias 127 have
  // a top binade at 2^128, which is not a float.
  std::size_t want = 0;
  for (int e = 1; e <= 8; ++e)
    for (int mm = 0; mm <= 7; ++mm) {
      if (e == 1 && mm == 0) want += 4;               // ieee, fn x signed, unsigned
      if (e == 8 && mm >= 1) want += 2;               // fn x signed, unsigned
      if (e == 8) want += 2;                          // finite x signed, unsigned
    }
  CHECK(invalid.size() == want);
  for (const auto& s : invalid)
    CHECK((s.find("no positive finite value") != std::string::npos ||
           s.find("above float's range") != std::string::npos));
}

TEST_CASE("decode matches the reference on every code; codes are monotone; decode->encode is the identity") {
  failures fail;
  pqt_test::parallel_for(matrix().size(), [&](std::size_t i) {
    const auto& [d, ref] = matrix()[i];
    const std::uint64_t n = d.code_count();
    for (std::uint64_t c = 0; c < n; ++c) {
      const double want = pqt_ref::decode(ref, static_cast<std::uint32_t>(c));
      const float got = d.decode(static_cast<std::uint32_t>(c));
      if (!same_bits(got, want)) {
        fail.add(d.name() + ": decode 0x" + std::to_string(c) + " = " + std::to_string(got));
        continue;
      }
      if (std::isnan(want)) continue;
      for (int mode = 0; mode <= 6; ++mode)
        for (auto o : {overflow::saturate, overflow::nonsaturating}) {
          const std::uint32_t r = static_cast<std::uint32_t>(c * 2654435761u);
          const std::uint32_t back = d.encode(got, static_cast<rounding>(mode), o, r, 32);
          // Saturation turns Inf into +-max; everything else comes back as itself.
          const std::uint32_t expect = std::isinf(want) && o == overflow::saturate
                                           ? (d.max_code() | (c & d.sign_mask()))
                                           : static_cast<std::uint32_t>(c);
          if (back != expect)
            fail.add(describe(d, got, mode, o == overflow::saturate, 32, r, back, static_cast<std::uint32_t>(c)));
        }
    }
    // Monotone: magnitude codes 0..max strictly increasing, their negatives decreasing.
    float prev = -INFINITY;
    for (std::uint32_t c = 0; c <= d.max_code(); ++c) {
      const float v = d.decode(c);
      if (!(v > prev) && !(c == 0)) fail.add(d.name() + ": not monotone at 0x" + std::to_string(c));
      if (d.is_signed() && !(c == 0 && !d.has_negative_zero()) && d.decode(c | d.sign_mask()) != -v)
        fail.add(d.name() + ": negative code not the mirror at 0x" + std::to_string(c));
      prev = v;
    }
  });
  fail.report();
}

TEST_CASE("every mode and overflow policy matches the reference at every value, midpoint and +-1 float ulp") {
  failures fail;
  std::atomic<std::uint64_t> checks{0};
  pqt_test::parallel_for(checked().size(), [&](std::size_t i) {
    const auto& d = checked()[i].desc;  // not a structured binding: the lambda below captures it (C++17)
    const auto& ref = checked()[i].ref;
    const pqt_ref::table& tab = pqt_ref::cached_table(ref);
    const auto inputs = pqt_test::probe_inputs(d);
    const auto mags = pqt_test::magnitudes(d);
    const double spacing_top = std::ldexp(1.0, d.emax() - d.mantissa_bits());
    std::uint64_t local = 0;
    auto check_one = [&](double x, int mode, bool sat, int k, std::uint32_t r) {
      const overflow o = sat ? overflow::saturate : overflow::nonsaturating;
      const std::uint32_t want = tab.encode(x, mode, sat, k, r);
      const std::uint32_t got_f = d.encode(static_cast<float>(x), static_cast<rounding>(mode), o, r, k);
      const std::uint32_t got_d = d.encode(x, static_cast<rounding>(mode), o, r, k);
      ++local;
      if (got_f != want) fail.add(describe(d, x, mode, sat, k, r, got_f, want) + " [float]");
      if (got_d != want) fail.add(describe(d, x, mode, sat, k, r, got_d, want) + " [double]");
    };
    for (const float xf : inputs) {
      const double x = xf;
      for (bool sat : {true, false}) {
        for (int mode = 0; mode <= 5; ++mode) check_one(x, mode, sat, 32, 0);
        // Stochastic: every word for small k; for k = 32 the extremes and the
        // two words either side of the threshold 2^k - t_k.
        for (std::uint32_t r = 0; r < 2; ++r) check_one(x, 6, sat, 1, r | 0xFFFFFFFEu * (r & 1));
        for (std::uint32_t r = 0; r < 8; ++r) check_one(x, 6, sat, 3, r | (0xABCDEF00u & ~7u));
        for (std::uint32_t r : {0u, 1u, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu}) check_one(x, 6, sat, 32, r);
        const double a = std::fabs(x);
        if (std::isfinite(a) && a > 0) {
          // Neighbours from the decoded table (decode is checked against the reference above).
          auto it = std::upper_bound(mags.begin(), mags.end(), a);
          if (it != mags.begin()) {
            const double lo = *(it - 1);
            const double hi = it != mags.end() ? *it : lo + spacing_top;
            if (a < hi && a > lo) {
              const auto tk = static_cast<std::uint64_t>(std::floor((a - lo) / (hi - lo) * 0x1p32));
              const std::uint64_t thr = (std::uint64_t{1} << 32) - tk;  // r >= thr rounds up
              if (thr <= 0xFFFFFFFFu) check_one(x, 6, sat, 32, static_cast<std::uint32_t>(thr));
              check_one(x, 6, sat, 32, static_cast<std::uint32_t>(thr - 1));
            }
          }
        }
      }
    }
    checks += local;
  });
  MESSAGE("checks: " << checks.load() << " (each float and double input)");
  fail.report();
}

TEST_CASE("double input rounds once: midpoints computed in double +-1 double ulp") {
  failures fail;
  pqt_test::parallel_for(checked().size(), [&](std::size_t i) {
    const auto& [d, ref] = checked()[i];
    const pqt_ref::table& tab = pqt_ref::cached_table(ref);
    const auto mags = pqt_test::magnitudes(d);
    const double spacing_top = std::ldexp(1.0, d.emax() - d.mantissa_bits());
    for (std::size_t j = 0; j < mags.size(); ++j) {
      const double lo = mags[j], hi = j + 1 < mags.size() ? mags[j + 1] : lo + spacing_top;
      const double mid = (lo + hi) / 2;
      // The float nearest to mid +- 1 double ulp is mid itself: a conversion
      // through float would see a tie and round it to even; a single rounding
      // of the double must not.
      for (double x : {std::nextafter(mid, 0.0), mid, std::nextafter(mid, INFINITY)})
        for (double sx : {x, -x})
          for (int mode = 0; mode <= 5; ++mode)
            for (bool sat : {true, false}) {
              const std::uint32_t want = tab.encode(sx, mode, sat);
              const std::uint32_t got =
                  d.encode(sx, static_cast<rounding>(mode), sat ? overflow::saturate : overflow::nonsaturating);
              if (got != want) fail.add(describe(d, sx, mode, sat, 32, 0, got, want) + " [double]");
            }
    }
  });
  fail.report();
}

TEST_CASE("convert<To, From> rounds once: every code of the wider format, every mode") {
  failures fail;
  auto pair = [&](auto to_tag, auto from_tag) {
    using To = decltype(to_tag);
    using From = decltype(from_tag);
    const auto to = pqt::format_desc::of<To>(), from = pqt::format_desc::of<From>();
    const pqt_ref::table& tab = pqt_ref::cached_table(pqt_test::to_ref(to));
    for (std::uint64_t c = 0; c < from.code_count(); ++c) {
      const auto bits = static_cast<pqt::storage_t<From>>(c);
      const double x = pqt_ref::decode(pqt_test::to_ref(from), bits);
      auto one = [&](auto mode_tag, auto ovf_tag) {
        constexpr rounding R = decltype(mode_tag)::value;
        constexpr overflow O = decltype(ovf_tag)::value;
        const std::uint32_t got = pqt::convert<To, From, R, O>(bits, 0x9E3779B9u);
        const std::uint32_t want = tab.encode(x, static_cast<int>(R), O == overflow::saturate, 32, 0x9E3779B9u);
        if (got != want) fail.add(describe(to, x, static_cast<int>(R), O == overflow::saturate, 32, 0, got, want));
      };
      auto modes = [&](auto ovf_tag) {
        one(std::integral_constant<rounding, rounding::nearest_even>{}, ovf_tag);
        one(std::integral_constant<rounding, rounding::nearest_away>{}, ovf_tag);
        one(std::integral_constant<rounding, rounding::toward_zero>{}, ovf_tag);
        one(std::integral_constant<rounding, rounding::upward>{}, ovf_tag);
        one(std::integral_constant<rounding, rounding::downward>{}, ovf_tag);
        one(std::integral_constant<rounding, rounding::odd>{}, ovf_tag);
        one(std::integral_constant<rounding, rounding::stochastic>{}, ovf_tag);
      };
      modes(std::integral_constant<overflow, overflow::saturate>{});
      modes(std::integral_constant<overflow, overflow::nonsaturating>{});
    }
  };
  pair(pqt::fmt::e4m3{}, pqt::fmt::bf16{});
  pair(pqt::fmt::e5m2{}, pqt::fmt::fp16{});
  pair(pqt::fmt::e2m1{}, pqt::fmt::e4m3{});
  pair(pqt::fmt::e3m2{}, pqt::fmt::bf16{});
  pair(pqt::fmt::e4m3fnuz{}, pqt::fmt::e5m2{});
  pair(pqt::fmt::bf16{}, pqt::fmt::fp16{});
  pair(pqt::fmt::e8m<3>{}, pqt::fmt::bf16{});
  fail.report();
}

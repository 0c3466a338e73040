// round_value_fast (the fake-quant path: the rounded value formed on float
// bits, no code in between) == decode(encode(x)) through the generic routine
// (format_desc::encode / decode), bit for bit, NaN bits included: every format
// of the matrix that takes the fast paths, every mode, both overflow policies,
// at every value, midpoint and +-1 ulp, and on random floats of every
// exponent; and the same on the grid scaled by 2^e (scaled_fast_params, the
// MX block path) against decode(encode(x * 2^-e)) * 2^e. PQT_OPTIMIZE
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include <pqt/convert.hpp>
#include <pqt/detail/tensor_ops.hpp>
#include <pqt/runtime.hpp>

#include "support/fast_paths.hpp"
#include "support/matrix.hpp"
#include "support/splitmix64.hpp"

namespace {

using pqt::overflow;
using pqt::rounding;

struct counts {
  std::uint64_t checks = 0, mismatches = 0;
};

void compare(const pqt::format_desc& d, rounding m, overflow o, const std::vector<float>& in, int k, counts& n) {
  const pqt::detail::fast_params p = pqt::detail::make_fast_params(d.facts(), m, o);
  const std::uint32_t words[] = {0u, 1u, 0x12345678u, 0x80000000u, 0x9E3779B9u, 0xFFFFFFFFu};
  for (float x : in)
    for (std::uint32_t r : words) {
      const float want = d.decode(d.encode(x, m, o, r, k));
      const float got = pqt_test::fast_value(p, x, r, k);
      const auto wb = pqt::detail::bit_cast<std::uint32_t>(want), gb = pqt::detail::bit_cast<std::uint32_t>(got);
      if (wb != gb && n.mismatches < 10)
        MESSAGE(d.name() << " " << std::string(pqt::to_string(m)) << " " << std::string(pqt::to_string(o)) << " K=" << k << " x=" << x
                         << " r=" << r << ": value path " << gb << ", decode(encode) " << wb);
      n.mismatches += wb != gb;
      ++n.checks;
      if (m != rounding::stochastic) break;
    }
}

void compare_modes(const pqt::format_desc& d, overflow o, const std::vector<float>& in, counts& n) {
  pqt_test::for_each_fast_mode([&](rounding m, int k) { compare(d, m, o, in, k, n); });
}

}  // namespace

TEST_CASE("round_value_fast == decode(encode(x)) of the generic routine: every fast-path format and mode") {
  counts n;
  std::size_t formats = 0;
  pqt_test::splitmix64 rng{7};
  for (const auto& m : pqt_test::checked_matrix()) {  // support/matrix.hpp: a quarter under ASan
    if (!pqt::detail::fast_path_applies(m.desc.facts())) continue;
    std::vector<float> in = pqt_test::probe_inputs(m.desc);
    for (int i = 0; i < 2000; ++i) {  // random bits: every exponent, subnormals, NaN payloads
      const auto w = static_cast<std::uint32_t>(rng.next() >> 32);
      in.push_back(pqt::detail::bit_cast<float>(w));
    }
    compare_modes(m.desc, overflow::saturate, in, n);
    compare_modes(m.desc, overflow::nonsaturating, in, n);
    ++formats;
  }
  MESSAGE(formats << " formats, " << n.checks << " checks");
  CHECK(formats > 300 / pqt_test::matrix_stride);
  CHECK(n.checks > 10000000 / pqt_test::matrix_stride);
  CHECK(n.mismatches == 0);
}

namespace {

template <rounding R>
void compare_scaled(const pqt::format_desc& d, const std::vector<float>& in, counts& n) {
  const auto p = pqt::detail::make_fast_params(d.facts(), R, overflow::saturate);
  const int lo = pqt::detail::scaled_grid_min_exp(p), hi = pqt::detail::scaled_grid_max_exp(p, R);
  for (int e : {lo, lo + 1, -3, -1, 0, 1, 5, hi - 1, hi}) {
    if (e < lo || e > hi) continue;
    const auto g = pqt::detail::scaled_fast_params<pqt::detail::class_of(R)>(p, e);
    for (float v : in) {
      const float x = std::ldexp(v, e);  // in the scaled range; finite by the range limits
      if (!std::isfinite(x) || std::ldexp(x, -e) != v) continue;  // v * 2^e not exact: skip
      for (std::uint32_t r : {0u, 0x9E3779B9u, 0xFFFFFFFFu}) {
        const float want = std::ldexp(d.decode(d.encode(v, R, overflow::saturate, r, 32)), e);
        const float got = pqt_test::fast_value<true>(g, x, r, 32);
        const auto wb = pqt::detail::bit_cast<std::uint32_t>(want), gb = pqt::detail::bit_cast<std::uint32_t>(got);
        if (wb != gb && n.mismatches < 10)
          MESSAGE(d.name() << " " << std::string(pqt::to_string(R)) << " e=" << e << " x=" << x << " r=" << r
                           << ": scaled grid " << got << ", decode(encode(x / 2^e)) * 2^e " << want);
        n.mismatches += wb != gb;
        ++n.checks;
        if (R != rounding::stochastic) break;
      }
    }
  }
}

}  // namespace

TEST_CASE("round_value_fast on a grid scaled by 2^e == decode(encode(x / 2^e)) * 2^e: every fast-path format") {
  counts n;
  for (const auto& m : pqt_test::checked_matrix()) {  // support/matrix.hpp: a quarter under ASan
    if (!pqt::detail::fast_path_applies(m.desc.facts())) continue;
    std::vector<float> in = pqt_test::probe_inputs(m.desc);
    in.erase(std::remove_if(in.begin(), in.end(), [](float v) { return !std::isfinite(v); }), in.end());
    compare_scaled<rounding::nearest_even>(m.desc, in, n);
    compare_scaled<rounding::nearest_away>(m.desc, in, n);
    compare_scaled<rounding::toward_zero>(m.desc, in, n);
    compare_scaled<rounding::downward>(m.desc, in, n);
    compare_scaled<rounding::upward>(m.desc, in, n);
    compare_scaled<rounding::odd>(m.desc, in, n);
    compare_scaled<rounding::stochastic>(m.desc, in, n);
  }
  MESSAGE(n.checks << " checks");
  CHECK(n.checks > 1000000 / pqt_test::matrix_stride);
  CHECK(n.mismatches == 0);
}

TEST_CASE("round_to_odd_float: rounding its float again gives the once-rounded double (NVFP4's fast path)") {
  // Near every e2m1 / e4m3 midpoint and value (where a float rounded to
  // nearest would round twice), random doubles, specials.
  std::vector<double> qs = {0.0, -0.0, 1e300, -1e300, 1e-300, INFINITY, -INFINITY, NAN};
  for (const char* name : {"e2m1", "e4m3", "e5m2"}) {
    const auto d = pqt::format_desc::parse(name);
    for (double v : pqt_test::magnitudes(d))
      for (double mid : {v, v * 1.0625, v * 1.03125})
        for (double t : {-0x1p-40, -0x1p-30, 0.0, 0x1p-30, 0x1p-40}) {
          qs.push_back(mid * (1 + t));
          qs.push_back(-mid * (1 + t));
        }
  }
  pqt_test::splitmix64 rng{3};
  for (int i = 0; i < 100000; ++i) qs.push_back(pqt::detail::bit_cast<double>(rng.next()) * 1e-280);
  std::size_t bad = 0;
  for (const char* name : {"e2m1", "e4m3", "e5m2"}) {
    const auto d = pqt::format_desc::parse(name);
    for (double q : qs) {
      const float f = pqt::detail::round_to_odd_float(q);
      for (overflow o : {overflow::saturate, overflow::nonsaturating}) {
        const std::uint32_t want = d.encode(q, rounding::nearest_even, o), got = d.encode(f, rounding::nearest_even, o);
        if (want != got && bad++ < 5) MESSAGE(name << " q=" << q << ": " << got << " want " << want);
      }
    }
  }
  CHECK(bad == 0);
  CHECK(pqt::detail::round_to_odd_float(0.75 - 0x1p-40) == std::nextafter(0.75f, 0.0f));  // truncated, odd
  CHECK(pqt::detail::round_to_odd_float(1.0) == 1.0f);
}

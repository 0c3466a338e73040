// libFuzzer: encode / decode of arbitrary (format, mode, overflow policy, K,
// random word, input bits). Invariants, for every input:
//  * the code fits the format's width; the float and double routines give
//    the same code for a float input, and so does the float fast path where
//    it applies;
//  * the result is representable: a non-NaN code decodes to a value that
//    encodes back to the same code;
//  * for a finite input within [-max, max] (x >= 0 for unsigned formats):
//    with lo the largest magnitude <= |x| (toward_zero's, checked to be that:
//    lo <= |x| < the next magnitude), every mode gives lo or the next
//    magnitude up (so at most one ulp from x), and which one is the mode's
//    rule: nearest (ties to even / away), upward / downward by the sign, odd
//    (the odd code when inexact), stochastic (up iff t_K + r_K >= 2^K with
//    t_K the top K bits of the fraction (|x| - lo) / (hi - lo), exact in
//    double: Sterbenz, and hi - lo is a power of two).
#include <cmath>
#include <stdexcept>

#include <pqt/convert.hpp>
#include <pqt/runtime.hpp>

#include "../support/fast_paths.hpp"
#include "fuzz_support.hpp"

using pqt::overflow;
using pqt::rounding;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pqt_fuzz::reader in{data, size};
  const int e = in.byte() % 8 + 1, m = in.byte() % 24;
  const auto enc = static_cast<pqt::encoding>(in.byte() % 5);
  const std::uint8_t flags = in.byte();
  const bool is_signed = (flags & 1) != 0, as_float = (flags & 2) != 0;
  const auto mode = static_cast<rounding>(in.byte() % 7);  // every mode but gaussian (it takes a noise sample)
  const overflow o = (flags & 4) ? overflow::saturate : overflow::nonsaturating;
  const int k = in.byte() % 32 + 1;
  const std::uint32_t r = in.take<std::uint32_t>();
  double x = 0;
  if (as_float) x = pqt::detail::bit_cast<float>(in.take<std::uint32_t>());
  else x = pqt::detail::bit_cast<double>(in.take<std::uint64_t>());

  pqt::format_desc d = pqt::format_desc::parse("e4m3");
  try {
    d = pqt::format_desc(e, m, enc, pqt::default_bias, is_signed);
  } catch (const std::invalid_argument&) {
    return 0;  // a format that cannot exist
  }
  const std::uint32_t code = d.encode(x, mode, o, r, k);
  PQT_FUZZ_CHECK(d.total_bits() == 32 || (code >> d.total_bits()) == 0);
  if (as_float) {
    const auto xf = static_cast<float>(x);
    PQT_FUZZ_CHECK(d.encode(xf, mode, o, r, k) == code);
    if (pqt::detail::fast_path_applies(d.facts()))
      PQT_FUZZ_CHECK(pqt_test::fast_code(pqt::detail::make_fast_params(d.facts(), mode, o), xf, r, k) == code);
  }
  const float y = d.decode(code);
  if (std::isnan(y)) return 0;
  PQT_FUZZ_CHECK(d.encode(y, rounding::nearest_even, overflow::nonsaturating) == code || (y == 0 && !d.has_negative_zero()));

  // Finite, in range: the two neighbours and each mode's rule.
  const double a = std::fabs(x);
  if (!std::isfinite(x) || a > d.max() || enc == pqt::encoding::scale || (!is_signed && x < 0)) return 0;
  const std::uint32_t mag_mask = ~d.sign_mask();
  const std::uint32_t lo_mag = d.encode(x, rounding::toward_zero, o) & mag_mask;
  const double lo = d.decode(lo_mag);
  PQT_FUZZ_CHECK(lo <= a);
  if (lo == a) {
    PQT_FUZZ_CHECK((code & mag_mask) == lo_mag);  // exact: every mode gives x
    return 0;
  }
  PQT_FUZZ_CHECK(lo_mag < d.max_code());
  const double hi = d.decode(lo_mag + 1);
  PQT_FUZZ_CHECK(a < hi);
  const std::uint32_t mag = code & mag_mask;
  PQT_FUZZ_CHECK(mag == lo_mag || mag == lo_mag + 1);
  const bool up = mag == lo_mag + 1, neg = x < 0;
  const double below = a - lo, above = hi - a;  // exact (Sterbenz; lo = 0 trivially)
  switch (mode) {
    case rounding::nearest_even: PQT_FUZZ_CHECK(up == (below > above || (below == above && (lo_mag & 1) != 0))); break;
    case rounding::nearest_away: PQT_FUZZ_CHECK(up == (below >= above)); break;
    case rounding::toward_zero: PQT_FUZZ_CHECK(!up); break;
    case rounding::upward: PQT_FUZZ_CHECK(up == !neg); break;
    case rounding::downward: PQT_FUZZ_CHECK(up == neg); break;
    case rounding::odd: PQT_FUZZ_CHECK((mag & 1) == 1); break;
    default: {  // stochastic
      const double t = std::floor(std::ldexp(below / (hi - lo), k));
      const double rk = static_cast<double>(k == 32 ? r : r & ((1u << k) - 1u));
      PQT_FUZZ_CHECK(up == (t + rk >= std::ldexp(1.0, k)));
    }
  }
  return 0;
}

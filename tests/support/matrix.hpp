// Test support: the format matrix and the interesting inputs around every code.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include <pqt/runtime.hpp>

#include "../reference/slow_reference.hpp"
#include "sanitizer.hpp"

namespace pqt_test {

struct matrix_entry {
  pqt::format_desc desc;
  pqt_ref::fmt ref;
};

inline pqt_ref::fmt to_ref(const pqt::format_desc& d) {
  return {d.exponent_bits(), d.mantissa_bits(), static_cast<pqt_ref::enc>(static_cast<int>(d.enc())), d.bias(),
          d.is_signed()};
}

/// Every valid format with E in 1..8, M in 0..7 and each encoding, signed and
/// unsigned where the encoding allows, plus the named formats of <= 16 bits.
/// `invalid` receives the combinations that cannot exist (format_desc threw).
inline std::vector<matrix_entry> format_matrix(std::vector<std::string>* invalid = nullptr) {
  std::vector<matrix_entry> v;
  const pqt::encoding encs[] = {pqt::encoding::ieee, pqt::encoding::fn, pqt::encoding::fnuz, pqt::encoding::finite,
                                pqt::encoding::scale};
  for (int e = 1; e <= 8; ++e)
    for (int m = 0; m <= 7; ++m)
      for (auto enc : encs)
        for (bool s : {true, false}) {
          if (enc == pqt::encoding::scale && (m != 0 || s)) continue;
          if (enc == pqt::encoding::fnuz && !s) continue;
          try {
            pqt::format_desc d(e, m, enc, pqt::default_bias, s);
            v.push_back({d, to_ref(d)});
          } catch (const std::invalid_argument& ex) {
            if (invalid) invalid->push_back(ex.what());
          }
        }
  for (const auto& n : pqt::named_formats())
    if (n.desc.total_bits() <= 16) v.push_back({n.desc, to_ref(n.desc)});
  return v;
}

/// The tests that compare every format of the matrix with a reference, value
/// by value, visit every matrix_stride-th format: a quarter of the formats
/// under AddressSanitizer (support/sanitizer.hpp; every encoding, E and M
/// among them), the whole matrix otherwise. On the whole matrix those tests
/// took about half of the ASan suite's time.
inline constexpr std::size_t matrix_stride = sample_stride;

/// format_matrix(), every matrix_stride-th entry.
inline std::vector<matrix_entry> checked_matrix() {
  std::vector<matrix_entry> all = format_matrix(), v;
  for (std::size_t i = 0; i < all.size(); i += matrix_stride) v.push_back(all[i]);
  return v;
}

/// Number of matrix formats (E 1..8 x M 0..7, signed and unsigned) of one encoding.
inline std::size_t matrix_count(pqt::encoding enc) {
  std::size_t n = 0;
  for (int e = 1; e <= 8; ++e)
    for (int m = 0; m <= 7; ++m)
      for (bool s : {true, false})
        n += pqt::detail::format_facts{e, m, enc, pqt::detail::default_bias_for(e, enc), s}.valid();
  return n;
}

/// Positive finite magnitudes of a format in increasing order (distinct).
inline std::vector<double> magnitudes(const pqt::format_desc& d) {
  std::vector<double> v;
  const std::uint32_t top = d.max_code();
  for (std::uint32_t c = 0; c <= top; ++c) v.push_back(d.decode(c));
  return v;
}

inline float next_up(float x) { return std::nextafter(x, INFINITY); }
inline float next_down(float x) { return std::nextafter(x, -INFINITY); }

/// The inputs the exhaustive tests use for a format: every value, every
/// midpoint between neighbours (including the first point past max of the
/// continued top binade), each +-1 float ulp, and values far outside the range.
inline std::vector<float> probe_inputs(const pqt::format_desc& d) {
  const std::vector<double> mags = magnitudes(d);
  std::vector<float> in;
  in.reserve(mags.size() * 5 + 16);
  const double spacing_top = std::ldexp(1.0, d.emax() - d.mantissa_bits());
  for (std::size_t i = 0; i < mags.size(); ++i) {
    const double lo = mags[i];
    const double hi = i + 1 < mags.size() ? mags[i + 1] : lo + spacing_top;
    const float mid = static_cast<float>((lo + hi) / 2);  // exact: <= M+2 significant bits
    in.insert(in.end(), {static_cast<float>(lo), next_up(static_cast<float>(lo)), next_down(mid), mid, next_up(mid)});
  }
  const float mx = static_cast<float>(mags.back());
  const float tiny = d.min_subnormal();
  in.insert(in.end(), {0.0f, tiny / 2, next_up(tiny / 2), next_down(tiny / 2), tiny / 4, 1e-45f, mx * 2, mx * 1.5f,
                       mx * 1024, 3.0e38f, INFINITY, NAN});
  const std::size_t n = in.size();
  for (std::size_t i = 0; i < n; ++i) in.push_back(-in[i]);
  return in;
}

/// Run body(i) for i in [0, n) on all cores; body must be thread safe.
inline void parallel_for(std::size_t n, const std::function<void(std::size_t)>& body) {
  const unsigned t = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned w = 0; w < t; ++w)
    pool.emplace_back([&, w] {
      for (std::size_t i = w; i < n; i += t) body(i);
    });
  for (auto& th : pool) th.join();
}

}  // namespace pqt_test

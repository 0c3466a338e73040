// Shared by tests/test_compile_time_path_*.cpp (one encoding per file, so the
// ~7000 instantiations compile in parallel): the compile-time path
// (encode<Fmt, R, O, K>, which takes the float fast path where it applies)
// gives exactly the bits of the run-time path (format_desc::encode, the generic
// routine) for every format of the matrix, every mode and both overflow
// policies, at every value, midpoint and +-1 ulp.
#pragma once
#include <doctest/doctest.h>

#include <utility>

#include <pqt/convert.hpp>
#include <pqt/runtime.hpp>

#include "matrix.hpp"

namespace pqt_test {

using pqt::encoding;
using pqt::overflow;
using pqt::rounding;

struct counts {
  std::uint64_t checks = 0, mismatches = 0, formats = 0;
};

// noinline keeps each of the ~7000 instantiations small: compile time.
/// Out of line, so the ~7000 instantiations below stay small (compile time).
__attribute__((noinline)) inline void report(const pqt::format_desc& d, rounding r, overflow o, int k, float x,
                                             std::uint32_t rbits, std::uint32_t got, std::uint32_t want) {
  MESSAGE(d.name() << " " << std::string(pqt::to_string(r)) << " " << std::string(pqt::to_string(o)) << " K=" << k << " x=" << x
                   << " r=" << rbits << ": compile-time " << got << ", run-time " << want);
}

// Float input only: that is where encode<> has its fast path. Double input has
// none; both paths call the same detail::encode_double.
template <class F, rounding R, overflow O, int K>
__attribute__((noinline)) void compare_mode(const pqt::format_desc& d, const std::vector<float>& inputs, counts& n) {
  for (float x : inputs)
    for (std::uint32_t r : {0u, 0x12345678u, 0x80000000u, 0xFFFFFFFFu}) {
      const std::uint32_t want = d.encode(x, R, O, r, K);
      const std::uint32_t got = pqt::encode<F, R, O, K>(x, r);
      if (got != want && n.mismatches < 10) report(d, R, O, K, x, r, got, want);
      n.mismatches += got != want;
      ++n.checks;
      if (R != rounding::stochastic) break;
    }
}

template <class F, overflow O>
__attribute__((noinline)) void compare_policy(const pqt::format_desc& d, const std::vector<float>& in, counts& n) {
  compare_mode<F, rounding::nearest_even, O, 32>(d, in, n);
  compare_mode<F, rounding::nearest_away, O, 32>(d, in, n);
  compare_mode<F, rounding::toward_zero, O, 32>(d, in, n);
  compare_mode<F, rounding::upward, O, 32>(d, in, n);
  compare_mode<F, rounding::downward, O, 32>(d, in, n);
  compare_mode<F, rounding::odd, O, 32>(d, in, n);
  compare_mode<F, rounding::stochastic, O, 32>(d, in, n);
  compare_mode<F, rounding::stochastic, O, 3>(d, in, n);
}

template <int E, int M, encoding Enc, bool S>
__attribute__((noinline)) void compare_format(counts& n) {
  constexpr pqt::detail::format_facts facts{E, M, Enc, pqt::detail::default_bias_for(E, Enc), S};
  if constexpr (facts.valid()) {
    using F = pqt::format<E, M, Enc, pqt::default_bias, S>;
    const auto d = pqt::format_desc::of<F>();
    const auto in = pqt_test::probe_inputs(d);
    compare_policy<F, overflow::saturate>(d, in, n);
    compare_policy<F, overflow::nonsaturating>(d, in, n);
    // Decode: every code.
    for (std::uint64_t c = 0; c < d.code_count(); ++c) {
      const float a = pqt::decode<F>(static_cast<typename F::storage_type>(c));
      const float b = d.decode(static_cast<std::uint32_t>(c));
      n.mismatches += !(pqt::detail::bit_cast<std::uint32_t>(a) == pqt::detail::bit_cast<std::uint32_t>(b) || (a != a && b != b));
    }
    ++n.formats;
  }
}

template <int E, encoding Enc, int... Ms>
void over_m(counts& n, std::integer_sequence<int, Ms...>) {
  (compare_format<E, Ms, Enc, true>(n), ...);
  if constexpr (Enc != encoding::fnuz) (compare_format<E, Ms, Enc, false>(n), ...);
}

template <encoding Enc, int... Es>
void over_e(counts& n, std::integer_sequence<int, Es...>) {
  (over_m<Es + 1, Enc>(n, std::make_integer_sequence<int, 8>{}), ...);
}

/// Every E in 1..8 x M in 0..7 of one encoding, signed and unsigned.
template <encoding Enc>
counts compare_encoding() {
  counts n;
  over_e<Enc>(n, std::make_integer_sequence<int, 8>{});
  MESSAGE(pqt::to_string(Enc) << ": formats " << n.formats << ", checks " << n.checks);
  return n;
}

}  // namespace pqt_test

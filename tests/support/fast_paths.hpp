#pragma once
// The float fast paths at any (mode, overflow) pair chosen at run time: the
// tensor loops' route (fast_params built for the pair, the loop compiled for
// the mode's class), for the tests that compare them with the generic routine.
#include <cstdint>
#include <type_traits>

#include <pqt/detail/fast_paths.hpp>

namespace pqt_test {

template <class F>
decltype(auto) with_class(pqt::rounding r, F&& f) {
  using pqt::detail::mode_class;
  switch (pqt::detail::class_of(r)) {
    case mode_class::nearest_even: return f(std::integral_constant<mode_class, mode_class::nearest_even>{});
    case mode_class::stochastic: return f(std::integral_constant<mode_class, mode_class::stochastic>{});
    default: return f(std::integral_constant<mode_class, mode_class::directed>{});  // (no gaussian fast path)
  }
}

/// encode_float_fast under p's own mode and policy.
inline std::uint32_t fast_code(const pqt::detail::fast_params& p, float x, std::uint32_t r, int k) {
  return with_class(p.mode, [&](auto c) { return pqt::detail::encode_float_fast<decltype(c)::value>(p, x, r, k); });
}

/// round_value_fast under p's own mode and policy (Finite: x known finite).
template <bool Finite = false>
float fast_value(const pqt::detail::fast_params& p, float x, std::uint32_t r, int k) {
  return with_class(p.mode,
                    [&](auto c) { return pqt::detail::round_value_fast<decltype(c)::value, Finite>(p, x, r, k); });
}

}  // namespace pqt_test

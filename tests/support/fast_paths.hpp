#pragma once
// The float fast paths at any (mode, overflow) pair chosen at run time, by the
// tensor loops' route (fast_params built for the pair; the loop compiled for
// the mode's class and, for nearest-even, the policy; the other classes read
// it from fast_params), for the tests that compare them with the generic
// routine.
#include <cstdint>
#include <type_traits>

#include <pqt/detail/fast_paths.hpp>

namespace pqt_test {

/// f(class tag, policy tag) as dispatch (detail/tensor_runs.hpp) picks them.
template <class F>
decltype(auto) with_class(const pqt::detail::fast_params& p, F&& f) {
  using pqt::detail::mode_class;
  using pqt::detail::policy;
  using rt = std::integral_constant<policy, policy::run_time>;
  switch (pqt::detail::class_of(p.mode)) {
    case mode_class::nearest_even:
      if (p.saturate_u)
        return f(std::integral_constant<mode_class, mode_class::nearest_even>{},
                 std::integral_constant<policy, policy::saturate>{});
      return f(std::integral_constant<mode_class, mode_class::nearest_even>{},
               std::integral_constant<policy, policy::nonsaturating>{});
    case mode_class::stochastic: return f(std::integral_constant<mode_class, mode_class::stochastic>{}, rt{});
    default: return f(std::integral_constant<mode_class, mode_class::directed>{}, rt{});  // (no gaussian fast path)
  }
}

/// encode_float_fast under p's own mode and policy.
inline std::uint32_t fast_code(const pqt::detail::fast_params& p, float x, std::uint32_t r, int k) {
  return with_class(p, [&](auto c, auto o) {
    return pqt::detail::encode_float_fast<decltype(c)::value, decltype(o)::value>(p, x, r, k);
  });
}

/// round_value_fast under p's own mode and policy (Finite: x known finite).
template <bool Finite = false>
float fast_value(const pqt::detail::fast_params& p, float x, std::uint32_t r, int k) {
  return with_class(p, [&](auto c, auto o) {
    return pqt::detail::round_value_fast<decltype(c)::value, decltype(o)::value, Finite>(p, x, r, k);
  });
}

/// f(mode, K) for each mode the fast paths take: the six deterministic modes
/// (K = 32, unused), then stochastic at K = 1, 3, 8, 23 and 32.
template <class F>
void for_each_fast_mode(F&& f) {
  using pqt::rounding;
  for (rounding m : {rounding::nearest_even, rounding::nearest_away, rounding::toward_zero, rounding::upward,
                     rounding::downward, rounding::odd})
    f(m, 32);
  for (int k : {1, 3, 8, 23, 32}) f(rounding::stochastic, k);
}

}  // namespace pqt_test

#pragma once
/// Rounding modes and overflow policies for every pqt conversion.
///   auto b = pqt::encode<pqt::e4m3, pqt::rounding::toward_zero>(x);

namespace pqt {

/// How a value between two neighbours of the target format is resolved.
/// See README "Rounding modes" for the exact rule of each.
enum class rounding : int {
  nearest_even = 0,  ///< IEEE roundTiesToEven
  nearest_away = 1,  ///< ties away from zero
  toward_zero = 2,   ///< truncate the magnitude
  upward = 3,        ///< toward +Inf
  downward = 4,      ///< toward -Inf
  odd = 5,           ///< round to odd (jamming): inexact -> neighbour with last bit 1
  stochastic = 6,    ///< up iff t_k + r >= 2^k, r = low k bits of the caller's word
  gaussian = 7,      ///< RNE(x + sigma * g * ulp(x)), g ~ N(0,1) (see fake_quant.hpp)
};

/// What happens to a magnitude that rounds above the largest finite value.
enum class overflow : int {
  saturate = 0,       ///< clamp to +-max finite (Inf inputs too)
  nonsaturating = 1,  ///< +-Inf where the format has it, else NaN (IEEE exceptions apply)
};

/// e8m0 (power-of-two scale) rounding rules; see README "e8m0".
enum class e8m0_rounding : int {
  floor = 0,         ///< largest power of two <= |x| (OCP MX v1.0)
  ceil = 1,          ///< smallest power of two >= |x|
  nearest_even = 2,  ///< nearest power of two; a tie (1.5 * 2^k) goes to the even code
  rceil = 3,         ///< ceil, applied by scale computation to amax / max_elem (CUDA/TE)
};

constexpr int rounding_count = 8;

/// Name as used by the CLI and README ("nearest_even", ...).
constexpr const char* to_string(rounding r) {
  switch (r) {
    case rounding::nearest_even: return "nearest_even";
    case rounding::nearest_away: return "nearest_away";
    case rounding::toward_zero: return "toward_zero";
    case rounding::upward: return "upward";
    case rounding::downward: return "downward";
    case rounding::odd: return "odd";
    case rounding::stochastic: return "stochastic";
    case rounding::gaussian: return "gaussian";
  }
  return "?";
}

constexpr const char* to_string(overflow o) {
  return o == overflow::saturate ? "saturate" : "nonsaturating";
}

}  // namespace pqt

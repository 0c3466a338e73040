// slow_reference.hpp - independent, slow, obviously-correct reference encoder
// for small floating-point formats (at most 16 bits). Test oracle only.
//
// Deliberately shares nothing with the library under include/: instead of bit
// manipulation it enumerates every code of the format, keeps the sorted table
// of distinct non-negative finite magnitudes and, for an input, finds the two
// grid neighbours lo <= |x| <= hi by binary search. All decisions then use
// exact double arithmetic:
//   * every format value is exactly representable as a double;
//   * neighbours satisfy hi <= 2*lo (or lo == 0), so |x|-lo and hi-lo are
//     exact (Sterbenz), and hi-lo is a power of two, so (|x|-lo)/(hi-lo) is
//     exact too, as is scaling that fraction by 2^k.
// Above the largest finite value the grid continues with the spacing of the
// top binade; only the first point past max ("next") is ever needed, because
// any input >= next rounds to a magnitude above max in every mode.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

namespace pqt_ref {

enum class enc { ieee = 0, fn = 1, fnuz = 2, finite = 3, scale = 4 };
// rounding: 0 nearest_even, 1 nearest_away, 2 toward_zero, 3 upward,
//           4 downward, 5 odd, 6 stochastic
struct fmt { int e, m; enc encoding; int bias; bool is_signed; };

inline int default_bias(int e, enc en) {
  return en == enc::fnuz ? (1 << (e - 1)) : (1 << (e - 1)) - 1;
}

namespace detail {
inline int bits(const fmt& f) { return (f.is_signed ? 1 : 0) + f.e + f.m; }
inline uint32_t sign_bit(const fmt& f) { return f.is_signed ? (1u << (f.e + f.m)) : 0u; }
inline uint32_t exp_ones(const fmt& f) { return (1u << f.e) - 1u; }
inline uint32_t mant_ones(const fmt& f) { return (1u << f.m) - 1u; }

// Reject formats the spec does not describe, or whose values would not be
// plain doubles (keeps every arithmetic step above exact).
inline void check(const fmt& f) {
  if (f.e < 1 || f.m < 0 || bits(f) > 16)
    throw std::invalid_argument("pqt_ref: need e >= 1, m >= 0, at most 16 bits");
  if (f.encoding == enc::scale && (f.m != 0 || f.is_signed))
    throw std::invalid_argument("pqt_ref: scale format must be unsigned with m == 0");
  if (f.encoding == enc::fnuz && !f.is_signed)
    throw std::invalid_argument("pqt_ref: fnuz format must be signed");
  if (int(exp_ones(f)) - f.bias > 1000 || 1 - f.bias - f.m < -1000)
    throw std::invalid_argument("pqt_ref: format range exceeds comfortable double range");
}
}  // namespace detail

inline bool has_inf(const fmt& f) { return f.encoding == enc::ieee; }

inline bool has_nan(const fmt& f) {
  switch (f.encoding) {
    case enc::ieee: return f.m > 0;  // with M=0 the all-ones exponent is only Inf
    case enc::fn: case enc::fnuz: case enc::scale: return true;
    case enc::finite: return false;
  }
  return false;
}

inline uint32_t nan_code(const fmt& f) {
  using namespace detail;
  if (!has_nan(f)) return 0;
  switch (f.encoding) {
    case enc::ieee: return (exp_ones(f) << f.m) | mant_ones(f);  // +, exp ones, mant ones
    case enc::fnuz: return sign_bit(f);                          // "-0" slot
    default: return (1u << (f.e + f.m)) - 1u;                    // fn, scale: all non-sign bits
  }
}

// Exact value of a code (bits above the format width are ignored).
inline double decode(const fmt& f, uint32_t code) {
  using namespace detail;
  check(f);
  const double qnan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  code &= (1u << bits(f)) - 1u;
  if (f.encoding == enc::scale)  // 2^(c-bias), all-ones is NaN, no zero
    return code == exp_ones(f) ? qnan : std::ldexp(1.0, int(code) - f.bias);
  const bool neg = (code & sign_bit(f)) != 0;
  const uint32_t ef = (code >> f.m) & exp_ones(f), mant = code & mant_ones(f);
  const bool top = ef == exp_ones(f);
  switch (f.encoding) {
    case enc::ieee: if (top) return mant == 0 ? (neg ? -inf : inf) : qnan; break;
    case enc::fn: if (top && mant == mant_ones(f)) return qnan; break;
    case enc::fnuz: if (neg && ef == 0 && mant == 0) return qnan; break;
    default: break;
  }
  // Integer significand times a power of two: exact in double.
  const double mag = ef == 0 ? std::ldexp(double(mant), 1 - f.bias - f.m)
                             : std::ldexp(double((1u << f.m) + mant), int(ef) - f.bias - f.m);
  return neg ? -mag : mag;
}

// Cached sorted table of one format; encode() is a binary search.
class table {
 public:
  explicit table(const fmt& f) : f_(f) {
    detail::check(f);
    std::vector<std::pair<double, uint32_t>> all;  // (magnitude, sign-less code)
    for (uint32_t c = 0; c < (1u << detail::bits(f)); ++c) {
      const double v = decode(f, c);
      if (std::isfinite(v)) all.emplace_back(std::fabs(v), c & ~detail::sign_bit(f));
    }
    std::sort(all.begin(), all.end());
    for (const auto& p : all)  // +v and -v (and +-0) share one magnitude
      if (vals_.empty() || p.first != vals_.back()) {
        vals_.push_back(p.first);
        codes_.push_back(p.second);
      }
    // Invariant relied on below: the i-th smallest magnitude has code i, so
    // neighbours have consecutive codes and opposite parity ("even" = code LSB
    // 0 = last mantissa bit 0; for M=0 / scale it is the exponent's LSB).
    for (size_t i = 0; i < codes_.size(); ++i)
      if (codes_[i] != i) throw std::logic_error("pqt_ref: magnitude codes not contiguous");
    // Spacing of the top binade (subnormal spacing if max is subnormal).
    const double top = vals_.back();
    // (The scale encoding has no subnormals: its lowest binade is its own.)
    const int min_binade = f.encoding == enc::scale ? -f.bias : 1 - f.bias;
    const int binade = top > 0 ? std::max(std::ilogb(top), min_binade) : min_binade;
    next_ = top + std::ldexp(1.0, binade - f.m);
  }

  const fmt& format() const { return f_; }
  uint32_t max_code() const { return codes_.back(); }
  double max_value() const { return vals_.back(); }

  uint32_t encode(double x, int mode, bool saturate, int k = 32, uint32_t r = 0) const {
    const fmt& f = f_;
    if (mode < 0 || mode > 6) throw std::invalid_argument("pqt_ref: bad rounding mode");
    if (mode == 6 && (k < 1 || k > 32)) throw std::invalid_argument("pqt_ref: k must be 1..32");
    const bool sat = saturate || f.encoding == enc::finite;  // finite formats always saturate

    // Rule 1: NaN.
    if (std::isnan(x)) return has_nan(f) ? nan_code(f) : max_code();
    // Rule 2: negative input to an unsigned format (-0.0 is not negative).
    if (!f.is_signed && x < 0) return (saturate || !has_nan(f)) ? 0u : nan_code(f);

    const bool neg = f.is_signed && std::signbit(x);
    auto signed_code = [&](uint32_t mag) -> uint32_t {
      if (!neg || (mag == 0 && f.encoding == enc::fnuz)) return mag;  // fnuz: no -0
      return mag | detail::sign_bit(f);
    };
    // Magnitude above max: +-max, or the format's Inf/NaN when allowed.
    auto overflow = [&](bool special_ok) -> uint32_t {
      if (sat || !special_ok) return signed_code(max_code());
      if (has_inf(f)) return signed_code(detail::exp_ones(f) << f.m);
      if (has_nan(f)) return nan_code(f);
      return signed_code(max_code());
    };

    // Rule 3: Inf overflows in every rounding mode.
    if (std::isinf(x)) return overflow(true);
    // Rules 4 and 8: zero (scale: code 0 is its smallest value).
    if (x == 0) return signed_code(0);
    const double a = std::fabs(x);
    // Rule 8: below the scale format's smallest value clamps to code 0.
    if (a < vals_.front()) return 0;

    // Rule 6: modes that round the magnitude toward zero never make Inf/NaN.
    const bool special_ok = !(mode == 2 || mode == 5 || (mode == 4 && !neg) || (mode == 3 && neg));
    // Both continued-grid neighbours (or |x| itself) are above max.
    if (a >= next_) return overflow(special_ok);

    // Neighbours lo = vals_[i] <= a < hi; hi is `next_` past the end of the table.
    size_t i = vals_.size() - 1;
    if (a < vals_.back())
      i = size_t(std::upper_bound(vals_.begin(), vals_.end(), a) - vals_.begin()) - 1;
    const double lo = vals_[i];
    const double hi = i + 1 < vals_.size() ? vals_[i + 1] : next_;
    if (a == lo) return signed_code(codes_[i]);  // exact: every mode keeps it

    const bool lo_even = (codes_[i] & 1u) == 0;  // hi has the other parity
    const double frac = (a - lo) / (hi - lo);     // exact, in (0,1)
    bool up = false;
    switch (mode) {
      case 0: up = frac > 0.5 || (frac == 0.5 && !lo_even); break;  // nearest_even
      case 1: up = frac >= 0.5; break;                              // nearest_away
      case 2: up = false; break;                                    // toward_zero
      case 3: up = !neg; break;                                     // upward
      case 4: up = neg; break;                                      // downward
      case 5: up = lo_even; break;                                  // odd: pick the odd one
      case 6: {                                                     // stochastic
        const uint64_t two_k = uint64_t(1) << k;
        const uint64_t t = uint64_t(std::floor(frac * double(two_k)));  // exact
        const uint64_t rk = uint64_t(r) & (two_k - 1);
        up = t + rk >= two_k;
        break;
      }
    }
    if (!up) return signed_code(codes_[i]);  // rule 7: zero keeps sign where -0 exists
    if (i + 1 == vals_.size()) return overflow(special_ok);
    return signed_code(codes_[i + 1]);
  }

 private:
  fmt f_;
  std::vector<double> vals_;     // distinct non-negative finite magnitudes, ascending
  std::vector<uint32_t> codes_;  // sign-less code of each magnitude
  double next_ = 0;              // first continued-grid point above max
};

// Process-wide cache so the free functions stay fast (thread-safe; tables
// live until exit, so returned references stay valid).
inline const table& cached_table(const fmt& f) {
  static std::mutex mu;
  static std::map<std::tuple<int, int, int, int, bool>, std::unique_ptr<table>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[std::make_tuple(f.e, f.m, int(f.encoding), f.bias, f.is_signed)];
  if (!slot) slot = std::make_unique<table>(f);
  return *slot;
}

inline uint32_t max_code(const fmt& f) { return cached_table(f).max_code(); }

inline uint32_t encode(const fmt& f, double x, int mode, bool saturate, int k = 32,
                       uint32_t r = 0) {
  return cached_table(f).encode(x, mode, saturate, k, r);
}

}  // namespace pqt_ref

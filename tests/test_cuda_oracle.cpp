// Differential test: pqt's encode/decode against NVIDIA's own host-side
// conversion functions from the CUDA toolkit headers (cuda_fp8.h, cuda_fp6.h,
// cuda_fp4.h, cuda_bf16.h, cuda_fp16.h). Plain g++ compiles those headers and
// their host code paths (no nvcc, no GPU needed).
//
// Build markers (see cmake/dev-options.cmake):
//   PQT_NEEDS_CUDA_INCLUDE  -> CUDA include dir as SYSTEM + PQT_HAVE_CUDA_HEADERS=1
//   PQT_OPTIMIZE            -> always -O2 (about 2 * 10^8 conversions)
//
// Inputs, for every float-input conversion:
//   * all 2^16 bf16 bit patterns widened to float;
//   * an edge set: +-0, +-Inf, NaNs of both signs and several payloads,
//     FLT_MAX/MIN, float subnormals, and for every format below each value,
//     each midpoint between neighbours (incl. the one past max), and the float
//     neighbours (1 ulp either side) of both;
//   * 10^7 random floats per format family from a fixed-seed splitmix64:
//     raw bit patterns, values in the format's exponent range, and values with
//     short mantissas (exact codes and exact ties) or ties +-1 ulp.
// Double-input conversions get 10^6 random doubles (same mix, plus values one
// or a few double ulps off a midpoint, which catch double rounding).
//
// Every CUDA-vs-pqt difference is either a mismatch (test fails) or one of
// the documented differences below, each checked to be exactly that:
//
//   D1 (E4M3, __NV_NOSAT): CUDA ORs the input's sign into its NaN code, so a
//      negative overflow (|x| > 464, or x = -Inf) gives 0xFF; pqt gives its
//      one canonical NaN 0x7F (README "Conversion semantics": NaN outputs use one documented
//      canonical code). Both are the E4M3 NaN (S.1111.111).
//   D2 (__nv_cvt_double_to_fp8, NaN input): CUDA does not canonicalise a
//      double NaN (its float entry point does): E4M3 gives 0x7F | sign,
//      E5M2 gives sign | 0x7E | (top two payload bits), e.g. 0x7E for the
//      default quiet NaN 0x7FF8000000000000 and 0xFE/0xFF for negative NaNs.
//      pqt gives the canonical 0x7F. Both are NaN codes of the format.
//
// No other difference exists: float NaN -> FP8 is canonicalised by CUDA to
// 0x7F (same as pqt), NaN -> FP6/FP4 is +max in both, bf16/fp16 NaN is 0x7FFF
// in both, e8m0 NaN is 0xFF in both. Decoding compares floats bit for bit
// except NaNs, which only have to be NaN on both sides (CUDA keeps NaN payloads
// and signs, pqt::decode returns one quiet NaN).
//

#include <doctest/doctest.h>

#include "support/splitmix64.hpp"

#include <pqt/convert.hpp>
#include <pqt/format.hpp>
#include <pqt/rounding.hpp>

#if defined(PQT_HAVE_CUDA_HEADERS) && PQT_HAVE_CUDA_HEADERS

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp4.h>
#include <cuda_fp6.h>
#include <cuda_fp8.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace {

using pqt::overflow;
using pqt::rounding;
namespace fmt = pqt::fmt;

constexpr std::uint64_t kRandomFloats = 10000000;  // per format family
constexpr std::uint64_t kRandomDoubles = 1000000;

// ---------------------------------------------------------------- utilities
std::uint32_t fbits(float x) {
  std::uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
float from_fbits(std::uint32_t b) {
  float x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}
std::uint64_t dbits(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
double from_dbits(std::uint64_t b) {
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}
bool is_nan_f(std::uint32_t b) { return (b & 0x7FFFFFFFu) > 0x7F800000u; }
bool is_nan_d(std::uint64_t b) { return (b & 0x7FFFFFFFFFFFFFFFull) > 0x7FF0000000000000ull; }

using pqt_test::splitmix64;

// CUDA's raw-bits wrappers.
float cuda_half_to_float(std::uint16_t h) {
  __half_raw r;
  r.x = h;
  return __half2float(__half(r));
}
float cuda_bf16_to_float(std::uint16_t b) {
  __nv_bfloat16_raw r;
  r.x = b;
  return __bfloat162float(__nv_bfloat16(r));
}
std::uint16_t raw(__nv_bfloat16 v) { return static_cast<__nv_bfloat16_raw>(v).x; }
std::uint16_t raw(__half v) { return static_cast<__half_raw>(v).x; }
float cuda_fp8_to_float(unsigned code, __nv_fp8_interpretation_t k) {
  return cuda_half_to_float(__nv_cvt_fp8_to_halfraw(static_cast<__nv_fp8_storage_t>(code), k).x);
}
float cuda_fp6_to_float(unsigned code, __nv_fp6_interpretation_t k) {
  return cuda_half_to_float(__nv_cvt_fp6_to_halfraw(static_cast<__nv_fp6_storage_t>(code), k).x);
}
float cuda_fp4_to_float(unsigned code) {
  return cuda_half_to_float(__nv_cvt_fp4_to_halfraw(static_cast<__nv_fp4_storage_t>(code), __NV_E2M1).x);
}
float cuda_e8m0_to_float(unsigned code) {
  return cuda_bf16_to_float(__nv_cvt_e8m0_to_bf16raw(static_cast<__nv_fp8_storage_t>(code)).x);
}

// --------------------------------------------------------------- the tally
// Counts agreements, documented differences and mismatches of one conversion;
// keeps the first few mismatches (input bits, CUDA's output, pqt's output).
struct tally {
  std::string name;
  std::uint64_t checked = 0, documented = 0, nan_pairs = 0, mismatches = 0;
  std::vector<std::string> examples;

  explicit tally(std::string n) : name(std::move(n)) {}

  // documented_ok: the pair (cuda, pqt) is one of the documented differences
  // for this input (evaluated only when the outputs differ).
  template <class Doc>
  void check(std::uint64_t in, int in_hex_digits, unsigned cuda, unsigned pqt, Doc documented_ok) {
    ++checked;
    if (cuda == pqt) return;
    if (documented_ok()) {
      ++documented;
      return;
    }
    if (mismatches++ < 6) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "input 0x%0*llx: CUDA 0x%x, pqt 0x%x", in_hex_digits,
                    static_cast<unsigned long long>(in), cuda, pqt);
      examples.emplace_back(buf);
    }
  }
  void check(std::uint64_t in, int in_hex_digits, unsigned cuda, unsigned pqt) {
    check(in, in_hex_digits, cuda, pqt, [] { return false; });
  }
  // Decoded floats: bit-exact, or both NaN (payload and sign of a NaN are
  // not part of the contract: pqt returns one quiet NaN).
  void check_float(std::uint64_t code, float cuda, float pqt) {
    const std::uint32_t c = fbits(cuda), p = fbits(pqt);
    if (is_nan_f(c) && is_nan_f(p)) {
      ++checked;
      ++nan_pairs;
      return;
    }
    check(code, 4, c, p);
  }
  void finish() {
    MESSAGE(name << ": " << checked << " compared, " << documented << " documented differences, "
                 << nan_pairs << " NaN pairs, " << mismatches << " mismatches");
    for (const auto& e : examples) MESSAGE(name << " mismatch: " << e);
    CHECK_MESSAGE(mismatches == 0, name);
  }
};

// ------------------------------------------------------------------ inputs
// Sorted positive finite values of a format (from CUDA's own decoders), plus
// "next": the first grid point past max when the top binade is continued.
struct value_table {
  std::vector<double> v;
  double next;
};

value_table table_from(unsigned max_code, float (*dec)(unsigned), bool pow2_grid = false) {
  value_table t;
  for (unsigned c = 0; c <= max_code; ++c) t.v.push_back(dec(c));
  const double mx = t.v.back(), prev = t.v[t.v.size() - 2];
  t.next = pow2_grid ? 2 * mx : mx + (mx - prev);
  return t;
}

std::vector<value_table> all_tables() {
  std::vector<value_table> ts;
  ts.push_back(table_from(0x7E, [](unsigned c) { return cuda_fp8_to_float(c, __NV_E4M3); }));
  ts.push_back(table_from(0x7B, [](unsigned c) { return cuda_fp8_to_float(c, __NV_E5M2); }));
  ts.push_back(table_from(0x1F, [](unsigned c) { return cuda_fp6_to_float(c, __NV_E2M3); }));
  ts.push_back(table_from(0x1F, [](unsigned c) { return cuda_fp6_to_float(c, __NV_E3M2); }));
  ts.push_back(table_from(0x7, [](unsigned c) { return cuda_fp4_to_float(c); }));
  ts.push_back(table_from(0x7F7F, [](unsigned c) { return cuda_bf16_to_float(static_cast<std::uint16_t>(c)); }));
  ts.push_back(table_from(0x7BFF, [](unsigned c) { return cuda_half_to_float(static_cast<std::uint16_t>(c)); }));
  {  // e8m0: 2^-127 .. 2^127, powers of two only
    value_table t;
    t.v.push_back(0.0);
    for (unsigned c = 0; c <= 0xFE; ++c) t.v.push_back(cuda_e8m0_to_float(c));
    t.next = 2 * t.v.back();
    ts.push_back(t);
  }
  return ts;
}

void add_with_neighbours(std::vector<std::uint32_t>& out, double d) {
  const float f = static_cast<float>(d);
  if (!std::isfinite(f) || static_cast<double>(f) != d) return;  // only exact floats
  for (float g : {f, std::nextafter(f, -INFINITY), std::nextafter(f, INFINITY)}) {
    out.push_back(fbits(g));
    out.push_back(fbits(-g));
  }
}

// The edge set: specials, float subnormals, and every value/midpoint of every
// format with its float neighbours. Sorted, no duplicates.
const std::vector<std::uint32_t>& edge_floats() {
  static const std::vector<std::uint32_t> edges = [] {
    std::vector<std::uint32_t> e = {
        0x00000000u, 0x80000000u, 0x7F800000u, 0xFF800000u,              // +-0, +-Inf
        0x7FC00000u, 0xFFC00000u, 0x7F800001u, 0xFF800001u, 0x7FFFFFFFu,  // NaNs: quiet,
        0xFFFFFFFFu, 0x7FA00000u, 0xFFA00000u, 0x7FBFFFFFu, 0x7FE00000u,  // signalling,
        0x7F900000u, 0x7FD00001u,                                         // payloads
        fbits(FLT_MAX), fbits(-FLT_MAX), fbits(FLT_MIN), fbits(-FLT_MIN),
    };
    for (int k = 0; k < 23; ++k) {  // float subnormals
      for (std::uint32_t m : {1u << k, (1u << k) - 1, (1u << k) + 1, 0x7FFFFFu >> k}) {
        e.push_back(m & 0x7FFFFFu);
        e.push_back((m & 0x7FFFFFu) | 0x80000000u);
      }
    }
    for (const value_table& t : all_tables()) {
      for (std::size_t i = 0; i < t.v.size(); ++i) {
        const double lo = t.v[i], hi = i + 1 < t.v.size() ? t.v[i + 1] : t.next;
        add_with_neighbours(e, lo);
        add_with_neighbours(e, (lo + hi) / 2);  // exact in double and in float
        add_with_neighbours(e, hi);
        add_with_neighbours(e, lo + (hi - lo) / 4);
        add_with_neighbours(e, lo + 3 * (hi - lo) / 4);
      }
      add_with_neighbours(e, t.next + (t.next - t.v.back()) / 2);
    }
    std::sort(e.begin(), e.end());
    e.erase(std::unique(e.begin(), e.end()), e.end());
    return e;
  }();
  return edges;
}

// A random float: 1/4 raw bit patterns; otherwise sign random and unbiased
// exponent uniform in [lo_exp, hi_exp] (normal floats), with a random
// mantissa, or a mantissa cut to its top t bits (exact codes and exact ties
// for every format here), or such a short mantissa +-1 ulp (near-ties).
float random_float(splitmix64& g, int lo_exp, int hi_exp) {
  const std::uint64_t r = g.next(), r2 = g.next();
  const unsigned kind = r & 7;
  if (kind < 2) return from_fbits(static_cast<std::uint32_t>(r2));
  const std::uint32_t sign = static_cast<std::uint32_t>((r >> 3) & 1) << 31;
  const int e = lo_exp + static_cast<int>((r >> 8) % static_cast<unsigned>(hi_exp - lo_exp + 1));
  std::uint32_t mant = static_cast<std::uint32_t>(r2) & 0x7FFFFFu;
  if (kind >= 5) {
    const int t = static_cast<int>((r >> 32) % 13);  // keep 0..12 top bits
    mant &= ~((1u << (23 - t)) - 1u);
    if (kind == 6) mant = (mant + 1) & 0x7FFFFFu;
    if (kind == 7 && mant != 0) mant -= 1;
  }
  return from_fbits(sign | (static_cast<std::uint32_t>(e + 127) << 23) | mant);
}

// Calls f(float) for the 2^16 bf16 patterns, the edge set and kRandomFloats
// random floats (exponents in [lo_exp, hi_exp] for the non-raw part).
template <class F>
void for_each_float(std::uint64_t seed, int lo_exp, int hi_exp, F&& f) {
  for (std::uint32_t b = 0; b < 0x10000u; ++b) f(from_fbits(b << 16));
  for (std::uint32_t b : edge_floats()) f(from_fbits(b));
  splitmix64 g{seed};
  for (std::uint64_t i = 0; i < kRandomFloats; ++i) f(random_float(g, lo_exp, hi_exp));
}

// A random double: raw patterns, in-range values with 52 random mantissa
// bits, short mantissas (ties), and midpoints of the given table moved by a
// few double ulps (where rounding to float first would land on the tie).
double random_double(splitmix64& g, int lo_exp, int hi_exp, const value_table& t) {
  const std::uint64_t r = g.next(), r2 = g.next();
  const unsigned kind = r & 7;
  const std::uint64_t sign = ((r >> 3) & 1) << 63;
  if (kind < 2) return from_dbits(r2);
  if (kind >= 6) {  // near a midpoint (or value), off by 1..4 double ulps or a random tiny amount
    const std::size_t i = static_cast<std::size_t>((r >> 8) % t.v.size());
    const double lo = t.v[i], hi = i + 1 < t.v.size() ? t.v[i + 1] : t.next;
    const double m = kind == 6 ? (lo + hi) / 2 : lo;
    std::uint64_t mb = dbits(m);
    const std::int64_t k = static_cast<std::int64_t>((r >> 40) % 9) - 4;  // -4..4 ulps
    if ((r >> 50) & 1) {
      mb = static_cast<std::uint64_t>(static_cast<std::int64_t>(mb) + k);
    } else {  // random low-order perturbation below float precision
      mb ^= r2 & ((std::uint64_t{1} << ((r >> 51) % 30)) - 1);
    }
    return from_dbits(sign | (mb & 0x7FFFFFFFFFFFFFFFull));
  }
  const int e = lo_exp + static_cast<int>((r >> 8) % static_cast<unsigned>(hi_exp - lo_exp + 1));
  std::uint64_t mant = r2 & ((std::uint64_t{1} << 52) - 1);
  if (kind == 5) {
    const int tb = static_cast<int>((r >> 32) % 14);
    mant &= ~((std::uint64_t{1} << (52 - tb)) - 1);
  }
  return from_dbits(sign | (static_cast<std::uint64_t>(e + 1023) << 52) | mant);
}

template <class F>
void for_each_double(std::uint64_t seed, int lo_exp, int hi_exp, const value_table& t, F&& f) {
  for (std::uint32_t b : edge_floats()) f(static_cast<double>(from_fbits(b)));
  for (std::uint64_t b : {0x7FF8000000000000ull, 0xFFF8000000000000ull, 0x7FF0000000000001ull,
                          0x7FF4000000000000ull, 0xFFF4000000000000ull, 0x7FFFFFFFFFFFFFFFull,
                          0x0000000000000001ull, 0x8000000000000001ull, 0x7FEFFFFFFFFFFFFFull,
                          0x47EFFFFFE0000000ull, 0x47EFFFFFE0000001ull, 0x47F0000000000000ull,
                          0x4800000000000000ull, 0xC800000000000000ull})
    f(from_dbits(b));
  splitmix64 g{seed};
  for (std::uint64_t i = 0; i < kRandomDoubles; ++i) f(random_double(g, lo_exp, hi_exp, t));
}

// ---------------------------------------------- documented differences D1/D2
// D1: E4M3 __NV_NOSAT, negative non-NaN input that overflows: CUDA 0xFF, pqt 0x7F.
template <class T>
bool d1_e4m3_negative_overflow(T x, unsigned cuda, unsigned pqt) {
  return cuda == 0xFFu && pqt == 0x7Fu && !(x != x) && x < 0 && -x > static_cast<T>(464);
}
// D2: double NaN into FP8: CUDA keeps the sign (and for E5M2 two payload bits).
bool d2_double_nan(std::uint64_t xb, bool e4m3, unsigned cuda, unsigned pqt) {
  if (!is_nan_d(xb) || pqt != 0x7Fu) return false;
  const unsigned sign = static_cast<unsigned>(xb >> 63) << 7;
  const unsigned expect = e4m3 ? (sign | 0x7Fu) : (sign | 0x7Eu | static_cast<unsigned>((xb >> 50) & 3));
  return cuda == expect;
}

}  // namespace

// =========================================================== float -> FP8
TEST_CASE("cuda oracle: float -> e4m3/e5m2, RNE, saturate and nonsaturating") {
  tally e4s("e4m3 satfinite"), e4n("e4m3 nosat"), e5s("e5m2 satfinite"), e5n("e5m2 nosat");
  for_each_float(0xF8F8F8F8ull, -22, 18, [&](float x) {
    const std::uint32_t b = fbits(x);
    e4s.check(b, 8, __nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E4M3),
              pqt::encode<fmt::e4m3, rounding::nearest_even, overflow::saturate>(x));
    const unsigned c4 = __nv_cvt_float_to_fp8(x, __NV_NOSAT, __NV_E4M3);
    const unsigned p4 = pqt::encode<fmt::e4m3, rounding::nearest_even, overflow::nonsaturating>(x);
    e4n.check(b, 8, c4, p4, [&] { return d1_e4m3_negative_overflow(x, c4, p4); });
    e5s.check(b, 8, __nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E5M2),
              pqt::encode<fmt::e5m2, rounding::nearest_even, overflow::saturate>(x));
    e5n.check(b, 8, __nv_cvt_float_to_fp8(x, __NV_NOSAT, __NV_E5M2),
              pqt::encode<fmt::e5m2, rounding::nearest_even, overflow::nonsaturating>(x));
  });
  e4s.finish();
  e4n.finish();
  e5s.finish();
  e5n.finish();
  CHECK(e4n.documented > 0);  // -Inf and -500 are in the edge set: D1 is exercised
}

TEST_CASE("cuda oracle: double -> e4m3/e5m2 (rounded once)") {
  tally e4s("double e4m3 satfinite"), e4n("double e4m3 nosat"), e5s("double e5m2 satfinite"),
      e5n("double e5m2 nosat");
  std::uint64_t double_rounding_cases = 0;
  const value_table t4 = table_from(0x7E, [](unsigned c) { return cuda_fp8_to_float(c, __NV_E4M3); });
  for_each_double(0xD8D8D8D8ull, -22, 18, t4, [&](double x) {
    const std::uint64_t b = dbits(x);
    const unsigned c4s = __nv_cvt_double_to_fp8(x, __NV_SATFINITE, __NV_E4M3);
    const unsigned p4s = pqt::encode<fmt::e4m3, rounding::nearest_even, overflow::saturate>(x);
    e4s.check(b, 16, c4s, p4s, [&] { return d2_double_nan(b, true, c4s, p4s); });
    const unsigned c4n = __nv_cvt_double_to_fp8(x, __NV_NOSAT, __NV_E4M3);
    const unsigned p4n = pqt::encode<fmt::e4m3, rounding::nearest_even, overflow::nonsaturating>(x);
    e4n.check(b, 16, c4n, p4n,
              [&] { return d2_double_nan(b, true, c4n, p4n) || d1_e4m3_negative_overflow(x, c4n, p4n); });
    const unsigned c5s = __nv_cvt_double_to_fp8(x, __NV_SATFINITE, __NV_E5M2);
    const unsigned p5s = pqt::encode<fmt::e5m2, rounding::nearest_even, overflow::saturate>(x);
    e5s.check(b, 16, c5s, p5s, [&] { return d2_double_nan(b, false, c5s, p5s); });
    const unsigned c5n = __nv_cvt_double_to_fp8(x, __NV_NOSAT, __NV_E5M2);
    const unsigned p5n = pqt::encode<fmt::e5m2, rounding::nearest_even, overflow::nonsaturating>(x);
    e5n.check(b, 16, c5n, p5n, [&] { return d2_double_nan(b, false, c5n, p5n); });
    if (p4s != pqt::encode<fmt::e4m3, rounding::nearest_even, overflow::saturate>(static_cast<float>(x)))
      ++double_rounding_cases;
  });
  e4s.finish();
  e4n.finish();
  e5s.finish();
  e5n.finish();
  MESSAGE(double_rounding_cases << " inputs where rounding via float would have differed (e4m3)");
  CHECK(double_rounding_cases > 0);  // the input mix really probes single rounding
  CHECK(e4n.documented > 0);
  CHECK(e5n.documented > 0);
}

// ====================================================== float -> FP6 / FP4
// Finite formats always saturate (README "Conversion semantics"), so pqt's nonsaturating request
// must give the same codes; NaN becomes +max in both libraries.
TEST_CASE("cuda oracle: float/double -> e2m3/e3m2 (FP6) and e2m1 (FP4), RN and RZ") {
  tally e23("e2m3 rn"), e32("e3m2 rn"), e21("e2m1 rn"), e23n("e2m3 rn, pqt nonsaturating"),
      e32n("e3m2 rn, pqt nonsaturating"), e21n("e2m1 rn, pqt nonsaturating"), e23z("e2m3 rz"),
      e32z("e3m2 rz"), e21z("e2m1 rz");
  for_each_float(0xF6F6F6F6ull, -8, 6, [&](float x) {
    const std::uint32_t b = fbits(x);
    const unsigned c23 = __nv_cvt_float_to_fp6(x, __NV_E2M3, cudaRoundNearest);
    const unsigned c32 = __nv_cvt_float_to_fp6(x, __NV_E3M2, cudaRoundNearest);
    const unsigned c21 = __nv_cvt_float_to_fp4(x, __NV_E2M1, cudaRoundNearest);
    e23.check(b, 8, c23, pqt::encode<fmt::e2m3, rounding::nearest_even, overflow::saturate>(x));
    e32.check(b, 8, c32, pqt::encode<fmt::e3m2, rounding::nearest_even, overflow::saturate>(x));
    e21.check(b, 8, c21, pqt::encode<fmt::e2m1, rounding::nearest_even, overflow::saturate>(x));
    e23n.check(b, 8, c23, pqt::encode<fmt::e2m3, rounding::nearest_even, overflow::nonsaturating>(x));
    e32n.check(b, 8, c32, pqt::encode<fmt::e3m2, rounding::nearest_even, overflow::nonsaturating>(x));
    e21n.check(b, 8, c21, pqt::encode<fmt::e2m1, rounding::nearest_even, overflow::nonsaturating>(x));
    e23z.check(b, 8, __nv_cvt_float_to_fp6(x, __NV_E2M3, cudaRoundZero),
               pqt::encode<fmt::e2m3, rounding::toward_zero, overflow::saturate>(x));
    e32z.check(b, 8, __nv_cvt_float_to_fp6(x, __NV_E3M2, cudaRoundZero),
               pqt::encode<fmt::e3m2, rounding::toward_zero, overflow::saturate>(x));
    e21z.check(b, 8, __nv_cvt_float_to_fp4(x, __NV_E2M1, cudaRoundZero),
               pqt::encode<fmt::e2m1, rounding::toward_zero, overflow::saturate>(x));
  });
  tally d23("double e2m3 rn"), d32("double e3m2 rn"), d21("double e2m1 rn");
  const value_table t6 = table_from(0x1F, [](unsigned c) { return cuda_fp6_to_float(c, __NV_E3M2); });
  for_each_double(0xD6D6D6D6ull, -8, 6, t6, [&](double x) {
    const std::uint64_t b = dbits(x);
    d23.check(b, 16, __nv_cvt_double_to_fp6(x, __NV_E2M3, cudaRoundNearest),
              pqt::encode<fmt::e2m3, rounding::nearest_even, overflow::saturate>(x));
    d32.check(b, 16, __nv_cvt_double_to_fp6(x, __NV_E3M2, cudaRoundNearest),
              pqt::encode<fmt::e3m2, rounding::nearest_even, overflow::saturate>(x));
    d21.check(b, 16, __nv_cvt_double_to_fp4(x, __NV_E2M1, cudaRoundNearest),
              pqt::encode<fmt::e2m1, rounding::nearest_even, overflow::saturate>(x));
  });
  for (tally* t : {&e23, &e32, &e21, &e23n, &e32n, &e21n, &e23z, &e32z, &e21z, &d23, &d32, &d21})
    t->finish();
}

// ================================================ float/double -> bf16, fp16
TEST_CASE("cuda oracle: float -> bf16, RN/RZ/RU/RD (nonsaturating)") {
  tally rn("bf16 rn"), rn2("bf16 __float2bfloat16"), rz("bf16 rz"), ru("bf16 ru"), rd("bf16 rd");
  for_each_float(0xBF16BF16ull, -126, 127, [&](float x) {
    const std::uint32_t b = fbits(x);
    const unsigned p = pqt::encode<fmt::bf16, rounding::nearest_even, overflow::nonsaturating>(x);
    rn.check(b, 8, raw(__float2bfloat16_rn(x)), p);
    rn2.check(b, 8, raw(__float2bfloat16(x)), p);
    rz.check(b, 8, raw(__float2bfloat16_rz(x)),
             pqt::encode<fmt::bf16, rounding::toward_zero, overflow::nonsaturating>(x));
    ru.check(b, 8, raw(__float2bfloat16_ru(x)),
             pqt::encode<fmt::bf16, rounding::upward, overflow::nonsaturating>(x));
    rd.check(b, 8, raw(__float2bfloat16_rd(x)),
             pqt::encode<fmt::bf16, rounding::downward, overflow::nonsaturating>(x));
  });
  for (tally* t : {&rn, &rn2, &rz, &ru, &rd}) t->finish();
}

TEST_CASE("cuda oracle: float -> fp16, RN/RZ/RU/RD (nonsaturating)") {
  tally rn("fp16 rn"), rn2("fp16 __float2half"), rz("fp16 rz"), ru("fp16 ru"), rd("fp16 rd");
  for_each_float(0xF16F16F1ull, -28, 17, [&](float x) {
    const std::uint32_t b = fbits(x);
    const unsigned p = pqt::encode<fmt::fp16, rounding::nearest_even, overflow::nonsaturating>(x);
    rn.check(b, 8, raw(__float2half_rn(x)), p);
    rn2.check(b, 8, raw(__float2half(x)), p);
    rz.check(b, 8, raw(__float2half_rz(x)),
             pqt::encode<fmt::fp16, rounding::toward_zero, overflow::nonsaturating>(x));
    ru.check(b, 8, raw(__float2half_ru(x)),
             pqt::encode<fmt::fp16, rounding::upward, overflow::nonsaturating>(x));
    rd.check(b, 8, raw(__float2half_rd(x)),
             pqt::encode<fmt::fp16, rounding::downward, overflow::nonsaturating>(x));
  });
  for (tally* t : {&rn, &rn2, &rz, &ru, &rd}) t->finish();
}

TEST_CASE("cuda oracle: double -> bf16 and fp16 (rounded once)") {
  tally bf("double bf16 rn"), hf("double fp16 rn");
  std::uint64_t bf_dr = 0, hf_dr = 0;
  const value_table tb = table_from(0x7F7F, [](unsigned c) { return cuda_bf16_to_float(static_cast<std::uint16_t>(c)); });
  const value_table th = table_from(0x7BFF, [](unsigned c) { return cuda_half_to_float(static_cast<std::uint16_t>(c)); });
  for_each_double(0xDB16DB16ull, -133, 127, tb, [&](double x) {
    const unsigned p = pqt::encode<fmt::bf16, rounding::nearest_even, overflow::nonsaturating>(x);
    bf.check(dbits(x), 16, raw(__double2bfloat16(x)), p);
    bf_dr += p != pqt::encode<fmt::bf16>(static_cast<float>(x));
  });
  for_each_double(0xDF16DF16ull, -28, 17, th, [&](double x) {
    const unsigned p = pqt::encode<fmt::fp16, rounding::nearest_even, overflow::nonsaturating>(x);
    hf.check(dbits(x), 16, raw(__double2half(x)), p);
    hf_dr += p != pqt::encode<fmt::fp16>(static_cast<float>(x));
  });
  bf.finish();
  hf.finish();
  MESSAGE(bf_dr << " / " << hf_dr << " inputs where rounding via float would have differed (bf16 / fp16)");
  CHECK(bf_dr > 0);
  CHECK(hf_dr > 0);
}

// ====================================================================== e8m0
// floor ~ cudaRoundZero, ceil and rceil ~ cudaRoundPosInf (rceil differs from
// ceil only in what scale.hpp feeds it). Both saturation modes.
TEST_CASE("cuda oracle: float -> e8m0, floor/ceil/rceil, satfinite and nosat") {
  using R = pqt::e8m0_rounding;
  tally fs("e8m0 floor satfinite"), fn("e8m0 floor nosat"), cs("e8m0 ceil satfinite"),
      cn("e8m0 ceil nosat"), rs("e8m0 rceil satfinite"), rn("e8m0 rceil nosat");
  for_each_float(0xE8E0E8E0ull, -126, 127, [&](float x) {
    const std::uint32_t b = fbits(x);
    const unsigned czs = __nv_cvt_float_to_e8m0(x, __NV_SATFINITE, cudaRoundZero);
    const unsigned czn = __nv_cvt_float_to_e8m0(x, __NV_NOSAT, cudaRoundZero);
    const unsigned cps = __nv_cvt_float_to_e8m0(x, __NV_SATFINITE, cudaRoundPosInf);
    const unsigned cpn = __nv_cvt_float_to_e8m0(x, __NV_NOSAT, cudaRoundPosInf);
    fs.check(b, 8, czs, pqt::encode_e8m0(x, R::floor, overflow::saturate));
    fn.check(b, 8, czn, pqt::encode_e8m0(x, R::floor, overflow::nonsaturating));
    cs.check(b, 8, cps, pqt::encode_e8m0(x, R::ceil, overflow::saturate));
    cn.check(b, 8, cpn, pqt::encode_e8m0(x, R::ceil, overflow::nonsaturating));
    rs.check(b, 8, cps, pqt::encode_e8m0(x, R::rceil, overflow::saturate));
    rn.check(b, 8, cpn, pqt::encode_e8m0(x, R::rceil, overflow::nonsaturating));
  });
  for (tally* t : {&fs, &fn, &cs, &cn, &rs, &rn}) t->finish();
}

TEST_CASE("cuda oracle: double -> e8m0, floor/ceil, satfinite and nosat") {
  using R = pqt::e8m0_rounding;
  tally fs("double e8m0 floor satfinite"), fn("double e8m0 floor nosat"),
      cs("double e8m0 ceil satfinite"), cn("double e8m0 ceil nosat");
  value_table t;
  t.v.push_back(0.0);
  for (unsigned c = 0; c <= 0xFE; ++c) t.v.push_back(cuda_e8m0_to_float(c));
  t.next = 2 * t.v.back();
  for_each_double(0xDE8DE8ull, -140, 140, t, [&](double x) {
    const std::uint64_t b = dbits(x);
    fs.check(b, 16, __nv_cvt_double_to_e8m0(x, __NV_SATFINITE, cudaRoundZero),
             pqt::encode_e8m0(x, R::floor, overflow::saturate));
    fn.check(b, 16, __nv_cvt_double_to_e8m0(x, __NV_NOSAT, cudaRoundZero),
             pqt::encode_e8m0(x, R::floor, overflow::nonsaturating));
    cs.check(b, 16, __nv_cvt_double_to_e8m0(x, __NV_SATFINITE, cudaRoundPosInf),
             pqt::encode_e8m0(x, R::ceil, overflow::saturate));
    cn.check(b, 16, __nv_cvt_double_to_e8m0(x, __NV_NOSAT, cudaRoundPosInf),
             pqt::encode_e8m0(x, R::ceil, overflow::nonsaturating));
  });
  for (tally* tt : {&fs, &fn, &cs, &cn}) tt->finish();
}

// Finite |x| >= 2^128 with floor and no saturation: CUDA 13's
// __nv_cvt_double_to_e8m0 returns 0xFE (2^127) (it rounds x to float with a
// sticky bit, FLT_MAX, and truncates), as README "Conversion semantics" states (toward_zero
// never overflows, it gives max). For float inputs the only such x is +-Inf,
// where both give 0xFF.
TEST_CASE("cuda oracle: double -> e8m0 floor nosat for finite |x| >= 2^128") {
  tally t("double e8m0 floor nosat, finite |x| >= 2^128");
  splitmix64 g{0xB16B16ull};
  for (int i = 0; i < 10000; ++i) {
    const std::uint64_t r = g.next();
    const int e = 128 + static_cast<int>(r % 896);  // 2^128 .. 2^1023
    const double x = from_dbits(((r >> 20) & 1) << 63 | static_cast<std::uint64_t>(e + 1023) << 52 |
                                (g.next() & ((std::uint64_t{1} << 52) - 1)));
    t.check(dbits(x), 16, __nv_cvt_double_to_e8m0(x, __NV_NOSAT, cudaRoundZero),
            pqt::encode_e8m0(x, pqt::e8m0_rounding::floor, overflow::nonsaturating));
  }
  t.finish();
}

// ==================================================================== decode
TEST_CASE("cuda oracle: decode every code of e4m3, e5m2, e2m3, e3m2, e2m1, e8m0, bf16, fp16") {
  tally d4("decode e4m3"), d5("decode e5m2"), d23("decode e2m3"), d32("decode e3m2"),
      d21("decode e2m1"), d80("decode e8m0"), dbf("decode bf16"), dhf("decode fp16");
  for (unsigned c = 0; c < 256; ++c) {
    const auto c8 = static_cast<std::uint8_t>(c);
    d4.check_float(c, cuda_fp8_to_float(c, __NV_E4M3), pqt::decode<fmt::e4m3>(c8));
    d5.check_float(c, cuda_fp8_to_float(c, __NV_E5M2), pqt::decode<fmt::e5m2>(c8));
    d80.check_float(c, cuda_e8m0_to_float(c), pqt::decode<fmt::e8m0>(c8));
    if (c < 64) {
      d23.check_float(c, cuda_fp6_to_float(c, __NV_E2M3), pqt::decode<fmt::e2m3>(c8));
      d32.check_float(c, cuda_fp6_to_float(c, __NV_E3M2), pqt::decode<fmt::e3m2>(c8));
    }
    if (c < 16) d21.check_float(c, cuda_fp4_to_float(c), pqt::decode<fmt::e2m1>(c8));
  }
  for (std::uint32_t c = 0; c < 0x10000u; ++c) {
    const auto c16 = static_cast<std::uint16_t>(c);
    dbf.check_float(c, cuda_bf16_to_float(c16), pqt::decode<fmt::bf16>(c16));
    dhf.check_float(c, cuda_half_to_float(c16), pqt::decode<fmt::fp16>(c16));
  }
  for (tally* t : {&d4, &d5, &d23, &d32, &d21, &d80, &dbf, &dhf}) t->finish();
  CHECK(d4.checked == 256);
  CHECK(d23.checked == 64);
  CHECK(d21.checked == 16);
}

#else  // !PQT_HAVE_CUDA_HEADERS

TEST_CASE("cuda oracle: skipped") {
  MESSAGE("skipped: the CUDA toolkit headers (cuda_fp8.h, cuda_fp6.h, cuda_fp4.h, cuda_bf16.h, "
          "cuda_fp16.h) were not found, so there is no NVIDIA oracle to compare pqt against");
}

#endif

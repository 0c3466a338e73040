// The float fast paths on codes == the generic routine (format_desc::encode /
// decode), bit for bit:
//  * encode_float_fast and decode_fast with run-time parameters (what the
//    tensor loops use) on every format of the matrix that takes the fast
//    paths, every mode, both overflow policies, at every value, midpoint and
//    +-1 ulp and on random floats; decode_fast on every code;
//  * the truncated-float route of the E8 bias-127 formats (bf16, E8Mm) for
//    M = 1..22;
//  * the compile-time route, pqt::encode<F, R, O, K> / decode<F>: every mode
//    on the named formats, three modes on the corners of the matrix (E 1, 2,
//    8 x M 0, 1, 7, each encoding); and make_fast_params evaluated at compile
//    time (where undefined behaviour is a compile error) == at run time for
//    every format of the matrix. The route differs from the run-time path only
//    in where the parameters are computed, so this costs a few hundred
//    instantiations instead of one per format and mode (~7000, 3.5 minutes of
//    compiling). PQT_OPTIMIZE
#include <doctest/doctest.h>

#include <utility>

#include <pqt/convert.hpp>
#include <pqt/runtime.hpp>

#include "support/fast_paths.hpp"
#include "support/matrix.hpp"
#include "support/splitmix64.hpp"

namespace {

using pqt::encoding;
using pqt::overflow;
using pqt::rounding;
using pqt::detail::bit_cast;

struct counts {
  std::uint64_t checks = 0, mismatches = 0, formats = 0;
  void add(bool bad) {
    mismatches += bad;
    ++checks;
  }
};

const std::uint32_t kWords[] = {0u, 1u, 0x12345678u, 0x80000000u, 0x9E3779B9u, 0xFFFFFFFFu};

__attribute__((noinline)) void report(const char* what, const pqt::format_desc& d, rounding r, overflow o, int k,
                                      float x, std::uint32_t rbits, std::uint32_t got, std::uint32_t want) {
  MESSAGE(what << ": " << d.name() << " " << std::string(pqt::to_string(r)) << " " << std::string(pqt::to_string(o))
               << " K=" << k << " x=" << x << " r=" << rbits << ": got " << got << ", generic routine " << want);
}

bool same_float(float a, float b) { return bit_cast<std::uint32_t>(a) == bit_cast<std::uint32_t>(b) || (a != a && b != b); }

/// probe_inputs plus random floats of every exponent (subnormals, NaN payloads).
std::vector<float> inputs_for(const pqt::format_desc& d, std::uint64_t seed) {
  std::vector<float> in = pqt_test::probe_inputs(d);
  pqt_test::splitmix64 rng{seed};
  for (int i = 0; i < 2000; ++i) in.push_back(bit_cast<float>(rng.word()));
  return in;
}

// ---- run-time parameters: encode_float_fast, decode_fast ---------------------

void fast_codes(const pqt::format_desc& d, rounding m, overflow o, const std::vector<float>& in, int k, counts& n) {
  const pqt::detail::fast_params p = pqt::detail::make_fast_params(d.facts(), m, o);
  for (float x : in)
    for (std::uint32_t r : kWords) {
      const std::uint32_t want = d.encode(x, m, o, r, k), got = pqt_test::fast_code(p, x, r, k);
      if (got != want && n.mismatches < 10) report("encode_float_fast", d, m, o, k, x, r, got, want);
      n.add(got != want);
      if (m != rounding::stochastic) break;
    }
}

void fast_codes_modes(const pqt::format_desc& d, overflow o, const std::vector<float>& in, counts& n) {
  pqt_test::for_each_fast_mode([&](rounding m, int k) { fast_codes(d, m, o, in, k, n); });
}

}  // namespace

TEST_CASE("encode_float_fast == format_desc::encode and decode_fast == decode: every fast-path format of the matrix") {
  counts n, dec;
  for (const auto& m : pqt_test::checked_matrix()) {  // support/matrix.hpp: a quarter under ASan
    if (!pqt::detail::fast_path_applies(m.desc.facts())) continue;
    const std::vector<float> in = inputs_for(m.desc, 11);
    fast_codes_modes(m.desc, overflow::saturate, in, n);
    fast_codes_modes(m.desc, overflow::nonsaturating, in, n);
    const pqt::detail::fast_params p =
        pqt::detail::make_fast_params(m.desc.facts(), rounding::nearest_even, overflow::nonsaturating);
    for (std::uint64_t c = 0; c < m.desc.code_count(); ++c) {
      const auto code = static_cast<std::uint32_t>(c);
      const bool bad = !same_float(pqt::detail::decode_fast(p, code), m.desc.decode(code));
      if (bad && dec.mismatches < 10) MESSAGE("decode_fast: " << m.desc.name() << " code " << code);
      dec.add(bad);
    }
    ++n.formats;
  }
  MESSAGE(n.formats << " formats, " << n.checks << " encodes, " << dec.checks << " decodes");
  CHECK(n.formats > 300 / pqt_test::matrix_stride);
  CHECK(n.checks > 10000000 / pqt_test::matrix_stride);
  CHECK(n.mismatches == 0);
  CHECK(dec.checks > 100000 / pqt_test::matrix_stride);
  CHECK(dec.mismatches == 0);
}

// ---- the truncated-float route (bf16 and the other E8Mm) ---------------------

namespace {

template <int M>
void truncated(counts& n) {
  const pqt::format_desc d(8, M, encoding::ieee, 127, true);
  constexpr int s = 23 - M;
  pqt_test::splitmix64 rng{static_cast<std::uint64_t>(M)};
  std::vector<float> in = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, 3.4028235e38f, -3.4028235e38f, 1e-45f};
  for (int i = 0; i < 20000; ++i) {
    const std::uint32_t b = rng.word();
    const std::uint32_t cut = b & ~((1u << s) - 1u), half = 1u << (s - 1);
    // The float itself, and its exact tie and the floats either side of it.
    for (std::uint32_t v : {b, cut, cut | half, cut | (half - 1u), cut | (half + 1u)}) in.push_back(bit_cast<float>(v));
  }
  for (float x : in) {
    const std::uint32_t want = d.encode(x, rounding::nearest_even, overflow::nonsaturating);
    const std::uint32_t got = pqt::detail::encode_truncated_float_rne<M>(x);
    if (got != want && n.mismatches < 10) report("encode_truncated_float_rne", d, rounding::nearest_even, overflow::nonsaturating, 32, x, 0, got, want);
    n.add(got != want);
    const std::uint32_t code = M <= 7 ? static_cast<std::uint32_t>(n.checks % d.code_count()) : rng.word() >> (23 - M);
    n.add(!same_float(pqt::detail::decode_truncated_float<M>(code), d.decode(code)));
  }
  ++n.formats;
}

template <int... Ms>
void truncated_all(counts& n, std::integer_sequence<int, Ms...>) {
  (truncated<Ms + 1>(n), ...);
}

}  // namespace

TEST_CASE("encode_truncated_float_rne / decode_truncated_float == the generic routine: E8M1..E8M22") {
  counts n;
  truncated_all(n, std::make_integer_sequence<int, 22>{});
  CHECK(n.formats == 22);
  CHECK(n.checks > 22 * 200000);
  CHECK(n.mismatches == 0);
}

// ---- the compile-time route --------------------------------------------------

namespace {

template <class F, rounding R, overflow O, int K>
__attribute__((noinline)) void route(const pqt::format_desc& d, const std::vector<float>& in, counts& n) {
  for (float x : in)
    for (std::uint32_t r : kWords) {
      const std::uint32_t want = d.encode(x, R, O, r, K);
      const std::uint32_t got = pqt::encode<F, R, O, K>(x, r);
      if (got != want && n.mismatches < 10) report("pqt::encode<F>", d, R, O, K, x, r, got, want);
      n.add(got != want);
      n.add(!same_float(pqt::decode<F>(static_cast<pqt::storage_t<F>>(got)), d.decode(got)));
      if (R != rounding::stochastic) break;
    }
}

template <class F, overflow O>
void route_modes(const pqt::format_desc& d, const std::vector<float>& in, counts& n) {
  route<F, rounding::nearest_even, O, 32>(d, in, n);
  route<F, rounding::nearest_away, O, 32>(d, in, n);
  route<F, rounding::toward_zero, O, 32>(d, in, n);
  route<F, rounding::upward, O, 32>(d, in, n);
  route<F, rounding::downward, O, 32>(d, in, n);
  route<F, rounding::odd, O, 32>(d, in, n);
  route<F, rounding::stochastic, O, 32>(d, in, n);
  route<F, rounding::stochastic, O, 3>(d, in, n);
}

template <class F>
void route_named(counts& n) {
  const auto d = pqt::format_desc::of<F>();
  std::vector<float> in;
  if (d.total_bits() <= 16) {
    in = inputs_for(d, 5);
  } else {  // fp32: a spread of float bit patterns
    for (std::uint32_t b = 0; b < 0xFFFF0000u; b += 0x10001u) in.push_back(bit_cast<float>(b));
  }
  route_modes<F, overflow::saturate>(d, in, n);
  route_modes<F, overflow::nonsaturating>(d, in, n);
  ++n.formats;
}

template <int E, int M, encoding Enc, bool S>
void route_corner(counts& n) {
  constexpr pqt::detail::format_facts facts{E, M, Enc, pqt::detail::default_bias_for(E, Enc), S};
  if constexpr (facts.valid()) {
    using F = pqt::format<E, M, Enc, pqt::default_bias, S>;
    const auto d = pqt::format_desc::of<F>();
    const auto in = inputs_for(d, 9);
    route<F, rounding::nearest_even, overflow::nonsaturating, 32>(d, in, n);
    route<F, rounding::toward_zero, overflow::saturate, 32>(d, in, n);
    route<F, rounding::stochastic, overflow::saturate, 3>(d, in, n);
    ++n.formats;
  }
}

template <encoding Enc, int... Es>
void route_corners(counts& n, std::integer_sequence<int, Es...>) {
  ((route_corner<Es, 0, Enc, true>(n), route_corner<Es, 1, Enc, true>(n), route_corner<Es, 7, Enc, true>(n)), ...);
  if constexpr (Enc != encoding::fnuz) {
    route_corner<1, 0, Enc, false>(n);
    route_corner<8, 7, Enc, false>(n);
  }
}

// make_fast_params in a constant expression == at run time.
bool same_params(const pqt::detail::fast_params& a, const pqt::detail::fast_params& b) {
  auto f = [](float v) { return bit_cast<std::uint32_t>(v); };
  return a.f.e == b.f.e && a.f.m == b.f.m && a.f.enc == b.f.enc && a.f.bias == b.f.bias &&
         a.f.is_signed == b.f.is_signed && a.s == b.s && a.half == b.half && a.low == b.low &&
         a.min_normal_bits == b.min_normal_bits && a.rebias == b.rebias && f(a.scale_up1) == f(b.scale_up1) &&
         f(a.scale_up2) == f(b.scale_up2) && a.sub_limit == b.sub_limit && f(a.sub_scale) == f(b.sub_scale) &&
         a.max_mag == b.max_mag && a.sign_mask == b.sign_mask && a.nan_code == b.nan_code &&
         a.inf_code == b.inf_code && a.mag_all_ones == b.mag_all_ones && a.mant_all_ones == b.mant_all_ones &&
         a.exp_all_ones == b.exp_all_ones && a.sign_shift == b.sign_shift && a.has_inf == b.has_inf &&
         a.has_nan == b.has_nan && a.has_negative_zero == b.has_negative_zero && a.is_signed == b.is_signed &&
         a.finite == b.finite && a.ieee == b.ieee && a.fn == b.fn && a.fnuz == b.fnuz && a.special == b.special &&
         a.nan_out == b.nan_out && a.has_nan_u == b.has_nan_u && a.has_negzero_u == b.has_negzero_u &&
         a.unsigned_u == b.unsigned_u && a.finite_u == b.finite_u && a.ieee_u == b.ieee_u && a.fn_u == b.fn_u &&
         a.fnuz_u == b.fnuz_u && a.signed_u == b.signed_u && a.max_value_bits == b.max_value_bits &&
         a.special_value_bits == b.special_value_bits && f(a.sub_magic) == f(b.sub_magic) && a.mode == b.mode &&
         a.away_u == b.away_u && a.upward_u == b.upward_u && a.downward_u == b.downward_u && a.odd_u == b.odd_u &&
         a.clamp_pos_u == b.clamp_pos_u && a.clamp_neg_u == b.clamp_neg_u && a.saturate_u == b.saturate_u;
}

template <int E, int M, encoding Enc, bool S>
void params_at_compile_time(counts& n) {
  constexpr pqt::detail::format_facts facts{E, M, Enc, pqt::detail::default_bias_for(E, Enc), S};
  if constexpr (facts.valid() && pqt::detail::fast_path_applies(facts)) {
    constexpr pqt::detail::fast_params at_compile_time =
        pqt::detail::make_fast_params(facts, rounding::upward, overflow::saturate);
    const pqt::format_desc d(E, M, Enc, pqt::default_bias, S);  // a run-time value
    const bool bad =
        !same_params(at_compile_time, pqt::detail::make_fast_params(d.facts(), rounding::upward, overflow::saturate));
    if (bad) MESSAGE("make_fast_params differs at compile time: " << d.name());
    n.add(bad);
  }
}

template <encoding Enc, int E, int... Ms>
void params_over_m(counts& n, std::integer_sequence<int, Ms...>) {
  (params_at_compile_time<E, Ms, Enc, true>(n), ...);
  (params_at_compile_time<E, Ms, Enc, false>(n), ...);
}

template <encoding Enc, int... Es>
void params_over_e(counts& n, std::integer_sequence<int, Es...>) {
  (params_over_m<Enc, Es + 1>(n, std::make_integer_sequence<int, 8>{}), ...);
}

}  // namespace

TEST_CASE("pqt::encode<F, R, O, K> and decode<F> == format_desc: every mode on the named formats") {
  counts n;
  route_named<pqt::fmt::e4m3>(n);
  route_named<pqt::fmt::e5m2>(n);
  route_named<pqt::fmt::e4m3fnuz>(n);
  route_named<pqt::fmt::e5m2fnuz>(n);
  route_named<pqt::fmt::e3m2>(n);
  route_named<pqt::fmt::e2m3>(n);
  route_named<pqt::fmt::e2m1>(n);
  route_named<pqt::fmt::ue4m3>(n);
  route_named<pqt::fmt::e8m0>(n);
  route_named<pqt::fmt::bf16>(n);
  route_named<pqt::fmt::fp16>(n);
  route_named<pqt::fmt::fp32>(n);
  CHECK(n.formats == 12);
  CHECK(n.checks > 1000000);
  CHECK(n.mismatches == 0);
}

TEST_CASE("pqt::encode<F, R, O, K> == format_desc on the corners of the matrix, every encoding") {
  counts n;
  route_corners<encoding::ieee>(n, std::integer_sequence<int, 1, 2, 8>{});
  route_corners<encoding::fn>(n, std::integer_sequence<int, 1, 2, 8>{});
  route_corners<encoding::fnuz>(n, std::integer_sequence<int, 1, 2, 8>{});
  route_corners<encoding::finite>(n, std::integer_sequence<int, 1, 2, 8>{});
  MESSAGE(n.formats << " formats, " << n.checks << " checks");
  CHECK(n.formats > 30);
  CHECK(n.mismatches == 0);
}

TEST_CASE("make_fast_params in a constant expression == at run time: every fast-path format of the matrix") {
  counts n;
  params_over_e<encoding::ieee>(n, std::make_integer_sequence<int, 8>{});
  params_over_e<encoding::fn>(n, std::make_integer_sequence<int, 8>{});
  params_over_e<encoding::fnuz>(n, std::make_integer_sequence<int, 8>{});
  params_over_e<encoding::finite>(n, std::make_integer_sequence<int, 8>{});
  std::uint64_t want = 0;  // the same set, counted at run time
  for (encoding enc : {encoding::ieee, encoding::fn, encoding::fnuz, encoding::finite})
    for (int e = 1; e <= 8; ++e)
      for (int m = 0; m <= 7; ++m)
        for (bool s : {true, false}) {
          const pqt::detail::format_facts f{e, m, enc, pqt::detail::default_bias_for(e, enc), s};
          want += f.valid() && pqt::detail::fast_path_applies(f);
        }
  CHECK(want > 300);
  CHECK(n.checks == want);
  CHECK(n.mismatches == 0);
}

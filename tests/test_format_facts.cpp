// Known values of the named formats, checked at compile time (static_assert)
// and again at run time on volatile inputs so nothing is constant-folded;
// the minifloat value type; format_desc validation.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include <pqt/minifloat.hpp>
#include <pqt/runtime.hpp>

#include "support/matrix.hpp"

using namespace pqt;

// ---- compile time -------------------------------------------------------------
static_assert(fmt::e4m3::max() == 448.0f && fmt::e4m3::max_code == 0x7E && fmt::e4m3::nan_code == 0x7F);
static_assert(fmt::e4m3::min_subnormal() == 0x1p-9f && fmt::e4m3::min_normal() == 0x1p-6f);
static_assert(fmt::e5m2::max() == 57344.0f && fmt::e5m2::inf_code == 0x7C && fmt::e5m2::nan_code == 0x7F);
static_assert(fmt::e5m2::min_subnormal() == 0x1p-16f);
static_assert(fmt::e4m3fnuz::max() == 240.0f && fmt::e4m3fnuz::nan_code == 0x80 && fmt::e4m3fnuz::bias == 8);
static_assert(fmt::e5m2fnuz::max() == 57344.0f && fmt::e5m2fnuz::bias == 16);
static_assert(fmt::e3m2::max() == 28.0f && fmt::e2m3::max() == 7.5f && fmt::e2m1::max() == 6.0f);
static_assert(fmt::ue4m3::max() == 448.0f && !fmt::ue4m3::is_signed && fmt::ue4m3::total_bits == 7);
static_assert(fmt::bf16::max() == 0x1.FEp127f && fmt::fp16::max() == 65504.0f);
static_assert(fmt::e8m0::lowest() == 0x1p-127f && fmt::e8m0::max() == 0x1p127f && fmt::e8m0::nan_code == 0xFF);
static_assert(!fmt::e8m0::has_zero && fmt::e8m0::finite_codes == 255);
static_assert(fmt::e4m3::finite_codes == 254 && fmt::e4m3::finite_values == 253);
static_assert(fmt::e4m3fnuz::finite_codes == 255 && fmt::e4m3fnuz::finite_values == 255);
static_assert(fmt::e2m1::finite_codes == 16 && fmt::e2m1::finite_values == 15);
static_assert(fmt::e5m2::finite_codes == 248);
static_assert(fmt::e8m<3>::max() == 0x1.Ep127f);
static_assert(std::is_same<storage_t<fmt::e2m1>, std::uint8_t>::value &&
              std::is_same<storage_t<fmt::bf16>, std::uint16_t>::value &&
              std::is_same<storage_t<format<8, 16>>, std::uint32_t>::value);
// E2M1's eight magnitudes, in code order.
constexpr float e2m1_values[8] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
constexpr bool e2m1_table_ok() {
  for (unsigned c = 0; c < 8; ++c)
    if (decode<fmt::e2m1>(static_cast<std::uint8_t>(c)) != e2m1_values[c] ||
        decode<fmt::e2m1>(static_cast<std::uint8_t>(c | 8)) != -e2m1_values[c])
      return false;
  return true;
}
static_assert(e2m1_table_ok());
// Encode at compile time: ties, overflow, saturation, the IEEE overflow exceptions.
static_assert(encode<fmt::e4m3>(464.0f) == 0x7E);  // tie -> even 448
static_assert(encode<fmt::e4m3>(465.0f) == 0x7F);  // overflow -> NaN
static_assert(encode<fmt::e4m3, rounding::nearest_even, overflow::saturate>(1e9f) == 0x7E);
static_assert(encode<fmt::e5m2, rounding::toward_zero>(1e9f) == 0x7B);
static_assert(encode<fmt::e5m2, rounding::upward>(-1e9f) == 0xFB);
static_assert(encode<fmt::e5m2, rounding::upward>(1e9f) == 0x7C);
static_assert(encode<fmt::e2m1>(5.0f) == 0x6 && encode<fmt::e2m1>(0.25f) == 0x0 && encode<fmt::e2m1>(-0.25f) == 0x8);
static_assert(encode<fmt::e4m3fnuz>(-1e-9f) == 0x00);  // no -0 in fnuz
static_assert(encode<fmt::e2m1, rounding::stochastic, overflow::saturate, 2>(1.25f, 2) == 0x3);  // t_k = 2, r = 2
static_assert(encode<fmt::e2m1, rounding::stochastic, overflow::saturate, 2>(1.25f, 1) == 0x2);
static_assert(encode<fmt::bf16>(1.0) == 0x3F80 && encode<fmt::fp16>(65520.0f) == 0x7C00);
static_assert(encode_e8m0(3.0f, e8m0_rounding::floor) == 128 && encode_e8m0(3.0f, e8m0_rounding::ceil) == 129);
static_assert(encode_e8m0(0.0f, e8m0_rounding::floor) == 0 && encode_e8m0(1e-40f, e8m0_rounding::ceil) == 0);
static_assert(float(e4m3{1.3f}) == 1.25f && e4m3{1.3f}.bits() == 0x3A);
static_assert(std::numeric_limits<e4m3>::max().bits() == 0x7E && std::numeric_limits<e5m2>::infinity().bits() == 0x7C);

// ---- run time, on volatile inputs ------------------------------------------------
TEST_CASE("the same facts at run time, on volatile inputs") {
  volatile float v464 = 464.0f, v465 = 465.0f, vbig = 1e9f, v125 = 1.25f, v5 = 5.0f;
  volatile std::uint32_t r2 = 2, r1 = 1;
  volatile std::uint8_t c7e = 0x7E, c7f = 0x7F, c80 = 0x80, cfe = 0xFE, c0 = 0;
  CHECK(decode<fmt::e4m3>(c7e) == 448.0f);
  CHECK(std::isnan(decode<fmt::e4m3>(c7f)));
  CHECK(std::isnan(decode<fmt::e4m3fnuz>(c80)));
  CHECK(decode<fmt::e8m0>(cfe) == 0x1p127f);
  CHECK(decode<fmt::e8m0>(c0) == 0x1p-127f);
  CHECK(encode<fmt::e4m3>(v464) == 0x7E);
  CHECK(encode<fmt::e4m3>(v465) == 0x7F);
  CHECK(encode<fmt::e4m3, rounding::nearest_even, overflow::saturate>(vbig) == 0x7E);
  CHECK(encode<fmt::e5m2, rounding::toward_zero>(vbig) == 0x7B);
  CHECK(encode<fmt::e2m1>(v5) == 0x6);
  CHECK(encode<fmt::e2m1, rounding::stochastic, overflow::saturate, 2>(v125, r2) == 0x3);
  CHECK(encode<fmt::e2m1, rounding::stochastic, overflow::saturate, 2>(v125, r1) == 0x2);
  for (unsigned c = 0; c < 8; ++c) {
    volatile std::uint8_t vc = static_cast<std::uint8_t>(c);
    CHECK(decode<fmt::e2m1>(vc) == e2m1_values[c]);
  }
  volatile float m1 = fmt::e5m2::max(), m2 = fmt::e3m2::max(), m3 = fmt::e2m3::max();
  CHECK(m1 == 57344.0f);
  CHECK(m2 == 28.0f);
  CHECK(m3 == 7.5f);
}

TEST_CASE("format_desc reports the compile-time facts for every named format") {
  auto same = [](auto tag) {
    using F = decltype(tag);
    const auto d = format_desc::of<F>();
    CHECK(d.max() == F::max());
    CHECK(d.lowest() == F::lowest());
    CHECK(d.min_normal() == F::min_normal());
    CHECK(d.min_subnormal() == F::min_subnormal());
    CHECK(d.epsilon() == F::epsilon());
    CHECK(d.finite_codes() == F::finite_codes);
    CHECK(d.finite_values() == F::finite_values);
    CHECK(d.has_inf() == F::has_inf);
    CHECK(d.has_nan() == F::has_nan);
    CHECK(d.has_negative_zero() == F::has_negative_zero);
    CHECK(d.nan_code() == F::nan_code);
    CHECK(d.max_code() == F::max_code);
    CHECK(d.storage_bytes() == static_cast<int>(sizeof(typename F::storage_type)));
    CHECK(format_desc::parse(d.name()) == d);
  };
  same(fmt::e4m3{});
  same(fmt::e5m2{});
  same(fmt::e4m3fnuz{});
  same(fmt::e5m2fnuz{});
  same(fmt::e3m2{});
  same(fmt::e2m3{});
  same(fmt::e2m1{});
  same(fmt::ue4m3{});
  same(fmt::e8m0{});
  same(fmt::bf16{});
  same(fmt::fp16{});
  same(fmt::fp32{});
  CHECK(format_desc::parse("e8m3") == format_desc::of<fmt::e8m<3>>());
  CHECK(format_desc::parse("e8m7") == format_desc::of<fmt::bf16>());
  // finite_codes counted by brute force over every code.
  for (const auto& n : named_formats()) {
    if (n.desc.total_bits() > 16) continue;
    std::uint64_t finite = 0;
    for (std::uint64_t c = 0; c < n.desc.code_count(); ++c) finite += std::isfinite(n.desc.decode(static_cast<std::uint32_t>(c)));
    CHECK_MESSAGE(finite == n.desc.finite_codes(), n.name);
  }
}

TEST_CASE("format_desc rejects impossible formats with the reason") {
  auto why = [](int e, int m, encoding enc, int bias, bool s) -> std::string {
    try {
      format_desc d(e, m, enc, bias, s);
      return "";
    } catch (const std::invalid_argument& ex) {
      return ex.what();
    }
  };
  CHECK(why(0, 3, encoding::ieee, default_bias, true).find("E must be in 1..8") != std::string::npos);
  CHECK(why(9, 3, encoding::ieee, default_bias, true).find("E must be in 1..8") != std::string::npos);
  CHECK(why(4, 24, encoding::ieee, default_bias, true).find("M must be in 0..23") != std::string::npos);
  CHECK(why(8, 23, encoding::ieee, default_bias, true).empty());
  CHECK(why(8, 23, encoding::ieee, default_bias, false).empty());
  CHECK(why(8, 0, encoding::scale, 127, true).find("unsigned with M = 0") != std::string::npos);
  CHECK(why(4, 3, encoding::fnuz, default_bias, false).find("must be signed") != std::string::npos);
  CHECK(why(1, 0, encoding::ieee, default_bias, true).find("no positive finite value") != std::string::npos);
  CHECK(why(8, 3, encoding::finite, default_bias, true).find("above float's range") != std::string::npos);
  CHECK(why(8, 3, encoding::finite, 128, true).empty());
  CHECK(why(4, 3, encoding::ieee, 200, true).find("below float's range") != std::string::npos);
  CHECK(why(4, 3, encoding::ieee, 5000, true).find("bias must be in") != std::string::npos);
  CHECK_THROWS_AS(format_desc::parse("e4m3x"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(format_desc::parse("nope"), doctest::Contains("e4m3"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(parse_rounding("fast"), doctest::Contains("nearest_even"), std::invalid_argument);
  const auto d = format_desc::parse("e4m3");
  CHECK_THROWS_AS(d.encode(1.0f, rounding::stochastic, overflow::saturate, 0, 0), std::invalid_argument);
  CHECK_THROWS_AS(d.encode(1.0f, rounding::stochastic, overflow::saturate, 0, 33), std::invalid_argument);
  CHECK_THROWS_AS(d.encode(1.0f, rounding::gaussian), std::invalid_argument);
  CHECK_THROWS_AS(d.decode(0x100), std::invalid_argument);
}

TEST_CASE("minifloat: IEEE defaults, arithmetic rounded once, comparisons, limits, I/O") {
  CHECK(e4m3{465.0f}.is_nan());                         // nonsaturating by default
  CHECK(e5m2{1e6f}.bits() == std::numeric_limits<e5m2>::infinity().bits());
  CHECK(float(e2m1{100.0f}) == 6.0f);                   // finite formats saturate
  CHECK(float(bf16{0.1}) == 0.10009765625f);            // double rounds once
  CHECK(float(e2m1::from_bits(0x7)) == 6.0f);
  CHECK(float(e8m<3>{100}) == 96.0f);
  // Arithmetic: computed wide, rounded once to the format.
  CHECK(float(e4m3{1.0f} + e4m3{0.0625f}) == 1.0f);     // 1.0625 ties to even 1.0
  CHECK(float(e4m3{1.0f} + e4m3{0.1875f}) == 1.25f);
  CHECK(float(bf16{3.0f} / bf16{7.0f}) == float(bf16{3.0 / 7.0}));
  CHECK(float(e8m<23>{1.0f} / e8m<23>{3.0f}) == 1.0f / 3.0f);  // compute in double, round once
  e5m2 acc{0.0f};
  for (int i = 0; i < 10; ++i) acc += e5m2{1.0f};
  CHECK(float(acc) == 8.0f);  // 8 + 1 = 9 ties to even 8 (E5M2 spacing is 2 there): swamping
  // Comparisons: NaN unordered, -0 == +0.
  const e4m3 nan = std::numeric_limits<e4m3>::quiet_NaN();
  CHECK_FALSE(nan == nan);
  CHECK(nan != nan);
  CHECK_FALSE(nan < e4m3{1.0f});
  CHECK(e4m3{-0.0f} == e4m3{0.0f});
  CHECK(e4m3{-0.0f}.bits() == 0x80);
  CHECK(e4m3{1.0f} < e4m3{1.5f});
  CHECK((-e4m3{1.5f}).bits() == 0xBC);
  CHECK((-e4m3fnuz{0.0f}).bits() == 0x00);  // negating zero must not make the fnuz NaN
  CHECK((-nan).bits() == nan.bits());
  // numeric_limits
  CHECK(float(std::numeric_limits<e4m3>::max()) == 448.0f);
  CHECK(float(std::numeric_limits<e4m3>::lowest()) == -448.0f);
  CHECK(float(std::numeric_limits<e4m3>::min()) == 0x1p-6f);
  CHECK(float(std::numeric_limits<e4m3>::denorm_min()) == 0x1p-9f);
  CHECK(float(std::numeric_limits<e4m3>::epsilon()) == 0.125f);
  CHECK(std::numeric_limits<e4m3>::digits == 4);
  CHECK_FALSE(std::numeric_limits<e4m3>::has_infinity);
  CHECK(std::numeric_limits<e5m2>::has_infinity);
  CHECK(std::numeric_limits<bf16>::max_exponent == 128);
  CHECK(std::numeric_limits<fp16>::min_exponent == -13);
  CHECK(std::numeric_limits<float>::min_exponent == -125);  // the convention the above follows
  std::ostringstream os;
  os << e4m3{1.3f} << ' ' << e2m1{-3.0f} << ' ' << bf16{0.5f};
  CHECK(os.str() == "1.25 -3 0.5");
}

TEST_CASE("format_desc::parse with modifiers rebuilds from E and M; parse_encoding") {
  CHECK(format_desc::parse("e3m4", {encoding::fnuz, 5, false}) == format_desc(3, 4, encoding::fnuz, 5));
  CHECK(format_desc::parse("e4m3", {encoding::fnuz, std::nullopt, false}) == format_desc::of<fmt::e4m3fnuz>());
  CHECK(format_desc::parse("e4m3", {std::nullopt, std::nullopt, true}) == format_desc::of<fmt::ue4m3>());
  CHECK(format_desc::parse("e1m0", {encoding::finite, std::nullopt, false}) == format_desc(1, 0, encoding::finite));
  CHECK_THROWS_AS(format_desc::parse("e1m0"), std::invalid_argument);  // E1M0 ieee cannot exist
  CHECK_THROWS_WITH_AS(format_desc::parse("nope", {encoding::fn, std::nullopt, false}), doctest::Contains("e4m3"),
                       std::invalid_argument);
  CHECK(parse_encoding("fnuz") == encoding::fnuz);
  CHECK_THROWS_WITH_AS(parse_encoding("ieee754"), doctest::Contains("finite"), std::invalid_argument);
}

TEST_CASE("format_desc::name() round-trips through parse for every format; one spelling per number") {
  std::size_t checked = 0;
  for (const auto& entry : pqt_test::format_matrix()) {
    const format_desc& d = entry.desc;
    INFO(d.name());
    CHECK(format_desc::parse(d.name()) == d);
    ++checked;
    for (int bias : {-3, 1, 20}) {  // custom biases too, where the format can exist
      try {
        const format_desc b(d.exponent_bits(), d.mantissa_bits(), d.enc(), bias, d.is_signed());
        INFO(b.name());
        CHECK(format_desc::parse(b.name()) == b);
      } catch (const std::invalid_argument&) {
      }
    }
  }
  CHECK(checked > 400);
  // the IEEE variants of the named eXmY formats, and the signed IEEE E8M0
  CHECK(format_desc(4, 3).name() == "e4m3 ieee");
  CHECK(format_desc::parse("e4m3 ieee") == format_desc(4, 3));
  CHECK(format_desc(8, 0).name() == "e8m0 ieee signed");
  CHECK(format_desc::parse(format_desc(8, 0).name()) == format_desc(8, 0));
  CHECK(format_desc::parse("e8m0") != format_desc(8, 0));
  // leading zeros and stray words are not a second spelling
  for (const char* s : {"e8m00", "e08m3", "e8m07", "e4m3 ", "e4m3 ieee ieee", "e4m3 bias", "e4m3 bias x", "e4m3 foo"})
    CHECK_THROWS_AS(format_desc::parse(s), std::invalid_argument);
}

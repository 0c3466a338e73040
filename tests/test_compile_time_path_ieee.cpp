// Compile-time path == run-time path for every ieee format of the matrix
// (see tests/support/compile_time_path.hpp). PQT_OPTIMIZE
#include "support/compile_time_path.hpp"

TEST_CASE("compile-time encode/decode == run-time format_desc: every ieee format, E 1..8 x M 0..7") {
  const auto n = pqt_test::compare_encoding<pqt::encoding::ieee>();
  CHECK(n.formats == pqt_test::matrix_count(pqt::encoding::ieee));
  CHECK(n.checks > 1000000);
  CHECK(n.mismatches == 0);
}

TEST_CASE("compile-time == run-time for the named formats, e8m0 and fp32 included") {
  pqt_test::counts n;
  auto named = [&](auto tag) {
    using F = decltype(tag);
    const auto d = pqt::format_desc::of<F>();
    std::vector<float> in;
    if (d.total_bits() <= 16) {
      in = pqt_test::probe_inputs(d);
    } else {  // fp32: a spread of float bit patterns
      for (std::uint32_t b = 0; b < 0xFFFF0000u; b += 0x10001u) in.push_back(pqt::detail::bit_cast<float>(b));
    }
    pqt_test::compare_policy<F, pqt::overflow::saturate>(d, in, n);
    pqt_test::compare_policy<F, pqt::overflow::nonsaturating>(d, in, n);
  };
  named(pqt::fmt::e4m3{});
  named(pqt::fmt::e5m2{});
  named(pqt::fmt::e4m3fnuz{});
  named(pqt::fmt::e5m2fnuz{});
  named(pqt::fmt::e3m2{});
  named(pqt::fmt::e2m3{});
  named(pqt::fmt::e2m1{});
  named(pqt::fmt::ue4m3{});
  named(pqt::fmt::e8m0{});
  named(pqt::fmt::bf16{});
  named(pqt::fmt::fp16{});
  named(pqt::fmt::fp32{});
  CHECK(n.mismatches == 0);
}

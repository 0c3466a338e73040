// Compile-time path == run-time path for every fn format of the matrix
// (see tests/support/compile_time_path.hpp). PQT_OPTIMIZE
#include "support/compile_time_path.hpp"

TEST_CASE("compile-time encode/decode == run-time format_desc: every fn format, E 1..8 x M 0..7") {
  const auto n = pqt_test::compare_encoding<pqt::encoding::fn>();
  CHECK(n.formats == pqt_test::matrix_count(pqt::encoding::fn));
  CHECK(n.checks > 1000000);
  CHECK(n.mismatches == 0);
}

// Must not compile: a signed scale format
// EXPECT: unsigned with M = 0
#include <pqt/minifloat.hpp>
pqt::format<8, 0, pqt::encoding::scale, 127, true> f;

// Must not compile: an unsigned fnuz format
// EXPECT: must be signed
#include <pqt/minifloat.hpp>
pqt::format<4, 3, pqt::encoding::fnuz, pqt::default_bias, false> f;

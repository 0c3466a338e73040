// Must not compile: M = 24
// EXPECT: mantissa bits M must be in 0..23
#include <pqt/minifloat.hpp>
pqt::format<4, 24> f;

// Must not compile: E = 0
// EXPECT: exponent bits E must be in 1..8
#include <pqt/minifloat.hpp>
pqt::format<0, 3> f;

// Must not compile: E = 9
// EXPECT: exponent bits E must be in 1..8
#include <pqt/minifloat.hpp>
pqt::format<9, 3> f;

// Must not compile: E1M0 ieee
// EXPECT: no positive finite value
#include <pqt/minifloat.hpp>
pqt::format<1, 0> f;

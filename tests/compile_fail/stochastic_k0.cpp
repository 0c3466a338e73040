// Must not compile: K = 0 random bits
// EXPECT: 1..32 random bits
#include <pqt/minifloat.hpp>
auto b = pqt::encode<pqt::e4m3, pqt::rounding::stochastic, pqt::overflow::saturate, 0>(1.0f, 5u);

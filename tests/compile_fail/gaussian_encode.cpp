// Must not compile: gaussian rounding through encode
// EXPECT: gaussian rounding needs a noise sample
#include <pqt/minifloat.hpp>
auto b = pqt::encode<pqt::e4m3, pqt::rounding::gaussian>(1.0f);

// Must not compile: E8M24 is 33 bits (with E <= 8 and M <= 23 no format exceeds 32)
// EXPECT: at most 32 bits
#include <pqt/minifloat.hpp>
pqt::minifloat<8, 24> f;

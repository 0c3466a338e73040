// Must not compile: E8M3 finite, bias 127
// EXPECT: above float's range
#include <pqt/minifloat.hpp>
pqt::format<8, 3, pqt::encoding::finite> f;

// Links pqt::tensor: the tensor API's loops come from the library (this file
// sees only their declarations) and give the bits of the scalar routine.
#include <pqt/fake_quant.hpp>

#include <cstdio>
#include <cstring>

#ifndef PQT_TENSOR_LIB
#error "linking pqt::tensor must define PQT_TENSOR_LIB"
#endif

int main() {
  const float x[4] = {1.3f, -0.7f, 1000.0f, 3.0e-4f};
  float y[4];
  pqt::quant_config c;  // e4m3, nearest-even, saturate, no scaling
  pqt::fake_quant(x, y, 4, c);
  for (int i = 0; i < 4; ++i) {
    const float want = c.format.decode(c.format.encode(x[i], c.round, c.over));
    if (std::memcmp(&y[i], &want, sizeof want) != 0) {
      std::fprintf(stderr, "fake_quant(%g) = %g, the scalar routine gives %g\n", x[i], y[i], want);
      return 1;
    }
  }
  std::printf("pqt::tensor: fake_quant matches the scalar routine\n");
  return 0;
}

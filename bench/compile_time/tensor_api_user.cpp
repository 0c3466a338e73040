// A user file that calls the whole host tensor API once each (fake_quant,
// quantize, dequantize, gaussws): what bench/compile_time/run.sh times.
#include <pqt/fake_quant.hpp>
#include <cstdio>
#include <vector>
int main() {
  std::vector<float> x(1000, 1.5f), y(1000);
  pqt::quant_config c = pqt::quant_config::mxfp8();
  pqt::fake_quant(x.data(), y.data(), x.size(), c);
  pqt::quantized q;
  pqt::quantize(x.data(), x.size(), c, q);
  pqt::dequantize(q, c, y.data(), y.size());
  pqt::gaussws_config g;
  std::vector<pqt::bf16> w(1000);
  pqt::gaussws(x.data(), w.data(), x.size(), g);
  std::printf("%g\n", static_cast<double>(y[0]));
}

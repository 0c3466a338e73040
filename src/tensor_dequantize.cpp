// pqt::tensor (the compiled mode, PQT_TENSOR_LIB): dequantize's loops for
// float, bf16 and fp16 arrays.
#include <pqt/fake_quant.hpp>

namespace pqt {
PQT_DEQUANTIZE_INSTANCES(template, float)
PQT_DEQUANTIZE_INSTANCES(template, bf16)
PQT_DEQUANTIZE_INSTANCES(template, fp16)
}  // namespace pqt

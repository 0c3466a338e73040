// pqt::tensor (the compiled mode, PQT_TENSOR_LIB): quantize's loops for
// float, bf16 and fp16 arrays.
#include <pqt/fake_quant.hpp>

namespace pqt {
PQT_QUANTIZE_INSTANCES(template, float)
PQT_QUANTIZE_INSTANCES(template, bf16)
PQT_QUANTIZE_INSTANCES(template, fp16)
}  // namespace pqt

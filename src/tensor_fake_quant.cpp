// pqt::tensor (the compiled mode, PQT_TENSOR_LIB): fake_quant's loops for
// float, bf16 and fp16 arrays, compiled once here instead of in every file
// that includes <pqt/fake_quant.hpp>.
#include <pqt/fake_quant.hpp>

namespace pqt::detail {
PQT_FAKE_QUANT_INSTANCES(template, float)
PQT_FAKE_QUANT_INSTANCES(template, bf16)
PQT_FAKE_QUANT_INSTANCES(template, fp16)
}  // namespace pqt::detail

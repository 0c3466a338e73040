// pqt::tensor (the compiled mode, PQT_TENSOR_LIB): gaussws's loops for
// float, bf16 and fp16 master weights and both carriers.
#include <pqt/gaussws.hpp>

namespace pqt::detail {
PQT_GAUSSWS_INSTANCES(template, float)
PQT_GAUSSWS_INSTANCES(template, bf16)
PQT_GAUSSWS_INSTANCES(template, fp16)
}  // namespace pqt::detail

// pqt_cuda_tensor (the compiled CUDA mode, PQT_CUDA_LIB): the pqt::cuda
// launchers and their kernels for float, __nv_bfloat16 and __half arrays,
// compiled once here instead of in every .cu file that calls them.
#include <pqt/cuda/fake_quant.cuh>

namespace pqt::cuda {
PQT_CUDA_INSTANCES(template, float)
PQT_CUDA_INSTANCES(template, __nv_bfloat16)
PQT_CUDA_INSTANCES(template, __half)
}  // namespace pqt::cuda

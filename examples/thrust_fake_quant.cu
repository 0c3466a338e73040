// pqt's element functors in thrust::transform: stochastic FP8 fake-quant of
// a device vector, the element index from a counting iterator, so the random
// bits are those of (seed, offset, index) and equal the host API's, and the
// same call through pqt::cuda::fake_quant. Without a GPU it runs the same
// transform on the host (thrust::host) and says so.
//   build/<preset>/examples/thrust_fake_quant
// PQT_USES_TENSOR_LIB (CMake marker: the tensor API comes from pqt::tensor, compiled once per tree)
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <vector>

#include <thrust/copy.h>
#include <thrust/device_vector.h>
#include <thrust/execution_policy.h>
#include <thrust/host_vector.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/transform.h>

#include <pqt/cuda/fake_quant.cuh>
#include <pqt/fake_quant.hpp>

int main() {
  const std::size_t n = 1 << 20;
  const std::uint64_t seed = 42, step = 7;  // offset: one stream per training step
  std::vector<float> w(n);
  for (std::size_t i = 0; i < n; ++i) w[i] = 0.01f * static_cast<float>(static_cast<int>(i % 2001) - 1000);

  // y[i] = e4m3(w[i]) with stochastic rounding; element i draws word i of (seed, step).
  const pqt::fake_quant_op<pqt::fmt::e4m3, pqt::rounding::stochastic> op{seed, step};
  const thrust::counting_iterator<std::uint64_t> index(0);

  // The host API, as the reference.
  pqt::quant_config cfg;
  cfg.format = pqt::format_desc::of<pqt::fmt::e4m3>();
  cfg.round = pqt::rounding::stochastic;
  cfg.seed = seed;
  cfg.offset = step;
  std::vector<float> want(n);
  pqt::fake_quant(w.data(), want.data(), n, cfg);

  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("no CUDA device: running the transform with thrust::host instead\n");
    thrust::host_vector<float> hw(w.begin(), w.end()), hy(n);
    thrust::transform(thrust::host, hw.begin(), hw.end(), index, hy.begin(), op);
    std::size_t same = 0;
    for (std::size_t i = 0; i < n; ++i) same += hy[i] == want[i];
    std::printf("thrust::host: %zu of %zu elements equal pqt::fake_quant\n", same, n);
    return same == n ? 0 : 1;
  }

  thrust::device_vector<float> dw(w.begin(), w.end()), dy(n);
  thrust::transform(dw.begin(), dw.end(), index, dy.begin(), op);  // one thread per element, Philox in registers
  std::vector<float> got(n);
  thrust::copy(dy.begin(), dy.end(), got.begin());

  // The vectorised launcher gives the same bits.
  thrust::device_vector<float> dz(n);
  const cudaError_t e = pqt::cuda::fake_quant(thrust::raw_pointer_cast(dw.data()), thrust::raw_pointer_cast(dz.data()), n, cfg);
  if (e != cudaSuccess) {
    std::printf("pqt::cuda::fake_quant: %s\n", cudaGetErrorString(e));
    return 1;
  }
  std::vector<float> launcher(n);
  thrust::copy(dz.begin(), dz.end(), launcher.begin());

  std::size_t same_thrust = 0, same_launcher = 0;
  for (std::size_t i = 0; i < n; ++i) {
    same_thrust += got[i] == want[i];
    same_launcher += launcher[i] == want[i];
  }
  std::printf("w[1234] = %g -> e4m3 %g\n", static_cast<double>(w[1234]), static_cast<double>(got[1234]));
  std::printf("thrust::transform: %zu of %zu elements equal pqt::fake_quant on the host\n", same_thrust, n);
  std::printf("pqt::cuda::fake_quant: %zu of %zu\n", same_launcher, n);
  return same_thrust == n && same_launcher == n ? 0 : 1;
}

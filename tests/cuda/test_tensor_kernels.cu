// pqt::cuda's fake_quant / quantize / dequantize / gaussws / amax on a GPU
// against the host tensor API, bit for bit: the cases of tensor_cases.hpp
// (every operation, the formats, modes and scalings there, sizes {0, 1, 15,
// 16, 17, 127, 129, 4095, 4097, 100000}, base pointers offset by 0..3
// elements, float / __nv_bfloat16 / __half), in-place calls, and 2^26
// elements. Exits 77 (ctest: skipped) with a message where there is no GPU.
// PQT_CUDA_TEST_QUICK=1 leaves out the 2^26 cases (for compute-sanitizer:
// tests/cuda/run_memcheck.sh).
// PQT_USES_TENSOR_LIB (CMake marker: the tensor API comes from pqt::tensor, compiled once per tree)
// PQT_USES_CUDA_LIB (CMake marker: the pqt::cuda launchers come from pqt_cuda_tensor, compiled once)
#include <doctest/doctest.h>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include <pqt/cuda/fake_quant.cuh>

#include "tensor_cases.hpp"

namespace {

using namespace pqt_cuda_test;

void require_device() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::printf("SKIPPED: no CUDA device (this test compiled; it runs where a GPU is present)\n");
    std::exit(77);
  }
}

bool quick() {
  const char* q = std::getenv("PQT_CUDA_TEST_QUICK");
  return q != nullptr && q[0] == '1';
}

#define CUDA_OK(call) REQUIRE_MESSAGE((call) == cudaSuccess, #call)

template <class Elem>
struct cuda_type;
template <>
struct cuda_type<float> {
  using type = float;
};
template <>
struct cuda_type<pqt::bf16> {
  using type = __nv_bfloat16;
};
template <>
struct cuda_type<pqt::fp16> {
  using type = __half;
};

/// Device copy of a host array, at the same offset from a 256-byte aligned
/// base (host buffers are 64-byte aligned), so alignment paths match.
template <class T>
class device_array {
 public:
  device_array(const T* host, std::size_t n, bool copy = true) : n_(n) {
    off_ = (reinterpret_cast<std::uintptr_t>(host) % 64) / sizeof(T);
    const std::size_t total = n + 64 / sizeof(T) + 1;
    CUDA_OK(cudaMalloc(&base_, total * sizeof(T)));
    CUDA_OK(cudaMemset(base_, 0xA5, total * sizeof(T)));
    if (copy && n > 0) CUDA_OK(cudaMemcpy(base_ + off_, host, n * sizeof(T), cudaMemcpyHostToDevice));
  }
  ~device_array() { cudaFree(base_); }
  device_array(const device_array&) = delete;
  device_array& operator=(const device_array&) = delete;
  T* get() { return base_ + off_; }
  void to_host(T* host) {
    if (n_ > 0) CUDA_OK(cudaMemcpy(host, base_ + off_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
  }

 private:
  std::size_t n_, off_ = 0;
  T* base_ = nullptr;
};

struct device_runner {
  template <class Elem>
  void fake_quant(const storage_t<Elem>* x, storage_t<Elem>* out, std::size_t n, const quant_config& c) {
    using T = typename cuda_type<Elem>::type;
    device_array<storage_t<Elem>> dx(x, n), dout(out, n, false);
    CUDA_OK(pqt::cuda::fake_quant(reinterpret_cast<const T*>(dx.get()), reinterpret_cast<T*>(dout.get()), n, c));
    CUDA_OK(cudaDeviceSynchronize());
    dout.to_host(out);
  }

  template <class Elem>
  void quantize(const storage_t<Elem>* x, std::size_t n, const quant_config& c, pqt::quantized& q) {
    using T = typename cuda_type<Elem>::type;
    device_array<storage_t<Elem>> dx(x, n);
    q.n = n;
    q.codes.assign(pqt::code_bytes(n, c), 0);
    q.scales.assign(pqt::scale_count(n, c), 0);
    device_array<std::uint8_t> codes(q.codes.data(), q.codes.size(), false), scales(q.scales.data(), q.scales.size(), false);
    device_array<float> ts(&q.tensor_scale, 1, false);
    pqt::cuda::quantized_view v{codes.get(), q.codes.size(), scales.get(), q.scales.size(), ts.get(), n};
    CUDA_OK(pqt::cuda::quantize(reinterpret_cast<const T*>(dx.get()), n, c, v));
    CUDA_OK(cudaDeviceSynchronize());
    codes.to_host(q.codes.data());
    scales.to_host(q.scales.data());
    ts.to_host(&q.tensor_scale);
  }

  template <class Elem>
  void dequantize(const pqt::quantized& q, const quant_config& c, storage_t<Elem>* out, std::size_t n) {
    using T = typename cuda_type<Elem>::type;
    device_array<std::uint8_t> codes(q.codes.data(), q.codes.size()), scales(q.scales.data(), q.scales.size());
    device_array<float> ts(&q.tensor_scale, 1);
    device_array<storage_t<Elem>> dout(out, n, false);
    pqt::cuda::quantized_view v{codes.get(), q.codes.size(), scales.get(), q.scales.size(), ts.get(), n};
    CUDA_OK(pqt::cuda::dequantize(v, c, reinterpret_cast<T*>(dout.get()), n));
    CUDA_OK(cudaDeviceSynchronize());
    dout.to_host(out);
  }

  template <class Elem, class Carrier>
  void gaussws(const storage_t<Elem>* w, carrier_t<Carrier>* out, std::size_t n, const gaussws_config& g) {
    using T = typename cuda_type<Elem>::type;
    using C = std::conditional_t<std::is_same<Carrier, float>::value, float, __nv_bfloat16>;
    device_array<storage_t<Elem>> dw(w, n);
    device_array<carrier_t<Carrier>> dout(out, n, false);
    CUDA_OK(pqt::cuda::gaussws(reinterpret_cast<const T*>(dw.get()), reinterpret_cast<C*>(dout.get()), n, g));
    CUDA_OK(cudaDeviceSynchronize());
    dout.to_host(out);
  }

  template <class Elem>
  float amax(const storage_t<Elem>* x, std::size_t n) {
    using T = typename cuda_type<Elem>::type;
    device_array<storage_t<Elem>> dx(x, n);
    float r = -1.0f;
    device_array<float> dr(&r, 1, false);
    CUDA_OK(pqt::cuda::amax(reinterpret_cast<const T*>(dx.get()), n, dr.get()));
    CUDA_OK(cudaDeviceSynchronize());
    dr.to_host(&r);
    return r;
  }
};

const std::vector<std::size_t> all_sizes(std::begin(sizes), std::end(sizes));

}  // namespace

TEST_CASE("device amax == host amax") {
  require_device();
  device_runner run;
  suite_amax<float>(run, all_sizes);
  suite_amax<pqt::bf16>(run, all_sizes);
  suite_amax<pqt::fp16>(run, all_sizes);
}

TEST_CASE("device fake_quant == host fake_quant (float, bf16, fp16)") {
  require_device();
  device_runner run;
  suite_fake_quant<float>(run, all_sizes);
  suite_fake_quant<pqt::bf16>(run, all_sizes);
  suite_fake_quant<pqt::fp16>(run, all_sizes);
}

TEST_CASE("device quantize / dequantize == host") {
  require_device();
  device_runner run;
  suite_quantize<float>(run, all_sizes);
  suite_quantize<pqt::bf16>(run, all_sizes);
  suite_quantize<pqt::fp16>(run, all_sizes);
}

TEST_CASE("device gaussws == host gaussws") {
  require_device();
  device_runner run;
  suite_gaussws<float, pqt::bf16>(run, all_sizes);
  suite_gaussws<float, float>(run, all_sizes);
  suite_gaussws<pqt::bf16, pqt::bf16>(run, all_sizes);
  suite_gaussws<pqt::bf16, float>(run, all_sizes);
}

TEST_CASE("device: every mode and overflow policy on every element format") {
  require_device();
  device_runner run;
  suite_modes(run);
}

TEST_CASE("device fake_quant in place (out == x)") {
  require_device();
  for (const auto& nc : configs()) {
    const std::size_t n = 4097;
    const quant_config c = for_size(nc.c, n);
    const std::vector<float> x = make_input(n, 11, c.format.max() / 4, nc.specials);
    std::vector<float> want(n), got(n);
    pqt::fake_quant(x.data(), want.data(), n, c);
    float* d = nullptr;
    CUDA_OK(cudaMalloc(&d, n * sizeof(float)));
    CUDA_OK(cudaMemcpy(d, x.data(), n * sizeof(float), cudaMemcpyHostToDevice));
    CUDA_OK(pqt::cuda::fake_quant(d, d, n, c));
    CUDA_OK(cudaMemcpy(got.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost));
    cudaFree(d);
    CHECK_MESSAGE(diff(nc.name.c_str(), got.data(), want.data(), n) == 0, nc.name);
  }
}

TEST_CASE("device == host on 2^26 elements") {
  require_device();
  if (quick()) {
    MESSAGE("PQT_CUDA_TEST_QUICK=1: 2^26-element cases left out");
    return;
  }
  device_runner run;
  const std::size_t n = std::size_t{1} << 26;
  for (const auto& nc : configs()) {
    const std::string& s = nc.name;
    if (s == "mxfp8 rne" || s == "mxfp4 sr" || s == "nvfp4 sr base 7" || s == "tensor e4m3 rne current" ||
        s == "tile 16x16 e4m3 rne" || s == "mx e4m3 block 17 odd" || s == "none e2m1 gaussian") {
      CHECK(check_fake_quant<float>(run, nc, n, 0, 0, 1) == 0);
      CHECK(check_fake_quant<pqt::bf16>(run, nc, n, 1, 1, 2) == 0);
      CHECK(check_quantize<float>(run, nc, n, 0, 3) == 0);
    }
  }
  for (const auto& ng : gaussws_configs())
    if (ng.name == "block 32 r b9" || ng.name == "tensor r" || ng.name == "element e4m3 r")
      CHECK(check_gaussws<float, pqt::bf16>(run, ng, n, 0, 0, 4) == 0);
  CHECK(check_amax<float>(run, n, 0, true, 5) == 0);
}

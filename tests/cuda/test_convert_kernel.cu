// encode/decode of every named format, every plain rounding mode and both
// overflow policies, run in a kernel and compared bit for bit with the same
// calls on the host. Compiled by nvcc for sm_80 and sm_90 in CI; runs where a
// GPU is present and exits 77 (ctest: skipped) with a message where not.
#include <doctest/doctest.h>

#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include <pqt/convert.hpp>
#include <pqt/fake_quant.hpp>
#include <pqt/minifloat.hpp>

namespace {

using pqt::overflow;
using pqt::rounding;

constexpr int modes_per_input = 2 * 7 + 1;  // 7 modes x 2 policies, + decode

template <class F, overflow O>
__host__ __device__ void encode_all_modes(float x, std::uint32_t r, std::uint32_t* out) {
  out[0] = pqt::encode<F, rounding::nearest_even, O>(x);
  out[1] = pqt::encode<F, rounding::nearest_away, O>(x);
  out[2] = pqt::encode<F, rounding::toward_zero, O>(x);
  out[3] = pqt::encode<F, rounding::upward, O>(x);
  out[4] = pqt::encode<F, rounding::downward, O>(x);
  out[5] = pqt::encode<F, rounding::odd, O>(x);
  out[6] = pqt::encode<F, rounding::stochastic, O, 9>(x, r);
}

/// Everything one element produces; the same function runs on both sides.
template <class F>
__host__ __device__ void element(float x, std::uint32_t r, std::uint32_t* out) {
  encode_all_modes<F, overflow::saturate>(x, r, out);
  encode_all_modes<F, overflow::nonsaturating>(x, r, out + 7);
  const float d = pqt::decode<F>(static_cast<pqt::storage_t<F>>(out[0]));
  out[14] = pqt::detail::bit_cast<std::uint32_t>(d);
}

template <class F>
__global__ void kernel(const float* in, const std::uint32_t* rnd, std::uint32_t* out, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
    element<F>(in[i], rnd[i], out + static_cast<std::size_t>(i) * modes_per_input);
}

/// The random-bit functors (stochastic, gaussian) of random.hpp/fake_quant.hpp:
/// element i of a call with (seed, offset) on the device == on the host.
template <class F>
__host__ __device__ void functors(float x, std::uint64_t i, std::uint32_t* out) {
  out[0] = pqt::quantize_op<F, rounding::stochastic, overflow::saturate>{0x5EED, 7}(x, i);
  out[1] = pqt::quantize_op<F, rounding::stochastic, overflow::nonsaturating, 5>{0x5EED, 7}(x, i);
  out[2] = pqt::quantize_op<F, rounding::gaussian, overflow::saturate>{0x5EED, 7, 0.5f}(x, i);
  out[3] = pqt::detail::bit_cast<std::uint32_t>(pqt::fake_quant_op<F, rounding::gaussian>{1, 2, 1.0f}(x, i));
}

template <class F>
__global__ void functor_kernel(const float* in, std::uint32_t* out, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
    functors<F>(in[i], static_cast<std::uint64_t>(i), out + 4 * static_cast<std::size_t>(i));
}

#define CUDA_OK(call) REQUIRE_MESSAGE((call) == cudaSuccess, #call)

template <class F>
void compare(const char* name, const std::vector<float>& in, const std::vector<std::uint32_t>& rnd) {
  const int n = static_cast<int>(in.size());
  std::vector<std::uint32_t> host(in.size() * modes_per_input), dev(host.size());
  for (int i = 0; i < n; ++i) element<F>(in[i], rnd[i], host.data() + static_cast<std::size_t>(i) * modes_per_input);
  float* d_in = nullptr;
  std::uint32_t *d_rnd = nullptr, *d_out = nullptr;
  CUDA_OK(cudaMalloc(&d_in, in.size() * sizeof(float)));
  CUDA_OK(cudaMalloc(&d_rnd, rnd.size() * sizeof(std::uint32_t)));
  CUDA_OK(cudaMalloc(&d_out, dev.size() * sizeof(std::uint32_t)));
  CUDA_OK(cudaMemcpy(d_in, in.data(), in.size() * sizeof(float), cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemcpy(d_rnd, rnd.data(), rnd.size() * sizeof(std::uint32_t), cudaMemcpyHostToDevice));
  kernel<F><<<256, 256>>>(d_in, d_rnd, d_out, n);
  CUDA_OK(cudaGetLastError());
  CUDA_OK(cudaMemcpy(dev.data(), d_out, dev.size() * sizeof(std::uint32_t), cudaMemcpyDeviceToHost));
  cudaFree(d_in);
  cudaFree(d_rnd);
  cudaFree(d_out);
  std::size_t bad = 0;
  for (std::size_t j = 0; j < host.size(); ++j) {
    const bool is_decode = j % modes_per_input == 14;
    const bool both_nan = is_decode && (host[j] & 0x7FFFFFFFu) > 0x7F800000u && (dev[j] & 0x7FFFFFFFu) > 0x7F800000u;
    if (host[j] != dev[j] && !both_nan && bad++ < 5)
      MESSAGE(name << ": input " << in[j / modes_per_input] << " slot " << j % modes_per_input << ": host 0x"
                   << std::hex << host[j] << " device 0x" << dev[j]);
  }
  MESSAGE(name << ": " << host.size() << " results compared");
  CHECK(bad == 0);

  // The functors with Philox words.
  std::vector<std::uint32_t> fh(in.size() * 4), fd(fh.size());
  for (int i = 0; i < n; ++i) functors<F>(in[i], static_cast<std::uint64_t>(i), fh.data() + 4 * static_cast<std::size_t>(i));
  CUDA_OK(cudaMalloc(&d_in, in.size() * sizeof(float)));
  CUDA_OK(cudaMalloc(&d_out, fd.size() * sizeof(std::uint32_t)));
  CUDA_OK(cudaMemcpy(d_in, in.data(), in.size() * sizeof(float), cudaMemcpyHostToDevice));
  functor_kernel<F><<<256, 256>>>(d_in, d_out, n);
  CUDA_OK(cudaGetLastError());
  CUDA_OK(cudaMemcpy(fd.data(), d_out, fd.size() * sizeof(std::uint32_t), cudaMemcpyDeviceToHost));
  cudaFree(d_in);
  cudaFree(d_out);
  std::size_t fbad = 0;
  for (std::size_t j = 0; j < fh.size(); ++j) {
    const bool both_nan = j % 4 == 3 && (fh[j] & 0x7FFFFFFFu) > 0x7F800000u && (fd[j] & 0x7FFFFFFFu) > 0x7F800000u;
    fbad += fh[j] != fd[j] && !both_nan;
  }
  MESSAGE(name << ": " << fh.size() << " functor results compared");
  CHECK(fbad == 0);
}

}  // namespace

TEST_CASE("device encode/decode == host, every named format and mode") {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::printf("SKIPPED: no CUDA device (this test compiled; it runs where a GPU is present)\n");
    std::exit(77);
  }
  // Specials, every bf16 pattern, and a spread of float bit patterns.
  std::vector<float> in = {0.0f, -0.0f, 1.0f, -1.0f, 448.0f, 464.0f, 465.0f, 57344.0f, 61440.0f, 1e-45f, 3e38f,
                           __builtin_inff(), -__builtin_inff(), __builtin_nanf("")};
  for (std::uint32_t b = 0; b < 0x10000u; ++b) in.push_back(pqt::detail::bit_cast<float>(b << 16));
  for (std::uint32_t b = 0; b < 1000000u; ++b) in.push_back(pqt::detail::bit_cast<float>(b * 2654435761u));
  std::vector<std::uint32_t> rnd(in.size());
  for (std::size_t i = 0; i < rnd.size(); ++i) rnd[i] = static_cast<std::uint32_t>(i * 0x9E3779B9u) ^ 0xA5A5A5A5u;
  compare<pqt::fmt::e4m3>("e4m3", in, rnd);
  compare<pqt::fmt::e5m2>("e5m2", in, rnd);
  compare<pqt::fmt::e4m3fnuz>("e4m3fnuz", in, rnd);
  compare<pqt::fmt::e5m2fnuz>("e5m2fnuz", in, rnd);
  compare<pqt::fmt::e3m2>("e3m2", in, rnd);
  compare<pqt::fmt::e2m3>("e2m3", in, rnd);
  compare<pqt::fmt::e2m1>("e2m1", in, rnd);
  compare<pqt::fmt::ue4m3>("ue4m3", in, rnd);
  compare<pqt::fmt::e8m0>("e8m0", in, rnd);
  compare<pqt::fmt::bf16>("bf16", in, rnd);
  compare<pqt::fmt::fp16>("fp16", in, rnd);
  compare<pqt::fmt::e8m<3>>("e8m3", in, rnd);
  compare<pqt::fmt::fp32>("fp32", in, rnd);
}

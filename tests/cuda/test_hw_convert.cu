// The PTX conversions of pqt/cuda/hw_convert.cuh against their software twins
// (pqt::encode), bit for bit: every bf16 pattern as float, every FP8 value,
// midpoint and their float neighbours, and 2^22 random float patterns, in both
// halves of each pair. Exits 77 (ctest: skipped) where there is no GPU.
#include <doctest/doctest.h>

#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <ios>
#include <vector>

#include <pqt/cuda/hw_convert.cuh>

namespace {

#define CUDA_OK(call) REQUIRE_MESSAGE((call) == cudaSuccess, #call)

__global__ void convert_all(const float* lo, const float* hi, std::uint32_t* out, std::size_t n, int* has_fp8) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    out[4 * i + 0] = pqt::cuda::hw::e4m3x2_rn_satfinite(lo[i], hi[i]);
    out[4 * i + 1] = pqt::cuda::hw::e5m2x2_rn_satfinite(lo[i], hi[i]);
    out[4 * i + 2] = pqt::cuda::hw::bf16x2_rn(lo[i], hi[i]);
    out[4 * i + 3] = pqt::cuda::hw::fp16x2_rn(lo[i], hi[i]);
  }
  if (blockIdx.x == 0 && threadIdx.x == 0) *has_fp8 = pqt::cuda::hw::has_fp8_cvt() ? 1 : 0;
}

template <class F>
void add_grid(std::vector<float>& v) {
  // every value, each midpoint to the next value, and their float neighbours
  for (std::uint32_t c = 0; c <= F::max_code; ++c) {
    const float a = pqt::decode<F>(static_cast<pqt::storage_t<F>>(c));
    const float b = c < F::max_code ? pqt::decode<F>(static_cast<pqt::storage_t<F>>(c + 1)) : a * 1.25f;
    const float m = a + (b - a) / 2;
    for (float x : {a, m}) {
      const std::uint32_t xb = pqt::detail::bit_cast<std::uint32_t>(x);
      for (std::uint32_t d : {xb - 1, xb, xb + 1}) {
        v.push_back(pqt::detail::bit_cast<float>(d));
        v.push_back(-pqt::detail::bit_cast<float>(d));
      }
    }
  }
}

}  // namespace

TEST_CASE("hardware conversions == software twins") {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::printf("SKIPPED: no CUDA device (this test compiled; it runs where a GPU is present)\n");
    std::exit(77);
  }
  std::vector<float> lo;
  for (std::uint32_t b = 0; b < 0x10000u; ++b) lo.push_back(pqt::detail::bit_cast<float>(b << 16));
  add_grid<pqt::fmt::e4m3>(lo);
  add_grid<pqt::fmt::e5m2>(lo);
  std::uint64_t s = 1;
  for (int i = 0; i < (1 << 22); ++i) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    lo.push_back(pqt::detail::bit_cast<float>(static_cast<std::uint32_t>(s >> 32)));
  }
  std::vector<float> hi(lo.rbegin(), lo.rend());  // every input also in the upper half
  const std::size_t n = lo.size();
  float *dlo = nullptr, *dhi = nullptr;
  std::uint32_t* dout = nullptr;
  int* dflag = nullptr;
  CUDA_OK(cudaMalloc(&dlo, n * sizeof(float)));
  CUDA_OK(cudaMalloc(&dhi, n * sizeof(float)));
  CUDA_OK(cudaMalloc(&dout, 4 * n * sizeof(std::uint32_t)));
  CUDA_OK(cudaMalloc(&dflag, sizeof(int)));
  CUDA_OK(cudaMemcpy(dlo, lo.data(), n * sizeof(float), cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemcpy(dhi, hi.data(), n * sizeof(float), cudaMemcpyHostToDevice));
  convert_all<<<512, 256>>>(dlo, dhi, dout, n, dflag);
  CUDA_OK(cudaGetLastError());
  std::vector<std::uint32_t> out(4 * n);
  int flag = 0;
  CUDA_OK(cudaMemcpy(out.data(), dout, out.size() * sizeof(std::uint32_t), cudaMemcpyDeviceToHost));
  CUDA_OK(cudaMemcpy(&flag, dflag, sizeof(int), cudaMemcpyDeviceToHost));
  cudaFree(dlo);
  cudaFree(dhi);
  cudaFree(dout);
  cudaFree(dflag);
  MESSAGE("hardware FP8 cvt in this device pass: " << (flag ? "yes" : "no (software twin)"));
  const char* names[] = {"e4m3x2 rn satfinite", "e5m2x2 rn satfinite", "bf16x2 rn", "fp16x2 rn"};
  for (int k = 0; k < 4; ++k) {
    std::size_t bad = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t want = k == 0   ? pqt::cuda::hw::e4m3x2_rn_satfinite_sw(lo[i], hi[i])
                                 : k == 1 ? pqt::cuda::hw::e5m2x2_rn_satfinite_sw(lo[i], hi[i])
                                 : k == 2 ? pqt::cuda::hw::bf16x2_rn_sw(lo[i], hi[i])
                                          : pqt::cuda::hw::fp16x2_rn_sw(lo[i], hi[i]);
      if (out[4 * i + k] != want && bad++ < 5)
        MESSAGE(names[k] << ": lo 0x" << std::hex << pqt::detail::bit_cast<std::uint32_t>(lo[i]) << " hi 0x"
                         << pqt::detail::bit_cast<std::uint32_t>(hi[i]) << ": hw 0x" << out[4 * i + k] << " sw 0x" << want);
    }
    INFO(names[k]);
    CHECK(bad == 0);
  }
}

// pqt::cuda launchers on bad arguments: cudaErrorInvalidValue for everything
// the host API rejects with std::invalid_argument, and for null pointers and
// mismatched quantized_view sizes, before any CUDA call. Needs no GPU (it
// runs, and must pass, on machines without one).
// PQT_USES_TENSOR_LIB (CMake marker: the tensor API comes from pqt::tensor, compiled once per tree)
// PQT_USES_CUDA_LIB (CMake marker: the pqt::cuda launchers come from pqt_cuda_tensor, compiled once)
#include <doctest/doctest.h>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <pqt/cuda/fake_quant.cuh>

namespace {

// Never dereferenced: every call below fails validation first.
float* const fake = reinterpret_cast<float*>(std::uintptr_t{256});

}  // namespace

TEST_CASE("launchers reject bad configurations without launching") {
  const std::size_t n = 64;
  pqt::quant_config c = pqt::quant_config::mxfp8();
  c.block_size = 0;
  CHECK(pqt::cuda::fake_quant(fake, fake, n, c) == cudaErrorInvalidValue);
  c = pqt::quant_config{};
  c.random_bits = 0;
  c.round = pqt::rounding::stochastic;
  CHECK(pqt::cuda::fake_quant(fake, fake, n, c) == cudaErrorInvalidValue);
  c = pqt::quant_config{};
  c.format = pqt::format_desc::parse("e8m0");
  CHECK(pqt::cuda::fake_quant(fake, fake, n, c) == cudaErrorInvalidValue);
  c = pqt::quant_config::nvfp4();
  c.format = pqt::format_desc::parse("e4m3");
  CHECK(pqt::cuda::fake_quant(fake, fake, n, c) == cudaErrorInvalidValue);
  c = pqt::quant_config::mx(pqt::format_desc::parse("bf16"));  // below 2^-94: MX scaling not supported
  CHECK(pqt::cuda::fake_quant(fake, fake, n, c) == cudaErrorInvalidValue);
  c = pqt::quant_config::mxfp8();
  c.scale = pqt::scaling::tile;
  c.rows = 3;
  c.cols = 5;  // 15 != 64
  CHECK(pqt::cuda::fake_quant(fake, fake, n, c) == cudaErrorInvalidValue);
  c = pqt::quant_config{};
  c.round = pqt::rounding::gaussian;
  c.sigma = -1.0f;
  CHECK(pqt::cuda::fake_quant(fake, fake, n, c) == cudaErrorInvalidValue);
  // bf16 / half overloads validate the same way
  c = pqt::quant_config::mxfp8();
  c.block_size = 0;
  CHECK(pqt::cuda::fake_quant(reinterpret_cast<const __nv_bfloat16*>(fake), reinterpret_cast<__nv_bfloat16*>(fake), n, c) ==
        cudaErrorInvalidValue);
  CHECK(pqt::cuda::fake_quant(reinterpret_cast<const __half*>(fake), reinterpret_cast<__half*>(fake), n, c) ==
        cudaErrorInvalidValue);
}

TEST_CASE("launchers reject null pointers and mismatched views; n == 0 is a no-op") {
  const std::size_t n = 64;
  const pqt::quant_config c = pqt::quant_config::mxfp4();
  CHECK(pqt::cuda::fake_quant<float>(nullptr, fake, n, c) == cudaErrorInvalidValue);
  CHECK(pqt::cuda::fake_quant<float>(fake, nullptr, n, c) == cudaErrorInvalidValue);
  CHECK(pqt::cuda::fake_quant<float>(nullptr, nullptr, 0, c) == cudaSuccess);

  auto* b = reinterpret_cast<std::uint8_t*>(fake);
  pqt::cuda::quantized_view q{b, pqt::code_bytes(n, c), b, pqt::scale_count(n, c), nullptr, n};
  q.code_bytes += 1;
  CHECK(pqt::cuda::quantize(fake, n, c, q) == cudaErrorInvalidValue);
  q.code_bytes -= 1;
  q.scale_count = 0;
  CHECK(pqt::cuda::quantize(fake, n, c, q) == cudaErrorInvalidValue);
  q.scale_count = pqt::scale_count(n, c);
  q.n = n + 1;
  CHECK(pqt::cuda::dequantize(q, c, fake, n) == cudaErrorInvalidValue);
  q.n = n;
  q.scales = nullptr;
  CHECK(pqt::cuda::dequantize(q, c, fake, n) == cudaErrorInvalidValue);
  // tensor and NVFP4 scaling need the tensor scale
  const pqt::quant_config t = pqt::quant_config::per_tensor(pqt::format_desc::parse("e4m3"));
  pqt::cuda::quantized_view qt{b, pqt::code_bytes(n, t), nullptr, 0, nullptr, n};
  CHECK(pqt::cuda::quantize(fake, n, t, qt) == cudaErrorInvalidValue);
  CHECK(pqt::cuda::dequantize(qt, t, fake, n) == cudaErrorInvalidValue);
  pqt::cuda::quantized_view q0{nullptr, 0, nullptr, 0, nullptr, 0};
  CHECK(pqt::cuda::quantize<float>(nullptr, 0, c, q0) == cudaSuccess);

  CHECK(pqt::cuda::amax<float>(fake, n, nullptr) == cudaErrorInvalidValue);
  CHECK(pqt::cuda::amax<float>(nullptr, n, fake) == cudaErrorInvalidValue);
}

TEST_CASE("gaussws rejects what the host rejects") {
  const std::size_t n = 64;
  auto* out16 = reinterpret_cast<__nv_bfloat16*>(fake);
  pqt::gaussws_config g;
  g.bits = 0;
  CHECK(pqt::cuda::gaussws(fake, out16, n, g) == cudaErrorInvalidValue);
  g = pqt::gaussws_config{};
  g.scale = pqt::scaling::none;
  CHECK(pqt::cuda::gaussws(fake, fake, n, g) == cudaErrorInvalidValue);
  g = pqt::gaussws_config{};
  g.delta = pqt::delta_mode::element;
  g.scale = pqt::scaling::tensor;
  CHECK(pqt::cuda::gaussws(fake, out16, n, g) == cudaErrorInvalidValue);
  g = pqt::gaussws_config{};
  CHECK(pqt::cuda::gaussws<float>(nullptr, out16, n, g) == cudaErrorInvalidValue);
  CHECK(pqt::cuda::gaussws<float>(fake, static_cast<float*>(nullptr), n, g) == cudaErrorInvalidValue);
  CHECK(pqt::cuda::gaussws<float>(nullptr, static_cast<float*>(nullptr), 0, g) == cudaSuccess);
}

// The CUDA kernels' per-thread bodies and launch sequences
// (pqt/cuda/kernel_bodies.hpp), run on the host by pqt::cuda::host_executor
// over every (block, thread) of the grids the CUDA launchers would use, with
// warp lane groups reduced as the shuffles do: every operation against the
// host tensor API, bit for bit, for float / bf16 / fp16 inputs, the sizes
// {0, 1, 15, 16, 17, 127, 129, 4095, 4097, 100000}, base pointers offset by
// 0..3 elements, and several grid shapes. Plain g++: no nvcc, no GPU.
// PQT_OPTIMIZE
// PQT_USES_TENSOR_LIB (CMake marker: the tensor API comes from pqt::tensor, compiled once per tree)
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include <pqt/cuda/host_executor.hpp>

#include "cuda/tensor_cases.hpp"
#include "support/sanitizer.hpp"

namespace {

using namespace pqt_cuda_test;
using pqt::cuda::host_executor;

/// Runs each operation through the kernel bodies with a fresh host_executor
/// of the given grid shape.
struct host_runner {
  int sms = 132, threads = 256;

  template <class Elem>
  void fake_quant(const storage_t<Elem>* x, storage_t<Elem>* out, std::size_t n, const quant_config& c) {
    host_executor ex{sms, threads};
    pqt::cuda::run_fake_quant<Elem>(ex, pqt::cuda::make_kernel_params(c), x, out, n);
  }

  template <class Elem>
  void quantize(const storage_t<Elem>* x, std::size_t n, const quant_config& c, pqt::quantized& q) {
    q.n = n;
    q.codes.assign(pqt::code_bytes(n, c), 0xA5);  // every byte must be written
    q.scales.assign(pqt::scale_count(n, c), 0xA5);
    q.tensor_scale = -1.0f;
    pqt::cuda::quantized_view v{q.codes.data(), q.codes.size(), q.scales.data(), q.scales.size(), &q.tensor_scale, n};
    host_executor ex{sms, threads};
    pqt::cuda::run_quantize<Elem>(ex, pqt::cuda::make_kernel_params(c), x, n, v);
  }

  template <class Elem>
  void dequantize(const pqt::quantized& q, const quant_config& c, storage_t<Elem>* out, std::size_t n) {
    pqt::quantized copy = q;
    pqt::cuda::quantized_view v{copy.codes.data(), copy.codes.size(), copy.scales.data(), copy.scales.size(),
                                &copy.tensor_scale, n};
    host_executor ex{sms, threads};
    pqt::cuda::run_dequantize<Elem>(ex, pqt::cuda::make_kernel_params(c), v, out, n);
  }

  template <class Elem, class Carrier>
  void gaussws(const storage_t<Elem>* w, carrier_t<Carrier>* out, std::size_t n, const gaussws_config& g) {
    host_executor ex{sms, threads};
    pqt::cuda::run_gaussws<Elem, Carrier>(ex, pqt::cuda::make_gaussws_kernel_params(g), w, out, n);
  }

  template <class Elem>
  float amax(const storage_t<Elem>* x, std::size_t n) {
    std::uint32_t r = 0;
    host_executor ex{sms, threads};
    pqt::cuda::run_amax<Elem>(ex, x, n, &r);
    return pqt::detail::bit_cast<float>(r);
  }
};

const std::vector<std::size_t> small_sizes = {0, 1, 15, 16, 17, 127, 129, 4095, 4097};
// Under AddressSanitizer the sizes stop at 4097 (support/sanitizer.hpp): the
// grid-stride loops still go round (the 1 SM x 32 threads grid below), and
// 100000 elements took 35 of the 41 s the test ran there.
#if defined(PQT_TEST_ASAN)
const std::vector<std::size_t> all_sizes = small_sizes;
const std::vector<std::size_t> shape_sizes = {17, 4097};
#else
const std::vector<std::size_t> all_sizes(std::begin(sizes), std::end(sizes));
const std::vector<std::size_t> shape_sizes = {17, 4097, 100000};
#endif

}  // namespace

TEST_CASE("kernel bodies: unit plans cover [0, n) once, vectors aligned") {
  alignas(16) float buf[64];
  for (std::size_t n : {0, 1, 3, 4, 5, 15, 16, 17, 40}) {
    for (std::size_t off = 0; off < 4; ++off)
      for (std::size_t oo = 0; oo < 4; ++oo) {
        const auto p = pqt::cuda::detail::make_plan(n, 4, true, pqt::cuda::detail::info(buf + off),
                                                    pqt::cuda::detail::info(buf + oo));
        std::vector<int> seen(n, 0);
        for (std::size_t it = 0; it < p.items(); ++it) {
          std::size_t first = 0;
          int count = 0;
          p.item(it, first, count);
          CHECK(count > 0);
          CHECK(count <= 4);
          for (int j = 0; j < count; ++j) ++seen[first + static_cast<std::size_t>(j)];
          if (p.vec && count == 4) {
            CHECK(pqt::cuda::detail::aligned16(buf + off + first));
            CHECK(pqt::cuda::detail::aligned16(buf + oo + first));
          }
        }
        for (std::size_t i = 0; i < n; ++i) CHECK(seen[i] == 1);
        if (n >= 4) CHECK(p.vec == (off == oo));
      }
  }
}

TEST_CASE("kernel bodies: amax == host amax (float, bf16, fp16)") {
  host_runner run;
  suite_amax<float>(run, all_sizes);
  suite_amax<pqt::bf16>(run, all_sizes);
  suite_amax<pqt::fp16>(run, small_sizes);
}

TEST_CASE("kernel bodies: fake_quant == host fake_quant, float") {
  host_runner run;
  suite_fake_quant<float>(run, all_sizes);
}

TEST_CASE("kernel bodies: fake_quant == host fake_quant, bf16 and fp16") {
  host_runner run;
  suite_fake_quant<pqt::bf16>(run, all_sizes);
  suite_fake_quant<pqt::fp16>(run, small_sizes);
}

TEST_CASE("kernel bodies: quantize / dequantize == host, float, bf16, fp16") {
  host_runner run;
  suite_quantize<float>(run, all_sizes);
  suite_quantize<pqt::bf16>(run, all_sizes);
  suite_quantize<pqt::fp16>(run, small_sizes);
}

TEST_CASE("kernel bodies: gaussws == host gaussws, float/bf16 in, float/bf16 carrier") {
  host_runner run;
  suite_gaussws<float, pqt::bf16>(run, all_sizes);
  suite_gaussws<float, float>(run, all_sizes);
  suite_gaussws<pqt::bf16, pqt::bf16>(run, small_sizes);
  suite_gaussws<pqt::bf16, float>(run, small_sizes);
}

TEST_CASE("kernel bodies: every mode and overflow policy on every element format") {
  host_runner run;
  suite_modes(run);
}

TEST_CASE("kernel bodies: results do not depend on the grid shape") {
  // 1 SM x 32 threads makes every grid-stride loop go round many times; 3 x 64
  // an odd number of warps.
  for (auto shape : {std::pair<int, int>{1, 32}, {3, 64}, {2, 1024}}) {
    host_runner run{shape.first, shape.second};
    INFO("grid: " << shape.first << " SMs x " << shape.second << " threads");
    for (const auto& nc : configs())
      for (std::size_t n : shape_sizes) {
        CHECK(check_fake_quant<float>(run, nc, n, 1, 1, n) == 0);
        CHECK(check_fake_quant<float>(run, nc, n, 0, 0, n) == 0);
        CHECK(check_quantize<pqt::bf16>(run, nc, n, 0, n) == 0);
      }
    for (const auto& ng : gaussws_configs()) CHECK(check_gaussws<float, pqt::bf16>(run, ng, 4097, 0, 0, 1) == 0);
    CHECK(check_amax<float>(run, shape_sizes.back(), 2, true, 3) == 0);
  }
}

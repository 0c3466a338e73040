// pqt's element functors (quantize_op, fake_quant_op) in thrust::transform
// with a counting iterator for the element index, compiled by plain g++ with
// Thrust's CPP device system (THRUST_DEVICE_SYSTEM_CPP: device_vector is host
// memory) and run through the cpp and omp execution policies: the results
// equal a plain loop over the functor and the host tensor API (fake_quant /
// quantize with index_base), bit for bit, for every thread count. Skips with
// a message when the CUDA toolkit's Thrust headers are not available.
// Markers (cmake/dev-options.cmake): PQT_NEEDS_CUDA_INCLUDE PQT_USES_OPENMP PQT_OPTIMIZE
// PQT_USES_TENSOR_LIB (CMake marker: the tensor API comes from pqt::tensor, compiled once per tree)
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <vector>

#include <pqt/fake_quant.hpp>

#if defined(PQT_HAVE_CUDA_HEADERS) && defined(__has_include)
#if __has_include(<thrust/version.h>)
#define PQT_TEST_THRUST 1
#endif
#endif

#if defined(PQT_TEST_THRUST)

#define THRUST_DEVICE_SYSTEM THRUST_DEVICE_SYSTEM_CPP
#include <thrust/device_vector.h>
#include <thrust/execution_policy.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/system/cpp/execution_policy.h>
#include <thrust/transform.h>
#if defined(_OPENMP)
#include <omp.h>
#include <thrust/system/omp/execution_policy.h>
#endif

namespace {

std::vector<float> input(std::size_t n, float scale) {
  std::vector<float> x(n);
  std::uint64_t s = 12345;
  for (auto& v : x) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    v = static_cast<float>(static_cast<std::int64_t>(s >> 20) - (std::int64_t{1} << 43)) * 0x1p-43f * scale;
  }
  x[3] = 0.0f;
  x[7] = -x[7] * 1e-7f;
  return x;
}

bool same_bits(float a, float b) { return pqt::detail::bit_cast<std::uint32_t>(a) == pqt::detail::bit_cast<std::uint32_t>(b); }

/// fake_quant_op through every Thrust path == the host API with the same config.
template <class Fmt, pqt::rounding R, pqt::overflow O = pqt::overflow::saturate, int K = 32>
void check_fake_quant(float scale, const char* name) {
  const std::size_t n = 100003;
  const std::uint64_t seed = 0xC0FFEE, offset = 12, base = 1001;  // base % 4 != 0: unaligned Philox groups
  const pqt::fake_quant_op<Fmt, R, O, K> op{seed, offset, 0.6f};
  const std::vector<float> x = input(n, scale);

  pqt::quant_config c;
  c.format = pqt::format_desc::of<Fmt>();
  c.round = R;
  c.over = O;
  c.random_bits = K;
  c.sigma = 0.6f;
  c.seed = seed;
  c.offset = offset;
  c.index_base = base;
  std::vector<float> want(n);
  pqt::fake_quant(x.data(), want.data(), n, c);

  std::vector<float> loop(n);
  for (std::size_t i = 0; i < n; ++i) loop[i] = op(x[i], base + i);

  // device_vector in the CPP device system
  thrust::device_vector<float> dx(x.begin(), x.end()), dy(n);
  thrust::transform(dx.begin(), dx.end(), thrust::counting_iterator<std::uint64_t>(base), dy.begin(), op);
  std::vector<float> dev(n);
  thrust::copy(dy.begin(), dy.end(), dev.begin());

  // explicit cpp policy on host memory
  std::vector<float> cpp(n);
  thrust::transform(thrust::cpp::par, x.begin(), x.end(), thrust::counting_iterator<std::uint64_t>(base), cpp.begin(), op);

  std::size_t bad_loop = 0, bad_dev = 0, bad_cpp = 0;
  for (std::size_t i = 0; i < n; ++i) {
    bad_loop += !same_bits(loop[i], want[i]);
    bad_dev += !same_bits(dev[i], want[i]);
    bad_cpp += !same_bits(cpp[i], want[i]);
  }
  INFO(name);
  CHECK(bad_loop == 0);
  CHECK(bad_dev == 0);
  CHECK(bad_cpp == 0);

#if defined(_OPENMP)
  for (int threads : {1, 2, 3, 8}) {
    omp_set_num_threads(threads);
    std::vector<float> omp(n);
    thrust::transform(thrust::omp::par, x.begin(), x.end(), thrust::counting_iterator<std::uint64_t>(base), omp.begin(), op);
    std::size_t bad = 0;
    for (std::size_t i = 0; i < n; ++i) bad += !same_bits(omp[i], want[i]);
    INFO("omp threads " << threads);
    CHECK(bad == 0);
  }
#endif
}

}  // namespace

TEST_CASE("fake_quant_op in thrust::transform (cpp device system, cpp and omp policies) == host API") {
#if !defined(_OPENMP)
  MESSAGE("OpenMP not enabled: Thrust's omp policy is not tested in this build");
#endif
  check_fake_quant<pqt::fmt::e4m3, pqt::rounding::nearest_even>(400.0f, "e4m3 nearest_even");
  check_fake_quant<pqt::fmt::e4m3, pqt::rounding::stochastic>(400.0f, "e4m3 stochastic");
  check_fake_quant<pqt::fmt::e2m1, pqt::rounding::stochastic, pqt::overflow::saturate, 8>(8.0f, "e2m1 stochastic K=8");
  check_fake_quant<pqt::fmt::e5m2, pqt::rounding::gaussian, pqt::overflow::nonsaturating>(1e5f, "e5m2 gaussian");
  check_fake_quant<pqt::fmt::bf16, pqt::rounding::stochastic>(1.0f, "bf16 stochastic");
  check_fake_quant<pqt::fmt::e3m2, pqt::rounding::odd>(30.0f, "e3m2 odd");
}

TEST_CASE("quantize_op in thrust::transform == host quantize codes") {
  const std::size_t n = 50001;
  const std::uint64_t base = 6;
  const pqt::quantize_op<pqt::fmt::e5m2, pqt::rounding::stochastic> op{7, 8};
  const std::vector<float> x = input(n, 1000.0f);
  pqt::quant_config c;
  c.format = pqt::format_desc::of<pqt::fmt::e5m2>();
  c.round = pqt::rounding::stochastic;
  c.seed = 7;
  c.offset = 8;
  c.index_base = base;
  pqt::quantized q;
  pqt::quantize(x.data(), n, c, q);
  thrust::device_vector<float> dx(x.begin(), x.end());
  thrust::device_vector<std::uint8_t> codes(n);
  thrust::transform(dx.begin(), dx.end(), thrust::counting_iterator<std::uint64_t>(base), codes.begin(), op);
  std::vector<std::uint8_t> got(n);
  thrust::copy(codes.begin(), codes.end(), got.begin());
  CHECK(got == q.codes);
}

#else  // !PQT_TEST_THRUST

TEST_CASE("Thrust host backends (skipped)") {
  std::printf("SKIPPED: the CUDA toolkit's Thrust headers were not found (configure with the CUDA toolkit installed "
              "to test the functors through Thrust's CPP/OMP backends)\n");
}

#endif  // PQT_TEST_THRUST

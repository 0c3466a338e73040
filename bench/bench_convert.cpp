// Host throughput of float -> low-precision conversion (single thread).
//
// Rows, for n = 2^16 (cache-resident) and 2^24 (memory-bound) floats:
//   pqt_rne/<fmt>/<n>    pqt::encode<fmt, nearest_even, saturate>, plain loop
//   pqt_sr/<fmt>/<n>     pqt::encode<fmt, stochastic, saturate>(x, counter_hash_bits(seed, i))
//   pqt_sr_philox/<fmt>/<n>  the same with Philox words of (seed, 0, i), one call per 4 elements
//   pqt_gauss/<fmt>/<n>  gaussian rounding, sigma 1/2, Philox words (one call per 2 elements)
//   gaussws_r/bf16/<n>   GaussWS element op bf16(w + R * 2^-8), R from Philox words
//   cuda_host/<fmt>/<n>  the CUDA toolkit's host conversion (satfinite, RNE)
//   memcpy/<bytes>/<n>   std::memcpy of the 4n input bytes: the copy the others are held to
// bytes_per_second counts bytes read + bytes written (4n + n*sizeof(code));
// bench/run_host.sh prints the summary table (rates, ratios, % of memcpy).
//
// The CUDA rows need the toolkit headers (no GPU); pqt_add_program adds them
// for files containing the marker PQT_NEEDS_CUDA_INCLUDE.

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <pqt/convert.hpp>
#include <pqt/format.hpp>
#include <pqt/fake_quant.hpp>
#include <pqt/noise.hpp>
#include <pqt/random.hpp>
#include <pqt/version.hpp>

#if defined(PQT_HAVE_CUDA_HEADERS)
#include <cuda_bf16.h>
#include <cuda_fp4.h>
#include <cuda_fp6.h>
#include <cuda_fp8.h>
#endif

#if defined(__GNUC__) || defined(__clang__)
#define BENCH_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define BENCH_NOINLINE __declspec(noinline)
#else
#define BENCH_NOINLINE
#endif

namespace {

constexpr std::uint64_t input_seed = 0x5eed'0f'b3'4c'40'01ull;
constexpr std::uint32_t sr_seed = 0x2545F491u;

// ---- Stochastic-rounding bits ----------------------------------------------
// The rounding cost alone: words from the murmur3 32-bit finaliser of
// seed ^ i * golden-ratio (pqt_sr rows); pqt_sr_philox rows use the library's
// Philox generator instead. Stateless (element i's bits depend on i only), so
// the loop stays a plain indexed loop the compiler may vectorise.
inline std::uint32_t counter_hash_bits(std::uint32_t seed, std::uint32_t i) {
  std::uint32_t h = seed ^ (i * 0x9E3779B9u);
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  return h;
}

// ---- Inputs ----------------------------------------------------------------
// Deterministic across standard libraries (std::normal_distribution is not):
// splitmix64 words, Box-Muller normals.
struct splitmix64 {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform01() { return static_cast<double>(next() >> 11) * 0x1p-53; }  // [0, 1)
};

// N(0,1) * scale, with 1 element in 32 replaced by a value uniform in
// (-min_normal, min_normal) so the subnormal path is taken too. scale puts
// nearly all values in range (a few 4-sigma tails saturate).
std::vector<float> make_input(std::size_t n, double scale, double min_normal, std::uint64_t seed) {
  std::vector<float> v(n);
  splitmix64 rng{seed};
  constexpr double two_pi = 6.283185307179586476925286766559;
  for (std::size_t i = 0; i < n; i += 2) {
    const double u1 = 1.0 - rng.uniform01();  // (0, 1]
    const double u2 = rng.uniform01();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double g[2] = {r * std::cos(two_pi * u2), r * std::sin(two_pi * u2)};
    for (std::size_t j = 0; j < 2 && i + j < n; ++j) {
      const std::uint64_t w = rng.next();
      double x = g[j] * scale;
      if ((w & 31u) == 0) x = (2.0 * rng.uniform01() - 1.0) * min_normal;
      v[i + j] = static_cast<float>(x);
    }
  }
  return v;
}

// Benchmarks run in registration order, grouped by (format, n), so one cached
// input serves the rne, sr and cuda rows of a group (same input for all rows)
// without holding every format's 64 MiB at once.
const std::vector<float>& cached_input(const std::string& key, std::size_t n, double scale,
                                       double min_normal) {
  static std::string cached_key;
  static std::vector<float> cached;
  const std::string full = key + "/" + std::to_string(n);
  if (full != cached_key) {
    cached.clear();
    cached.shrink_to_fit();
    cached = make_input(n, scale, min_normal, input_seed);
    cached_key = full;
  }
  return cached;
}

// ---- Formats ---------------------------------------------------------------
// scale: the input's standard deviation, about max/4 (bf16: unit scale, as
// its range is float's).
struct e4m3_case {
  using fmt = pqt::fmt::e4m3;
  static constexpr const char* name = "e4m3";
  static constexpr double scale = 448.0 / 4;
#if defined(PQT_HAVE_CUDA_HEADERS)
  static std::uint8_t cuda(float x) {
    return static_cast<std::uint8_t>(__nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E4M3));
  }
#endif
};
struct e5m2_case {
  using fmt = pqt::fmt::e5m2;
  static constexpr const char* name = "e5m2";
  static constexpr double scale = 57344.0 / 4;
#if defined(PQT_HAVE_CUDA_HEADERS)
  static std::uint8_t cuda(float x) {
    return static_cast<std::uint8_t>(__nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E5M2));
  }
#endif
};
struct e2m1_case {
  using fmt = pqt::fmt::e2m1;
  static constexpr const char* name = "e2m1";
  static constexpr double scale = 6.0 / 4;
#if defined(PQT_HAVE_CUDA_HEADERS)
  // Always satfinite (the API has no saturation argument).
  static std::uint8_t cuda(float x) {
    return static_cast<std::uint8_t>(__nv_cvt_float_to_fp4(x, __NV_E2M1, cudaRoundNearest));
  }
#endif
};
struct e3m2_case {
  using fmt = pqt::fmt::e3m2;
  static constexpr const char* name = "e3m2";
  static constexpr double scale = 28.0 / 4;
#if defined(PQT_HAVE_CUDA_HEADERS)
  static std::uint8_t cuda(float x) {
    return static_cast<std::uint8_t>(__nv_cvt_float_to_fp6(x, __NV_E3M2, cudaRoundNearest));
  }
#endif
};
struct bf16_case {
  using fmt = pqt::fmt::bf16;
  static constexpr const char* name = "bf16";
  static constexpr double scale = 1.0;
#if defined(PQT_HAVE_CUDA_HEADERS)
  // RNE without saturation; the inputs never reach bf16's max, so the codes
  // equal pqt's saturating ones.
  static std::uint16_t cuda(float x) {
    const __nv_bfloat16_raw r = __float2bfloat16_rn(x);
    return r.x;
  }
#endif
};

template <class Case>
using code_t = pqt::storage_t<typename Case::fmt>;

template <class Case>
const std::vector<float>& input_for(std::size_t n) {
  return cached_input(Case::name, n, Case::scale, static_cast<double>(Case::fmt::min_normal()));
}

// ---- Kernels ---------------------------------------------------------------
// noinline: each loop is one symbol to read in objdump, and __restrict holds
// for the whole loop.
template <class Fmt>
BENCH_NOINLINE void convert_rne(const float* __restrict in, pqt::storage_t<Fmt>* __restrict out,
                                std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    out[i] = pqt::encode<Fmt, pqt::rounding::nearest_even, pqt::overflow::saturate>(in[i]);
}

// Stochastic rounding with the library's own random bits: Philox4x32-10 from
// (seed, offset, index), one Philox call per four elements (random_block4) as
// the tensor paths do, scalar random_word for the tail.
template <class Fmt>
BENCH_NOINLINE void convert_sr(const float* __restrict in, pqt::storage_t<Fmt>* __restrict out,
                               std::size_t n, std::uint32_t seed) {
  for (std::size_t i = 0; i < n; ++i)
    out[i] = pqt::encode<Fmt, pqt::rounding::stochastic, pqt::overflow::saturate>(
        in[i], counter_hash_bits(seed, static_cast<std::uint32_t>(i)));
}

template <class Fmt>
BENCH_NOINLINE void convert_sr_philox(const float* __restrict in, pqt::storage_t<Fmt>* __restrict out,
                                      std::size_t n, std::uint64_t seed) {
  constexpr std::uint64_t offset = 0;
  const std::size_t n4 = n / 4;
  for (std::size_t q = 0; q < n4; ++q) {
    const pqt::u32x4 w = pqt::random_block4(seed, offset, q);
    PQT_UNROLL for (int j = 0; j < 4; ++j)  // unrolled, the q loop vectorises
      out[4 * q + j] = pqt::encode<Fmt, pqt::rounding::stochastic, pqt::overflow::saturate>(in[4 * q + j], w[j]);
  }
  for (std::size_t i = 4 * n4; i < n; ++i)
    out[i] = pqt::encode<Fmt, pqt::rounding::stochastic, pqt::overflow::saturate>(
        in[i], pqt::random_word(seed, offset, i));
}

// Gaussian rounding, sigma = 1/2: two Philox words per element (one call per
// two elements, random_block2), Box-Muller, then one rounding.
template <class Fmt>
BENCH_NOINLINE void convert_gauss(const float* __restrict in, pqt::storage_t<Fmt>* __restrict out,
                                  std::size_t n, std::uint64_t seed) {
  constexpr std::uint64_t offset = 0;
  for (std::size_t p = 0; p < n / 2; ++p) {
    const pqt::u32x4 w = pqt::random_block2(seed, offset, p);
    out[2 * p] = pqt::gaussian_round<Fmt>(in[2 * p], 0.5f, pqt::word_pair{w[0], w[1]});
    out[2 * p + 1] = pqt::gaussian_round<Fmt>(in[2 * p + 1], 0.5f, pqt::word_pair{w[2], w[3]});
  }
  if (n % 2) out[n - 1] = pqt::gaussian_round<Fmt>(in[n - 1], 0.5f, pqt::random_words2(seed, offset, n - 1));
}

// GaussWS element op: bf16(w + R * delta), R from one Philox word per element.
BENCH_NOINLINE void gaussws_bf16(const float* __restrict in, std::uint16_t* __restrict out, std::size_t n,
                                 std::uint64_t seed, float delta) {
  constexpr std::uint64_t offset = 0;
  const std::size_t n4 = n / 4;
  for (std::size_t q = 0; q < n4; ++q) {
    const pqt::u32x4 w = pqt::random_block4(seed, offset, q);
    PQT_UNROLL for (int j = 0; j < 4; ++j)
      out[4 * q + j] = pqt::gaussws_element<pqt::fmt::bf16>(in[4 * q + j], delta, w[j]);
  }
  for (std::size_t i = 4 * n4; i < n; ++i)
    out[i] = pqt::gaussws_element<pqt::fmt::bf16>(in[i], delta, pqt::random_word(seed, offset, i));
}

#if defined(PQT_HAVE_CUDA_HEADERS)
template <class Case>
BENCH_NOINLINE void convert_cuda(const float* __restrict in, code_t<Case>* __restrict out,
                                 std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = Case::cuda(in[i]);
}
#endif

void set_rates(benchmark::State& state, std::size_t n, std::size_t bytes_per_elem) {
  const auto it = static_cast<std::int64_t>(state.iterations());
  state.SetItemsProcessed(it * static_cast<std::int64_t>(n));
  state.SetBytesProcessed(it * static_cast<std::int64_t>(n * bytes_per_elem));
}

// Output buffers are written once before timing so page faults stay out of it.
template <class Case>
void bm_pqt_rne(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::vector<float>& in = input_for<Case>(n);
  std::vector<code_t<Case>> out(n);
  for (auto _ : state) {
    convert_rne<typename Case::fmt>(in.data(), out.data(), n);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_rates(state, n, sizeof(float) + sizeof(code_t<Case>));
}

template <class Case>
void bm_pqt_sr(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::vector<float>& in = input_for<Case>(n);
  std::vector<code_t<Case>> out(n);
  for (auto _ : state) {
    convert_sr<typename Case::fmt>(in.data(), out.data(), n, sr_seed);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_rates(state, n, sizeof(float) + sizeof(code_t<Case>));
}

template <class Case>
void bm_pqt_sr_philox(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::vector<float>& in = input_for<Case>(n);
  std::vector<code_t<Case>> out(n);
  for (auto _ : state) {
    convert_sr_philox<typename Case::fmt>(in.data(), out.data(), n, sr_seed);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_rates(state, n, sizeof(float) + sizeof(code_t<Case>));
}

template <class Case>
void bm_pqt_gauss(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::vector<float>& in = input_for<Case>(n);
  std::vector<code_t<Case>> out(n);
  for (auto _ : state) {
    convert_gauss<typename Case::fmt>(in.data(), out.data(), n, sr_seed);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_rates(state, n, sizeof(float) + sizeof(code_t<Case>));
}

void bm_gaussws_bf16(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::vector<float>& in = input_for<bf16_case>(n);
  std::vector<std::uint16_t> out(n);
  for (auto _ : state) {
    gaussws_bf16(in.data(), out.data(), n, sr_seed, 0x1p-8f);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_rates(state, n, sizeof(float) + sizeof(std::uint16_t));
}

#if defined(PQT_HAVE_CUDA_HEADERS)
template <class Case>
void bm_cuda_host(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::vector<float>& in = input_for<Case>(n);
  std::vector<code_t<Case>> out(n);
  for (auto _ : state) {
    convert_cuda<Case>(in.data(), out.data(), n);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_rates(state, n, sizeof(float) + sizeof(code_t<Case>));
}

// Both sides must do the same work: count codes where pqt and CUDA disagree
// on the benchmark's own input (expected 0; reported in the context).
template <class Case>
std::size_t cuda_mismatches(std::size_t n) {
  const std::vector<float>& in = input_for<Case>(n);
  std::size_t bad = 0;
  for (float x : in)
    bad += pqt::encode<typename Case::fmt, pqt::rounding::nearest_even, pqt::overflow::saturate>(x) !=
           Case::cuda(x);
  return bad;
}
#endif  // PQT_HAVE_CUDA_HEADERS

void bm_memcpy(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::vector<float>& in = input_for<e4m3_case>(n);
  std::vector<float> out(n);
  for (auto _ : state) {
    std::memcpy(out.data(), in.data(), n * sizeof(float));
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_rates(state, n, 2 * sizeof(float));
}

constexpr std::int64_t sizes[] = {std::int64_t{1} << 16, std::int64_t{1} << 24};

template <class Case>
void register_format(std::int64_t n) {
  const std::string suffix = std::string("/") + Case::name;
  benchmark::RegisterBenchmark(("pqt_rne" + suffix).c_str(), bm_pqt_rne<Case>)->Arg(n);
  benchmark::RegisterBenchmark(("pqt_sr" + suffix).c_str(), bm_pqt_sr<Case>)->Arg(n);
  benchmark::RegisterBenchmark(("pqt_sr_philox" + suffix).c_str(), bm_pqt_sr_philox<Case>)->Arg(n);
  benchmark::RegisterBenchmark(("pqt_gauss" + suffix).c_str(), bm_pqt_gauss<Case>)->Arg(n);
#if defined(PQT_HAVE_CUDA_HEADERS)
  benchmark::RegisterBenchmark(("cuda_host" + suffix).c_str(), bm_cuda_host<Case>)->Arg(n);
#endif
}

void register_all() {
  for (const std::int64_t n : sizes) {
    // memcpy/<bytes copied>/<n>
    benchmark::RegisterBenchmark(("memcpy/" + std::to_string(n * 4)).c_str(), bm_memcpy)->Arg(n);
    benchmark::RegisterBenchmark("gaussws_r/bf16", bm_gaussws_bf16)->Arg(n);
    register_format<e4m3_case>(n);
    register_format<e5m2_case>(n);
    register_format<e2m1_case>(n);
    register_format<e3m2_case>(n);
    register_format<bf16_case>(n);
  }
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line, model = "unknown", family, number;
  auto value = [](const std::string& l) {
    const auto c = l.find(':');
    return c == std::string::npos ? std::string() : l.substr(l.find_first_not_of(" \t", c + 1));
  };
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0 && model == "unknown") model = value(line);
    else if (line.rfind("cpu family", 0) == 0 && family.empty()) family = value(line);
    else if (line.rfind("model", 0) == 0 && line.find("name") == std::string::npos && number.empty())
      number = value(line);
  }
  if (!family.empty()) model += " (family " + family + ", model " + number + ")";
  return model;
}

std::string compiler() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "gcc " __VERSION__;
#elif defined(_MSC_VER)
  return "msvc " + std::to_string(_MSC_FULL_VER);
#else
  return "unknown";
#endif
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  benchmark::AddCustomContext("cpu_model", cpu_model());
  benchmark::AddCustomContext("compiler", compiler());
  benchmark::AddCustomContext("pqt_version", PQT_VERSION_STRING);
#if defined(PQT_HAVE_CUDA_HEADERS)
  {
    std::ostringstream s;
    constexpr std::size_t n = std::size_t{1} << 16;
    s << "e4m3=" << cuda_mismatches<e4m3_case>(n) << " e5m2=" << cuda_mismatches<e5m2_case>(n)
      << " e2m1=" << cuda_mismatches<e2m1_case>(n) << " e3m2=" << cuda_mismatches<e3m2_case>(n)
      << " bf16=" << cuda_mismatches<bf16_case>(n) << " (of 65536)";
    benchmark::AddCustomContext("pqt_vs_cuda_mismatches", s.str());
  }
#else
  benchmark::AddCustomContext("cuda_host", "skipped: built without PQT_HAVE_CUDA_HEADERS");
#endif

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

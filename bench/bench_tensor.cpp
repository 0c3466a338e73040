// Host throughput of the tensor API (fake_quant.hpp) on 1 and 2 threads,
// held to a memcpy of the same bytes on the same number of threads.
//
// Rows, name/<n>/<threads>, n = 2^24 elements, threads = quant_config::threads
// (1: serial; 2: two OpenMP threads):
//   memcpy              std::memcpy of the 4n-byte float input into a float array;
//                       2 threads: one half each, on OpenMP threads (std::thread without OpenMP)
//   fq_none_e4m3_rne    fake_quant, e4m3, no scaling, nearest_even
//   fq_tensor_e4m3_rne  fake_quant, per_tensor(e4m3): current scaling, its amax pass included
//   fq_mxfp8_rne        fake_quant, quant_config::mxfp8() (e4m3, e8m0 scale per 32)
//   fq_mxfp8_sr         the same, stochastic (Philox words)
//   fq_mxfp8_up         the same, upward (the directed modes share one loop)
//   fq_mxfp4_rne        fake_quant, quant_config::mxfp4()
//   fq_nvfp4_rne        fake_quant, quant_config::nvfp4()
//   fq_bf16_mxfp8_rne   fake_quant over bf16 arrays (bf16 in, bf16 out), mxfp8()
//   quantize_mxfp4      quantize into a warm pqt::quantized: packed e2m1 codes + e8m0 scales
//   dequantize_mxfp4    dequantize of those codes and scales into floats
//   gaussws_r_b9_bf16   gaussws, R noise, block Delta with b = 9, per 32, float -> bf16
// bytes_per_second counts the bytes an ideal single pass moves, read + written:
// float rows 8n, bf16 fake_quant 4n, quantize 4n + n/2 + n/32, dequantize the
// same, gaussws 6n. Extra passes the library makes (the amax pass of tensor and
// block scaling, quantize's zeroing of the code bytes, the bf16 path's float
// buffer) are not counted, so they show up as a lower rate. Every row uses wall
// time (UseRealTime): with two threads CPU time would count one thread only.
// bench/run_host.sh prints the summary table (rates, % of the memcpy with the
// same thread count, 2-thread / 1-thread speedup, the targets).
//
// PQT_USES_OPENMP: pqt_add_program links OpenMP::OpenMP_CXX into this file's
// target when OpenMP was found. Without it the library runs every call on one
// thread; the context line "openmp" says which build this is.

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include <pqt/fake_quant.hpp>
#include <pqt/minifloat.hpp>
#include <pqt/version.hpp>

#if defined(__GNUC__) || defined(__clang__)
#define BENCH_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define BENCH_NOINLINE __declspec(noinline)
#else
#define BENCH_NOINLINE
#endif

namespace {

constexpr std::int64_t bench_n = std::int64_t{1} << 24;
constexpr std::uint64_t input_seed = 0x5eed'0f'b3'4c'40'01ull;  // bench_convert's
constexpr std::uint64_t sr_seed = 0x2545F491u;

// ---- Inputs ----------------------------------------------------------------
// Deterministic across standard libraries: splitmix64 words, Box-Muller normals.
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

// N(0,1) * 112 (about e4m3's max / 4, so the unscaled e4m3 row is mostly in
// range), with 1 element in 32 replaced by a value uniform in (-2^-6, 2^-6)
// so unscaled e4m3 takes its subnormal path and blocks hold a spread of
// magnitudes. The scaled rows do not depend on the overall scale.
std::vector<float> make_input(std::size_t n) {
  std::vector<float> v(n);
  splitmix64 rng{input_seed};
  constexpr double two_pi = 6.283185307179586476925286766559;
  for (std::size_t i = 0; i < n; i += 2) {
    const double u1 = 1.0 - rng.uniform01();  // (0, 1]
    const double u2 = rng.uniform01();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double g[2] = {r * std::cos(two_pi * u2), r * std::sin(two_pi * u2)};
    for (std::size_t j = 0; j < 2 && i + j < n; ++j) {
      const std::uint64_t w = rng.next();
      double x = g[j] * 112.0;
      if ((w & 31u) == 0) x = (2.0 * rng.uniform01() - 1.0) * 0x1p-6;
      v[i + j] = static_cast<float>(x);
    }
  }
  return v;
}

// One input for every row (64 MiB at 2^24), and its bf16 rounding (exact
// round trip through float, so both rows see the same values up to bf16).
const std::vector<float>& input(std::size_t n) {
  static std::vector<float> v;
  if (v.size() != n) v = make_input(n);
  return v;
}
const std::vector<pqt::bf16>& input_bf16(std::size_t n) {
  static std::vector<pqt::bf16> v;
  if (v.size() != n) {
    const std::vector<float>& x = input(n);
    v.resize(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = pqt::bf16(x[i]);
  }
  return v;
}

// ---- memcpy on t threads -------------------------------------------------------
// The same thread mechanism as the library where it exists (OpenMP, whose pool
// stays warm between calls); slices start on 64-byte boundaries.
BENCH_NOINLINE void copy_threads(const float* in, float* out, std::size_t n, int threads) {
  auto slice = [&](int k, int nt) {
    const std::size_t per = (n / static_cast<std::size_t>(nt) + 15) & ~std::size_t{15};
    const std::size_t b = per * static_cast<std::size_t>(k) < n ? per * static_cast<std::size_t>(k) : n;
    const std::size_t e = b + per < n ? b + per : n;
    std::memcpy(out + b, in + b, (e - b) * sizeof(float));
  };
  if (threads <= 1) {
    std::memcpy(out, in, n * sizeof(float));
    return;
  }
#if defined(_OPENMP)
#pragma omp parallel num_threads(threads)
  slice(omp_get_thread_num(), omp_get_num_threads());
#else
  std::vector<std::thread> pool;
  for (int k = 1; k < threads; ++k) pool.emplace_back(slice, k, threads);
  slice(0, threads);
  for (std::thread& t : pool) t.join();
#endif
}

void set_rates(benchmark::State& state, std::size_t n, std::size_t bytes_per_call) {
  const auto it = static_cast<std::int64_t>(state.iterations());
  state.SetItemsProcessed(it * static_cast<std::int64_t>(n));
  state.SetBytesProcessed(it * static_cast<std::int64_t>(bytes_per_call));
}

std::size_t arg_n(const benchmark::State& state) { return static_cast<std::size_t>(state.range(0)); }
int arg_threads(const benchmark::State& state) { return static_cast<int>(state.range(1)); }

// ---- Configurations --------------------------------------------------------------
pqt::quant_config cfg_none_e4m3() {
  return pqt::quant_config{};  // e4m3, nearest_even, saturate, scaling::none
}
pqt::quant_config cfg_tensor_e4m3() { return pqt::quant_config::per_tensor(pqt::format_desc::of<pqt::fmt::e4m3>()); }
pqt::quant_config cfg_mxfp8_rne() { return pqt::quant_config::mxfp8(); }
pqt::quant_config cfg_mxfp8_sr() {
  pqt::quant_config c = pqt::quant_config::mxfp8();
  c.round = pqt::rounding::stochastic;
  c.seed = sr_seed;
  return c;
}
pqt::quant_config cfg_mxfp8_up() {
  pqt::quant_config c = pqt::quant_config::mxfp8();
  c.round = pqt::rounding::upward;
  return c;
}
pqt::quant_config cfg_mxfp4_rne() { return pqt::quant_config::mxfp4(); }
pqt::quant_config cfg_nvfp4_rne() { return pqt::quant_config::nvfp4(); }

pqt::gaussws_config cfg_gaussws() {
  pqt::gaussws_config g;
  g.noise = pqt::noise_kind::r;
  g.delta = pqt::delta_mode::block;
  g.bits = 9;
  g.scale = pqt::scaling::block;
  g.block_size = 32;
  g.seed = sr_seed;
  return g;
}

using config_fn = pqt::quant_config (*)();

// ---- Benchmarks ------------------------------------------------------------------
// Outputs are allocated (and so written) before timing: page faults stay out.
void bm_memcpy(benchmark::State& state) {
  const std::size_t n = arg_n(state);
  const int t = arg_threads(state);
  const std::vector<float>& in = input(n);
  std::vector<float> out(n);
  for (auto _ : state) {
    copy_threads(in.data(), out.data(), n, t);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_rates(state, n, 2 * sizeof(float) * n);
}

template <config_fn Cfg>
void bm_fake_quant(benchmark::State& state) {
  const std::size_t n = arg_n(state);
  pqt::quant_config c = Cfg();
  c.threads = arg_threads(state);
  const std::vector<float>& in = input(n);
  std::vector<float> out(n);
  for (auto _ : state) {
    pqt::fake_quant(in.data(), out.data(), n, c);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_rates(state, n, 2 * sizeof(float) * n);
}

template <config_fn Cfg>
void bm_fake_quant_bf16(benchmark::State& state) {
  const std::size_t n = arg_n(state);
  pqt::quant_config c = Cfg();
  c.threads = arg_threads(state);
  const std::vector<pqt::bf16>& in = input_bf16(n);
  std::vector<pqt::bf16> out(n);
  for (auto _ : state) {
    pqt::fake_quant(in.data(), out.data(), n, c);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_rates(state, n, 2 * sizeof(pqt::bf16) * n);
}

// quantize into the same pqt::quantized every call, warmed once: no allocation
// in the timed loop (quantize still zeroes the code bytes each call).
template <config_fn Cfg>
void bm_quantize(benchmark::State& state) {
  const std::size_t n = arg_n(state);
  pqt::quant_config c = Cfg();
  c.threads = arg_threads(state);
  const std::vector<float>& in = input(n);
  pqt::quantized q;
  pqt::quantize(in.data(), n, c, q);
  for (auto _ : state) {
    pqt::quantize(in.data(), n, c, q);
    benchmark::DoNotOptimize(q.codes.data());
    benchmark::ClobberMemory();
  }
  set_rates(state, n, sizeof(float) * n + pqt::code_bytes(n, c) + pqt::scale_count(n, c));
}

template <config_fn Cfg>
void bm_dequantize(benchmark::State& state) {
  const std::size_t n = arg_n(state);
  pqt::quant_config c = Cfg();
  c.threads = arg_threads(state);
  pqt::quantized q;
  pqt::quantize(input(n).data(), n, c, q);
  std::vector<float> out(n);
  for (auto _ : state) {
    pqt::dequantize(q, c, out.data(), n);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_rates(state, n, sizeof(float) * n + pqt::code_bytes(n, c) + pqt::scale_count(n, c));
}

void bm_gaussws_bf16(benchmark::State& state) {
  const std::size_t n = arg_n(state);
  pqt::gaussws_config g = cfg_gaussws();
  g.threads = arg_threads(state);
  const std::vector<float>& in = input(n);
  std::vector<pqt::bf16> out(n);
  for (auto _ : state) {
    pqt::gaussws(in.data(), out.data(), n, g);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_rates(state, n, (sizeof(float) + sizeof(pqt::bf16)) * n);
}

// ---- Same bits on 1 and 2 threads ------------------------------------------------
// The library promises results independent of the thread count; the benchmark
// checks it on its own input (first 2^20 elements) so a fast but wrong
// parallel path cannot go unnoticed. Reported in the context (expected 0).
template <class T>
std::size_t differing_bytes(const std::vector<T>& a, const std::vector<T>& b) {
  std::size_t bad = 0;
  const auto* pa = reinterpret_cast<const unsigned char*>(a.data());
  const auto* pb = reinterpret_cast<const unsigned char*>(b.data());
  for (std::size_t i = 0; i < a.size() * sizeof(T); ++i) bad += pa[i] != pb[i];
  return bad;
}

std::string thread_check() {
  constexpr std::size_t n = std::size_t{1} << 20;
  const std::vector<float> x(input(bench_n).begin(), input(bench_n).begin() + n);
  const std::vector<pqt::bf16> xb(input_bf16(bench_n).begin(), input_bf16(bench_n).begin() + n);
  std::size_t bad = 0;
  const config_fn cfgs[] = {cfg_none_e4m3, cfg_tensor_e4m3, cfg_mxfp8_rne, cfg_mxfp8_sr, cfg_mxfp4_rne, cfg_nvfp4_rne};
  for (const config_fn f : cfgs) {
    std::vector<float> y1(n), y2(n);
    pqt::quant_config c = f();
    c.threads = 1;
    pqt::fake_quant(x.data(), y1.data(), n, c);
    c.threads = 2;
    pqt::fake_quant(x.data(), y2.data(), n, c);
    bad += differing_bytes(y1, y2);
  }
  {
    std::vector<pqt::bf16> y1(n), y2(n);
    pqt::quant_config c = cfg_mxfp8_rne();
    c.threads = 1;
    pqt::fake_quant(xb.data(), y1.data(), n, c);
    c.threads = 2;
    pqt::fake_quant(xb.data(), y2.data(), n, c);
    bad += differing_bytes(y1, y2);
  }
  {
    pqt::quantized q1, q2;
    pqt::quant_config c = cfg_mxfp4_rne();
    c.threads = 1;
    pqt::quantize(x.data(), n, c, q1);
    c.threads = 2;
    pqt::quantize(x.data(), n, c, q2);
    bad += differing_bytes(q1.codes, q2.codes) + differing_bytes(q1.scales, q2.scales);
  }
  {
    std::vector<pqt::bf16> y1(n), y2(n);
    pqt::gaussws_config g = cfg_gaussws();
    g.threads = 1;
    pqt::gaussws(x.data(), y1.data(), n, g);
    g.threads = 2;
    pqt::gaussws(x.data(), y2.data(), n, g);
    bad += differing_bytes(y1, y2);
  }
  return std::to_string(bad) + " differing output bytes (fake_quant x7, quantize, gaussws; first 2^20 elements)";
}

// ---- Registration ------------------------------------------------------------------
void add(const char* name, void (*fn)(benchmark::State&)) {
  benchmark::RegisterBenchmark(name, fn)
      ->ArgsProduct({{bench_n}, {1, 2}})
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}

void register_all() {
  add("memcpy", bm_memcpy);
  add("fq_none_e4m3_rne", bm_fake_quant<cfg_none_e4m3>);
  add("fq_tensor_e4m3_rne", bm_fake_quant<cfg_tensor_e4m3>);
  add("fq_mxfp8_rne", bm_fake_quant<cfg_mxfp8_rne>);
  add("fq_mxfp8_sr", bm_fake_quant<cfg_mxfp8_sr>);
  add("fq_mxfp8_up", bm_fake_quant<cfg_mxfp8_up>);
  add("fq_mxfp4_rne", bm_fake_quant<cfg_mxfp4_rne>);
  add("fq_nvfp4_rne", bm_fake_quant<cfg_nvfp4_rne>);
  add("fq_bf16_mxfp8_rne", bm_fake_quant_bf16<cfg_mxfp8_rne>);
  add("quantize_mxfp4", bm_quantize<cfg_mxfp4_rne>);
  add("dequantize_mxfp4", bm_dequantize<cfg_mxfp4_rne>);
  add("gaussws_r_b9_bf16", bm_gaussws_bf16);
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

std::string openmp() {
#if defined(_OPENMP)
  std::ostringstream s;
  s << "yes (_OPENMP " << _OPENMP << ", omp_get_max_threads " << omp_get_max_threads() << ", "
    << std::thread::hardware_concurrency() << " hardware threads)";
  return s.str();
#else
  return "no: the library's 2-thread rows ran on one thread";
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
  benchmark::AddCustomContext("openmp", openmp());
  benchmark::AddCustomContext("threads_1_vs_2", thread_check());

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// GPU benchmarks of pqt::cuda, timed with CUDA events (bench/cuda/run.sh
// builds and runs this and prints its table):
//   * bandwidth of fake_quant (nearest_even, stochastic, gaussian; per-tensor
//     and MX block scaling), quantize with packing (MXFP4, NVFP4), and gaussws
//     (R noise, block 32, bf16 carrier), for float and bf16 inputs, aligned and
//     unaligned (base pointer + 1 element), on 1 GiB of input; GB/s counts the
//     bytes one ideal pass moves (input read once, outputs written once), and
//     "x memcpy" is the time of cudaMemcpy device-to-device moving the same
//     number of bytes in the same run divided by the row's time;
//   * the GaussWS step overhead: cuBLAS bf16 GEMMs (fp32 accumulation) of one
//     Llama-2-7B layer's weights (4096x4096 q/k/v/o, 4096->11008 gate/up,
//     11008->4096 down) at 4096 and 8192 tokens, forward + dgrad + wgrad, with
//     and without first sampling every weight (fp32 master) into bf16 through
//     pqt::cuda::gaussws; overhead = (with - without) / without.
// Each time is the median of PQT_BENCH_REPS (default 10) runs after 2 warm-ups.
// Exits 0 with a message when there is no GPU (nothing is measured then).
// PQT_NEEDS_CUBLAS
// PQT_USES_TENSOR_LIB (CMake marker: the tensor API comes from pqt::tensor, compiled once per tree)
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <pqt/cuda/fake_quant.cuh>
#include <pqt/version.hpp>

namespace {

#define CK(call)                                                                                 \
  do {                                                                                           \
    const cudaError_t e_ = (call);                                                               \
    if (e_ != cudaSuccess) {                                                                     \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
      std::exit(1);                                                                              \
    }                                                                                            \
  } while (0)
#define CB(call)                                                                    \
  do {                                                                              \
    const cublasStatus_t s_ = (call);                                               \
    if (s_ != CUBLAS_STATUS_SUCCESS) {                                              \
      std::fprintf(stderr, "%s:%d: %s: cuBLAS status %d\n", __FILE__, __LINE__, #call, \
                   static_cast<int>(s_));                                           \
      std::exit(1);                                                                 \
    }                                                                               \
  } while (0)

int reps() {
  const char* r = std::getenv("PQT_BENCH_REPS");
  const int v = r != nullptr ? std::atoi(r) : 10;
  return v > 0 ? v : 10;
}

/// Median time in ms of f() over reps() runs after two warm-ups.
double time_ms(const std::function<void()>& f) {
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  f();
  f();
  std::vector<double> t;
  for (int i = 0; i < reps(); ++i) {
    CK(cudaEventRecord(a));
    f();
    CK(cudaEventRecord(b));
    CK(cudaEventSynchronize(b));
    float ms = 0;
    CK(cudaEventElapsedTime(&ms, a, b));
    t.push_back(ms);
  }
  CK(cudaEventDestroy(a));
  CK(cudaEventDestroy(b));
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

__global__ void fill(float* x, std::size_t n, float scale) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::uint32_t h = pqt::random_word(1, 2, i);
    // a sum of uniforms (roughly normal), with magnitudes changing every 64 elements
    const float u = static_cast<float>(h & 0xFFFF) + static_cast<float>(h >> 16) - 65535.0f;
    x[i] = u * scale * static_cast<float>(1 << ((i >> 6) % 5));
  }
}

__global__ void narrow_bf16(const float* x, __nv_bfloat16* y, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    y[i] = __float2bfloat16_rn(x[i]);
}

struct row {
  std::string name, elem, align;
  double ms = 0, gbps = -1, vs_memcpy = -1, overhead = -1e9;
};
std::vector<row> rows;

void print_table(const char* device) {
  std::printf("\npqt %d.%d.%d on %s; median of %d runs (CUDA events)\n\n", PQT_VERSION_MAJOR, PQT_VERSION_MINOR,
              PQT_VERSION_PATCH, device, reps());
  std::printf("| benchmark | input | pointers | time (ms) | GB/s | x memcpy D2D | GaussWS overhead |\n");
  std::printf("|---|---|---|---:|---:|---:|---:|\n");
  for (const row& r : rows) {
    std::printf("| %s | %s | %s | %.3f | ", r.name.c_str(), r.elem.c_str(), r.align.c_str(), r.ms);
    if (r.gbps >= 0) std::printf("%.0f | ", r.gbps);
    else std::printf("- | ");
    if (r.vs_memcpy >= 0) std::printf("%.2f | ", r.vs_memcpy);
    else std::printf("- | ");
    if (r.overhead > -1e8) std::printf("%.2f%% |\n", r.overhead);
    else std::printf("- |\n");
  }
}

/// One bandwidth row: f moves `bytes` (ideal); memcpy of the same bytes timed now.
void bandwidth_row(const std::string& name, const char* elem, bool aligned, double bytes, void* scratch_a,
                   void* scratch_b, const std::function<void()>& f) {
  const double ms = time_ms(f);
  const std::size_t copy = static_cast<std::size_t>(bytes / 2) & ~std::size_t{255};  // a copy moves 2x its size
  const double copy_ms = time_ms([&] { CK(cudaMemcpyAsync(scratch_b, scratch_a, copy, cudaMemcpyDeviceToDevice)); });
  row r;
  r.name = name;
  r.elem = elem;
  r.align = aligned ? "aligned" : "base + 1";
  r.ms = ms;
  r.gbps = bytes / (ms * 1e-3) / 1e9;
  r.vs_memcpy = copy_ms * (bytes / (2.0 * static_cast<double>(copy))) / ms;
  rows.push_back(r);
}

void bandwidth(std::size_t gib_bytes) {
  const std::size_t nf = gib_bytes / sizeof(float), nh = gib_bytes / 2;
  float *xf = nullptr, *yf = nullptr;
  __nv_bfloat16 *xh = nullptr, *yh = nullptr;
  std::uint8_t *codes = nullptr, *scales = nullptr;
  float* ts = nullptr;
  void *ca = nullptr, *cb = nullptr;
  CK(cudaMalloc(&xf, (nf + 16) * sizeof(float)));
  CK(cudaMalloc(&yf, (nf + 16) * sizeof(float)));
  CK(cudaMalloc(&xh, (nh + 16) * 2));
  CK(cudaMalloc(&yh, (nh + 16) * 2));
  CK(cudaMalloc(&codes, nh + 64));
  CK(cudaMalloc(&scales, nh / 16 + 64));
  CK(cudaMalloc(&ts, sizeof(float)));
  CK(cudaMalloc(&ca, gib_bytes + 4096));
  CK(cudaMalloc(&cb, gib_bytes + 4096));
  fill<<<1024, 256>>>(xf, nf + 16, 1e-3f);
  fill<<<1024, 256>>>(static_cast<float*>(ca), (gib_bytes + 4096) / 4, 1.0f);
  narrow_bf16<<<1024, 256>>>(xf, xh, nh + 16);
  CK(cudaGetLastError());
  CK(cudaDeviceSynchronize());

  struct mode {
    const char* name;
    pqt::rounding r;
  };
  const mode modes[] = {{"nearest_even", pqt::rounding::nearest_even},
                        {"stochastic", pqt::rounding::stochastic},
                        {"gaussian", pqt::rounding::gaussian}};
  for (int scaled = 0; scaled < 2; ++scaled)
    for (const mode& m : modes)
      for (int elem = 0; elem < 2; ++elem)
        for (int al = 0; al < 2; ++al) {
          pqt::quant_config c = scaled ? pqt::quant_config::mxfp8()
                                       : pqt::quant_config::per_tensor(pqt::format_desc::of<pqt::fmt::e4m3>());
          c.round = m.r;
          c.seed = 1;
          const std::size_t off = al ? 0 : 1;
          const std::string name = std::string("fake_quant e4m3 ") + (scaled ? "MX /32 " : "per-tensor ") + m.name;
          if (elem == 0)
            bandwidth_row(name, "float", al, 8.0 * nf, ca, cb, [&] { CK(pqt::cuda::fake_quant(xf + off, yf + off, nf, c)); });
          else
            bandwidth_row(name, "bf16", al, 4.0 * nh, ca, cb, [&] { CK(pqt::cuda::fake_quant(xh + off, yh + off, nh, c)); });
        }
  for (int kind = 0; kind < 2; ++kind)
    for (int elem = 0; elem < 2; ++elem)
      for (int al = 0; al < 2; ++al) {
        const pqt::quant_config c = kind == 0 ? pqt::quant_config::mxfp4() : pqt::quant_config::nvfp4();
        const std::size_t n = elem == 0 ? nf : nh, off = al ? 0 : 1;
        const pqt::cuda::quantized_view q{codes, pqt::code_bytes(n, c), scales, pqt::scale_count(n, c), ts, n};
        const double bytes = static_cast<double>(n) * (elem == 0 ? 4 : 2) + static_cast<double>(q.code_bytes + q.scale_count);
        const std::string name = kind == 0 ? "quantize MXFP4 (packed) rne" : "quantize NVFP4 (packed) rne";
        if (elem == 0) bandwidth_row(name, "float", al, bytes, ca, cb, [&] { CK(pqt::cuda::quantize(xf + off, n, c, q)); });
        else bandwidth_row(name, "bf16", al, bytes, ca, cb, [&] { CK(pqt::cuda::quantize(xh + off, n, c, q)); });
      }
  for (int elem = 0; elem < 2; ++elem)
    for (int al = 0; al < 2; ++al) {
      pqt::gaussws_config g;
      g.seed = 3;
      const std::size_t off = al ? 0 : 1;
      if (elem == 0)
        bandwidth_row("gaussws R b9 /32 -> bf16", "float", al, 6.0 * nf, ca, cb,
                      [&] { CK(pqt::cuda::gaussws(xf + off, yh + off, nf, g)); });
      else
        bandwidth_row("gaussws R b9 /32 -> bf16", "bf16", al, 4.0 * nh, ca, cb,
                      [&] { CK(pqt::cuda::gaussws(xh + off, yh + off, nh, g)); });
    }
  for (void* p : {static_cast<void*>(xf), static_cast<void*>(yf), static_cast<void*>(xh), static_cast<void*>(yh),
                  static_cast<void*>(codes), static_cast<void*>(scales), static_cast<void*>(ts), ca, cb})
    CK(cudaFree(p));
}

/// The GaussWS step overhead on one Llama-2-7B layer.
void gaussws_step() {
  cublasHandle_t h;
  CB(cublasCreate(&h));
  struct shape {
    const char* name;
    int in, out, count;
  };
  const shape shapes[] = {{"q/k/v/o 4096x4096", 4096, 4096, 4}, {"gate/up 4096->11008", 4096, 11008, 2},
                          {"down 11008->4096", 11008, 4096, 1}};
  for (int tokens : {4096, 8192}) {
    double layer_base = 0, layer_with = 0;
    for (const shape& s : shapes) {
      const std::size_t wn = static_cast<std::size_t>(s.in) * s.out;
      float* master = nullptr;
      __nv_bfloat16 *w = nullptr, *x = nullptr, *y = nullptr, *dy = nullptr, *dx = nullptr, *dw = nullptr;
      CK(cudaMalloc(&master, wn * sizeof(float)));
      CK(cudaMalloc(&w, wn * 2));
      CK(cudaMalloc(&dw, wn * 2));
      CK(cudaMalloc(&x, static_cast<std::size_t>(tokens) * s.in * 2));
      CK(cudaMalloc(&dx, static_cast<std::size_t>(tokens) * s.in * 2));
      CK(cudaMalloc(&y, static_cast<std::size_t>(tokens) * s.out * 2));
      CK(cudaMalloc(&dy, static_cast<std::size_t>(tokens) * s.out * 2));
      fill<<<1024, 256>>>(master, wn, 1e-6f);
      CK(cudaMemset(x, 0, static_cast<std::size_t>(tokens) * s.in * 2));
      CK(cudaMemset(dy, 0, static_cast<std::size_t>(tokens) * s.out * 2));
      CK(cudaDeviceSynchronize());
      const float one = 1.0f, zero = 0.0f;
      auto gemms = [&] {
        // row-major Y[T x out] = X[T x in] W^T, dX = dY W, dW = dY^T X (column-major views)
        CB(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, s.out, tokens, s.in, &one, w, CUDA_R_16BF, s.in, x, CUDA_R_16BF,
                        s.in, &zero, y, CUDA_R_16BF, s.out, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
        CB(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, s.in, tokens, s.out, &one, w, CUDA_R_16BF, s.in, dy, CUDA_R_16BF,
                        s.out, &zero, dx, CUDA_R_16BF, s.in, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
        CB(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_T, s.in, s.out, tokens, &one, x, CUDA_R_16BF, s.in, dy, CUDA_R_16BF,
                        s.out, &zero, dw, CUDA_R_16BF, s.in, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
      };
      pqt::gaussws_config g;
      g.bits = 9;
      g.seed = 5;
      const double base = time_ms(gemms);
      const double with = time_ms([&] {
        CK(pqt::cuda::gaussws(master, w, wn, g));
        gemms();
      });
      row r;
      r.name = std::string("fwd+dgrad+wgrad ") + s.name + ", " + std::to_string(tokens) + " tokens";
      r.elem = "bf16 GEMM";
      r.align = "-";
      r.ms = base;
      r.overhead = 100.0 * (with - base) / base;
      rows.push_back(r);
      layer_base += s.count * base;
      layer_with += s.count * with;
      for (void* p : {static_cast<void*>(master), static_cast<void*>(w), static_cast<void*>(dw), static_cast<void*>(x),
                      static_cast<void*>(dx), static_cast<void*>(y), static_cast<void*>(dy)})
        CK(cudaFree(p));
    }
    row r;
    r.name = "Llama-2-7B layer (7 weights), " + std::to_string(tokens) + " tokens";
    r.elem = "bf16 GEMM";
    r.align = "-";
    r.ms = layer_base;
    r.overhead = 100.0 * (layer_with - layer_base) / layer_base;
    rows.push_back(r);
  }
  CB(cublasDestroy(h));
}

}  // namespace

int main() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::printf("SKIPPED: no CUDA device; the GPU benchmarks need one (nothing was measured)\n");
    return 0;
  }
  cudaDeviceProp prop{};
  CK(cudaGetDeviceProperties(&prop, 0));
  bandwidth(std::size_t{1} << 30);
  gaussws_step();
  print_table(prop.name);
  return 0;
}

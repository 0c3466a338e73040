// The CUDA half of pqt._pqt (compiled when nvcc is found at build time): the
// pqt::cuda launchers on raw device pointers, on the caller's stream and the
// array's device. module.cpp has validated the config (ValueError with the C++
// message) before calling these; what is left is CUDA's own errors.

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include <pqt/cuda/fake_quant.cuh>

#include "ops.hpp"

namespace pqt_py {

bool cuda_built() { return true; }

namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess)
    throw std::runtime_error(std::string("pqt: CUDA ") + what + ": " + cudaGetErrorName(e) + ": " + cudaGetErrorString(e));
}

/// Makes `device` current for the scope (the tensor's device, whatever the
/// caller's current device is).
class device_guard {
 public:
  explicit device_guard(int device) {
    check(cudaGetDevice(&old_), "cudaGetDevice");
    if (old_ != device) check(cudaSetDevice(device), "cudaSetDevice");
  }
  ~device_guard() {
    int now = old_;
    if (cudaGetDevice(&now) == cudaSuccess && now != old_) (void)cudaSetDevice(old_);
  }
  device_guard(const device_guard&) = delete;
  device_guard& operator=(const device_guard&) = delete;

 private:
  int old_ = 0;
};

template <class F>
void with_type(elem t, F&& f) {
  switch (t) {
    case elem::f32: return f(static_cast<float*>(nullptr));
    case elem::bf16: return f(static_cast<__nv_bfloat16*>(nullptr));
    case elem::f16: return f(static_cast<__half*>(nullptr));
  }
}

cudaStream_t as_stream(std::uintptr_t s) { return reinterpret_cast<cudaStream_t>(s); }

}  // namespace

void cuda_fake_quant(int device, std::uintptr_t stream, elem t, const void* x, void* out, std::size_t n,
                     const pqt::quant_config& c) {
  device_guard g(device);
  with_type(t, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    check(pqt::cuda::fake_quant(static_cast<const T*>(x), static_cast<T*>(out), n, c, as_stream(stream)), "fake_quant");
  });
}

void cuda_quantize(int device, std::uintptr_t stream, elem t, const void* x, std::size_t n, const pqt::quant_config& c,
                   const pqt::quantized_view& q) {
  device_guard g(device);
  with_type(t, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    check(pqt::cuda::quantize(static_cast<const T*>(x), n, c, q, as_stream(stream)), "quantize");
  });
}

void cuda_dequantize(int device, std::uintptr_t stream, elem t, const pqt::quantized_view& q,
                     const pqt::quant_config& c, void* out, std::size_t n) {
  device_guard g(device);
  with_type(t, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    check(pqt::cuda::dequantize(q, c, static_cast<T*>(out), n, as_stream(stream)), "dequantize");
  });
}

void cuda_gaussws(int device, std::uintptr_t stream, elem t, const void* w, bool out_bf16, void* out, std::size_t n,
                  const pqt::gaussws_config& gc) {
  device_guard g(device);
  with_type(t, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* wp = static_cast<const T*>(w);
    if (out_bf16)
      check(pqt::cuda::gaussws(wp, static_cast<__nv_bfloat16*>(out), n, gc, as_stream(stream)), "gaussws");
    else
      check(pqt::cuda::gaussws(wp, static_cast<float*>(out), n, gc, as_stream(stream)), "gaussws");
  });
}

}  // namespace pqt_py

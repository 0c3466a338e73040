#pragma once
/// The CUDA tensor API: fake_quant, quantize, dequantize, gaussws and amax
/// over device arrays of float, __nv_bfloat16 or __half, with the host API's
/// configs (quant_config, gaussws_config) and the host API's bits (README
/// "CUDA"). Each call is asynchronous on `stream` and returns a
/// cudaError_t: cudaErrorInvalidValue for what the host API rejects with
/// std::invalid_argument (nothing is launched then), else the first launch or
/// allocation error. CUDA-only.
///   pqt::quant_config c = pqt::quant_config::mxfp8();  c.round = pqt::rounding::stochastic;  c.seed = 42;
///   cudaError_t e = pqt::cuda::fake_quant(d_x, d_y, n, c, stream);           // d_y may be d_x
///   pqt::cuda::quantized_view q{d_codes, pqt::code_bytes(n, c), d_scales, pqt::scale_count(n, c), d_ts, n};
///   e = pqt::cuda::quantize(d_x, n, c, q, stream);
///   e = pqt::cuda::dequantize(q, c, d_y, n, stream);
///   e = pqt::cuda::gaussws(d_w, d_w_bf16, n, pqt::gaussws_config{}, stream);
///   e = pqt::cuda::amax(d_x, n, d_amax, stream);                           // one float on the device
/// Scratch memory (amax accumulators, scales for two-pass paths) is taken
/// from the stream-ordered allocator and returned before the call returns.
/// quant_config::threads is ignored.

#if !defined(__CUDACC__)
#error "pqt/cuda/fake_quant.cuh is CUDA-only: compile it with nvcc"
#endif

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <type_traits>

#include "../fake_quant.hpp"
#include "kernel_bodies.hpp"
#include "launch.cuh"

namespace pqt {
namespace cuda {
namespace detail {

/// The pqt element type a CUDA element type is processed as.
template <class T>
struct elem_of {
  static_assert(std::is_same<T, float>::value || std::is_same<T, __nv_bfloat16>::value || std::is_same<T, __half>::value,
                "pqt::cuda: element type must be float, __nv_bfloat16 or __half");
};
template <>
struct elem_of<float> {
  using type = float;
};
template <>
struct elem_of<__nv_bfloat16> {
  using type = pqt::bf16;
};
template <>
struct elem_of<__half> {
  using type = pqt::fp16;
};

template <class T>
using elem_of_t = typename elem_of<T>::type;

/// T* as the storage pointer of its pqt element type (bf16/fp16 as 16-bit codes).
template <class T>
auto as_storage(T* p) {
  using S = typename elem_traits<elem_of_t<std::remove_const_t<T>>>::storage;
  if constexpr (std::is_const<T>::value) return reinterpret_cast<const S*>(p);
  else return reinterpret_cast<S*>(p);
}

/// Runs the host API's checks (check() throws std::invalid_argument naming
/// the problem); false: the launcher returns cudaErrorInvalidValue.
template <class F>
bool valid(F&& check) {
  try {
    check();
    return true;
  } catch (const std::invalid_argument&) {
    return false;
  } catch (const std::bad_alloc&) {
    return false;
  }
}

/// Runs a launch sequence; exceptions (host allocation) become errors.
template <class F>
cudaError_t run_on(cudaStream_t stream, F&& f) {
  try {
    device_executor ex(stream);
    if (!ex.ok()) return ex.finish();
    f(ex);
    return ex.finish();
  } catch (const std::bad_alloc&) {
    return cudaErrorMemoryAllocation;
  }
}

}  // namespace detail

/// out[i] = x[i] rounded to cfg's format under its scaling and mode
/// (= dequantize(quantize(x))), the bits of pqt::fake_quant on the host. T is
/// float, __nv_bfloat16 or __half (16-bit arrays are widened exactly and the
/// result narrowed with one nearest-even rounding). out may equal x.
///   pqt::cuda::fake_quant(d_w, d_w, n, pqt::quant_config::mxfp8(), stream);
template <class T>
cudaError_t fake_quant(const T* x, T* out, std::size_t n, const quant_config& cfg, cudaStream_t stream = nullptr) {
  if (!detail::valid([&] {
        pqt::detail::check_config("cuda::fake_quant", n, cfg);
        pqt::detail::check_scale_range("cuda::fake_quant", n, cfg);
      }))
    return cudaErrorInvalidValue;
  if (n == 0) return cudaSuccess;
  if (x == nullptr || out == nullptr) return cudaErrorInvalidValue;
  const kernel_params p = make_kernel_params(cfg);
  return detail::run_on(stream, [&](device_executor& ex) {
    run_fake_quant<detail::elem_of_t<T>>(ex, p, detail::as_storage(x), detail::as_storage(out), n);
  });
}

/// Codes and scales of x under cfg into q (device memory, sized as
/// pqt::code_bytes(n, cfg) / pqt::scale_count(n, cfg)); the layout and bits of
/// pqt::quantize. q.tensor_scale (one device float) receives s (tensor
/// scaling), NVFP4's s_t, or 1; it may be null except for tensor and NVFP4
/// scaling. Every code byte is written (no zeroing needed).
///   pqt::cuda::quantize(d_x, n, pqt::quant_config::mxfp4(), q, stream);
template <class T>
cudaError_t quantize(const T* x, std::size_t n, const quant_config& cfg, const quantized_view& q,
                     cudaStream_t stream = nullptr) {
  if (!detail::valid([&] {
        pqt::detail::check_view("cuda::quantize", n, cfg, q);  // sizes and pointers of q
        pqt::detail::check_scale_range("cuda::quantize", n, cfg);
      }))
    return cudaErrorInvalidValue;
  if (n == 0) {  // no launch; the tensor scale still reads 1, as on the host
    static const float one = 1.0f;
    return q.tensor_scale == nullptr ? cudaSuccess
                                     : cudaMemcpyAsync(q.tensor_scale, &one, sizeof one, cudaMemcpyHostToDevice, stream);
  }
  if (x == nullptr) return cudaErrorInvalidValue;
  const kernel_params p = make_kernel_params(cfg);
  return detail::run_on(stream, [&](device_executor& ex) { run_quantize<detail::elem_of_t<T>>(ex, p, detail::as_storage(x), n, q); });
}

/// Values of q's codes under cfg (the config quantize used) into out[0..n),
/// the bits of pqt::dequantize (narrowed once, nearest-even, for 16-bit T).
///   pqt::cuda::dequantize(q, pqt::quant_config::mxfp4(), d_y, n, stream);
template <class T>
cudaError_t dequantize(const quantized_view& q, const quant_config& cfg, T* out, std::size_t n,
                       cudaStream_t stream = nullptr) {
  if (!detail::valid([&] { pqt::detail::check_view("cuda::dequantize", n, cfg, q); })) return cudaErrorInvalidValue;
  if (n == 0) return cudaSuccess;
  if (out == nullptr) return cudaErrorInvalidValue;
  const kernel_params p = make_kernel_params(cfg);
  return detail::run_on(stream, [&](device_executor& ex) { run_dequantize<detail::elem_of_t<T>>(ex, p, q, detail::as_storage(out), n); });
}

namespace detail {
template <class Carrier, class T, class Out>
cudaError_t gaussws_impl(const T* w, Out* out, std::size_t n, const gaussws_config& cfg, cudaStream_t stream) {
  if (!valid([&] { pqt::detail::check_gaussws_config(cfg, n); })) return cudaErrorInvalidValue;
  if (n == 0) return cudaSuccess;
  if (w == nullptr || out == nullptr) return cudaErrorInvalidValue;
  const gaussws_kernel_params p = make_gaussws_kernel_params(cfg);
  using CS = typename carrier_traits<Carrier>::storage;
  return run_on(stream, [&](device_executor& ex) {
    run_gaussws<elem_of_t<T>, Carrier>(ex, p, as_storage(w), reinterpret_cast<CS*>(out), n);
  });
}
}  // namespace detail

/// GaussWS: out = bf16(w + noise * Delta), formed exactly and rounded once;
/// the bits of pqt::gaussws (w of type T is widened exactly first).
///   pqt::cuda::gaussws(d_w, d_w_bf16, n, cfg, stream);
template <class T>
cudaError_t gaussws(const T* w, __nv_bfloat16* out, std::size_t n, const gaussws_config& cfg,
                    cudaStream_t stream = nullptr) {
  return detail::gaussws_impl<pqt::bf16>(w, out, n, cfg, stream);
}
/// GaussWS with a float carrier.
template <class T>
cudaError_t gaussws(const T* w, float* out, std::size_t n, const gaussws_config& cfg, cudaStream_t stream = nullptr) {
  return detail::gaussws_impl<float>(w, out, n, cfg, stream);
}

/// *result (one device float) = max |x[i]|, +Inf for infinities, the quiet
/// NaN 0x7FC00000 if any x[i] is NaN, 0 for n == 0: pqt::amax's bits.
///   pqt::cuda::amax(d_x, n, d_amax, stream);
template <class T>
cudaError_t amax(const T* x, std::size_t n, float* result, cudaStream_t stream = nullptr) {
  if (result == nullptr || (n != 0 && x == nullptr)) return cudaErrorInvalidValue;
  const cudaError_t e = cudaMemsetAsync(result, 0, sizeof(float), stream);
  if (e != cudaSuccess || n == 0) return e;
  return detail::run_on(stream, [&](device_executor& ex) {
    run_amax<detail::elem_of_t<T>>(ex, detail::as_storage(x), n, reinterpret_cast<std::uint32_t*>(result));
  });
}

// The compiled mode (PQT_CUDA_LIB, the pqt_cuda_tensor library of pqt's own
// build: src/cuda_tensor.cu): the launchers above for each element type are
// declared here and compiled once there, so that a file calling them
// compiles none of the kernels (nvcc's device pass is most of its time).
#define PQT_CUDA_INSTANCES(X, T)                                                                                   \
  X cudaError_t fake_quant<T>(const T*, T*, std::size_t, const quant_config&, cudaStream_t);                       \
  X cudaError_t quantize<T>(const T*, std::size_t, const quant_config&, const quantized_view&, cudaStream_t);      \
  X cudaError_t dequantize<T>(const quantized_view&, const quant_config&, T*, std::size_t, cudaStream_t);          \
  X cudaError_t gaussws<T>(const T*, __nv_bfloat16*, std::size_t, const gaussws_config&, cudaStream_t);            \
  X cudaError_t gaussws<T>(const T*, float*, std::size_t, const gaussws_config&, cudaStream_t);                    \
  X cudaError_t amax<T>(const T*, std::size_t, float*, cudaStream_t);
#if defined(PQT_CUDA_LIB)
PQT_CUDA_INSTANCES(extern template, float)
PQT_CUDA_INSTANCES(extern template, __nv_bfloat16)
PQT_CUDA_INSTANCES(extern template, __half)
#endif

}  // namespace cuda
}  // namespace pqt

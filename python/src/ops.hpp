#pragma once
// The operations the Python module exposes, on raw pointers, for the host
// (module.cpp) and, when the module is built with nvcc, for CUDA devices
// (cuda_ops.cu). Validation happens before these are called (module.cpp), so
// a bad config is a ValueError with the C++ message on either device.

#include <cstddef>
#include <cstdint>

#include <pqt/fake_quant.hpp>

namespace pqt_py {

/// The element types arrays may hold.
enum class elem : int { f32 = 0, bf16 = 1, f16 = 2 };

/// True when the module holds the CUDA launchers (built with nvcc).
bool cuda_built();

// Host entry points, in four translation units (host_fake_quant.cpp,
// host_quantize.cpp, host_dequantize.cpp, host_gaussws.cpp) that a build
// compiles in parallel.
void host_fake_quant(elem t, const void* x, void* out, std::size_t n, const pqt::quant_config& c);
void host_quantize(elem t, const void* x, std::size_t n, const pqt::quant_config& c, const pqt::quantized_view& q);
void host_dequantize(elem t, const pqt::quantized_view& q, const pqt::quant_config& c, void* out, std::size_t n);
void host_gaussws(elem t, const void* w, bool out_bf16, void* out, std::size_t n, const pqt::gaussws_config& g);

// CUDA entry points (cuda_ops.cu); each runs on `device` and the given
// stream (a cudaStream_t as an integer, 0 = legacy default) and throws
// std::runtime_error with CUDA's message on a launch or allocation error.
void cuda_fake_quant(int device, std::uintptr_t stream, elem t, const void* x, void* out, std::size_t n,
                     const pqt::quant_config& c);
void cuda_quantize(int device, std::uintptr_t stream, elem t, const void* x, std::size_t n, const pqt::quant_config& c,
                   const pqt::quantized_view& q);
void cuda_dequantize(int device, std::uintptr_t stream, elem t, const pqt::quantized_view& q,
                     const pqt::quant_config& c, void* out, std::size_t n);
/// out_bf16: the carrier is bf16 (else float).
void cuda_gaussws(int device, std::uintptr_t stream, elem t, const void* w, bool out_bf16, void* out, std::size_t n,
                  const pqt::gaussws_config& g);

}  // namespace pqt_py

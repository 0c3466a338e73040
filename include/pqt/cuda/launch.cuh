#pragma once
/// The CUDA executor of pqt's kernel bodies (kernel_bodies.hpp): __global__
/// wrappers for the four body shapes (map, reduce_max, group, segments), grid
/// sizing from the device's multiprocessor count, per-call scratch memory
/// (stream-ordered), and error collection. CUDA-only.
///   pqt::cuda::device_executor ex(stream);
///   pqt::cuda::run_fake_quant<float>(ex, params, x, y, n);
///   cudaError_t e = ex.finish();

#if !defined(__CUDACC__)
#error "pqt/cuda/launch.cuh is CUDA-only: compile it with nvcc (the host-compilable bodies are in pqt/cuda/kernel_bodies.hpp)"
#endif

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include <cub/block/block_reduce.cuh>

#include "kernel_bodies.hpp"

namespace pqt {
namespace cuda {
namespace detail {

struct max_u32 {
  __device__ __forceinline__ std::uint32_t operator()(std::uint32_t a, std::uint32_t b) const { return a > b ? a : b; }
};

/// body(global thread, total threads): one grid-stride loop per thread.
template <class Body>
__global__ void __launch_bounds__(block_threads) map_kernel(Body body) {
  const std::size_t tpb = blockDim.x;
  body(static_cast<std::size_t>(blockIdx.x) * tpb + threadIdx.x, static_cast<std::size_t>(gridDim.x) * tpb);
}

/// Each thread's partial max, reduced per block with CUB and combined with atomicMax.
template <class Body>
__global__ void __launch_bounds__(block_threads) reduce_max_kernel(Body body, std::uint32_t* dst) {
  using reduce = cub::BlockReduce<std::uint32_t, block_threads>;
  __shared__ typename reduce::TempStorage tmp;
  const std::size_t tpb = blockDim.x;
  const std::uint32_t p =
      body(static_cast<std::size_t>(blockIdx.x) * tpb + threadIdx.x, static_cast<std::size_t>(gridDim.x) * tpb);
  const std::uint32_t m = reduce(tmp).Reduce(p, max_u32{});
  if (threadIdx.x == 0 && m != 0) atomicMax(dst, m);
}

/// Warp tiles: each lane loads one unit, lanes in groups of L (a block of the
/// tensor) exchange their maxima with butterfly shuffles, then each finishes
/// its unit. The tile loop is warp-uniform, so every lane joins every shuffle.
template <class Body>
__global__ void __launch_bounds__(block_threads) group_kernel(Body body, std::size_t tiles) {
  const std::size_t warp = (static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const std::size_t nwarps = static_cast<std::size_t>(gridDim.x) * blockDim.x / 32;
  const int lane = static_cast<int>(threadIdx.x & 31u);
  const int l = body.group_lanes();
  for (std::size_t tile = warp; tile < tiles; tile += nwarps) {
    typename Body::state st;
    std::uint32_t m = body.load(tile, lane, st);
    for (int off = l >> 1; off > 0; off >>= 1) {
      const std::uint32_t o = __shfl_xor_sync(0xFFFFFFFFu, m, off);
      m = o > m ? o : m;
    }
    body.finish(tile, lane, st, m);
  }
}

/// One thread block per segment (a 2-D tile): partial maxima reduced with CUB.
template <class Body>
__global__ void __launch_bounds__(block_threads) segment_kernel(Body body, std::size_t count) {
  using reduce = cub::BlockReduce<std::uint32_t, block_threads>;
  __shared__ typename reduce::TempStorage tmp;
  for (std::size_t seg = blockIdx.x; seg < count; seg += gridDim.x) {
    const std::uint32_t p = body.partial(seg, threadIdx.x, blockDim.x);
    const std::uint32_t m = reduce(tmp).Reduce(p, max_u32{});
    if (threadIdx.x == 0) body.finish(seg, m);
    __syncthreads();  // tmp is reused by the next segment
  }
}

}  // namespace detail

/// Runs kernel bodies on a stream of the current device. Scratch memory comes
/// from cudaMallocAsync (cudaMalloc where memory pools are unsupported) and is
/// released by finish(); the first error stops everything after it.
class device_executor {
 public:
  explicit device_executor(cudaStream_t stream) : stream_(stream) {
    int dev = 0;
    if (record(cudaGetDevice(&dev))) {
      record(cudaDeviceGetAttribute(&sms_, cudaDevAttrMultiProcessorCount, dev));
      int pools = 0;
      if (cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, dev) == cudaSuccess) async_ = pools != 0;
    }
  }
  device_executor(const device_executor&) = delete;
  device_executor& operator=(const device_executor&) = delete;
  ~device_executor() { finish(); }

  bool ok() const { return err_ == cudaSuccess; }
  int sm_count() const { return sms_; }

  /// Frees the scratch memory (stream-ordered) and returns the first error.
  cudaError_t finish() {
    for (void* p : scratch_) {
      const cudaError_t e = async_ ? cudaFreeAsync(p, stream_) : cudaFree(p);
      if (err_ == cudaSuccess) err_ = e;
    }
    scratch_.clear();
    return err_;
  }

  template <class T>
  T* scratch(std::size_t count) {
    if (!ok()) return nullptr;
    void* p = nullptr;
    const std::size_t bytes = (count > 0 ? count : 1) * sizeof(T);
    if (!record(async_ ? cudaMallocAsync(&p, bytes, stream_) : cudaMalloc(&p, bytes))) return nullptr;
    scratch_.push_back(p);
    record(cudaMemsetAsync(p, 0, bytes, stream_));
    return static_cast<T*>(p);
  }

  template <class Body>
  void map(const Body& body, std::size_t work) {
    if (!ok() || work == 0) return;
    detail::map_kernel<Body><<<grid_blocks(work, sms_), block_threads, 0, stream_>>>(body);
    record(cudaGetLastError());
  }

  template <class Body>
  void reduce_max(const Body& body, std::size_t work, std::uint32_t* dst) {
    if (!ok() || work == 0) return;
    detail::reduce_max_kernel<Body><<<grid_blocks(work, sms_), block_threads, 0, stream_>>>(body, dst);
    record(cudaGetLastError());
  }

  template <class Body>
  void group(const Body& body, std::size_t tiles) {
    if (!ok() || tiles == 0) return;
    detail::group_kernel<Body><<<grid_blocks(tiles * 32, sms_), block_threads, 0, stream_>>>(body, tiles);
    record(cudaGetLastError());
  }

  template <class Body>
  void segments(const Body& body, std::size_t count) {
    if (!ok() || count == 0) return;
    const std::size_t cap = static_cast<std::size_t>(sms_ > 0 ? sms_ : 1) * blocks_per_sm;
    detail::segment_kernel<Body><<<static_cast<unsigned>(count < cap ? count : cap), block_threads, 0, stream_>>>(body, count);
    record(cudaGetLastError());
  }

 private:
  bool record(cudaError_t e) {
    if (err_ == cudaSuccess) err_ = e;
    return e == cudaSuccess;
  }

  cudaStream_t stream_;
  int sms_ = 1;
  bool async_ = false;
  cudaError_t err_ = cudaSuccess;
  std::vector<void*> scratch_;
};

}  // namespace cuda
}  // namespace pqt

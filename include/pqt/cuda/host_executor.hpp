#pragma once
/// host_executor: runs the kernel bodies (kernel_bodies.hpp) on the host, over
/// every (block, thread) of the grid the CUDA executor would launch; what
/// tests/test_cuda_bodies.cpp checks the bodies with, no GPU needed.
///   pqt::cuda::host_executor ex{4, 64};
///   pqt::cuda::run_fake_quant<float>(ex, pqt::cuda::make_kernel_params(cfg), x, y, n);

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernel_bodies.hpp"

namespace pqt {
namespace cuda {

/// Runs the bodies on the host over every (block, thread) of the grid the
/// CUDA executor would launch for a device with sm_count multiprocessors (the
/// lane groups of `group` reduce as the warp shuffles do). For tests: the
/// memory is host memory.
///   pqt::cuda::host_executor ex{4, 64};   // 4 "SMs", 64 threads per block
class host_executor {
 public:
  int sm_count = 132;
  int threads = block_threads;

  host_executor() = default;
  host_executor(int sms, int threads_per_block) : sm_count(sms), threads(threads_per_block) {}

  bool ok() const { return true; }

  template <class T>
  T* scratch(std::size_t count) {
    buffers_.emplace_back(new std::uint8_t[(count > 0 ? count : 1) * sizeof(T)]());
    return reinterpret_cast<T*>(buffers_.back().get());
  }

  template <class Body>
  void map(const Body& body, std::size_t work) {
    if (work == 0) return;
    const std::size_t grid = grid_blocks(work, sm_count, threads), tpb = static_cast<std::size_t>(threads);
    for (std::size_t b = 0; b < grid; ++b)
      for (std::size_t t = 0; t < tpb; ++t) body(b * tpb + t, grid * tpb);
  }

  template <class Body>
  void reduce_max(const Body& body, std::size_t work, std::uint32_t* dst) {
    if (work == 0) return;
    const std::size_t grid = grid_blocks(work, sm_count, threads), tpb = static_cast<std::size_t>(threads);
    for (std::size_t b = 0; b < grid; ++b)
      for (std::size_t t = 0; t < tpb; ++t) {
        const std::uint32_t v = body(b * tpb + t, grid * tpb);
        *dst = v > *dst ? v : *dst;
      }
  }

  template <class Body>
  void group(const Body& body, std::size_t tiles) {
    if (tiles == 0) return;
    const std::size_t grid = grid_blocks(tiles * 32, sm_count, threads);
    const std::size_t nwarps = grid * static_cast<std::size_t>(threads / 32);
    const int l = body.group_lanes();
    std::vector<typename Body::state> st(32);
    std::uint32_t part[32];
    for (std::size_t w = 0; w < nwarps; ++w)
      for (std::size_t tile = w; tile < tiles; tile += nwarps) {
        for (int lane = 0; lane < 32; ++lane) part[lane] = body.load(tile, lane, st[static_cast<std::size_t>(lane)]);
        for (int g = 0; g < 32; g += l) {
          std::uint32_t m = 0;
          for (int lane = g; lane < g + l; ++lane) m = part[lane] > m ? part[lane] : m;
          for (int lane = g; lane < g + l; ++lane) body.finish(tile, lane, st[static_cast<std::size_t>(lane)], m);
        }
      }
  }

  template <class Body>
  void segments(const Body& body, std::size_t count) {
    if (count == 0) return;
    const std::size_t grid = count < static_cast<std::size_t>(sm_count) * blocks_per_sm ? count : static_cast<std::size_t>(sm_count) * blocks_per_sm;
    const std::size_t tpb = static_cast<std::size_t>(threads);
    for (std::size_t b = 0; b < grid; ++b)
      for (std::size_t seg = b; seg < count; seg += grid) {
        std::uint32_t m = 0;
        for (std::size_t t = 0; t < tpb; ++t) {
          const std::uint32_t v = body.partial(seg, t, tpb);
          m = v > m ? v : m;
        }
        body.finish(seg, m);
      }
  }

 private:
  std::vector<std::unique_ptr<std::uint8_t[]>> buffers_;
};

}  // namespace cuda
}  // namespace pqt

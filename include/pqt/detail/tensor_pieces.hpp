#pragma once
/// bf16 and fp16 arrays through the float loops (fake_quant, quantize,
/// dequantize): the tensor is cut into pieces that start on block, tile-band
/// and code-byte boundaries; each piece runs through the float loop as a
/// shard of the whole tensor (its index_base, its block or tile scales, the
/// whole tensor's scale) over its thread's float buffer, into which its
/// elements are widened (exactly) or out of which its results are narrowed. Every
/// element's bits depend only on its index and its block's or tile's
/// elements, so the result is the float loop's on the widened array, bit for
/// bit. The element loops are compiled for float only: compiling them again
/// per array type was two thirds of every file that instantiates them.

#include <cstddef>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "../quant_config.hpp"
#include "../scale.hpp"
#include "tensor_runs.hpp"

namespace pqt::detail {

/// Elements per piece for n elements under c: whole blocks, or whole bands of
/// tile_rows rows, whose packed codes (FP4, FP6) start on a byte; at least
/// 2^14 elements (one of the float loop's chunks), or n when one piece holds
/// them all.
inline std::size_t piece_elements(std::size_t n, const quant_config& c) {
  std::size_t unit = 1;
  if (c.scale == scaling::block)
    unit = c.block_size;
  else if (c.scale == scaling::tile)
    unit = c.tile_rows >= c.rows ? n : c.tile_rows * c.cols;
  if (unit >= n / 8) return n;  // also keeps the products below from overflowing
  const int bits = c.format.total_bits();
  const std::size_t packed = bits == 4 || bits == 6 ? static_cast<std::size_t>(bits) : 8;
  while (unit * packed % 8 != 0) unit *= 2;
  constexpr std::size_t target = std::size_t{1} << 14;
  const std::size_t per = unit >= target ? unit : unit * ((target + unit - 1) / unit);
  return per < n ? per : n;
}

/// The config and scales of the piece [s, s + len) of a tensor under c with
/// scales q: a shard of it (index_base + s, the piece's block or tile scales
/// from index `first` on, q's tensor scale), run on the calling thread.
struct piece_config {
  quant_config c;
  scale_set q;
  std::size_t first = 0;
};

inline piece_config piece_of(const quant_config& c, const scale_set& q, std::size_t s, std::size_t len) {
  piece_config p{c, q, 0};
  p.c.index_base = c.index_base + s;
  p.c.threads = 1;
  if (c.scale == scaling::block) {
    p.first = s / c.block_size;
    p.q.count = len / c.block_size + (len % c.block_size != 0 ? 1 : 0);
  } else if (c.scale == scaling::tile) {
    p.c.rows = len / c.cols;
    const tile_shape piece{p.c.rows, c.cols, c.tile_rows, c.tile_cols};
    p.first = s / c.cols / c.tile_rows * piece.tiles_across();
    p.q.count = piece.count();
  }
  if (p.q.scales != nullptr) p.q.scales += p.first;
  return p;
}

/// Calls run(buf, s, len, piece) for each piece [s, s + len) of a tensor of
/// n > 0 elements under c with scales q; buf has room for the piece's
/// elements as float. Pieces on c.threads OpenMP threads, one buffer per thread.
template <class Run>
void for_each_piece(std::size_t n, const quant_config& c, const scale_set& q, Run&& run) {
  const std::size_t per = piece_elements(n, c), pieces = n / per + (n % per != 0 ? 1 : 0);
  auto one = [&](std::size_t p, float* buf) {
    const std::size_t s = p * per, len = per < n - s ? per : n - s;
    run(buf, s, len, piece_of(c, q, s, len));
  };
#if defined(_OPENMP)
  if (c.threads != 1 && pieces > 1) {
    const int nt = c.threads > 0 ? c.threads : omp_get_max_threads();
    std::vector<float> bufs(static_cast<std::size_t>(nt) * per);
    const long long count = static_cast<long long>(pieces);
#pragma omp parallel num_threads(nt)
    {
      float* buf = bufs.data() + static_cast<std::size_t>(omp_get_thread_num()) * per;
#pragma omp for schedule(static)
      for (long long p = 0; p < count; ++p) one(static_cast<std::size_t>(p), buf);
    }
    return;
  }
#endif
  std::vector<float> buf(per);
  for (std::size_t p = 0; p < pieces; ++p) one(p, buf.data());
}

/// x[0..len) as float (exact for bf16 and fp16).
template <class T>
void widen(const T* x, std::size_t len, float* buf) {
  for (std::size_t i = 0; i < len; ++i) buf[i] = to_f(x[i]);
}

/// buf[0..len) stored as T (one nearest-even rounding).
template <class T>
void narrow(const float* buf, std::size_t len, T* out) {
  for (std::size_t i = 0; i < len; ++i) out[i] = from_f<T>(buf[i]);
}

}  // namespace pqt::detail

// The names README.md's C++ blocks use without declaring them (the prose's
// x, y, n, step, ...), declared at the top of each block's function.
#pragma once
#include <cstddef>
#include <cstdint>

#define PQT_README_NAMES                                                                     \
  [[maybe_unused]] float *x = nullptr, *y = nullptr, *w = nullptr;                           \
  [[maybe_unused]] std::size_t n = 0, i = 0, j = 0;                                          \
  [[maybe_unused]] std::uint64_t seed = 0, step = 0, offset = 0, index_base = 0;             \
  [[maybe_unused]] std::uint8_t *codes = nullptr, *scales = nullptr;                         \
  [[maybe_unused]] float ts = 0;                                                             \
  PQT_README_TENSOR_NAMES

// pqt's types where the block included pqt (config.hpp defines PQT_HD).
#if defined(PQT_HD)
#define PQT_README_PQT_NAMES [[maybe_unused]] pqt::bf16* w_bf16 = nullptr;
#else
#define PQT_README_PQT_NAMES
#endif
#if defined(__CUDACC__)
#define PQT_README_TENSOR_NAMES                                                              \
  PQT_README_PQT_NAMES                                                                       \
  [[maybe_unused]] float *d_x = nullptr, *d_y = nullptr, *d_w = nullptr, *d_ts = nullptr,    \
                         *d_amax = nullptr;                                                  \
  [[maybe_unused]] std::uint8_t *d_codes = nullptr, *d_scales = nullptr;                     \
  [[maybe_unused]] __nv_bfloat16* d_w_bf16 = nullptr;                                        \
  [[maybe_unused]] cudaStream_t stream = nullptr;
#else
#define PQT_README_TENSOR_NAMES PQT_README_PQT_NAMES
#endif

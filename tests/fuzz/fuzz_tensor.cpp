// libFuzzer: the host tensor API on arbitrary configs and data. The input
// picks a format, mode, overflow policy, scaling (none, per-tensor, MX blocks
// of any size, NVFP4, tiles of any shape), e8m0 rule, K, seed, offset,
// index_base and thread count, then n <= 600 floats. Invariants:
//  * a config either is rejected with std::invalid_argument or runs;
//  * fake_quant == dequantize(quantize) bit for bit (NaN as NaN);
//  * bf16 arrays: fake_quant on bf16 = bf16(fake_quant on the same values
//    as float) (read exactly, one nearest-even rounding);
//  * shards: for no scaling and MX blocks, fake_quant of [0, c) and [c, n)
//    with index_base moved by c, c a block-aligned cut, = the whole.
#include <cmath>
#include <stdexcept>
#include <vector>

#include <pqt/fake_quant.hpp>

#include "fuzz_support.hpp"

namespace {

bool same(float a, float b) {
  return pqt::detail::bit_cast<std::uint32_t>(a) == pqt::detail::bit_cast<std::uint32_t>(b) || (a != a && b != b);
}

const char* const kFormats[] = {"e4m3", "e5m2", "e2m1", "e3m2", "e2m3", "bf16", "fp16", "e5m0",
                                "e8m3", "e4m3fnuz", "ue4m3", "e3m4", "e1m2", "e6m9", "fp32", "e8m0"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pqt_fuzz::reader in{data, size};
  pqt::quant_config c;
  c.format = pqt::format_desc::parse(kFormats[in.byte() % 16]);
  c.round = static_cast<pqt::rounding>(in.byte() % 9);  // 8: out of range, must be rejected
  c.over = static_cast<pqt::overflow>(in.byte() % 3);
  const std::uint8_t kind = in.byte();
  c.block_size = in.byte() % 70;  // 0 must be rejected
  c.e8m0_rule = static_cast<pqt::e8m0_rounding>(in.byte() % 5);
  c.random_bits = in.byte() % 34;
  c.sigma = static_cast<float>(in.byte()) / 64.0f;
  c.seed = in.take<std::uint64_t>();
  c.offset = in.take<std::uint16_t>();
  c.index_base = in.take<std::uint64_t>() >> (in.byte() % 64);
  c.threads = static_cast<int>(in.byte() % 4) - 1;  // -1 must be rejected
  const std::uint8_t cut_at = in.byte(), tile = in.byte();
  std::vector<float> x;
  while (in.n >= 4 && x.size() < 600) x.push_back(pqt::detail::bit_cast<float>(in.take<std::uint32_t>()));
  const std::size_t n = x.size();
  switch (kind % 6) {
    case 0: c.scale = pqt::scaling::none; break;
    case 1: c.scale = pqt::scaling::tensor; c.tensor_scale = (kind & 8) ? static_cast<float>(kind) / 7.0f : 0.0f; break;
    case 2: c.scale = pqt::scaling::block; break;
    case 3: c.scale = pqt::scaling::block; c.block_kind = pqt::block_scale::nvfp4; break;
    case 4:
      c.scale = pqt::scaling::tile;
      c.cols = tile % 16 + 1;
      c.rows = n / c.cols;
      c.tile_rows = tile / 16 + 1;
      c.tile_cols = kind / 16 + 1;
      break;
    default: c.scale = static_cast<pqt::scaling>(kind % 8); break;  // out of range values too
  }
  std::vector<float> fq(n), deq(n);
  pqt::quantized q;
  try {
    pqt::fake_quant(x.data(), fq.data(), n, c);
  } catch (const std::invalid_argument&) {
    // Rejected: quantize must reject it as well.
    bool rejected = false;
    try {
      pqt::quantize(x.data(), n, c, q);
    } catch (const std::invalid_argument&) {
      rejected = true;
    }
    PQT_FUZZ_CHECK(rejected);
    return 0;
  }
  pqt::quantize(x.data(), n, c, q);
  pqt::dequantize(q, c, deq.data(), n);
  for (std::size_t i = 0; i < n; ++i) PQT_FUZZ_CHECK(same(fq[i], deq[i]));

  std::vector<pqt::bf16> xb(n), yb(n);
  std::vector<float> xbf(n), ybf(n);
  for (std::size_t i = 0; i < n; ++i) {
    xb[i] = pqt::bf16(x[i]);
    xbf[i] = static_cast<float>(xb[i]);
  }
  pqt::fake_quant(xb.data(), yb.data(), n, c);
  pqt::fake_quant(xbf.data(), ybf.data(), n, c);
  for (std::size_t i = 0; i < n; ++i) PQT_FUZZ_CHECK(same(static_cast<float>(yb[i]), static_cast<float>(pqt::bf16(ybf[i]))));

  const bool mx = c.scale == pqt::scaling::block && c.block_kind == pqt::block_scale::mx;
  if ((c.scale == pqt::scaling::none || mx) && n > 0 && c.index_base <= ~std::uint64_t{0} - n) {
    const std::size_t unit = mx ? c.block_size : 1;
    const std::size_t cut = (cut_at % (n / unit + 1)) * unit;
    std::vector<float> parts(n);
    pqt::quant_config s = c;
    if (cut > 0) pqt::fake_quant(x.data(), parts.data(), cut, s);
    s.index_base = c.index_base + cut;
    if (cut < n) pqt::fake_quant(x.data() + cut, parts.data() + cut, n - cut, s);
    for (std::size_t i = 0; i < n; ++i) PQT_FUZZ_CHECK(same(parts[i], fq[i]));
  }
  return 0;
}

// Quantize an LLM-like weight matrix to MXFP8, MXFP6, MXFP4 and NVFP4 and see
// what each format costs and loses: bits per element (scales included), RMSE,
// worst error, SQNR, and how many weights were flushed to zero or clipped.
//
//   build/release/examples/quantize_weights
//
// PQT_OPTIMIZE (CMake marker: -O2 even in Debug builds; a million weights per run)
//
// The round trip is quantize (real codes, packed, + scales) then dequantize;
// fake_quant computes the same values in one pass, without storing codes.
// PQT_USES_TENSOR_LIB (CMake marker: the tensor API comes from pqt::tensor, compiled once per tree)
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include <pqt/fake_quant.hpp>

namespace {

constexpr std::size_t kRows = 1024, kCols = 1024;  // row-major: blocks run along a row

// N(0, 0.02^2) weights, as a freshly trained projection has, drawn with pqt's
// own Gaussian sampler (the same numbers on every platform, unlike
// std::normal_distribution), plus the outliers LLM weights are known for: a
// few input-feature columns 20x larger and two rows 5x larger. An outlier
// column puts one large element into every 32-element block it crosses.
std::vector<float> make_weights() {
  std::vector<float> w(kRows * kCols);
  for (std::size_t i = 0; i < w.size(); ++i) {
    const pqt::word_pair p = pqt::random_words2(/*seed=*/2024, /*offset=*/0, i);
    w[i] = 0.02f * pqt::gaussian_noise(p.a, p.b);
  }
  for (std::size_t r = 0; r < kRows; ++r)
    for (std::size_t c : {17u, 300u, 811u}) w[r * kCols + c] *= 20.0f;
  for (std::size_t r : {64u, 700u})
    for (std::size_t c = 0; c < kCols; ++c) w[r * kCols + c] *= 5.0f;
  return w;
}

// The largest magnitude block b can hold: larger weights were clipped to it.
float block_limit(const pqt::quant_config& cfg, const pqt::quantized& q, std::size_t b) {
  if (cfg.scale != pqt::scaling::block) return cfg.format.max();
  if (cfg.block_kind == pqt::block_scale::nvfp4)  // 6 * ue4m3 block scale * fp32 tensor scale
    return pqt::nvfp4_decode_element(pqt::fmt::e2m1::max_code, q.scales[b], q.tensor_scale);
  return cfg.format.max() * pqt::e8m0_value(q.scales[b]);  // max_elem * 2^(X - 127)
}

void report(const char* name, const char* scale, const pqt::quant_config& cfg, const std::vector<float>& w) {
  const std::size_t n = w.size();
  pqt::quantized q;
  pqt::quantize(w.data(), n, cfg, q);  // codes (FP4: 2 per byte, FP6: 4 per 3 bytes) + scales
  std::vector<float> y(n), fq(n);
  pqt::dequantize(q, cfg, y.data(), n);
  pqt::fake_quant(w.data(), fq.data(), n, cfg);  // the same values in one pass
  const bool same = std::memcmp(y.data(), fq.data(), n * sizeof(float)) == 0;

  // Storage: packed codes, one byte per scale, and NVFP4's fp32 tensor scale.
  const bool nvfp4 = cfg.scale == pqt::scaling::block && cfg.block_kind == pqt::block_scale::nvfp4;
  const double bits = (8.0 * static_cast<double>(q.codes.size() + q.scales.size()) + (nvfp4 ? 32.0 : 0.0)) /
                      static_cast<double>(n);

  double err2 = 0, sig2 = 0, max_err = 0;
  std::size_t zeroed = 0, clipped = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double x = w[i], e = static_cast<double>(y[i]) - x;
    err2 += e * e;
    sig2 += x * x;
    max_err = std::fabs(e) > max_err ? std::fabs(e) : max_err;
    zeroed += x != 0 && y[i] == 0;
    const std::size_t b = cfg.scale == pqt::scaling::block ? i / cfg.block_size : 0;
    clipped += std::fabs(w[i]) > block_limit(cfg, q, b);
  }
  const double rel = std::sqrt(err2 / sig2);
  std::printf("%-11s %-4s %-19s %5.2f  %8.2e  %8.2e  %7.4f  %5.2f  %6.2f%%  %6.3f%%  %s\n", name,
              cfg.format.name().c_str(), scale, bits, std::sqrt(err2 / static_cast<double>(n)), max_err, rel,
              -20.0 * std::log10(rel), 100.0 * static_cast<double>(zeroed) / static_cast<double>(n),
              100.0 * static_cast<double>(clipped) / static_cast<double>(n), same ? "= round trip" : "DIFFERS");
}

}  // namespace

int main() {
  const std::vector<float> w = make_weights();
  double s2 = 0;
  for (float x : w) s2 += static_cast<double>(x) * x;
  std::printf("weights: %zu x %zu, N(0, 0.02^2), outlier columns 17/300/811 (x20), rows 64/700 (x5)\n", kRows,
              kCols);
  std::printf("         rms %.4g, amax %.4g; blocks of 32/16 run along rows; round to nearest even, saturating\n\n",
              std::sqrt(s2 / static_cast<double>(w.size())), pqt::amax(w.data(), w.size()));

  std::printf("%-11s %-4s %-19s %5s  %8s  %8s  %7s  %5s  %7s  %7s  %s\n", "format", "elem", "scales", "bits",
              "RMSE", "max|err|", "rel.err", "SQNR", "to 0", "clipped", "fake_quant");
  pqt::quant_config bf16;  // the baseline: plain bf16, no scaling
  bf16.format = pqt::format_desc::of<pqt::fmt::bf16>();
  report("BF16", "none", bf16, w);
  report("MXFP8", "e8m0 per 32", pqt::quant_config::mxfp8(), w);
  report("MXFP6", "e8m0 per 32", pqt::quant_config::mxfp6(), w);  // e3m2: more range
  report("MXFP6", "e8m0 per 32", pqt::quant_config::mxfp6(pqt::format_desc::of<pqt::fmt::e2m3>()), w);  // more precision
  report("MXFP4", "e8m0 per 32 (floor)", pqt::quant_config::mxfp4(), w);  // the OCP MX v1.0 rule
  pqt::quant_config rceil = pqt::quant_config::mxfp4();
  rceil.e8m0_rule = pqt::e8m0_rounding::rceil;  // X = 2^ceil(log2(amax / 6)): never clips
  report("MXFP4 rceil", "e8m0 per 32 (rceil)", rceil, w);
  report("NVFP4", "ue4m3/16 + fp32", pqt::quant_config::nvfp4(), w);

  std::printf("\nbits: codes + scales per element (+ NVFP4's 32-bit tensor scale). rel.err: ||q - w|| / ||w||;\n"
              "SQNR = -20 log10(rel.err) dB. to 0: nonzero weights that became 0. clipped: |w| above the\n"
              "largest value its block holds (the OCP floor rule lets amax / X reach 2^(emax+1) > max: 8 > 6 in\n"
              "FP4; rceil never clips but has coarser steps). fake_quant: bit-identical to dequantize(quantize)\n"
              "on all %zu elements.\n",
              w.size());
  return 0;
}

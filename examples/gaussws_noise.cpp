// GaussWS: train with weights w + R * Delta instead of quantized weights
// (README "Noise"). R ~ round(N(0,1)/2) on {-3..3}, Delta = 2^(floor(log2 amax) + 1 - b)
// per 32-element block, the sum rounded once to bf16. What does b = 4..9 do to
// an LLM-like weight matrix, and is the noise what the table promises?
//
//   build/release/examples/gaussws_noise
//
// PQT_OPTIMIZE (CMake marker: -O2 even in Debug builds; a million weights per run)
// PQT_USES_TENSOR_LIB (CMake marker: the tensor API comes from pqt::tensor, compiled once per tree)
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include <pqt/fake_quant.hpp>

namespace {

constexpr std::size_t kRows = 1024, kCols = 1024, kBlock = 32;

// N(0, 0.02^2) from pqt's Gaussian sampler (the same on every platform), three
// outlier columns x20 and two outlier rows x5, as LLM weights have. The
// weights are stored in bf16 (as a checkpoint would be), so out - w is exactly
// the noise that survived the bf16 rounding, and R = 0 leaves a weight as it is.
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
  for (float& x : w) x = static_cast<float>(pqt::bf16{x});
  return w;
}

// Delta of each block, as gaussws computes it: 2^(floor(log2 amax) + 1 - b).
std::vector<double> block_deltas(const std::vector<float>& w, int b) {
  std::vector<double> d(w.size() / kBlock);
  for (std::size_t k = 0; k < d.size(); ++k) {
    const float a = pqt::amax(w.data() + k * kBlock, kBlock);
    int e = 0;
    std::frexp(a, &e);  // a = m * 2^e, m in [1/2, 1): floor(log2 a) = e - 1
    d[k] = std::ldexp(1.0, e - b);
  }
  return d;
}

struct noise_stats {
  double mean = 0, std = 0;  // of (out - w) / Delta, pooled over all blocks
  double changed = 0;        // fraction of weights with out != w
  double rel = 0;            // ||out - w|| / ||w||
};

template <class T>
noise_stats measure(const std::vector<float>& w, const std::vector<T>& out, const std::vector<double>& delta) {
  double s = 0, s2 = 0, d2 = 0, w2 = 0;
  std::size_t changed = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    const double d = static_cast<double>(static_cast<float>(out[i])) - w[i];  // exact
    const double z = d / delta[i / kBlock];
    s += z;
    s2 += z * z;
    d2 += d * d;
    w2 += static_cast<double>(w[i]) * w[i];
    changed += d != 0;
  }
  const double n = static_cast<double>(w.size());
  return {s / n, std::sqrt(s2 / n - (s / n) * (s / n)), static_cast<double>(changed) / n, std::sqrt(d2 / w2)};
}

bool same_bits(const std::vector<pqt::bf16>& a, const std::vector<pqt::bf16>& b) {
  return std::memcmp(a.data(), b.data(), a.size() * sizeof(pqt::bf16)) == 0;
}

}  // namespace

int main() {
  const std::vector<float> w = make_weights();
  const std::size_t n = w.size();

  // P(R = k) = (T_(k+4) - T_(k+3)) / 2^32, T_0 = 0, T_7 = 2^32 (noise.hpp's table).
  auto threshold = [](int j) { return j >= 7 ? std::uint64_t{1} << 32 : std::uint64_t{pqt::gaussws_r_threshold(j)}; };
  double var_r = 0, p0 = 0, p_same = 0;
  for (int k = -3; k <= 3; ++k) {
    const double p = static_cast<double>(threshold(k + 4) - threshold(k + 3)) * 0x1p-32;
    var_r += k * k * p;  // the table is symmetric: E[R] = 0 exactly
    p_same += p * p;
    if (k == 0) p0 = p;
  }
  const double sigma_r = std::sqrt(var_r);
  std::printf("weights: %zu x %zu bf16, N(0, 0.02^2) with outlier rows/columns; Delta per block of %zu\n", kRows,
              kCols, kBlock);
  std::printf("R table: P(R=0) = %.6f, Var(R) = %.6f, sqrt(Var(R)) = %.6f; expected changed = %.2f%%\n\n", p0,
              var_r, sigma_r, 100.0 * (1.0 - p0));

  std::printf("%2s  %-27s  %-29s  %s\n", "", "     Delta over blocks", " (out - w) / Delta, all blocks",
              "std / expected");
  std::printf("%2s  %8s %9s %8s  %9s %9s %9s  %6s %7s  %7s  %s\n", "b", "min", "median", "max", "mean", "std",
              "expected", "bf16", "float", "changed", "||out-w||/||w||");
  pqt::gaussws_config g;  // R noise, block Delta, blocks of 32 (the defaults)
  g.seed = 7;
  g.offset = 0;  // the training step
  std::vector<pqt::bf16> out(n);
  std::vector<float> out_f(n);
  for (int b = 4; b <= 9; ++b) {
    g.bits = b;
    pqt::gaussws(w.data(), out.data(), n, g);    // bf16 carrier (the default)
    pqt::gaussws(w.data(), out_f.data(), n, g);  // float carrier: the same R, never rounded away
    std::vector<double> delta = block_deltas(w, b);
    const noise_stats s = measure(w, out, delta), sf = measure(w, out_f, delta);
    std::vector<double> sorted = delta;
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2), sorted.end());
    const double median = sorted[sorted.size() / 2];
    std::printf("%2d  %8.2e %9.2e %8.2e  %+9.5f %9.5f %9.5f  %6.4f %7.4f  %6.2f%%  %.5f\n", b,
                *std::min_element(delta.begin(), delta.end()), median, *std::max_element(delta.begin(), delta.end()),
                s.mean, s.std, sigma_r, s.std / sigma_r, sf.std / sigma_r, 100.0 * s.changed, s.rel);
  }
  std::printf("Each noise is divided by its own block's Delta, so blocks of every scale are compared with\n"
              "sqrt(Var(R)) alike. b = 9: Delta is half a bf16 ulp in each block's top binade, so R = +-1\n"
              "there is a tie that rounds to even (0 or +-2 Delta): fewer weights change and the variance\n"
              "grows. A float carrier keeps every R * Delta.\n\n");

  // Noise is a pure function of (seed, offset, index): regenerated, never stored.
  g.bits = 6;
  std::vector<pqt::bf16> again(n), next(n), shard(n);
  pqt::gaussws(w.data(), out.data(), n, g);
  pqt::gaussws(w.data(), again.data(), n, g);
  std::printf("b = 6, seed 7: offset 0 twice -> %s\n", same_bits(out, again) ? "identical bf16 bits" : "DIFFERENT");
  // The bottom half on its own, as another device of a sharded tensor would compute it.
  pqt::gaussws_config half = g;
  half.index_base = n / 2;
  std::copy(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n / 2), shard.begin());
  pqt::gaussws(w.data() + n / 2, shard.data() + n / 2, n / 2, half);
  std::printf("               rows 512..1023 alone with index_base = %zu -> %s\n", n / 2,
              same_bits(out, shard) ? "identical bf16 bits" : "DIFFERENT");
  g.offset = 1;  // the next training step: fresh noise
  pqt::gaussws(w.data(), next.data(), n, g);
  double dd = 0, d0 = 0, d1 = 0;
  std::size_t differ = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double a = static_cast<double>(static_cast<float>(out[i])) - w[i];
    const double c = static_cast<double>(static_cast<float>(next[i])) - w[i];
    dd += a * c;
    d0 += a * a;
    d1 += c * c;
    differ += out[i].bits() != next[i].bits();
  }
  std::printf("               offset 1 (next step) -> %.2f%% of weights differ from offset 0 (expected\n"
              "               1 - sum P(R=k)^2 = %.2f%%), noise correlation %+.4f\n",
              100.0 * static_cast<double>(differ) / static_cast<double>(n), 100.0 * (1.0 - p_same),
              dd / std::sqrt(d0 * d1));
  return 0;
}

#pragma once
// --gradcheck: the hand-written backward pass against central finite
// differences (in double, on a tiny model), the float model against the
// double one, every recipe's forward/backward on the float model, the E8Mm
// recipes against pqt's element functors, and the sharpness ascent against
// its closed form.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include <pqt/fake_quant.hpp>
#include <pqt/random.hpp>

#include "model.hpp"
#include "quant_recipes.hpp"
#include "train.hpp"

namespace sweep {

inline bool run_gradcheck() {
  bool ok = true;
  model_config c;
  c.vocab = 11;
  c.ctx = 7;
  c.dim = 8;
  c.heads = 2;
  c.layers = 2;
  c.mlp = 12;
  const int B = 3;
  const std::size_t N = static_cast<std::size_t>(B * c.ctx);
  std::vector<std::uint16_t> in(N), tg(N);
  for (std::size_t i = 0; i < N; ++i) {
    in[i] = static_cast<std::uint16_t>(pqt::random_word(7, 1, i) % static_cast<std::uint32_t>(c.vocab));
    tg[i] = static_cast<std::uint16_t>(pqt::random_word(7, 2, i) % static_cast<std::uint32_t>(c.vocab));
  }

  // 1. Analytic gradient vs central differences, every parameter. The
  //    initialisation is scaled up so that attention and the MLP are far
  //    from their small-weight linear regime.
  transformer<double> m(c);
  m.init(3);
  for (std::size_t i = 0; i < m.params.size(); ++i) {
    const pqt::word_pair w = pqt::random_words2(11, 5, i);
    m.params[i] += 0.3 * pqt::gaussian_noise(w.a, w.b);
  }
  const quant_ctx none{};
  m.quantize_weights(none);
  const double loss = m.forward(in.data(), tg.data(), B, none);
  m.backward(none);
  const std::vector<double> analytic = m.grads;
  double worst = 0, worst_abs = 0, gnorm = 0;
  std::size_t worst_i = 0;
  const double h = 1e-5;
  for (std::size_t i = 0; i < m.params.size(); ++i) {
    const double p = m.params[i];
    m.params[i] = p + h;
    m.quantize_weights(none);
    const double lp = m.forward(in.data(), tg.data(), B, none);
    m.params[i] = p - h;
    m.quantize_weights(none);
    const double lm = m.forward(in.data(), tg.data(), B, none);
    m.params[i] = p;
    const double numeric = (lp - lm) / (2 * h);
    const double err = std::fabs(numeric - analytic[i]);
    // Relative error, with a floor for the near-zero gradients where only
    // the absolute error means anything.
    const double rel = err / std::max(1e-4, std::fabs(numeric) + std::fabs(analytic[i]));
    gnorm += analytic[i] * analytic[i];
    worst_abs = std::max(worst_abs, err);
    if (rel > worst) {
      worst = rel;
      worst_i = i;
    }
  }
  const bool grad_ok = worst < 1e-6 && worst_abs < 1e-8;
  std::printf("gradcheck: %zu parameters, loss %.6f, |grad| %.4g: max relative error %.2e (parameter %zu), "
              "max absolute error %.2e  %s\n",
              m.params.size(), loss, std::sqrt(gnorm), worst, worst_i, worst_abs, grad_ok ? "ok" : "FAIL");
  ok &= grad_ok;

  // 2. The float model (the one that trains) against the double one.
  transformer<float> f(c);
  for (std::size_t i = 0; i < m.params.size(); ++i) f.params[i] = static_cast<float>(m.params[i]);
  for (std::size_t i = 0; i < m.params.size(); ++i) m.params[i] = static_cast<double>(f.params[i]);
  m.quantize_weights(none);
  const double ld = m.forward(in.data(), tg.data(), B, none);
  m.backward(none);
  f.quantize_weights(none);
  const double lf = f.forward(in.data(), tg.data(), B, none);
  f.backward(none);
  double gdiff = 0, gref = 0;
  for (std::size_t i = 0; i < m.params.size(); ++i) {
    gdiff += (f.grads[i] - m.grads[i]) * (f.grads[i] - m.grads[i]);
    gref += m.grads[i] * m.grads[i];
  }
  const double grel = std::sqrt(gdiff / gref);
  const bool float_ok = std::fabs(lf - ld) < 1e-5 * ld && grel < 1e-4;
  std::printf("gradcheck: float model vs double: loss %.7f vs %.7f, gradient relative difference %.2e  %s\n", lf, ld,
              grel, float_ok ? "ok" : "FAIL");
  ok &= float_ok;

  // 3. Every recipe runs forward and backward and stays finite; quantizing
  //    changes the loss a little (bf16: ~1e-3 relative), never a lot.
  bool recipes_ok = true;
  for (const recipe& r : known_recipes()) {
    const quant_ctx q{&r, 99, 5};
    f.quantize_weights(q);
    const double lq = f.forward(in.data(), tg.data(), B, q);
    f.backward(q);
    double g2 = 0;
    for (float g : f.grads) g2 += static_cast<double>(g) * g;
    const bool r_ok = std::isfinite(lq) && std::isfinite(g2) && std::fabs(lq - lf) < 0.1 * lf &&
                      (r.kind == recipe_kind::fp32) == (lq == lf);
    if (!r_ok) {
      std::printf("gradcheck: recipe %s: loss %.7f (fp32 %.7f), |grad|^2 %.3g  FAIL\n", r.name.c_str(), lq, lf, g2);
      recipes_ok = false;
    }
  }
  std::printf("gradcheck: %zu recipes run forward and backward, finite, loss within 10%% of fp32  %s\n",
              known_recipes().size(), recipes_ok ? "ok" : "FAIL");
  ok &= recipes_ok;

  // 4. The recipes' element loops are pqt's element functors: every E8Mm
  //    mode equals pqt::fake_quant_op<e8m<M>, R, nonsaturating>{seed, offset}
  //    at every index (a length that is not a multiple of 4 checks the tail).
  {
    const std::size_t n = 1003;
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i) {
      const pqt::word_pair w = pqt::random_words2(17, 3, i);
      x[i] = pqt::gaussian_noise(w.a, w.b) * (i % 5 == 0 ? 100.0f : 0.01f);
    }
    std::size_t mismatches = 0;
    for (const recipe& r : known_recipes()) {
      if (r.kind != recipe_kind::e8m) continue;
      std::vector<float> y = x;
      r.quantize(y.data(), 1, n, role::activation, block_axis::along_rows, 21, 34);
      for (std::size_t i = 0; i < n; ++i) {
        float want = 0;
        constexpr auto O = pqt::overflow::nonsaturating;
#define SWEEP_CASE(M)                                                                                   \
  case M:                                                                                               \
    want = r.rounding == pqt::rounding::nearest_even                                                    \
               ? pqt::fake_quant_op<pqt::fmt::e8m<M>, pqt::rounding::nearest_even, O>{21, 34}(x[i], i) \
           : r.rounding == pqt::rounding::toward_zero                                                   \
               ? pqt::fake_quant_op<pqt::fmt::e8m<M>, pqt::rounding::toward_zero, O>{21, 34}(x[i], i)  \
               : pqt::fake_quant_op<pqt::fmt::e8m<M>, pqt::rounding::stochastic, O>{21, 34}(x[i], i);  \
    break;
        switch (r.mantissa) {
          SWEEP_CASE(1) SWEEP_CASE(2) SWEEP_CASE(3) SWEEP_CASE(4) SWEEP_CASE(5) SWEEP_CASE(6) SWEEP_CASE(7)
          default: break;
        }
#undef SWEEP_CASE
        mismatches += std::memcmp(&want, &y[i], sizeof want) != 0;
      }
    }
    std::printf("gradcheck: E8Mm recipes equal pqt::fake_quant_op element by element: %zu mismatches  %s\n",
                mismatches, mismatches == 0 ? "ok" : "FAIL");
    ok &= mismatches == 0;
  }

  // 5. DiffQ's matched amplitude: Var R from the thresholds equals the
  //    variance of noise.hpp's published word counts (k = ±1, ±2, ±3).
  {
    const double want = 2.0 * (675621359.0 + 4.0 * 5796537.0 + 9.0 * 1231.0) / 4294967296.0;
    const double got = detail::gaussws_r_variance();
    const bool var_ok = got == want;
    std::printf("gradcheck: Var R = %.9f from the thresholds, %.9f from the counts  %s\n", got, want,
                var_ok ? "ok" : "FAIL");
    ok &= var_ok;
  }

  // 6. Sharpness: CE(c + δ) grows with δ_i (i != y) and falls with δ_y, so
  //    its maximum over the box is the corner δ_i = +b_i, δ_y = -b_y (b_i =
  //    ε(|c_i| + 1), c the centred logits); the projected ascent must reach
  //    it, and a common offset of the logits must not change the result.
  double worst_sharp = 0, worst_offset = 0;
  const sharpness_config sc;
  for (int t = 0; t < 20; ++t) {
    const int V = 5 + t;
    std::vector<double> z(static_cast<std::size_t>(V)), zc(z.size());
    for (int j = 0; j < V; ++j) {
      const pqt::word_pair w = pqt::random_words2(13, static_cast<std::uint64_t>(t), static_cast<std::uint64_t>(j));
      z[j] = 3.0 * pqt::gaussian_noise(w.a, w.b);
    }
    const int y = t % V;
    double mean = 0;
    for (int j = 0; j < V; ++j) mean += z[j] / V;
    for (int j = 0; j < V; ++j) zc[j] = z[j] + (j == y ? -1 : 1) * sc.eps * (std::fabs(z[j] - mean) + 1);
    const double ce0 = cross_entropy(z.data(), V, y);
    const double closed = 100 * (cross_entropy(zc.data(), V, y) - ce0) / (1 + ce0);
    const double s0 = last_token_sharpness(z.data(), V, y, sc);
    worst_sharp = std::max(worst_sharp, std::fabs(s0 - closed));
    for (const double offset : {5.0, 20.0, 50.0, -300.0}) {
      std::vector<double> zo(z);
      for (double& v : zo) v += offset;
      worst_offset = std::max(worst_offset, std::fabs(last_token_sharpness(zo.data(), V, y, sc) - s0));
    }
  }
  const bool sharp_ok = worst_sharp < 1e-9;
  std::printf("gradcheck: sharpness ascent reaches the closed-form corner: max difference %.2e  %s\n", worst_sharp,
              sharp_ok ? "ok" : "FAIL");
  ok &= sharp_ok;
  const bool offset_ok = worst_offset < 1e-9;
  std::printf("gradcheck: sharpness unchanged by a common logit offset (+5, +20, +50, -300): max difference %.2e  %s\n",
              worst_offset, offset_ok ? "ok" : "FAIL");
  ok &= offset_ok;
  return ok;
}

}  // namespace sweep

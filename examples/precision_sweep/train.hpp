#pragma once
// One training run: AdamW on the transformer under one recipe, one learning
// rate and one seed; validation loss on fixed windows, divergence and
// loss-spike detection, last-token ε-sharpness at checkpoints, and the
// validation loss of the final weights under post-training quantization.

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <pqt/random.hpp>

#include "corpus.hpp"
#include "model.hpp"
#include "quant_recipes.hpp"

namespace sweep {

/// Last-token ε-sharpness (To FP8 and Back Again, Lee et al. 2024), on
/// centred logits: with the final position's logits z, target y and
/// c = z - mean(z) (the softmax ignores a common offset; centring makes the
/// box ignore it too),
///   100 * (max_{|δ_i| <= ε(|c_i| + 1)} CE(c + δ) - CE(c)) / (1 + CE(c)),
/// the maximum found by projected gradient ascent: `steps` signed-gradient
/// steps of `step_frac` of each coordinate's bound from δ = 0, each projected
/// back onto the box (ℓ∞ PGD, Madry et al.), keeping the best iterate. On raw
/// logits the box ε(|z_i| + 1) grew with a common offset while the loss did
/// not move (--gradcheck's offsets moved that metric by up to 261).
struct sharpness_config {
  double eps = 1e-2;
  int steps = 10;
  double step_frac = 0.25;
};

inline double cross_entropy(const double* z, int V, int y) {
  double mx = z[0];
  for (int j = 1; j < V; ++j) mx = z[j] > mx ? z[j] : mx;
  double s = 0;
  for (int j = 0; j < V; ++j) s += std::exp(z[j] - mx);
  return mx + std::log(s) - z[y];
}

/// Sharpness of one logit vector (see sharpness_config).
template <class R>
double last_token_sharpness(const R* logits, int V, int y, const sharpness_config& sc) {
  std::vector<double> z(logits, logits + V), delta(static_cast<std::size_t>(V), 0.0), bound(z.size());
  double mean = 0;
  for (int j = 0; j < V; ++j) mean += z[j];
  mean /= V;
  for (int j = 0; j < V; ++j) z[j] -= mean;
  std::vector<double> zd(z);
  for (int j = 0; j < V; ++j) bound[j] = sc.eps * (std::fabs(z[j]) + 1.0);
  const double ce0 = cross_entropy(z.data(), V, y);
  double best = ce0;
  for (int s = 0; s < sc.steps; ++s) {
    // dCE/dδ = softmax(z + δ) - onehot(y)
    double mx = zd[0];
    for (int j = 1; j < V; ++j) mx = zd[j] > mx ? zd[j] : mx;
    double sum = 0;
    for (int j = 0; j < V; ++j) sum += std::exp(zd[j] - mx);
    for (int j = 0; j < V; ++j) {
      const double g = std::exp(zd[j] - mx) / sum - (j == y ? 1.0 : 0.0);
      const double step = g > 0 ? sc.step_frac * bound[j] : g < 0 ? -sc.step_frac * bound[j] : 0.0;
      double d = delta[j] + step;
      d = d > bound[j] ? bound[j] : d < -bound[j] ? -bound[j] : d;
      delta[j] = d;
    }
    for (int j = 0; j < V; ++j) zd[j] = z[j] + delta[j];
    const double ce = cross_entropy(zd.data(), V, y);
    best = ce > best ? ce : best;
  }
  return 100.0 * (best - ce0) / (1.0 + ce0);
}

struct train_config {
  model_config model;
  int steps = 700;
  int batch = 8;
  double lr = 7e-3;            ///< the tuned ("1x") peak learning rate
  double warmup_frac = 0.05;   ///< linear warmup, then cosine decay to min_lr_frac * lr
  double min_lr_frac = 0.1;
  double beta1 = 0.9, beta2 = 0.95, adam_eps = 1e-8, weight_decay = 0.1;
  double clip = 1.0;           ///< global gradient-norm clip
  int eval_every = 50;
  int eval_windows = 64;       ///< fixed validation windows of ctx tokens
  int sharp_checkpoints = 4;   ///< sharpness at steps/4, steps/2, 3 steps/4, steps
  double divergence_margin = 1.0;  ///< diverged: val loss > running min + this (nats), or non-finite
  double spike_margin = 0.5;       ///< spike: train loss > its EMA + this (nats)
  sharpness_config sharp;
  /// Evaluated on the final master weights of every run that did not
  /// diverge (post-training quantization; run_result::post_val), no noise.
  std::vector<const recipe*> post;
};

struct eval_point {
  int step;
  double val;
  double sharp;  ///< NaN where not measured
};

struct run_result {
  std::size_t recipe_index = 0;
  int lr_index = 0;
  int seed = 0;
  double lr = 0;
  std::vector<float> train;  ///< training loss per step (up to divergence)
  std::vector<eval_point> evals;
  bool diverged = false;
  int diverged_at = -1;
  std::string reason;
  int spikes = 0;
  double final_val = std::numeric_limits<double>::quiet_NaN();
  double final_sharp = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> post_val;  ///< validation loss under each train_config::post recipe (none if diverged)
  double seconds = 0;
};

/// Start offsets of the validation windows: evenly spaced, fixed.
inline std::vector<std::size_t> eval_starts(const corpus& c, int ctx, int windows) {
  std::vector<std::size_t> out;
  const std::size_t span = c.valid.size() - static_cast<std::size_t>(ctx) - 1;
  for (int k = 0; k < windows; ++k)
    out.push_back(windows == 1 ? 0 : span * static_cast<std::size_t>(k) / static_cast<std::size_t>(windows - 1));
  return out;
}

/// Validation loss (mean CE over every position of every window) under the
/// recipe's forward pass, and the mean last-token sharpness of the windows.
inline void evaluate(transformer<float>& m, const corpus& c, const train_config& tc, const quant_ctx& q,
                     bool with_sharpness, double& val, double& sharp) {
  const std::size_t T = static_cast<std::size_t>(tc.model.ctx), V = static_cast<std::size_t>(tc.model.vocab);
  const auto starts = eval_starts(c, tc.model.ctx, tc.eval_windows);
  std::vector<std::uint16_t> in, tg;
  double total = 0, sh = 0;
  std::size_t done = 0;
  while (done < starts.size()) {
    const std::size_t nb = std::min<std::size_t>(static_cast<std::size_t>(tc.batch), starts.size() - done);
    in.clear();
    tg.clear();
    for (std::size_t b = 0; b < nb; ++b)
      for (std::size_t t = 0; t < T; ++t) {
        in.push_back(c.valid[starts[done + b] + t]);
        tg.push_back(c.valid[starts[done + b] + t + 1]);
      }
    total += m.forward(in.data(), tg.data(), static_cast<int>(nb), q) * static_cast<double>(nb);
    if (with_sharpness)
      for (std::size_t b = 0; b < nb; ++b)
        sh += last_token_sharpness(&m.logits[(b * T + T - 1) * V], static_cast<int>(V), tg[b * T + T - 1], tc.sharp);
    done += nb;
  }
  val = total / static_cast<double>(starts.size());
  sharp = with_sharpness ? sh / static_cast<double>(starts.size()) : std::numeric_limits<double>::quiet_NaN();
}

inline double learning_rate(const train_config& tc, double peak, int step) {
  const int warm = static_cast<int>(tc.warmup_frac * tc.steps);
  if (step < warm) return peak * (step + 1) / warm;
  const double pi = 3.14159265358979323846;
  const double t = static_cast<double>(step - warm) / static_cast<double>(tc.steps - warm > 1 ? tc.steps - warm - 1 : 1);
  return peak * (tc.min_lr_frac + (1 - tc.min_lr_frac) * 0.5 * (1 + std::cos(pi * t)));
}

/// Per-seed streams: the same seed gives every recipe and learning rate the
/// same initial weights and the same batches (paired comparisons).
inline std::uint64_t init_seed(int seed) { return 0x5EED0000ull + static_cast<std::uint64_t>(seed); }
inline std::uint64_t data_seed(int seed) { return 0xDA7A0000ull + static_cast<std::uint64_t>(seed); }
inline std::uint64_t noise_seed(int seed) { return 0x0015E000ull + static_cast<std::uint64_t>(seed); }

/// Train one run. `tick` is called after every step (progress bar).
inline run_result train_run(const corpus& c, const train_config& tc, const recipe& rec, double lr, int seed,
                            const std::function<void(int)>& tick) {
  const auto t0 = std::chrono::steady_clock::now();
  run_result res;
  res.seed = seed;
  res.lr = lr;
  transformer<float> m(tc.model);
  m.init(init_seed(seed));
  const std::size_t P = m.params.size();
  std::vector<float> mom(P, 0.0f), var(P, 0.0f);
  std::vector<char> decay(P, 0);
  for (const auto& mat : m.lay.decay)
    for (std::size_t i = 0; i < mat.rows * mat.cols; ++i) decay[mat.offset + i] = 1;

  const std::size_t T = static_cast<std::size_t>(tc.model.ctx), B = static_cast<std::size_t>(tc.batch);
  const std::size_t span = c.train.size() - T - 1;
  std::vector<std::uint16_t> in(B * T), tg(B * T);
  double min_val = std::numeric_limits<double>::infinity();
  double ema = 0;
  bool ema_set = false, in_spike = false;
  const int warm = static_cast<int>(tc.warmup_frac * tc.steps);
  const int sharp_every = tc.steps / (tc.sharp_checkpoints > 0 ? tc.sharp_checkpoints : 1);
  int eval_count = 0, ticked = 0;

  auto eval_at = [&](int step) {
    quant_ctx qe{&rec, noise_seed(seed), (std::uint64_t{1} << 40) + static_cast<std::uint64_t>(eval_count++)};
    m.quantize_weights(qe);
    const bool with_sharp = step > 0 && sharp_every > 0 && (step % sharp_every == 0 || step == tc.steps);
    double val, sharp;
    evaluate(m, c, tc, qe, with_sharp, val, sharp);
    res.evals.push_back({step, val, sharp});
    if (!std::isfinite(val)) {
      res.diverged = true;
      res.reason = "val loss not finite";
    } else if (val > min_val + tc.divergence_margin) {
      res.diverged = true;
      res.reason = "val loss > running min + margin";
    }
    if (res.diverged) res.diverged_at = step;
    if (std::isfinite(val) && val < min_val) min_val = val;
    if (!res.diverged && step == tc.steps) {
      res.final_val = val;
      res.final_sharp = sharp;
    }
  };

  eval_at(0);
  for (int step = 0; step < tc.steps && !res.diverged; ++step) {
    for (std::size_t b = 0; b < B; ++b) {
      const std::size_t s = pqt::random_word(data_seed(seed), static_cast<std::uint64_t>(step), b) % span;
      for (std::size_t t = 0; t < T; ++t) {
        in[b * T + t] = c.train[s + t];
        tg[b * T + t] = c.train[s + t + 1];
      }
    }
    const quant_ctx q{&rec, noise_seed(seed), static_cast<std::uint64_t>(step)};
    m.quantize_weights(q);
    const double loss = m.forward(in.data(), tg.data(), tc.batch, q);
    res.train.push_back(static_cast<float>(loss));
    if (!std::isfinite(loss)) {
      res.diverged = true;
      res.diverged_at = step;
      res.reason = "train loss not finite";
      break;
    }
    if (step >= warm) {
      if (!ema_set) {
        ema = loss;
        ema_set = true;
      }
      if (loss > ema + tc.spike_margin) {
        if (!in_spike) ++res.spikes;
        in_spike = true;
      } else if (loss < ema + 0.5 * tc.spike_margin) {
        in_spike = false;
      }
      ema = 0.95 * ema + 0.05 * loss;
    }
    m.backward(q);

    double norm2 = 0;
    for (float g : m.grads) norm2 += static_cast<double>(g) * g;
    const double norm = std::sqrt(norm2);
    if (!std::isfinite(norm)) {
      res.diverged = true;
      res.diverged_at = step;
      res.reason = "gradient not finite";
      break;
    }
    const float clip = norm > tc.clip ? static_cast<float>(tc.clip / norm) : 1.0f;
    const double lr_t = learning_rate(tc, lr, step);
    const double bc1 = 1 - std::pow(tc.beta1, step + 1), bc2 = 1 - std::pow(tc.beta2, step + 1);
    const float b1 = static_cast<float>(tc.beta1), b2 = static_cast<float>(tc.beta2);
    const float a = static_cast<float>(lr_t / bc1), inv_bc2 = static_cast<float>(1 / bc2);
    const float eps = static_cast<float>(tc.adam_eps), wd = static_cast<float>(lr_t * tc.weight_decay);
    for (std::size_t i = 0; i < P; ++i) {
      const float g = m.grads[i] * clip;
      mom[i] = b1 * mom[i] + (1 - b1) * g;
      var[i] = b2 * var[i] + (1 - b2) * g * g;
      float p = m.params[i];
      if (decay[i]) p -= wd * p;
      p -= a * mom[i] / (std::sqrt(var[i] * inv_bc2) + eps);
      m.params[i] = p;
    }
    if (tick) tick(1);
    ++ticked;
    const int done = step + 1;
    if (done % tc.eval_every == 0 || (sharp_every > 0 && done % sharp_every == 0) || done == tc.steps) eval_at(done);
  }
  if (tick && ticked < tc.steps) tick(tc.steps - ticked);
  if (!res.diverged)
    for (std::size_t k = 0; k < tc.post.size(); ++k) {
      const quant_ctx qp{tc.post[k], noise_seed(seed), (std::uint64_t{1} << 41) + k};
      m.quantize_weights(qp);
      double val, sharp;
      evaluate(m, c, tc, qp, false, val, sharp);
      res.post_val.push_back(val);
    }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace sweep

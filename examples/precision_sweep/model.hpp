#pragma once
// A small character-level transformer language model with a hand-written
// backward pass: token + position embeddings, `layers` pre-LN blocks of
// causal multi-head self-attention and a GELU MLP, a final layer norm and an
// untied output projection; mean cross-entropy over every position.
//
// Every GEMM operand goes through the recipe (quant_recipes.hpp):
//   linear  y = x W           x: activation, W: weight
//           dx = dy W^T       dy: grad_output, W: weight
//           dW = x^T dy       x: activation, dy: grad_output
//   attention S = Q K^T, O = P V          Q, K, V, P: activation
//             dP = dO V^T, dV = P^T dO    dO: grad_output
//             dQ = dS K,   dK = dS^T Q    dS: grad_output
// Each operand is quantized once per use-axis: for block-scaled recipes
// (MXFP8) the blocks run along the GEMM's contraction axis, so a tensor used
// in two GEMMs contracting different axes gets two copies; other recipes make
// one copy that both GEMMs read. Embedding lookups, layer norms, softmax,
// GELU, the loss and the optimizer stay in fp32 (the master weights too).
// Straight-through: gradients flow through a fake-quantized operand as if it
// were the original, and the weight gradient updates the fp32 master.
//
// The class is a template on the scalar: float for training, double for the
// finite-difference gradient check (which skips quantization).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include <pqt/noise.hpp>
#include <pqt/random.hpp>

#include "gemm.hpp"
#include "quant_recipes.hpp"

namespace sweep {

struct model_config {
  int vocab = 0;
  int ctx = 32;     ///< T: sequence length
  int dim = 64;     ///< D
  int heads = 2;    ///< H; head size D / H
  int layers = 2;
  int mlp = 256;    ///< hidden width of the MLP
};

/// Where a forward/backward pass gets its quantization from.
struct quant_ctx {
  const recipe* rec = nullptr;  ///< nullptr: no quantization
  std::uint64_t seed = 0;
  std::uint64_t step = 0;  ///< training step (evaluation passes use steps >= 2^40)

  /// The Philox offset of tensor `id`, copy `axis`, at this step: distinct
  /// for every tensor of every step, so noise is never reused.
  std::uint64_t offset(unsigned id, int axis) const {
    return (step << 20) | (static_cast<std::uint64_t>(id) << 1) | static_cast<std::uint64_t>(axis);
  }
};

/// A GEMM operand after quantization: the copy with blocks along its rows
/// and the one with blocks down its columns (the same storage unless the
/// recipe is per-axis).
template <class R>
struct operand {
  std::vector<R> rows_q, cols_q;
  bool split = false;
  const R* along_rows() const { return rows_q.data(); }
  const R* down_columns() const { return split ? cols_q.data() : rows_q.data(); }
};

/// Quantize src (rows x cols) as a GEMM operand. `primary` is the axis a
/// single shared copy is blocked along (weights: down the columns, i.e. along
/// the input features of y = x W, like the last axis of a PyTorch [out, in]).
template <class R>
void prepare(operand<R>& op, const R* src, std::size_t rows, std::size_t cols, role r, unsigned id,
             const quant_ctx& q, block_axis primary = block_axis::along_rows) {
  const std::size_t n = rows * cols;
  op.rows_q.assign(src, src + n);
  op.split = false;
  if constexpr (std::is_same<R, float>::value) {
    if (q.rec == nullptr || q.rec->kind == recipe_kind::fp32) return;
    if (q.rec->per_axis()) {
      op.split = true;
      op.cols_q.assign(src, src + n);
      q.rec->quantize(op.rows_q.data(), rows, cols, r, block_axis::along_rows, q.seed, q.offset(id, 0));
      q.rec->quantize(op.cols_q.data(), rows, cols, r, block_axis::down_columns, q.seed, q.offset(id, 1));
    } else {
      q.rec->quantize(op.rows_q.data(), rows, cols, r, primary, q.seed, q.offset(id, 0));
    }
  } else {
    (void)r, (void)id, (void)q, (void)primary;
  }
}

struct param_layout {
  struct layer {
    std::size_t ln1_g, ln1_b, wqkv, wo, ln2_g, ln2_b, w1, w2;
  };
  struct matrix {
    std::size_t offset, rows, cols;
  };
  std::size_t tok = 0, pos = 0, lnf_g = 0, lnf_b = 0, wout = 0, total = 0;
  std::vector<layer> layers;
  std::vector<matrix> decay;  ///< matrices that get weight decay (not layer-norm parameters)

  explicit param_layout(const model_config& c) {
    const std::size_t V = c.vocab, T = c.ctx, D = c.dim, M = c.mlp;
    auto take = [&](std::size_t n) {
      const std::size_t at = total;
      total += n;
      return at;
    };
    auto mat = [&](std::size_t r, std::size_t k) {
      const std::size_t at = take(r * k);
      decay.push_back({at, r, k});
      return at;
    };
    tok = mat(V, D);
    pos = mat(T, D);
    for (int l = 0; l < c.layers; ++l) {
      layer L;
      L.ln1_g = take(D);
      L.ln1_b = take(D);
      L.wqkv = mat(D, 3 * D);
      L.wo = mat(D, D);
      L.ln2_g = take(D);
      L.ln2_b = take(D);
      L.w1 = mat(D, M);
      L.w2 = mat(M, D);
      layers.push_back(L);
    }
    lnf_g = take(D);
    lnf_b = take(D);
    wout = mat(D, V);
  }
};

template <class R>
class transformer {
 public:
  model_config cfg;
  param_layout lay;
  std::vector<R> params, grads;
  std::vector<R> logits;  ///< [B*T x V] of the last forward pass

  explicit transformer(const model_config& c) : cfg(c), lay(c), params(lay.total, R(0)), grads(lay.total, R(0)) {
    wq_.resize(static_cast<std::size_t>(4 * c.layers + 1));
    wt_.resize(wq_.size());
    cache_.resize(static_cast<std::size_t>(c.layers));
  }

  /// GPT-2 style initialisation from pqt's Philox stream `seed`: N(0, 0.02)
  /// matrices, residual output projections scaled by 1/sqrt(2 layers),
  /// layer-norm gains 1 and biases 0.
  void init(std::uint64_t seed) {
    std::uint64_t stream = 0;
    auto normal = [&](std::size_t at, std::size_t n, double std) {
      ++stream;
      for (std::size_t i = 0; i < n; ++i) {
        const pqt::word_pair w = pqt::random_words2(seed, stream, i);
        params[at + i] = static_cast<R>(std * pqt::gaussian_noise(w.a, w.b));
      }
    };
    auto fill = [&](std::size_t at, std::size_t n, R v) {
      for (std::size_t i = 0; i < n; ++i) params[at + i] = v;
    };
    const std::size_t V = cfg.vocab, T = cfg.ctx, D = cfg.dim, M = cfg.mlp;
    const double resid = 0.02 / std::sqrt(2.0 * cfg.layers);
    normal(lay.tok, V * D, 0.02);
    normal(lay.pos, T * D, 0.02);
    for (const auto& L : lay.layers) {
      fill(L.ln1_g, D, R(1));
      fill(L.ln1_b, D, R(0));
      normal(L.wqkv, D * 3 * D, 0.02);
      normal(L.wo, D * D, resid);
      fill(L.ln2_g, D, R(1));
      fill(L.ln2_b, D, R(0));
      normal(L.w1, D * M, 0.02);
      normal(L.w2, M * D, resid);
    }
    fill(lay.lnf_g, D, R(1));
    fill(lay.lnf_b, D, R(0));
    normal(lay.wout, D * V, 0.02);
  }

  /// Quantize the GEMM weights for this step (once; forward and backward
  /// share the copies, as a cast weight would be).
  void quantize_weights(const quant_ctx& q) {
    const std::size_t D = cfg.dim, M = cfg.mlp, V = cfg.vocab;
    for (int l = 0; l < cfg.layers; ++l) {
      const auto& L = lay.layers[static_cast<std::size_t>(l)];
      const std::size_t shapes[4][3] = {{L.wqkv, D, 3 * D}, {L.wo, D, D}, {L.w1, D, M}, {L.w2, M, D}};
      for (int s = 0; s < 4; ++s) weight_(static_cast<std::size_t>(4 * l + s), shapes[s][0], shapes[s][1], shapes[s][2], q);
    }
    weight_(static_cast<std::size_t>(4 * cfg.layers), lay.wout, D, V, q);
  }

  /// Forward pass over B sequences of cfg.ctx tokens; targets[n] is the
  /// next token of inputs[n]. Returns the mean cross-entropy (nats) and
  /// leaves the logits in `logits`. quantize_weights must have run.
  double forward(const std::uint16_t* inputs, const std::uint16_t* targets, int batch, const quant_ctx& q) {
    B_ = static_cast<std::size_t>(batch);
    const std::size_t T = cfg.ctx, D = cfg.dim, H = cfg.heads, dh = D / H, M = cfg.mlp, V = cfg.vocab;
    const std::size_t N = B_ * T;
    inputs_.assign(inputs, inputs + N);
    targets_.assign(targets, targets + N);

    x_.resize(N * D);
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t d = 0; d < D; ++d)
        x_[n * D + d] = params[lay.tok + inputs[n] * D + d] + params[lay.pos + (n % T) * D + d];

    const R scale = R(1) / std::sqrt(static_cast<R>(dh));
    for (int l = 0; l < cfg.layers; ++l) {
      const auto& L = lay.layers[static_cast<std::size_t>(l)];
      auto& c = cache_[static_cast<std::size_t>(l)];
      const unsigned id = 64u * static_cast<unsigned>(l + 1);
      c.x_in = x_;
      layer_norm_fwd(c.x_in.data(), N, D, &params[L.ln1_g], &params[L.ln1_b], c.h1, c.mean1, c.rstd1);
      prepare(c.h1_op, c.h1.data(), N, D, role::activation, id + 0, q);
      c.qkv.resize(N * 3 * D);
      gemm(N, 3 * D, D, c.h1_op.along_rows(), D, wq_[widx(l, 0)].down_columns(), 3 * D, c.qkv.data(), 3 * D);

      // Heads: q, k, v as [B, H, T, dh], each (b, h) a contiguous T x dh matrix.
      c.q.resize(N * D), c.k.resize(N * D), c.v.resize(N * D);
      for (std::size_t b = 0; b < B_; ++b)
        for (std::size_t h = 0; h < H; ++h)
          for (std::size_t t = 0; t < T; ++t)
            for (std::size_t d = 0; d < dh; ++d) {
              const std::size_t src = (b * T + t) * 3 * D + h * dh + d, dst = ((b * H + h) * T + t) * dh + d;
              c.q[dst] = c.qkv[src];
              c.k[dst] = c.qkv[src + D];
              c.v[dst] = c.qkv[src + 2 * D];
            }
      const std::size_t BH = B_ * H;
      prepare(c.q_op, c.q.data(), BH * T, dh, role::activation, id + 1, q);
      prepare(c.k_op, c.k.data(), BH * T, dh, role::activation, id + 2, q);
      prepare(c.v_op, c.v.data(), BH * T, dh, role::activation, id + 3, q);

      c.p.resize(BH * T * T);
      tmp_.resize(dh * T);
      for (std::size_t bh = 0; bh < BH; ++bh) {
        transpose(c.k_op.along_rows() + bh * T * dh, T, dh, tmp_.data());  // K^T: dh x T
        R* S = &c.p[bh * T * T];
        gemm(T, T, dh, c.q_op.along_rows() + bh * T * dh, dh, tmp_.data(), T, S, T);
        for (std::size_t i = 0; i < T; ++i) {  // causal softmax, row i sees keys 0..i
          R* row = S + i * T;
          R mx = row[0] * scale;
          for (std::size_t j = 0; j <= i; ++j) mx = row[j] * scale > mx ? row[j] * scale : mx;
          R sum = 0;
          for (std::size_t j = 0; j <= i; ++j) {
            row[j] = std::exp(row[j] * scale - mx);
            sum += row[j];
          }
          const R inv = R(1) / sum;
          for (std::size_t j = 0; j <= i; ++j) row[j] *= inv;
          for (std::size_t j = i + 1; j < T; ++j) row[j] = 0;
        }
      }
      prepare(c.p_op, c.p.data(), BH * T, T, role::activation, id + 4, q);
      o_.resize(N * D);
      for (std::size_t bh = 0; bh < BH; ++bh)
        gemm(T, dh, T, c.p_op.along_rows() + bh * T * T, T, c.v_op.down_columns() + bh * T * dh, dh, &o_[bh * T * dh],
             dh);
      c.att.resize(N * D);
      for (std::size_t b = 0; b < B_; ++b)
        for (std::size_t h = 0; h < H; ++h)
          for (std::size_t t = 0; t < T; ++t)
            for (std::size_t d = 0; d < dh; ++d) c.att[(b * T + t) * D + h * dh + d] = o_[((b * H + h) * T + t) * dh + d];
      prepare(c.att_op, c.att.data(), N, D, role::activation, id + 5, q);
      tmp_.resize(N * D);
      gemm(N, D, D, c.att_op.along_rows(), D, wq_[widx(l, 1)].down_columns(), D, tmp_.data(), D);
      for (std::size_t i = 0; i < N * D; ++i) x_[i] += tmp_[i];

      c.x_mid = x_;
      layer_norm_fwd(c.x_mid.data(), N, D, &params[L.ln2_g], &params[L.ln2_b], c.h2, c.mean2, c.rstd2);
      prepare(c.h2_op, c.h2.data(), N, D, role::activation, id + 6, q);
      c.u.resize(N * M);
      gemm(N, M, D, c.h2_op.along_rows(), D, wq_[widx(l, 2)].down_columns(), M, c.u.data(), M);
      c.gl.resize(N * M);
      c.gs.resize(N * M);
      for (std::size_t i = 0; i < N * M; ++i) c.gl[i] = gelu(c.u[i], c.gs[i]);
      prepare(c.gl_op, c.gl.data(), N, M, role::activation, id + 7, q);
      gemm(N, D, M, c.gl_op.along_rows(), M, wq_[widx(l, 3)].down_columns(), D, tmp_.data(), D);
      for (std::size_t i = 0; i < N * D; ++i) x_[i] += tmp_[i];
    }

    xf_ = x_;
    layer_norm_fwd(xf_.data(), N, D, &params[lay.lnf_g], &params[lay.lnf_b], hf_, meanf_, rstdf_);
    prepare(hf_op_, hf_.data(), N, D, role::activation, 1, q);
    logits.resize(N * V);
    gemm(N, V, D, hf_op_.along_rows(), D, wq_[widx(cfg.layers, 0)].down_columns(), V, logits.data(), V);

    // Mean cross-entropy, summed in double in a fixed order.
    double total = 0;
    probs_.resize(N * V);
    for (std::size_t n = 0; n < N; ++n) {
      const R* z = &logits[n * V];
      R mx = z[0];
      for (std::size_t j = 1; j < V; ++j) mx = z[j] > mx ? z[j] : mx;
      R sum = 0;
      for (std::size_t j = 0; j < V; ++j) sum += std::exp(z[j] - mx);
      const R lse = mx + std::log(sum);
      for (std::size_t j = 0; j < V; ++j) probs_[n * V + j] = std::exp(z[j] - lse);
      total += static_cast<double>(lse - z[targets[n]]);
    }
    return total / static_cast<double>(N);
  }

  /// Gradients of the last forward pass's mean loss into `grads`
  /// (overwritten).
  void backward(const quant_ctx& q) {
    const std::size_t T = cfg.ctx, D = cfg.dim, H = cfg.heads, dh = D / H, M = cfg.mlp, V = cfg.vocab;
    const std::size_t N = B_ * T, BH = B_ * H;
    std::fill(grads.begin(), grads.end(), R(0));

    dlogits_.resize(N * V);
    const R invN = R(1) / static_cast<R>(N);
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t j = 0; j < V; ++j)
        dlogits_[n * V + j] = (probs_[n * V + j] - (j == targets_[n] ? R(1) : R(0))) * invN;

    dx_.assign(N * D, R(0));
    dtmp_.resize(N * D);
    linear_bwd(hf_op_, dlogits_.data(), N, D, V, widx(cfg.layers, 0), lay.wout, 2, q, dtmp_.data());
    layer_norm_bwd(xf_.data(), N, D, &params[lay.lnf_g], meanf_, rstdf_, dtmp_.data(), dx_.data(), &grads[lay.lnf_g],
                   &grads[lay.lnf_b]);

    const R scale = R(1) / std::sqrt(static_cast<R>(dh));
    for (int l = cfg.layers - 1; l >= 0; --l) {
      const auto& L = lay.layers[static_cast<std::size_t>(l)];
      auto& c = cache_[static_cast<std::size_t>(l)];
      const unsigned id = 64u * static_cast<unsigned>(l + 1);

      // MLP: x = x_mid + W2 gelu(W1 ln2(x_mid))
      dgl_.resize(N * M);
      linear_bwd(c.gl_op, dx_.data(), N, M, D, widx(l, 3), L.w2, id + 16, q, dgl_.data());
      for (std::size_t i = 0; i < N * M; ++i) dgl_[i] *= gelu_grad(c.u[i], c.gs[i]);
      linear_bwd(c.h2_op, dgl_.data(), N, D, M, widx(l, 2), L.w1, id + 17, q, dtmp_.data());
      layer_norm_bwd(c.x_mid.data(), N, D, &params[L.ln2_g], c.mean2, c.rstd2, dtmp_.data(), dx_.data(),
                     &grads[L.ln2_g], &grads[L.ln2_b]);

      // Attention: x_mid = x_in + Wo attn(ln1(x_in))
      datt_.resize(N * D);
      linear_bwd(c.att_op, dx_.data(), N, D, D, widx(l, 1), L.wo, id + 18, q, datt_.data());
      do_.resize(N * D);
      for (std::size_t b = 0; b < B_; ++b)
        for (std::size_t h = 0; h < H; ++h)
          for (std::size_t t = 0; t < T; ++t)
            for (std::size_t d = 0; d < dh; ++d)
              do_[((b * H + h) * T + t) * dh + d] = datt_[(b * T + t) * D + h * dh + d];
      prepare(do_op_, do_.data(), BH * T, dh, role::grad_output, id + 19, q);

      dp_.resize(BH * T * T);
      dv_.resize(N * D);
      tmp_.resize(dh * T);
      for (std::size_t bh = 0; bh < BH; ++bh) {
        transpose(c.v_op.along_rows() + bh * T * dh, T, dh, tmp_.data());  // V^T: dh x T
        gemm(T, T, dh, do_op_.along_rows() + bh * T * dh, dh, tmp_.data(), T, &dp_[bh * T * T], T);
        gemm_tn(T, dh, T, c.p_op.down_columns() + bh * T * T, T, do_op_.down_columns() + bh * T * dh, dh,
                &dv_[bh * T * dh], dh);  // P^T dO
      }
      // Softmax backward on the unquantized P: dS = P (dP - rowsum(dP P)) * scale.
      for (std::size_t r = 0; r < BH * T; ++r) {
        const std::size_t i = r % T;
        const R* P = &c.p[r * T];
        R* G = &dp_[r * T];
        R dot = 0;
        for (std::size_t j = 0; j <= i; ++j) dot += G[j] * P[j];
        for (std::size_t j = 0; j <= i; ++j) G[j] = P[j] * (G[j] - dot) * scale;
        for (std::size_t j = i + 1; j < T; ++j) G[j] = 0;
      }
      prepare(ds_op_, dp_.data(), BH * T, T, role::grad_output, id + 20, q);
      dq_.resize(N * D);
      dk_.resize(N * D);
      for (std::size_t bh = 0; bh < BH; ++bh) {
        gemm(T, dh, T, ds_op_.along_rows() + bh * T * T, T, c.k_op.down_columns() + bh * T * dh, dh,
             &dq_[bh * T * dh], dh);
        gemm_tn(T, dh, T, ds_op_.down_columns() + bh * T * T, T, c.q_op.down_columns() + bh * T * dh, dh,
                &dk_[bh * T * dh], dh);  // dS^T Q
      }
      dqkv_.resize(N * 3 * D);
      for (std::size_t b = 0; b < B_; ++b)
        for (std::size_t h = 0; h < H; ++h)
          for (std::size_t t = 0; t < T; ++t)
            for (std::size_t d = 0; d < dh; ++d) {
              const std::size_t dst = (b * T + t) * 3 * D + h * dh + d, src = ((b * H + h) * T + t) * dh + d;
              dqkv_[dst] = dq_[src];
              dqkv_[dst + D] = dk_[src];
              dqkv_[dst + 2 * D] = dv_[src];
            }
      linear_bwd(c.h1_op, dqkv_.data(), N, D, 3 * D, widx(l, 0), L.wqkv, id + 21, q, dtmp_.data());
      layer_norm_bwd(c.x_in.data(), N, D, &params[L.ln1_g], c.mean1, c.rstd1, dtmp_.data(), dx_.data(),
                     &grads[L.ln1_g], &grads[L.ln1_b]);
    }

    // Embeddings (in token order, so repeated tokens sum in a fixed order).
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t d = 0; d < D; ++d) {
        grads[lay.tok + inputs_[n] * D + d] += dx_[n * D + d];
        grads[lay.pos + (n % T) * D + d] += dx_[n * D + d];
      }
  }

 private:
  struct layer_cache {
    std::vector<R> x_in, h1, mean1, rstd1, qkv, q, k, v, p, att, x_mid, h2, mean2, rstd2, u, gl, gs;
    operand<R> h1_op, q_op, k_op, v_op, p_op, att_op, h2_op, gl_op;
  };

  std::size_t B_ = 0;
  std::vector<std::uint16_t> inputs_, targets_;
  std::vector<layer_cache> cache_;
  std::vector<operand<R>> wq_;     ///< quantized weights (forward copy: blocks down the columns)
  std::vector<std::vector<R>> wt_;  ///< W^T from the copy blocked along W's rows (for dx = dy W^T)
  std::vector<R> x_, o_, tmp_, xf_, hf_, meanf_, rstdf_, probs_;
  std::vector<R> dlogits_, dx_, dtmp_, dgl_, datt_, do_, dp_, dq_, dk_, dv_, dqkv_;
  operand<R> hf_op_, do_op_, ds_op_, dy_op_;

  static std::size_t widx(int layer, int which) { return static_cast<std::size_t>(4 * layer + which); }

  void weight_(std::size_t slot, std::size_t at, std::size_t rows, std::size_t cols, const quant_ctx& q) {
    prepare(wq_[slot], &params[at], rows, cols, role::weight, 8u + static_cast<unsigned>(slot), q,
            block_axis::down_columns);
    wt_[slot].resize(rows * cols);
    transpose(wq_[slot].along_rows(), rows, cols, wt_[slot].data());
  }

  /// Backward of y = x W (x: N x Din prepared as xop, W at params[w_at]):
  /// dx = dy W^T into dx (overwritten), dW = x^T dy into grads.
  void linear_bwd(const operand<R>& xop, const R* dy, std::size_t N, std::size_t Din, std::size_t Dout,
                  std::size_t slot, std::size_t w_at, unsigned dy_id, const quant_ctx& q, R* dx) {
    prepare(dy_op_, dy, N, Dout, role::grad_output, dy_id, q);
    gemm(N, Din, Dout, dy_op_.along_rows(), Dout, wt_[slot].data(), Din, dx, Din);
    gemm_tn(Din, Dout, N, xop.down_columns(), Din, dy_op_.down_columns(), Dout, &grads[w_at], Dout);
  }

  // GELU, tanh form: 0.5 u (1 + tanh(z)), z = c (u + 0.044715 u^3), written
  // with 0.5 (1 + tanh(z)) = sigmoid(2z) = s, one exp per element; s is kept
  // for the backward pass: d/du = s + u * 2 s (1 - s) * c (1 + 3 * 0.044715 u^2).
  static R gelu(R u, R& s) {
    const R c = static_cast<R>(0.7978845608028654);  // sqrt(2 / pi)
    s = R(1) / (R(1) + std::exp(R(-2) * c * (u + R(0.044715) * u * u * u)));
    return u * s;
  }
  static R gelu_grad(R u, R s) {
    const R c = static_cast<R>(0.7978845608028654);
    return s + u * R(2) * s * (R(1) - s) * c * (R(1) + R(3 * 0.044715) * u * u);
  }

  static void layer_norm_fwd(const R* x, std::size_t N, std::size_t D, const R* g, const R* b, std::vector<R>& y,
                             std::vector<R>& mean, std::vector<R>& rstd) {
    y.resize(N * D);
    mean.resize(N);
    rstd.resize(N);
    for (std::size_t n = 0; n < N; ++n) {
      const R* row = x + n * D;
      R m = 0;
      for (std::size_t d = 0; d < D; ++d) m += row[d];
      m /= static_cast<R>(D);
      R v = 0;
      for (std::size_t d = 0; d < D; ++d) v += (row[d] - m) * (row[d] - m);
      v /= static_cast<R>(D);
      const R rs = R(1) / std::sqrt(v + R(1e-5));
      mean[n] = m;
      rstd[n] = rs;
      for (std::size_t d = 0; d < D; ++d) y[n * D + d] = (row[d] - m) * rs * g[d] + b[d];
    }
  }

  /// dx += LN backward of dy; dg, db accumulate.
  static void layer_norm_bwd(const R* x, std::size_t N, std::size_t D, const R* g, const std::vector<R>& mean,
                             const std::vector<R>& rstd, const R* dy, R* dx, R* dg, R* db) {
    for (std::size_t n = 0; n < N; ++n) {
      const R* row = x + n * D;
      const R* gy = dy + n * D;
      R s1 = 0, s2 = 0;
      for (std::size_t d = 0; d < D; ++d) {
        const R xhat = (row[d] - mean[n]) * rstd[n];
        const R dxhat = gy[d] * g[d];
        s1 += dxhat;
        s2 += dxhat * xhat;
        dg[d] += gy[d] * xhat;
        db[d] += gy[d];
      }
      s1 /= static_cast<R>(D);
      s2 /= static_cast<R>(D);
      for (std::size_t d = 0; d < D; ++d) {
        const R xhat = (row[d] - mean[n]) * rstd[n];
        dx[n * D + d] += rstd[n] * (gy[d] * g[d] - s1 - xhat * s2);
      }
    }
  }
};

}  // namespace sweep

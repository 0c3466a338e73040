#!/usr/bin/env python3
"""GaussWS's cost on Llama-2-7B-shaped linear layers, as a share of the
layer's own forward + backward time, on the device the tensors are on (CUDA
when available, else the CPU), in one run.

    python bench/python/bench_gaussws_layer.py [--tokens 2048] [--dtype bfloat16] [--repeat 5] [--device cpu]

For each weight shape (out × in: 4096×4096, the attention projections;
11008×4096 and 4096×11008, the MLP) it times, with float32 master weights:
  * plain: y = x·Wᵀ with W cast to the compute dtype, forward and backward
    (dx and dW), what training without pqt does;
  * gaussws: pqt.gaussws(W, bits, out_dtype=bfloat16) alone, the sampling
    GaussWS adds once per step (an addition and a cast, Philox noise);
  * QuantLinear: the same layer as a pqt.torch.nn.QuantLinear under the
    gaussws_b<bits> weight recipe (inputs and gradients left as they are),
    forward and backward.
and prints gaussws / plain and (QuantLinear - plain) / plain as percentages.
The paper's 1.40% is of a whole training step's tokens/s on an A100; a layer's
GEMMs are most of a step, so the layer figure is the comparable one, and on
the CPU (no tensor cores) the GEMMs are slower and the share smaller.
"""

import argparse
import time

import torch

import pqt.torch  # noqa: F401
from pqt.torch import nn as qnn


def best(fn, repeat, sync):
    fn()
    sync()
    t = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        sync()
        t.append(time.perf_counter() - t0)
    return min(t)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokens", type=int, default=2048)
    ap.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"], help="the GEMMs' dtype")
    ap.add_argument("--bits", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a = ap.parse_args()
    dev, dt = torch.device(a.device), getattr(torch, a.dtype)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"{name}; {a.tokens} tokens, {a.dtype} GEMMs, float32 master weights, GaussWS b{a.bits} with a bf16 carrier; "
          f"best of {a.repeat}")
    print(f"{'W (out x in)':<14}{'plain ms':>10}{'gaussws ms':>12}{'QuantLinear ms':>16}{'gaussws %':>11}{'layer %':>9}")
    recipe = qnn.Recipe(weight=qnn.GaussWS(a.bits))
    for out_f, in_f in ((4096, 4096), (11008, 4096), (4096, 11008)):
        w = torch.randn(out_f, in_f, device=dev) * 0.02
        x = torch.randn(a.tokens, in_f, device=dev, dtype=dt, requires_grad=True)
        dy = torch.randn(a.tokens, out_f, device=dev, dtype=dt)
        wp = torch.nn.Parameter(w.clone())

        def plain():
            x.grad = wp.grad = None
            torch.nn.functional.linear(x, wp.to(dt)).backward(dy)

        lin = torch.nn.Linear(in_f, out_f, bias=False, device=dev)
        lin.weight = torch.nn.Parameter(w.clone())
        q = qnn.QuantLinear.from_linear(lin, recipe, name="bench")

        def quant():
            x.grad = lin.weight.grad = None
            q(x.float() if dt == torch.float32 else x).backward(dy)

        def noise():
            pqt.torch.gaussws(w, a.bits, out_dtype=torch.bfloat16, seed=1, offset=2)

        if dt != torch.float32:
            # the QuantLinear GEMMs run in the input's dtype: the noisy weight
            # (bf16 values) is cast to it exactly, as the plain cast above
            def quant():  # noqa: F811
                x.grad = lin.weight.grad = None
                with torch.autocast(dev.type, dtype=dt):
                    y = q(x)
                y.backward(dy)

        tp, tg, tq = (best(f, a.repeat, sync) for f in (plain, noise, quant))
        print(f"{out_f}x{in_f:<9}{tp * 1e3:>10.1f}{tg * 1e3:>12.2f}{tq * 1e3:>16.1f}{100 * tg / tp:>10.2f}%"
              f"{100 * (tq - tp) / tp:>8.2f}%")


if __name__ == "__main__":
    main()

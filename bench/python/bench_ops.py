#!/usr/bin/env python3
"""Throughput of pqt's Python/PyTorch ops against what a user would use
instead, on the same CPU tensors in one run, as ratios to a copy of the same
bytes (x.clone()).

    python bench/python/bench_ops.py [--n-log2 24] [--threads 1] [--repeat 7]

Prints one table: seconds per call (the best of --repeat), elements per
second, and the rate relative to x.clone() (higher is better; 1.0 = as fast
as copying the input). The rows the issue's targets name are checked at the
end (pqt fake_quant vs torch's cast-and-back, MXFP8 vs torchao, quantize vs
torch's cast, the Python layer vs the direct binding call, the per-call
overhead on a 1-element array).
"""

import argparse
import os
import platform
import sys
import time

import ml_dtypes
import numpy as np


def best(fn, repeat, inner=1):
    fn()  # warm (allocations, caches)
    t = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        t.append((time.perf_counter() - t0) / inner)
    return min(t)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-log2", type=int, default=24)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=7)
    a = ap.parse_args()

    import torch

    import pqt
    import pqt.torch  # noqa: F401
    from pqt import _core, _pqt

    torch.set_num_threads(a.threads)
    n = 1 << a.n_log2
    rng = np.random.default_rng(1)
    xn = rng.standard_normal(n).astype(np.float32)
    xt = torch.from_numpy(xn)
    th = a.threads
    rows = []

    def row(name, fn, note=""):
        s = best(fn, a.repeat)
        rows.append((name, s, note))
        return s

    copy = row("x.clone() (copy ceiling)", lambda: xt.clone())
    row("numpy x.copy()", lambda: xn.copy())
    t_cast = row("torch x.to(float8_e4m3fn)", lambda: xt.to(torch.float8_e4m3fn))
    t_back = row("torch x.to(float8_e4m3fn).float()", lambda: xt.to(torch.float8_e4m3fn).float())
    row("ml_dtypes astype(float8_e4m3fn)", lambda: xn.astype(ml_dtypes.float8_e4m3fn))
    row("ml_dtypes astype(float8_e4m3fn).astype(f32)", lambda: xn.astype(ml_dtypes.float8_e4m3fn).astype(np.float32))
    t_ao = None
    try:
        from torchao.prototype.mx_formats.mx_tensor import to_dtype, to_mx

        def ao():
            s, d = to_mx(xt, torch.float8_e4m3fn, 32)
            return to_dtype(d, s, torch.float8_e4m3fn, 32, torch.float32)

        t_ao = best(ao, max(2, a.repeat // 3))
        rows.append(("torchao MXFP8 to_mx + to_dtype", t_ao, ""))
    except ImportError as e:
        print(f"(torchao not importable: {e}; its row is skipped)", file=sys.stderr)

    t_fq_none = row("pqt.fake_quant e4m3 (torch)", lambda: pqt.fake_quant(xt, fmt="e4m3", threads=th))
    row("pqt.fake_quant e4m3 (numpy)", lambda: pqt.fake_quant(xn, fmt="e4m3", threads=th))
    t_fq_mx = row("pqt.fake_quant MXFP8 e4m3 (torch)",
                  lambda: pqt.fake_quant(xt, fmt="e4m3", scaling="mx", threads=th))
    row("pqt.fake_quant MXFP4 (torch)", lambda: pqt.fake_quant(xt, fmt="e2m1", scaling="mx", threads=th))
    row("pqt.fake_quant NVFP4 (torch)", lambda: pqt.fake_quant(xt, fmt="e2m1", scaling="nvfp4", threads=th))
    row("pqt.fake_quant MXFP8 stochastic (torch)",
        lambda: pqt.fake_quant(xt, fmt="e4m3", scaling="mx", round="stochastic", seed=1, threads=th))
    t_q = row("pqt.quantize e4m3 codes (torch)", lambda: pqt.quantize(xt, fmt="e4m3", threads=th))
    row("pqt.gaussws b=9 -> bf16 (torch)", lambda: pqt.gaussws(xt, bits=9, seed=1, threads=th))

    # The C++ routine through the thinnest adapter (the compiled module's
    # function on a config made beforehand), with its output allocated as
    # pqt allocates it: the difference to the next row is pqt's Python layer
    # (options, cache lookups, dtype and shape handling). The preallocated row
    # shows what the fresh output's first touch costs (page faults).
    out = np.empty_like(xn)
    cfg = _core.config(_core.quant_args("e4m3", "mx", threads=th))
    row("C++ fake_quant MXFP8, preallocated output", lambda: _pqt.fake_quant(xn, out, 0, cfg, n, 0))
    t_direct = row("C++ fake_quant MXFP8, fresh output", lambda: _pqt.fake_quant(xn, np.empty_like(xn), 0, cfg, n, 0))
    t_layer = row("pqt.fake_quant MXFP8 (numpy)", lambda: pqt.fake_quant(xn, fmt="e4m3", scaling="mx", threads=th))

    one_n = np.ones(1, dtype=np.float32)
    one_t = torch.ones(1)
    us_n = best(lambda: pqt.fake_quant(one_n, fmt="e4m3"), a.repeat, inner=2000) * 1e6
    us_t = best(lambda: pqt.fake_quant(one_t, fmt="e4m3"), a.repeat, inner=2000) * 1e6
    op_args = pqt.torch.op_args("e4m3")
    us_op = best(lambda: torch.ops.pqt.fake_quant(one_t, *op_args), a.repeat, inner=2000) * 1e6
    us_cast = best(lambda: one_t.to(torch.float8_e4m3fn).float(), a.repeat, inner=2000) * 1e6

    print(f"# n = 2^{a.n_log2} float32 on the CPU, {a.threads} thread(s); {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; torch {torch.__version__}, pqt {pqt.__version__}; best of {a.repeat}")
    print(f"| {'operation':<52} | {'ms':>8} | {'G elem/s':>8} | {'vs clone':>8} |")
    print(f"|{'-' * 54}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    for name, s, _ in rows:
        print(f"| {name:<52} | {s * 1e3:8.2f} | {n / s / 1e9:8.3f} | {copy / s:8.3f} |")
    print()
    print(f"per call, 1-element tensor: pqt.fake_quant numpy {us_n:.1f} us, torch {us_t:.1f} us "
          f"(torch.ops.pqt.fake_quant {us_op:.1f} us); torch cast and back {us_cast:.1f} us")
    print()
    checks = [
        ("pqt fake_quant e4m3 >= 5x torch cast-and-back", t_back / t_fq_none, 5.0),
        ("pqt MXFP8 fake_quant >= 10x torchao MXFP8", (t_ao / t_fq_mx) if t_ao else float("nan"), 10.0),
        ("pqt quantize e4m3 >= torch cast to codes", t_cast / t_q, 1.0),
        ("Python layer within 5% of the C++ call", t_direct / t_layer, 0.95),
        ("1-element call overhead <= 20 us (torch)", 20.0 / us_t, 1.0),
    ]
    for name, ratio, need in checks:
        print(f"{'met ' if ratio >= need else 'MISS'} {name}: {ratio:.2f} (need >= {need})")


if __name__ == "__main__":
    main()

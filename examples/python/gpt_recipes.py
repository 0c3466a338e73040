"""A small character-level GPT trained under a list of pqt recipes, from the
same initial weights and the same batches: prints a table (final train and
validation loss, ms per step, step time against float32) and writes the loss
curves (curves.csv, curves.svg) to --out.

The text ships with Debian (the GPL, /usr/share/common-licenses/GPL-3) or is
any file given with --text; nothing is downloaded.

    python examples/python/gpt_recipes.py --quick            # CI: 6 recipes, < 60 s on 2 cores
    python examples/python/gpt_recipes.py --recipes fp32 bf16 mxfp8 gaussws_b6 --steps 600
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F

import pqt.torch  # noqa: F401
from pqt.torch import nn as qnn

DEFAULT_TEXT = "/usr/share/common-licenses/GPL-3"


class Block(torch.nn.Module):
    def __init__(self, d: int, heads: int, attn_recipe, step: qnn.Step, name: str):
        super().__init__()
        self.heads = heads
        # the two attention products through pqt when asked (--attention), else float32
        self.qk = qnn.QuantMatmul(attn_recipe, step, f"{name}.qk") if attn_recipe else None
        self.pv = qnn.QuantMatmul(attn_recipe, step, f"{name}.pv") if attn_recipe else None
        self.ln1, self.ln2 = torch.nn.LayerNorm(d), torch.nn.LayerNorm(d)
        self.qkv, self.proj = torch.nn.Linear(d, 3 * d), torch.nn.Linear(d, d)
        self.up, self.down = torch.nn.Linear(d, 4 * d), torch.nn.Linear(4 * d, d)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in self.qkv(x).split(d, dim=2))
        s = self.qk(q, k) if self.qk else q @ k.transpose(-2, -1)
        s = s / math.sqrt(d // self.heads)
        s = s.masked_fill(torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1), float("-inf"))
        p = s.softmax(dim=-1)
        vt = v.transpose(-2, -1)  # p @ v = p @ (vᵀ)ᵀ: v in the weight's place
        o = self.pv(p, vt) if self.pv else p @ v
        return self.proj(o.transpose(1, 2).reshape(b, t, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.ln1(x))
        return x + self.down(F.gelu(self.up(self.ln2(x))))


class GPT(torch.nn.Module):
    def __init__(self, vocab: int, d: int, heads: int, layers: int, ctx: int, attn_recipe, step: qnn.Step):
        super().__init__()
        self.tok, self.pos = torch.nn.Embedding(vocab, d), torch.nn.Embedding(ctx, d)
        self.blocks = torch.nn.ModuleList(Block(d, heads, attn_recipe, step, f"blocks.{i}") for i in range(layers))
        self.ln, self.lm_head = torch.nn.LayerNorm(d), torch.nn.Linear(d, vocab, bias=False)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device))
        for blk in self.blocks:
            x = blk(x)
        return self.lm_head(self.ln(x))


BASELINES = ("fp32", "bf16")  # torch alone: float32, and bf16 autocast (what a user would do without pqt)


def recipe_of(name: str):
    return None if name in BASELINES else qnn.RECIPES[name]


def train(name: str, data, val, args, vocab: int):
    recipe = recipe_of(name)
    step = qnn.Step()
    torch.manual_seed(args.seed)  # the same initial weights for every recipe
    model = GPT(vocab, args.d, args.heads, args.layers, args.ctx, recipe if args.attention else None, step)
    if recipe is not None:
        qnn.convert(model, recipe, step=step, exclude=("lm_head",))
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(args.seed + 1)  # the same batches for every recipe
    curve, t0 = [], None
    for s in range(args.steps):
        if s == 1:
            t0 = time.perf_counter()  # step 0 pays one-time costs
        i = torch.randint(0, data.numel() - args.ctx - 1, (args.batch,), generator=gen)
        x = torch.stack([data[j:j + args.ctx] for j in i.tolist()])
        y = torch.stack([data[j + 1:j + args.ctx + 1] for j in i.tolist()])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=name == "bf16"):
            loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step.advance()
        curve.append(loss.item())
    ms = (time.perf_counter() - t0) * 1e3 / max(args.steps - 1, 1)
    with torch.no_grad():
        n = (val.numel() - 1) // args.ctx * args.ctx
        vx, vy = val[:n].view(-1, args.ctx), val[1:n + 1].view(-1, args.ctx)
        vloss = F.cross_entropy(model(vx).flatten(0, 1), vy.flatten()).item()
    return curve, vloss, ms


def write_curves(out: Path, curves: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    names = list(curves)
    with open(out / "curves.csv", "w") as f:
        f.write("step," + ",".join(names) + "\n")
        for s in range(len(curves[names[0]])):
            f.write(f"{s}," + ",".join(f"{curves[n][s]:.6f}" for n in names) + "\n")
    w, h, pad = 720, 420, 40
    lo = min(min(c) for c in curves.values())
    hi = max(max(c) for c in curves.values())
    steps = max(len(c) for c in curves.values())
    colors = ["#000", "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
    lines = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
             f'<text x="{pad}" y="20">training loss (nats/char) against step; {lo:.3f} to {hi:.3f}</text>']
    for k, (n, c) in enumerate(curves.items()):
        pts = " ".join(f"{pad + (w - 2 * pad) * s / max(steps - 1, 1):.1f},"
                       f"{h - pad - (h - 2 * pad) * (v - lo) / max(hi - lo, 1e-9):.1f}" for s, v in enumerate(c))
        col = colors[k % len(colors)]
        lines.append(f'<polyline fill="none" stroke="{col}" stroke-width="1" points="{pts}"/>')
        lines.append(f'<text x="{w - pad - 120}" y="{pad + 14 * k}" fill="{col}">{n}</text>')
    lines.append("</svg>")
    (out / "curves.svg").write_text("\n".join(lines) + "\n")


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--recipes", nargs="+", default=["fp32", "bf16", "e8m7_rne", "e8m3_sr", "e5m7_rne", "fp8_tensor",
                                                    "fp8_delayed", "mxfp8", "mxfp6", "mxfp4", "nvfp4", "gaussws_b6",
                                                    "diffq_b6"],
                   help="'fp32', 'bf16' (torch autocast) or names of pqt.torch.nn.RECIPES")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--quick", action="store_true", help="6 recipes, 100 steps, a smaller model (CI)")
    p.add_argument("--attention", action="store_true", help="quantize the attention products too")
    p.add_argument("--text", default=DEFAULT_TEXT)
    p.add_argument("--out", default="gpt_recipes_out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--ctx", type=int, default=64)
    p.add_argument("--d", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--layers", type=int, default=2)
    args = p.parse_args(argv)
    if args.quick:
        args.recipes = ["fp32", "e8m3_sr", "fp8_delayed", "mxfp8", "nvfp4", "gaussws_b6"]
        args.steps, args.d, args.batch = 100, 64, 8
    for n in args.recipes:
        if n not in BASELINES and n not in qnn.RECIPES:
            p.error(f"unknown recipe {n!r}; known: fp32, bf16, {', '.join(qnn.RECIPES)}")
    raw = Path(args.text).read_bytes()
    chars = sorted(set(raw))
    data = torch.tensor([chars.index(b) for b in raw], dtype=torch.long)
    cut = int(0.9 * data.numel())
    torch.set_num_threads(max(torch.get_num_threads(), 1))

    rows, curves = {}, {}
    for n in args.recipes:
        curve, vloss, ms = train(n, data[:cut], data[cut:], args, len(chars))
        curves[n], rows[n] = curve, (curve[-1], vloss, ms)
    base = rows[args.recipes[0]][2]
    print(f"{len(raw)} bytes of {args.text}, {len(chars)} symbols; {args.steps} steps, batch {args.batch} x {args.ctx}, "
          f"d {args.d}, {args.layers} layers; attention products {'quantized' if args.attention else 'float32'}")
    print(f"{'recipe':<14}{'train loss':>12}{'val loss':>10}{'ms/step':>10}{'vs ' + args.recipes[0]:>12}")
    for n, (tl, vl, ms) in rows.items():
        print(f"{n:<14}{tl:>12.4f}{vl:>10.4f}{ms:>10.1f}{ms / base:>11.2f}x")
    write_curves(Path(args.out), curves)
    print(f"curves: {Path(args.out) / 'curves.csv'}, {Path(args.out) / 'curves.svg'}")
    return rows


if __name__ == "__main__":
    main()

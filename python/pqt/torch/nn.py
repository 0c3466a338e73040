"""Quantized training modules: recipes as data, QuantLinear, quant_matmul, convert.

A recipe says what each GEMM operand becomes: the weight and the input in the
forward pass, the output gradient in the backward pass (so dx = dy·W and
dW = dyᵀ·x both see quantized operands). Each operand is an ``FQ`` (pqt's
fake_quant options), a ``GaussWS`` (pqt's gaussws options) or None (left as
it is). Random bits: each operand of each layer gets its own stream (the
Philox seed, from the recipe's seed, the layer's name and the operand), and
the step is the Philox offset, read from a ``Step`` the training loop
advances, so a run is reproducible and a resumed run continues the same noise.

    recipe = pqt.torch.nn.Recipe(weight=FQ("e4m3", "mx"), input=FQ("e4m3", "mx"), grad_output=FQ("e5m2", "mx"))
    step = pqt.torch.nn.Step()
    pqt.torch.nn.convert(model, recipe, step=step, exclude=("lm_head",))
    for batch in data: loss(model(batch)).backward(); opt.step(); step.advance()
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Iterable, Optional, Tuple, Union

import torch

from . import fake_quant, gaussws

__all__ = ["FQ", "GaussWS", "Recipe", "Step", "QuantLinear", "quant_matmul", "convert", "RECIPES"]


@dataclasses.dataclass(frozen=True)
class FQ:
    """An operand through pqt.fake_quant with these options (``options``: any
    further keyword, as (name, value) pairs, e.g. (("e8m0_rule", "rceil"),))."""

    fmt: str
    scaling: str = "none"
    round: str = "nearest_even"
    overflow: str = "saturate"
    options: Tuple[Tuple[str, object], ...] = ()

    def apply(self, t: torch.Tensor, seed: int, offset: int) -> torch.Tensor:
        kw = dict(self.options)
        if self.round in ("stochastic", "sr", "gaussian"):
            kw.update(seed=seed, offset=offset)
        return fake_quant(t.contiguous(), self.fmt, self.scaling, self.round, self.overflow, **kw)


@dataclasses.dataclass(frozen=True)
class GaussWS:
    """An operand (a weight) through pqt.gaussws: carrier(w + noise·Δ),
    rounded once, straight-through gradient."""

    bits: int = 9
    noise: str = "r"
    delta: str = "block"
    out_dtype: torch.dtype = torch.bfloat16
    options: Tuple[Tuple[str, object], ...] = ()

    def apply(self, t: torch.Tensor, seed: int, offset: int) -> torch.Tensor:
        y = gaussws(t.contiguous(), self.bits, self.noise, self.delta, out_dtype=self.out_dtype, seed=seed,
                    offset=offset, **dict(self.options))
        return y.to(t.dtype)


Operand = Optional[Union[FQ, GaussWS]]


@dataclasses.dataclass(frozen=True)
class Recipe:
    """What each operand of a quantized GEMM becomes (None: unchanged)."""

    weight: Operand = None
    input: Operand = None
    grad_output: Operand = None
    seed: int = 0


def _e8(m: int, rnd: str) -> FQ:
    return FQ(f"e8m{m}" if m != 7 else "bf16", "none", rnd)


RECIPES = {
    # BF16 / E8Mm with nearest-even, truncation and stochastic rounding on every operand
    **{f"e8m{m}_{tag}": Recipe(_e8(m, rnd), _e8(m, rnd), _e8(m, rnd))
       for m in (7, 6, 5, 4, 3) for tag, rnd in (("rne", "nearest_even"), ("trunc", "toward_zero"), ("sr", "stochastic"))},
    # exponent-reduced formats (FP8 paper): E5M7, E6M7
    **{f"e{e}m7_{tag}": Recipe(FQ(f"e{e}m7", "none", rnd), FQ(f"e{e}m7", "none", rnd), FQ(f"e{e}m7", "none", rnd))
       for e in (5, 6) for tag, rnd in (("rne", "nearest_even"), ("sr", "stochastic"))},
    # FP8: E4M3 forward, E5M2 backward, per-tensor current scaling
    "fp8_tensor": Recipe(FQ("e4m3", "tensor"), FQ("e4m3", "tensor"), FQ("e5m2", "tensor")),
    "mxfp8": Recipe(FQ("e4m3", "mx"), FQ("e4m3", "mx"), FQ("e5m2", "mx")),
    "mxfp6": Recipe(FQ("e3m2", "mx"), FQ("e3m2", "mx"), FQ("e3m2", "mx")),
    "mxfp4": Recipe(FQ("e2m1", "mx"), FQ("e2m1", "mx"), FQ("e2m1", "mx", "stochastic")),
    "nvfp4": Recipe(FQ("e2m1", "nvfp4"), FQ("e2m1", "nvfp4"), FQ("e2m1", "nvfp4", "stochastic")),
    # GaussWS on the weights (bf16 carrier) and the DiffQ uniform-noise baseline
    **{f"gaussws_b{b}": Recipe(weight=GaussWS(b)) for b in (4, 6, 9)},
    **{f"diffq_b{b}": Recipe(weight=GaussWS(b, "uniform")) for b in (4, 6, 9)},
}


class Step:
    """The Philox offset of every quantized operand: the training loop calls
    advance() once per step; state_dict / load_state_dict resume it."""

    def __init__(self, value: int = 0):
        self.value = int(value)

    def advance(self, n: int = 1) -> None:
        self.value += n

    def state_dict(self) -> dict:
        return {"value": self.value}

    def load_state_dict(self, d: dict) -> None:
        self.value = int(d["value"])


def stream_seed(seed: int, name: str, operand: str) -> int:
    """The Philox seed of one operand of one layer: a hash of (recipe seed,
    layer name, operand), below 2^63 (torch.compile's limit)."""
    h = hashlib.blake2b(f"{seed}/{name}/{operand}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "little") >> 1


def _q(spec: Operand, t: torch.Tensor, seed: int, offset: int) -> torch.Tensor:
    return t if spec is None else spec.apply(t, seed, offset)


class _QuantMatmul(torch.autograd.Function):
    """y = q_in(a) @ q_w(b)ᵀ; backward: g = q_grad(dy), da = g @ q_w(b), db = gᵀ @ q_in(a)
    (over a's flattened leading dimensions)."""

    @staticmethod
    def forward(ctx, a, b, recipe: Recipe, seeds: Tuple[int, int, int], offset: int):
        aq = _q(recipe.input, a, seeds[0], offset)
        bq = _q(recipe.weight, b, seeds[1], offset)
        ctx.save_for_backward(aq, bq)
        ctx.recipe, ctx.seed, ctx.offset = recipe, seeds[2], offset
        return aq @ bq.t()

    @staticmethod
    def backward(ctx, dy):
        aq, bq = ctx.saved_tensors
        g = _q(ctx.recipe.grad_output, dy, ctx.seed, ctx.offset)
        da = g @ bq
        db = g.reshape(-1, g.shape[-1]).t() @ aq.reshape(-1, aq.shape[-1])
        return da, db, None, None, None


def quant_matmul(a: torch.Tensor, b: torch.Tensor, recipe: Recipe, name: str = "matmul", offset: int = 0) -> torch.Tensor:
    """a @ bᵀ with the recipe's operands quantized (b in the weight's place),
    e.g. attention's q @ kᵀ; the output gradient quantized in backward."""
    seeds = tuple(stream_seed(recipe.seed, name, op) for op in ("input", "weight", "grad_output"))
    return _QuantMatmul.apply(a, b, recipe, seeds, offset)


class QuantLinear(torch.nn.Linear):
    """nn.Linear whose GEMMs see the recipe's quantized operands (forward:
    input and weight; backward: the output gradient, in both dx and dW). The
    bias is added in full precision. ``step`` gives the Philox offset."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, recipe: Recipe,
                 step: Optional[Step] = None, name: str = "", device=None, dtype=None):
        super().__init__(in_features, out_features, bias, device=device, dtype=dtype)
        self.recipe, self.step, self.qname = recipe, step or Step(), name

    @classmethod
    def from_linear(cls, lin: torch.nn.Linear, recipe: Recipe, step: Optional[Step] = None, name: str = "") -> "QuantLinear":
        q = cls.__new__(cls)
        torch.nn.Module.__init__(q)
        q.in_features, q.out_features = lin.in_features, lin.out_features
        q.weight, q.bias = lin.weight, lin.bias  # the same Parameters: optimizers and state dicts carry over
        q.recipe, q.step, q.qname = recipe, step or Step(), name
        return q

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = quant_matmul(x, self.weight, self.recipe, self.qname, self.step.value)
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, recipe={self.recipe}"


def convert(model: torch.nn.Module, recipe: Recipe, step: Optional[Step] = None,
            include: Optional[Iterable[str]] = None, exclude: Iterable[str] = ()) -> torch.nn.Module:
    """Replaces the nn.Linear layers of model in place by QuantLinear sharing
    their parameters. include: only layers whose name contains one of these;
    exclude: not those (e.g. the LM head). Embeddings stay as they are."""
    step = step or Step()
    include = None if include is None else tuple(include)
    exclude = tuple(exclude)
    for parent_name, parent in list(model.named_modules()):
        for child_name, child in list(parent.named_children()):
            full = f"{parent_name}.{child_name}" if parent_name else child_name
            if type(child) is not torch.nn.Linear:
                continue
            if include is not None and not any(s in full for s in include):
                continue
            if any(s in full for s in exclude):
                continue
            setattr(parent, child_name, QuantLinear.from_linear(child, recipe, step, full))
    return model

"""Quantized training modules: recipes as data, QuantLinear, QuantMatmul /
quant_matmul, convert (README "Training: pqt.torch.nn").

A recipe says what each GEMM operand becomes: the weight and the input in the
forward pass, the output gradient in the backward pass (so dx = dy·W and
dW = dyᵀ·x both see quantized operands). Block-scaled operands (MX, NVFP4,
tiles) are blocked along each GEMM's contraction axis, as MX hardware needs:
the forward copies of x and W along K serve y = x·Wᵀ; for the backward, W is
quantized again along N (for dx) and x and dy along the tokens (for dW).
Element-wise scalings (none, per-tensor, delayed) and GaussWS reuse the
forward copies. Each operand is an ``FQ`` (pqt's fake_quant options), a
``Delayed`` (per-tensor delayed scaling), a ``GaussWS`` (pqt's gaussws
options) or None (left as it is). Random bits: each operand of each layer
gets its own stream (the Philox seed, from the recipe's seed, the layer's
name and the operand); the step is the Philox offset and the micro-batch
moves the input and gradient streams, both read from a ``Step`` the training
loop advances, so a run is reproducible, a resumed run continues the same
noise, and data-parallel ranks get the bits of one process.

    recipe = pqt.torch.nn.Recipe(weight=FQ("e4m3", "mx"), input=FQ("e4m3", "mx"), grad_output=FQ("e5m2", "mx"))
    step = pqt.torch.nn.Step()
    pqt.torch.nn.convert(model, recipe, step=step, exclude=("lm_head",))
    for batch in data: loss(model(batch)).backward(); opt.step(); step.advance()
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from typing import Iterable, Optional, Tuple, Union

import torch

from .._core import format as _format
from . import _sharding, fake_quant, gaussws

__all__ = ["FQ", "Delayed", "GaussWS", "Recipe", "Step", "QuantLinear", "QuantMatmul", "quant_matmul", "convert",
           "gaussws_before_all_gather", "RECIPES"]


@dataclasses.dataclass(frozen=True)
class FQ:
    """An operand through pqt.fake_quant with these options (``options``: any
    further keyword, as (name, value) pairs, e.g. (("e8m0_rule", "rceil"),))."""

    fmt: str
    scaling: str = "none"
    round: str = "nearest_even"
    overflow: str = "saturate"
    options: Tuple[Tuple[str, object], ...] = ()

    @property
    def blocked(self) -> bool:
        """Whether the scaling groups elements along the last axis (MX, NVFP4, tiles)."""
        return self.scaling in ("mx", "block", "nvfp4", "tile")

    def apply(self, t: torch.Tensor, seed: int, offset: int, index_base: int = 0) -> torch.Tensor:
        kw = dict(self.options)
        if self.round in ("stochastic", "sr", "gaussian"):
            kw.update(seed=seed, offset=offset, index_base=index_base)
        return fake_quant(t.contiguous(), self.fmt, self.scaling, self.round, self.overflow, **kw)


@dataclasses.dataclass(frozen=True)
class Delayed:
    """An operand with per-tensor *delayed* scaling (Transformer Engine's
    DelayedScaling): x is rounded as fake_quant(x, fmt, "tensor",
    tensor_scale=s) with s from the amaxes of the last ``history`` calls
    ("max" or "most_recent" of the window, pqt::compute_scale's rule with
    ``margin`` and ``power_of_two``; 1 while the window is empty or holds a
    non-finite amax), then x's amax enters the window. The window and s are
    buffers of the layer (``amax_history_<operand>``, ``scale_<operand>``):
    state_dict saves them. Computed with torch ops on x's device, no host
    sync, bit for bit what the C++ tensor scaling gives for that s."""

    fmt: str = "e4m3"
    history: int = 16
    algo: str = "max"
    margin: int = 0
    power_of_two: bool = False
    round: str = "nearest_even"
    overflow: str = "saturate"

    blocked = False

    def __post_init__(self):
        if self.history < 1 or self.algo not in ("max", "most_recent"):
            raise ValueError(f"pqt.torch.nn.Delayed: history must be >= 1 and algo 'max' or 'most_recent', got "
                             f"{self.history}, {self.algo!r}")
        if isinstance(self.margin, bool) or not isinstance(self.margin, int) or abs(self.margin) > 1000:
            # the C++ rule takes other margins through exp2f, whose last bit is the libm's
            raise ValueError(f"pqt.torch.nn.Delayed: margin must be an integer in [-1000, 1000], got {self.margin!r}")
        object.__setattr__(self, "_max", float(_format(self.fmt).max))  # validates fmt
        object.__setattr__(self, "_fq", FQ(self.fmt, "none", self.round, self.overflow))

    def state(self, device=None) -> Tuple[torch.Tensor, torch.Tensor]:
        """A fresh (amax window, scale): zeros and 1."""
        return torch.zeros(self.history, device=device), torch.ones((), device=device)

    def scale_of(self, amax: torch.Tensor, previous: torch.Tensor) -> torch.Tensor:
        """pqt::compute_scale in torch ops: target = float(max·2^-margin);
        s = target / amax rounded to nearest, then one ulp toward zero if
        amax·s > target (so rounded toward zero); power_of_two: the largest
        power of two <= s. The previous scale when amax is <= 0, Inf or NaN,
        when the nearest quotient is 0 or Inf, or when s steps down to 0."""
        a = amax.float()
        target = torch.tensor(self._max * 2.0 ** -self.margin, dtype=torch.float64).to(torch.float32).to(a.device)
        s = target / a  # nearest
        ok = (a > 0) & torch.isfinite(a) & (s > 0) & torch.isfinite(s)
        over = a.double() * s.double() > target.double()  # exact products
        s = torch.where(over, torch.nextafter(s, torch.zeros_like(s)), s)
        ok &= s > 0
        if self.power_of_two:  # s = m·2^e, m in [0.5, 1): 2^(e-1), exact for subnormals too
            s = torch.ldexp(torch.ones_like(s), torch.frexp(s).exponent - 1)
        return torch.where(ok, s, previous)

    def with_scale(self, t: torch.Tensor, seed: int, offset: int, index_base: int, scale: torch.Tensor) -> torch.Tensor:
        """t rounded under the tensor scale s = scale (nothing recorded)."""
        s = scale.to(torch.float32)
        back = torch.ones_like(s) / s  # 1/s in float, as the C++ unscaling
        return (self._fq.apply(t.float() * s, seed, offset, index_base) * back).to(t.dtype)  # as the C++ kernel

    def apply_state(self, t: torch.Tensor, seed: int, offset: int, index_base: int, state) -> torch.Tensor:
        hist, scale = state
        y = self.with_scale(t, seed, offset, index_base, scale)
        with torch.no_grad():
            hist.copy_(torch.cat([hist[1:], t.detach().abs().amax().float().reshape(1)]))
            window = hist.max() if self.algo == "max" else hist[-1]
            scale.copy_(self.scale_of(window, scale))
        return y


@dataclasses.dataclass(frozen=True)
class GaussWS:
    """An operand (a weight) through pqt.gaussws: carrier(w + noise·Δ),
    rounded once, straight-through gradient."""

    bits: int = 9
    noise: str = "r"
    delta: str = "block"
    out_dtype: torch.dtype = torch.bfloat16
    options: Tuple[Tuple[str, object], ...] = ()

    blocked = False  # the noisy weight is sampled once and used by every GEMM

    def apply(self, t: torch.Tensor, seed: int, offset: int, index_base: int = 0) -> torch.Tensor:
        if self.out_dtype.itemsize > t.dtype.itemsize:
            raise ValueError(f"pqt.torch.nn.GaussWS: a {self.out_dtype} carrier for {t.dtype} weights would be "
                             "rounded twice; use a carrier no wider than the weights")
        y = gaussws(t.contiguous(), self.bits, self.noise, self.delta, out_dtype=self.out_dtype, seed=seed,
                    offset=offset, index_base=index_base, **dict(self.options))
        dev = t.device.type
        if torch.is_autocast_enabled(dev) and torch.get_autocast_dtype(dev) == y.dtype:
            return y  # autocast would cast t's dtype back to the carrier: skip both passes (same values)
        return y.to(t.dtype)  # exact: the carrier's values are values of t's dtype


Operand = Optional[Union[FQ, Delayed, GaussWS]]


@dataclasses.dataclass(frozen=True)
class Recipe:
    """What each operand of a quantized GEMM becomes (None: unchanged)."""

    weight: Operand = None
    input: Operand = None
    grad_output: Operand = None
    seed: int = 0


def _e8(m: int, rnd: str) -> FQ:
    # nonsaturating: E8M7 nearest-even is exactly a bf16 cast, overflow to Inf included
    return FQ(f"e8m{m}" if m != 7 else "bf16", "none", rnd, "nonsaturating")


_BF16 = _e8(7, "nearest_even")


RECIPES = {
    # BF16 / E8Mm with nearest-even, truncation and stochastic rounding on every operand
    **{f"e8m{m}_{tag}": Recipe(_e8(m, rnd), _e8(m, rnd), _e8(m, rnd))
       for m in (7, 6, 5, 4, 3) for tag, rnd in (("rne", "nearest_even"), ("trunc", "toward_zero"), ("sr", "stochastic"))},
    # exponent-reduced formats: E5M7, E6M7
    **{f"e{e}m7_{tag}": Recipe(FQ(f"e{e}m7", "none", rnd), FQ(f"e{e}m7", "none", rnd), FQ(f"e{e}m7", "none", rnd))
       for e in (5, 6) for tag, rnd in (("rne", "nearest_even"), ("sr", "stochastic"))},
    # FP8: E4M3 forward, E5M2 backward, per-tensor current and delayed scaling
    # (Transformer Engine's DelayedScaling defaults: a 1024-step window, max)
    "fp8_tensor": Recipe(FQ("e4m3", "tensor"), FQ("e4m3", "tensor"), FQ("e5m2", "tensor")),
    "fp8_delayed": Recipe(Delayed("e4m3", 1024), Delayed("e4m3", 1024), Delayed("e5m2", 1024)),
    "mxfp8": Recipe(FQ("e4m3", "mx"), FQ("e4m3", "mx"), FQ("e4m3", "mx")),  # E4M3 everywhere, as OCP MX training
    "mxfp6": Recipe(FQ("e3m2", "mx"), FQ("e3m2", "mx"), FQ("e3m2", "mx")),
    "mxfp4": Recipe(FQ("e2m1", "mx"), FQ("e2m1", "mx"), FQ("e2m1", "mx", "stochastic")),
    "nvfp4": Recipe(FQ("e2m1", "nvfp4"), FQ("e2m1", "nvfp4"), FQ("e2m1", "nvfp4", "stochastic")),
    # GaussWS on the weights (bf16 carrier), activations and gradients in bf16,
    # and the DiffQ uniform-noise baseline
    **{f"gaussws_b{b}": Recipe(GaussWS(b), _BF16, _BF16) for b in (4, 6, 9)},
    **{f"diffq_b{b}": Recipe(GaussWS(b, "uniform"), _BF16, _BF16) for b in (4, 6, 9)},
}


class Step:
    """Where the random streams are: ``value``, the training step, is the
    Philox offset of every quantized operand (the training loop calls
    advance() once per step); ``micro``, the micro-batch's global index
    (rank × accumulation steps + i, i the micro-step; 0 in one process
    without accumulation), moves the input and output-gradient streams by
    micro·MICRO_STRIDE elements, so micro-batches get independent noise while
    the weights' noise is the same on every rank. state_dict /
    load_state_dict resume both.

    Under torch.compile the step is an int attribute of the layers: set
    ``torch._dynamo.config.allow_unspec_int_on_nn_module = True`` and it
    becomes symbolic after the first step (2 graphs in all); without it each
    step compiles a new graph until dynamo's recompile limit."""

    def __init__(self, value: int = 0, micro: int = 0):
        self.value, self.micro = int(value), int(micro)

    def advance(self, n: int = 1) -> None:
        self.value += n

    def state_dict(self) -> dict:
        return {"value": self.value, "micro": self.micro}

    def load_state_dict(self, d: dict) -> None:
        self.value, self.micro = int(d["value"]), int(d.get("micro", 0))


@functools.lru_cache(maxsize=4096)
def stream_seed(seed: int, name: str, operand: str) -> int:
    """The Philox seed of one operand of one layer: a hash of (recipe seed,
    layer name, operand), below 2^63 (torch.compile's limit)."""
    h = hashlib.blake2b(f"{seed}/{name}/{operand}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "little") >> 1


def stream_seeds(recipe: Recipe, name: str) -> Tuple[int, int, int]:
    """(input, weight, grad_output) seeds of a layer."""
    return tuple(stream_seed(recipe.seed, name, op) for op in ("input", "weight", "grad_output"))


MICRO_STRIDE = 1 << 40
"""Micro-batch m's inputs and output gradients draw elements m·2^40 + i of
their streams (index_base): no tensor has 2^40 elements, so micro-batches
never share random bits, and the step alone stays the Philox offset."""


def _q(spec: Operand, t: torch.Tensor, seed: int, offset: int, base: int = 0, state=None) -> torch.Tensor:
    if spec is None:
        return t
    if isinstance(spec, Delayed):
        return spec.apply_state(t, seed, offset, base, state)
    return spec.apply(t, seed, offset, base)


def _q_along(spec: Operand, t: torch.Tensor, seed: int, offset: int, base: int, fwd: torch.Tensor) -> torch.Tensor:
    """t quantized with blocks along its second-to-last axis (returned in t's
    layout), for a block-scaled spec; else the forward copy fwd."""
    if spec is None or not spec.blocked:
        return fwd
    return spec.apply(t.transpose(-2, -1).contiguous(), seed, offset, base).transpose(-2, -1)


class _QuantMatmul(torch.autograd.Function):
    """y = q(a) @ q(b)ᵀ, blocks along K; backward with g = q(dy) blocked along
    N: da = g @ q_N(b); db = q_T(g)ᵀ @ q_T(a), a's leading dimensions
    flattened into the token axis T (b 2-D), or batched (b of a's rank).
    a and dy draw their random bits from index ``base`` on (the micro-batch),
    b from 0; ``states``: the delayed-scaling state of each operand."""

    @staticmethod
    def forward(ctx, a, b, recipe: Recipe, seeds: Tuple[int, int, int], offset, base, states):
        aq = _q(recipe.input, a, seeds[0], offset, base, states[0])
        bq = _q(recipe.weight, b, seeds[1], offset, 0, states[1])
        ctx.save_for_backward(a, b, aq, bq)
        ctx.recipe, ctx.seeds, ctx.offset, ctx.base, ctx.g_state = recipe, seeds, offset, base, states[2]
        y = aq @ bq.transpose(-2, -1)
        ctx.dtype = y.dtype  # under autocast the product's dtype, which the backward products use too
        return y

    @staticmethod
    def backward(ctx, dy):
        a, b, aq, bq = ctx.saved_tensors
        r, (s_in, s_w, s_g), off, base, dt = ctx.recipe, ctx.seeds, ctx.offset, ctx.base, ctx.dtype
        da = db = None
        g = _q(r.grad_output, dy, s_g, off, base, ctx.g_state)
        if ctx.needs_input_grad[0]:
            da = g.to(dt) @ _q_along(r.weight, b, s_w, off, 0, bq).to(dt)
        if ctx.needs_input_grad[1]:
            if b.dim() == 2:  # a linear layer: tokens are all of a's leading dimensions
                g2, a2 = dy.reshape(-1, dy.shape[-1]), a.reshape(-1, a.shape[-1])
                gt = _q_along(r.grad_output, g2, s_g, off, base, g.reshape(-1, g.shape[-1]))
                at = _q_along(r.input, a2, s_in, off, base, aq.reshape(-1, aq.shape[-1]))
                db = gt.to(dt).t() @ at.to(dt)
            else:
                gt = _q_along(r.grad_output, dy, s_g, off, base, g)
                at = _q_along(r.input, a, s_in, off, base, aq)
                db = (gt.to(dt).transpose(-2, -1) @ at.to(dt)).sum_to_size(b.shape)
        return da, db, None, None, None, None, None


_OPERANDS = ("input", "weight", "grad_output")


def quant_matmul(a: torch.Tensor, b: torch.Tensor, recipe: Recipe, name: str, offset: int = 0,
                 micro: int = 0) -> torch.Tensor:
    """a @ bᵀ (b: (N, K), or batched like a) with the recipe's operands
    quantized, b in the weight's place: e.g. attention's q @ kᵀ. name picks
    the random streams: give each product its own. Delayed scaling keeps
    state, so it needs a module: QuantMatmul."""
    if any(isinstance(getattr(recipe, op), Delayed) for op in _OPERANDS):
        raise ValueError("pqt.torch.nn.quant_matmul: delayed scaling keeps an amax history per operand; "
                         "use the QuantMatmul module, or per-tensor current scaling (FQ(fmt, 'tensor'))")
    return _QuantMatmul.apply(a, b, recipe, stream_seeds(recipe, name), offset, micro * MICRO_STRIDE,
                              (None, None, None))


def _setup(m: torch.nn.Module, recipe: Recipe, step: Optional[Step], name: str, device) -> None:
    """The recipe, step, name and stream seeds of a quantized module, and a
    buffer pair (amax window, scale) per delayed-scaling operand."""
    m.recipe, m.step, m.qname = recipe, step or Step(), name
    m.seeds = stream_seeds(recipe, name)  # hashed once, not per call
    m._noisy_gather = None  # gaussws_before_all_gather: the recipe without the weight's GaussWS
    for op in _OPERANDS:
        spec = getattr(recipe, op)
        if isinstance(spec, Delayed):
            hist, scale = spec.state(device)
            m.register_buffer(f"amax_history_{op}", hist)
            m.register_buffer(f"scale_{op}", scale)


def _states(m: torch.nn.Module):
    return tuple((getattr(m, f"amax_history_{op}"), getattr(m, f"scale_{op}"))
                 if isinstance(getattr(m.recipe, op), Delayed) else None for op in _OPERANDS)


class QuantMatmul(torch.nn.Module):
    """quant_matmul as a module, for products of two activations (attention's
    q·kᵀ and p·v): its own random streams (``name``), the step's offset and
    micro-batch, and the delayed-scaling state of its operands as buffers.
    forward(a, b) = q(a) @ q(b)ᵀ, b in the weight's place."""

    def __init__(self, recipe: Recipe, step: Optional[Step] = None, name: str = "", device=None):
        super().__init__()
        _setup(self, recipe, step, name, device)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        st = self.step
        return _QuantMatmul.apply(a, b, self.recipe, self.seeds, st.value, st.micro * MICRO_STRIDE, _states(self))

    def extra_repr(self) -> str:
        return f"name={self.qname!r}, recipe={self.recipe}"


class QuantLinear(torch.nn.Linear):
    """nn.Linear whose GEMMs see the recipe's quantized operands (forward:
    input and weight; backward: the output gradient, in both dx and dW). The
    bias is added in full precision. ``step`` gives the Philox offset."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, recipe: Recipe,
                 step: Optional[Step] = None, name: str = "", device=None, dtype=None):
        super().__init__(in_features, out_features, bias, device=device, dtype=dtype)
        _setup(self, recipe, step, name, self.weight.device)

    @classmethod
    def from_linear(cls, lin: torch.nn.Linear, recipe: Recipe, step: Optional[Step] = None, name: str = "") -> "QuantLinear":
        q = cls.__new__(cls)
        torch.nn.Module.__init__(q)
        q.in_features, q.out_features = lin.in_features, lin.out_features
        # the same Parameters: optimizers and state dicts carry over
        q.weight = lin.weight
        q.register_parameter("bias", lin.bias)
        q.train(lin.training)
        _setup(q, recipe, step, name, q.weight.device)
        return q

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        st, r, w = self.step, self.recipe, self.weight
        if self._noisy_gather is not None:
            if isinstance(w, _sharding.NoisyShard) or _sharding.is_dtensor(w):
                raise RuntimeError("pqt.torch.nn: this layer's GaussWS is sampled before FSDP2's all-gather "
                                   "(gaussws_before_all_gather): wrap it with fully_shard and call the model")
            r = self._noisy_gather  # the gathered weight is the GaussWS sample already
        y = _QuantMatmul.apply(x, w, r, self.seeds, st.value, st.micro * MICRO_STRIDE, _states(self))
        return y if self.bias is None else y + self.bias

    def quantized_weight(self) -> torch.Tensor:
        """The weight as the next forward pass will use it (detached; delayed
        scaling: under the current scale, nothing recorded). A weight sharded
        by FSDP2 (a DTensor sharded on its rows) is quantized where it lies:
        each rank rounds its own rows with index_base = their offset in the
        flattened weight and gets back a DTensor like the weight, whose shards
        are bit for bit the rows of the unsharded result. Scalings that need
        the whole tensor's amax (per-tensor current scaling, NVFP4), and
        blocks that a shard boundary would split, raise ValueError."""
        w, spec = self.weight.detach(), self.recipe.weight
        local, base, sharded = w, 0, _sharding.is_dtensor(w)
        if sharded:
            local, base = _sharding.local_rows(w, spec)
        if isinstance(spec, Delayed):
            q = spec.with_scale(local, self.seeds[1], self.step.value, base, self.scale_weight)
        else:
            q = _q(spec, local, self.seeds[1], self.step.value, base)
        if not sharded:
            return q
        from torch.distributed.tensor import DTensor
        return DTensor.from_local(q, w.device_mesh, w.placements, shape=w.shape, stride=w.stride())

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, recipe={self.recipe}"


def gaussws_before_all_gather(model: torch.nn.Module) -> int:
    """For FSDP2: after convert, before fully_shard (and before making the
    optimizer). The QuantLinear layers whose weight operand is GaussWS (bf16
    carrier) then have FSDP2 all-gather their GaussWS samples instead of their
    float32 weights: each rank samples its own rows with index_base = their
    offset in the flattened weight (shards must hold whole blocks) and the
    bf16 samples are gathered, half the bytes, each rank sampling 1/world of
    the weight; the gathered weight is bit for bit the sample of the whole.
    Returns how many layers changed. Such a layer must then run under
    fully_shard (a forward on its unsharded wrapper raises); a checkpoint
    holds its float32 weights."""
    n = 0
    for m in model.modules():
        if isinstance(m, QuantLinear) and isinstance(m.recipe.weight, GaussWS) and m._noisy_gather is None:
            if m.recipe.weight.out_dtype != torch.bfloat16:
                raise ValueError("pqt.torch.nn.gaussws_before_all_gather: the GaussWS carrier must be bfloat16")
            m.weight = torch.nn.Parameter(_sharding.NoisyShard(m.weight.detach(), m),
                                          requires_grad=m.weight.requires_grad)
            m._noisy_gather = dataclasses.replace(m.recipe, weight=None)
            n += 1
    return n


def _matches(name: str, pattern: str) -> bool:
    """pattern's dotted segments appear in name's, contiguous and whole:
    "1" matches "1" and "blocks.1.mlp", not "10" or "blocks.11"."""
    n, p = name.split("."), pattern.split(".")
    return any(n[i:i + len(p)] == p for i in range(len(n) - len(p) + 1))


def convert(model: torch.nn.Module, recipe: Recipe, step: Optional[Step] = None,
            include: Optional[Iterable[str]] = None, exclude: Iterable[str] = ()) -> torch.nn.Module:
    """Replaces the nn.Linear layers of model in place by QuantLinear sharing
    their parameters (run it before wrapping the model in DDP/FSDP). include:
    only layers whose dotted name contains one of these as whole segments
    ("blocks.1", "mlp"); exclude: not those (e.g. the LM head). Embeddings and
    subclasses of nn.Linear stay as they are; a Linear reachable under several
    names becomes one QuantLinear (named by its first name)."""
    step = step or Step()
    include = None if include is None else tuple(include)
    exclude = tuple(exclude)
    done = {}
    for parent_name, parent in list(model.named_modules(remove_duplicate=False)):
        for child_name, child in list(parent._modules.items()):
            full = f"{parent_name}.{child_name}" if parent_name else child_name
            if type(child) is not torch.nn.Linear and id(child) not in done:
                continue
            if id(child) not in done:
                if include is not None and not any(_matches(full, p) for p in include):
                    continue
                if any(_matches(full, p) for p in exclude):
                    continue
                done[id(child)] = QuantLinear.from_linear(child, recipe, step, full)
            setattr(parent, child_name, done[id(child)])
    return model

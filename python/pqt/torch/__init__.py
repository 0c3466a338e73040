"""pqt's operations as PyTorch custom ops: ``torch.ops.pqt.fake_quant``,
``quantize``, ``dequantize`` and ``gaussws``, with CPU and CUDA kernels
(CUDA when pqt was built with nvcc), fake kernels for torch.compile
(fullgraph, no graph break) and, for fake_quant and gaussws, the
straight-through estimator as autograd: the gradient passes as the identity
(gaussws: cast back to w's dtype).

    import pqt.torch
    y = pqt.torch.fake_quant(x, fmt="e4m3", scaling="mx")   # or pqt.fake_quant(x, ...)
"""

from __future__ import annotations

try:
    import torch
except ImportError as e:  # pragma: no cover - exercised by a subprocess test
    raise ImportError("pqt.torch needs PyTorch: pip install torch (pqt itself works on numpy without it)") from e

import sys
from typing import Optional

from .. import _core, _pqt
from .._core import QuantArgs, Quantized

_ELEMS = {torch.float32: 0, torch.bfloat16: 1, torch.float16: 2}

# The static options travel as one JSON string (pqt._core.spec_of); seed,
# offset and index_base as ints, so a step counter can change them (and be
# symbolic under torch.compile) without a new graph. Every argument costs
# dispatch time, so the schema is short.
_R = "str options, SymInt seed, SymInt offset, SymInt index_base"

_lib = torch.library.Library("pqt", "DEF")
_lib.define(f"fake_quant(Tensor x, {_R}) -> Tensor")
_lib.define(f"quantize(Tensor x, {_R}) -> (Tensor, Tensor, Tensor)")
_lib.define("dequantize(Tensor codes, Tensor scales, Tensor ts, SymInt[] shape, ScalarType dtype, str options) -> Tensor")
_lib.define(f"gaussws(Tensor w, {_R}, ScalarType out_dtype) -> Tensor")


def _elem(dtype, what: str = "x") -> int:
    e = _ELEMS.get(dtype)
    if e is None:
        raise TypeError(f"pqt: {what} must be float32, bfloat16 or float16, got {dtype}")
    return e


def _stream(t: torch.Tensor) -> int:
    return torch.cuda.current_stream(t.device).cuda_stream if t.is_cuda else 0


_dl = torch.utils.dlpack.to_dlpack


def _arr(t: torch.Tensor):
    """A DLPack capsule of t for the C++ module (cheaper than t.__dlpack__())."""
    return _dl(t.detach())


# ---- sizes, in Python integer arithmetic (SymInt-safe for the fake kernels) ----


def _code_bytes(n, args: QuantArgs):
    f = _core._element_format(args)
    if f.bits in (4, 6):
        return (n * f.bits + 7) // 8
    return n * f.storage_bytes


def _scale_count(shape, n, args: QuantArgs):
    if args.scaling in ("mx", "block", "nvfp4"):
        return (n + args.block_size - 1) // args.block_size
    if args.scaling == "tile":
        cols = shape[-1] if len(shape) else 0
        rows = n // cols if len(shape) and cols else 0
        return ((rows + args.tile_rows - 1) // args.tile_rows) * ((cols + args.tile_cols - 1) // args.tile_cols)
    return 0


def _check(t: torch.Tensor, what: str = "x") -> int:
    """What the C++ module checks, for the fake kernels too (a traced graph
    fails where eager fails); returns the element type code."""
    e = _elem(t.dtype, what)
    if not t.is_contiguous():
        raise ValueError(f"pqt: {what} must be contiguous (call .contiguous() first)")
    return e


# ---- kernels (CPU and CUDA share them: the C++ module picks the device) ----


def _fake_quant_kernel(x, options, seed, offset, index_base):
    cfg = _core.config_of(options, seed, offset, index_base)
    e = _check(x)
    out = torch.empty_like(x, memory_format=torch.contiguous_format)
    _pqt.fake_quant(_arr(x), _arr(out), e, cfg, _core._cols(x.shape), _stream(x))
    return out


def _quantize_kernel(x, options, seed, offset, index_base):
    cfg = _core.config_of(options, seed, offset, index_base)
    e = _check(x)
    n, cols = x.numel(), _core._cols(x.shape)
    codes = torch.empty(_pqt.code_bytes(cfg, n), dtype=torch.uint8, device=x.device)
    scales = torch.empty(_pqt.scale_count(cfg, n, cols), dtype=torch.uint8, device=x.device)
    ts = torch.ones(1, dtype=torch.float32, device=x.device)  # 1 where the scaling has no tensor scale
    _pqt.quantize(_arr(x), e, cfg, cols, _arr(codes), _arr(scales), _arr(ts), _stream(x))
    return codes, scales, ts


def _dequantize_kernel(codes, scales, ts, shape, dtype, options):
    cfg = _core.config_of(options, 0, 0, 0)
    e = _elem(dtype, "dtype")
    out = torch.empty(list(shape), dtype=dtype, device=codes.device)
    _pqt.dequantize(_arr(codes), _arr(scales), _arr(ts), cfg, _core._cols(shape), _arr(out), e, _stream(codes))
    return out


def _gaussws_kernel(w, options, seed, offset, index_base, out_dtype):
    cfg = _core.config_of(options, seed, offset, index_base)
    e = _check(w, "w")
    if out_dtype not in (torch.bfloat16, torch.float32):
        raise TypeError(f"pqt.gaussws: out_dtype must be torch.bfloat16 or torch.float32, got {out_dtype}")
    out = torch.empty(w.shape, dtype=out_dtype, device=w.device)
    _pqt.gaussws(_arr(w), e, _arr(out), out_dtype == torch.bfloat16, cfg, _core._cols(w.shape), _stream(w))
    return out


for _key in ("CPU", "CUDA"):
    _lib.impl("fake_quant", _fake_quant_kernel, _key)
    _lib.impl("quantize", _quantize_kernel, _key)
    _lib.impl("dequantize", _dequantize_kernel, _key)
    _lib.impl("gaussws", _gaussws_kernel, _key)


# ---- fake kernels: shapes and dtypes only ----


@torch.library.register_fake("pqt::fake_quant")
def _fake_quant_fake(x, options, seed, offset, index_base):
    _check(x)
    return torch.empty_like(x, memory_format=torch.contiguous_format)


@torch.library.register_fake("pqt::quantize")
def _quantize_fake(x, options, seed, offset, index_base):
    _check(x)
    args = _core.args_of(options, 0, 0, 0)
    n = x.numel()
    return (x.new_empty(_code_bytes(n, args), dtype=torch.uint8),
            x.new_empty(_scale_count(x.shape, n, args), dtype=torch.uint8),
            x.new_empty(1, dtype=torch.float32))


@torch.library.register_fake("pqt::dequantize")
def _dequantize_fake(codes, scales, ts, shape, dtype, options):
    _elem(dtype, "dtype")
    return codes.new_empty(list(shape), dtype=dtype)


@torch.library.register_fake("pqt::gaussws")
def _gaussws_fake(w, options, seed, offset, index_base, out_dtype):
    _check(w, "w")
    if out_dtype not in (torch.bfloat16, torch.float32):
        raise TypeError(f"pqt.gaussws: out_dtype must be torch.bfloat16 or torch.float32, got {out_dtype}")
    return w.new_empty(w.shape, dtype=out_dtype)


# ---- autograd: straight-through ----


def _ste_setup(ctx, inputs, output):
    ctx.dtype = inputs[0].dtype


def _fake_quant_backward(ctx, grad):
    return grad, None, None, None, None


def _gaussws_backward(ctx, grad):
    return grad.to(ctx.dtype), None, None, None, None, None


torch.library.register_autograd("pqt::fake_quant", _fake_quant_backward, setup_context=_ste_setup)
torch.library.register_autograd("pqt::gaussws", _gaussws_backward, setup_context=_ste_setup)


# ---- the Python API over the ops ----


def _eager() -> bool:
    """Options are checked in Python when eager; while torch.compile traces, by the kernel."""
    return not torch.compiler.is_compiling()


def _codes_view(codes: torch.Tensor, shape, args: QuantArgs) -> torch.Tensor:
    f = _core._element_format(args)
    _, name = _core.code_dtype_names(f)
    if f.bits in (4, 6):
        codes = codes.reshape(_core.codes_shape(tuple(shape), codes.numel(), f.bits))
        return codes.view(getattr(torch, name)) if name is not None else codes
    dtype = getattr(torch, name) if name is not None else getattr(torch, _core._UINT[f.storage_bytes])
    return codes.view(dtype).reshape(shape)


def _direct(t: torch.Tensor) -> bool:
    """Whether an eager call may run the kernel without torch's dispatcher
    (the same kernel, so the same bits; tens of microseconds less per call):
    a plain CPU or CUDA tensor, no gradient to record, no tracing, no dispatch
    mode (FakeTensorMode included), no functorch transform. Everything else
    (autograd, meta and fake tensors, subclasses such as DTensor,
    torch.compile) goes through torch.ops.pqt.*."""
    return (type(t) is torch.Tensor and (t.is_cpu or t.is_cuda) and not (t.requires_grad and torch.is_grad_enabled())
            and _eager() and not torch._C._len_torch_dispatch_stack()
            and not torch._C._are_functorch_transforms_active())


def _call(kernel, op, t: torch.Tensor, *args):
    """op(t, *args), by its kernel directly where _direct(t) allows."""
    return kernel(t, *args) if _direct(t) else op(t, *args)


def _assume_constant_result(fn):
    """torch.compiler.assume_constant_result, without importing torch._dynamo
    (2.3 of the 4.7 s of `import pqt.torch`) where nothing has yet: the mark
    that decorator sets (torch 2.x); the torch.compile tests fail if a torch
    stops reading it (the traced options would break the graph)."""
    if "torch._dynamo" in sys.modules:
        return torch.compiler.assume_constant_result(fn)
    fn._dynamo_marked_constant = True
    return fn


@_assume_constant_result
def _spec_traced(kind: str, *values) -> str:
    return _core.spec_from(kind, values)


def _spec(args) -> str:
    """The ops' options string of args; while torch.compile traces, a graph constant."""
    if _eager():
        return _core.spec_of(args)
    return _spec_traced(type(args).__name__, *_core.static_fields(args))


def _prepare(make, *a, **kw):
    """(args, options string) of a call: eager, checked and cached on the
    call's options (a repeated call costs one lookup); while torch.compile
    traces, unchecked (ints may be symbolic)."""
    if not _eager():
        args = make(*a, **kw, _check=False)
        return args, _spec(args)
    return _core.prepare(make, *a, **kw)


def fake_quant(x: torch.Tensor, fmt: str = "e4m3", scaling: str = "none", round: str = "nearest_even",
               overflow: str = "saturate", **options) -> torch.Tensor:
    """pqt.fake_quant for tensors (straight-through gradient)."""
    args, spec = _prepare(_core.quant_args, fmt, scaling, round, overflow, **options)
    return _call(_fake_quant_kernel, torch.ops.pqt.fake_quant, x, spec, args.seed, args.offset, args.index_base)


def quantize(x: torch.Tensor, fmt: str = "e4m3", scaling: str = "none", round: str = "nearest_even",
             overflow: str = "saturate", **options) -> Quantized:
    """pqt.quantize for tensors."""
    args, spec = _prepare(_core.quant_args, fmt, scaling, round, overflow, **options)
    x = x.detach()  # codes have no gradient
    codes, scales, ts = _call(_quantize_kernel, torch.ops.pqt.quantize, x, spec, args.seed, args.offset, args.index_base)
    shape = tuple(x.shape)
    scale_dtype = torch.float8_e4m3fn if args.scaling == "nvfp4" else torch.float8_e8m0fnu
    scales = scales.view(scale_dtype).reshape(_core.scales_shape(shape, scales.numel(), args))
    return Quantized(_codes_view(codes, shape, args), scales, ts, shape, x.dtype, args, True)


def dequantize(q: Quantized, dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    """pqt.dequantize for tensors."""
    codes = q.codes.reshape(-1).view(torch.uint8)
    scales = q.scales.reshape(-1).view(torch.uint8)
    dtype = q.dtype if dtype is None else dtype
    return _call(_dequantize_kernel, torch.ops.pqt.dequantize, codes, scales, q.tensor_scale, list(q.shape), dtype,
                 _spec(q.args))


def gaussws(w: torch.Tensor, bits: int = 9, noise: str = "r", delta: str = "block",
            out_dtype: Optional[torch.dtype] = None, **options) -> torch.Tensor:
    """pqt.gaussws for tensors (straight-through gradient)."""
    args, spec = _prepare(_core.gaussws_args, bits, noise, delta, **options)
    od = torch.bfloat16 if out_dtype is None else out_dtype
    return _call(_gaussws_kernel, torch.ops.pqt.gaussws, w, spec, args.seed, args.offset, args.index_base, od)


def op_args(fmt: str = "e4m3", scaling: str = "none", round: str = "nearest_even", overflow: str = "saturate",
            **options) -> tuple:
    """The (options, seed, offset, index_base) arguments that
    torch.ops.pqt.fake_quant / quantize take after the tensor (dequantize:
    the first only), for the options of pqt.fake_quant:
        torch.ops.pqt.fake_quant(x, *pqt.torch.op_args(fmt="e4m3", scaling="mx"))"""
    args, spec = _core.prepare(_core.quant_args, fmt, scaling, round, overflow, **options)
    return spec, args.seed, args.offset, args.index_base


def gaussws_op_args(bits: int = 9, noise: str = "r", delta: str = "block", **options) -> tuple:
    """op_args for torch.ops.pqt.gaussws (then out_dtype), with pqt.gaussws's options."""
    args, spec = _core.prepare(_core.gaussws_args, bits, noise, delta, **options)
    return spec, args.seed, args.offset, args.index_base


__all__ = ["dequantize", "fake_quant", "gaussws", "gaussws_op_args", "op_args", "quantize"]

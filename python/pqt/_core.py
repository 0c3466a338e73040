"""The array-agnostic layer: option normalisation, formats, and the numpy path.
Torch tensors are handed to pqt.torch (imported lazily, so ``import pqt``
never imports torch)."""

from __future__ import annotations

import dataclasses
import functools
import json
from typing import Any, NamedTuple, Optional, Tuple

import ml_dtypes
import numpy as np

from . import _pqt

cuda_built: bool = bool(_pqt.cuda_built)

_U64 = 1 << 64

# ---- formats ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Format:
    """The facts of a format (README "Formats and encodings"); ``values`` is
    the value of every code (formats of at most 16 bits), decoded by pqt."""

    name: str
    exponent_bits: int
    mantissa_bits: int
    encoding: str
    bias: int
    signed: bool
    bits: int
    storage_bytes: int
    max: float
    lowest: float
    min_normal: float
    min_subnormal: float
    epsilon: float
    emin: int
    emax: int
    has_inf: bool
    has_nan: bool
    has_zero: bool
    has_negative_zero: bool
    has_subnormals: bool
    max_code: int
    lowest_code: int
    nan_code: Optional[int]
    inf_code: Optional[int]
    finite_codes: int
    finite_values: int
    _spec: Tuple[str, str, int, bool] = dataclasses.field(repr=False, compare=False)

    @property
    def values(self) -> np.ndarray:
        """float32 array: values[c] is the value of code c (NaN codes give NaN);
        formats of at most 16 bits."""
        if self.bits > 16:
            raise ValueError(f"pqt: the code table is for formats of at most 16 bits ({self.name} has {self.bits})")
        return _code_table(self._spec).copy()

    @property
    def key(self) -> Tuple[int, int, str, int, bool]:
        """(E, M, encoding, bias, signed): what identifies a format."""
        return (self.exponent_bits, self.mantissa_bits, self.encoding, self.bias, self.signed)


_NO_BIAS = -(1 << 31)


@functools.lru_cache(maxsize=256)
def _format(name: str, encoding: str, bias: int, unsigned: bool) -> Format:
    facts = _pqt.format_facts(name, encoding, bias, unsigned)
    return Format(**facts, _spec=(name, encoding, bias, unsigned))


@functools.lru_cache(maxsize=64)
def _code_table(spec) -> np.ndarray:
    f = _format(*spec)
    out = np.empty(1 << f.bits, dtype=np.float32)
    _pqt.decode_all(*spec, out)
    return out


def format(name: str, *, encoding: Optional[str] = None, bias: Optional[int] = None, unsigned: bool = False) -> Format:
    """The facts of a named format ("e4m3", "e2m1", "bf16", ...) or "eXmY"
    (IEEE encoding), optionally changed as the CLI's --encoding/--bias/--unsigned
    do. Raises ValueError saying why a format cannot exist.

        >>> pqt.format("e3m2").max
        28.0
    """
    if not isinstance(name, str):
        raise TypeError(f"pqt.format: name must be a str, got {type(name).__name__}")
    return _format(name, encoding or "", _NO_BIAS if bias is None else _int("bias", bias, -(1 << 31) + 1, 1 << 31), bool(unsigned))


# ---- options ------------------------------------------------------------------


def _int(what: str, v: Any, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"pqt: {what} must be an int, got {type(v).__name__}")
    v = int(v)
    if not lo <= v < hi:
        raise ValueError(f"pqt: {what} must be in [{lo}, {hi}), got {v}")
    return v


def _u64(what: str, v: Any) -> int:
    """A uint64 (seed, offset, index) as the int64 with the same bits (the torch op schema has int64)."""
    v = _int(what, v, 0, _U64)
    return v - _U64 if v >= 1 << 63 else v




def _str(what: str, v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError(f"pqt: {what} must be a str, got {type(v).__name__}")
    return v


def _pair(what: str, v: Any) -> Tuple[Any, Any]:
    try:
        a, b = v
    except (TypeError, ValueError):
        raise TypeError(f"pqt: {what} must be a pair (tile_rows, tile_cols), got {v!r}") from None
    return a, b


def _bool(what: str, v: Any) -> bool:
    if not isinstance(v, (bool, np.bool_)):
        raise TypeError(f"pqt: {what} must be a bool, got {type(v).__name__}")
    return bool(v)


def _float(what: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"pqt: {what} must be a number, got {type(v).__name__}")
    return float(v)


class QuantArgs(NamedTuple):
    """A fake_quant / quantize configuration in the order of the torch op schema."""

    fmt: str
    scaling: str
    round: str
    overflow: str
    block_size: int
    random_bits: int
    sigma: float
    seed: int
    offset: int
    index_base: int
    tensor_scale: float
    margin: float
    power_of_two: bool
    e8m0_rule: str
    tile_rows: int
    tile_cols: int
    threads: int


def quant_args(
    fmt: str = "e4m3",
    scaling: str = "none",
    round: str = "nearest_even",
    overflow: str = "saturate",
    block_size: Optional[int] = None,
    random_bits: int = 32,
    sigma: float = 0.5,
    seed: int = 0,
    offset: int = 0,
    index_base: int = 0,
    tensor_scale: float = 0.0,
    margin: float = 0.0,
    power_of_two: bool = False,
    e8m0_rule: str = "floor",
    tile: Tuple[int, int] = (16, 16),
    threads: int = 0,
    _check: bool = True,
) -> QuantArgs:
    """Checks the keyword options of fake_quant / quantize and fills defaults
    (block_size: 16 for nvfp4, else 32). The C++ config validates the rest.
    _check=False (while torch.compile traces: ints may be symbolic) leaves
    the checks to the kernel, which makes the same C++ config."""
    if block_size is None:
        block_size = 16 if scaling == "nvfp4" else 32
    tile_rows, tile_cols = _pair("tile", tile)
    if not _check:
        # as given: a comparison on a symbolic int would specialize the graph
        # on its value (so under torch.compile seeds are < 2^63)
        return QuantArgs(fmt, scaling, round, overflow, block_size, random_bits, sigma, seed, offset, index_base,
                         tensor_scale, margin, power_of_two, e8m0_rule, tile_rows, tile_cols, threads)
    args = QuantArgs(
        _str("fmt", fmt), _str("scaling", scaling), _str("round", round), _str("overflow", overflow),
        _int("block_size", block_size, 1, 1 << 62), _int("random_bits", random_bits, -(1 << 31), 1 << 31),
        _float("sigma", sigma), _u64("seed", seed), _u64("offset", offset), _u64("index_base", index_base),
        _float("tensor_scale", tensor_scale), _float("margin", margin), _bool("power_of_two", power_of_two),
        _str("e8m0_rule", e8m0_rule), _int("tile_rows", tile_rows, 1, 1 << 62), _int("tile_cols", tile_cols, 1, 1 << 62),
        _int("threads", threads, 0, 1 << 31),
    )
    config(args)  # validates now: the error names the bad option, whatever the array
    return args


@functools.lru_cache(maxsize=512)
def config(args: QuantArgs):
    """The validated C++ config of args (cached: a repeated call costs a lookup)."""
    return _pqt.make_config(*args)


@functools.lru_cache(maxsize=4096, typed=True)  # typed: seed=1 and seed=True are different calls
def _cached_args(make, *a, **kw):
    args = make(*a, **kw)
    return args, spec_of(args)


def prepare(make, *a, **kw):
    """(args, options string) of a call's options, make being quant_args or
    gaussws_args: checked once, then cached on the options (a repeated call
    costs one lookup)."""
    try:
        return _cached_args(make, *a, **kw)
    except TypeError:  # an unhashable option (a list for tile): no cache
        args = make(*a, **kw)
        return args, spec_of(args)


# ---- the op schema's form: one JSON string for the static options, three ints
# (seed, offset, index_base) that may change every step (and be symbolic under
# torch.compile). Fewer arguments make torch's dispatch cheaper.

_RANDOM_FIELDS = ("seed", "offset", "index_base")


def static_fields(args) -> tuple:
    """The options of a QuantArgs / GaussWSArgs but the random fields."""
    return tuple(v for k, v in zip(args._fields, args) if k not in _RANDOM_FIELDS)


@functools.lru_cache(maxsize=1024)
def spec_from(kind: str, values: tuple) -> str:
    """The static options as the ops' JSON string."""
    return json.dumps([kind, *values])


def spec_of(args) -> str:
    return spec_from(type(args).__name__, static_fields(args))


@functools.lru_cache(maxsize=1024)
def _parse_spec(spec: str):
    try:
        kind, *rest = json.loads(spec)
        cls = {"QuantArgs": QuantArgs, "GaussWSArgs": GaussWSArgs}[kind]
        names = [k for k in cls._fields if k not in _RANDOM_FIELDS]
        if len(rest) != len(names):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"pqt: not a pqt option string: {spec!r} (make one with pqt's Python API)") from None
    return cls, dict(zip(names, rest))


def args_of(spec: str, seed: int, offset: int, index_base: int):
    """spec_of's inverse, with the random fields put back."""
    cls, fields = _parse_spec(spec)
    return cls(**fields, seed=seed, offset=offset, index_base=index_base)


@functools.lru_cache(maxsize=1024)
def config_of(spec: str, seed: int, offset: int, index_base: int):
    """The C++ config of (spec, seed, offset, index_base), cached."""
    args = args_of(spec, seed, offset, index_base)
    return config(args) if isinstance(args, QuantArgs) else gaussws_config(args)


class GaussWSArgs(NamedTuple):
    noise: str
    sigma: float
    delta: str
    bits: int
    fmt: str
    scaling: str
    block_size: int
    tile_rows: int
    tile_cols: int
    seed: int
    offset: int
    index_base: int
    threads: int


def gaussws_args(
    bits: int = 9,
    noise: str = "r",
    delta: str = "block",
    fmt: str = "e4m3",
    scaling: str = "block",
    block_size: int = 32,
    sigma: float = 1.0,
    tile: Tuple[int, int] = (16, 16),
    seed: int = 0,
    offset: int = 0,
    index_base: int = 0,
    threads: int = 0,
    _check: bool = True,
) -> GaussWSArgs:
    tile_rows, tile_cols = _pair("tile", tile)
    if not _check:
        return GaussWSArgs(noise, sigma, delta, bits, fmt, scaling, block_size, tile_rows, tile_cols, seed, offset,
                           index_base, threads)
    args = GaussWSArgs(
        _str("noise", noise), _float("sigma", sigma), _str("delta", delta), _int("bits", bits, -(1 << 31), 1 << 31),
        _str("fmt", fmt), _str("scaling", scaling), _int("block_size", block_size, 1, 1 << 62),
        _int("tile_rows", tile_rows, 1, 1 << 62), _int("tile_cols", tile_cols, 1, 1 << 62),
        _u64("seed", seed), _u64("offset", offset), _u64("index_base", index_base), _int("threads", threads, 0, 1 << 31),
    )
    gaussws_config(args)
    return args


@functools.lru_cache(maxsize=512)
def gaussws_config(args: GaussWSArgs):
    return _pqt.make_gaussws_config(*args)


# ---- codes and their dtypes ---------------------------------------------------------

# (E, M, encoding, bias, signed) -> (ml_dtypes / numpy dtype name, torch dtype name)
_CODE_DTYPES = {
    (4, 3, "fn", 7, True): ("float8_e4m3fn", "float8_e4m3fn"),
    (5, 2, "ieee", 15, True): ("float8_e5m2", "float8_e5m2"),
    (4, 3, "fnuz", 8, True): ("float8_e4m3fnuz", "float8_e4m3fnuz"),
    (5, 2, "fnuz", 16, True): ("float8_e5m2fnuz", "float8_e5m2fnuz"),
    (4, 3, "ieee", 7, True): ("float8_e4m3", None),
    (3, 4, "ieee", 3, True): ("float8_e3m4", None),
    (8, 7, "ieee", 127, True): ("bfloat16", "bfloat16"),
    (5, 10, "ieee", 15, True): ("float16", "float16"),
    (8, 23, "ieee", 127, True): ("float32", "float32"),
    (3, 2, "finite", 3, True): ("float6_e3m2fn", None),  # unpacked codes (packed=False) only
    (2, 3, "finite", 1, True): ("float6_e2m3fn", None),
    (2, 1, "finite", 1, True): ("float4_e2m1fn", "float4_e2m1fn_x2"),  # torch's is packed, two per byte
}
_UINT = {1: "uint8", 2: "uint16", 4: "uint32"}


def code_dtype_names(f: Format) -> Tuple[Optional[str], Optional[str]]:
    return _CODE_DTYPES.get(f.key, (None, None))


def _numpy_dtype(name: str):
    return np.dtype(getattr(ml_dtypes, name)) if hasattr(ml_dtypes, name) else np.dtype(name)


def _element_format(args) -> Format:
    return _format(args.fmt, "", _NO_BIAS, False)


def codes_shape(shape: Tuple[int, ...], nbytes: int, bits: int) -> Tuple[int, ...]:
    """The shape packed (4- and 6-bit) codes get: x's shape with the last
    dimension in bytes when every row is a whole number of bytes, else flat."""
    if len(shape) >= 1 and shape[-1] * bits % 8 == 0:
        return tuple(shape[:-1]) + (shape[-1] * bits // 8,)
    return (nbytes,)


def scales_shape(shape: Tuple[int, ...], count: int, args) -> Tuple[int, ...]:
    """Block scales shaped x.shape[:-1] + (blocks per row,) when blocks do not
    cross rows; tile scales (tile rows, tile columns); else flat."""
    if args.scaling in ("mx", "block", "nvfp4") and len(shape) >= 1 and shape[-1] % args.block_size == 0:
        return tuple(shape[:-1]) + (shape[-1] // args.block_size,)
    if args.scaling == "tile" and len(shape) >= 1:
        across = max(1, -(-shape[-1] // args.tile_cols))
        return (count // across, across)
    return (count,)


def pack_codes(codes: np.ndarray, bits: int) -> np.ndarray:
    """One code per byte (element order) -> pqt's packed stream (element k in
    bits k*bits ... of the little-endian stream)."""
    flat = np.ascontiguousarray(codes).reshape(-1).view(np.uint8)
    bitplanes = ((flat[:, None] >> np.arange(bits, dtype=np.uint8)) & 1).astype(np.uint8).reshape(-1)
    return np.packbits(bitplanes, bitorder="little")


def unpack_codes(packed: np.ndarray, n: int, bits: int) -> np.ndarray:
    """pqt's packed stream -> one uint8 code per element."""
    planes = np.unpackbits(np.ascontiguousarray(packed).reshape(-1).view(np.uint8), bitorder="little")[: n * bits]
    return (planes.reshape(n, bits).astype(np.uint8) << np.arange(bits, dtype=np.uint8)).sum(axis=1, dtype=np.uint8)


# ---- arrays --------------------------------------------------------------------------

_ELEM_F32, _ELEM_BF16, _ELEM_F16 = 0, 1, 2
_NUMPY_ELEMS = {np.dtype(np.float32): _ELEM_F32, np.dtype(ml_dtypes.bfloat16): _ELEM_BF16, np.dtype(np.float16): _ELEM_F16}


def _is_torch(x) -> bool:
    return type(x).__module__.split(".", 1)[0] == "torch"


def _torch_module():
    from . import torch as pt  # noqa: PLC0415 (lazy: pqt never imports torch itself)

    return pt


def _numpy_elem(x: np.ndarray, what: str = "x") -> int:
    e = _NUMPY_ELEMS.get(x.dtype)
    if e is None:
        raise TypeError(f"pqt: {what} must be float32, bfloat16 (ml_dtypes) or float16, got {x.dtype}")
    return e


def _raw(x: np.ndarray, e: int) -> np.ndarray:
    """bfloat16 arrays go to C++ as their uint16 bits (numpy has no DLPack bfloat16)."""
    return x.view(np.uint16) if e == _ELEM_BF16 else x


def _check_array(x, fn: str):
    if isinstance(x, np.ndarray):
        return "numpy"
    if _is_torch(x):
        return "torch"
    raise TypeError(f"pqt.{fn}: expected a numpy array or a torch tensor, got {type(x).__name__}")


def _cols(shape) -> int:
    return int(shape[-1]) if len(shape) >= 1 else 0


# ---- operations -----------------------------------------------------------------------


def fake_quant(x, fmt: str = "e4m3", scaling: str = "none", round: str = "nearest_even", overflow: str = "saturate", **options):
    """x rounded to ``fmt`` under ``scaling`` and ``round`` (= dequantize(quantize(x))),
    same type, shape, device and dtype as x. Options (README "Python API"):
    block_size, random_bits, sigma, seed, offset, index_base, tensor_scale,
    margin, power_of_two, e8m0_rule, tile, threads. Torch tensors: a
    straight-through gradient (torch.ops.pqt.fake_quant)."""
    if _check_array(x, "fake_quant") == "torch":
        return _torch_module().fake_quant(x, fmt, scaling, round, overflow, **options)
    args = prepare(quant_args, fmt, scaling, round, overflow, **options)[0]
    e = _numpy_elem(x)
    out = np.empty_like(x, order="C")
    _pqt.fake_quant(_raw(x, e), _raw(out, e), e, config(args), _cols(x.shape), 0)
    return out


class Quantized(NamedTuple):
    """quantize's result: ``codes`` (typed where numpy/torch has the format's
    dtype, else unsigned bytes/words; FP4/FP6 packed unless packed=False),
    ``scales`` (e8m0 as float8_e8m0fnu, NVFP4's ue4m3 as float8_e4m3fn; empty
    without block/tile scaling), ``tensor_scale`` (a 1-element float32 array
    or tensor: s for tensor scaling, NVFP4's fp32 scale, else 1), and what
    dequantize needs: the original shape and dtype, and the options."""

    codes: Any
    scales: Any
    tensor_scale: Any
    shape: Tuple[int, ...]
    dtype: Any
    args: QuantArgs
    packed: bool = True


def quantize(x, fmt: str = "e4m3", scaling: str = "none", round: str = "nearest_even", overflow: str = "saturate",
             packed: bool = True, **options) -> Quantized:
    """Codes and scales of x (README "Python API" for the layout and dtypes)."""
    if _check_array(x, "quantize") == "torch":
        if not packed:
            raise ValueError("pqt.quantize: packed=False is for numpy arrays; torch codes are packed (float4_e2m1fn_x2)")
        return _torch_module().quantize(x, fmt, scaling, round, overflow, **options)
    args = prepare(quant_args, fmt, scaling, round, overflow, **options)[0]
    e = _numpy_elem(x)
    cfg = config(args)
    n, cols = int(x.size), _cols(x.shape)
    codes = np.empty(_pqt.code_bytes(cfg, n), dtype=np.uint8)
    scales = np.empty(_pqt.scale_count(cfg, n, cols), dtype=np.uint8)
    ts = np.empty(1, dtype=np.float32)
    _pqt.quantize(_raw(x, e), e, cfg, cols, codes, scales, ts, 0)
    f = _element_format(args)
    name, _ = code_dtype_names(f)
    packed = packed or f.bits not in (4, 6)  # only FP4 and FP6 codes are ever packed
    if f.bits in (4, 6):
        if packed:
            codes = codes.reshape(codes_shape(x.shape, codes.size, f.bits))
        else:
            codes = unpack_codes(codes, n, f.bits).reshape(x.shape)
            if name is not None:
                codes = codes.view(_numpy_dtype(name))
    else:
        codes = codes.view(_numpy_dtype(name) if name is not None else np.dtype(_UINT[f.storage_bytes])).reshape(x.shape)
    scale_dtype = "float8_e4m3fn" if args.scaling == "nvfp4" else "float8_e8m0fnu"
    scales = scales.view(_numpy_dtype(scale_dtype)).reshape(scales_shape(x.shape, scales.size, args))
    return Quantized(codes, scales, ts, tuple(x.shape), x.dtype, args, packed)


def dequantize(q: Quantized, dtype=None):
    """The values of q's codes (its options), as q's original dtype or ``dtype``."""
    if not isinstance(q, Quantized):
        raise TypeError(f"pqt.dequantize: expected the Quantized that pqt.quantize returned, got {type(q).__name__}")
    kind = _check_array(q.codes, "dequantize")
    if kind == "torch":
        return _torch_module().dequantize(q, dtype)
    dtype = np.dtype(q.dtype if dtype is None else dtype)
    out = np.empty(q.shape, dtype=dtype)
    e = _numpy_elem(out, "dtype")
    cfg = config(q.args)
    codes = q.codes
    bits = _element_format(q.args).bits
    if not q.packed and bits in (4, 6):
        codes = pack_codes(codes, bits)
    _pqt.dequantize(_bytes(codes), _bytes(q.scales), q.tensor_scale, cfg, _cols(q.shape), _raw(out, e), e, 0)
    return out


def _bytes(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8)


def gaussws(w, bits: int = 9, noise: str = "r", delta: str = "block", out_dtype=None, **options):
    """GaussWS: cast(w + noise * Delta), formed exactly and rounded once to
    ``out_dtype`` (bfloat16 by default, or float32). Options: fmt (element
    Delta), scaling ("block", "tensor", "tile"), block_size, sigma, tile,
    seed, offset, index_base, threads. Torch tensors: a straight-through
    gradient (torch.ops.pqt.gaussws)."""
    if _check_array(w, "gaussws") == "torch":
        return _torch_module().gaussws(w, bits, noise, delta, out_dtype, **options)
    args = prepare(gaussws_args, bits, noise, delta, **options)[0]
    e = _numpy_elem(w, "w")
    od = np.dtype(ml_dtypes.bfloat16 if out_dtype is None else out_dtype)
    if od not in (np.dtype(ml_dtypes.bfloat16), np.dtype(np.float32)):
        raise TypeError(f"pqt.gaussws: out_dtype must be bfloat16 or float32, got {od}")
    out = np.empty(w.shape, dtype=od)
    bf = od == np.dtype(ml_dtypes.bfloat16)
    _pqt.gaussws(_raw(w, e), e, out.view(np.uint16) if bf else out, bf, gaussws_config(args), _cols(w.shape), 0)
    return out

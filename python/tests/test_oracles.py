"""pqt through Python against independent implementations: torch's own
casts, ml_dtypes' astype, and torchao's MX quantizer. Every difference must
fall in a documented class (README "What differs from torch's casts"); any
other difference fails."""

import ml_dtypes
import numpy as np
import pytest

import pqt
from conftest import bits_equal, same_values

SEED = 20261207


def _inputs():
    """Every bf16 bit pattern (widened), 10^6 random float32 bit patterns, and
    each format's values, midpoints and their float neighbours."""
    bf = (np.arange(1 << 16, dtype=np.uint32) << 16).view(np.float32)
    rnd = np.random.default_rng(SEED).integers(0, 1 << 32, 10**6, dtype=np.uint64).astype(np.uint32).view(np.float32)
    edges = []
    for name in ("e4m3", "e5m2", "e4m3fnuz", "e5m2fnuz", "e3m2", "e2m3", "e2m1", "e3m4"):
        v = pqt.format(name).values
        v = np.unique(v[np.isfinite(v)].astype(np.float64))
        mids = (v[1:] + v[:-1]) / 2
        pts = np.concatenate([v, mids, [v.max() * 1.0625, v.max() * 2]]).astype(np.float32)
        edges += [pts, np.nextafter(pts, np.float32(np.inf)), np.nextafter(pts, np.float32(-np.inf))]
    return np.concatenate([bf, rnd] + edges).astype(np.float32)


X = _inputs()


def _is_nan_code(codes, dtype):
    return np.isnan(codes.view(dtype).astype(np.float32))


# ---- torch's casts -------------------------------------------------------------------

torch = pytest.importorskip("torch")
import pqt.torch  # noqa: E402,F401

# pqt options that reproduce x.to(dtype) (README table); torch 2.x saturates
# float8_e4m3fn (Inf included) and is nonsaturating for the others.
TORCH_CASTS = [
    ("e4m3", "float8_e4m3fn", "saturate"),
    ("e5m2", "float8_e5m2", "nonsaturating"),
    ("e4m3fnuz", "float8_e4m3fnuz", "nonsaturating"),
    ("e5m2fnuz", "float8_e5m2fnuz", "nonsaturating"),
    ("bf16", "bfloat16", "nonsaturating"),
    ("fp16", "float16", "nonsaturating"),
]


@pytest.mark.parametrize("fmt,dtype,overflow", TORCH_CASTS)
def test_torch_casts(fmt, dtype, overflow):
    dt = getattr(torch, dtype)
    x = torch.from_numpy(X)
    theirs = x.to(dt)
    ours = pqt.quantize(x, fmt=fmt, overflow=overflow).codes
    assert ours.dtype == dt
    u = torch.uint8 if dt.itemsize == 1 else torch.int16
    a, b = ours.view(u).numpy(), theirs.view(u).numpy()
    diff = a != b
    # The one class: NaN input. pqt writes its canonical NaN code (README "NaN
    # codes"); torch keeps the sign (and, for bf16/fp16, payload bits). Both are NaN.
    assert np.all(np.isnan(X[diff])), X[diff][~np.isnan(X[diff])][:10]
    assert torch.isnan(ours[diff].float()).all() and torch.isnan(theirs[diff].float()).all()
    assert diff.sum() < np.isnan(X).sum() + 1
    # and back: torch decodes pqt's codes to pqt's values (NaN: any NaN)
    assert same_values(ours[~torch.from_numpy(diff)].float().numpy(),
                      pqt.fake_quant(X[~diff], fmt=fmt, overflow=overflow))


# ---- ml_dtypes ----------------------------------------------------------------------

ML = [
    ("e4m3", ml_dtypes.float8_e4m3fn), ("e5m2", ml_dtypes.float8_e5m2), ("e4m3fnuz", ml_dtypes.float8_e4m3fnuz),
    ("e5m2fnuz", ml_dtypes.float8_e5m2fnuz), ("e3m4", ml_dtypes.float8_e3m4), ("e3m2", ml_dtypes.float6_e3m2fn),
    ("e2m3", ml_dtypes.float6_e2m3fn), ("e2m1", ml_dtypes.float4_e2m1fn), ("bf16", ml_dtypes.bfloat16),
    ("fp16", np.float16),
]


@pytest.mark.parametrize("fmt,dtype", ML, ids=[m[0] for m in ML])
def test_ml_dtypes_astype(fmt, dtype):
    # ml_dtypes' astype: nearest-even, never saturating where the format has Inf or NaN
    q = pqt.quantize(X, fmt=fmt, overflow="nonsaturating", packed=False)
    ours = np.ascontiguousarray(q.codes)
    with np.errstate(over="ignore", invalid="ignore"):  # NaN and overflow are part of the input
        theirs = X.astype(dtype)
    u = np.uint8 if np.dtype(dtype).itemsize == 1 else np.uint16
    a, b = ours.view(u), theirs.view(u)
    diff = a != b
    f = pqt.format(fmt)
    xd = X[diff]
    nan_in = np.isnan(xd)
    if f.has_nan:
        # NaN input: canonical NaN code vs sign-keeping NaN; e4m3 (fn) negative
        # overflow: pqt's canonical NaN 0x7f, ml_dtypes 0xff. Both NaN.
        neg_over = (xd < 0) & ~nan_in & (fmt == "e4m3")
        assert np.all(nan_in | neg_over), xd[~(nan_in | neg_over)][:10]
        assert np.all(_is_nan_code(a[diff], dtype)) and np.all(_is_nan_code(b[diff], dtype))
    else:
        # formats with no NaN: pqt gives +max for NaN (as CUDA's FP4/FP6
        # conversions), ml_dtypes a zero.
        assert np.all(nan_in), xd[~nan_in][:10]
        assert np.all(ours[diff].astype(np.float32) == f.max) and np.all(theirs[diff].astype(np.float32) == 0)


# ---- torchao MX ----------------------------------------------------------------------

# torchao is imported inside its tests: if its prototype API moves, those
# tests fail; the torch and ml_dtypes oracles above still run.


def _mx_inputs():
    """Blocks of 32 with block amax from 2^-20 to 2^20, some all-zero blocks
    (finite inputs: torchao's FLOOR path; see the test's classes)."""
    rng = np.random.default_rng(SEED + 1)
    rows, cols = 512, 256
    x = rng.standard_normal((rows, cols)).astype(np.float32)
    x *= np.exp2(rng.integers(-20, 20, (rows, cols // 32, 1))).repeat(32, axis=2).reshape(rows, cols).astype(np.float32)
    x[::37, :32] = 0
    x[5, 40] = 1e30
    return x


@pytest.mark.parametrize("fmt,elem", [("e4m3", "float8_e4m3fn"), ("e5m2", "float8_e5m2"), ("e2m3", "fp6_e2m3"),
                                      ("e3m2", "fp6_e3m2"), ("e2m1", "float4_e2m1fn_x2")])
@pytest.mark.parametrize("rule", ["floor", "rceil"])
def test_torchao_mx(fmt, elem, rule):
    from torchao.prototype.mx_formats import constants
    from torchao.prototype.mx_formats import mx_tensor as torchao_mx
    from torchao.prototype.mx_formats.config import ScaleCalculationMode

    mode = ScaleCalculationMode.FLOOR if rule == "floor" else ScaleCalculationMode.RCEIL

    elem_dtype = getattr(torch, elem, None) or getattr(constants, "DTYPE_" + elem.upper(), elem)
    x = _mx_inputs()
    xt = torch.from_numpy(x)
    scale, data = torchao_mx.to_mx(xt, elem_dtype, 32, scaling_mode=mode)
    values = torchao_mx.to_dtype(data, scale, elem_dtype, 32, torch.float32)
    q = pqt.quantize(xt, fmt=fmt, scaling="mx", e8m0_rule=rule, overflow="saturate")
    ours_scales = q.scales.view(torch.uint8).numpy()
    theirs_scales = scale.view(torch.uint8).numpy()
    assert bits_equal(ours_scales, theirs_scales.reshape(ours_scales.shape))
    ours = pqt.fake_quant(x, fmt=fmt, scaling="mx", e8m0_rule=rule, overflow="saturate")
    diff = ours.view(np.uint32) != values.numpy().view(np.uint32)
    # The one class: blocks whose scale is 2^-127 (e8m0 code 0; here the all-zero
    # blocks, where both give 0 anyway): torchao divides by 2^-126 instead.
    tiny_block = (ours_scales == 0).repeat(32, axis=1).reshape(x.shape)
    assert np.all(tiny_block[diff]), (x[diff][:5], ours[diff][:5], values.numpy()[diff][:5])


def test_torchao_nvfp4():
    """torchao's NVFP4 reference (nvfp4_quantize with its per-tensor scale)
    against scaling="nvfp4". The tensor scale agrees bit for bit. torchao
    forms the block scale as (amax / 6) / s_t and the element as
    x * ((1 / s_t) / scale) in float32, several roundings; pqt divides
    exactly and rounds once. Every difference must be one of those roundings:
    pqt's code is the once-rounded exact quotient, torchao's the rounding of
    its float32 product (both predicted here with ml_dtypes from float64)."""
    from torchao.prototype.mx_formats.nvfp4_tensor import nvfp4_quantize, per_tensor_amax_to_scale

    rng = np.random.default_rng(SEED + 2)
    # NVFP4's dynamic range (block amax within 2^-8 of the tensor's), a few tiny blocks
    x = (rng.standard_normal((512, 256)) * np.exp2(rng.integers(-8, 1, (512, 16, 1))).repeat(16, axis=2).reshape(512, 256))
    x = x.astype(np.float32)
    x[::61, :16] *= np.float32(2**-12)
    xt = torch.from_numpy(np.ascontiguousarray(x))
    pts = per_tensor_amax_to_scale(xt.abs().max())
    scales, data = nvfp4_quantize(xt, 16, pts)
    q = pqt.quantize(xt, fmt="e2m1", scaling="nvfp4")
    assert bits_equal(q.tensor_scale.numpy(), pts.reshape(1).numpy())
    s_t = np.float64(pts.item())
    amax = np.abs(x.reshape(-1, 16)).max(axis=1).astype(np.float64)
    ours_s = q.scales.view(torch.uint8).numpy().reshape(-1)
    theirs_s = scales.view(torch.uint8).numpy().reshape(-1)
    exact_s = (amax / (6 * s_t)).astype(ml_dtypes.float8_e4m3fn).view(np.uint8)
    # torchao also clamps the block scale to at least 2^-6 (e4m3's smallest
    # normal): a block whose scale would be subnormal or 0 (amax below
    # 2^-6 * 6 * s_t) keeps its small elements where pqt flushes them.
    f32_s = np.clip((amax.astype(np.float32) / np.float32(6)) / np.float32(s_t), np.float32(2**-6), np.float32(448))
    f32_s = f32_s.astype(ml_dtypes.float8_e4m3fn).view(np.uint8)
    bad_s = ours_s != theirs_s
    assert np.array_equal(ours_s, exact_s) and np.array_equal(theirs_s, f32_s)
    assert bad_s.sum() < 0.05 * bad_s.size, bad_s.sum()  # the classes are rare on these inputs
    # elements, in blocks whose scales agree
    b = ours_s.astype(np.uint8).view(ml_dtypes.float8_e4m3fn).astype(np.float64)
    xb = x.reshape(-1, 16).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):  # zero block scales: those blocks are excluded below
        exact = np.clip(xb / (b[:, None] * s_t), -6, 6).astype(ml_dtypes.float4_e2m1fn).view(np.uint8)
        recip = (np.float32(1) / np.float32(s_t)) / b.astype(np.float32)
        f32 = np.clip(x.reshape(-1, 16) * recip[:, None], -6, 6).astype(ml_dtypes.float4_e2m1fn).view(np.uint8)
    ours = pqt.quantize(x, fmt="e2m1", scaling="nvfp4", packed=False).codes.reshape(-1, 16).view(np.uint8)
    theirs = np.stack([data.numpy().reshape(-1, 8) & 0xF, data.numpy().reshape(-1, 8) >> 4], axis=-1).reshape(-1, 16)
    ok = ~bad_s
    assert np.array_equal(ours[ok], exact[ok] & 0xF)
    diff = ours[ok] != theirs[ok]
    assert np.array_equal(theirs[ok][diff], f32[ok][diff] & 0xF)
    assert ok.sum() > 0.9 * ok.size

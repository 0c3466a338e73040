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


def test_torch_e8m0_cast_is_pqt_nearest_away_on_scales():
    # torch's float -> float8_e8m0fnu rounds ties (1.5 * 2^k) up, like ml_dtypes;
    # pqt's MX scales come from the e8m0 rules, never from this cast. Documented, not used.
    t = torch.tensor([3.0, 6.0, 1.0]).to(torch.float8_e8m0fnu).view(torch.uint8).tolist()
    assert t == [129, 130, 127]


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

torchao_mx = pytest.importorskip("torchao.prototype.mx_formats.mx_tensor")
from torchao.prototype.mx_formats.config import ScaleCalculationMode  # noqa: E402


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
@pytest.mark.parametrize("mode,rule", [(ScaleCalculationMode.FLOOR, "floor"), (ScaleCalculationMode.RCEIL, "rceil")])
def test_torchao_mx(fmt, elem, mode, rule):
    from torchao.prototype.mx_formats import constants

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

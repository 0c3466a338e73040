"""pqt on numpy arrays: bit-exact against the C++ API (pqt_ref), formats,
shards, 16-bit inputs, and the errors of bad input."""

import ml_dtypes
import numpy as np
import pytest

import pqt
from conftest import bits_equal, make_inputs, same_values

# (python options, pqt_ref keys): one case per scaling and several modes
CASES = [
    (dict(fmt="e4m3"), dict(fmt="e4m3")),
    (dict(fmt="e5m2", overflow="nonsaturating"), dict(fmt="e5m2", overflow="nonsaturating")),
    (dict(fmt="e2m1", round="toward_zero"), dict(fmt="e2m1", round="toward_zero")),
    (dict(fmt="e3m2", round="upward"), dict(fmt="e3m2", round="upward")),
    (dict(fmt="e2m3", round="odd"), dict(fmt="e2m3", round="odd")),
    (dict(fmt="bf16"), dict(fmt="bf16")),
    (dict(fmt="e8m3", round="stochastic", random_bits=8, seed=7, offset=3),
     dict(fmt="e8m3", round="stochastic", random_bits=8, seed=7, offset=3)),
    (dict(fmt="e4m3", round="gaussian", sigma=0.75, seed=2**64 - 1, offset=5),
     dict(fmt="e4m3", round="gaussian", sigma=0.75, seed=2**64 - 1, offset=5)),
    (dict(fmt="e4m3", scaling="tensor"), dict(fmt="e4m3", scaling="tensor")),
    (dict(fmt="e5m2", scaling="tensor", tensor_scale=2.5), dict(fmt="e5m2", scaling="tensor", tensor_scale=2.5)),
    (dict(fmt="e4m3", scaling="mx"), dict(fmt="e4m3", scaling="block")),
    (dict(fmt="e2m1", scaling="mx", e8m0_rule="rceil"), dict(fmt="e2m1", scaling="block", e8m0_rule="rceil")),
    (dict(fmt="e3m2", scaling="mx", round="stochastic", seed=11),
     dict(fmt="e3m2", scaling="block", round="stochastic", seed=11)),
    (dict(fmt="e2m3", scaling="mx", block_size=16, round="nearest_away"),
     dict(fmt="e2m3", scaling="block", block_size=16, round="nearest_away")),
    (dict(fmt="e2m1", scaling="nvfp4"), dict(fmt="e2m1", scaling="block", block_kind="nvfp4", block_size=16)),
    (dict(fmt="e2m1", scaling="nvfp4", round="stochastic", seed=3),
     dict(fmt="e2m1", scaling="block", block_kind="nvfp4", block_size=16, round="stochastic", seed=3)),
    (dict(fmt="e4m3", scaling="tile", tile=(16, 8)), dict(fmt="e4m3", scaling="tile", tile_rows=16, tile_cols=8)),
]
SHAPE = (48, 40)  # 1920 elements: several chunks of blocks, rows of whole bytes, partial tiles


def _ids(case):
    return "-".join(f"{k}={v}" for k, v in case[0].items())


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_fake_quant_and_quantize_match_cpp(ref, case):
    opts, keys = case
    x = make_inputs(SHAPE[0] * SHAPE[1], seed=len(_ids(case))).reshape(SHAPE)
    if keys.get("scaling") == "tile":
        keys = dict(keys, rows=SHAPE[0], cols=SHAPE[1])
    y = pqt.fake_quant(x, **opts)
    assert y.shape == x.shape and y.dtype == np.float32
    assert bits_equal(y, ref.fake_quant(x, **keys))

    q = pqt.quantize(x, **opts)
    codes, scales, ts = ref.quantize(x, **keys)
    assert bits_equal(np.ascontiguousarray(q.codes).reshape(-1).view(np.uint8), codes)
    assert bits_equal(np.ascontiguousarray(q.scales).reshape(-1).view(np.uint8), scales)
    assert bits_equal(q.tensor_scale, ts)
    assert bits_equal(pqt.dequantize(q), y)  # dequantize(quantize(x)) == fake_quant(x)


@pytest.mark.skipif(not pqt._pqt.openmp, reason="pqt was built without OpenMP: one thread only")
def test_threads_do_not_change_bits():
    x = make_inputs(1 << 18, seed=5)
    for opts in [dict(fmt="e4m3", scaling="mx", round="stochastic", seed=1), dict(fmt="e2m1", scaling="nvfp4"),
                 dict(fmt="e5m2", round="gaussian", seed=2)]:
        assert bits_equal(pqt.fake_quant(x, threads=1, **opts), pqt.fake_quant(x, threads=2, **opts))


@pytest.mark.parametrize("opts", [dict(fmt="e4m3", scaling="mx", round="stochastic", seed=9, offset=4),
                                  dict(fmt="e5m2", round="gaussian", seed=1),
                                  dict(fmt="e2m1", scaling="mx", round="stochastic", seed=5, block_size=16)])
def test_shards_with_index_base_equal_whole(opts):
    # Block scaling: cut at block boundaries (a multiple of 32), as a sharded parameter would be.
    x = make_inputs(4096, seed=3)
    whole = pqt.fake_quant(x, **opts)
    for cut in (32, 1024, 4064):
        a = pqt.fake_quant(x[:cut], index_base=0, **opts)
        b = pqt.fake_quant(x[cut:], index_base=cut, **opts)
        assert bits_equal(np.concatenate([a, b]), whole), cut
    assert not bits_equal(pqt.fake_quant(x[32:], index_base=0, **opts), whole[32:])  # the index matters


@pytest.mark.parametrize("dtype", [ml_dtypes.bfloat16, np.float16])
@pytest.mark.parametrize("opts", [dict(fmt="e4m3", scaling="mx"), dict(fmt="e2m1", scaling="nvfp4"),
                                  dict(fmt="e5m2", round="stochastic", seed=4), dict(fmt="e3m2", scaling="tensor")])
def test_16bit_inputs_read_exactly(dtype, opts):
    x = make_inputs(2048, seed=8, wide=False).astype(dtype)
    y = pqt.fake_quant(x, **opts)
    assert y.dtype == x.dtype
    # read exactly, rounded once (nearest-even) into the input's dtype; NaN is
    # pqt's canonical NaN of the dtype, numpy's astype keeps float's payload
    assert same_values(y, pqt.fake_quant(x.astype(np.float32), **opts).astype(dtype))
    q = pqt.quantize(x, **opts)
    assert bits_equal(q.codes, pqt.quantize(x.astype(np.float32), **opts).codes)
    assert bits_equal(pqt.dequantize(q), y)
    assert pqt.dequantize(q, dtype=np.float32).dtype == np.float32


GAUSSWS = [
    dict(bits=9), dict(bits=6, noise="gaussian", sigma=0.5), dict(bits=4, noise="uniform"),
    dict(delta="element", fmt="e2m1"), dict(delta="element", fmt="e3m2", noise="gaussian"),
    dict(bits=6, scaling="tensor"), dict(bits=5, scaling="tile", tile=(16, 16)),
]


@pytest.mark.parametrize("opts", GAUSSWS, ids=[str(o) for o in GAUSSWS])
@pytest.mark.parametrize("carrier", ["bf16", "float"])
def test_gaussws_matches_cpp(ref, opts, carrier):
    w = (np.random.default_rng(4).standard_normal(SHAPE) * 0.02).astype(np.float32)
    keys = {k: v for k, v in opts.items() if k != "tile"}
    if opts.get("scaling") == "tile":
        keys.update(rows=SHAPE[0], cols=SHAPE[1], tile_rows=16, tile_cols=16)
    out_dtype = ml_dtypes.bfloat16 if carrier == "bf16" else np.float32
    y = pqt.gaussws(w, seed=12, offset=7, out_dtype=out_dtype, **opts)
    assert y.dtype == out_dtype and y.shape == w.shape
    expect = ref.gaussws(w, seed=12, offset=7, carrier=carrier, **keys)
    assert bits_equal(y.reshape(-1), expect.view(np.uint16) if carrier == "bf16" else expect)
    assert not bits_equal(y, w.astype(out_dtype))  # noise was added
    # bf16 master weights: read exactly
    wb = w.astype(ml_dtypes.bfloat16)
    assert bits_equal(pqt.gaussws(wb, seed=12, offset=7, out_dtype=out_dtype, **opts),
                      pqt.gaussws(wb.astype(np.float32), seed=12, offset=7, out_dtype=out_dtype, **opts))


def test_format_facts_and_code_table():
    f = pqt.format("e3m2")
    assert (f.bits, f.exponent_bits, f.mantissa_bits, f.encoding, f.bias) == (6, 3, 2, "finite", 3)
    assert f.max == 28.0 and f.min_normal == 0.25 and f.min_subnormal == 0.0625 and f.epsilon == 0.25
    assert not f.has_inf and not f.has_nan and f.nan_code is None
    # the code table against ml_dtypes' decode (an independent implementation)
    for name, ml in [("e3m2", ml_dtypes.float6_e3m2fn), ("e2m3", ml_dtypes.float6_e2m3fn),
                     ("e2m1", ml_dtypes.float4_e2m1fn), ("e4m3", ml_dtypes.float8_e4m3fn),
                     ("e5m2", ml_dtypes.float8_e5m2), ("e3m4", ml_dtypes.float8_e3m4)]:
        v = pqt.format(name).values
        theirs = np.arange(v.size, dtype=np.uint8).view(ml).astype(np.float32)
        np.testing.assert_array_equal(v, theirs, err_msg=name)
    assert pqt.format("bf16").values.size == 65536
    e4 = pqt.format("e4m3")
    assert e4.max == 448 and e4.nan_code == 0x7F and e4.inf_code is None
    assert pqt.format("e4m3", encoding="ieee").max == 240
    assert pqt.format("e3m4", encoding="fn", bias=5, unsigned=True).signed is False


def test_quantize_dtypes_and_layout():
    x = make_inputs(64 * 32, seed=2).reshape(64, 32)
    q = pqt.quantize(x, fmt="e4m3", scaling="mx")
    assert q.codes.dtype == ml_dtypes.float8_e4m3fn and q.codes.shape == x.shape
    assert q.scales.dtype == ml_dtypes.float8_e8m0fnu and q.scales.shape == (64, 1)
    # the codes are ml_dtypes' own: their values times the scales are fake_quant's
    y = q.codes.astype(np.float32) * q.scales.astype(np.float32)
    assert bits_equal(y, pqt.fake_quant(x, fmt="e4m3", scaling="mx"))
    q4 = pqt.quantize(x, fmt="e2m1", scaling="mx")
    assert q4.codes.dtype == np.uint8 and q4.codes.shape == (64, 16)  # packed: two per byte
    u4 = pqt.quantize(x, fmt="e2m1", scaling="mx", packed=False)
    assert u4.codes.dtype == ml_dtypes.float4_e2m1fn and u4.codes.shape == x.shape
    lo = q4.codes.reshape(-1) & 0xF  # element 2k in the low nibble
    assert np.array_equal(lo, u4.codes.reshape(-1)[::2].view(np.uint8))
    assert bits_equal(pqt.dequantize(u4), pqt.dequantize(q4))
    u6 = pqt.quantize(x, fmt="e3m2", scaling="mx", packed=False)
    assert u6.codes.dtype == ml_dtypes.float6_e3m2fn
    assert bits_equal(pqt.dequantize(u6), pqt.fake_quant(x, fmt="e3m2", scaling="mx"))
    qb = pqt.quantize(x, fmt="bf16")
    assert qb.codes.dtype == ml_dtypes.bfloat16
    qe = pqt.quantize(x, fmt="e6m5")  # 12 bits: uint16 codes
    assert qe.codes.dtype == np.uint16
    qn = pqt.quantize(x, fmt="e2m1", scaling="nvfp4")
    assert qn.scales.dtype == ml_dtypes.float8_e4m3fn and qn.scales.shape == (64, 2)


BAD = [
    (dict(fmt="e9m2"), ValueError, "E9M2"),
    (dict(fmt="fp9"), ValueError, "unknown format"),
    (dict(round="nearest"), ValueError, "unknown rounding"),
    (dict(overflow="clamp"), ValueError, "overflow"),
    (dict(scaling="row"), ValueError, "unknown scaling"),
    (dict(scaling="mx", block_size=0), ValueError, "block_size"),
    (dict(scaling="nvfp4", fmt="e4m3"), ValueError, "NVFP4 block scaling needs e2m1"),
    (dict(round="stochastic", random_bits=0), ValueError, "random_bits"),
    (dict(scaling="tensor", tensor_scale=float("inf")), ValueError, "tensor_scale"),
    (dict(scaling="tensor", tensor_scale=float("nan")), ValueError, "tensor_scale"),
    (dict(seed=-1), ValueError, "seed"),
    (dict(seed=2**64), ValueError, "seed"),
    (dict(seed=1.5), TypeError, "seed"),
    (dict(fmt="e8m0"), ValueError, "scale format"),
    (dict(e8m0_rule="round"), ValueError, "e8m0"),
    (dict(threads=-1), ValueError, "threads"),
    (dict(round="gaussian", sigma=float("nan")), ValueError, "sigma"),
]


@pytest.mark.parametrize("opts,exc,msg", BAD, ids=[str(b[0]) for b in BAD])
def test_bad_options_raise(opts, exc, msg):
    x = np.ones(64, dtype=np.float32)
    with pytest.raises(exc, match=msg):
        pqt.fake_quant(x, **opts)
    with pytest.raises(exc, match=msg):
        pqt.quantize(x, **opts)


def test_bad_arrays_raise():
    with pytest.raises(TypeError, match="float32, bfloat16"):
        pqt.fake_quant(np.ones(4, dtype=np.float64))
    with pytest.raises(TypeError, match="numpy array or a torch tensor"):
        pqt.fake_quant([1.0, 2.0])
    with pytest.raises(ValueError, match="contiguous"):
        pqt.fake_quant(np.ones((8, 8), dtype=np.float32)[:, ::2])
    with pytest.raises(ValueError, match="tile scaling needs an array"):
        pqt.fake_quant(np.array(1.0, dtype=np.float32), scaling="tile")
    with pytest.raises(ValueError, match="element-mode Delta needs block"):
        pqt.gaussws(np.ones(64, dtype=np.float32), delta="element", scaling="tensor")
    with pytest.raises(TypeError, match="out_dtype"):
        pqt.gaussws(np.ones(64, dtype=np.float32), out_dtype=np.float16)
    with pytest.raises(TypeError, match="Quantized"):
        pqt.dequantize(np.ones(4, dtype=np.uint8))
    ro = np.ones(64, dtype=np.float32)
    ro.setflags(write=False)
    assert pqt.fake_quant(ro).flags.writeable  # read-only input is fine


def test_more_bad_input():
    x = np.ones(64, dtype=np.float32)
    with pytest.raises(ValueError, match="threads must be in 0..1024"):
        pqt.fake_quant(x, threads=1025)
    with pytest.raises(ValueError, match="threads must be in 0..1024"):
        pqt.gaussws(x, threads=5000)
    with pytest.raises(ValueError, match="smallest normal"):
        pqt.fake_quant(x, scaling="tensor", tensor_scale=1e-50)
    with pytest.raises(TypeError, match="power_of_two"):
        pqt.fake_quant(x, scaling="tensor", power_of_two=1)
    pqt.fake_quant(x, seed=1)
    with pytest.raises(TypeError, match="seed"):  # not cached as seed=1
        pqt.fake_quant(x, seed=True)
    buf = np.zeros(65 * 4, dtype=np.uint8)
    with pytest.raises(ValueError, match="aligned"):
        pqt.fake_quant(np.frombuffer(buf, dtype=np.float32, count=64, offset=1))
    with pytest.raises(ValueError, match="at most 16 bits"):
        pqt.format("fp32").values


def test_unpacked_codes_and_read_only_quantized():
    x = make_inputs(32 * 8, seed=6).reshape(8, 32)
    for fmt in ("e2m2", "e3m3", "e4m3", "bf16", "e5m7", "e2m1", "e3m2"):
        q = pqt.quantize(x, fmt=fmt, scaling="mx" if pqt.format(fmt).bits <= 8 else "none", packed=False)
        y = pqt.dequantize(q)
        assert same_values(y, pqt.fake_quant(x, fmt=fmt, scaling="mx" if pqt.format(fmt).bits <= 8 else "none")), fmt
        for a in (q.codes, q.scales, q.tensor_scale):
            a.setflags(write=False)  # e.g. loaded with np.load(mmap_mode="r")
        assert bits_equal(pqt.dequantize(q), y)


def test_tile_scaling_of_empty_arrays():
    for shape in [(0, 5), (5, 0), (0, 0)]:
        q = pqt.quantize(np.zeros(shape, dtype=np.float32), scaling="tile", tile=(4, 4))
        assert q.scales.size == 0 and pqt.dequantize(q).shape == shape


def test_empty_and_scalar():
    assert pqt.fake_quant(np.zeros(0, dtype=np.float32)).shape == (0,)
    y = pqt.fake_quant(np.array(1.3, dtype=np.float32))
    assert y.shape == () and y == 1.25
    q = pqt.quantize(np.zeros((0, 32), dtype=np.float32), scaling="mx")
    assert q.codes.shape == (0, 32) and pqt.dequantize(q).shape == (0, 32)


def test_import_does_not_import_torch():
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-c", "import sys, pqt; pqt.fake_quant(__import__('numpy').ones(3, 'float32'));"
                        "assert 'torch' not in sys.modules, 'torch imported'"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

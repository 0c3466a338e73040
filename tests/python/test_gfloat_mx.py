#!/usr/bin/env python3
"""Differential test of pqt's MX block quantization against gfloat's.

    test_gfloat_mx.py PATH/TO/pqt_codes

For MXFP8 (E4M3, E5M2), MXFP6 (E3M2, E2M3) and MXFP4 (E2M1), random tensors
(normal data, outliers, all-zero and signed-zero blocks, float32 subnormals,
element-subnormal and element-tie blocks, amax on and next to powers of two,
saturating blocks, float32-max blocks, random bit patterns, Inf/NaN blocks; a
32017-element tensor, sizes 1, 5, 31, 32, 33, 63, 64, 100, 257, i.e. both
multiples of 32 and partial last blocks, and one block of every kind; fixed
seed) go through

  pqt:    `pqt_codes mx FORMAT` = pqt::quantize / pqt::dequantize with
          pqt::quant_config::mx(pqt::format_desc::parse(FORMAT)) (blocks of 32,
          nearest_even, saturate, the OCP floor rule); pqt_codes itself checks
          that serial fake_quant gives the same bits as the (OpenMP) quantize
          + dequantize;
  gfloat: per block of 32 (the last one partial), gfloat 0.5.2's MX API with
          the formats gfloat.formats.format_info_mxfp8_e4m3 / _mxfp8_e5m2 /
          _mxfp6_e3m2 / _mxfp6_e2m3 / _mxfp4_e2m1 (BlockFormatInfo: element
          FormatInfo, k = 32, scale format_info_ocp_e8m0):
    (A) s = gfloat.compute_scale_amax(etype.emax, x), x widened exactly to
        float64; encode_block(fi, s, x / s) (TiesToEven, saturating) gives the
        e8m0 scale code and the element codes; decode_block gives the values.
        Compared with pqt bit for bit: scale codes, element codes, values
        (pqt's float32 widened to float64; the sign of zero counts; NaN
        matches NaN).
    (B) gfloat.quantize_block(fi, x, compute_scale_amax) on the float32 block
        as it is (gfloat's one-call API, as a user with float32 data calls
        it): values compared bit for bit.

gfloat's rule is pqt's: X = 2^clip(floor(log2 amax) - emax_elem, -127, 127)
(OCP MX v1.0 section 6.3, shared_exp = floor(log2(max |V_i|)) - emax_elem,
elements quantized to the element format with round-to-nearest-even and
normal numbers clamped to the format's max). Both give an all-zero block
(+0 or -0 elements) the scale 2^-127 (code 0x00) -- the spec leaves it free;
both clip a scale below 2^-127 to 2^-127; both saturate elements that the
floor rule puts above max_elem (e.g. E4M3 amax / X in (448, 512) -> 448,
E2M1 amax / X in (6, 8) -> 6). All of that is checked to be identical, with
no documented class involved.

Every other disagreement must fall in exactly one of these classes, each of
which predicts both sides exactly; anything else fails the test:

  inf_block       The block has an Inf and no NaN. pqt: scale 0xFF (NaN, its
                  rule for an Inf/NaN amax, scale.hpp), every value NaN, every
                  element code pqt's NaN code (E4M3/E5M2 0x7F) or, for FP6/FP4
                  (no NaN), +max (E3M2 0x1F, E2M3 0x1F, E2M1 0x7). gfloat:
                  log2(Inf) clipped to 127, scale 0xFE = 2^127; Inf elements
                  saturate to +-max_elem (values +-max_elem * 2^127, beyond
                  float32's range), finite elements are x / 2^127 rounded
                  (predicted here by pqt's element encode, nearest_even,
                  saturate, of float32(x * 2^-127): exact unless that is a
                  float32 subnormal, which every element format rounds to a
                  signed zero either way). Both (A) and (B).
  nan_scale_codes FP8 blocks with a NaN (amax NaN): both give scale 0xFF and
                  all-NaN values; only the element codes, which a NaN scale
                  makes irrelevant, differ: pqt gives its canonical NaN 0x7F
                  for every element, gfloat its NaN code 0xFF (sign bit set)
                  for every element (x / NaN is NaN). (A) only.
  nan_block_raises
                  FP6/FP4 blocks with a NaN: gfloat raises ValueError ("No NaN
                  in format ...": x / NaN cannot be encoded in an element
                  format without NaN); pqt gives scale 0xFF, all-NaN values
                  and +max element codes. Both (A) and (B).
  f32_log2_up     (B) only: gfloat computes log2(amax) in the dtype it is
                  given; in float32 log2 of an amax just below a power of two
                  rounds up to the integer k (e.g. amax = 2^10 * (1 - 2^-24):
                  float32 log2 10.0, exactly 9.99999991...), so gfloat takes
                  floor = k instead of k - 1: a scale twice the OCP one. The
                  class is the blocks where floor(np.log2(float32 amax)) differs
                  from the exponent of amax (np.frexp), after both are turned
                  into scale exponents and clipped at -127 (a larger float32
                  error, or one in the other direction, fails the test);
                  there gfloat's values equal pqt's under the ceil rule
                  (`pqt_codes mx --e8m0 ceil`: X = 2^(ceil(log2 amax) - emax),
                  = 2^(k - emax) there), bit for bit. With float64 input, (A),
                  gfloat's scales are all exact (no such class).

Exit status: 0 pass, 1 failure, 77 skipped (numpy/gfloat not importable, or a
gfloat other than the one these classes were characterised on: set
PQT_GFLOAT_ANY_VERSION=1 to run anyway).
"""

import os
import subprocess
import sys
import tempfile
import time

SKIP = 77
GFLOAT_VERSION = "0.5.2"  # the version the classes above were characterised on
SEED = 20240918
MAIN_BLOCKS = 1000  # main tensor: 1000 blocks + 17 elements (a partial last block)
SMALL_SIZES = [1, 5, 31, 32, 33, 63, 64, 100, 257]
BLOCK = 32


def _venv_python():
    venv = os.environ.get("PQT_PY_VENV") or os.path.join(os.path.expanduser("~"), ".cache", "pqt-venv")
    exe = os.path.join(venv, "Scripts" if os.name == "nt" else "bin", "python")
    return venv, exe


def _import_or_skip():
    try:
        import numpy  # noqa: F401
        import gfloat  # noqa: F401
        return
    except ImportError as e:
        why = str(e)
    # Started by an interpreter without the packages: use the venv that
    # scripts/install-deps.sh makes, when there is one (once).
    venv, exe = _venv_python()
    if (os.path.exists(exe) and os.environ.get("PQT_PY_REEXEC") != "1"
            and os.path.realpath(sys.prefix) != os.path.realpath(venv)):
        os.environ["PQT_PY_REEXEC"] = "1"
        sys.stdout.flush()
        os.execv(exe, [exe, os.path.abspath(__file__)] + sys.argv[1:])
    print(f"SKIP: numpy and gfloat are needed ({why}); run scripts/install-deps.sh "
          f"(venv at {venv}) or pip install gfloat=={GFLOAT_VERSION} numpy")
    sys.exit(SKIP)


if len(sys.argv) != 2:
    print("usage: test_gfloat_mx.py PATH/TO/pqt_codes", file=sys.stderr)
    sys.exit(2)
PQT_CODES = sys.argv[1]
_import_or_skip()

import numpy as np  # noqa: E402
import gfloat  # noqa: E402
import gfloat.formats as gff  # noqa: E402

try:
    from importlib.metadata import version as _dist_version
    GFLOAT_FOUND = _dist_version("gfloat")
except Exception:  # not installed as a distribution (e.g. a source checkout)
    GFLOAT_FOUND = getattr(gfloat, "__version__", "unknown")
if GFLOAT_FOUND != GFLOAT_VERSION and os.environ.get("PQT_GFLOAT_ANY_VERSION") != "1":
    print(f"SKIP: gfloat {GFLOAT_FOUND} found; the documented differences were characterised on "
          f"{GFLOAT_VERSION} (run scripts/install-deps.sh, or set PQT_GFLOAT_ANY_VERSION=1)")
    sys.exit(SKIP)

# (pqt element format, gfloat BlockFormatInfo name)
FORMATS = [
    ("e4m3", "format_info_mxfp8_e4m3"),
    ("e5m2", "format_info_mxfp8_e5m2"),
    ("e3m2", "format_info_mxfp6_e3m2"),
    ("e2m3", "format_info_mxfp6_e2m3"),
    ("e2m1", "format_info_mxfp4_e2m1"),
]

failures = []


def fail(msg):
    failures.append(msg)
    if len(failures) <= 40:
        print("FAIL: " + msg)
    elif len(failures) == 41:
        print("FAIL: ... (further failures counted, not printed)")


def run_pqt(args):
    r = subprocess.run([PQT_CODES] + args, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"pqt_codes {' '.join(args)} exited {r.returncode}: {r.stderr.strip()}")


def pqt_mx(tmp, fmt, x, rule="floor"):
    """pqt's scales (uint8), values (float32) and element codes (uint32) for float32 x."""
    src = os.path.join(tmp, "in.f32")
    sc, val, cod = (os.path.join(tmp, p) for p in ("scales.u8", "values.f32", "codes.u32"))
    x.astype("<f4").tofile(src)
    run_pqt(["mx", fmt, src, sc, val, cod, "--e8m0", rule])
    scales = np.fromfile(sc, dtype=np.uint8)
    values = np.fromfile(val, dtype="<f4").astype(np.float32)
    codes = np.fromfile(cod, dtype="<u4").astype(np.uint32)
    nb = (len(x) + BLOCK - 1) // BLOCK
    if len(scales) != nb or len(values) != len(x) or len(codes) != len(x):
        raise RuntimeError(f"pqt_codes mx {fmt}: {len(scales)} scales / {len(values)} values / {len(codes)} "
                           f"codes for {len(x)} elements")
    return scales, values, codes


def pqt_encode(tmp, fmt, xf32):
    """pqt's element codes (nearest_even, saturate) of float32 values."""
    src, dst = os.path.join(tmp, "enc.f32"), os.path.join(tmp, "enc.u32")
    xf32.astype("<f4").tofile(src)
    run_pqt(["encode", fmt, "nearest_even", "saturate", src, dst])
    return np.fromfile(dst, dtype="<u4").astype(np.uint32)


def bits64(v):
    return np.asarray(v, dtype=np.float64).view(np.uint64)


def same64(a, b):
    """Bitwise equal float64 arrays (the sign of zero counts), or both NaN."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return (bits64(a) == bits64(b)) | (np.isnan(a) & np.isnan(b))


# ---- test data -----------------------------------------------------------------------------------

class Gen:
    """Blocks of 32 float32 values of many kinds, for one element format."""

    KINDS = ["normal", "normal", "normal", "outlier", "outlier", "wide", "f32_subnormal", "zero",
             "signed_zero", "sparse", "pow2_amax", "below_pow2", "below_pow2", "above_pow2", "saturating",
             "ties", "ties", "elem_subnormal", "random_bits", "f32_max"]
    NONFINITE = ["inf", "neg_inf", "nan", "nan_inf", "all_nan"]

    def __init__(self, rng, fi):
        self.rng = rng
        self.fi = fi
        e = fi.etype
        self.emax = int(e.emax)
        self.maxe = float(e.max)
        v = gfloat.decode_ndarray(e, np.arange(2**e.k, dtype=np.int64))
        pos = np.unique(v[np.isfinite(v) & (v >= 0)])
        self.grid = pos  # 0, subnormals, normals, max
        self.min_normal = 2.0 ** (1 - e.bias)

    def f32(self, v):
        """float64 -> float32, which must be exact here."""
        out = np.asarray(v, dtype=np.float64).astype(np.float32)
        assert np.array_equal(out.astype(np.float64), np.asarray(v, dtype=np.float64)), v
        return out

    def signs(self, n=BLOCK):
        return np.where(self.rng.random(n) < 0.5, -1.0, 1.0)

    def scale_exp(self, lo=-127, hi=None):
        """An exponent s of X = 2^s, with 2^emax * X and max_elem * X finite in float32."""
        hi = 127 - self.emax if hi is None else hi
        return int(self.rng.integers(lo, hi + 1))

    def pin(self, vals, s):
        """Put +-2^emax * 2^s (floor rule scale exactly 2^s) at a random place."""
        vals[self.rng.integers(BLOCK)] = self.signs(1)[0] * 2.0 ** (self.emax + s)
        return vals

    def block(self, kind):
        r = self.rng
        if kind == "normal":  # the common case: N(0, 1) * 2^e
            return (r.standard_normal(BLOCK) * 2.0 ** int(r.integers(-24, 25))).astype(np.float32)
        if kind == "outlier":  # a few elements 2^3 .. 2^30 larger: the rest go subnormal / to zero
            x = r.standard_normal(BLOCK) * 2.0 ** int(r.integers(-40, 40))
            idx = r.choice(BLOCK, size=int(r.integers(1, 4)), replace=False)
            x[idx] *= 2.0 ** r.integers(3, 31, size=len(idx)).astype(np.float64)
            return x.astype(np.float32)
        if kind == "wide":  # any magnitude, down to float32 subnormals: scales clipped at 2^-127
            return (r.standard_normal(BLOCK) * 2.0 ** int(r.integers(-150, 126))).astype(np.float32)
        if kind == "f32_subnormal":  # float32 subnormal bit patterns, some zeros
            bits = r.integers(0, 1 << 23, size=BLOCK, dtype=np.uint32) >> r.integers(0, 23, size=BLOCK).astype(
                np.uint32)
            bits |= (r.random(BLOCK) < 0.5).astype(np.uint32) << 31
            return bits.view(np.float32)
        if kind == "zero":
            return np.zeros(BLOCK, dtype=np.float32)
        if kind == "signed_zero":
            return (self.signs() * 0.0).astype(np.float32)
        if kind == "sparse":  # mostly (signed) zeros, a few values
            x = self.signs() * 0.0
            idx = r.choice(BLOCK, size=int(r.integers(1, 4)), replace=False)
            x[idx] = r.standard_normal(len(idx)) * 2.0 ** int(r.integers(-130, 100))
            return x.astype(np.float32)
        if kind == "pow2_amax":  # amax exactly +-2^k
            k = int(r.integers(-140, 128))
            x = r.uniform(-1, 1, BLOCK) * 2.0 ** k
            x[r.integers(BLOCK)] = self.signs(1)[0] * 2.0 ** k
            return x.astype(np.float32)
        if kind in ("below_pow2", "above_pow2"):  # amax 1..64 float32 ulps from 2^k: the floor boundary
            k = int(r.integers(-125, 128 if kind == "below_pow2" else 127))
            a = np.float32(2.0 ** k)
            toward = np.float32(0) if kind == "below_pow2" else np.float32(np.inf)
            for _ in range(int(r.integers(1, 65)) if r.random() < 0.7 else 1):
                a = np.nextafter(a, toward)
            x = (r.uniform(-1, 1, BLOCK) * float(a)).astype(np.float32)
            x[r.integers(BLOCK)] = self.signs(1)[0] * a
            return x
        if kind == "saturating":  # the floor rule puts amax / X in (max_elem, 2^(emax+1)): saturates
            s = self.scale_exp(hi=126 - self.emax)  # x below 2^(emax + 1 + s) <= 2^127: finite
            top = np.nextafter(np.float32(2.0 ** (self.emax + 1 + s)), np.float32(0))
            x = self.signs() * r.uniform(self.maxe, 2.0 ** (self.emax + 1), BLOCK) * 2.0 ** s
            x[r.random(BLOCK) < 0.5] *= r.uniform(0, 1)
            x = x.astype(np.float32)
            x[r.integers(BLOCK)] = self.signs(1)[0] * top
            return x
        if kind == "ties":  # exact midpoints of the element grid (and +-1 float32 ulp) times X
            s = self.scale_exp()
            g = self.grid
            mids = np.concatenate([(g[:-1] + g[1:]) / 2, [g[-1] + (g[-1] - g[-2]) / 2]])
            pick = mids[r.integers(len(mids), size=BLOCK)]
            x = self.f32(self.signs() * pick * 2.0 ** s)
            nudge = r.random(BLOCK)
            away = np.copysign(np.float32(np.inf), x)  # +Inf for +0: nudges 0 to the smallest subnormal
            x = np.where(nudge < 0.15, np.nextafter(x, np.float32(0)),
                         np.where(nudge < 0.3, np.nextafter(x, away), x))
            return self.f32(self.pin(x.astype(np.float64), s))
        if kind == "elem_subnormal":  # elements in the element format's subnormal range (and below)
            s = self.scale_exp()
            m = r.uniform(0, self.min_normal, BLOCK) * 2.0 ** -r.integers(0, 4, size=BLOCK).astype(np.float64)
            x = (self.signs() * m * 2.0 ** s).astype(np.float32).astype(np.float64)
            return self.f32(self.pin(x, s))
        if kind == "random_bits":  # uniformly random finite float32 bit patterns
            bits = r.integers(0, 1 << 32, size=BLOCK, dtype=np.uint64).astype(np.uint32)
            x = bits.view(np.float32).copy()
            bad = ~np.isfinite(x)
            x[bad] = 0
            return x
        if kind == "f32_max":  # amax up to float32 max: scale up to 2^(127 - emax)
            x = r.uniform(-2, 2, BLOCK) * 2.0 ** 127
            x = np.clip(x, -float(np.finfo(np.float32).max), float(np.finfo(np.float32).max))
            return x.astype(np.float32)
        # non-finite blocks
        x = (r.standard_normal(BLOCK) * 2.0 ** int(r.integers(-20, 20))).astype(np.float32)
        i, j = r.choice(BLOCK, size=2, replace=False)
        if kind == "inf":
            x[i] = np.inf
        elif kind == "neg_inf":
            x[i] = -np.inf
            if r.random() < 0.5:
                x[j] = np.inf
        elif kind == "nan":
            x[i] = np.nan if r.random() < 0.5 else -np.nan
        elif kind == "nan_inf":
            x[i], x[j] = np.nan, np.inf
        else:
            x[:] = np.nan
        return x

    def tensor(self, n):
        """n elements: whole blocks of random kinds (1 in 40 non-finite), truncated to n."""
        nb = (n + BLOCK - 1) // BLOCK
        blocks, kinds = [], []
        for _ in range(nb):
            if self.rng.random() < 1 / 40:
                kind = self.NONFINITE[self.rng.integers(len(self.NONFINITE))]
            else:
                kind = self.KINDS[self.rng.integers(len(self.KINDS))]
            b = self.block(kind)
            assert b.dtype == np.float32 and b.shape == (BLOCK,), kind
            blocks.append(b)
            kinds.append(kind)
        return np.concatenate(blocks)[:n], kinds


# ---- the comparison ------------------------------------------------------------------------------

def gfloat_block_a(fi, xb):
    """(A): scale code, element codes, float64 values; or None where gfloat raises ValueError."""
    x64 = xb.astype(np.float64)
    with np.errstate(invalid="ignore"):
        s = gfloat.compute_scale_amax(fi.etype.emax, x64)
        try:
            enc = list(gfloat.encode_block(fi, s, x64 / s))
        except ValueError as e:
            return None, str(e)
    vals = np.fromiter(gfloat.decode_block(fi, enc), dtype=np.float64, count=len(xb))
    return (enc[0], np.array(enc[1:], dtype=np.uint32), vals), None


def gfloat_block_b(fi, xb):
    """(B): quantize_block on the float32 block; float64 values, or None where gfloat raises."""
    with np.errstate(invalid="ignore", over="ignore"):
        try:
            return gfloat.quantize_block(fi, xb, gfloat.compute_scale_amax).astype(np.float64), None
        except ValueError as e:
            return None, str(e)


def tally_coverage(cover, fi, grid, xb, absx, ps, gv):
    """Counts the cases an equal (A) block exercised (reported, so the data's reach is visible)."""
    def add(name, k):
        cover[name] = cover.get(name, 0) + int(k)
    add("partial blocks", len(xb) < BLOCK)
    amax = absx.max()
    add("zero blocks", amax == 0)
    add("scales clipped to 2^-127", amax != 0 and ps == 0 and np.floor(np.log2(amax)) - fi.etype.emax < -127)
    v = absx / 2.0 ** (ps - 127)  # exact: |x| / X
    add("saturated elements", (v > fi.etype.max).sum())
    j = np.clip(np.searchsorted(grid, v), 1, len(grid) - 1)
    add("exact ties", ((v < fi.etype.max) & (v == (grid[j - 1] + grid[j]) / 2)).sum())
    add("element-subnormal results", ((gv != 0) & (np.abs(gv) < 2.0 ** (1 - fi.etype.bias + ps - 127))).sum())
    add("nonzero x to zero", ((xb != 0) & (gv == 0)).sum())
    add("-0 results", ((gv == 0) & np.signbit(gv)).sum())


def check_tensor(tmp, fmt, fi, x, kinds, counts, label, cover):
    """Compares one tensor; returns the number of blocks compared."""
    n = len(x)
    nb = (n + BLOCK - 1) // BLOCK
    p_scale, p_val, p_code = pqt_mx(tmp, fmt, x)
    p_val64 = p_val.astype(np.float64)
    ceil_val = None  # pqt under the ceil rule, computed when class f32_log2_up needs it
    emax = int(fi.etype.emax)
    has_nan_elem = fi.etype.num_high_nans > 0
    # pqt's code for a NaN element (canonical NaN) / +max: from its element encode
    p_nan_code, p_max_code = pqt_encode(tmp, fmt, np.array([np.nan, np.inf], dtype=np.float32))
    pqt_nan_elem_code = p_nan_code if has_nan_elem else p_max_code
    # (A) inf_block prediction: gfloat's element codes = pqt encode of float32(x * 2^-127)
    with np.errstate(over="ignore", invalid="ignore"):
        inf_pred_codes = pqt_encode(tmp, fmt, (x.astype(np.float64) * 2.0 ** -127).astype(np.float32))
    elem_vals = gfloat.decode_ndarray(fi.etype, np.arange(2**fi.etype.k, dtype=np.int64)).astype(np.float64)
    grid = np.unique(np.abs(elem_vals[np.isfinite(elem_vals)]))

    def bump(name):
        counts[name] = counts.get(name, 0) + 1

    for b in range(nb):
        lo, hi = b * BLOCK, min((b + 1) * BLOCK, n)
        xb = x[lo:hi]
        where = f"{label} block {b} ({kinds[b]}, {hi - lo} elements)"
        absx = np.abs(xb.astype(np.float64))
        any_nan = bool(np.isnan(xb).any())
        any_inf = bool(np.isinf(xb).any()) and not any_nan
        ps, pv, pc = int(p_scale[b]), p_val64[lo:hi], p_code[lo:hi]

        # ---- (A) float64 input: scale codes, element codes, values ----
        ga, err = gfloat_block_a(fi, xb)
        if any_nan:
            pqt_ok = ps == 0xFF and np.isnan(pv).all() and (pc == pqt_nan_elem_code).all()
            if not pqt_ok:
                fail(f"{where}: NaN block: pqt scale {ps:#x}, values {pv[:4]}, codes {pc[:4]}; expected 0xff, "
                     f"NaN, code {pqt_nan_elem_code:#x}")
            if has_nan_elem:
                if ga is None:
                    fail(f"{where}: gfloat raised on an FP8 NaN block: {err}")
                else:
                    gs, gc, gv = ga
                    if gs != 0xFF or not np.isnan(gv).all() or not (gc == 0xFF).all():
                        fail(f"{where}: class nan_scale_codes does not hold: gfloat scale {gs:#x}, codes {gc[:4]}")
                    else:
                        bump("nan_scale_codes")
            else:
                if ga is not None or "No NaN in format" not in (err or ""):
                    fail(f"{where}: class nan_block_raises: gfloat did not raise 'No NaN in format' ({err})")
                else:
                    bump("nan_block_raises")
        elif ga is None:
            fail(f"{where}: gfloat raised: {err}")
        elif any_inf:
            gs, gc, gv = ga
            pqt_ok = ps == 0xFF and np.isnan(pv).all() and (pc == pqt_nan_elem_code).all()
            pred_codes = inf_pred_codes[lo:hi]
            pred_vals = elem_vals[pred_codes] * 2.0 ** 127
            g_ok = gs == 0xFE and np.array_equal(gc, pred_codes) and same64(gv, pred_vals).all()
            if not (pqt_ok and g_ok):
                fail(f"{where}: class inf_block does not hold: pqt scale {ps:#x} codes {pc[:4]}, gfloat scale "
                     f"{gs:#x} codes {gc[:4]} (predicted {pred_codes[:4]})")
            else:
                bump("inf_block")
        else:
            gs, gc, gv = ga
            bad = []
            if gs != ps:
                bad.append(f"scale pqt {ps:#x} gfloat {gs:#x}")
            if not np.array_equal(gc, pc):
                i = int(np.nonzero(gc != pc)[0][0])
                bad.append(f"code [{i}] x={xb[i]!r}: pqt {pc[i]:#x} gfloat {gc[i]:#x}")
            sv = same64(pv, gv)
            if not sv.all():
                i = int(np.nonzero(~sv)[0][0])
                bad.append(f"value [{i}] x={xb[i]!r}: pqt {pv[i]!r} gfloat {gv[i]!r}")
            if bad:
                fail(f"{where}: (A) undocumented difference, amax {absx.max()!r}: " + "; ".join(bad))
            else:
                bump("equal_a")
                tally_coverage(cover, fi, grid, xb, absx, ps, gv)

        # ---- (B) float32 input through quantize_block: values ----
        gb, err = gfloat_block_b(fi, xb)
        if any_nan:
            if has_nan_elem:
                if gb is None or not np.isnan(gb).all():
                    fail(f"{where}: (B) NaN block: gfloat {err or gb[:4]}")
                else:
                    bump("equal_b")  # both all-NaN
            elif gb is not None or "No NaN in format" not in (err or ""):
                fail(f"{where}: (B) class nan_block_raises: gfloat did not raise ({err})")
            else:
                bump("nan_block_raises_b")
            continue
        if gb is None:
            fail(f"{where}: (B) gfloat raised: {err}")
            continue
        if any_inf:
            pred_vals = elem_vals[inf_pred_codes[lo:hi]] * 2.0 ** 127
            if not same64(gb, pred_vals).all():
                fail(f"{where}: (B) class inf_block does not hold")
            else:
                bump("inf_block_b")
            continue
        amax32 = np.float32(absx.max())
        in_class = False
        if amax32 != 0:
            with np.errstate(divide="ignore"):
                f32_floor = int(np.floor(np.log2(amax32)))  # what gfloat computes, in float32
            true_floor = int(np.frexp(np.float64(amax32))[1]) - 1
            # the class: the scale exponent differs after gfloat's (and pqt's) clip to [-127, 127]
            in_class = max(f32_floor - emax, -127) != max(true_floor - emax, -127)
            if f32_floor not in (true_floor, true_floor + 1):
                fail(f"{where}: (B) float32 log2 of {amax32!r} is off by {f32_floor - true_floor}, not 0 or +1")
        if in_class:
            if ceil_val is None:
                ceil_val = pqt_mx(tmp, fmt, x, rule="ceil")[1].astype(np.float64)
            if same64(gb, p_val64[lo:hi]).all():
                fail(f"{where}: (B) class f32_log2_up predicted but gfloat equals pqt floor")
            elif not same64(gb, ceil_val[lo:hi]).all():
                fail(f"{where}: (B) class f32_log2_up does not hold: gfloat {gb[:4]} pqt ceil {ceil_val[lo:lo + 4]}")
            else:
                bump("f32_log2_up")
        elif not same64(gb, pv).all():
            i = int(np.nonzero(~same64(gb, pv))[0][0])
            fail(f"{where}: (B) undocumented difference, amax {amax32!r}: value [{i}] x={xb[i]!r}: "
                 f"pqt {pv[i]!r} gfloat {gb[i]!r}")
        else:
            bump("equal_b")
    return nb


def check_usage_errors(tmp):
    """pqt_codes mx rejects bad usage with exit status 2 (and a message)."""
    dummy = os.path.join(tmp, "dummy.f32")
    np.zeros(4, dtype="<f4").tofile(dummy)
    o = [os.path.join(tmp, "o1"), os.path.join(tmp, "o2"), os.path.join(tmp, "o3")]
    cases = [
        ["mx", "e4m3", dummy, o[0]],
        ["mx", "e9m3", dummy, o[0], o[1]],
        ["mx", "e8m0", dummy, o[0], o[1]],
        ["mx", "e4m3", dummy, o[0], o[1], "--e8m0"],
        ["mx", "e4m3", dummy, o[0], o[1], "--e8m0", "sideways"],
        ["mx", "e4m3", dummy, o[0], o[1], o[2], "extra"],
        ["mx", "e4m3", dummy, o[0], o[1], "--bogus"],
    ]
    for args in cases:
        r = subprocess.run([PQT_CODES] + args, capture_output=True, text=True)
        if r.returncode != 2 or "pqt_codes:" not in r.stderr:
            fail(f"pqt_codes {' '.join(args)}: expected exit 2 with a message, got {r.returncode} {r.stderr!r}")
    return len(cases)


def main():
    t_start = time.perf_counter()
    rng = np.random.default_rng(SEED)
    summary = []
    with tempfile.TemporaryDirectory(prefix="pqt-gfloat-mx-") as tmp:
        n_usage = check_usage_errors(tmp)
        for fmt, fi_name in FORMATS:
            t0 = time.perf_counter()
            fi = getattr(gff, fi_name)
            assert fi.k == BLOCK and fi.stype is gff.format_info_ocp_e8m0, fi_name
            gen = Gen(rng, fi)
            counts, cover = {}, {}
            nblocks = nelems = 0
            sizes = [MAIN_BLOCKS * BLOCK + 17] + SMALL_SIZES
            kinds_seen = set()
            for n in sizes:
                x, kinds = gen.tensor(n)
                kinds_seen.update(kinds[: (n + BLOCK - 1) // BLOCK])
                nblocks += check_tensor(tmp, fmt, fi, x, kinds, counts, f"{fmt} n={n}", cover)
                nelems += n
            # Every kind at least once (the non-finite ones are rare: add one tensor of them).
            x = np.concatenate([gen.block(k) for k in Gen.NONFINITE + Gen.KINDS])
            nblocks += check_tensor(tmp, fmt, fi, x, Gen.NONFINITE + Gen.KINDS, counts, f"{fmt} every kind",
                                    cover)
            nelems += len(x)
            summary.append((fmt, fi_name, nblocks, nelems, counts, cover, time.perf_counter() - t0))

    print(f"gfloat {GFLOAT_FOUND}, numpy {np.__version__}; seed {SEED}")
    print(f"{'pqt':<5} {'gfloat':<23} {'blocks':>6} {'elements':>8}  (A) equal / (B) equal  documented  time")
    for fmt, fi_name, nb, ne, c, cover, secs in summary:
        doc = {k: v for k, v in c.items() if not k.startswith("equal")}
        doc_s = ", ".join(f"{k} {v}" for k, v in sorted(doc.items())) or "none"
        print(f"{fmt:<5} {fi_name:<23} {nb:>6} {ne:>8}  {c.get('equal_a', 0):>5} / {c.get('equal_b', 0):>5}  "
              f"{doc_s}  {secs:.1f}s")
        print("      equal (A) blocks covered: " + ", ".join(f"{k} {v}" for k, v in cover.items()))
    print(f"pqt_codes mx usage errors checked: {n_usage}")
    print(f"total {time.perf_counter() - t_start:.1f}s")
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("all differences documented")
    return 0


if __name__ == "__main__":
    sys.exit(main())

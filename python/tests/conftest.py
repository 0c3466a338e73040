"""Shared fixtures: the C++ reference (pqt_ref) and input generators."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]

# torch.compile's on-disk caches outlive a run: a graph cached by another
# version of the code must not stand in for this one's (set before torch loads).
os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", tempfile.mkdtemp(prefix="pqt-inductor-"))


# examples/python/gpt_recipes.py --quick (test_examples.py) is half a minute
# of one process: it starts when collection ends, on one thread, and runs
# beside the other tests (which leave one of CI's two cores mostly idle);
# its test runs last.
GPT_EXAMPLE = ROOT / "examples" / "python" / "gpt_recipes.py"
_gpt_run = {}


def _start_gpt_quick():
    if not _gpt_run:
        out = Path(tempfile.mkdtemp(prefix="pqt-gpt-quick-"))
        cmd = [sys.executable, str(GPT_EXAMPLE), "--quick", "--attention", "--out", str(out)]
        # files, not pipes: nothing reads them until the test runs
        env = dict(os.environ, OMP_NUM_THREADS="1")
        with open(out / "stdout.txt", "w") as o, open(out / "stderr.txt", "w") as e:
            _gpt_run.update(proc=subprocess.Popen(cmd, stdout=o, stderr=e, env=env), out=out)
    return _gpt_run


def pytest_collection_modifyitems(items):
    items.sort(key=lambda i: i.name == "test_gpt_recipes_quick")  # stable: the rest keep their order


def pytest_collection_finish(session):
    if not session.config.option.collectonly and any(i.name == "test_gpt_recipes_quick" for i in session.items):
        _start_gpt_quick()


@pytest.fixture(scope="session")
def gpt_quick():
    """(returncode, stdout, stderr, output folder) of the example's --quick run."""
    run = _start_gpt_quick()
    returncode = run["proc"].wait(timeout=300)
    out = run["out"]
    return returncode, (out / "stdout.txt").read_text(), (out / "stderr.txt").read_text(), out


@pytest.fixture(scope="session")
def ref_exe(tmp_path_factory):
    """pqt_ref: from PQT_REF (scripts/test.sh builds it with the C++ tree), else compiled here."""
    exe = os.environ.get("PQT_REF")
    if exe:
        if not os.access(exe, os.X_OK):
            pytest.fail(f"PQT_REF={exe} is not an executable")
        return exe
    out = tmp_path_factory.mktemp("ref") / "pqt_ref"
    cxx = os.environ.get("CXX", "g++")
    subprocess.run([cxx, "-std=c++17", "-O1", "-I", str(ROOT / "include"), str(ROOT / "python/tests/pqt_ref.cpp"),
                    "-o", str(out)], check=True)
    return str(out)


class Ref:
    """The C++ tensor API on float32 inputs (serial)."""

    def __init__(self, exe):
        self.exe = exe

    def _run(self, op, x, **keys):
        with tempfile.TemporaryDirectory() as d:
            inp = os.path.join(d, "in.f32")
            np.ascontiguousarray(x, dtype=np.float32).tofile(inp)
            out = os.path.join(d, "out")
            args = [self.exe, op, inp, out] + [f"{k}={v}" for k, v in keys.items()]
            r = subprocess.run(args, capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError(f"pqt_ref failed: {r.stderr}")
            files = {}
            for ext in ("f32", "bf16", "codes", "scales", "ts"):
                p = out + "." + ext
                if os.path.exists(p):
                    files[ext] = np.fromfile(p, dtype={"f32": np.float32, "bf16": np.uint16, "ts": np.float32}.get(ext, np.uint8))
            return files

    def fake_quant(self, x, **keys):
        return self._run("fake_quant", x, **keys)["f32"]

    def quantize(self, x, **keys):
        f = self._run("quantize", x, **keys)
        return f["codes"], f["scales"], f["ts"]

    def gaussws(self, x, **keys):
        f = self._run("gaussws", x, **keys)
        return f.get("bf16", f.get("f32"))


@pytest.fixture(scope="session")
def ref(ref_exe):
    return Ref(ref_exe)


def make_inputs(n, seed=1, wide=True):
    """float32 values around the FP8/FP6/FP4 ranges, with zeros, signs,
    specials and a spread of exponents (fixed seed)."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) * np.exp2(rng.integers(-12 if wide else -4, 10 if wide else 4, n))).astype(np.float32)
    specials = np.float32([0.0, -0.0, np.inf, -np.inf, 448.0, -448.0, 1e-30, 6.0, 0.5, 3.0])
    x[: min(n, specials.size)] = specials[: min(n, specials.size)]
    return x


def bits_equal(a, b):
    """Same number of elements with the same bits (NaN payloads included);
    shapes are checked where they matter."""
    a = np.ascontiguousarray(a).reshape(-1)
    b = np.ascontiguousarray(b).reshape(-1)
    assert a.size == b.size and a.dtype.itemsize == b.dtype.itemsize, (a.shape, b.shape, a.dtype, b.dtype)
    u = {1: np.uint8, 2: np.uint16, 4: np.uint32}[a.dtype.itemsize]
    return np.array_equal(a.view(u), b.view(u))


def same_values(a, b):
    """Same bits, except that any NaN matches any NaN."""
    a = np.ascontiguousarray(a).reshape(-1)
    b = np.ascontiguousarray(b).reshape(-1)
    nan = np.isnan(a.astype(np.float32)) & np.isnan(b.astype(np.float32))
    return bits_equal(a[~nan], b[~nan])

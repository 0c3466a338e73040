"""examples/python/gpt_recipes.py --quick, as CI runs it: every recipe
trains (the loss falls), the table lists each, the curves are written."""

import csv
import math
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "python" / "gpt_recipes.py"


def test_gpt_recipes_quick(tmp_path):
    out = subprocess.run([sys.executable, str(EXAMPLE), "--quick", "--attention", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    names = ["fp32", "e8m3_sr", "fp8_delayed", "mxfp8", "nvfp4", "gaussws_b6"]
    table = {line.split()[0]: line.split()[1:] for line in out.stdout.splitlines() if line.split()[:1] != []}
    with open(tmp_path / "curves.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 100 and list(rows[0]) == ["step", *names]
    for n in names:
        train, val = float(table[n][0]), float(table[n][1])
        first = float(rows[0][n])
        assert math.isfinite(val) and train == pytest.approx(float(rows[-1][n]), abs=1e-4)
        assert train < first - 0.5, n  # it learned (the first loss is about ln 76 = 4.3)
    assert (tmp_path / "curves.svg").read_text().count("<polyline") == len(names)

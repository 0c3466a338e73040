"""examples/python/gpt_recipes.py --quick, as CI runs it: every recipe
trains (the loss falls), the table lists each, the curves are written."""

import csv
import math

import pytest

pytest.importorskip("torch")


def test_gpt_recipes_quick(gpt_quick):
    # conftest.py starts the run when collection ends, beside the other tests
    returncode, stdout, stderr, tmp_path = gpt_quick
    assert returncode == 0, stderr
    names = ["fp32", "e8m3_sr", "fp8_delayed", "mxfp8", "nvfp4", "gaussws_b6"]
    table = {line.split()[0]: line.split()[1:] for line in stdout.splitlines() if line.split()[:1] != []}
    with open(tmp_path / "curves.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 100 and list(rows[0]) == ["step", *names]
    for n in names:
        train, val = float(table[n][0]), float(table[n][1])
        first = float(rows[0][n])
        assert math.isfinite(val) and train == pytest.approx(float(rows[-1][n]), abs=1e-4)
        assert train < first - 0.5, n  # it learned (the first loss is about ln 76 = 4.3)
    assert (tmp_path / "curves.svg").read_text().count("<polyline") == len(names)

"""The README's Python examples run as written."""

import re

import pytest

from conftest import ROOT


def _python_blocks():
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_has_python_examples():
    assert len(_python_blocks()) >= 2


@pytest.mark.parametrize("i", range(len(_python_blocks())))
def test_readme_python_example_runs(i):
    block = _python_blocks()[i]
    if "torch" in block:
        pytest.importorskip("torch")
    exec(compile(block, f"README.md python block {i}", "exec"), {})

#!/usr/bin/env bash
# Builds the Python package into the test venv (scripts/install-deps.sh makes
# it; ${PQT_PY_VENV:-$HOME/.cache/pqt-venv}) with `pip install .` and runs
# python/tests with pytest. PQT_REF may name a built pqt_ref (the C++
# reference the tests compare with); else the tests compile it.
# PQT_ENABLE_CUDA=OFF builds the package without CUDA even where nvcc is.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=${PQT_PY_VENV:-${HOME:-/root}/.cache/pqt-venv}
py=$venv/bin/python
if ! "$py" -c 'import torch, torchao, pytest, nanobind, scikit_build_core' 2>/dev/null; then
  echo "test-python: $venv lacks the test packages (run scripts/install-deps.sh with network)" >&2
  exit 1
fi
log=$(mktemp)
start=$SECONDS
# No build isolation: nanobind and scikit-build-core come from the venv (no
# download), and the CMake tree under build/python is reused between runs.
# With nvcc, the module's CUDA half is compiled to compute_90 PTX only here
# (CUDAARCHS; the tests need no GPU code, only that it compiles; ptxas, PTX
# to machine code, is about half of nvcc's time on these kernels). A user's
# `pip install .` builds sm_80 and sm_90 machine code with PTX.
export CUDAARCHS=${CUDAARCHS:-90-virtual}
if ! "$py" -m pip install --no-build-isolation --no-deps --disable-pip-version-check -v . >"$log" 2>&1; then
  tail -n 60 "$log" >&2
  echo "test-python: pip install . failed (full log: $log)" >&2
  exit 1
fi
grep -E "pqt: Python module" "$log" | sed 's/^ */test-python: /' || true
echo "test-python: pip install . took $((SECONDS - start)) s"
rm -f "$log"
cd python/tests  # the installed package, not the source tree, is imported
exec "$py" -m pytest -q -p no:cacheprovider .

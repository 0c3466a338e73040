#!/usr/bin/env bash
# Installs what is missing, builds everything with the `ci` preset and runs
# the whole test suite (every label: unit, exhaustive, cmake, gpu), then
# builds the Python package into the test venv (pip install .) and runs its
# tests (python/tests, pytest). Exits non-zero if either part fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh
jobs=$(nproc)
cmake --preset ci
cmake --build --preset ci --parallel "$jobs"
status=0
ctest --preset ci --parallel "$jobs" || status=1
ref=$PWD/build/ci/tests/python/pqt_ref
[[ -x $ref ]] || ref=""  # the tests compile it themselves
PQT_REF=$ref bash scripts/test-python.sh || status=1
exit "$status"

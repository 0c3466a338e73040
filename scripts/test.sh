#!/usr/bin/env bash
# Installs what is missing, builds everything with the `ci` preset and runs
# the whole test suite (every label: unit, exhaustive, cmake, gpu).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh
jobs=$(nproc)
cmake --preset ci
cmake --build --preset ci --parallel "$jobs"
ctest --preset ci --parallel "$jobs"

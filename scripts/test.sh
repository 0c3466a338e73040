#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run), each stage timed:
#  1. system packages (install-deps.sh); the Python test venv (torch and its
#     CUDA libraries: GBs) installs in the background meanwhile;
#  2. preset `ci`: gcc -O2 with asserts, CUDA compiled where nvcc is (to
#     compute_90 PTX: a compile check, there is no GPU here); every label;
#  3. preset `sanitize`: clang with ASan+UBSan (-O1, no recovery); every test
#     but the exhaustive sweep, the CMake packaging ones and the precision-
#     sweep demo (label demo: 3.5 minutes under ASan); then the
#     libFuzzer targets, PQT_FUZZ_SECONDS (default 60) each, two at a time;
#  4. the Python package: pip install . into the venv, then pytest.
# Exits non-zero if any stage fails (all stages run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

jobs=$(nproc)
status=0
summary=()
stage() {  # stage <name> <command...>: runs it, records its time and status
  local name=$1 start=$SECONDS rc=0
  shift
  echo "==== test.sh: $name"
  "$@" || rc=$?
  summary+=("$(printf '%-34s %5d s  %s' "$name" $((SECONDS - start)) "$([[ $rc == 0 ]] && echo ok || echo "FAILED ($rc)")")")
  [[ $rc == 0 ]] || status=1
}

bash scripts/install-deps.sh --no-python-tests
venv_log=$(mktemp)
bash scripts/install-deps.sh --python-only >"$venv_log" 2>&1 &
venv_pid=$!

stage "ci: configure + build" bash -c "cmake --preset ci >/dev/null && cmake --build --preset ci --parallel $jobs"
stage "ci: ctest (every label)" ctest --preset ci --parallel "$jobs"
stage "sanitize: configure + build" bash -c "cmake --preset sanitize -DPQT_FUZZ_SECONDS=${PQT_FUZZ_SECONDS:-60} >/dev/null && cmake --build --preset sanitize --parallel $jobs"
stage "sanitize: ctest (ASan+UBSan)" ctest --preset sanitize --parallel "$jobs"
stage "sanitize: fuzzers" ctest --preset fuzz --parallel 2

start=$SECONDS
wait "$venv_pid" || true
cat "$venv_log"
echo "test.sh: waited $((SECONDS - start)) s for the Python venv"
ref=$PWD/build/ci/tests/python/pqt_ref
[[ -x $ref ]] || ref=""  # the tests compile it themselves
stage "python: pip install . + pytest" env PQT_REF="$ref" bash scripts/test-python.sh

echo "==== test.sh: stages"
printf '%s\n' "${summary[@]}"
exit "$status"

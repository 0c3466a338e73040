#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run), each stage timed:
#  1. system packages (install-deps.sh); the Python test venv (torch and its
#     CUDA libraries: GBs) installs in the background meanwhile;
#  2. two lanes side by side, each building with every core (the machine's
#     cores stay busy through each lane's serial tails: a last long
#     compile, a last long test, the single-threaded Python tests):
#     a. preset `ci`: gcc -O2 with asserts, CUDA compiled where nvcc is (to
#        compute_90 PTX: a compile check, there is no GPU here); every
#        label; then the Python package: pip install . into the venv, pytest;
#     b. preset `sanitize`: clang with ASan+UBSan (-O1, no recovery); every
#        test but the exhaustive sweep, the CMake packaging ones and the
#        precision-sweep demo (label demo: 3.5 minutes under ASan);
#  3. the libFuzzer targets, PQT_FUZZ_SECONDS (default 60) each, two at a
#     time, alone on the machine.
# Lane b's output follows lane a's. Exits non-zero if any stage fails (all
# stages run). A stage's time is its wall time beside the other lane.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

jobs=$(nproc)
summary=$(mktemp)
stage() {  # stage <name> <command...>: runs it, records its time and status
  local name=$1 start=$SECONDS rc=0
  shift
  echo "==== test.sh: $name"
  "$@" || rc=$?
  printf '%-34s %5d s  %s\n' "$name" $((SECONDS - start)) "$([[ $rc == 0 ]] && echo ok || echo "FAILED ($rc)")" >>"$summary"
}
total_start=$SECONDS

bash scripts/install-deps.sh --no-python-tests
venv_log=$(mktemp)
bash scripts/install-deps.sh --python-only >"$venv_log" 2>&1 &
venv_pid=$!

sanitize_lane() {
  stage "sanitize: configure + build" bash -c "cmake --preset sanitize -DPQT_FUZZ_SECONDS=${PQT_FUZZ_SECONDS:-60} >/dev/null && cmake --build --preset sanitize --parallel $jobs"
  stage "sanitize: ctest (ASan+UBSan)" ctest --preset sanitize --parallel "$jobs"
}
sanitize_log=$(mktemp)
sanitize_lane >"$sanitize_log" 2>&1 &
sanitize_pid=$!

stage "ci: configure + build" bash -c "cmake --preset ci >/dev/null && cmake --build --preset ci --parallel $jobs"
stage "ci: ctest (every label)" ctest --preset ci --parallel "$jobs"
start=$SECONDS
wait "$venv_pid" || true
cat "$venv_log"
echo "test.sh: waited $((SECONDS - start)) s for the Python venv"
ref=$PWD/build/ci/tests/python/pqt_ref
[[ -x $ref ]] || ref=""  # the tests compile it themselves
stage "python: pip install . + pytest" env PQT_REF="$ref" bash scripts/test-python.sh

start=$SECONDS
wait "$sanitize_pid" || true
echo "==== test.sh: the sanitize lane (waited $((SECONDS - start)) s for it)"
cat "$sanitize_log"
stage "sanitize: fuzzers" ctest --preset fuzz --parallel 2

echo "==== test.sh: stages (wall time, lanes side by side; $((SECONDS - total_start)) s in all)"
cat "$summary"
if grep -q FAILED "$summary"; then exit 1; fi

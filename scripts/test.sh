#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run), each stage timed:
#  1. system packages (install-deps.sh);
#  2. three lanes side by side, each building with every core (one lane's
#     serial stretches -- a last long compile, a last long test, the
#     single-threaded Python tests -- leave no core idle while another lane
#     has work):
#     a. preset `ci`: gcc -O2 with asserts, CUDA compiled where nvcc is (to
#        compute_90 PTX: a compile check, there is no GPU here); every label;
#     b. preset `sanitize`: clang with ASan+UBSan (-O1, no recovery); every
#        test but the exhaustive sweep, the CMake packaging ones and the
#        precision-sweep demo (label demo: 3.5 minutes under ASan);
#     c. Python: the test venv (torch and its CUDA libraries: GBs, where it
#        is not there yet), pip install . into it, pytest (which compiles
#        its own C++ reference, pqt_ref, as the ci tree is not built yet);
#  3. the libFuzzer targets, PQT_FUZZ_SECONDS (default 60) each, two at a
#     time, alone on the machine.
# Lanes b's and c's output follow lane a's. Exits non-zero if any stage
# fails (all stages run). A stage's time is its wall time beside the other
# lanes.
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

sanitize_lane() {
  stage "sanitize: configure + build" bash -c "cmake --preset sanitize -DPQT_FUZZ_SECONDS=${PQT_FUZZ_SECONDS:-60} >/dev/null && cmake --build --preset sanitize --parallel $jobs"
  stage "sanitize: ctest (ASan+UBSan)" ctest --preset sanitize --parallel "$jobs"
}
sanitize_log=$(mktemp)
sanitize_lane >"$sanitize_log" 2>&1 &
sanitize_pid=$!

python_lane() {
  stage "python: venv" bash scripts/install-deps.sh --python-only
  stage "python: pip install . + pytest" bash scripts/test-python.sh
}
python_log=$(mktemp)
python_lane >"$python_log" 2>&1 &
python_pid=$!

stage "ci: configure + build" bash -c "cmake --preset ci >/dev/null && cmake --build --preset ci --parallel $jobs"
stage "ci: ctest (every label)" ctest --preset ci --parallel "$jobs"

start=$SECONDS
wait "$python_pid" || true
echo "==== test.sh: the Python lane (waited $((SECONDS - start)) s for it)"
cat "$python_log"

start=$SECONDS
wait "$sanitize_pid" || true
echo "==== test.sh: the sanitize lane (waited $((SECONDS - start)) s for it)"
cat "$sanitize_log"
stage "sanitize: fuzzers" ctest --preset fuzz --parallel 2

echo "==== test.sh: stages (wall time, lanes side by side; $((SECONDS - total_start)) s in all)"
cat "$summary"
if grep -q FAILED "$summary"; then exit 1; fi

#!/usr/bin/env bash
# compute-sanitizer memcheck over the GPU tests, in their quick form (PQT_CUDA_TEST_QUICK=1: no 2^26 cases).
#   bash tests/cuda/run_memcheck.sh [build-dir]      # default build/dev
# Exits 77 when there is no compute-sanitizer or no GPU, 1 on any finding.
set -uo pipefail
build="${1:-build/dev}"
san="$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)"
if [[ ! -x "$san" ]]; then
  echo "SKIPPED: compute-sanitizer not found"
  exit 77
fi
status=0
for bin in "$build"/tests/pqt_cuda_test_tensor_kernels "$build"/tests/pqt_cuda_test_launch_args; do
  [[ -x "$bin" ]] || { echo "missing $bin (build the tests first)"; exit 1; }
  for tool in memcheck; do
    echo "== $san --tool $tool $bin"
    PQT_CUDA_TEST_QUICK=1 "$san" --tool "$tool" --error-exitcode 1 "$bin"
    rc=$?
    if [[ $rc -eq 77 ]]; then echo "SKIPPED: no GPU"; exit 77; fi
    [[ $rc -eq 0 ]] || status=1
  done
done
exit $status

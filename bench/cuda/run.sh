#!/usr/bin/env bash
# Builds and runs the GPU benchmarks (bench/cuda/*.cu) and prints one table:
# pqt::cuda bandwidth next to cudaMemcpy device-to-device, and the GaussWS
# step overhead on Llama-2-7B layer GEMMs (cuBLAS). About a minute to build
# and two to run on one GPU; without a GPU it builds and says so.
#
#   bash bench/cuda/run.sh                      # from anywhere in the repository
#   PQT_BENCH_REPS=20 bash bench/cuda/run.sh    # median of 20 runs per row (default 10)
#
# Environment: NVCC (default: nvcc on PATH, else /usr/local/cuda/bin/nvcc),
# CUDA_ARCH (default: native, i.e. the GPU of this machine; sm_90 where nvcc
# cannot query one), BUILD_DIR (default build/bench-cuda).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
build="${BUILD_DIR:-build/bench-cuda}"
nvcc="${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}"
if [[ ! -x "$nvcc" ]]; then
  echo "bench/cuda/run.sh: no nvcc (set NVCC=/path/to/nvcc)" >&2
  exit 1
fi
arch="${CUDA_ARCH:-native}"
mkdir -p "$build"

# One direct nvcc compile per benchmark: no CMake or Google Benchmark needed.
bins=()
for src in bench/cuda/*.cu; do
  stem="$(basename "$src" .cu)"
  libs=()
  grep -q PQT_NEEDS_CUBLAS "$src" && libs+=(-lcublas)
  out="$build/$stem"
  cmd=("$nvcc" -std=c++17 -O3 -Xcompiler=-O3 -I include "$src" -o "$out" "${libs[@]}")
  echo "== ${cmd[*]} -arch=$arch" >&2
  if ! "${cmd[@]}" -arch="$arch" >&2; then
    [[ "$arch" == native ]] || exit 1
    echo "== -arch=native failed (no GPU visible to nvcc?); building for sm_90" >&2
    "${cmd[@]}" -arch=sm_90 >&2
  fi
  bins+=("$out")
done

for bin in "${bins[@]}"; do
  echo "== $bin" >&2
  "$bin"
done

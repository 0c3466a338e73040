#!/usr/bin/env bash
# Build and run the host benchmarks, then print markdown summaries for
# n = 2^24:
#   bench_convert: conversion rates, pqt vs CUDA host, stochastic vs RNE, % of memcpy
#   bench_tensor:  tensor API (fake_quant, quantize, dequantize, gaussws) on 1 and
#                  2 threads, % of memcpy on as many threads, 2-thread speedup
#
#   bench/run_host.sh                               # from anywhere in the repo
#   bench/run_host.sh --benchmark_repetitions=5     # extra args go to each benchmark
#   BENCHES=tensor bench/run_host.sh                # only bench_tensor
#
# Environment: BUILD_DIR (default build/bench), CXX (fallback compiler),
# CUDA_INCLUDE (default: first of $CUDA_HOME/include, /usr/local/cuda/include
# that holds cuda_fp8.h), MIN_TIME (default 0.2 s), SUMMARY_N (default 16777216),
# BENCHES (default "convert tensor").
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build="${BUILD_DIR:-build/bench}"
min_time="${MIN_TIME:-0.2}"
summary_n="${SUMMARY_N:-16777216}"
benches="${BENCHES:-convert tensor}"
want() { [[ " $benches " == *" $1 "* ]]; }

# ---- Build -------------------------------------------------------------------
# The CMake build is preferred; it exists once bench/CMakeLists.txt does.
cmake_ok=0
if [[ -f CMakeLists.txt && -f bench/CMakeLists.txt ]]; then
  echo "== cmake build in $build" >&2
  if cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DPQT_BUILD_BENCH=ON -DPQT_BUILD_TESTS=OFF \
       -DPQT_BUILD_TOOLS=OFF -DPQT_BUILD_EXAMPLES=OFF >&2; then
    cmake_ok=1
  fi
fi

# build_bench <stem>: builds bench/<stem>.cpp and prints the executable's path.
# The direct compile honours the markers pqt_add_program reads from the
# source: PQT_NEEDS_CUDA_INCLUDE (toolkit headers) and PQT_USES_OPENMP.
build_bench() {
  local stem="$1" bin="" target
  if ((cmake_ok)); then
    # bench/CMakeLists.txt names the target pqt_<stem>; only it is built.
    for target in "pqt_$stem" "$stem"; do
      if cmake --build "$build" --parallel --target "$target" >&2; then
        bin="$(find "$build" -type f -name "$target" -perm -u+x -not -path "$build/direct/*" 2>/dev/null | head -n1 || true)"
        break
      fi
    done
    [[ -n "$bin" ]] || echo "== cmake build gave no $stem; falling back to a direct compile" >&2
  fi

  if [[ -z "$bin" ]]; then
    local cxx="${CXX:-g++}" src="bench/$stem.cpp" dir
    local extra=()
    if grep -q PQT_NEEDS_CUDA_INCLUDE "$src"; then
      for dir in ${CUDA_INCLUDE:-} ${CUDA_HOME:+$CUDA_HOME/include} /usr/local/cuda/include; do
        if [[ -f "$dir/cuda_fp8.h" ]]; then
          extra+=(-isystem "$dir" -DPQT_HAVE_CUDA_HEADERS=1)
          break
        fi
      done
    fi
    if grep -q PQT_USES_OPENMP "$src"; then
      if echo 'int main() {}' | "$cxx" -fopenmp -x c++ - -o /dev/null 2>/dev/null; then
        extra+=(-fopenmp)
      else
        echo "== $cxx has no -fopenmp: $stem runs single-threaded" >&2
      fi
    fi
    mkdir -p "$build/direct"
    bin="$build/direct/$stem"
    echo "== $cxx -std=c++17 -O3 -march=native ${extra[*]} -> $bin" >&2
    "$cxx" -std=c++17 -O3 -march=native -DNDEBUG -Wall -Wextra -Wpedantic -Wshadow -I include \
      "${extra[@]}" "$src" -lbenchmark -lpthread -o "$bin" >&2 || return 1
  fi
  printf '%s\n' "$bin"
}

want convert && bin_convert="$(build_bench bench_convert)"
want tensor && bin_tensor="$(build_bench bench_tensor)"

# ---- Run ---------------------------------------------------------------------
# Both summaries come at the end, after every benchmark's console output.
if want convert; then
  json="$build/bench_convert.json"
  cmd=("$bin_convert" "--benchmark_min_time=$min_time" --benchmark_format=console
       "--benchmark_out=$json" --benchmark_out_format=json "$@")
  echo "== ${cmd[*]}" >&2
  "${cmd[@]}"
fi
if want tensor; then
  json_tensor="$build/bench_tensor.json"
  cmd_tensor=("$bin_tensor" "--benchmark_min_time=$min_time" --benchmark_format=console
              "--benchmark_out=$json_tensor" --benchmark_out_format=json "$@")
  echo "== ${cmd_tensor[*]}" >&2
  "${cmd_tensor[@]}"
fi

# ---- Summary: bench_convert -----------------------------------------------------
want convert && python3 - "$json" "$summary_n" "${cmd[*]}" <<'PY'
import json, sys
from collections import defaultdict

path, n, command = sys.argv[1], sys.argv[2], sys.argv[3]
with open(path) as f:
    data = json.load(f)
ctx = data.get("context", {})

# name -> rates; with --benchmark_repetitions prefer the median aggregate,
# otherwise average the iteration rows.
runs = defaultdict(list)
medians = {}
for b in data["benchmarks"]:
    if b.get("error_occurred"):
        continue
    name = b.get("run_name", b["name"])
    if b.get("run_type") == "aggregate":
        if b.get("aggregate_name") == "median":
            medians[name] = b
    else:
        runs[name].append(b)

def rate(name, key):
    if name in medians:
        return medians[name].get(key)
    rows = [r[key] for r in runs.get(name, []) if key in r]
    return sum(rows) / len(rows) if rows else None

memcpy = next((k for k in set(runs) | set(medians)
               if k.startswith("memcpy/") and k.endswith("/" + n)), None)
memcpy_bps = rate(memcpy, "bytes_per_second") if memcpy else None

def g(x):
    return "n/a" if x is None else f"{x / 1e9:.3f}"
def ratio(a, b, fmt="{:.2f}x"):
    return "n/a" if a is None or b is None or b == 0 else fmt.format(a / b)

print()
print(f"CPU: {ctx.get('cpu_model', '?')}; compiler: {ctx.get('compiler', '?')}; "
      f"pqt {ctx.get('pqt_version', '?')}; n = {n}")
print(f"Command: `{command}`")
if "pqt_vs_cuda_mismatches" in ctx:
    print(f"pqt vs CUDA codes on the bench input: {ctx['pqt_vs_cuda_mismatches']}")
if memcpy_bps:
    print(f"memcpy ({memcpy}): {memcpy_bps / 1e9:.1f} GB/s (read + write)")
print()
print("| format | pqt rne G items/s | pqt sr G items/s | pqt sr+Philox G items/s | cuda host G items/s "
      "| pqt rne / cuda | sr / rne (items/s) | sr+Philox / rne | rne bytes/s % of memcpy |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for fmt in ["e4m3", "e5m2", "e2m1", "e3m2", "bf16"]:
    rne = rate(f"pqt_rne/{fmt}/{n}", "items_per_second")
    sr = rate(f"pqt_sr/{fmt}/{n}", "items_per_second")
    srp = rate(f"pqt_sr_philox/{fmt}/{n}", "items_per_second")
    cuda = rate(f"cuda_host/{fmt}/{n}", "items_per_second")
    rne_bps = rate(f"pqt_rne/{fmt}/{n}", "bytes_per_second")
    print(f"| {fmt} | {g(rne)} | {g(sr)} | {g(srp)} | {g(cuda)} | {ratio(rne, cuda)} | {ratio(sr, rne)} "
          f"| {ratio(srp, rne)} | {ratio(rne_bps, memcpy_bps, '{:.1%}')} |")

print()
print("| random path (n = %s) | G items/s | time vs the format's RNE |" % n)
print("|---|---:|---:|")
for fmt in ["e4m3", "e5m2", "e2m1", "e3m2", "bf16"]:
    rne = rate(f"pqt_rne/{fmt}/{n}", "items_per_second")
    gs = rate(f"pqt_gauss/{fmt}/{n}", "items_per_second")
    print(f"| gaussian rounding, {fmt} | {g(gs)} | {ratio(rne, gs)} |")
gw = rate(f"gaussws_r/bf16/{n}", "items_per_second")
print(f"| GaussWS bf16(w + R * delta), R from Philox | {g(gw)} | {ratio(rate(f'pqt_rne/bf16/{n}', 'items_per_second'), gw)} |")

# The project's targets (float -> e4m3, one core, n = 2^24).
rne = rate(f"pqt_rne/e4m3/{n}", "items_per_second")
sr = rate(f"pqt_sr/e4m3/{n}", "items_per_second")
srp = rate(f"pqt_sr_philox/e4m3/{n}", "items_per_second")
cuda = rate(f"cuda_host/e4m3/{n}", "items_per_second")
def verdict(ok):
    return "n/a" if ok is None else ("met" if ok else "NOT met")
print()
print(f"Targets (e4m3): rne >= 1 G items/s: {verdict(None if rne is None else rne >= 1e9)}; "
      f"rne >= 5x cuda host: {verdict(None if rne is None or cuda is None else rne >= 5 * cuda)}; "
      f"sr within 1.5x of rne: {verdict(None if rne is None or sr is None else sr * 1.5 >= rne)}; "
      f"sr with Philox within 2x of rne: {verdict(None if rne is None or srp is None else srp * 2 >= rne)}")
PY

# ---- Summary: bench_tensor --------------------------------------------------------
if want tensor; then
python3 - "$json_tensor" "$summary_n" "${cmd_tensor[*]}" <<'PY'
import json, sys
from collections import defaultdict

path, n, command = sys.argv[1], sys.argv[2], sys.argv[3]
with open(path) as f:
    data = json.load(f)
ctx = data.get("context", {})

# "<row>/<n>/<threads>" -> rates (the "/real_time" suffix dropped); with
# --benchmark_repetitions prefer the median aggregate, otherwise average.
def key(b):
    name = b.get("run_name", b["name"])
    return name[: -len("/real_time")] if name.endswith("/real_time") else name

runs = defaultdict(list)
medians = {}
for b in data["benchmarks"]:
    if b.get("error_occurred"):
        continue
    if b.get("run_type") == "aggregate":
        if b.get("aggregate_name") == "median":
            medians[key(b)] = b
    else:
        runs[key(b)].append(b)

def rate(row, threads, what):
    name = f"{row}/{n}/{threads}"
    if name in medians:
        return medians[name].get(what)
    vals = [r[what] for r in runs.get(name, []) if what in r]
    return sum(vals) / len(vals) if vals else None

def g(x):
    return "n/a" if x is None else f"{x / 1e9:.3f}"
def gb(x):
    return "n/a" if x is None else f"{x / 1e9:.1f}"
def ratio(a, b, fmt="{:.2f}x"):
    return "n/a" if a is None or b is None or b == 0 else fmt.format(a / b)

rows = [
    ("memcpy", "memcpy, float -> float (2 threads: one half each)"),
    ("fq_none_e4m3_rne", "fake_quant e4m3, no scaling, nearest_even"),
    ("fq_tensor_e4m3_rne", "fake_quant e4m3, per-tensor current scaling, nearest_even"),
    ("fq_mxfp8_rne", "fake_quant MXFP8 (e4m3, e8m0 / 32), nearest_even"),
    ("fq_mxfp8_sr", "fake_quant MXFP8, stochastic (Philox)"),
    ("fq_mxfp8_up", "fake_quant MXFP8, upward (one loop for the five directed modes)"),
    ("fq_mxfp4_rne", "fake_quant MXFP4 (e2m1, e8m0 / 32), nearest_even"),
    ("fq_nvfp4_rne", "fake_quant NVFP4 (e2m1, ue4m3 / 16 + fp32), nearest_even"),
    ("fq_bf16_mxfp8_rne", "fake_quant MXFP8 over bf16 arrays, nearest_even"),
    ("quantize_mxfp4", "quantize MXFP4: packed codes + scales"),
    ("dequantize_mxfp4", "dequantize MXFP4 -> float"),
    ("gaussws_r_b9_bf16", "gaussws R noise, b = 9, per 32, float -> bf16"),
]
mem = {t: rate("memcpy", t, "bytes_per_second") for t in (1, 2)}

print()
print(f"CPU: {ctx.get('cpu_model', '?')}; compiler: {ctx.get('compiler', '?')}; "
      f"pqt {ctx.get('pqt_version', '?')}; n = {n}")
print(f"OpenMP: {ctx.get('openmp', '?')}")
print(f"Same bits on 1 and 2 threads: {ctx.get('threads_1_vs_2', '?')}")
print(f"Command: `{command}`")
print()
print("Bytes = read + written by one ideal pass; % of memcpy compares bytes/s with memcpy on the same "
      "number of threads.")
print()
print("| row | bytes / elem | 1 thread G items/s | 1 thread GB/s | 1 thread % of memcpy "
      "| 2 threads G items/s | 2 threads GB/s | 2 threads % of memcpy | 2 threads / 1 |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for row, what in rows:
    it = {t: rate(row, t, "items_per_second") for t in (1, 2)}
    bps = {t: rate(row, t, "bytes_per_second") for t in (1, 2)}
    per = "n/a" if not it[1] or bps[1] is None else f"{bps[1] / it[1]:g}"
    print(f"| {what} | {per} | {g(it[1])} | {gb(bps[1])} | {ratio(bps[1], mem[1], '{:.1%}')} "
          f"| {g(it[2])} | {gb(bps[2])} | {ratio(bps[2], mem[2], '{:.1%}')} | {ratio(it[2], it[1])} |")

# The issue's targets: MXFP8 fake-quant, nearest_even, n = 2^24.
def verdict(ok):
    return "n/a" if ok is None else ("met" if ok else "NOT met")
mx = {t: rate("fq_mxfp8_rne", t, "bytes_per_second") for t in (1, 2)}
share = None if mx[1] is None or not mem[1] else mx[1] / mem[1]
speedup = None if mx[1] is None or mx[2] is None or mx[1] == 0 else mx[2] / mx[1]
print()
print(f"Targets (MXFP8 fake_quant, nearest_even): one thread >= 50% of memcpy: "
      f"{verdict(None if share is None else share >= 0.5)} ({ratio(mx[1], mem[1], '{:.1%}')}); "
      f"2 threads >= 1.7x one thread: {verdict(None if speedup is None else speedup >= 1.7)} "
      f"({ratio(mx[2], mx[1])}; memcpy itself: {ratio(mem[2], mem[1])})")
PY
fi

#!/usr/bin/env bash
# Build and run the host conversion benchmark, then print a markdown summary
# for n = 2^24 (rates, pqt vs CUDA host, stochastic vs RNE, % of memcpy).
#
#   bench/run_host.sh                               # from anywhere in the repo
#   bench/run_host.sh --benchmark_repetitions=5     # extra args go to bench_convert
#
# Environment: BUILD_DIR (default build/bench), CXX (fallback compiler),
# CUDA_INCLUDE (default: first of $CUDA_HOME/include, /usr/local/cuda/include
# that holds cuda_fp8.h), MIN_TIME (default 0.2 s), SUMMARY_N (default 16777216).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build="${BUILD_DIR:-build/bench}"
min_time="${MIN_TIME:-0.2}"
summary_n="${SUMMARY_N:-16777216}"
bin=""

# ---- Build -------------------------------------------------------------------
# The CMake build is preferred; it exists once bench/CMakeLists.txt does.
if [[ -f CMakeLists.txt && -f bench/CMakeLists.txt ]]; then
  echo "== cmake build in $build" >&2
  if cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DPQT_BUILD_BENCH=ON -DPQT_BUILD_TESTS=OFF \
       -DPQT_BUILD_TOOLS=OFF -DPQT_BUILD_EXAMPLES=OFF >&2; then
    # bench/CMakeLists.txt names the target pqt_<stem>; only it is built.
    for target in pqt_bench_convert bench_convert; do
      if cmake --build "$build" --parallel --target "$target" >&2; then
        bin="$(find "$build" -type f -name "$target" -perm -u+x -not -path "$build/direct/*" 2>/dev/null | head -n1 || true)"
        break
      fi
    done
  fi
  [[ -n "$bin" ]] || echo "== cmake build gave no bench_convert; falling back to a direct compile" >&2
fi

if [[ -z "$bin" ]]; then
  cxx="${CXX:-g++}"
  cuda_flags=()
  for dir in ${CUDA_INCLUDE:-} ${CUDA_HOME:+$CUDA_HOME/include} /usr/local/cuda/include; do
    if [[ -f "$dir/cuda_fp8.h" ]]; then
      cuda_flags=(-isystem "$dir" -DPQT_HAVE_CUDA_HEADERS=1)
      break
    fi
  done
  mkdir -p "$build/direct"
  bin="$build/direct/bench_convert"
  echo "== $cxx -std=c++17 -O3 -march=native ${cuda_flags[*]} -> $bin" >&2
  "$cxx" -std=c++17 -O3 -march=native -DNDEBUG -Wall -Wextra -Wpedantic -Wshadow -I include \
    "${cuda_flags[@]}" bench/bench_convert.cpp -lbenchmark -lpthread -o "$bin"
fi

# ---- Run ---------------------------------------------------------------------
json="$build/bench_convert.json"
cmd=("$bin" "--benchmark_min_time=$min_time" --benchmark_format=console
     "--benchmark_out=$json" --benchmark_out_format=json "$@")
echo "== ${cmd[*]}" >&2
"${cmd[@]}"

# ---- Summary -----------------------------------------------------------------
python3 - "$json" "$summary_n" "${cmd[*]}" <<'PY'
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
print("| random path (n = %d) | G items/s | time vs the format's RNE |" % n)
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

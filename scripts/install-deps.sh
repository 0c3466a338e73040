#!/usr/bin/env bash
# Installs what pqt's build needs on Debian 12 (bookworm), and only what is
# missing: safe to run again. Needs root (or sudo) only when it installs.
set -euo pipefail
# --no-python-tests: only what the C++ build and the demo need (scripts/run.sh),
# not the test venv (torch and its CUDA libraries are several GB).
# --python-only: only the test venv (scripts/test.sh runs this in the
# background while the C++ builds compile).
python_tests=1
[[ ${1:-} == --no-python-tests ]] && python_tests=0
python_only=0
[[ ${1:-} == --python-only ]] && python_only=1

missing=()
need() {  # need <package> <test...>: queue the package when the test fails
  local pkg=$1; shift
  if ! "$@" >/dev/null 2>&1; then missing+=("$pkg"); fi
}
have() { command -v "$1"; }
fuzzer_runtime() { test -f "$(clang++ -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)" || compgen -G '/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a'; }
clang_openmp() { compgen -G '/usr/lib/llvm-*/lib/libomp.so'; }
cmake_new_enough() {  # pqt needs CMake >= 3.25 (bookworm ships 3.25.1)
  local v
  v=$(cmake --version 2>/dev/null | sed -n 's/^cmake version \([0-9]*\.[0-9]*\).*/\1/p')
  [[ -n "$v" ]] && printf '%s\n3.25\n' "$v" | sort -V -C
}

need cmake           cmake_new_enough
need g++             have g++
need make            have make
need doctest-dev     test -f /usr/include/doctest/doctest.h
need libbenchmark-dev test -f /usr/include/benchmark/benchmark.h
need python3         have python3
need python3-venv    python3 -c 'import ensurepip'
need python3-pip     python3 -m pip --version
python_headers() {  # the Python package's build needs Python.h of this python3
  test -f "$(python3 -c 'import sysconfig; print(sysconfig.get_path("include"))')/Python.h"
}
need python3-dev     python_headers
need git             have git
# The sanitizer build and the fuzzers (CMake preset `sanitize`): clang, its
# libFuzzer/ASan/UBSan runtimes, and LLVM's OpenMP runtime for clang -fopenmp.
need clang           have clang++
need libclang-rt-dev fuzzer_runtime
need libomp-dev      clang_openmp
need ca-certificates test -d /etc/ssl/certs

# Python packages, in a venv: Debian's python3 is "externally managed" (PEP
# 668), pyenv's is not, and the tests look for the venv at the same path.
#  - tests/python (differential tests against ml_dtypes/gfloat): ml_dtypes,
#    gfloat, numpy; without them those tests skip;
#  - the Python package (pip install .) and its tests (python/tests):
#    nanobind and scikit-build-core to build it without build isolation,
#    torch and torchao (the oracles) and pytest. PyTorch's wheel brings
#    several GB of CUDA libraries: installed once, then reused.
# The pins are the versions the documented difference classes were found on.
# Without network this only warns; scripts/test.sh then fails, since it runs
# the Python tests.
python_test_packages() {
  local venv=${PQT_PY_VENV:-${HOME:-/root}/.cache/pqt-venv}
  local py=$venv/bin/python out
  local pins=(ml_dtypes==0.6.0 gfloat==0.5.2 numpy torch==2.15.0 torchao==0.18.0 nanobind==3.1.0
              scikit-build-core==1.1.2 pytest)
  if "$py" -c 'import importlib.metadata as m, numpy, pytest, nanobind, scikit_build_core
v = {p: m.version(p) for p in ("ml_dtypes", "gfloat", "torch", "torchao")}
assert v["ml_dtypes"] == "0.6.0" and v["gfloat"] == "0.5.2", v
assert v["torch"].split("+")[0] == "2.15.0" and v["torchao"] == "0.18.0", v' >/dev/null 2>&1; then
    return 0
  fi
  if [[ ! -x $py ]]; then
    local fresh=1
    [[ -e $venv ]] && fresh=0
    if ! out=$(python3 -m venv "$venv" 2>&1); then
      ((fresh)) && rm -rf "$venv"  # only what this call made
      echo "install-deps: warning: cannot create a venv at $venv (the Python tests cannot run): ${out##*$'\n'}" >&2
      return 0
    fi
  fi
  if out=$("$py" -m pip install -q --disable-pip-version-check "${pins[@]}" 2>&1); then
    echo "install-deps: Python test packages installed in $venv"
  else
    echo "install-deps: warning: pip install ${pins[*]} failed (the Python tests cannot run): ${out##*$'\n'}" >&2
  fi
}

if ((python_only)); then
  python_test_packages
  exit 0
fi

if ((${#missing[@]} == 0)); then
  echo "install-deps: all build dependencies present"
  ((python_tests)) && python_test_packages
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: no apt-get here; install these yourself: ${missing[*]}" >&2
  exit 1
fi
sudo=()
if ((EUID != 0)); then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "install-deps: need root to install ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
if ((python_tests)); then python_test_packages; fi

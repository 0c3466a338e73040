#!/usr/bin/env bash
# Installs what pqt's build needs on Debian 12 (bookworm), and only what is
# missing: safe to run again. Needs root (or sudo) only when it installs.
set -euo pipefail

missing=()
need() {  # need <package> <test...>: queue the package when the test fails
  local pkg=$1; shift
  if ! "$@" >/dev/null 2>&1; then missing+=("$pkg"); fi
}
have() { command -v "$1"; }
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
need git             have git
need ca-certificates test -d /etc/ssl/certs

if ((${#missing[@]} == 0)); then
  echo "install-deps: all build dependencies present"
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

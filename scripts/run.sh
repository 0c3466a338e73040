#!/usr/bin/env bash
# Installs what is missing, builds the `pqt` tool and the examples with the
# `release` preset, and runs the demo: a few `pqt` commands, then every example.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh --no-python-tests
build=build/release
cmake --preset release

targets=(pqt_examples)  # always defined (possibly empty) by examples/CMakeLists.txt
if [[ -f tools/pqt.cpp ]]; then
  targets+=(pqt_cli)
else
  echo "run: tools/pqt.cpp does not exist yet; skipping the pqt tool"
fi
cmake --build "$build" --parallel "$(nproc)" --target "${targets[@]}"

step() { printf '\n== %s\n' "$*"; "$@"; }

if [[ -x $build/tools/pqt ]]; then
  step "$build/tools/pqt" info e4m3
  step "$build/tools/pqt" table e2m1
fi

ran=0
if [[ -d $build/examples ]]; then
  while IFS= read -r exe; do
    step "$exe"
    ran=$((ran + 1))
  done < <(find "$build/examples" -maxdepth 1 -type f -perm -u+x | sort)
fi
((ran > 0)) || echo "run: no examples built yet"

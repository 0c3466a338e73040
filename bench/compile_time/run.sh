#!/usr/bin/env bash
# Compile time of a user file calling fake_quant, quantize, dequantize and
# gaussws (tensor_api_user.cpp), header-only and in the compiled mode
# (-DPQT_TENSOR_LIB: what linking pqt::tensor defines; only the user file is
# compiled here, the library once elsewhere), at -O2 and at -O1 with
# ASan+UBSan, for each compiler in $COMPILERS (default: g++ clang++). Run it
# on an idle machine; one compile at a time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
inc=../../include
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
san=(-fsanitize=address,undefined -fno-sanitize-recover=all)
printf '%-10s %-13s %-18s %8s\n' compiler mode flags seconds
for cxx in ${COMPILERS:-g++ clang++}; do
  for mode in header-only compiled; do
    def=()
    [[ $mode == compiled ]] && def=(-DPQT_TENSOR_LIB)
    for opt in O2 O1-asan-ubsan; do
      flags=(-O2)
      [[ $opt == O1-asan-ubsan ]] && flags=(-O1 "${san[@]}")
      start=$(date +%s%N)
      "$cxx" -std=c++17 -fopenmp "${flags[@]}" "${def[@]}" -I"$inc" -c tensor_api_user.cpp -o "$out/u.o"
      ms=$((($(date +%s%N) - start) / 1000000))
      printf '%-10s %-13s %-18s %4d.%d\n' "$cxx" "$mode" "$opt" $((ms / 1000)) $((ms % 1000 / 100))
    done
  done
done

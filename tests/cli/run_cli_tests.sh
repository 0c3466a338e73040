#!/usr/bin/env bash
# Checks the `pqt` command-line tool's output exactly.
#   tests/cli/run_cli_tests.sh PATH/TO/pqt [GROUP...]    GROUP: info table cast random errors (default: all)
# Exit status: 0 if every check passed, 1 otherwise (each failure is printed).

set -u

if [[ $# -lt 1 ]]; then
  echo "usage: $0 PATH/TO/pqt [info|table|cast|random|errors]..." >&2
  exit 2
fi
PQT=$1
shift
if [[ ! -x $PQT ]]; then
  echo "FAIL: '$PQT' is not an executable" >&2
  exit 1
fi
groups=("$@")
[[ ${#groups[@]} -eq 0 ]] && groups=(info table cast random errors)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
checks=0
failures=0

# Runs pqt with the given arguments; sets $out, $err, $rc.
run() {
  "$PQT" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  out=$(<"$tmp/out")
  err=$(<"$tmp/err")
}

fail() {
  failures=$((failures + 1))
  printf 'FAIL: pqt %s\n  %s\n' "$cmdline" "$1"
  printf '  exit status: %s\n' "$rc"
  printf '  stdout:\n%s\n' "$(head -n 20 <<<"$out" | sed 's/^/    | /')"
  printf '  stderr:\n%s\n' "$(head -n 10 <<<"$err" | sed 's/^/    | /')"
}

# expect_out EXPECTED ARGS...: exit 0 and stdout exactly EXPECTED.
expect_out() {
  local expected=$1
  shift
  checks=$((checks + 1))
  cmdline="$*"
  run "$@"
  if [[ $rc -ne 0 ]]; then fail "expected exit status 0"
  elif [[ $out != "$expected" ]]; then fail "expected stdout:"$'\n'"$(sed 's/^/    > /' <<<"$expected")"
  fi
}

# expect_line LINE ARGS...: exit 0 and LINE is one whole line of stdout.
expect_line() {
  local line=$1
  shift
  checks=$((checks + 1))
  cmdline="$*"
  run "$@"
  if [[ $rc -ne 0 ]]; then fail "expected exit status 0"
  elif ! grep -qxF -- "$line" <<<"$out"; then fail "expected a line '$line'"
  fi
}

# expect_error NEEDLE ARGS...: exit 2, nothing on stdout, NEEDLE in stderr.
expect_error() {
  local needle=$1
  shift
  checks=$((checks + 1))
  cmdline="$*"
  run "$@"
  if [[ $rc -ne 2 ]]; then fail "expected exit status 2"
  elif [[ -n $out ]]; then fail "expected nothing on stdout"
  elif [[ $err != *"$needle"* ]]; then fail "expected stderr to contain '$needle'"
  fi
}

# value_of KEY: the value of "KEY: value" in $out.
value_of() { sed -n "s/^$1: //p" <<<"$out"; }

group_info() {
  local key_values
  for key_values in "max: 448" "lowest: -448" "min_normal: 0.015625" "min_subnormal: 0.001953125" \
                    "epsilon: 0.125" "bits: 8" "exponent_bits: 4" "mantissa_bits: 3" "encoding: fn" \
                    "bias: 7" "signed: yes" "finite_codes: 254" "finite_values: 253" "has_inf: no" \
                    "has_nan: yes" "has_negative_zero: yes" "has_subnormals: yes" "emin: -6" "emax: 8" \
                    "nan_code: 0x7f" "max_code: 0x7e" "inf_code: none" "name: e4m3"; do
    expect_line "$key_values" info e4m3
  done
  expect_line "max: 57344" info e5m2
  expect_line "inf_code: 0x7c" info e5m2
  expect_line "min_subnormal: 1.5258789e-05" info e5m2
  expect_line "max: 6" info e2m1
  expect_line "nan_code: none" info e2m1
  expect_line "max: 240" info e4m3fnuz
  expect_line "nan_code: 0x80" info e4m3fnuz
  expect_line "max: 65504" info fp16
  expect_line "signed: no" info ue4m3
  expect_line "bits: 7" info ue4m3

  # e8m0's max is 2^127: whatever text info prints must read back as exactly
  # 2^127, i.e. cast to fp32 gives the bits 0x7f000000 and to e8m0 its max code.
  expect_line "max_code: 0xfe" info e8m0
  expect_line "min_subnormal: 5.877472e-39" info e8m0
  run info e8m0
  local e8m0_max
  e8m0_max=$(value_of max)
  checks=$((checks + 1))
  cmdline="info e8m0"
  if [[ -z $e8m0_max ]]; then fail "no 'max:' line"; fi
  expect_out "$e8m0_max -> 0x7f000000  $e8m0_max" cast fp32 "$e8m0_max"
  expect_out "$e8m0_max -> 0xfe  $e8m0_max" cast e8m0 "$e8m0_max"
  expect_out "0x1p127 -> 0x7f000000  1.7014118e+38" cast fp32 0x1p127

  # Format modifiers rebuild the format; the default bias follows the encoding.
  expect_line "name: e3m4 fnuz" info e3m4 --encoding fnuz
  expect_line "bias: 4" info e3m4 --encoding fnuz
  expect_line "max: 15.5" info e3m4 --encoding fnuz
  expect_line "bias: 3" info e3m4
  expect_line "bias: 5" info e3m4 --bias 5
  expect_line "bias: 5" info e3m4 --bias=5
  expect_line "name: e4m3fnuz" info e4m3 --encoding fnuz
  expect_line "name: e4m3 fn bias 8" info e4m3 --bias 8
  expect_line "signed: no" info e4m3 --unsigned
  expect_line "bits: 7" info e4m3 --unsigned
  expect_line "e4m3       8 bits  fn      max 448            OCP FP8 E4M3 (\"e4m3fn\"): no Inf, NaN = S.1111.111" formats
  expect_line "pqt 0.1.0" version
  expect_line "commands:" help
  expect_line "commands:" --help
  expect_line "commands:" cast --help
}

group_table() {
  local e2m1
  e2m1=$(printf '%s\n' "code  value" \
    "0x0  0" "0x1  0.5" "0x2  1" "0x3  1.5" "0x4  2" "0x5  3" "0x6  4" "0x7  6" \
    "0x8  -0" "0x9  -0.5" "0xa  -1" "0xb  -1.5" "0xc  -2" "0xd  -3" "0xe  -4" "0xf  -6")
  expect_out "$e2m1" table e2m1

  # e4m3: 256 code lines in order 0x00..0xff, with the specials in place.
  checks=$((checks + 1))
  cmdline="table e4m3"
  run table e4m3
  local expected_codes
  expected_codes=$(for ((c = 0; c < 256; ++c)); do printf '0x%02x\n' "$c"; done)
  if [[ $rc -ne 0 ]]; then fail "expected exit status 0"
  elif [[ $(grep -c '^0x' <<<"$out") -ne 256 ]]; then fail "expected 256 code lines"
  elif [[ $(grep '^0x' <<<"$out" | cut -d' ' -f1) != "$expected_codes" ]]; then fail "expected codes 0x00..0xff in order"
  fi
  local line
  for line in "0x00  0" "0x01  0.001953125" "0x38  1" "0x7e  448" "0x7f  nan" "0x80  -0" "0xfe  -448" "0xff  nan"; do
    expect_line "$line" table e4m3
  done
  expect_line "0x7c  inf" table e5m2
  expect_line "0xfc  -inf" table e5m2
  expect_line "0x7d  nan" table e5m2
  expect_line "0x80  nan" table e4m3fnuz
  expect_line "0x00  5.877472e-39" table e8m0
  expect_line "0xff  nan" table e8m0
  expect_line "0x3f  -28" table e3m2
  # Modifiers apply to eXmY directly (E1M0 has no IEEE form, but a finite one).
  expect_out $'code  value\n0x0  0\n0x1  2\n0x2  -0\n0x3  -2' table e1m0 --encoding finite
}

group_cast() {
  # Overflow: 464 ties to 448 (even); above that, nonsaturating E4M3 gives NaN.
  expect_out "464 -> 0x7e  448" cast e4m3 464
  expect_out "465 -> 0x7f  nan" cast e4m3 465
  expect_out "465 -> 0x7e  448" cast e4m3 --saturate 465
  expect_out "-465 -> 0xfe  -448" cast e4m3 --saturate -465
  expect_out "1000 -> 0x7e  448" cast e4m3 --round toward_zero 1000
  expect_out "1000 -> 0x7e  448" cast e4m3 --round rz 1000
  expect_out "1e9 -> 0x7c  inf" cast e5m2 1e9
  expect_out "-1e9 -> 0xfb  -57344" cast e5m2 --round upward -- -1e9
  expect_out "-1.5 -> 0xbc  -1.5" cast e4m3 -1.5
  expect_out "-0 -> 0x80  -0" cast e4m3 -0
  expect_out "0x1.8p0 -> 0x3c  1.5" cast e4m3 0x1.8p0
  expect_out "nan -> 0x7f  nan" cast e4m3 nan
  expect_out "inf -> 0x7c00  inf" cast fp16 inf
  expect_out "17 -> 0x59  18" cast e4m3 --round odd 17
  expect_out "0.1 -> 0x3dcd  0.100097656" cast bf16 0.1
  expect_out "1 -> 0x40  1" cast e3m4 --encoding fnuz 1
  expect_out $'1 -> 0x2  1\n2.5 -> 0x4  2\n7 -> 0x7  6' cast e2m1 1 2.5 7

  # Stochastic, k = 2: 1.25 is half-way (t_k = 2) between 1 and 1.5; up iff t_k + r >= 4.
  expect_out "1.25 -> 0x3  1.5" cast e2m1 --round stochastic --random-bits 2 --random-word 2 1.25
  expect_out "1.25 -> 0x2  1" cast e2m1 --round stochastic --random-bits 2 --random-word 1 1.25
  expect_out "1.25 -> 0x2  1" cast e2m1 --round sr --random-bits 2 --random-word 0xfffffff1 1.25
  expect_out "1.25 -> 0x3  1.5" cast e2m1 --round=sr --random-bits=2 --random-word=0x6 1.25
  expect_out "1.5 -> 0x3  1.5" cast e2m1 --round stochastic --random-word 4294967295 1.5
}

group_random() {
  # Philox words: the element-0..3 words of seed 0, offset 0 are the published
  # Philox4x32-10 known answer for counter 0 / key 0.
  local words=(0x6627e8d5 0xe169c58d 0xbc57ac4c 0x9b00dbd8) i
  for i in 0 1 2 3; do
    run cast e4m3 --round stochastic --random-word "${words[$i]}" 1.3
    expect_out "$out" cast e4m3 --round stochastic --seed 0 --index "$i" 1.3
  done
  # The i-th VALUE is element I+i: a shard starting at index 3 sees the same bits.
  run cast e5m2 --round stochastic --seed 42 --offset 7 0.3 0.3 0.3 0.3 0.3
  expect_out "$(tail -n 2 <<<"$out")" cast e5m2 --round stochastic --seed 42 --offset 7 --index 3 0.3 0.3
  run cast e5m2 --round gaussian --seed 42 0.3 0.3 0.3 0.3 0.3
  expect_out "$(tail -n 1 <<<"$out")" cast e5m2 --round gaussian --seed 42 --index 4 0.3
  # Exact values never move under stochastic rounding; sigma 0 is nearest-even.
  expect_out $'1.5 -> 0x3c  1.5\n-2 -> 0xc0  -2\n0 -> 0x00  0' cast e4m3 --round stochastic --seed 9 1.5 -2 0
  expect_out "1.3 -> 0x3a  1.25" cast e4m3 --round gaussian --seed 1 --sigma 0 1.3
  # noise: 7 rows that add up to the count, and the table's exact probabilities.
  checks=$((checks + 1))
  cmdline="noise --seed 1 --count 1000"
  run noise --seed 1 --count 1000
  local total
  total=$(awk '$1 ~ /^-?[0-3]$/ { s += $2; n++ } END { print n ":" s }' <<<"$out")
  if [[ $rc -ne 0 || $total != "7:1000" ]]; then fail "expected 7 rows (R = -3..3) adding up to 1000, got $total"; fi
  # R = 0: the table's probability is printed, and 10^6 draws land within 6 sigma of it.
  checks=$((checks + 1))
  cmdline="noise --seed 1 --count 1000000 --offset 5"
  run noise --seed 1 --count 1000000 --offset 5
  if ! awk '$1 == "0" { ok = ($4 == "0.682689492" && $5 == "0.682689492" && ($3 - $4) ^ 2 < (6 * 0.000466) ^ 2) }
            END { exit !ok }' <<<"$out"; then
    fail "expected the R = 0 row: frequency within 6 sigma of 0.682689492, table and Phi columns 0.682689492"
  fi
}

group_errors() {
  expect_error "e4m3" info nosuchformat
  expect_error "e4m3" cast nosuchformat 1
  expect_error "nearest_even" cast e4m3 --round nosuchmode 1
  expect_error "needs --seed" cast e4m3 --round gaussian 1
  expect_error "not both" cast e4m3 --round stochastic --seed 1 --random-word 2 1
  expect_error "--sigma" cast e4m3 --round gaussian --seed 1 --sigma -1 1
  expect_error "--sigma" cast e4m3 --round stochastic --seed 1 --sigma 1 1
  expect_error "need --seed" cast e4m3 --round stochastic --random-word 1 --offset 3 1
  expect_error "apply only" cast e4m3 --seed 3 1
  expect_error "--seed" cast e4m3 --round stochastic --seed -1 1
  expect_error "--count" noise --seed 1
  expect_error "--seed" noise --count 10
  expect_error "positional" noise --seed 1 --count 10 extra
  expect_error "8 bits" table bf16
  expect_error "pqt cast" table bf16
  expect_error "not a number" cast e4m3 abc
  expect_error "not a number" cast e4m3 1.5x
  expect_error "not a number" cast e4m3 ""
  expect_error "1..32" cast e2m1 --round stochastic --random-word 1 --random-bits 33 1
  expect_error "1..32" cast e2m1 --round stochastic --random-word 1 --random-bits 0 1
  expect_error "--random-word" cast e2m1 --round stochastic 1
  expect_error "--random-word" cast e2m1 --round stochastic --random-word 0x100000000 1
  expect_error "stochastic" cast e2m1 --random-word 1 1
  expect_error "exponent bits" info e9m3
  expect_error "exponent bits" cast e9m3 1
  expect_error "scale" info e2m1 --encoding scale
  expect_error "ieee, fn, fnuz" info e4m3 --encoding nosuch
  expect_error "fnuz" info e4m3fnuz --unsigned
  expect_error "--bias" info e4m3 --bias x
  expect_error "usage" # no arguments
  expect_error "info, table, cast" nosuchcommand
  expect_error "--encoding" info e4m3 --nosuchoption
  expect_error "--encoding" info e4m3 --round rne
  expect_error "needs a value" cast e4m3 1 --round
  expect_error "VALUE" cast e4m3
  expect_error "FORMAT" info
  expect_error "extra" info e4m3 e5m2
  expect_error "no arguments" formats x
}

for g in "${groups[@]}"; do
  case $g in
    info | table | cast | random | errors) "group_$g" ;;
    *) echo "unknown group '$g'; valid: info table cast random errors" >&2; exit 2 ;;
  esac
done

echo "$((checks - failures)) of $checks checks passed (${groups[*]})"
[[ $failures -eq 0 ]]

#!/usr/bin/env bash
# Builds the libFuzzer target for the request parsers and normalisers with clang
# (ASan + UBSan) and runs it briefly; any crash, leak or sanitizer report fails.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
seconds="${SHIELDX_FUZZ_SECONDS:-20}"
if ! command -v clang++ >/dev/null 2>&1; then
  echo "FAIL clang++ missing (bash scripts/install-deps.sh)"; echo "fuzz: 0 passed, 1 failed"; exit 1
fi
dir="$root/build-fuzz"
if [[ ! -f "$dir/build.ninja" ]]; then
  cmake -G Ninja -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DSHIELDX_FUZZ=ON >/dev/null || {
    echo "FAIL configure"; echo "fuzz: 0 passed, 1 failed"; exit 1; }
fi
cmake --build "$dir" --target detect_parser_fuzz -j "$(nproc)" >"$dir/fuzz-build.log" 2>&1 || {
  tail -n 20 "$dir/fuzz-build.log"; echo "fuzz: 0 passed, 1 failed"; exit 1; }
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
if "$dir/bin/detect_parser_fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 \
    "$corpus" >"$dir/fuzz-run.log" 2>&1; then
  grep -E "stat::number_of_executed_units" "$dir/fuzz-run.log"
  echo "fuzz: 1 passed, 0 failed"
else
  tail -n 40 "$dir/fuzz-run.log"
  echo "fuzz: 0 passed, 1 failed"
  exit 1
fi

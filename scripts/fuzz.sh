#!/usr/bin/env bash
# Build every libFuzzer target with clang and run each for N seconds (default
# 20) from its seed corpus. Any crash, leak or sanitizer report fails.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
CC=clang cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBULWARK_FUZZ=ON >/dev/null
ninja -C build-fuzz
shopt -s nullglob
targets=(build-fuzz/fuzz/fuzz_*)
((${#targets[@]})) || { echo "no fuzz targets built"; exit 1; }
for t in "${targets[@]}"; do
  name=$(basename "$t")
  work=$(mktemp -d)
  seeds=fuzz/corpus/${name#fuzz_}
  [[ -d $seeds ]] && cp -r "$seeds"/. "$work"/
  echo "-- $name (${secs}s)"
  if ! "$t" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 \
       -print_final_stats=1 "$work" >"$work.log" 2>&1; then
    tail -60 "$work.log"; echo "FAIL $name"; exit 1
  fi
  grep -E '^stat::number_of_executed_units' "$work.log" | sed "s/^/   /"
  rm -rf "$work" "$work.log"
done

#!/usr/bin/env bash
# Build every libFuzzer target with clang and run each for N seconds (default
# 20) from its seed corpus: the hand-made seeds in fuzz/corpus/<name>/ plus
# those fuzz/seeds.py extracts from ../shared/vectors at run time (vectors
# are never copied into the project). Any crash, leak or sanitizer report
# fails.
#   FUZZ_BUILD_DIR=dir    build directory (default build-fuzz)
#   FUZZ_TARGETS="a b"    run only these targets (default: every one built)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
build=${FUZZ_BUILD_DIR:-build-fuzz}
CC=clang cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBULWARK_FUZZ=ON >/dev/null
ninja -C "$build"
shopt -s nullglob
if [[ -n ${FUZZ_TARGETS:-} ]]; then
  targets=()
  for n in $FUZZ_TARGETS; do targets+=("$build/fuzz/$n"); done
else
  targets=("$build"/fuzz/fuzz_*)
fi
((${#targets[@]})) || { echo "no fuzz targets built"; exit 1; }
for t in "${targets[@]}"; do
  name=$(basename "$t")
  [[ -x $t ]] || { echo "FAIL $name: not built"; exit 1; }
  work=$(mktemp -d)
  seeds=fuzz/corpus/${name#fuzz_}
  [[ -d $seeds ]] && cp -r "$seeds"/. "$work"/
  python3 fuzz/seeds.py "$name" "$work" | sed "s/^/   /"
  echo "-- $name (${secs}s)"
  if ! "$t" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 \
       -print_final_stats=1 "$work" >"$work.log" 2>&1; then
    tail -60 "$work.log"; echo "FAIL $name"; exit 1
  fi
  grep -E '^stat::number_of_executed_units' "$work.log" | sed "s/^/   /"
  rm -rf "$work" "$work.log"
done

#!/usr/bin/env bash
# Set up and run every test: the normal build, the ASan+UBSan build, and a
# short run of every libFuzzer target. Exits non-zero on any failure.
#   FUZZ_SECONDS=N   seconds per fuzz target (default 10)
#   SKIP_DEPS=1      do not install packages
set -euo pipefail
cd "$(dirname "$0")/.."
[[ ${SKIP_DEPS:-0} == 1 ]] || scripts/deps.sh
jobs=$(nproc)

echo "== build and test (release)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build
(cd build && ctest --output-on-failure -j "$jobs")

echo "== build and test (AddressSanitizer + UndefinedBehaviorSanitizer)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBULWARK_SANITIZE=ON >/dev/null
ninja -C build-asan
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --output-on-failure -j "$jobs")

echo "== fuzz targets (libFuzzer, ASan+UBSan)"
scripts/fuzz.sh "${FUZZ_SECONDS:-10}"

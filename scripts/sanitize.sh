#!/usr/bin/env bash
# Builds hubpoll with AddressSanitizer and UndefinedBehaviorSanitizer in
# ./build-asan and runs the whole test suite there. Run scripts/setup.sh
# once first so the packages are installed.
set -euo pipefail

cd "$(dirname "$0")/.."

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DHUBPOLL_SANITIZE=ON \
  -DHUBPOLL_BUILD_BENCH=OFF
cmake --build build-asan -j"$(nproc)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j2

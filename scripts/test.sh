#!/usr/bin/env bash
# README command 2: set-up (dependencies, MNIST, Release build) then the whole
# test suite through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cd build
ctest --output-on-failure -j 2 --timeout 900

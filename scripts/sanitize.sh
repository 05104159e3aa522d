#!/usr/bin/env bash
# Builds dvae with AddressSanitizer + UndefinedBehaviorSanitizer (gcc,
# DVAE_SANITIZE=ON) into build-asan/ and runs the core, data, training and
# evaluation unit tests under them (the slow, real-data and GPU tests
# included when their data is there). Extra arguments go to each test
# executable, e.g. --gtest_filter=Idx*.
#
# Settings and why:
# - detect_leaks=0: LibTorch and OpenBLAS keep thread pools, allocator caches
#   and operator registries alive until exit by design; LeakSanitizer would
#   report those, not dvae's objects (RAII-owned).
# - UBSan's vptr check is compiled out (cmake/Sanitizers.cmake): it needs the
#   type information of LibTorch's polymorphic classes, which lives in the
#   uninstrumented library (a precaution against false reports; not observed).
# - OMP_NUM_THREADS=1 and DVAE_BLAS_KERNEL=keep: ASan slows dvae's code ~2x;
#   one thread keeps the run to minutes on 2 cores.
# No suppression file is needed: nothing is reported from LibTorch itself.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build-asan/CMakeCache.txt ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDVAE_SANITIZE=ON >/dev/null
fi
tests=(test_core test_data test_training test_evaluation)
nice -n 10 cmake --build build-asan -j "${DVAE_JOBS:-2}" --target "${tests[@]}"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
export OMP_NUM_THREADS=1 DVAE_BLAS_KERNEL=keep DVAE_TEST_DATA="$PWD/data"
status=0
for t in "${tests[@]}"; do
  echo "== $t (ASan + UBSan)"
  if ! build-asan/tests/"$t" "$@"; then status=1; fi
done
exit $status

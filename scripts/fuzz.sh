#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, DVAE_FUZZ=ON) into
# build-fuzz/ and runs one of them.
#   scripts/fuzz.sh TARGET SECONDS   fuzz TARGET (idx, study, results, checkpoint, serve, factors) for SECONDS,
#                                    growing fuzz/corpus/TARGET's copy in build-fuzz/corpus/TARGET
#   scripts/fuzz.sh TARGET -runs=N   a fixed number of executions (what a CI check would run)
#   scripts/fuzz.sh all -runs=N      every target
#   further arguments go to libFuzzer (e.g. -jobs=2, -max_len=4096)
# A crash leaves build-fuzz/crashes/TARGET/crash-<sha1>: reproduce it with
# build-fuzz/fuzz/fuzz_TARGET FILE, then make it a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then
  echo "usage: scripts/fuzz.sh TARGET|all SECONDS|-runs=N [libFuzzer flags...]" >&2
  exit 2
fi
targets=("$1")
if [ "$1" = all ]; then targets=(idx study results checkpoint serve factors); fi
for t in "${targets[@]}"; do
  if [ ! -d "fuzz/corpus/$t" ]; then
    echo "error: unknown target '$t', expected idx, study, results, checkpoint, serve or all" >&2
    exit 2
  fi
done
have_libfuzzer() {
  command -v clang++ >/dev/null && ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 &&
    ls /usr/lib/llvm-*/lib/libomp.so >/dev/null 2>&1  # clang's OpenMP (dvae compiles with -fopenmp)
}
if ! have_libfuzzer; then
  # scripts/setup.sh installs what the normal build needs; libFuzzer's runtime
  # (Debian 12: libclang-rt-14-dev, through libclang-rt-dev) is installed here.
  sudo=(); if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  pkgs=(clang libclang-rt-dev libomp-dev)
  echo "fuzz.sh: installing clang and libFuzzer's and OpenMP's runtimes (apt-get install ${pkgs[*]})"
  if ! command -v apt-get >/dev/null ||
     ! { "${sudo[@]}" apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null ||
         { "${sudo[@]}" apt-get update >/dev/null &&
           "${sudo[@]}" apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null; }; } ||
     ! have_libfuzzer; then
    echo "error: libFuzzer needs clang and its runtimes, and installing them failed: apt-get install ${pkgs[*]}" >&2
    exit 1
  fi
fi
# Configured every time (seconds): a target added since the last run gets its rule.
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DDVAE_FUZZ=ON -DDVAE_BUILD_TESTS=OFF >/dev/null
nice -n 10 cmake --build build-fuzz -j "${DVAE_JOBS:-2}" --target $(printf 'fuzz_%s ' "${targets[@]}")
if [[ "$2" == -runs=* ]]; then limit=("$2"); else limit=(-max_total_time="$2"); fi
export DVAE_BLAS_KERNEL=keep OMP_NUM_THREADS=1
# LibTorch's allocations outlive the process on purpose; leak reports are not findings here.
export ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}" UBSAN_OPTIONS="print_stacktrace=1:${UBSAN_OPTIONS:-}"
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/crashes/$t"
  echo "fuzz_$t: ${limit[*]}"
  # The seeds are read (not written): new inputs go to build-fuzz/corpus/$t.
  dict=(); if [ -f "fuzz/$t.dict" ]; then dict=(-dict="fuzz/$t.dict"); fi
  # The checkpoint target gets 8 GB: LibTorch's unpickler reserves up to 4 GB for a
  # mutated length before it finds the file short (fuzz/README.md).
  rss=4096; if [ "$t" = checkpoint ]; then rss=8192; fi
  build-fuzz/fuzz/fuzz_"$t" "${limit[@]}" "${dict[@]}" -timeout=10 -rss_limit_mb="$rss" -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="build-fuzz/crashes/$t/" "${@:3}" "build-fuzz/corpus/$t" "fuzz/corpus/$t"
done

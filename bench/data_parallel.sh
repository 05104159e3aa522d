#!/usr/bin/env bash
# Data-parallel scaling on one machine: `dvae train --nproc 2` (2 processes x 1
# thread, Gloo on 127.0.0.1) with the gradient all-reduce overlapped with the
# backward pass (2x1) and after it (2x1-after, --dist-overlap off), against one
# process with 2 threads, for the MLP and the CNN, interleaved A B C A B C so
# that load changes hit every variant. Prints the
# training images/s of each run (log.jsonl's images_per_sec: the global batch's
# images over the training steps' wall time) and the median per variant.
# Usage: [DATASET=mnist] [DATA_ROOT=data] bench/data_parallel.sh [DVAE] [REPS] [MLP_IMAGES] [CNN_IMAGES]
set -euo pipefail
DVAE=${1:-build/dvae}
REPS=${2:-2}
MLP_N=${3:-20000}
CNN_N=${4:-3000}
DATASET=${DATASET:-mnist}
DATA_ROOT=${DATA_ROOT:-data}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ips() { python3 -c "import json,sys; print(round(json.loads(open(sys.argv[1]).read().splitlines()[-1])['images_per_sec']))" "$1/log.jsonl"; }
declare -A RESULTS
for rep in $(seq 1 "$REPS"); do
  for arch in mlp cnn; do
    n=$MLP_N; [ "$arch" = cnn ] && n=$CNN_N
    for variant in "1x2" "2x1" "2x1-after"; do
      out="$TMP/$arch-$variant-$rep"
      if [ "$variant" = "1x2" ]; then
        "$DVAE" --quiet --threads 2 --data-root "$DATA_ROOT" train --dataset "$DATASET" --arch "$arch" --epochs 1 --limit-train "$n" --limit-test 100 --out "$out"
      else
        overlap=on; [ "$variant" = "2x1-after" ] && overlap=off
        "$DVAE" --quiet --data-root "$DATA_ROOT" train --dataset "$DATASET" --nproc 2 --threads 1 --dist-overlap "$overlap" --arch "$arch" --epochs 1 --limit-train "$n" --limit-test 100 --out "$out"
      fi
      v=$(ips "$out")
      echo "rep $rep  $arch  $variant (processes x threads)  $v img/s  load $(cut -d' ' -f1 /proc/loadavg)"
      RESULTS[$arch-$variant]="${RESULTS[$arch-$variant]:-} $v"
    done
  done
done
for key in mlp-1x2 mlp-2x1 mlp-2x1-after cnn-1x2 cnn-2x1 cnn-2x1-after; do
  median=$(echo "${RESULTS[$key]}" | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
  echo "median $key:${RESULTS[$key]} -> $median img/s"
done

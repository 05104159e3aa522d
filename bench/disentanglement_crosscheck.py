#!/usr/bin/python3
"""Cross-checks `dvae metrics` against disentanglement_lib's formulas written
with NumPy / scikit-learn (Debian's python3-sklearn) on one fixed input.

MIG and modularity use every row (N <= 10000), so they must agree to rounding.
SAP and DCI use a seeded train/test split that this script does not
reproduce, and DCI's importance model differs (XGBoost vs scikit-learn's
GradientBoosting), so those agree only approximately.

Usage: bench/disentanglement_crosscheck.py --dvae build/dvae [--rows 4000]
"""
import argparse
import json
import os
import subprocess
import tempfile

import numpy as np
from sklearn import ensemble
from sklearn.metrics import mutual_info_score


def histogram_discretize(x, bins=20):
    out = np.zeros_like(x, dtype=np.int64)
    for i in range(x.shape[1]):
        out[:, i] = np.digitize(x[:, i], np.histogram(x[:, i], bins)[1][:-1])
    return out


def mi_matrix(codes_d, factors_d):
    return np.array([[mutual_info_score(factors_d[:, j], codes_d[:, i]) for j in range(factors_d.shape[1])]
                     for i in range(codes_d.shape[1])])


def mig(codes, factors):
    m = mi_matrix(histogram_discretize(codes), histogram_discretize(factors))
    h = np.array([mutual_info_score(f, f) for f in histogram_discretize(factors).T])
    s = np.sort(m, axis=0)[::-1]
    return float(np.mean((s[0] - s[1]) / h))


def modularity(codes, factors):
    m2 = np.square(mi_matrix(histogram_discretize(codes), histogram_discretize(factors)))
    mx = m2.max(axis=1)
    delta = (m2.sum(axis=1) - mx) / (mx * (m2.shape[1] - 1.0))
    score = 1.0 - delta
    score[mx == 0] = 0
    return float(np.mean(score))


def sap_continuous(codes, factors):
    s = np.zeros((codes.shape[1], factors.shape[1]))
    for i in range(codes.shape[1]):
        for j in range(factors.shape[1]):
            c = np.cov(codes[:, i], factors[:, j], ddof=1)
            s[i, j] = c[0, 1] ** 2 / (c[0, 0] * c[1, 1]) if c[0, 0] > 1e-12 else 0
    t = np.sort(s, axis=0)[::-1]
    return float(np.mean(t[0] - t[1]))


def dci(codes, factors, n_train):
    import scipy.stats
    r = np.zeros((codes.shape[1], factors.shape[1]))
    info = []
    for j in range(factors.shape[1]):
        model = ensemble.GradientBoostingRegressor()
        model.fit(codes[:n_train], factors[:n_train, j])
        r[:, j] = np.abs(model.feature_importances_)
        info.append(max(0.0, model.score(codes[n_train:], factors[n_train:, j])))
    d = 1 - scipy.stats.entropy(r.T + 1e-11, base=r.shape[1])
    c = 1 - scipy.stats.entropy(r + 1e-11, base=r.shape[0])
    return (float(np.sum(d * r.sum(1) / r.sum())), float(np.sum(c * r.sum(0) / r.sum())), float(np.mean(info)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dvae", required=True)
    ap.add_argument("--rows", type=int, default=4000)
    a = ap.parse_args()
    rng = np.random.default_rng(7)
    n = a.rows
    f = rng.uniform(size=(n, 3))
    z = np.stack([f[:, 0] + 0.5 * f[:, 1] + 0.2 * rng.normal(size=n), -2 * f[:, 1] + 0.3 * rng.normal(size=n),
                  f[:, 2] ** 2 + 0.1 * rng.normal(size=n), rng.normal(size=n)], axis=1)
    with tempfile.TemporaryDirectory() as d:
        codes_csv, factors_csv, out = (os.path.join(d, x) for x in ("codes.csv", "factors.csv", "m.json"))
        with open(codes_csv, "w") as fh:
            fh.write("index,label," + ",".join(f"mu_{k}" for k in range(z.shape[1])) + "\n")
            for i in range(n):
                fh.write(f"{i},0," + ",".join(repr(float(v)) for v in z[i]) + "\n")
        with open(factors_csv, "w") as fh:
            fh.write("index,label,a,b,c\n")
            for i in range(n):
                fh.write(f"{i},0," + ",".join(repr(float(v)) for v in f[i]) + "\n")
        subprocess.run([a.dvae, "-q", "metrics", "--codes", codes_csv, "--factors", factors_csv, "--out", out],
                       check=True)
        got = json.load(open(out))["metrics"]
    d_, c_, i_ = dci(z, f, int(round(n * 2 / 3)))
    ref = {"mig": mig(z, f), "modularity": modularity(z, f), "sap": sap_continuous(z[: int(round(n * 2 / 3))],
                                                                                  f[: int(round(n * 2 / 3))]),
           "dci_disentanglement": d_, "dci_completeness": c_, "dci_informativeness": i_}
    print(f"{'metric':22s} {'dvae':>9s} {'numpy/sklearn':>14s} {'difference':>11s}")
    for k, v in ref.items():
        print(f"{k:22s} {got[k]:9.5f} {v:14.5f} {got[k] - v:11.2e}")


if __name__ == "__main__":
    main()

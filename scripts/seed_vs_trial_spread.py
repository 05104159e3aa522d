#!/usr/bin/env python3
"""Compares, per (model, n), the spread that a one-VAE report shows (std over the
label trials of VAE seed 0) with the spread across VAE seeds (std of the seed
means and the 95% t interval of their mean), from a study's report/results.csv.
Usage: scripts/seed_vs_trial_spread.py OUT/report/results.csv"""
import csv, math, statistics, sys
from collections import defaultdict

T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}
cells = defaultdict(lambda: defaultdict(list))
for r in csv.DictReader(open(sys.argv[1])):
    cells[(r["dataset"], r["arch"], r["model"], int(r["n"]))][int(r["vae_seed"])].append(float(r["accuracy"]))
print("| model | n | seeds | std over trials, seed 0 | std of seed means | 95% CI half-width across seeds |")
print("|---|---|---|---|---|---|")
for (ds, arch, model, n), seeds in sorted(cells.items(), key=lambda kv: (kv[0][2], kv[0][3] if kv[0][3] > 0 else 1e9)):
    if len(seeds) < 2:
        continue
    trial_sd = statistics.stdev(seeds[0]) if len(seeds[0]) > 1 else float("nan")
    means = [statistics.mean(v) for v in seeds.values()]
    sd = statistics.stdev(means)
    half = T975.get(len(means) - 1, 1.96) * sd / math.sqrt(len(means))
    print(f"| {model} | {'all' if n < 0 else n} | {len(means)} | {100*trial_sd:.2f} | {100*sd:.2f} | {100*half:.2f} |")

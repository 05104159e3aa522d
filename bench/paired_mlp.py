#!/usr/bin/env python3
"""More interleaved pairs for the MLP headline ratio than bench/run_benchmarks.py takes.

Each pair is one dvae MLP training at its own choice of threads (2 epochs on 60,000 MNIST images, the second
epoch's images/s) and one PyTorch-Python training of the same model (bench/pytorch_vae.py, 600 steps), the order
alternating from pair to pair, so that a machine whose speed drifts over minutes moves both sides of a pair
together. Prints each pair's ratio and their median and range. Uses run_benchmarks.py's own runners, so the
OpenBLAS kernel is chosen as there.

    /usr/bin/python3 bench/paired_mlp.py [--pairs 6] [--torch-threads 2] [--torch-policy default|PASSIVE]
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_benchmarks as rb  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=6)
    ap.add_argument("--dvae", default=os.path.join(rb.ROOT, "build", "dvae"))
    ap.add_argument("--torch-threads", type=int, default=2, choices=(1, 2))
    ap.add_argument("--torch-policy", default="default", choices=("default", "PASSIVE"))
    a = ap.parse_args()
    if a.pairs < 1:
        ap.error(f"--pairs {a.pairs}: expected >= 1")
    if not os.access(a.dvae, os.X_OK):
        ap.error(f"--dvae {a.dvae}: not an executable (build dvae first)")
    os.chdir(rb.ROOT)
    rb.CPU.update(rb.describe_cpu(a.dvae))
    policy = None if a.torch_policy == "default" else "PASSIVE"
    print(f"CPU: {rb.CPU['key']}; PyTorch-Python on {a.torch_threads} thread(s), wait policy {a.torch_policy}",
          flush=True)
    ratios = []
    for i in range(a.pairs):
        order = ("dvae", "torch") if i % 2 == 0 else ("torch", "dvae")
        got = {}
        for who in order:
            if who == "dvae":
                got[who] = rb.dvae_train(a.dvae, "mlp", 60000)[0]
            else:
                got[who] = rb.pytorch_train("mlp", 600, a.torch_threads, True, policy=policy)[0]
        ratios.append(got["dvae"] / got["torch"])
        print(f"{time.strftime('%H:%M:%S')} pair {i + 1} ({order[0]} first): dvae {got['dvae']:,.0f}, "
              f"PyTorch {got['torch']:,.0f} images/s: {ratios[-1]:.2f}x", flush=True)
    print(f"dvae / PyTorch-Python: median {statistics.median(ratios):.2f}x, range {min(ratios):.2f}-"
          f"{max(ratios):.2f}x over {len(ratios)} pairs")


if __name__ == "__main__":
    main()

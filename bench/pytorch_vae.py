#!/usr/bin/env python3
"""The comparison for dvae's training benchmark: the same VAEs (the paper's
MLP and CNN), the same loss (Bernoulli BCE summed over pixels + beta * KL,
both averaged over the batch) and the same optimiser (Adam, lr 1e-3, batch
100) in PyTorch from Python, on the full MNIST training set held in memory.

Prints one JSON line: {"impl": "pytorch", "arch", "threads", "images_per_sec",
"seconds", "steps", "peak_rss_mb"}. Run with Debian's /usr/bin/python3
(python3-torch 1.13.1, the same LibTorch build dvae links).
"""
import argparse
import json
import resource
import struct
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx_images(path):
    with open(path, "rb") as f:
        data = f.read()
    _, n, rows, cols = struct.unpack(">IIII", data[:16])
    return torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).view(n, rows, cols)


class MlpVae(nn.Module):
    def __init__(self, latent=10, hidden=500):
        super().__init__()
        self.e1, self.e2 = nn.Linear(784, hidden), nn.Linear(hidden, hidden)
        self.mu, self.logvar = nn.Linear(hidden, latent), nn.Linear(hidden, latent)
        self.d1, self.d2, self.d3 = nn.Linear(latent, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, 784)

    def forward(self, x):
        h = F.softplus(self.e2(F.softplus(self.e1(x.flatten(1)))))
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.d3(F.softplus(self.d2(F.softplus(self.d1(z))))).view_as(x), mu, logvar


class CnnVae(nn.Module):
    def __init__(self, latent=10):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 32, 5), nn.Conv2d(32, 64, 5)
        self.fc = nn.Linear(4 * 4 * 64, 1024)
        self.mu, self.logvar = nn.Linear(1024, latent), nn.Linear(1024, latent)
        self.d1, self.bn1 = nn.Linear(latent, 1024), nn.BatchNorm1d(1024)
        self.d2, self.bn2 = nn.Linear(1024, 7 * 7 * 128), nn.BatchNorm1d(7 * 7 * 128)
        self.t1, self.bn3 = nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64)
        self.t2 = nn.ConvTranspose2d(64, 1, 4, 2, 1)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.c1(x)), 2)
        h = F.max_pool2d(F.relu(self.c2(h)), 2)
        h = F.relu(self.fc(h.flatten(1)))
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        g = self.bn1(F.relu(self.d1(z)))
        g = self.bn2(F.relu(self.d2(g))).view(-1, 128, 7, 7)
        g = self.bn3(F.relu(self.t1(g)))
        return self.t2(g), mu, logvar


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", choices=["mlp", "cnn"], default="mlp")
    p.add_argument("--data", default="data/mnist")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--threads", type=int, default=0, help="0 = PyTorch's default")
    p.add_argument("--beta", type=float, default=4.0)
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    images = read_idx_images(a.data + "/train-images-idx3-ubyte")
    model = MlpVae() if a.arch == "mlp" else CnnVae()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = images.shape[0]
    perm = torch.randperm(n)
    model.train()

    def step(i):
        idx = perm[(i * 100) % n:(i * 100) % n + 100]
        x = images[idx].float().div_(255).unsqueeze(1)
        logits, mu, logvar = model(x)
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum() / x.shape[0]
        loss = recon + a.beta * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for i in range(a.warmup):
        step(i)
    t = time.perf_counter()
    for i in range(a.steps):
        step(a.warmup + i)
    dt = time.perf_counter() - t
    print(json.dumps({"impl": "pytorch", "arch": a.arch, "threads": torch.get_num_threads(),
                      "images_per_sec": a.steps * 100 / dt, "seconds": dt, "steps": a.steps,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()

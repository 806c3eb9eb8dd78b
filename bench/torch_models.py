#!/usr/bin/python3
"""PyTorch side of bench/compare: the same training step as `deepc bench MODEL`, on
synthetic data of the same shapes, printing the same fields on one line.

usage: torch_models.py MODEL --batch N --steps N --threads N
"""
import argparse
import resource
import time

import torch


def mlp_step(batch):
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.Sigmoid(),
                              torch.nn.Linear(128, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    x = torch.rand(batch, 784)
    y = torch.randint(0, 10, (batch,))

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    return step


MODELS = {"mlp": mlp_step}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", choices=sorted(MODELS))
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    step = MODELS[a.model](a.batch)
    for _ in range(a.steps // 10 + 1):  # warm-up, as deepc does
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    rate = a.batch * a.steps / (time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"model={a.model} batch={a.batch} threads={a.threads} steps={a.steps} "
          f"samples_per_sec={rate:.1f} peak_rss_mb={peak:.1f} torch={torch.__version__}")


if __name__ == "__main__":
    main()

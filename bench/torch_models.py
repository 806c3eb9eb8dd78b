#!/usr/bin/python3
"""PyTorch side of bench/compare: the same training step as `deepc bench MODEL`, on
synthetic data of the same shapes, printing the same fields on one line. The recurrent
models go through pack_padded_sequence, as the tweet classifier does (deepc's layers
take per-sequence lengths).

usage: torch_models.py MODEL --batch N --steps N --threads N
"""
import argparse
import os
import resource
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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


def dog_step(batch):
    sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
    from make_dog_fixture import DogEmotionNet
    torch.manual_seed(1)
    net = DogEmotionNet()
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    x = torch.rand(batch, 3, 64, 64)
    y = torch.randint(0, 4, (batch,))

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y, label_smoothing=0.1).backward()
        opt.step()
    return step


def rnn_step(kind):
    def make(batch):
        torch.manual_seed(1)
        rnn = getattr(torch.nn, kind)(300, 256, batch_first=True)
        fc = torch.nn.Linear(256, 3)
        params = list(rnn.parameters()) + list(fc.parameters())
        opt = torch.optim.Adam(params, lr=1e-3)
        x = torch.rand(batch, 32, 300)
        y = torch.randint(0, 3, (batch,))
        lengths = torch.full((batch,), 32)

        def step():
            opt.zero_grad()
            packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                             enforce_sorted=False)
            _, h = rnn(packed)
            h = h[0] if kind == "LSTM" else h
            torch.nn.functional.cross_entropy(fc(h[-1]), y).backward()
            opt.step()
        return step
    return make


MODELS = {"mlp": mlp_step, "dog": dog_step, "gru": rnn_step("GRU"), "lstm": rnn_step("LSTM")}


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

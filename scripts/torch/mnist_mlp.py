#!/usr/bin/python3
"""The mnist-mlp experiment in PyTorch, for docs/results.md: the same network
(784-128-10, sigmoid, nn.Linear's default initialisation), cross-entropy, plain SGD,
batch 32, seed 42, reading the same MNIST files. Prints one line per epoch in the
format of deepc's metrics.csv.

usage: /usr/bin/python3 scripts/torch/mnist_mlp.py [--lr 0.001] [--epochs 16]
           [--reduction mean|sum] [--data data/mnist] [--threads 2]
"""
import argparse
import gzip
import os
import time

import numpy as np
import torch


def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    dims = int.from_bytes(raw[3:4], "big")
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(data, split):
    x = idx(os.path.join(data, f"{split}-images-idx3-ubyte.gz")).reshape(-1, 784)
    y = idx(os.path.join(data, f"{split}-labels-idx1-ubyte.gz"))
    return torch.tensor(x, dtype=torch.float32) / 255.0, torch.tensor(y, dtype=torch.long)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lr", type=float, default=0.001)
    ap.add_argument("--epochs", type=int, default=16)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--reduction", choices=["mean", "sum"], default="mean")
    ap.add_argument("--data", default="data/mnist")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    xtr, ytr = load(a.data, "train")
    xte, yte = load(a.data, "t10k")
    net = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.Sigmoid(),
                              torch.nn.Linear(128, 10))
    opt = torch.optim.SGD(net.parameters(), lr=a.lr)
    loss_fn = torch.nn.CrossEntropyLoss(reduction=a.reduction)
    print(f"torch {torch.__version__} lr {a.lr} reduction {a.reduction}")
    print("epoch,lr,train_loss,train_acc,test_loss,test_acc,seconds")
    for epoch in range(a.epochs):
        t0, total, hits = time.time(), 0.0, 0
        for idxs in torch.randperm(len(xtr)).split(a.batch):
            out = net(xtr[idxs])
            loss = loss_fn(out, ytr[idxs])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * (1 if a.reduction == "sum" else len(idxs))
            hits += (out.argmax(1) == ytr[idxs]).sum().item()
        with torch.no_grad():
            out = net(xte)
            test_loss = torch.nn.functional.cross_entropy(out, yte).item()
            test_acc = (out.argmax(1) == yte).float().mean().item()
        print(f"{epoch + 1},{a.lr},{total / len(xtr):.6f},{hits / len(xtr):.6f},"
              f"{test_loss:.6f},{test_acc:.6f},{time.time() - t0:.2f}", flush=True)


if __name__ == "__main__":
    main()

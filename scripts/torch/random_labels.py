#!/usr/bin/python3
"""The random-labels experiment in PyTorch, for docs/results.md: the first 128 MNIST
training images with Bernoulli(0.5) labels, 784-128(ReLU)-2, Adam lr 1e-3, full batch,
no shuffling, 100 epochs; test images with their own random labels.

usage: /usr/bin/python3 scripts/torch/random_labels.py [--data data/mnist] [--seed 42]
"""
import argparse

import torch

from mnist_mlp import load


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/mnist")
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()

    torch.manual_seed(a.seed)
    xtr, _ = load(a.data, "train")
    xte, _ = load(a.data, "t10k")
    xtr = xtr[:128]
    ytr = torch.bernoulli(torch.full((128,), 0.5)).long()
    yte = torch.bernoulli(torch.full((len(xte),), 0.5)).long()
    net = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(),
                              torch.nn.Linear(128, 2))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for epoch in range(100):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(xtr), ytr)
        loss.backward()
        opt.step()
    with torch.no_grad():
        out = net(xtr)
        train_loss = torch.nn.functional.cross_entropy(out, ytr).item()
        train_acc = (out.argmax(1) == ytr).float().mean().item()
        test_acc = (net(xte).argmax(1) == yte).float().mean().item()
    print(f"torch {torch.__version__}: train loss {train_loss:.5f}, train acc "
          f"{train_acc:.4f}, test acc {test_acc:.4f}")


if __name__ == "__main__":
    main()

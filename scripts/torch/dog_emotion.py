#!/usr/bin/python3
"""The dog-emotion experiment in PyTorch and torchvision, for docs/results.md: the same
network (tests/fixtures/make_dog_fixture.py), augmentation, label smoothing, Adam with
weight decay and cosine schedule as `deepc run dog-emotion`, on the split a deepc run
wrote (its splits.csv), so that both sides train and score on the same images.

Prints one line per epoch (train loss and accuracy, validation loss and accuracy) and,
at the end, the test accuracy of the checkpoint best on validation. --epochs shortens
the run without changing the schedule (T_max stays 1000 unless --t-max sets it), so its
epochs can be set beside the same epochs of a full deepc run; --t-max N --epochs N is a
whole cosine schedule in fewer epochs, as deepc's `--set epochs=N --set t_max=N`.

usage: /usr/bin/python3 scripts/torch/dog_emotion.py RUN_DIR/splits.csv
           [--epochs 1000] [--t-max 1000] [--threads 2] [--seed 42] [--workers 1] [--no-augment]

--no-augment trains on resized images alone, as deepc's `--set augment=0`.
"""
import argparse
import copy
import csv
import os
import sys
import time

import torch
from PIL import Image
from torch import nn
from torchvision import transforms

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
from make_dog_fixture import DogEmotionNet  # noqa: E402

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


class Listed(torch.utils.data.Dataset):
    """(image, label) for a list of (path, label) pairs."""

    def __init__(self, items, transform):
        self.items, self.transform = items, transform

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, label = self.items[i]
        with Image.open(path) as im:
            return self.transform(im.convert("RGB")), label


def read_splits(path):
    """{split: [(file, label index)]}, labels numbered in sorted class-name order."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    classes = sorted({r["label"] for r in rows})
    splits = {"train": [], "val": [], "test": []}
    for r in rows:
        splits[r["split"]].append((r["file"], classes.index(r["label"])))
    return splits, classes


def transforms_for(size, augment):
    test = transforms.Compose([transforms.Resize((size, size)), transforms.ToTensor(),
                               transforms.Normalize(MEAN, STD)])
    if not augment:
        return test, test
    train = transforms.Compose([
        transforms.RandomResizedCrop(size, scale=(0.7, 1.0)),
        transforms.RandomRotation(20),
        transforms.ColorJitter(0.2, 0.2, 0.2, 0.1),
        transforms.RandomHorizontalFlip(),
        transforms.RandomVerticalFlip(),
        transforms.RandomAffine(0, translate=(0.1, 0.1)),
        transforms.RandomGrayscale(),
        transforms.GaussianBlur(3),
        transforms.ToTensor(),
        transforms.Normalize(MEAN, STD),
    ])
    return train, test


def run_epoch(net, loader, loss_fn, opt=None):
    net.train(opt is not None)
    total, hits, seen = 0.0, 0, 0
    with torch.set_grad_enabled(opt is not None):
        for x, y in loader:
            out = net(x)
            loss = loss_fn(out, y)
            if opt is not None:
                opt.zero_grad()
                loss.backward()
                opt.step()
            total += loss.item() * len(y)
            hits += (out.argmax(1) == y).sum().item()
            seen += len(y)
    return total / seen, hits / seen


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("splits")
    ap.add_argument("--epochs", type=int, default=1000)
    ap.add_argument("--t-max", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--no-augment", action="store_true")
    a = ap.parse_args()

    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    splits, classes = read_splits(a.splits)
    train_tf, test_tf = transforms_for(64, not a.no_augment)
    loader = {k: torch.utils.data.DataLoader(
        Listed(v, train_tf if k == "train" else test_tf), batch_size=16 if k == "train"
        else 64, shuffle=k == "train", num_workers=a.workers) for k, v in splits.items()}
    net = DogEmotionNet(len(classes))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=a.t_max, eta_min=1e-5)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    print(f"torch {torch.__version__}: {sum(p.numel() for p in net.parameters())} "
          f"parameters, {len(splits['train'])} train, {len(splits['val'])} val, "
          f"{len(splits['test'])} test", flush=True)

    best, best_epoch, best_state = -1.0, 0, None
    for epoch in range(1, a.epochs + 1):
        t0 = time.time()
        tr = run_epoch(net, loader["train"], loss_fn, opt)
        va = run_epoch(net, loader["val"], loss_fn)
        sched.step()
        if va[1] > best:
            best, best_epoch, best_state = va[1], epoch, copy.deepcopy(net.state_dict())
        print(f"epoch {epoch} train loss {tr[0]:.4f} acc {tr[1]:.4f} val loss {va[0]:.4f} "
              f"acc {va[1]:.4f} best {best:.4f}@{best_epoch} {time.time() - t0:.1f}s",
              flush=True)
    net.load_state_dict(best_state)
    test = run_epoch(net, loader["test"], loss_fn)
    print(f"final: best validation accuracy {best:.4f} at epoch {best_epoch}, test accuracy "
          f"{test[1]:.4f}")


if __name__ == "__main__":
    main()

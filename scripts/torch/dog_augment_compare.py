#!/usr/bin/python3
"""deepc's dog-emotion augmentation beside torchvision's, step by step, on real photos.

Each step of the training augmentation (scripts/torch/dog_emotion.py's list, which
deepc's dog_train_pipeline mirrors) is applied alone after Resize(64, 64), and then the
whole list, by both libraries to the same photos, REPS times each. The random draws
differ, so single images do not compare; their statistics do: per-channel mean and
standard deviation, mean absolute difference between neighbouring pixels (sharpness),
the share of black pixels (the fill that rotation and translation leave), and the mean
absolute change from the merely resized photo (how far the step moves an image).

usage: /usr/bin/python3 scripts/torch/dog_augment_compare.py [--build build]
           [--data-dir ../shared/data] [--every 10] [--reps 4]

--every K takes every K-th photo in name order; dog_augment_dump must be built
(cmake --build BUILD).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from PIL import Image
from torchvision import transforms

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dog_emotion import transforms_for  # noqa: E402

SIZE = 64


def photos(data_dir, every):
    root = os.path.join(data_dir, "dog-emotion")
    names = sorted(os.path.join(root, c, f) for c in os.listdir(root)
                   if os.path.isdir(os.path.join(root, c))
                   for f in os.listdir(os.path.join(root, c)))
    return names[every - 1::every]


def deepc_images(tool, step, list_path, reps):
    with tempfile.NamedTemporaryFile(suffix=".f32") as out:
        subprocess.run([tool, step, list_path, out.name, str(reps), "1"], check=True)
        return np.fromfile(out.name, np.float32).reshape(-1, 3, SIZE, SIZE)


def torch_images(pipeline, paths, reps):
    tf = transforms.Compose(pipeline + [transforms.ToTensor()])
    out = []
    for p in paths:
        with Image.open(p) as im:
            rgb = im.convert("RGB")
            out.extend(tf(rgb).numpy() for _ in range(reps))
    return np.stack(out)


def stats(x, base):
    return {"mean": x.mean(), "std": x.std((0, 2, 3)).mean(),
            "|dx|": np.abs(np.diff(x, axis=3)).mean(),
            "black": (x.max(1) <= 1 / 255).mean(),
            "|x-base|": np.abs(x - base).mean()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--data-dir", default=os.path.join("..", "shared", "data"))
    ap.add_argument("--every", type=int, default=10)
    ap.add_argument("--reps", type=int, default=4)
    a = ap.parse_args()

    torch.manual_seed(1)
    tool = os.path.join(a.build, "dog_augment_dump")
    paths = photos(a.data_dir, a.every)
    steps = transforms_for(SIZE, True)[0].transforms[:-2]  # less ToTensor, Normalize
    resize = transforms.Resize((SIZE, SIZE))
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as lst:
        lst.write("\n".join(paths) + "\n")
        lst.flush()
        base = {"deepc": np.repeat(deepc_images(tool, "base", lst.name, 1), a.reps, 0),
                "torchvision": np.repeat(torch_images([resize], paths, 1), a.reps, 0)}
        cases = [(str(k), [s] if k == 0 else [resize, s], type(s).__name__)
                 for k, s in enumerate(steps)] + [("full", steps, "all steps")]
        print(f"torch {torch.__version__}, {len(paths)} photos x {a.reps}")
        print(f"{'step':20s} {'side':11s} " + " ".join(f"{k:>8s}" for k in
                                                       stats(base['deepc'], base['deepc'])))
        for step, pipeline, name in cases:
            got = {"deepc": deepc_images(tool, step, lst.name, a.reps),
                   "torchvision": torch_images(pipeline, paths, a.reps)}
            for side, x in got.items():
                row = stats(x, base[side])
                print(f"{name:20s} {side:11s} " + " ".join(f"{v:8.4f}" for v in row.values()))


if __name__ == "__main__":
    main()

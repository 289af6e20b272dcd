"""Patches per second of ``TrainDataset`` (decode once, crop many; a pool or the whole set) vs a naive per-crop dataset.

The naive dataset opens and decodes the PNG for every crop (as many SR scaffolds do): decode HR (and the
LR file when there is one), modcrop, cut one random aligned crop; without an LR file it makes the LR crop
with ``imresize`` of the HR crop (cheaper than resizing the whole image, and what such scaffolds do).
Both run in this process (no DataLoader workers) on the same images:

* 20 BSDS200 training images, no LR files (LR made with imresize);
* 6 B100 images with their LR files, and the same 6 without them (LR made with imresize);
* 4 larger Urban100 images (about 1024x768, closer to DIV2K's 2K), LR made with imresize.

Usage: ``python benchmarks/bench_datasets.py`` (about 20 s on 2 cores). Images from ``$SRGAN_SHARED_DATA``
(default ``<repo>/../shared/data``).
"""
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from datasets import TrainDataset  # noqa: E402
from imresize import imresize  # noqa: E402
from utils import convert_image, load_image, modcrop  # noqa: E402

CROP, SCALE = 96, 4


class NaiveCropDataset:
    """Map-style: item ``i`` decodes image ``i % len(rows)`` from disk and returns one random aligned crop."""

    def __init__(self, rows, seed=0):
        self.rows = rows
        self.rng = np.random.default_rng(seed)

    def __getitem__(self, index):
        row = self.rows[index % len(self.rows)]
        hr = modcrop(load_image(row["hr_path"]), SCALE)
        lr_size = CROP // SCALE
        y = int(self.rng.integers(hr.shape[0] // SCALE - lr_size + 1))
        x = int(self.rng.integers(hr.shape[1] // SCALE - lr_size + 1))
        hr_patch = hr[SCALE * y:SCALE * y + CROP, SCALE * x:SCALE * x + CROP]
        if row["lr_path"]:
            lr_patch = load_image(row["lr_path"])[y:y + lr_size, x:x + lr_size]
        else:
            lr_patch = imresize(hr_patch, 1 / SCALE)
        return convert_image(lr_patch, "uint8", "[0, 1]"), convert_image(hr_patch, "uint8", "[-1, 1]")


def make_row(hr_path, lr_path=""):
    with Image.open(hr_path) as image:
        return {"hr_path": str(hr_path), "lr_path": str(lr_path), "hr_height": image.height,
                "hr_width": image.width}


def best_rate(run, repeats):
    """The best patches/s of ``repeats`` runs (the machine may be busy with other work)."""
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        count = run()
        best = max(best, count / (time.perf_counter() - start))
    return best, count


def rate_train_dataset(rows, pool_size, patches_per_image=100, repeats=3):
    """One epoch of ``TrainDataset``: with a pool, each image decoded once in the epoch; with ``"all"``, the
    first epoch (the whole set decoded, then cropped) and a later one (crops only)."""
    if pool_size != "all":
        dataset = TrainDataset(rows, patches_per_image=patches_per_image, pool_size=pool_size)
        return best_rate(lambda: sum(1 for _ in dataset), repeats)

    def first_epoch():
        return sum(1 for _ in TrainDataset(rows, patches_per_image=patches_per_image, pool_size="all"))
    dataset = TrainDataset(rows, patches_per_image=patches_per_image, pool_size="all")
    return best_rate(first_epoch, repeats), best_rate(lambda: sum(1 for _ in dataset), repeats)


def rate_naive(rows, patches, repeats=2):
    """``patches`` items of the naive dataset (one decode per crop)."""
    dataset = NaiveCropDataset(rows)
    return best_rate(lambda: sum(1 for index in range(patches) if dataset[index]), repeats)


def main():
    data = Path(os.environ.get("SRGAN_SHARED_DATA", REPO.parent / "shared" / "data"))
    if not (data / "B100" / "HR").is_dir():
        sys.exit(f"images not found at {data} (set SRGAN_SHARED_DATA)")
    bsds = [make_row(p) for p in sorted((data / "train" / "BSDS200" / "HR").glob("*.png"))[:20]]
    b100_names = sorted(p.stem for p in (data / "B100" / "HR").glob("*.png"))[:6]
    b100_files = [make_row(data / "B100" / "HR" / f"{n}.png", data / "B100" / "LR_bicubic" / "X4" / f"{n}x4.png")
                  for n in b100_names]
    b100_resize = [dict(row, lr_path="") for row in b100_files]
    urban = [make_row(p) for p in sorted((data / "Urban100" / "HR").glob("*.png"))[:4]]

    print(f"patches/s (best of 3 / 2 runs), 96x96 HR crops, one process, {os.cpu_count()} CPU cores, torch threads "
          f"{__import__('torch').get_num_threads()}")
    print("TrainDataset: pool 32 (the paper profile: decoded once per epoch), 'all' (the cpu profile: the whole "
          "set decoded once), first epoch and later ones; ratios against the naive dataset")
    print(f"{'images':<34}{'pool 32':>9}{'all, 1st':>10}{'all, later':>12}{'naive':>8}   ratios")
    results = {}
    list(TrainDataset(bsds[:1], patches_per_image=2))  # warm-up (imports, caches)
    for label, rows, naive_patches in (("20 BSDS200, LR by imresize", bsds, 200),
                                       ("6 B100, LR files", b100_files, 150),
                                       ("6 B100, LR by imresize", b100_resize, 150),
                                       ("4 Urban100 (~1024 px), imresize", urban, 40)):
        pool, _ = rate_train_dataset(rows, 32)
        (first, _), (later, _) = rate_train_dataset(rows, "all")
        slow, _ = rate_naive(rows, naive_patches)
        results[label] = pool
        print(f"{label:<34}{pool:>9.0f}{first:>10.0f}{later:>12.0f}{slow:>8.0f}   "
              f"{pool / slow:.1f}x {first / slow:.1f}x {later / slow:.1f}x")
    print(f"TrainDataset pool 32, LR files vs imresize on B100: "
          f"{results['6 B100, LR files'] / results['6 B100, LR by imresize']:.2f}x")


if __name__ == "__main__":
    main()

"""Does the training sampler let SRResNet learn as fast as uniform sampling? Side by side, same start.

Trains the paper's generator for ``--updates`` updates from the same initialisation (seed 0), Adam 2e-4,
batch 16, 96 px crops, the cpu profile's precision (bf16 autocast + channels_last where the CPU has bf16
instructions, else fp32; the header line says which), with the patches of each sampler:

* ``uniform``: every patch from a uniformly random training image (16 independent draws per batch), one
  random crop: the plain reference;
* ``TrainDataset(pool_size="all")``: the whole set decoded once, the epoch's patches in random order;
* ``TrainDataset(pool_size=N)``: a pool of N decoded images (``--pools``; 8 was the old default; 32 the
  default of the paper profile for DIV2K).

It prints, for each, the mean training loss over the last 50 updates and the PSNR on the held-out
validation images (never a test set), as ``training.validate`` computes it.

    python benchmarks/bench_sampler.py [--updates 280] [--pools 8 32]

Images: ``$SRGAN_SHARED_DATA`` (default ``<repo>/../shared/data``): the training and validation lists that
``create_data_lists.py`` makes from it (T91 + BSDS200, the last 10 T91 images held out). About 3 minutes
per sampler at 280 updates on 2 CPU cores.
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from create_data_lists import write_data_lists  # noqa: E402
from datasets import TrainDataset  # noqa: E402
from settings import cpu_config  # noqa: E402
from solver import Trainer  # noqa: E402
from training import validate  # noqa: E402

SHARED = Path(os.environ.get("SRGAN_SHARED_DATA", REPO.parent / "shared" / "data"))
BATCH = 16


class Batches:
    """``updates`` batches of ``(lr, hr)`` from an iterator of patches (what a DataLoader would give)."""

    def __init__(self, patches, updates):
        self.patches, self.updates = patches, updates

    def __len__(self):
        return self.updates

    def __iter__(self):
        for _ in range(self.updates):
            pairs = [next(self.patches) for _ in range(BATCH)]
            yield torch.stack([lr for lr, _ in pairs]), torch.stack([hr for _, hr in pairs])


def uniform_patches(dataset, seed=0):
    """Endless patches, each from a uniformly random image of ``dataset`` (a ``pool_size="all"`` one)."""
    rng = np.random.default_rng(seed)
    while True:
        yield dataset._random_patch(rng, *dataset.images[int(rng.integers(len(dataset.images)))])


def dataset_patches(dataset):
    """Endless patches of ``dataset``, epoch after epoch (as the trainer iterates it)."""
    epoch = 0
    while True:
        epoch += 1
        dataset.set_epoch(epoch)
        yield from dataset


def train_and_validate(patches, updates, val_list):
    """``(mean loss of the last 50 updates, validation PSNR, seconds)`` after ``updates`` updates."""
    torch.manual_seed(0)
    trainer = Trainer(cpu_config(srresnet_lr=2e-4), "srresnet", torch.device("cpu"))
    losses = []
    start = time.perf_counter()
    trainer.run_epoch(Batches(patches, updates), 1, progress=False,
                      on_iteration=lambda row: losses.append(row["content"]))
    seconds = time.perf_counter() - start
    psnr = validate(trainer.generator, val_list)["val_psnr"]
    return float(np.mean(losses[-50:])), psnr, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, default=280)
    parser.add_argument("--pools", type=int, nargs="*", default=[8])
    args = parser.parse_args()
    if not (SHARED / "train" / "T91" / "HR").is_dir():
        sys.exit(f"training images not found at {SHARED} (set SRGAN_SHARED_DATA)")
    with tempfile.TemporaryDirectory() as lists:
        write_data_lists(SHARED, lists, test_sets=(), log=lambda *_: None)
        train_list, val_list = os.path.join(lists, "train.csv"), os.path.join(lists, "val.csv")
        whole = TrainDataset(train_list, patches_per_image=16, pool_size="all")
        samplers = [("uniform (reference)", uniform_patches(whole)),
                    ('TrainDataset pool_size="all"', dataset_patches(whole))]
        samplers += [(f"TrainDataset pool_size={pool}",
                      dataset_patches(TrainDataset(train_list, patches_per_image=16, pool_size=pool)))
                     for pool in args.pools]
        probe = Trainer(cpu_config(), "srresnet", torch.device("cpu"))  # the precision every run below gets
        precision = ("bf16 autocast" if probe.amp_dtype == torch.bfloat16 else "fp32") + (
            ", channels_last" if probe.memory_format == torch.channels_last else ", NCHW")
        print(f"{len(whole.rows)} training images, {args.updates} updates of batch {BATCH}, Adam 2e-4, {precision}, "
              f"same initialisation; validation: the 10 held-out T91 images of val.csv")
        print(f"{'sampler':<32}{'loss (last 50)':>16}{'val PSNR':>10}{'s/update':>10}")
        reference = None
        for label, patches in samplers:
            loss, psnr, seconds = train_and_validate(patches, args.updates, val_list)
            reference = reference or (loss, psnr)
            print(f"{label:<32}{loss:>16.4f}{psnr:>10.2f}{seconds / args.updates:>10.3f}   "
                  f"(loss x{loss / reference[0]:.2f}, {psnr - reference[1]:+.2f} dB vs uniform)", flush=True)


if __name__ == "__main__":
    main()

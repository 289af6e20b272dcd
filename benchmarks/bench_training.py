"""Training speed on this machine: fp32 eager (the plain baseline) beside the trainer's default path.

Measures phase-1 (SRResNet) and phase-2 (SRGAN: a D step and a G step) iterations per second with the
paper's networks, batch and crop, on real patches, for each variant in the same run; then checks that
the data pipeline keeps up (time waiting for data as a share of the epoch) in a real epoch.

    python benchmarks/bench_training.py [--steps 6] [--batch-size 16] [--crop-size 96]
"""
import argparse
import os
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from create_data_lists import scan_image_folder  # noqa: E402
from datasets import TrainDataset  # noqa: E402
from settings import cpu_config  # noqa: E402
from solver import Trainer  # noqa: E402

SHARED = Path(os.environ.get("SRGAN_SHARED_DATA", REPO.parent / "shared" / "data"))


def training_rows(count):
    rows = scan_image_folder(SHARED / "train" / "BSDS200" / "HR", min_size=96)[0]
    return rows[:count]


def measure(phase, amp_dtype, channels_last, batches, steps):
    """Seconds per iteration (median of ``steps`` after one warm-up) of one phase's training step."""
    torch.manual_seed(0)
    trainer = Trainer(cpu_config(amp=amp_dtype is not None, channels_last=channels_last), phase, torch.device("cpu"))
    times = []
    for step in range(steps + 1):
        lr, hr = (tensor.to(memory_format=trainer.memory_format) for tensor in batches[step % len(batches)])
        start = time.perf_counter()
        trainer.step(lr, hr)
        if step:  # the first step warms up the allocator and kernels
            times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--crop-size", type=int, default=96)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch_size}, "
          f"crop {args.crop_size}")

    dataset = TrainDataset(training_rows(8), crop_size=args.crop_size, patches_per_image=args.batch_size)
    batches = list(DataLoader(dataset, batch_size=args.batch_size))
    variants = [("fp32 eager (baseline)", None, False), ("bf16 autocast", torch.bfloat16, False),
                ("bf16 + channels_last (default)", torch.bfloat16, True), ("fp32 + channels_last", None, True)]
    for phase in ("srresnet", "srgan"):
        baseline = None
        print(f"\n{phase}: s/iteration, iterations/s, speed-up over fp32 eager")
        for name, dtype, channels_last in variants:
            seconds = measure(phase, dtype, channels_last, batches, args.steps)
            baseline = baseline or seconds
            print(f"  {name:32s} {seconds:7.3f} s  {1 / seconds:6.2f} it/s  x{baseline / seconds:.2f}")

    # Does the data pipeline keep up? One real epoch with the trainer's CPU defaults (bf16, 1 worker).
    dataset = TrainDataset(training_rows(24), crop_size=args.crop_size, patches_per_image=16)
    loader = DataLoader(dataset, batch_size=args.batch_size, num_workers=1, drop_last=True)
    summary = Trainer(cpu_config(), "srresnet", torch.device("cpu")).run_epoch(loader, 1, progress=False)
    share = summary["data_seconds"] / summary["seconds"]
    print(f"\ndata pipeline: {summary['iterations']} iterations in {summary['seconds']:.1f} s, "
          f"{summary['data_seconds']:.2f} s waiting for data = {100 * share:.1f}% of the epoch "
          f"(includes the first batch's decode)")


if __name__ == "__main__":
    main()

"""Issue 38: the measurements that chose demo.py's defaults (crop size, batch, learning rate and schedule, update
counts, the SRGAN's moving average), on the demo's own data: scikit-image's sample photographs, five to train and
the sixth (rocket) held out to validate. The Sample test set (astronaut, coffee, chelsea) is never read here.

Stages (each a single process; run through the lock, which pauses the background training):

    /work/runs/exclusive.sh .venv/bin/python experiments/demo_tuning.py timing
    /work/runs/exclusive.sh .venv/bin/python experiments/demo_tuning.py srresnet
    /work/runs/exclusive.sh .venv/bin/python experiments/demo_tuning.py srgan

* ``timing``: seconds per update of SRResNet and of SRGAN (the cpu profile, fp32 here) for several crop sizes and
  batches, on random tensors (2 warm-up updates, then the mean of 4) -> ``timing.csv``.
* ``srresnet``: each candidate SRResNet trained by ``training.train`` exactly as the demo trains it (validation
  and checkpoints every epoch included) for about the same wall time; the held-out PSNR after every epoch ->
  ``srresnet.csv`` (``bicubic`` row: the held-out image's bicubic PSNR).
* ``srgan``: short SRGAN runs from the chosen SRResNet (``--init``), moving average on and off ->
  ``srgan.csv``.

Everything trained goes to ``--work`` (default /tmp/demo_tuning); the CSVs to ``results/logs/demo_tuning/``.
"""
import argparse
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import create_data_lists  # noqa: E402
import sample_data  # noqa: E402
import settings  # noqa: E402
import training  # noqa: E402
from evaluation import evaluate_dataset  # noqa: E402
from inference import load_generator  # noqa: E402
from solver import Trainer  # noqa: E402
from utils import read_csv, write_csv  # noqa: E402

RESULTS = Path(__file__).resolve().parents[1] / "results" / "logs" / "demo_tuning"
COLUMNS = ("sweep", "run", "crop", "batch", "lr", "schedule", "patches_per_image", "other", "ema_decay", "epoch",
           "updates", "train_seconds", "wall_seconds", "val_psnr", "val_ssim", "val_grid")
SRGAN_COLUMNS = ("sweep", "run", "init", "crop", "batch", "lr", "grid_weight", "ema_decay", "epoch", "updates",
                 "train_seconds", "wall_seconds", "val_psnr", "val_ssim", "val_grid")

# sweep -> [(name, crop, batch, lr, schedule, patches_per_image, epochs, other settings)], each run about the same
# wall time (from timing.csv). Sweep 1: crop, batch, rate, schedule; sweep 2 (after sweep 1 stayed 3.7 dB below
# bicubic): the initialisation (ICNR, residual branches at zero), a smaller batch, a higher rate; sweep 3: the best
# of sweep 2 for the demo's whole SRResNet budget (about 150 s), and the same time at 64 px.
SRRESNET_RUNS = {
    1: [("c32_b16_lr1e-3_cos", 32, 16, 1e-3, "cosine", 128, 13, {}),
        ("c48_b16_lr1e-3_cos", 48, 16, 1e-3, "cosine", 96, 11, {}),
        ("c48_b16_lr5e-4_cos", 48, 16, 5e-4, "cosine", 96, 11, {}),
        ("c48_b16_lr1e-3_const", 48, 16, 1e-3, "step", 96, 11, {}),
        ("c48_b8_lr1e-3_cos", 48, 8, 1e-3, "cosine", 64, 14, {}),
        ("c64_b16_lr1e-3_cos", 64, 16, 1e-3, "cosine", 64, 9, {})],
    2: [("c48_b8_lr1e-3_cos_zero", 48, 8, 1e-3, "cosine", 64, 14, dict(zero_init_residual=True)),
        ("c48_b8_lr1e-3_cos_icnr", 48, 8, 1e-3, "cosine", 64, 14, dict(icnr_init=True)),
        ("c48_b8_lr1e-3_cos_zero_icnr", 48, 8, 1e-3, "cosine", 64, 14, dict(zero_init_residual=True, icnr_init=True)),
        ("c48_b8_lr2e-3_cos_zero_icnr", 48, 8, 2e-3, "cosine", 64, 14, dict(zero_init_residual=True, icnr_init=True)),
        ("c48_b4_lr1e-3_cos_zero_icnr", 48, 4, 1e-3, "cosine", 64, 12, dict(zero_init_residual=True, icnr_init=True))],
    3: [("c48_b8_lr2e-3_cos_zero_icnr_680", 48, 8, 2e-3, "cosine", 64, 17, dict(zero_init_residual=True,
                                                                                  icnr_init=True)),
        ("c64_b8_lr2e-3_cos_zero_icnr_440", 64, 8, 2e-3, "cosine", 64, 11, dict(zero_init_residual=True,
                                                                                  icnr_init=True))],
}
# sweep -> [(name, overrides of the SRGAN phase)], from the SRResNet given as --init, the demo's crop and batch.
# Sweep 1 (from the best SRResNet of sweep 3): the moving average or not. Sweep 2 (from the demo's own SRResNet, after
# its SRGAN ended 0.6 dB below bicubic on the test set): the cpu profile's grid term (grid_weight=100: G's loss was
# mostly that term) against the paper's loss, and the paper's second rate.
SRGAN_RUNS = {
    1: [("ema0.999", dict(ema_decay=0.999)),
        ("ema0", dict(ema_decay=0.0))],
    2: [("ema0_grid100", dict(ema_decay=0.0)),
        ("ema0_grid0", dict(ema_decay=0.0, grid_weight=0.0)),
        ("ema0_grid0_lr1e-5", dict(ema_decay=0.0, grid_weight=0.0, srgan_lr=1e-5))],
}


def make_lists(work):
    """The demo's data and lists under ``work`` (as demo.py makes them); returns the lists folder."""
    root, lists = os.path.join(work, "sample_data"), os.path.join(work, "data_lists")
    sample_data.make_sample_data(root)
    create_data_lists.write_data_lists(root, lists, test_sets=("Sample",), val_images=1, log=None)
    return lists


def timing(args):
    rows = []
    for crop, batch in ((32, 16), (48, 8), (48, 16), (64, 16), (96, 16)):
        for phase in ("srresnet", "srgan"):
            config = settings.cpu_config(crop_size=crop, batch_size=batch)
            torch.manual_seed(0)
            trainer = Trainer(config, phase, torch.device("cpu"))
            trainer._train_mode()
            lr, hr = torch.rand(batch, 3, crop // 4, crop // 4), torch.rand(batch, 3, crop, crop) * 2 - 1
            times = []
            for step in range(6):
                start = time.perf_counter()
                trainer.step(lr, hr)
                times.append(time.perf_counter() - start)
            rows.append({"phase": phase, "crop": crop, "batch": batch, "seconds_per_update": sum(times[2:]) / 4,
                         "threads": torch.get_num_threads()})
            print(rows[-1], flush=True)
    write_csv(RESULTS / "timing.csv", rows)


def _history_rows(name, result, wall, extra):
    rows, updates = [], 0
    for entry in result["history"]:
        updates += entry["iterations"]
        rows.append({"run": name, **extra, "epoch": entry["epoch"], "updates": updates,
                     "train_seconds": round(sum(e["seconds"] for e in result["history"][:entry["epoch"]]), 1),
                     "wall_seconds": round(wall, 1), "val_psnr": round(entry["val_psnr"], 3),
                     "val_ssim": round(entry["val_ssim"], 4), "val_grid": round(entry["val_grid"], 3)})
    return rows


def srresnet(args):
    lists = make_lists(args.work)
    _, bicubic = evaluate_dataset(None, os.path.join(lists, "val.csv"), "validation", progress=False)
    rows = [{"sweep": "", "run": "bicubic", "val_psnr": round(bicubic["psnr"], 3),
             "val_ssim": round(bicubic["ssim"], 4)}]
    path = RESULTS / "srresnet.csv"
    kept = [row for row in read_csv(path) if row["sweep"] not in ("", str(args.sweep))] if path.exists() else []
    for name, crop, batch, lr, schedule, ppi, epochs, other in SRRESNET_RUNS[args.sweep]:
        folder = os.path.join(args.work, "srresnet", name)
        config = settings.cpu_config(lists_folder=lists, checkpoint_folder=folder, log_folder=folder, crop_size=crop,
                                     batch_size=batch, srresnet_lr=lr, srresnet_lr_schedule=schedule,
                                     patches_per_image=ppi, srresnet_epochs=epochs, progress=False, resume=False,
                                     **other)
        start = time.perf_counter()
        result = training.train(config, "srresnet")
        extra = dict(sweep=args.sweep, crop=crop, batch=batch, lr=lr, schedule=schedule, patches_per_image=ppi,
                     other=" ".join(f"{key}={value}" for key, value in other.items()))
        rows += _history_rows(name, result, time.perf_counter() - start, extra)
        write_csv(path, rows[:1] + sorted(kept + rows[1:], key=lambda row: int(row["sweep"])), COLUMNS)


def srgan(args):
    lists = make_lists(args.work)
    path = RESULTS / "srgan.csv"
    rows = [row for row in read_csv(path) if row["sweep"] != str(args.sweep)] if path.exists() else []
    _, start = evaluate_dataset(load_generator(args.init, "cpu"), os.path.join(lists, "val.csv"), "validation",
                                progress=False)
    rows.append({"sweep": args.sweep, "run": "start", "init": args.init, "updates": 0,
                 "val_psnr": round(start["psnr"], 3), "val_ssim": round(start["ssim"], 4),
                 "val_grid": round(start["grid"], 3)})
    for name, overrides in SRGAN_RUNS[args.sweep]:
        folder = os.path.join(args.work, f"srgan{args.sweep}", name)
        config = settings.cpu_config(**{**dict(lists_folder=lists, checkpoint_folder=folder, log_folder=folder,
                                               srgan_init=args.init, crop_size=args.crop, batch_size=args.batch,
                                               patches_per_image=args.patches_per_image, srgan_epochs=args.epochs,
                                               srgan_lr_decay_epochs=(), progress=False, resume=False), **overrides})
        start = time.perf_counter()
        result = training.train(config, "srgan")
        rows += _history_rows(name, result, time.perf_counter() - start,
                              dict(sweep=args.sweep, init=args.init, crop=args.crop, batch=args.batch,
                                   lr=config.srgan_lr, grid_weight=config.grid_weight, ema_decay=config.ema_decay))
        write_csv(path, sorted(rows, key=lambda row: int(row["sweep"])), SRGAN_COLUMNS)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stage", choices=("timing", "srresnet", "srgan"))
    parser.add_argument("--work", default="/tmp/demo_tuning")
    parser.add_argument("--sweep", type=int, default=1, help="which sweep of the stage")
    parser.add_argument("--init", help="srgan: the SRResNet checkpoint to start from")
    parser.add_argument("--crop", type=int, default=48)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--patches-per-image", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    {"timing": timing, "srresnet": srresnet, "srgan": srgan}[args.stage](args)


if __name__ == "__main__":
    main()

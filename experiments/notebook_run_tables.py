"""The tables of report_appendix.md A12 from the logs of train.ipynb's run (results/logs/notebook/) and of the lost
fp32 attempt of the same recipe (results/logs/notebook_lost_fp32/): held-out scores after chosen epochs, bf16
beside fp32, and the time per update. Markdown on stdout.

    python experiments/notebook_run_tables.py [--run results/logs/notebook] [--fp32 results/logs/notebook_lost_fp32]
"""
import argparse
import itertools
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation import format_added, format_grid_texture  # noqa: E402
from utils import read_csv  # noqa: E402

SRRESNET_EPOCHS = (1, 4, 9, 18, 27, 36, 48, 54)
SRGAN_EPOCHS = (1, 4, 9, 15, 18, 22, 27, 36)


def by_epoch(folder, phase):
    """{epoch: row} of ``<folder>/<phase>_epochs.csv`` ({} when it is missing)."""
    return {int(row["epoch"]): row for row in read_csv(os.path.join(folder, f"{phase}_epochs.csv"))}


def psnr_row(label, rows, epochs):
    """One table row: the held-out PSNR after each epoch, '-' where the run has not logged it."""
    cells = [f"{float(rows[e]['val_psnr']):.2f}" if e in rows else "-" for e in epochs]
    return f"| {label} | " + " | ".join(cells) + " |"


def precision_table(run, fp32):
    """Held-out PSNR (dB) of the same recipe in bf16 (``run``) and fp32 (``fp32``), both phases."""
    lines = []
    for phase, epochs in (("srresnet", SRRESNET_EPOCHS), ("srgan", SRGAN_EPOCHS)):
        lines += [f"| {phase} held-out PSNR (dB), after epoch | " + " | ".join(map(str, epochs)) + " |",
                  "|---|" + "---|" * len(epochs),
                  psnr_row("bf16 (reported)", by_epoch(run, phase), epochs),
                  psnr_row("fp32 (lost)", by_epoch(fp32, phase), epochs), ""]
    return "\n".join(lines)


def srgan_table(run):
    """The SRGAN's held-out scores and D's mean outputs after the chosen epochs (PSNR without SSIM: the report's
    "PSNR / SSIM" pairs are test-set results, each in a committed metrics.csv, tests/test_results.py)."""
    rows = by_epoch(run, "srgan")
    updates = dict(zip(sorted(rows), itertools.accumulate(int(rows[e]["iterations"]) for e in sorted(rows))))
    lines = ["| SRGAN epoch (updates) | lr | PSNR (dB) | NIQE | grid / texture | added / chroma | D(HR) / D(SR) |",
             "|---|---|---|---|---|---|---|"]
    for epoch in SRGAN_EPOCHS:
        if epoch not in rows:
            continue
        row = {key: float(value) for key, value in rows[epoch].items() if value not in (None, "")}
        lines.append(f"| {epoch} ({updates[epoch]:,}) | {row['lr']:.0e} | {row['val_psnr']:.2f}"
                     f" | {row['val_niqe']:.2f} | {format_grid_texture(row['val_grid'], row['val_texture'])}"
                     f" | {format_added(row['val_added'], row['val_added_chroma'])}"
                     f" | {row['d_real']:.2f} / {row['d_fake']:.2f} |")
    return "\n".join(lines)


def time_table(run, fp32):
    """Epochs, updates, seconds per update and hours of each phase of both attempts (training only)."""
    lines = ["| attempt, phase | epochs | updates | s per update | hours |", "|---|---|---|---|---|"]
    for label, folder in (("bf16 (reported)", run), ("fp32 (lost)", fp32)):
        for phase in ("srresnet", "srgan"):
            rows = by_epoch(folder, phase).values()
            if rows:
                seconds = sum(float(row["seconds"]) for row in rows)
                updates = sum(int(row["iterations"]) for row in rows)
                lines.append(f"| {label}, {phase} | {len(rows)} | {updates:,} | {seconds / updates:.3f} | "
                             f"{seconds / 3600:.2f} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="results/logs/notebook", help="the reported run's logs")
    parser.add_argument("--fp32", default="results/logs/notebook_lost_fp32", help="the lost fp32 attempt's logs")
    args = parser.parse_args()
    print(precision_table(args.run, args.fp32))
    print(srgan_table(args.run), end="\n\n")
    print(time_table(args.run, args.fp32))


if __name__ == "__main__":
    main()

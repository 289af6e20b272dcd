# Ran from commit a8dcecc (2026-11-30; summary.csv, crops/) and commit cf6dc3f (2026-11-30; relativistic/summary.csv,
# relativistic/crops/): check out that commit to rerun it exactly; its outputs are in results/logs/gan_choices/
# (b8329e1 and ce0d7b3 committed them).
"""Issue 12, step 2: the table and the zoomed crops of the adversarial experiments of ``gan_choices.sh``.

Usage, from the work tree where ``gan_choices.sh`` ran (the project's modules importable):
    python experiments/gan_choices_summarize.py FIXED_SRRESNET.pth [RUN ...]
Writes ``runs/summary.csv``: one row for the SRResNet the runs start from, evaluated here on the held-out
``data_lists/val.csv``, and one per run from the last row of its ``srgan_epochs.csv`` (validation PSNR, SSIM,
grid and texture scores after its last epoch, which is the equal budget, and after its first epoch of 280 updates,
where the runs stopped early are compared), and ``runs/crops/compare_<image>.png``:
the start and each run's ``srgan_last.pth`` on the first three held-out images, with a zoomed crop.
"""
import sys
from pathlib import Path

from evaluation import compare_set, evaluate_dataset, read_log
from inference import load_models
from utils import write_csv

COLUMNS = ("run", "updates", "val_psnr", "val_ssim", "val_grid", "val_texture", "epoch1_psnr", "epoch1_grid",
           "epoch1_texture")


def run_row(name, log_path):
    """The last epoch of one run, or None (with a note) when the run has no log yet."""
    if not log_path.is_file():
        print(f"note: {name} skipped ({log_path} not found)")
        return None
    epochs = read_log(log_path)
    last = epochs[-1]
    updates = sum(int(row["iterations"]) for row in epochs)
    first = {f"epoch1_{key}": float(epochs[0][f"val_{key}"]) for key in ("psnr", "grid", "texture")}
    return {"run": name, "updates": updates, **{key: float(last[key]) for key in COLUMNS[2:6]}, **first}


def main(start_checkpoint, names):
    runs = Path("runs")
    names = names or sorted(path.name for path in runs.iterdir() if (path / "logs").is_dir())
    models = {"start": start_checkpoint}
    models.update({name: runs / name / "checkpoints" / "srgan_last.pth" for name in names})
    models = load_models(models, include_bicubic=False)
    _, summary = evaluate_dataset(models["start"], "data_lists/val.csv", "val", "start", progress=False)
    rows = [{"run": "start (SRResNet)", "updates": 0, "val_psnr": summary["psnr"], "val_ssim": summary["ssim"],
             "val_grid": summary["grid"], "val_texture": summary["texture"], "epoch1_psnr": summary["psnr"],
             "epoch1_grid": summary["grid"], "epoch1_texture": summary["texture"]}]
    rows += [row for name in names if (row := run_row(name, runs / name / "logs" / "srgan_epochs.csv"))]
    write_csv(runs / "summary.csv", rows, COLUMNS)
    for row in rows:
        print("{run:>18} {updates:>5} {val_psnr:6.2f} dB grid {val_grid:5.2f} texture {val_texture:4.2f}; epoch 1: "
              "{epoch1_psnr:6.2f} dB grid {epoch1_grid:5.2f} texture {epoch1_texture:4.2f}".format(**row))
    compare_set(models, "data_lists/val.csv", runs / "crops", max_images=3,
                progress=False)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python experiments/gan_choices_summarize.py FIXED_SRRESNET.pth [RUN ...]")
    main(sys.argv[1], sys.argv[2:])

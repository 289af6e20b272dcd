# Ran from commit bf171e3 (2026-11-30; results/logs/srgan_ema_only/srgan_val.csv), commit a8dcecc (2026-11-30;
# results/logs/srgan/srgan_val.csv) and commit e3dbca7 (2026-11-30; results/logs/baseline/baseline_val.csv): check
# out that commit to rerun it exactly (9e0c0c6, 1a2a005 and e3dbca7 committed the CSVs).
"""Issue 12: the reported SRGAN's generators on the held-out images, to choose the one to report.

Usage, from the work tree where ``srgan.sh`` ran (the project's modules importable):
    python experiments/srgan_val.py SRRESNET.pth SRGAN_LAST.pth [OUT.csv [NAME]]
Writes (default ``logs/srgan_val.csv``) the validation PSNR, SSIM, grid and texture scores of the SRResNet it
started from, the SRGAN's trained weights (``generator``) and their moving average (``generator_ema``), on
``data_lists/val.csv`` (never a test set). NAME (default ``srgan``) names the second model's rows: ``baseline``
for the GAN from scratch (``baseline.sh``), which did not start from the SRResNet.
"""
import sys

from evaluation import evaluate_dataset
from inference import load_generator
from utils import write_csv

COLUMNS = ("model", "val_psnr", "val_ssim", "val_grid", "val_texture")


def main(srresnet, srgan, out="logs/srgan_val.csv", name="srgan"):
    models = {"srresnet": load_generator(srresnet, "cpu"),
              f"{name} (trained weights)": load_generator(srgan, "cpu", moving_average=False),
              f"{name} (moving average)": load_generator(srgan, "cpu")}
    rows = []
    for label, model in models.items():
        _, summary = evaluate_dataset(model, "data_lists/val.csv", "val", label, progress=False)
        rows.append({"model": label, **{f"val_{key}": f"{summary[key]:.4f}" for key in ("psnr", "ssim", "grid",
                                                                                      "texture")}})
        print("{model:>24}: {val_psnr} dB, grid {val_grid}, texture {val_texture}".format(**rows[-1]))
    write_csv(out, rows, COLUMNS)


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4, 5):
        sys.exit("usage: python experiments/srgan_val.py SRRESNET.pth SRGAN_LAST.pth [OUT.csv [NAME]]")
    main(*sys.argv[1:])

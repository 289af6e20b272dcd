# Ran from commit a8dcecc (2026-11-30), as the script was at d331243 (5b554d2 then moved its masks to
# utils.grid_point_masks): check out that commit to rerun it exactly; its output is
# results/logs/gan_choices/grid_frequencies.csv (b8329e1 committed it).
"""Issue 12: at which of the grid frequencies each adversarial run puts its grid.

The grid score (``utils.calc_grid_score``) sums the energy at the 15 frequencies ``(ky/4, kx/4)`` cycles/pixel,
k = 0..3 (not both 0). This splits it: for each model, the energy of its SR images at each frequency (the bins
within 1.5 bins of it, Y channel, 4-px border cropped, Hann window: ``utils._power_spectrum``), summed over the
held-out images, divided by the same sum for the HR images (HR = 1). Period 2 is k = 2 (``(2, 0)``: stripes
along the rows; ``(2, 2)``: a checkerboard), period 4 is k = 1 or 3.

Usage, from the work tree where ``gan_choices.sh`` ran (the project's modules importable):
    python experiments/grid_frequencies.py NAME=CHECKPOINT [NAME=CHECKPOINT ...]
Writes ``runs/grid_frequencies.csv``: one row per model, a column ``ky_kx`` per frequency.
"""
import sys
from pathlib import Path

from datasets import TestDataset
from inference import load_models, super_resolve
from utils import _power_spectrum, convert_image, grid_point_masks, write_csv

# One of each pair (ky, kx) and (4 - ky, 4 - kx) (the same energy for a real image): 9 of the 15.
FREQUENCIES = [(0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (1, 3), (2, 0), (2, 1), (2, 2)]


def energies(image, crop_border=4):
    """The energy at each of ``FREQUENCIES`` of a uint8 image's Y channel (``crop_border`` px cut off)."""
    y = convert_image(image, "uint8", "y")[crop_border:-crop_border, crop_border:-crop_border]
    power, _ = _power_spectrum(y)
    masks = grid_point_masks(*y.shape)
    return {point: float(power[masks[point]].sum()) for point in FREQUENCIES}


def main(pairs, list_path="data_lists/val.csv"):
    models = load_models(dict(pair.split("=", 1) for pair in pairs), include_bicubic=False)
    totals = {name: dict.fromkeys(FREQUENCIES, 0.0) for name in ["hr", *models]}
    for item in TestDataset(list_path):
        images = {"hr": item["hr"], **{name: super_resolve(model, item["lr"]) for name, model in models.items()}}
        for name, image in images.items():
            for point, energy in energies(image).items():
                totals[name][point] += energy
    columns = ["run"] + [f"{ky}_{kx}" for ky, kx in FREQUENCIES]
    rows = [{"run": name, **{f"{ky}_{kx}": f"{totals[name][(ky, kx)] / totals['hr'][(ky, kx)]:.2f}"
                             for ky, kx in FREQUENCIES}} for name in models]
    write_csv(Path("runs") / "grid_frequencies.csv", rows, columns)
    for row in rows:
        print(" ".join(f"{value:>8}" for value in row.values()))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python experiments/grid_frequencies.py NAME=CHECKPOINT [NAME=CHECKPOINT ...]")
    main(sys.argv[1:])

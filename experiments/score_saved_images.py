"""Score SR images that were saved as PNG files (``super_resolution.ipynb`` writes ``<folder>/<model>/<name>.png``),
for models whose checkpoints no longer exist: every score of ``evaluation.score_image`` (PSNR, SSIM, grid, texture,
NIQE, added / chroma) against the HR images of a data list. The saved PNG is the ``uint8`` image that
``test.ipynb`` scores, so PSNR and SSIM must match that model's row of the per-image table it wrote; the script
checks that when ``--per-image`` is given, so the NIQE and added energy it adds are of the same images.

    python experiments/score_saved_images.py --images results/Set5 --list data_lists/Set5.csv \
        --niqe-model ../shared/niqe --per-image results/per_image --out scores.csv
"""
import argparse
import math
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from datasets import TestDataset  # noqa: E402
from evaluation import SCORES, score_image  # noqa: E402
from niqe import load_pristine_model  # noqa: E402
from utils import load_image, read_csv, run_main, write_csv  # noqa: E402


def score_saved(images_folder, list_path, pristine, dataset_name="Set5"):
    """Rows ``{'model', 'name', **score_image}`` for each ``<images_folder>/<model>/<name>.png`` of the list's images
    (the models in name order; a model folder missing an image raises ``FileNotFoundError`` naming it)."""
    dataset = TestDataset(list_path)
    models = sorted(entry.name for entry in os.scandir(images_folder) if entry.is_dir())
    rows = []
    for index in range(len(dataset)):
        item = dataset[index]
        for model in models:
            sr = load_image(Path(images_folder) / model / f"{item['name']}.png")
            rows.append({"model": model, "dataset": dataset_name, "name": item["name"],
                         **score_image(sr, item["hr"], pristine)})
    return rows


def check_against(rows, per_image_folder, dataset_name="Set5"):
    """Raise ``ValueError`` when a saved image's PSNR or SSIM differs from the per-image table of its model."""
    for row in rows:
        path = Path(per_image_folder) / f"{row['model']}_{dataset_name}.csv"
        table = {entry["name"]: entry for entry in read_csv(path)}
        measured = table[row["name"]]
        for key in ("psnr", "ssim"):
            if not math.isclose(float(measured[key]), row[key], rel_tol=0, abs_tol=1e-9):
                raise ValueError(f"{path}: {row['name']} {key} {measured[key]} there, {row[key]} from the saved image")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", required=True, help="folder of <model>/<name>.png")
    parser.add_argument("--list", required=True, help="the data list of the set (create_data_lists.py)")
    parser.add_argument("--niqe-model", default=None, help="NIQE's pristine model (niqe.load_pristine_model)")
    parser.add_argument("--per-image", default=None, help="test.ipynb's per_image folder, to check PSNR and SSIM")
    parser.add_argument("--dataset", default="Set5", help="the set's name in the tables")
    parser.add_argument("--out", required=True, help="the CSV to write (one row per model and image)")
    args = parser.parse_args(argv)
    rows = score_saved(args.images, args.list, load_pristine_model(args.niqe_model), args.dataset)
    if args.per_image:
        check_against(rows, args.per_image, args.dataset)
        print(f"PSNR and SSIM of all {len(rows)} saved images equal those of {args.per_image}")
    write_csv(args.out, rows, ["model", "dataset", "name", *SCORES])
    for model in dict.fromkeys(row["model"] for row in rows):
        mine = [row for row in rows if row["model"] == model]
        print(model, ", ".join(f"{key} {sum(row[key] for row in mine) / len(mine):.4f}" for key in SCORES))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))

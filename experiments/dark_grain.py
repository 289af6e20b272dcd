"""Issue 37: is the grain in the Set5 images' dark areas more texture than the HR has, or texture in the wrong place?

For each model's saved Set5 images (``<folder>/<name>.png``, as ``super_resolution.ipynb`` writes them) and the HR,
in the *dark* pixels (the HR's luma, Y of BT.601 averaged over 7x7, below ``--dark``; a 4-px border left out), the
RMS of the 5x5 high-pass (the image less its 5x5 mean) of Y and of Cb/Cr together (0..255 units): how much fine
texture each image has there; and the RMS of the high-pass of the error ``SR - HR``: how much of it is not the HR's.
Writes ``summary.csv`` (one row per image and model; ``image = all``: over all the images' dark pixels) to
``--out``. ``--checkpoint LABEL=PATH`` first super-resolves the list's images with a generator checkpoint
(``inference.super_resolve_set``, into ``<out>/images/<LABEL>/``), for models whose images are not saved, e.g. a
run's epochs on the held-out list.

    python experiments/dark_grain.py --list data_lists/Set5.csv --out results/logs/dark_grain \
        --model SRResNet=results/Set5/srresnet --model "SRGAN (reported)"=results/Set5/srgan ...
"""
import argparse
import os
import sys
from pathlib import Path

import numpy as np
from scipy.ndimage import uniform_filter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import saved_images  # noqa: E402  (experiments/)

from datasets import read_data_list  # noqa: E402
from utils import as_rgb, convert_image, load_image, modcrop, write_csv  # noqa: E402

BORDER = 4


def high_pass(ycbcr):
    """The 5x5 high-pass of an ``HxWx3`` float array, per channel."""
    return ycbcr - uniform_filter(ycbcr, size=(5, 5, 1), mode="reflect")


def dark_sums(sr, hr, dark):
    """``{'pixels', 'y_hf', 'chroma_hf', 'y_error_hf', 'chroma_error_hf'}``: the number of dark pixels (the HR's 7x7
    mean luma below ``dark``) and the sums of squares there (summed over images, then ``rms``). ``sr``, ``hr``:
    ``uint8`` ``HxWx3`` of one size."""
    sr_ycc, hr_ycc = (convert_image(image, "uint8", "ycbcr") for image in (sr, hr))
    mask = uniform_filter(hr_ycc[..., 0], size=7, mode="reflect") < dark
    mask[:BORDER], mask[-BORDER:], mask[:, :BORDER], mask[:, -BORDER:] = False, False, False, False
    texture, error = high_pass(sr_ycc)[mask], high_pass(sr_ycc - hr_ycc)[mask]
    return {"pixels": int(mask.sum()), "y_hf": (texture[:, 0] ** 2).sum(), "chroma_hf": (texture[:, 1:] ** 2).sum(),
            "y_error_hf": (error[:, 0] ** 2).sum(), "chroma_error_hf": (error[:, 1:] ** 2).sum()}


def rms(sums):
    """The RMS values of ``dark_sums``'s sums (Cb and Cr together: over twice the pixels)."""
    n = max(sums["pixels"], 1)
    per_channel = {"y_hf": n, "chroma_hf": 2 * n, "y_error_hf": n, "chroma_error_hf": 2 * n}
    return {"pixels": sums["pixels"], **{key: np.sqrt(sums[key] / count) for key, count in per_channel.items()}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dark", type=float, default=70.0, help="the HR's 7x7 mean luma below this is dark")
    saved_images.add_arguments(parser)
    args = parser.parse_args(argv)
    models = saved_images.image_folders(parser, args)
    rows = read_data_list(args.list)
    table = []
    for label, folder in models.items():
        pooled = {}
        for row in rows:
            name = Path(row["hr_path"]).stem
            hr = modcrop(as_rgb(load_image(row["hr_path"])))
            sr = hr if folder is None else load_image(os.path.join(folder, f"{name}.png"))
            sums = dark_sums(sr, hr, args.dark)
            pooled = {key: pooled.get(key, 0) + value for key, value in sums.items()}
            table.append({"image": name, "model": label, **rms(sums)})
        table.append({"image": "all", "model": label, **rms(pooled)})
    os.makedirs(args.out, exist_ok=True)
    columns = ("image", "model", "pixels", "y_hf", "chroma_hf", "y_error_hf", "chroma_error_hf")
    write_csv(os.path.join(args.out, "summary.csv"), table, columns)
    for row in table:
        print(" ".join(f"{row[key]:.3f}" if isinstance(row[key], float) else str(row[key]) for key in columns))


if __name__ == "__main__":
    main()

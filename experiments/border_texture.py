"""Issue 37: is there more fine texture along the images' borders than inside them? (the raters' "hatched bands")

For each model's saved images (``<folder>/<name>.png``) and the HR, the RMS of the 3x3 high-pass of Y (BT.601,
0..255; the image less its 3x3 mean) by the distance of a pixel to the nearest border, 0 to ``--width`` - 1 pixels,
and inside (``--inside`` px or more from every border), pooled over the list's images; ``ratio``: the RMS over the
outer ``--width`` pixels over the RMS inside. An image as textured at its borders as inside has a ratio near 1; a
band of texture along its borders, more. The same for the error against the HR (``error_*``: the high-pass of the
SR's Y less the HR's): whether the texture at the borders is the HR's or added. Writes ``border_texture.csv`` (one
row per model) to ``--out``;
``--checkpoint LABEL=PATH`` makes a generator's images of the list first, as ``dark_grain.py`` does.

    python experiments/border_texture.py --list data_lists/Set5.csv --out results/logs/border100 \
        --model SRResNet=results/Set5/srresnet --model SRGAN=results/Set5/srgan
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
from utils import convert_image, load_image, modcrop, write_csv  # noqa: E402


def border_sums(luma, width, inside):
    """``(sums, counts)``: the sums of squares of the 3x3 high-pass of ``luma`` (a float ``HxW``: an image's Y,
    ``utils.convert_image(image, "uint8", "y")``, or the difference of two) and the pixel counts, by distance to the
    nearest border (``width`` entries), then inside (``>= inside``) as the last. The 3x3 mean mirrors the image at
    its edge (``mode="reflect"``), which lowers the high-pass of the outermost pixels a little for any image; compare
    models with each other and with the HR, not with 1.
    """
    if min(luma.shape) <= 2 * inside:
        raise ValueError(f"an image of {luma.shape[1]}x{luma.shape[0]} has no pixel {inside} px from every border")
    square = (luma - uniform_filter(luma, size=3, mode="reflect")) ** 2
    height, width_px = luma.shape
    rows, cols = np.ogrid[:height, :width_px]
    distance = np.minimum(np.minimum(rows, height - 1 - rows), np.minimum(cols, width_px - 1 - cols))
    sums = [square[distance == d].sum() for d in range(width)] + [square[distance >= inside].sum()]
    counts = [(distance == d).sum() for d in range(width)] + [(distance >= inside).sum()]
    return np.array(sums), np.array(counts)


def profile(sums, counts, width):
    """A row: ``d0 .. d<width-1>`` (RMS at each distance), ``outer`` (RMS over them), ``inside``, ``ratio`` (outer
    over inside; empty where the inside RMS is 0)."""
    rms = np.sqrt(sums / np.maximum(counts, 1))
    outer = np.sqrt(sums[:width].sum() / max(counts[:width].sum(), 1))
    ratio = outer / rms[-1] if rms[-1] > 0 else ""
    return {**{f"d{d}": rms[d] for d in range(width)}, "outer": outer, "inside": rms[-1], "ratio": ratio}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=8, help="the outer band's width in pixels")
    parser.add_argument("--inside", type=int, default=24, help="pixels at least this far from every border: inside")
    saved_images.add_arguments(parser)
    args = parser.parse_args(argv)
    if not 0 < args.width <= args.inside:
        parser.error("--width must be positive and at most --inside")
    models = saved_images.image_folders(parser, args)
    hr_lumas = {Path(row["hr_path"]).stem: convert_image(modcrop(load_image(row["hr_path"])), "uint8", "y")
                for row in read_data_list(args.list)}
    table = []
    for label, folder in models.items():
        sums, counts, error_sums = 0, 0, 0
        for name, hr in hr_lumas.items():
            sr = hr if folder is None else convert_image(load_image(os.path.join(folder, f"{name}.png")), "uint8", "y")
            more_sums, more_counts = border_sums(sr, args.width, args.inside)
            sums, counts = sums + more_sums, counts + more_counts
            error_sums = error_sums + border_sums(sr - hr, args.width, args.inside)[0]
        errors = profile(error_sums, counts, args.width)
        table.append({"model": label, **profile(sums, counts, args.width),
                      **{f"error_{key}": errors[key] for key in ("outer", "inside", "ratio")}})
        row = table[-1]
        print(f"{label}: texture outer {row['outer']:.2f} / inside {row['inside']:.2f} = {row['ratio']:.2f}; "
              f"error outer {row['error_outer']:.2f} / inside {row['error_inside']:.2f}")
    os.makedirs(args.out, exist_ok=True)
    write_csv(os.path.join(args.out, "border_texture.csv"), table)


if __name__ == "__main__":
    main()

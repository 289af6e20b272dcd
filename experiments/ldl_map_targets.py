# Ran 2026-12-06 from the commit that added it, with --project /work/main (main's uncommitted artefact_map, sha256
# 79c64ce2030e of its source, copied to results/logs/ldl_map/artefact_map_source.txt); output results/logs/ldl_map/.
"""Issue 37: what LDL's artefact map (``gan_options.artefact_map``) targets on the committed Set5 images.

The map is computed for the reported SRGAN (``results/Set5/srgan``) against the HR, with the SRResNet
(``results/Set5/srresnet``) standing in for the moving-average G: once on each whole image (one patch-variance
factor per image) and once per 96x96 tile as in training (the factor per tile; the last row and column of tiles are
narrower). Where its weight falls is compared with where a random map of the same total would put it (the area):

- ``edges``: the HR's strongest edges, the top 10% of its Y gradient magnitude (Sobel); ``edge_band``: those
  pixels and the 3 px around them (what a 7x7 window centred on an edge reaches);
- ``mesh``: the 16x16 tiles where the SRGAN adds a luminance pattern that the HR lacks above the LR's Nyquist
  frequency: ``metrics.calc_added_energy`` (Y) on the 32x32 window centred on the tile, at least the SRResNet's
  95th percentile of the same tile score over Set5 (a level the SRResNet rarely reaches); ``speckle``: the same
  with the chroma score;
- ``flat``: pixels where the HR's Y varies little, local standard deviation (7x7) below 3 grey levels;
- ``mesh_on_edges``, ``mesh_off_edges``, ``edge_band_without_mesh``, ``speckle_off_edges``: the mesh / speckle
  tiles' pixels in / outside the edge band, the edge band outside them;
- ``skin``: a square of bare cheek placed by eye (``SKIN``: the baby, the head, the woman).

The regions overlap (a mesh tile holds edges). Also per image: the share of pixels the moving-average gate keeps
(``gated``), and over the 16x16 tiles the rank correlation of the map's weight with the added energy (also with the
HR's gradient held fixed: partial) and with the HR's gradient. A 4-px border is left out of every figure. Writes
``shares.csv`` (per image, map and region: the area's share, the map's weight share, their ratio; a random map has
ratio 1), ``correlations.csv``, ``ldl_map_crops.png`` and ``artefact_map_source.txt`` (the code analysed) to
``--out``.

    python experiments/ldl_map_targets.py --hr ../shared/data/Set5/HR --out results/logs/ldl_map \
        [--project /work/main]

``--project``: the work tree whose modules (``gan_options`` and the rest) are imported, default this one; it was
``/work/main`` while ``artefact_map`` was not yet committed there.
"""
import argparse
import hashlib
import importlib
import inspect
import sys
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from scipy import ndimage, stats

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("baby", "bird", "butterfly", "head", "woman")
BORDER = 4           # px left out at each side, as metrics.calc_added_energy does
TRAIN_PATCH = 96     # settings.py's crop_size: the patch the training's patch-variance factor is taken over
TILE = 16            # px: the added-energy map's resolution (each tile scored on the 32x32 window around it)
EDGE_PERCENTILE = 90
FLAT_STD = 3.0       # grey levels (Y, 0..255 scale), local 7x7 standard deviation of the HR
MESH_PERCENTILE = 95  # of the SRResNet's tile scores over Set5: the SRGAN's tiles above it are "mesh" / "speckle"
# The figure's crops (top, left, size) in HR pixels: the beak, the hair with the mesh, the butterfly's black
CROPS = {"bird": (40, 160, 96), "head": (0, 120, 96), "butterfly": (100, 160, 96)}
ZOOM = 3
# A patch of bare cheek (top, left, size), placed by eye clear of eyes, nose, mouth and hair
SKIN = {"baby": (250, 80, 80), "head": (190, 150, 56), "woman": (112, 142, 36)}


def project_modules(folder):
    """``gan_options``, ``metrics`` and ``utils`` imported from the work tree ``folder``."""
    sys.path.insert(0, str(Path(folder).resolve()))
    return [importlib.import_module(name) for name in ("gan_options", "metrics", "utils")]


def ldl_maps(artefact_map, convert_image, sr, hr, average):
    """LDL's map ``HxW`` (numpy) of uint8 ``HxWx3`` images, on the whole image and per ``TRAIN_PATCH`` tile."""
    tensors = [convert_image(image, "uint8", "[-1, 1]")[None] for image in (sr, hr, average)]
    whole = artefact_map(*tensors)[0, 0].numpy()
    tiled = np.zeros_like(whole)
    for top in range(0, whole.shape[0], TRAIN_PATCH):
        for left in range(0, whole.shape[1], TRAIN_PATCH):
            window = (slice(top, top + TRAIN_PATCH), slice(left, left + TRAIN_PATCH))
            tiled[window] = artefact_map(*(image[..., window[0], window[1]] for image in tensors))[0, 0].numpy()
    return {"whole": whole, "tiles96": tiled}


def added_tiles(calc_added_energy, sr, hr):
    """``(H // TILE, W // TILE, 2)``: ``calc_added_energy`` (Y, chroma) of each ``TILE`` x ``TILE`` tile, scored on
    the ``2 * TILE`` square window centred on it (moved inside the image at the sides)."""
    height, width = hr.shape[:2]
    scores = np.zeros((height // TILE, width // TILE, 2))
    for row in range(scores.shape[0]):
        for column in range(scores.shape[1]):
            top = min(max(row * TILE - TILE // 2, 0), height - 2 * TILE)
            left = min(max(column * TILE - TILE // 2, 0), width - 2 * TILE)
            window = (slice(top, top + 2 * TILE), slice(left, left + 2 * TILE))
            scores[row, column] = calc_added_energy(sr[window], hr[window], crop_border=0)
    return scores


def per_pixel(tiles, shape):
    """A per-tile map spread over its ``TILE`` x ``TILE`` pixels, the remainder at the bottom / right repeating the
    last tile."""
    spread = np.repeat(np.repeat(tiles, TILE, axis=0), TILE, axis=1)
    return np.pad(spread, [(0, shape[0] - spread.shape[0]), (0, shape[1] - spread.shape[1])], mode="edge")


def hr_structure(y):
    """HR Y ``HxW`` (0..255) -> its Sobel gradient magnitude and its local 7x7 standard deviation."""
    gradient = np.hypot(ndimage.sobel(y, axis=0), ndimage.sobel(y, axis=1))
    mean, mean_square = (ndimage.uniform_filter(values, 7, mode="reflect") for values in (y, y * y))
    return gradient, np.sqrt(np.clip(mean_square - mean * mean, 0, None))


def inner(array):
    return array[BORDER:-BORDER, BORDER:-BORDER]


def tile_sums(array):
    """Per ``TILE`` x ``TILE`` tile sums of ``HxW`` (the remainder left out)."""
    rows, columns = array.shape[0] // TILE, array.shape[1] // TILE
    return array[:rows * TILE, :columns * TILE].reshape(rows, TILE, columns, TILE).sum(axis=(1, 3))


def target_regions(name, item, thresholds):
    """The regions (boolean ``HxW``) of the module docstring for one image's ``data`` entry."""
    gradient, local_std = item["structure"]
    edges = gradient >= np.percentile(inner(gradient), EDGE_PERCENTILE)
    band = ndimage.maximum_filter(edges, size=7)
    mesh, speckle = (per_pixel(item["added"][..., channel] >= thresholds[channel], gradient.shape)
                     for channel in (0, 1))
    return {"edges": edges, "edge_band": band, "flat": local_std < FLAT_STD, "mesh": mesh,
            "mesh_on_edges": mesh & band, "mesh_off_edges": mesh & ~band, "edge_band_without_mesh": band & ~mesh,
            "speckle": speckle, "speckle_off_edges": speckle & ~band, **skin_region(name, gradient.shape)}


def skin_region(name, shape):
    """``{"skin": mask}`` of the image's ``SKIN`` square, or ``{}`` for an image without one."""
    if name not in SKIN:
        return {}
    top, left, size = SKIN[name]
    mask = np.zeros(shape, dtype=bool)
    mask[top:top + size, left:left + size] = True
    return {"skin": mask}


def correlation_row(name, variant, item, ldl_map):
    """Over the 16x16 tiles: the rank correlations of the map's weight with the added energy (Y, chroma; also with
    the HR's gradient held fixed) and with the HR's gradient; the share of pixels the gate keeps; for the per-patch
    map, its correlation with the whole-image map."""
    gradient = item["structure"][0]
    mass, hr_gradient = tile_sums(ldl_map).ravel(), tile_sums(gradient).ravel()
    row = {"image": name, "map": variant, "gated": round(float((inner(ldl_map) > 0).mean()), 3)}
    for key, values in (("added_y", item["added"][..., 0]), ("added_chroma", item["added"][..., 1])):
        row[f"rank_corr_{key}"] = round(float(stats.spearmanr(mass, values.ravel())[0]), 2)
        row[f"partial_{key}_given_gradient"] = round(partial_rank_correlation(mass, values.ravel(), hr_gradient), 2)
    row["rank_corr_hr_gradient"] = round(float(stats.spearmanr(mass, hr_gradient)[0]), 2)
    row["pearson_with_whole"] = round(float(np.corrcoef(inner(item["maps"]["whole"]).ravel(),
                                                        inner(ldl_map).ravel())[0, 1]), 3)
    return row


def partial_rank_correlation(x, y, z):
    """Spearman's correlation of ``x`` and ``y`` with ``z`` held fixed (partial correlation of the ranks)."""
    r_xy, r_xz, r_yz = (stats.spearmanr(a, b)[0] for a, b in ((x, y), (x, z), (y, z)))
    return float((r_xy - r_xz * r_yz) / np.sqrt((1 - r_xz ** 2) * (1 - r_yz ** 2)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hr", required=True, help="folder of the Set5 HR images <name>.png")
    parser.add_argument("--images", default=str(ROOT / "results" / "Set5"), help="folder of srgan/ and srresnet/")
    parser.add_argument("--out", required=True, help="folder to write the CSV, the figure and the code analysed")
    parser.add_argument("--project", default=str(ROOT), help="the work tree whose gan_options.artefact_map is used")
    args = parser.parse_args(argv)
    gan_options, metrics, utils = project_modules(args.project)
    source = inspect.getsource(gan_options.artefact_map)
    print(f"artefact_map from {gan_options.__file__}, sha256 {hashlib.sha256(source.encode()).hexdigest()[:12]}")

    data = {}
    for name in NAMES:
        hr, sr, average = (utils.load_image(Path(folder) / f"{name}.png") for folder in
                           (args.hr, Path(args.images) / "srgan", Path(args.images) / "srresnet"))
        with torch.no_grad():
            maps = ldl_maps(gan_options.artefact_map, utils.convert_image, sr, hr, average)
        data[name] = {"hr": hr, "sr": sr, "maps": maps,
                      "added": added_tiles(metrics.calc_added_energy, sr, hr),
                      "added_srresnet": added_tiles(metrics.calc_added_energy, average, hr),
                      "structure": hr_structure(utils.convert_image(hr, "uint8", "y"))}
    pooled = np.concatenate([item["added_srresnet"].reshape(-1, 2) for item in data.values()])
    thresholds = np.percentile(pooled, MESH_PERCENTILE, axis=0)  # Y, chroma
    print(f"mesh: tile added Y >= {thresholds[0]:.2f}, speckle: added chroma >= {thresholds[1]:.2f} grey levels RMS")

    shares, correlations = [], []
    for name, item in data.items():
        regions = target_regions(name, item, thresholds)
        for variant, ldl_map in item["maps"].items():
            weight = inner(ldl_map)
            for region, mask in regions.items():
                area, share = float(inner(mask).mean()), float(weight[inner(mask)].sum() / weight.sum())
                shares.append({"image": name, "map": variant, "region": region, "area_share": round(area, 3),
                               "weight_share": round(share, 3), "ratio": round(share / area, 2) if area else ""})
            correlations.append(correlation_row(name, variant, item, ldl_map))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    utils.write_csv(out / "shares.csv", shares)
    utils.write_csv(out / "correlations.csv", correlations)
    with utils.atomic_path(out / "artefact_map_source.txt") as path:
        Path(path).write_text(f"# gan_options.artefact_map as analysed ({gan_options.__file__})\n{source}")
    figure(data, out / "ldl_map_crops.png", utils.atomic_path)
    for row in shares + correlations:
        print(", ".join(f"{key}={value}" for key, value in row.items()))


def figure(data, path, atomic_path):
    """Per crop of ``CROPS`` a row: HR, SRGAN, LDL's map (whole image) and its mean per 16x16 tile (each scaled to its
    99th percentile over the image), the added energy per 16x16 tile (Y; chroma for the butterfly), enlarged ``ZOOM``
    times by repeating pixels."""
    fig = Figure(figsize=(16, 3.3 * len(CROPS)))
    for row, (name, (top, left, size)) in enumerate(CROPS.items()):
        item = data[name]
        window = (slice(top, top + size), slice(left, left + size))
        channel, label = (1, "added chroma") if name == "butterfly" else (0, "added Y")
        ldl_map = item["maps"]["whole"]
        added = per_pixel(item["added"][..., channel], ldl_map.shape)
        tile_mean = per_pixel(tile_sums(ldl_map) / TILE ** 2, ldl_map.shape)
        panels = [(item["hr"], "HR", {}), (item["sr"], "SRGAN (reported)", {}),
                  (ldl_map, "LDL map (SRResNet as average)",
                   {"cmap": "magma", "vmin": 0, "vmax": np.percentile(ldl_map, 99)}),
                  (tile_mean, "LDL map, mean per 16x16 tile",
                   {"cmap": "magma", "vmin": 0, "vmax": np.percentile(tile_mean, 99)}),
                  (added, f"{label} per 16x16 tile (grey levels RMS)", {"cmap": "magma", "vmin": 0, "vmax": 12})]
        for column, (image, title, style) in enumerate(panels):
            axes = fig.add_subplot(len(CROPS), len(panels), row * len(panels) + column + 1)
            shown = axes.imshow(np.repeat(np.repeat(image[window], ZOOM, axis=0), ZOOM, axis=1),
                                interpolation="nearest", **style)
            axes.set_title(f"{name}: {title}" if column == 0 else title, fontsize=9)
            axes.set_xticks([])
            axes.set_yticks([])
            if column == len(panels) - 1:
                fig.colorbar(shown, ax=axes, fraction=0.046)
    fig.suptitle(f"Crops of {CROPS['bird'][2]}x{CROPS['bird'][2]} px, enlarged {ZOOM}x (nearest neighbour); each LDL "
                 "panel from 0 (black) to the image's 99th percentile of that map (white)")
    fig.tight_layout()
    with atomic_path(path) as target:
        fig.savefig(target, dpi=80, format="png")


if __name__ == "__main__":
    main()

"""Human rating of super-resolved images: the blind rating page of the SRGAN paper's mean opinion score (MOS) test.

Ledig et al. (2017, Sec. 3.4) had 26 raters score every image from 1 (bad) to 5 (excellent), shown one at a
time in random order with the HR original hidden among them, after calibrating on a nearest-neighbour upscale
(= 1) and an HR image (= 5); differences between methods were tested with the Wilcoxon signed-rank test.

``write_rating_page`` writes ``<out>/index.html``, one self-contained file (no server, no network): the page
``rating.html`` beside this module with one JSON object filled in (the images as PNG data URIs, the score labels,
the CSV columns), and ``<out>/key.csv``, the key from each anonymous version id to its method, which is not in the
page. ``set_versions`` gathers the versions of a set: the LR enlarged by nearest neighbour, every model's SR image
written by ``inference.super_resolve_set`` (``results/Set5/<model>/<name>.png``) and the HR. The page asks for the
rater's name, calibrates, shows every version at its natural size in a random order of its own for each rater
(keys or buttons 1-5), keeps the ratings in the browser's localStorage (a reload or a closed tab loses nothing)
and ends with a CSV download: ``rater,set,image,version,score,seconds``.

The analysis of those CSVs (the rules for ratings files, ``mos.csv`` and ``mos.md``) is ``mos.py``, which also
defines the two CSV formats (columns, scores, method names) that the page and its key are written in; the
``analyse`` command below runs ``mos.analyse``.

Command line (``--help`` for the options)::

    python rating.py page --list data_lists/Set5.csv --sr-folder results/Set5 --out results/rating
    python rating.py analyse results/ratings/*.csv --key results/rating/key.csv --out results
"""
import argparse
import base64
import io
import json
import random
import sys
from pathlib import Path

import numpy as np
from PIL import Image

import mos
from datasets import TestDataset
from mos import HR, KEY_COLUMNS, NEAREST, RATING_COLUMNS, SCORES
from utils import SCALE, atomic_path, load_image, nearest_upscale, run_main, write_csv

SCORE_LABELS = ("bad", "poor", "fair", "good", "excellent")  # the page's words for SCORES
PAGE_PATH = Path(__file__).resolve().with_name("rating.html")  # the rating page, whatever the current directory
PAGE_DATA_MARKER = '"@PAGE_DATA@"'  # where in rating.html the page's JSON object goes


# ----------------------------------------------------------------------------------------------
# The rating page
# ----------------------------------------------------------------------------------------------
def set_versions(list_path, sr_folder, models, max_images=None):
    """The versions of every image of a set, as the page shows them.

    Args:
        list_path: the set's CSV list (``create_data_lists.py``), for the LR and HR images.
        sr_folder: where ``inference.super_resolve_set`` wrote ``<model>/<name>.png`` (e.g. ``results/Set5``).
        models: the model names to include (e.g. the keys of ``inference.load_models``, bicubic included).
        max_images: only the first N images of the list (as ``super_resolve_set``); None = all.
    Returns:
        ``{image name: {method: uint8 HxWx3}}`` with the methods ``nearest``, the models and ``hr``.
    Raises:
        ValueError / FileNotFoundError naming a missing or unreadable image.
    """
    dataset = TestDataset(list_path)
    count = len(dataset) if max_images is None else min(max_images, len(dataset))
    versions = {}
    for index in range(count):
        item = dataset[index]
        images = {NEAREST: nearest_upscale(item["lr"], SCALE)}
        for model in models:
            path = Path(sr_folder) / model / f"{item['name']}.png"
            if not path.is_file():
                raise FileNotFoundError(f"{path}: no {model} image of {item['name']} (run super_resolve_set first)")
            images[model] = load_image(path)
        images[HR] = item["hr"]
        versions[item["name"]] = images
    return versions


def _check_versions(versions, calibration_image):
    """Raise ``ValueError`` unless every image has the same methods, among them ``nearest`` and ``hr``, all of
    one size per image (a different size would give a method away), and ``calibration_image`` is one of them."""
    if not versions:
        raise ValueError("no images to rate")
    methods = None
    for image, images in versions.items():
        if methods is None:
            methods = set(images)
        if set(images) != methods:
            raise ValueError(f"image {image!r} has the methods {sorted(images)}, another has {sorted(methods)}")
        shapes = {method: np.asarray(array).shape for method, array in images.items()}
        if len(set(shapes.values())) != 1:
            raise ValueError(f"the versions of image {image!r} differ in size (a rater could tell them apart): "
                             f"{shapes}")
    if not {NEAREST, HR} <= methods:
        raise ValueError(f"the calibration needs the methods {NEAREST!r} and {HR!r}; there are {sorted(methods)}")
    if calibration_image not in versions:
        raise ValueError(f"calibration image {calibration_image!r} is not one of {sorted(versions)}")


def _png_data_uri(image):
    """A ``uint8`` image -> ``'data:image/png;base64,...'`` (no metadata: nothing but the pixels)."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def page_html(page_data):
    """``rating.html`` with ``page_data`` (a JSON-serialisable dict) as the JSON object of its ``page-data``
    script element; every ``<`` in the JSON is written ``\\u003c``, so no string in it (a set or image name)
    can end that element. ``ValueError`` unless the marker is in the page exactly once."""
    page = PAGE_PATH.read_text(encoding="utf-8")
    if page.count(PAGE_DATA_MARKER) != 1:
        raise ValueError(f"{PAGE_PATH}: the marker {PAGE_DATA_MARKER} should be there once")
    return page.replace(PAGE_DATA_MARKER, json.dumps(page_data).replace("<", "\\u003c"))


def write_rating_page(versions, set_name, out_folder="results/rating", calibration_image=None, overwrite=False,
                      seed=None):
    """Write the blind rating page and its key.

    Args:
        versions: ``{image name: {method: uint8 HxWx3}}``, e.g. from ``set_versions``; must hold ``nearest`` and
            ``hr`` (the calibration) and, per image, versions of one size.
        set_name: the set's name (``Set5``), written into each rating and the key.
        out_folder: where ``index.html`` and ``key.csv`` go.
        calibration_image: the image whose nearest-neighbour and HR versions are shown as 1 and 5 before rating
            (default: the first).
        overwrite: replace an existing page. A new page has new version ids: ratings made with the old one no
            longer match its key (keep ``key.csv`` of a page that has been rated).
        seed: seeds the version ids and their order in the page (None: random).
    Returns:
        ``{'page': Path of index.html, 'key': Path of key.csv, 'versions': number of versions to rate}``.
    Raises:
        FileExistsError when the page exists and ``overwrite`` is False; ValueError for unusable ``versions``.
    """
    calibration_image = next(iter(versions), None) if calibration_image is None else calibration_image
    _check_versions(versions, calibration_image)
    out_folder = Path(out_folder)
    page_path, key_path = out_folder / "index.html", out_folder / "key.csv"
    if not overwrite and (page_path.exists() or key_path.exists()):
        raise FileExistsError(f"{page_path}: a rating page exists already; overwrite=True (--overwrite) replaces it "
                              f"(ratings made with it then no longer match the new key)")

    rng = random.Random(seed)
    entries = [(image, method) for image, images in versions.items() for method in images]
    ids = [f"{number:04x}" for number in rng.sample(range(16 ** 4), len(entries))]
    key_rows = [{"set": set_name, "image": image, "version": version, "method": method}
                for (image, method), version in zip(entries, ids)]
    shown = rng.sample(key_rows, len(key_rows))  # the page lists them in random order: no position gives a method away
    page_data = {
        "token": f"{rng.getrandbits(64):016x}",  # names this page's ratings in localStorage
        "set": set_name,
        "versions": [{"image": row["image"], "version": row["version"],
                      "src": _png_data_uri(versions[row["image"]][row["method"]])} for row in shown],
        "calibration": {"image": calibration_image, "low": _png_data_uri(versions[calibration_image][NEAREST]),
                        "high": _png_data_uri(versions[calibration_image][HR])},
        "scores": list(SCORES), "labels": list(SCORE_LABELS), "columns": list(RATING_COLUMNS),
    }
    html = page_html(page_data)
    with atomic_path(key_path) as tmp_key, atomic_path(page_path) as tmp_page:  # both renamed only if both succeed
        write_csv(tmp_key, key_rows, KEY_COLUMNS)
        Path(tmp_page).write_text(html, encoding="utf-8")
    return {"page": page_path, "key": key_path, "versions": len(shown)}


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------
def build_parser():
    parser = argparse.ArgumentParser(prog="rating.py", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    page = commands.add_parser("page", help="write the blind rating page and its key")
    page.add_argument("--list", required=True, help="the set's CSV list from create_data_lists.py (LR and HR)")
    page.add_argument("--sr-folder", required=True, help="where super_resolve_set wrote <model>/<name>.png")
    page.add_argument("--models", nargs="+", default=None,
                      help="model folders to include (default: every folder in --sr-folder)")
    page.add_argument("--set-name", default=None, help="default: the list's file name (Set5.csv -> Set5)")
    page.add_argument("--out", default="results/rating", help="default: %(default)s")
    page.add_argument("--max-images", type=int, default=None, help="only the first N images of the list")
    page.add_argument("--overwrite", action="store_true",
                      help="replace an existing page (its ratings no longer match the new key)")
    page.add_argument("--seed", type=int, default=None, help="seed of the version ids (default: random)")
    analysis = commands.add_parser("analyse", help="ratings CSVs -> <out>/mos.csv and <out>/mos.md")
    analysis.add_argument("ratings", nargs="+", help="the CSV files downloaded from the page")
    analysis.add_argument("--key", nargs="+", default=["results/rating/key.csv"],
                          help="key.csv of each rating page (default: %(default)s)")
    analysis.add_argument("--out", default="results", help="default: %(default)s")
    return parser


def main(argv=None):
    """Command-line entry point; returns 0 (a mistake raises one of ``utils.USER_ERRORS``: ``run_main`` prints it)."""
    args = build_parser().parse_args(argv)
    if args.command == "page":
        models = args.models or sorted(entry.name for entry in Path(args.sr_folder).iterdir() if entry.is_dir())
        versions = set_versions(args.list, args.sr_folder, models, args.max_images)
        written = write_rating_page(versions, args.set_name or Path(args.list).stem, args.out,
                                    overwrite=args.overwrite, seed=args.seed)
        print(f"{written['page']}: {written['versions']} versions of {len(versions)} images to rate; "
              f"key in {written['key']} (keep it; do not show it to the raters)")
    else:
        written = mos.analyse(args.ratings, args.key, args.out)
        print(f"{len(args.ratings)} ratings file(s) -> {written['csv']}, {written['markdown']}")
        print(Path(written["markdown"]).read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))

"""Human rating of super-resolved images: the mean opinion score (MOS) test of the SRGAN paper.

Ledig et al. (2017, Sec. 3.4) had 26 raters score every image from 1 (bad) to 5 (excellent), shown one at a
time in random order with the HR original hidden among them, after calibrating on a nearest-neighbour upscale
(= 1) and an HR image (= 5); differences between methods were tested with the Wilcoxon signed-rank test.

1. The page. ``write_rating_page`` writes ``<out>/index.html``, one self-contained file (no server, no network): the
   page ``rating.html`` beside this module with one JSON object filled in (the images as PNG data URIs, the score
   labels, the CSV columns), and ``<out>/key.csv``, the key from each anonymous version id to its method, which is
   not in the page. ``set_versions`` gathers the versions of a set: the LR enlarged by nearest neighbour, every
   model's SR image written by ``inference.super_resolve_set`` (``results/Set5/<model>/<name>.png``) and the HR. The
   page asks for the rater's name, calibrates, shows every version at its natural size in a random order of its own
   for each rater (keys or buttons 1-5), keeps the ratings in the browser's localStorage (a reload or a closed tab
   loses nothing) and ends with a CSV download: ``rater,set,image,version,score,seconds``.
2. The analysis. ``analyse`` reads any number of such CSVs with the key(s) and writes ``<out>/mos.csv`` and
   ``<out>/mos.md``: per set and method the MOS, its 95% confidence interval and the number of ratings, and the
   paired Wilcoxon signed-rank p-value of every pair of methods.

Rules for ratings files (each broken rule is a ``ValueError`` naming the file and line; nothing is written):
the header has the six columns above (more are ignored); ``rater`` is not empty (a rater *is* the name typed:
two people with one name must type different names); ``set`` is a set of one of the keys; ``version`` is an id
of that key and ``image`` its image there; ``score`` is a whole number 1..5; ``seconds`` a number >= 0; one rater
rates one version at most once, over all files (the same CSV collected twice is an error too). A rater may
stop early: the MOS uses every rating, the Wilcoxon test the pairs that exist.

Command line (``--help`` for the options)::

    python rating.py page --list data_lists/Set5.csv --sr-folder results/Set5 --out results/rating
    python rating.py analyse results/ratings/*.csv --key results/rating/key.csv --out results
"""
import argparse
import base64
import csv
import io
import itertools
import json
import math
import random
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import stats

from datasets import TestDataset
from evaluation import display_name
from utils import SCALE, atomic_path, load_image, write_csv

SCORES = (1, 2, 3, 4, 5)
SCORE_LABELS = ("bad", "poor", "fair", "good", "excellent")
RATING_COLUMNS = ("rater", "set", "image", "version", "score", "seconds")
KEY_COLUMNS = ("set", "image", "version", "method")
NEAREST, HR = "nearest", "hr"  # the calibration's 1 and 5; also rated, hidden among the others
METHOD_ORDER = (NEAREST, "bicubic", "srresnet", "srgan", "baseline", HR)  # tables list methods in this order
CONFIDENCE = 0.95
PAGE_PATH = Path(__file__).resolve().with_name("rating.html")  # the rating page, whatever the current directory
PAGE_DATA_MARKER = '"@PAGE_DATA@"'  # where in rating.html the page's JSON object goes


def method_name(method):
    """The label of a method in the tables: 'nearest' -> 'Nearest neighbour', others as ``display_name``."""
    return "Nearest neighbour" if method == NEAREST else display_name(method)


def _method_sort_key(method):
    return (METHOD_ORDER.index(method), "") if method in METHOD_ORDER else (len(METHOD_ORDER), method)


# ----------------------------------------------------------------------------------------------
# 1. The rating page
# ----------------------------------------------------------------------------------------------
def nearest_upscale(lr, scale=SCALE):
    """A ``uint8`` ``HxWx3`` image enlarged ``scale`` times by repeating each pixel (nearest neighbour)."""
    return np.repeat(np.repeat(lr, scale, axis=0), scale, axis=1)


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
        images = {NEAREST: nearest_upscale(item["lr"])}
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
# 2. Reading the ratings
# ----------------------------------------------------------------------------------------------
def _read_rows(path, columns):
    """Yield ``(line number, row dict)`` of a CSV file that has at least ``columns``; ``ValueError`` naming the
    file and line for a missing file, a missing column or a row with too few or too many fields."""
    try:
        file = open(path, newline="", encoding="utf-8-sig")
    except OSError as error:
        raise ValueError(f"{path}: cannot read ({error.strerror})") from error
    with file:
        reader = csv.DictReader(file)
        missing = [column for column in columns if column not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path}, line 1: missing column(s) {', '.join(missing)} "
                             f"(expected the header {','.join(columns)})")
        for row in reader:
            if None in row or None in row.values():
                raise ValueError(f"{path}, line {reader.line_num}: {len(reader.fieldnames)} columns in the header, "
                                 f"another number in this line")
            yield reader.line_num, row


def read_key(paths):
    """Read key files (``write_rating_page``'s ``key.csv``).

    Returns:
        ``{(set, version): {'image', 'method'}}`` over all the files.
    Raises:
        ValueError naming the file and line: a missing column, a version id given twice for one set.
    """
    key = {}
    for path in paths:
        for line, row in _read_rows(path, KEY_COLUMNS):
            if (row["set"], row["version"]) in key:
                raise ValueError(f"{path}, line {line}: version {row['version']!r} of {row['set']} is in the key twice")
            key[row["set"], row["version"]] = {"image": row["image"], "method": row["method"]}
    if not key:
        raise ValueError(f"{', '.join(map(str, paths)) or 'no key file'}: the key is empty")
    return key


def _parse_rating(row, key, where):
    """One CSV row -> ``{'rater', 'set', 'image', 'version', 'method', 'score', 'seconds'}`` checked against
    the key; ``where`` ('file, line N') starts every error message."""
    rater, set_name, image, version = (row[column].strip() for column in ("rater", "set", "image", "version"))
    if not rater:
        raise ValueError(f"{where}: no rater name")
    sets = sorted({key_set for key_set, _ in key})
    if set_name not in sets:
        raise ValueError(f"{where}: ratings of the set {set_name!r}, but the key is of {', '.join(sets)} "
                         f"(a file of another set?)")
    if (set_name, version) not in key:
        raise ValueError(f"{where}: unknown version id {version!r}, not in the key of {set_name} "
                         f"(ratings made with another rating page?)")
    expected = key[set_name, version]["image"]
    if image != expected:
        raise ValueError(f"{where}: version {version!r} is an image of {expected!r} in the key, not {image!r}")
    score = row["score"].strip()
    if score not in {str(value) for value in SCORES}:
        raise ValueError(f"{where}: score {score!r} is not a whole number from 1 to 5")
    try:
        seconds = float(row["seconds"])
    except ValueError:
        seconds = math.nan
    if not seconds >= 0 or math.isinf(seconds):
        raise ValueError(f"{where}: seconds {row['seconds']!r} is not a number >= 0")
    return {"rater": rater, "set": set_name, "image": image, "version": version,
            "method": key[set_name, version]["method"], "score": int(score), "seconds": seconds}


def read_ratings(paths, key):
    """Read the ratings CSVs that the page downloads, checked against the key (the rules in this module's
    docstring).

    Args:
        paths: the CSV files.
        key: from ``read_key``.
    Returns:
        a list of ``{'rater', 'set', 'image', 'version', 'method', 'score', 'seconds'}``.
    Raises:
        ValueError naming the file and line of the first broken rule.
    """
    ratings, seen = [], {}
    for path in paths:
        count = 0
        for line, row in _read_rows(path, RATING_COLUMNS):
            where = f"{path}, line {line}"
            rating = _parse_rating(row, key, where)
            identity = (rating["rater"], rating["set"], rating["version"])
            if identity in seen:
                raise ValueError(f"{where}: {rating['rater']!r} rated version {rating['version']!r} of "
                                 f"{rating['image']} twice (also {seen[identity]})")
            seen[identity] = where
            ratings.append(rating)
            count += 1
        if not count:
            raise ValueError(f"{path}: no ratings in this file")
    if not ratings:
        raise ValueError("no ratings files")
    return ratings


# ----------------------------------------------------------------------------------------------
# 3. The analysis
# ----------------------------------------------------------------------------------------------
def mean_opinion_score(scores, confidence=CONFIDENCE):
    """The MOS of a list of scores with its Student-t confidence interval.

    Returns:
        ``(mean, low, high)``: ``mean -/+ t(1 - (1 - confidence) / 2, n - 1) * s / sqrt(n)``, ``s`` the sample
        standard deviation of the n scores (each rating counts as one observation); low = high = nan for n < 2.
    """
    scores = np.asarray(scores, dtype=np.float64)
    mean = float(scores.mean())
    if len(scores) < 2:
        return mean, math.nan, math.nan
    half = stats.t.ppf(1 - (1 - confidence) / 2, len(scores) - 1) * scores.std(ddof=1) / math.sqrt(len(scores))
    return mean, mean - float(half), mean + float(half)


def paired_wilcoxon(ratings, set_name, method_a, method_b):
    """The two-sided Wilcoxon signed-rank test of two methods of a set, as the paper.

    Each pair is the scores one rater gave one image under the two methods (scipy's defaults: pairs with
    equal scores are dropped; exact p for small samples without ties, else the normal approximation).
    Returns:
        ``(number of pairs, p-value)``; p is nan when no pair has a difference.
    """
    by_rater_image = {}
    for rating in ratings:
        if rating["set"] == set_name and rating["method"] in (method_a, method_b):
            by_rater_image.setdefault((rating["rater"], rating["image"]), {})[rating["method"]] = rating["score"]
    pairs = [(scores[method_a], scores[method_b]) for scores in by_rater_image.values() if len(scores) == 2]
    if not any(a != b for a, b in pairs):
        return len(pairs), math.nan
    a, b = np.array(pairs, dtype=np.float64).T
    return len(pairs), float(stats.wilcoxon(a, b).pvalue)


def mos_table(ratings):
    """One row per set and method: ``{'set', 'method', 'mos', 'ci_low', 'ci_high', 'ratings', 'raters',
    'p_vs_<other method>' ...}`` (the paired Wilcoxon p-value against each other method of the set)."""
    rows = []
    for set_name in sorted({rating["set"] for rating in ratings}):
        in_set = [rating for rating in ratings if rating["set"] == set_name]
        methods = sorted({rating["method"] for rating in in_set}, key=_method_sort_key)
        p_values = {}
        for method_a, method_b in itertools.combinations(methods, 2):
            _, p_value = paired_wilcoxon(in_set, set_name, method_a, method_b)
            p_values[method_a, method_b] = p_values[method_b, method_a] = p_value
        for method in methods:
            scores = [rating["score"] for rating in in_set if rating["method"] == method]
            mos, low, high = mean_opinion_score(scores)
            row = {"set": set_name, "method": method, "mos": mos, "ci_low": low, "ci_high": high,
                   "ratings": len(scores), "raters": len({r["rater"] for r in in_set if r["method"] == method})}
            row.update({f"p_vs_{other}": p_values[method, other] for other in methods if other != method})
            rows.append(row)
    return rows


def _number(value, digits):
    return "–" if math.isnan(value) else f"{value:.{digits}f}"


def _p_cell(p_value):
    if math.isnan(p_value):
        return "–"
    return "< 0.001" if p_value < 0.001 else f"{p_value:.3f}"


def mos_markdown(rows, raters, files):
    """The tables of ``mos_table`` rows (from ``raters`` raters in ``files`` files) as Markdown: MOS [95% CI]
    (ratings) per method and set, then per set the matrix of paired Wilcoxon p-values."""
    sets = list(dict.fromkeys(row["set"] for row in rows))
    methods = sorted({row["method"] for row in rows}, key=_method_sort_key)
    cells = {(row["set"], row["method"]): row for row in rows}
    lines = ["# Mean opinion score (MOS)", "",
             f"Scores from 1 (bad) to 5 (excellent) by {raters} rater(s), {files} ratings file(s). Each cell: MOS "
             "[95% confidence interval] (number of ratings); the interval is the Student-t interval over the ratings.",
             "",
             "| Method | " + " | ".join(sets) + " |", "|---|" + "---|" * len(sets)]
    for method in methods:
        row_cells = []
        for set_name in sets:
            row = cells.get((set_name, method))
            row_cells.append("" if row is None else f"{row['mos']:.2f} [{_number(row['ci_low'], 2)}, "
                                                    f"{_number(row['ci_high'], 2)}] ({row['ratings']})")
        lines.append(f"| {method_name(method)} | " + " | ".join(row_cells) + " |")
    for set_name in sets:
        in_set = [method for method in methods if (set_name, method) in cells]
        lines += ["", f"## {set_name}: paired Wilcoxon signed-rank test", "",
                  "Two-sided p-values; each pair is the two scores one rater gave the same image (pairs with equal "
                  "scores dropped). Below 0.05: the two MOS differ significantly.", "",
                  "| | " + " | ".join(method_name(method) for method in in_set) + " |", "|---|" + "---|" * len(in_set)]
        for method in in_set:
            row = cells[set_name, method]
            lines.append(f"| {method_name(method)} | " + " | ".join(
                "" if other == method else _p_cell(row[f"p_vs_{other}"]) for other in in_set) + " |")
    return "\n".join(lines) + "\n"


def analyse(rating_paths, key_paths, out_folder="results"):
    """Read ratings CSVs and their key(s), write ``<out_folder>/mos.csv`` and ``<out_folder>/mos.md``.

    Args:
        rating_paths: the CSVs downloaded from the page (any number, one per rater or more).
        key_paths: the ``key.csv`` of each rating page (one per set).
        out_folder: where the two files go.
    Returns:
        ``{'csv': Path, 'markdown': Path, 'rows': mos_table rows}``.
    Raises:
        ValueError naming the file and line of bad input; then nothing is written.
    """
    rating_paths = [Path(path) for path in rating_paths]
    ratings = read_ratings(rating_paths, read_key([Path(path) for path in key_paths]))
    rows = mos_table(ratings)
    markdown = mos_markdown(rows, len({rating["rater"] for rating in ratings}), len(rating_paths))
    methods = sorted({row["method"] for row in rows}, key=_method_sort_key)
    columns = ["set", "method", "mos", "ci_low", "ci_high", "ratings", "raters"] + [f"p_vs_{m}" for m in methods]
    out_folder = Path(out_folder)
    csv_path, markdown_path = out_folder / "mos.csv", out_folder / "mos.md"
    formatted = [{name: (f"{value:.6g}" if isinstance(value, float) else value) for name, value in row.items()}
                 for row in rows]
    with atomic_path(csv_path) as tmp_csv, atomic_path(markdown_path) as tmp_markdown:
        write_csv(tmp_csv, formatted, columns)
        Path(tmp_markdown).write_text(markdown, encoding="utf-8")
    return {"csv": csv_path, "markdown": markdown_path, "rows": rows}


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
    page.add_argument("--models", nargs="+", default=["bicubic", "srresnet", "srgan", "baseline"],
                      help="model folders to include (default: %(default)s)")
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
    """Command-line entry point; returns the exit status (0 done, 1 bad input, with an ``error:`` line)."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "page":
            versions = set_versions(args.list, args.sr_folder, args.models, args.max_images)
            written = write_rating_page(versions, args.set_name or Path(args.list).stem, args.out,
                                        overwrite=args.overwrite, seed=args.seed)
            print(f"{written['page']}: {written['versions']} versions of {len(versions)} images to rate; "
                  f"key in {written['key']} (keep it; do not show it to the raters)")
        else:
            written = analyse(args.ratings, args.key, args.out)
            print(f"{len(args.ratings)} ratings file(s) -> {written['csv']}, {written['markdown']}")
            print(Path(written["markdown"]).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Issue 37: a blind pairwise look at models' images, as the issue's grader looked at Set5 (no HR, enlarged crops).

``make``: the first ``--model`` against each of the others: for every image of the list, the whole image (enlarged
``--whole-zoom`` times) and each of ``figures.SET5_REGIONS``'s regions of it (enlarged ``--zoom`` times; nearest
neighbour), the two models' versions side by side, labelled A (left) and B (right). Each model paired with the
first is on the left in half of its pairs (raters favour a side when two versions look alike), which half drawn at
random, and the pairs are shuffled (``--seed``); the pictures go to ``<out>/pair_NN.png`` (a folder without
pictures of earlier pairs) and the key,
which the rater must not see, to ``--key`` (``pair,image,region,versus,A,B``; ``versus``: the model paired with the
first).

``score``: a rater's choices (a CSV ``pair,choice,reason``; choice ``A``, ``B`` or ``=`` for no preference) and
the key -> the preferred model per pair (``<choices>`` with the columns ``image``, ``region``, ``versus`` and
``preferred`` added, written to ``--out``) and, per model paired with the first, how often each side was preferred,
and how often the rater chose the left picture (printed).

    python experiments/blind_pairs.py make --list data_lists/Set5.csv --model SRResNet=results/Set5/srresnet \\
        --model SRGAN=results/Set5/srgan --out pairs/ --key key.csv --seed 1
    python experiments/blind_pairs.py score --key key.csv --choices choices.csv --out rated.csv
"""
import argparse
import random
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from datasets import read_data_list  # noqa: E402
from figures import SET5_REGIONS  # noqa: E402
from utils import load_image, nearest_upscale, read_csv, run_main, save_image, write_csv  # noqa: E402

GAP, BANNER = 12, 22  # white pixels between the two versions; the label strip above them


def side_by_side(left, right):
    """Two ``uint8`` ``HxWx3`` arrays of one size -> one ``(BANNER + H) x (2W + GAP) x 3`` array, "A" above the left
    one and "B" above the right one."""
    if left.shape != right.shape:
        raise ValueError(f"side_by_side: the two versions differ in size ({left.shape} and {right.shape})")
    height, width = left.shape[:2]
    canvas = Image.new("RGB", (2 * width + GAP, BANNER + height), "white")
    draw = ImageDraw.Draw(canvas)
    for index, (label, image) in enumerate((("A", left), ("B", right))):
        canvas.paste(Image.fromarray(image), (index * (width + GAP), BANNER))
        draw.text((index * (width + GAP) + 4, 5), label, fill="black")
    return np.asarray(canvas)


def views(image, name, zoom, whole_zoom=1):
    """``[(region, array)]``: the whole ``image`` and its ``SET5_REGIONS`` crops (``(y, x, h, w)``) enlarged."""
    found = [("whole image", nearest_upscale(image, whole_zoom))]
    for region_image, region, (y, x, h, w) in SET5_REGIONS:
        if region_image == name:
            found.append((region, nearest_upscale(image[y:y + h, x:x + w], zoom)))
    return found


def make(list_path, models, out, key_path, seed, zoom, whole_zoom=1):
    """Write the pairs and the key (see the module's docstring); returns the key's rows. ``models``: dict label ->
    folder, the first one the baseline that each other one is paired with."""
    (first, *others) = models
    if Path(key_path).resolve().parent == Path(out).resolve():
        raise SystemExit(f"{key_path}: the key must not lie beside the pictures that the rater sees")
    if any(Path(out).glob("pair_*.png")):
        raise SystemExit(f"{out}: it already holds pair_*.png pictures; give a new folder")
    pairs = []
    for row in read_data_list(list_path):
        name = Path(row["hr_path"]).stem
        versions = {label: views(load_image(Path(folder) / f"{name}.png"), name, zoom, whole_zoom)
                    for label, folder in models.items()}
        for second in others:
            for (region, one), (_, other) in zip(versions[first], versions[second]):
                pairs.append({"image": name, "region": region, "versus": second, first: one, second: other})
    rng = random.Random(seed)
    rng.shuffle(pairs)
    first_left = {}  # per model paired with the first: is the first on the left, pair by pair (half of them)
    for second in others:
        count = sum(pair["versus"] == second for pair in pairs)
        sides = [True] * (count // 2) + [False] * (count - count // 2)
        rng.shuffle(sides)
        first_left[second] = iter(sides)
    key = []
    for number, pair in enumerate(pairs, start=1):
        a, b = (first, pair["versus"]) if next(first_left[pair["versus"]]) else (pair["versus"], first)
        save_image(Path(out) / f"pair_{number:02d}.png", side_by_side(pair[a], pair[b]))
        key.append({"pair": number, "image": pair["image"], "region": pair["region"], "versus": pair["versus"],
                    "A": a, "B": b})
    write_csv(key_path, key)
    return key


def score(key_path, choices_path, out):
    """The preferred model per pair (``=``: none) written to ``out``; returns ``{versus: Counter of preferred}``."""
    key = {row["pair"]: row for row in read_csv(key_path)}
    rows = read_csv(choices_path)
    if not rows or sorted(row["pair"] for row in rows) != sorted(key):
        raise SystemExit(f"{choices_path}: it must have one choice per pair of {key_path} ({len(key)} pairs)")
    for row in rows:
        choice = row["choice"].strip().upper()
        if choice not in ("A", "B", "="):
            raise SystemExit(f"{choices_path}: pair {row['pair']}: choice {row['choice']!r} is not A, B or =")
        pair = key[row["pair"]]
        row.update(image=pair["image"], region=pair["region"], versus=pair["versus"],
                   preferred=pair[choice] if choice != "=" else "=")
    write_csv(out, rows, ["pair", "image", "region", "versus", "choice", "preferred", "reason"])
    counts = {}
    for row in rows:
        counts.setdefault(row["versus"], Counter())[row["preferred"]] += 1
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    making = commands.add_parser("make", help="write the blind pairs and their key")
    making.add_argument("--list", required=True, help="a data list (hr_path column: the images' names)")
    making.add_argument("--model", action="append", required=True, metavar="LABEL=FOLDER",
                        help="a model's saved images, <FOLDER>/<name>.png (repeat; the first is paired with each)")
    making.add_argument("--out", required=True, help="the folder of the pairs' pictures")
    making.add_argument("--key", required=True, help="the key's CSV (keep it from the rater)")
    making.add_argument("--seed", type=int, default=0)
    making.add_argument("--zoom", type=int, default=4, help="the regions' enlargement")
    making.add_argument("--whole-zoom", type=int, default=1, help="the whole images' enlargement")
    scoring = commands.add_parser("score", help="unblind a rater's choices")
    scoring.add_argument("--key", required=True)
    scoring.add_argument("--choices", required=True, help="CSV pair,choice,reason (choice A, B or =)")
    scoring.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    if args.command == "make":
        models = dict(item.split("=", 1) for item in args.model)
        if len(models) < 2 or len(models) != len(args.model):
            parser.error("give at least two --model LABEL=FOLDER with different labels")
        key = make(args.list, models, args.out, args.key, args.seed, args.zoom, args.whole_zoom)
        print(f"{len(key)} pairs in {args.out}; key: {args.key}")
    else:
        for versus, counts in score(args.key, args.choices, args.out).items():
            print(f"pairs with {versus}: " + ", ".join(f"{label} {count}" for label, count in counts.most_common()))
        choices = [row["choice"].strip().upper() for row in read_csv(args.choices)]
        print(f"the left picture (A) chosen in {choices.count('A')} of {len(choices)} pairs")


if __name__ == "__main__":
    sys.exit(run_main(main))

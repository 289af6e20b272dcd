"""The mean opinion score (MOS) of the raters' CSV files: reading them, checking them, the tables.

Reads the ratings CSVs that the rating page of ``rating.py`` downloads (any number: one per rater or more;
columns ``rater,set,image,version,score,seconds``) and the ``key.csv`` of each page (``set,image,version,method``:
the method behind each anonymous version id). This module owns these two formats (the columns, the scores 1..5,
the method names); ``rating.py`` imports them to write the page and its key.

Rules for ratings files (each broken rule is a ``ValueError`` naming the file and line; nothing is written):
the header has the six columns above (more are ignored); ``rater`` is not empty (a rater *is* the name typed:
two people with one name must type different names); ``set`` is a set of one of the keys; ``version`` is an id
of that key and ``image`` its image there; ``score`` is a whole number 1..5; ``seconds`` a number >= 0; one rater
rates one version at most once, over all files (the same CSV collected twice is an error too). A rater may
stop early: the MOS uses every rating, the Wilcoxon test the pairs that exist.

``analyse`` writes ``<out>/mos.csv`` and ``<out>/mos.md``: per set and method the MOS, its 95% confidence
interval (Student t over the ratings) and the number of ratings, and the paired Wilcoxon signed-rank p-value of
every pair of methods (rater and image pair up), as Ledig et al. (2017, Sec. 3.4) tested their MOS differences.

Command line: ``python rating.py analyse results/ratings/*.csv --key results/rating/key.csv --out results``.
"""
import csv
import itertools
import math
from pathlib import Path

import numpy as np
from scipy import stats

from evaluation import display_name
from utils import atomic_path, write_csv

SCORES = (1, 2, 3, 4, 5)
RATING_COLUMNS = ("rater", "set", "image", "version", "score", "seconds")  # a ratings CSV, as the page writes it
KEY_COLUMNS = ("set", "image", "version", "method")  # key.csv: the method behind each anonymous version id
NEAREST, HR = "nearest", "hr"  # the calibration's 1 and 5; also rated, hidden among the others
METHOD_ORDER = (NEAREST, "bicubic", "srresnet", "srgan", "baseline", HR)  # tables list methods in this order
CONFIDENCE = 0.95


def method_name(method):
    """The label of a method in the tables: 'nearest' -> 'Nearest neighbour', others as ``display_name``."""
    return "Nearest neighbour" if method == NEAREST else display_name(method)


def _method_sort_key(method):
    return (METHOD_ORDER.index(method), "") if method in METHOD_ORDER else (len(METHOD_ORDER), method)


# ----------------------------------------------------------------------------------------------
# Reading the ratings
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
# The analysis
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

    Each pair is the scores one rater gave one image under the two methods. scipy's defaults: pairs with equal
    scores are dropped from the ranks (``zero_method='wilcox'``), and ``method='auto'`` as scipy 1.17 does it: the
    exact p only when no difference is tied and none is zero, up to 50 pairs; otherwise (the usual case with scores
    1 to 5) every sign permutation up to 13 pairs, beyond that the tie-corrected normal approximation (both counts
    include the pairs with equal scores). Older scipy versions may choose differently.
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

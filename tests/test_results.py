"""The committed results agree with the reference protocol (results/metrics.csv is what report.md cites)."""
import csv
import glob
import math
import os
import re

import pytest
from reference import BICUBIC_X4, PAPER_X4, PUBLISHED_BICUBIC_X4

from evaluation import METRICS_COLUMNS, format_added, format_grid_texture, format_psnr_ssim

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(REPO, "results", "metrics.csv")
# Tables of earlier models, kept beside their logs when a model was retrained, and of experiments on the held-out
# images (results/logs/perceptual/summary/); report.md and its appendix cite them as such
ARCHIVED = sorted(glob.glob(os.path.join(REPO, "results", "logs", "**", "metrics.csv"), recursive=True))
REPORT = os.path.join(REPO, "report.md")
APPENDIX = os.path.join(REPO, "report_appendix.md")
PAIR = re.compile(r"\b\d{2}\.\d{2} / 0\.\d{4}\b")  # a "PSNR / SSIM" cell as format_psnr_ssim writes it


def _measured_rows(path=RESULTS):
    """Rows with images and a PSNR (the "hr" rows hold the HR images' own NIQE, and PSNR inf)."""
    with open(path, newline="") as file:
        return [row for row in csv.DictReader(file) if int(row["images"]) > 0 and row["model"] != "hr"]


def _unrounded(row, path=RESULTS):
    """``row`` of a metrics.csv with each score the mean of its per-image CSV (``per_image/<model>_<set>.csv``
    beside it) where that file exists: metrics.csv keeps 4 decimals, and a table cell rounded from them can differ
    from one rounded once from the mean (Set14 27.854997 -> '27.8550' -> '27.86', but 27.85). The report rounds
    once; test_metrics_csv_is_the_mean_of_the_per_image_scores ties the two files together."""
    per_image = os.path.join(os.path.dirname(path), "per_image", f"{row['model']}_{row['dataset']}.csv")
    if not os.path.exists(per_image):
        return row
    with open(per_image, newline="") as file:
        images = list(csv.DictReader(file))
    return {**row, **{key: repr(math.fsum(float(image[key]) for image in images) / len(images))
                      for key in images[0] if key in row and key not in ("model", "dataset", "images")}}


def test_metrics_csv_is_the_mean_of_the_per_image_scores():
    """Each score of results/metrics.csv is the mean of that model's and set's per-image CSV, to the CSV's 4
    decimals: the per-image files are the same evaluation, so the report may round their mean."""
    with open(RESULTS, newline="") as file:
        rows = [row for row in csv.DictReader(file) if int(row["images"]) > 0]
    assert rows
    for row in rows:
        means = _unrounded(row)
        assert means is not row, f"no per-image CSV for {row['model']} on {row['dataset']}"
        for key in ("psnr", "ssim", "grid", "texture", "niqe", "added", "added_chroma"):
            expected, mean = float(row[key]), float(means[key])
            assert mean == expected or abs(mean - expected) <= 5e-5 + 1e-9, (row["model"], row["dataset"], key)


def test_committed_bicubic_rows_match_the_reference():
    with open(RESULTS, newline="") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == list(METRICS_COLUMNS)
    bicubic = {row["dataset"]: row for row in rows if row["model"] == "bicubic"}
    for dataset, (psnr, ssim) in BICUBIC_X4.items():
        assert float(bicubic[dataset]["psnr"]) == pytest.approx(psnr, abs=0.005), dataset
        assert float(bicubic[dataset]["ssim"]) == pytest.approx(ssim, abs=0.0005), dataset
    assert {row["dataset"]: int(row["images"]) for row in bicubic.values()} == {
        "DIV2K-valid": 0, "Set5": 5, "Set14": 14, "B100": 100, "Urban100": 100}


def _read(path):
    with open(path, encoding="utf-8") as file:
        return file.read()


def test_every_metric_in_the_report_is_a_committed_or_published_number():
    """The 'PSNR / SSIM' pairs of report.md and its appendix come from results/metrics.csv, an archived table of an
    earlier model or an experiment (results/logs/**/metrics.csv) or the published tables, never by hand, and each
    model's row of the report's results table holds that model's numbers of results/metrics.csv in the CSV's set
    order."""
    measured = {}  # model -> [pair per set, in the CSV's order]
    for row in map(_unrounded, _measured_rows()):
        measured.setdefault(row["model"], []).append(format_psnr_ssim(float(row["psnr"]), float(row["ssim"])))
    published = {format_psnr_ssim(psnr, ssim) for table in (*PAPER_X4.values(), PUBLISHED_BICUBIC_X4)
                 for psnr, ssim in table.values()}
    report = _read(REPORT)
    cited = set(PAIR.findall(report)) | set(PAIR.findall(_read(APPENDIX)))
    ours = {pair for pairs in measured.values() for pair in pairs}
    ours |= {format_psnr_ssim(float(row["psnr"]), float(row["ssim"])) for path in ARCHIVED
             for row in (_unrounded(row, path) for row in _measured_rows(path))}
    unknown = sorted(cited - ours - published)
    assert not unknown, f"numbers in report.md or its appendix that are in no table: {unknown}"

    table_rows = [line for line in report.splitlines() if line.startswith("|")]
    for model, pairs in measured.items():
        rows = [PAIR.findall(line) for line in table_rows if pairs[0] in line]
        assert pairs in rows, f"report.md has no table row with {model}'s numbers {pairs} (found {rows})"



# The cells of the report's score tables, written as metrics.md writes them, from a row of metrics.csv
SCORE_CELLS = {"niqe": lambda row: f"{float(row['niqe']):.2f}",
               "grid": lambda row: format_grid_texture(float(row["grid"]), float(row["texture"])),
               "added": lambda row: format_added(float(row["added"]), float(row["added_chroma"]))}


def _has_run(cells, run):
    return any(cells[start:start + len(run)] == run for start in range(len(cells) - len(run) + 1))


def test_the_reports_score_rows_are_the_committed_ones():
    """Each model's NIQE, grid / texture and added / chroma in results/metrics.csv stand in one row of a report.md
    table, set by set in the CSV's order (the HR images' own row: NIQE only); every score is checked."""
    with open(RESULTS, newline="") as file:
        rows = [_unrounded(row) for row in csv.DictReader(file) if int(row["images"]) > 0]
    table_rows = [[cell.strip() for cell in line.strip().strip("|").split("|")]
                  for line in _read(REPORT).splitlines() if line.startswith("|")]
    checked = set()
    for score, cell in SCORE_CELLS.items():
        expected = {}  # model -> [cell per set]
        for row in rows:
            if row.get(score) and math.isfinite(float(row[score])) and (score == "niqe" or row["model"] != "hr"):
                expected.setdefault(row["model"], []).append(cell(row))
        for model, cells in expected.items():
            assert any(_has_run(line, cells) for line in table_rows), \
                f"report.md has no table row with {model}'s {score} cells {cells} from results/metrics.csv"
            checked.add(score)
    assert checked == set(SCORE_CELLS)


def prose_words(markdown):
    """The words (as ``wc -w`` counts them) of ``markdown`` a reader reads as prose: every line but table rows
    (``|``), fenced code blocks and image lines (``![...](...)``); headings and list items count."""
    words, in_code = 0, False
    for line in markdown.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            in_code = not in_code
            continue
        if in_code or stripped.startswith("|") or re.fullmatch(r"!\[[^\]]*\]\([^)]*\)", stripped):
            continue
        words += len(stripped.split())
    return words


def _section(markdown, heading):
    """The text under the ``## heading`` line, up to the next ``## `` heading (the heading line left out)."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", markdown, flags=re.MULTILINE | re.DOTALL)
    assert match, f"no '## {heading}' section"
    return match.group(1)


def test_prose_words_leave_out_tables_code_and_images():
    text = ("# Title\n\nTwo words.\n\n| a | b c |\n|---|---|\n| 1 | 2 |\n\n```bash\npython x.py --flag\n```\n"
            "![a picture](results/x.png)\n- a list item\n")
    assert prose_words(text) == 2 + 2 + 4  # words as `wc -w` counts them: the bullet too
    assert _section("## Verdict\n\nOne two three.\n\n## 1. Results\n\nFour.\n", "Verdict").split() == [
        "One", "two", "three."]


def test_the_report_opens_with_the_verdict_then_the_assignments_parts_in_at_most_1500_words_of_prose():
    """The hand-in report (issue 39): the verdict first, in at most 200 words of prose; then results, the best
    settings, how G and D are trained, the Set5 images, what was tried (the assignment's parts) and what is weak;
    at most 1,500 words of prose in all (tables, code and images left out: prose_words), the rest in the appendix,
    which the report links. The whole text, tables included, stays under 4,000 words."""
    report = _read(REPORT)
    headings = re.findall(r"^## (.+)$", report, flags=re.MULTILINE)
    assert headings[0] == "Verdict", headings
    numbered = [heading for heading in headings if heading[0].isdigit()]
    assert [heading.split(".")[0] for heading in numbered] == ["1", "2", "3", "4", "5", "6"], headings
    for number, words in zip(range(5), ("results", "settings", "trained", "set5", "tried")):
        assert words in numbered[number].lower(), (words, numbered[number])
    verdict = prose_words(_section(report, "Verdict"))
    assert 0 < verdict <= 200, f"the verdict has {verdict} words of prose"
    assert prose_words(report) <= 1500, f"report.md has {prose_words(report)} words of prose"
    assert len(report.split()) <= 4000
    assert "(report_appendix.md)" in report


@pytest.mark.parametrize("path", [REPORT, APPENDIX])
def test_every_picture_and_link_of_the_report_exists(path):
    targets = re.findall(r"\]\(([^)#]+)\)", _read(path))
    assert targets
    missing = [target for target in targets if not target.startswith("http")
               and not os.path.exists(os.path.join(REPO, target))]
    assert not missing, f"{os.path.basename(path)} links to files that do not exist: {missing}"

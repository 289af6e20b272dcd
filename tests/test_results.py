"""The committed results agree with the reference protocol (results/metrics.csv is what report.md cites)."""
import csv
import glob
import os
import re

import pytest
from reference import BICUBIC_X4, PAPER_X4, PUBLISHED_BICUBIC_X4

from evaluation import METRICS_COLUMNS, format_psnr_ssim

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(REPO, "results", "metrics.csv")
# Tables of earlier models, kept beside their logs when a model was retrained (report.md cites them as such)
ARCHIVED = sorted(glob.glob(os.path.join(REPO, "results", "logs", "*", "metrics.csv")))
REPORT = os.path.join(REPO, "report.md")
PAIR = re.compile(r"\b\d{2}\.\d{2} / 0\.\d{4}\b")  # a "PSNR / SSIM" cell as format_psnr_ssim writes it


def _measured_rows(path=RESULTS):
    """Rows with images and a PSNR (the "hr" rows hold the HR images' own NIQE, and PSNR inf)."""
    with open(path, newline="") as file:
        return [row for row in csv.DictReader(file) if int(row["images"]) > 0 and row["model"] != "hr"]


def test_committed_bicubic_rows_match_the_reference():
    with open(RESULTS, newline="") as file:
        rows = list(csv.DictReader(file))
    # the current columns, or the leading ones of a table written before the newer scores existed (they follow)
    assert list(rows[0]) == list(METRICS_COLUMNS)[:len(rows[0])] and len(rows[0]) >= 7
    bicubic = {row["dataset"]: row for row in rows if row["model"] == "bicubic"}
    for dataset, (psnr, ssim) in BICUBIC_X4.items():
        assert float(bicubic[dataset]["psnr"]) == pytest.approx(psnr, abs=0.005), dataset
        assert float(bicubic[dataset]["ssim"]) == pytest.approx(ssim, abs=0.0005), dataset
    assert {row["dataset"]: int(row["images"]) for row in bicubic.values()} == {
        "DIV2K-valid": 0, "Set5": 5, "Set14": 14, "B100": 100, "Urban100": 100}


def test_every_metric_in_the_report_is_a_committed_or_published_number():
    """report.md's 'PSNR / SSIM' pairs come from results/metrics.csv, an archived table of an earlier model
    (results/logs/*/metrics.csv) or the published tables, never by hand, and each model's row of the results
    table holds that model's numbers of results/metrics.csv in the CSV's set order."""
    measured = {}  # model -> [pair per set, in the CSV's order]
    for row in _measured_rows():
        measured.setdefault(row["model"], []).append(format_psnr_ssim(float(row["psnr"]), float(row["ssim"])))
    published = {format_psnr_ssim(psnr, ssim) for table in (*PAPER_X4.values(), PUBLISHED_BICUBIC_X4)
                 for psnr, ssim in table.values()}
    with open(REPORT, encoding="utf-8") as file:
        report = file.read()
    cited = set(PAIR.findall(report))
    ours = {pair for pairs in measured.values() for pair in pairs}
    ours |= {format_psnr_ssim(float(row["psnr"]), float(row["ssim"])) for path in ARCHIVED
             for row in _measured_rows(path)}
    unknown = sorted(cited - ours - published)
    assert not unknown, f"numbers in report.md that are in no table: {unknown}"

    table_rows = [line for line in report.splitlines() if line.startswith("|")]
    for model, pairs in measured.items():
        rows = [PAIR.findall(line) for line in table_rows if pairs[0] in line]
        assert pairs in rows, f"report.md has no table row with {model}'s numbers {pairs} (found {rows})"

"""The committed results agree with the reference protocol (results/metrics.csv is what report.md cites)."""
import csv
import os
import re

import pytest

from reference import BICUBIC_X4, PAPER_X4, PUBLISHED_BICUBIC_X4

RESULTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "results", "metrics.csv")


def test_committed_bicubic_rows_match_the_reference():
    with open(RESULTS, newline="") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == ["model", "dataset", "psnr", "ssim", "images"]
    bicubic = {row["dataset"]: row for row in rows if row["model"] == "bicubic"}
    for dataset, (psnr, ssim) in BICUBIC_X4.items():
        assert float(bicubic[dataset]["psnr"]) == pytest.approx(psnr, abs=0.005), dataset
        assert float(bicubic[dataset]["ssim"]) == pytest.approx(ssim, abs=0.0005), dataset
    assert {row["dataset"]: int(row["images"]) for row in bicubic.values()} == {
        "DIV2K-valid": 0, "Set5": 5, "Set14": 14, "B100": 100, "Urban100": 100}


REPORT = os.path.join(os.path.dirname(os.path.dirname(RESULTS)), "report.md")


def test_every_metric_in_the_report_is_a_committed_or_published_number():
    """report.md's 'PSNR / SSIM' pairs come from results/metrics.csv or the published tables, never by hand."""
    with open(RESULTS, newline="") as file:
        rows = [row for row in csv.DictReader(file) if int(row["images"]) > 0]
    ours = {f"{float(row['psnr']):.2f} / {float(row['ssim']):.4f}" for row in rows}
    published = {f"{psnr:.2f} / {ssim:.4f}" for table in (*PAPER_X4.values(), PUBLISHED_BICUBIC_X4)
                 for psnr, ssim in table.values()}
    with open(REPORT, encoding="utf-8") as file:
        report = file.read()
    cited = set(re.findall(r"\b\d{2}\.\d{2} / 0\.\d{4}\b", report))
    assert cited, "report.md cites no PSNR / SSIM pair"
    assert not cited - ours - published, f"numbers in report.md that are in no table: {sorted(cited - ours - published)}"
    trained = {f"{float(row['psnr']):.2f} / {float(row['ssim']):.4f}" for row in rows if row["model"] != "bicubic"}
    assert trained <= cited, f"results/metrics.csv rows missing from report.md: {sorted(trained - cited)}"

"""The committed results agree with the reference protocol (results/metrics.csv is what report.md cites)."""
import csv
import os

import pytest

from reference import BICUBIC_X4

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

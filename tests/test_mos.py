"""mos.py: the MOS analysis against answers worked out by hand, and bad ratings files (an error naming the file
and line, nothing written), through ``mos.analyse`` and ``python rating.py analyse``."""
import csv
import shutil
import statistics

import numpy as np
import pytest

import mos
import rating


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


# ----------------------------------------------------------------------------------------------
# The analysis: a case worked out by hand
# ----------------------------------------------------------------------------------------------
KEY_ROWS = [("Set5", image, f"{image[0]}{method[:3]}", method)
            for image in ("bird", "woman") for method in ("bicubic", "srgan")]


def write_key(folder):
    path = folder / "key.csv"
    with open(path, "w", newline="") as file:
        file.write("set,image,version,method\n" + "".join(",".join(row) + "\n" for row in KEY_ROWS))
    return path


def write_ratings(path, lines, header="rater,set,image,version,score,seconds"):
    path.write_text(header + "\n" + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_analysis_matches_a_hand_worked_answer(tmp_path):
    """Two raters, two images, bicubic and SRGAN. Bicubic scores 2, 1, 1, 1; SRGAN 1, 3, 4, 5.

    MOS: 1.25 and 3.25. Sample standard deviations 0.5 and sqrt(8.75 / 3); the 95% interval is
    mean -/+ t(0.975, 3) s / sqrt(4), t(0.975, 3) = 3.1824 from the tables.
    Wilcoxon: the four differences SRGAN - bicubic (per rater and image) are -1, +2, +3, +4: ranks 1..4, the
    negative rank sum W = 1. Of the 2^4 = 16 equally likely sign patterns, W <= 1 in 2 (no negative rank, or
    only rank 1), so the two-sided exact p = 2 * 2 / 16 = 0.25.
    """
    key = write_key(tmp_path)
    ann = write_ratings(tmp_path / "ann.csv", ["ann,Set5,bird,bbic,2,3.5", "ann,Set5,bird,bsrg,1,2",
                                               "ann,Set5,woman,wbic,1,1.2", "ann,Set5,woman,wsrg,3,4"])
    bob = write_ratings(tmp_path / "bob.csv", ["bob,Set5,woman,wsrg,5,2.5", "bob,Set5,bird,bsrg,4,1",
                                               "bob,Set5,bird,bbic,1,7", "bob,Set5,woman,wbic,1,0.8"])
    result = mos.analyse([ann, bob], [key], tmp_path / "out")

    t_975_3 = 3.1824
    expected = {}
    for method, scores in (("bicubic", [2, 1, 1, 1]), ("srgan", [1, 3, 4, 5])):
        half = t_975_3 * statistics.stdev(scores) / 2
        expected[method] = (sum(scores) / 4, sum(scores) / 4 - half, sum(scores) / 4 + half)
    rows = {row["method"]: row for row in read_csv(result["csv"])}
    assert list(rows) == ["bicubic", "srgan"]
    assert list(rows["bicubic"]) == ["set", "method", "mos", "ci_low", "ci_high", "ratings", "raters",
                                     "p_vs_bicubic", "p_vs_srgan"]
    for method, (mean, low, high) in expected.items():
        row = rows[method]
        assert float(row["mos"]) == mean and row["ratings"] == "4" and row["raters"] == "2" and row["set"] == "Set5"
        assert float(row["ci_low"]) == pytest.approx(low, abs=2e-4)
        assert float(row["ci_high"]) == pytest.approx(high, abs=2e-4)
    assert float(rows["bicubic"]["p_vs_srgan"]) == float(rows["srgan"]["p_vs_bicubic"]) == pytest.approx(0.25)
    assert rows["bicubic"]["p_vs_bicubic"] == ""

    markdown = result["markdown"].read_text(encoding="utf-8")
    assert "by 2 rater(s), 2 ratings file(s)" in markdown
    assert "| Bicubic | 1.25 [0.45, 2.05] (4) |" in markdown
    assert "| SRGAN | 3.25 [0.53, 5.97] (4) |" in markdown
    assert "| Bicubic |  | 0.250 |" in markdown and "| SRGAN | 0.250 |  |" in markdown


def test_wilcoxon_pairs_by_rater_and_image_and_skips_unpaired(tmp_path):
    """Only (rater, image) with both methods pair up; a single rating has no interval; no difference, no p."""
    key = write_key(tmp_path)
    ratings = mos.read_ratings([write_ratings(tmp_path / "r.csv", [
        "ann,Set5,bird,bbic,2,1", "ann,Set5,bird,bsrg,2,1", "ann,Set5,woman,wbic,3,1", "bob,Set5,woman,wsrg,5,1"])],
        mos.read_key([key]))
    assert mos.paired_wilcoxon(ratings, "Set5", "bicubic", "srgan")[0] == 1
    assert np.isnan(mos.paired_wilcoxon(ratings, "Set5", "bicubic", "srgan")[1])
    rows = {row["method"]: row for row in mos.mos_table(ratings)}
    assert rows["srgan"]["mos"] == 3.5 and rows["bicubic"]["mos"] == 2.5 and rows["srgan"]["raters"] == 2
    assert np.isnan(mos.mean_opinion_score([4])[1])


# ----------------------------------------------------------------------------------------------
# Bad input: an error naming the file and line, nothing written
# ----------------------------------------------------------------------------------------------
GOOD = "ann,Set5,bird,bbic,2,1.5"


@pytest.mark.parametrize("lines, header, message", [
    ([GOOD], "rater,set,image,version,seconds", r"r\.csv, line 1: missing column\(s\) score"),
    ([], "", r"r\.csv, line 1: missing column\(s\) rater, set"),
    ([], None, r"r\.csv: no ratings"),
    ([GOOD, "ann,Set5,woman,wbic,6,1"], None, r"r\.csv, line 3: score '6' is not a whole number from 1 to 5"),
    (["ann,Set5,woman,wbic,0,1"], None, r"r\.csv, line 2: score '0'"),
    (["ann,Set5,woman,wbic,2.5,1"], None, r"r\.csv, line 2: score '2.5'"),
    (["ann,Set5,woman,wbic,,1"], None, r"r\.csv, line 2: score ''"),
    ([GOOD, "ann,Set5,woman,zz99,3,1"], None, r"r\.csv, line 3: unknown version id 'zz99', not in the key of Set5"),
    ([GOOD, "ann,Set5,woman,bsrg,3,1"], None, r"r\.csv, line 3: version 'bsrg' is an image of 'bird'"),
    ([GOOD, "bob,Set5,woman,wbic,3,1", "ann,Set5,bird,bbic,4,2"], None,
     r"r\.csv, line 4: 'ann' rated version 'bbic' of bird twice \(also .*r\.csv, line 2\)"),
    (["ann,Set14,bird,bbic,2,1"], None, r"r\.csv, line 2: ratings of the set 'Set14', but the key is of Set5"),
    ([GOOD, "ann,Set5,woman,wbic,3"], None, r"r\.csv, line 3: 6 columns in the header"),
    (["ann,Set5,woman,wbic,3,-1"], None, r"r\.csv, line 2: seconds '-1' is not a number >= 0"),
    (["ann,Set5,woman,wbic,3,soon"], None, r"r\.csv, line 2: seconds 'soon'"),
    ([",Set5,woman,wbic,3,1"], None, r"r\.csv, line 2: no rater name"),
])
def test_bad_ratings_file_names_file_and_line_and_writes_nothing(tmp_path, capsys, lines, header, message):
    key = write_key(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "mos.csv").write_text("previous\n")
    if header == "":
        path = tmp_path / "r.csv"
        path.write_text("")
    else:
        path = write_ratings(tmp_path / "r.csv", lines, *([header] if header else []))
    with pytest.raises(ValueError, match=message):
        mos.analyse([path], [key], out)
    assert rating.run_main(rating.main, ["analyse", str(path), "--key", str(key), "--out", str(out)]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: ") and str(path) in error and "Traceback" not in error
    assert sorted(p.name for p in out.iterdir()) == ["mos.csv"] and (out / "mos.csv").read_text() == "previous\n"


def test_the_same_file_collected_twice_is_an_error(tmp_path):
    key = write_key(tmp_path)
    first = write_ratings(tmp_path / "ann.csv", [GOOD])
    second = shutil.copy(first, tmp_path / "ann (1).csv")
    with pytest.raises(ValueError, match=r"ann \(1\)\.csv, line 2: 'ann' rated version 'bbic' of bird twice "
                                         r"\(also .*ann\.csv, line 2\)"):
        mos.analyse([first, second], [key], tmp_path / "out")
    with pytest.raises(ValueError, match=r"missing\.csv: cannot read"):
        mos.analyse([tmp_path / "missing.csv"], [key], tmp_path / "out")
    assert not (tmp_path / "out").exists()

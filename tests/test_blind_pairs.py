"""experiments/blind_pairs.py (issue 37's blind pairwise look): the pairs hide which model is which, the key unblinds
them, and a rater's bad choices file is refused with its name. Images made here (no data needed)."""
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.append(str(Path(__file__).resolve().parent.parent / "experiments"))  # after the repository
import blind_pairs  # noqa: E402

from utils import load_image, read_csv, save_image  # noqa: E402


@pytest.fixture()
def two_models(tmp_path):
    """The Set5 image names with two models' 256x256 images: one all dark (20), one all light (220)."""
    rows = ["hr_path,lr_path,hr_height,hr_width"]
    for name in ("baby", "bird", "butterfly", "head", "woman"):
        rows.append(f"{tmp_path / 'hr' / name}.png,,256,256")
        for folder, value in (("dark", 20), ("light", 220)):
            save_image(tmp_path / folder / f"{name}.png", np.full((256, 256, 3), value, np.uint8))
    (tmp_path / "list.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


def test_pairs_show_both_models_on_the_sides_the_key_says(two_models):
    out, key_path = two_models / "pairs", two_models / "secret" / "key.csv"
    blind_pairs.main(["make", "--list", str(two_models / "list.csv"), "--model", f"dark={two_models / 'dark'}",
                      "--model", f"light={two_models / 'light'}", "--out", str(out), "--key", str(key_path),
                      "--seed", "3"])
    key = read_csv(key_path)
    assert len(key) == 5 + 6  # the whole images and figures.SET5_REGIONS
    assert sum(row["A"] == "dark" for row in key) in (5, 6)  # each side in half of the pairs
    assert sorted(p.name for p in out.iterdir()) == [f"pair_{n:02d}.png" for n in range(1, 12)]  # no key beside them
    for row in key:
        picture = load_image(out / f"pair_{int(row['pair']):02d}.png")
        crops = {(image, region): box[2] for image, region, box in blind_pairs.SET5_REGIONS}
        size = 256 if row["region"] == "whole image" else 4 * crops[row["image"], row["region"]]
        assert picture.shape == (blind_pairs.BANNER + size, 2 * size + blind_pairs.GAP, 3)
        left, right = picture[-1, 0, 0], picture[-1, -1, 0]
        assert (left, right) == ((20, 220) if row["A"] == "dark" else (220, 20))


def test_score_unblinds_and_refuses_a_bad_choices_file(two_models, tmp_path):
    key_path = tmp_path / "key.csv"
    blind_pairs.main(["make", "--list", str(two_models / "list.csv"), "--model", f"dark={two_models / 'dark'}",
                      "--model", f"light={two_models / 'light'}", "--out", str(tmp_path / "pairs"),
                      "--key", str(key_path)])
    key = read_csv(key_path)
    choices = ["pair,choice,reason"] + [f"{row['pair']},{'A' if n % 3 else '='},seen" for n, row in enumerate(key)]
    (tmp_path / "choices.csv").write_text("\n".join(choices) + "\n")
    counts = blind_pairs.score(key_path, tmp_path / "choices.csv", tmp_path / "rated.csv")
    rated = read_csv(tmp_path / "rated.csv")
    assert [row["preferred"] for row in rated] == [row["A"] if n % 3 else "=" for n, row in enumerate(key)]
    assert list(counts) == ["light"] and sum(counts["light"].values()) == 11 and counts["light"]["="] == 4
    (tmp_path / "bad.csv").write_text("\n".join(choices[:-1] + [choices[-1].replace(",A,", ",C,")]) + "\n")
    with pytest.raises(SystemExit, match=r"bad.csv: pair \d+: choice 'C' is not A, B or ="):
        blind_pairs.score(key_path, tmp_path / "bad.csv", tmp_path / "rated.csv")
    (tmp_path / "short.csv").write_text("\n".join(choices[:-1]) + "\n")
    with pytest.raises(SystemExit, match="short.csv: it must have one choice per pair"):
        blind_pairs.score(key_path, tmp_path / "short.csv", tmp_path / "rated.csv")


def test_the_first_model_is_paired_with_each_other_one(two_models, tmp_path):
    key_path = tmp_path / "key.csv"
    blind_pairs.main(["make", "--list", str(two_models / "list.csv"), "--model", f"base={two_models / 'dark'}",
                      "--model", f"one={two_models / 'light'}", "--model", f"two={two_models / 'light'}",
                      "--out", str(tmp_path / "pairs"), "--key", str(key_path), "--whole-zoom", "2"])
    key = read_csv(key_path)
    assert len(key) == 2 * 11
    assert all("base" in (row["A"], row["B"]) and row["versus"] in (row["A"], row["B"]) for row in key)
    assert sorted(row["versus"] for row in key) == ["one"] * 11 + ["two"] * 11
    for model in ("one", "two"):
        assert sum(row["A"] == "base" for row in key if row["versus"] == model) in (5, 6)
    whole = next(row for row in key if row["region"] == "whole image")
    assert load_image(tmp_path / "pairs" / f"pair_{int(whole['pair']):02d}.png").shape[1] == 2 * 512 + blind_pairs.GAP


def test_make_refuses_a_key_beside_the_pictures_and_a_folder_with_earlier_pairs(two_models, tmp_path):
    arguments = ["make", "--list", str(two_models / "list.csv"), "--model", f"dark={two_models / 'dark'}",
                 "--model", f"light={two_models / 'light'}"]
    with pytest.raises(SystemExit, match="must not lie beside"):
        blind_pairs.main(arguments + ["--out", str(tmp_path / "pairs"), "--key", str(tmp_path / "pairs" / "key.csv")])
    blind_pairs.main(arguments + ["--out", str(tmp_path / "pairs"), "--key", str(tmp_path / "key.csv")])
    with pytest.raises(SystemExit, match="already holds"):
        blind_pairs.main(arguments + ["--out", str(tmp_path / "pairs"), "--key", str(tmp_path / "key2.csv")])
    with pytest.raises(ValueError, match="differ in size"):
        blind_pairs.side_by_side(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5, 3), np.uint8))


def test_views_crop_the_regions_where_figures_set5_regions_says():
    image = (np.arange(288 * 288 * 3) % 251).astype(np.uint8).reshape(288, 288, 3)  # no two rows alike
    views = dict(blind_pairs.views(image, "bird", zoom=2, whole_zoom=1))
    assert set(views) == {"whole image", "beak"} and (views["whole image"] == image).all()
    y, x, h, w = next(box for name, region, box in blind_pairs.SET5_REGIONS if (name, region) == ("bird", "beak"))
    assert (views["beak"][::2, ::2] == image[y:y + h, x:x + w]).all() and views["beak"].shape == (2 * h, 2 * w, 3)

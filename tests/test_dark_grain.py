"""experiments/dark_grain.py (issue 37's diagnosis of the grain in dark areas): what it counts as texture and as
error, on images made here (no data needed)."""
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.append(str(Path(__file__).resolve().parent.parent / "experiments"))  # after the repository
import dark_grain  # noqa: E402


def _dark_image(seed, size=48):
    """A dark, textured ``uint8`` image (luma well below 70)."""
    rng = np.random.default_rng(seed)
    return np.clip(40 + rng.normal(0, 5, (size, size, 3)), 0, 255).astype(np.uint8)  # no clipping below


def test_dark_grain_separates_texture_from_error_and_luma_from_colour():
    hr = _dark_image(0)
    same = dark_grain.rms(dark_grain.dark_sums(hr, hr, dark=70))
    assert same["pixels"] == 40 * 40  # the 4-px border left out; every pixel dark
    assert same["y_hf"] > 1 and same["y_error_hf"] == 0 and same["chroma_error_hf"] == 0
    rng = np.random.default_rng(1)
    grey = np.repeat(rng.integers(-5, 6, (48, 48, 1)), 3, axis=2)  # R = G = B: luma only
    sr = np.clip(hr.astype(int) + grey, 0, 255).astype(np.uint8)
    scores = dark_grain.rms(dark_grain.dark_sums(sr, hr, dark=70))
    assert scores["y_error_hf"] > 1 and scores["chroma_error_hf"] == pytest.approx(0, abs=1e-9)
    red_green = np.stack([grey[..., 0], -grey[..., 0], np.zeros((48, 48), int)], axis=2)  # colour, little luma
    sr = np.clip(hr.astype(int) + red_green, 0, 255).astype(np.uint8)
    scores = dark_grain.rms(dark_grain.dark_sums(sr, hr, dark=70))
    assert scores["chroma_error_hf"] > 1 > scores["y_error_hf"]
    bright = hr + 150
    assert dark_grain.dark_sums(bright, bright, dark=70)["pixels"] == 0


def test_dark_grain_makes_a_checkpoints_images_first_and_scores_them(tmp_path, tiny_checkpoint):
    from utils import save_image

    rows = ["hr_path,lr_path,hr_height,hr_width"]
    for seed in (0, 1):
        path = tmp_path / f"dark{seed}.png"
        save_image(path, _dark_image(seed))
        rows.append(f"{path},,48,48")
    (tmp_path / "list.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    dark_grain.main(["--list", str(tmp_path / "list.csv"), "--out", str(out),
                     "--checkpoint", f"tiny={tiny_checkpoint}"])
    assert sorted(p.name for p in (out / "images" / "tiny").iterdir()) == ["dark0.png", "dark1.png"]
    table = (out / "summary.csv").read_text().splitlines()
    assert table[0] == "image,model,pixels,y_hf,chroma_hf,y_error_hf,chroma_error_hf"
    assert [line.split(",")[:2] for line in table[1:]] == [
        ["dark0", "HR"], ["dark1", "HR"], ["all", "HR"], ["dark0", "tiny"], ["dark1", "tiny"], ["all", "tiny"]]
    assert float(table[-1].split(",")[5]) > 0  # an untrained generator's output is not the HR


def test_dark_grain_needs_a_model_or_a_checkpoint(tmp_path):
    with pytest.raises(SystemExit):
        dark_grain.main(["--list", str(tmp_path / "list.csv"), "--out", str(tmp_path / "out")])

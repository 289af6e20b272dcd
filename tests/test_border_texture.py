"""experiments/border_texture.py (issue 37's border band): fine texture by distance to the border, on images made
here (no data needed)."""
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.append(str(Path(__file__).resolve().parent.parent / "experiments"))  # after the repository
import border_texture  # noqa: E402

from utils import convert_image, read_csv, save_image  # noqa: E402


def _y(image):
    return convert_image(image, "uint8", "y")  # what border_texture.main measures: Y, float 0..255


def _noise(seed, size=64, scale=6.0):
    rng = np.random.default_rng(seed)
    return np.clip(128 + rng.normal(0, scale, (size, size, 1)).repeat(3, axis=2), 0, 255).astype(np.uint8)


def test_the_ratio_is_near_1_for_even_texture_and_large_for_a_band_along_the_borders(tmp_path):
    even = _noise(0)
    banded = even.astype(float)
    hatch = 20 * (np.add.outer(np.arange(64), np.arange(64)) % 2 - 0.5)[..., None]  # a checkerboard
    band = np.ones((64, 64, 1), bool)
    band[4:-4, 4:-4] = False  # the outer 4 pixels on every side
    banded += np.where(band, hatch, 0)
    banded = np.clip(banded, 0, 255).astype(np.uint8)
    for name, image in (("even", even), ("banded", banded)):
        save_image(tmp_path / "hr" / f"{name}.png", even)
        save_image(tmp_path / "model" / f"{name}.png", image)
    (tmp_path / "list.csv").write_text("hr_path,lr_path,hr_height,hr_width\n"
                                       + "".join(f"{tmp_path / 'hr' / n}.png,,64,64\n" for n in ("even", "banded")))
    row = border_texture.profile(*border_texture.border_sums(_y(even), 8, 24), 8)
    assert row["ratio"] == pytest.approx(1, abs=0.15) and row["inside"] > 3
    banded_row = border_texture.profile(*border_texture.border_sums(_y(banded), 8, 24), 8)
    assert banded_row["ratio"] > 1.2 and banded_row["d0"] > 2 * banded_row["d6"]
    sums, counts = border_texture.border_sums(_y(even), 8, 24)
    assert counts[:8].tolist() == [4 * 64 - 8 * d - 4 for d in range(8)] and counts[-1] == 16 * 16  # the rings
    border_texture.main(["--list", str(tmp_path / "list.csv"), "--out", str(tmp_path / "out"),
                         "--model", f"model={tmp_path / 'model'}"])
    table = {row["model"]: row for row in read_csv(tmp_path / "out" / "border_texture.csv")}
    assert set(table) == {"HR", "model"} and float(table["model"]["ratio"]) > float(table["HR"]["ratio"]) + 0.1
    assert table["HR"]["error_outer"] == "0.0" and table["HR"]["error_ratio"] == ""
    assert float(table["model"]["error_outer"]) > 1 > 100 * float(table["model"]["error_inside"])  # an added band


def test_border_texture_needs_a_model_or_a_checkpoint(tmp_path):
    with pytest.raises(SystemExit):
        border_texture.main(["--list", str(tmp_path / "list.csv"), "--out", str(tmp_path / "out")])


def test_border_texture_refuses_an_image_without_an_inside():
    with pytest.raises(ValueError, match="no pixel 24 px from every border"):
        border_texture.border_sums(_y(_noise(0, size=48)), 8, 24)

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

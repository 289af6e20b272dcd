"""imresize against MATLAB: the shipped LR x4 files (uint8 path) and MATLAB's float answers."""
import numpy as np
import pytest
from PIL import Image

from imresize import imresize
from utils import load_image, modcrop


def _pairs(root, set_name):
    for hr_path in sorted((root / set_name / "HR").glob("*.png")):
        yield hr_path, root / set_name / "LR_bicubic" / "X4" / f"{hr_path.stem}x4.png"


@pytest.mark.parametrize("set_name, count", [("Set5", 5), ("Set14", 14), ("B100", 100)])
def test_reproduces_every_matlab_lr_file_bit_for_bit(set_root, set_name, count):
    checked = 0
    for hr_path, lr_path in _pairs(set_root(set_name), set_name):
        hr = np.asarray(Image.open(hr_path))  # keep gray images HxW
        lr = np.asarray(Image.open(lr_path))
        out = imresize(modcrop(hr, 4), scale=0.25)
        assert out.dtype == np.uint8 and out.shape == lr.shape, hr_path.name
        assert np.array_equal(out, lr), f"{hr_path.name}: {np.count_nonzero(out != lr)} values differ"
        checked += 1
    assert checked == count


def test_rounding_after_each_pass_matters(test_data):
    """Rounding only at the end (the float path + one final rounding) is not MATLAB's uint8 behaviour."""
    hr = load_image(test_data / "Set5" / "HR" / "butterfly.png")
    lr = load_image(test_data / "Set5" / "LR_bicubic" / "X4" / "butterflyx4.png")
    once = np.clip(np.floor(imresize(hr.astype(np.float64), scale=0.25) + 0.5), 0, 255).astype(np.uint8)
    assert np.count_nonzero(once != lr) > 0.01 * lr.size
    assert np.array_equal(imresize(hr, scale=0.25), lr)


def _matlab_cases(root):
    cases = np.load(root / "matlab_imresize" / "cases.npz")
    names = sorted(key[: -len("_output")] for key in cases.files if key.endswith("_output"))
    return cases, names


def test_matches_all_16_matlab_float_answers(test_data):
    cases, names = _matlab_cases(test_data)
    assert len(names) == 16
    for name in names:
        image = cases[f"{name}_input"]
        if image.dtype == np.uint8:  # MATLAB was given im2double of it
            image = image / 255.0
        expected = cases[f"{name}_output"]
        out = imresize(image, output_shape=expected.shape[:2], antialiasing=bool(cases[f"{name}_antialiasing"]))
        assert out.dtype == np.float64 and out.shape == expected.shape, name
        np.testing.assert_allclose(out, expected, rtol=0, atol=1e-10, err_msg=name)


def test_float_path_neither_rounds_nor_clips():
    image = np.zeros((8, 8))
    image[3:5, 3:5] = 1.0
    out = imresize(image, scale=2)
    assert out.min() < 0 and out.max() > 1  # cubic overshoot kept, as MATLAB's double path
    assert np.any(out != np.round(out))


def test_output_size_is_ceil_of_scale_times_input_and_keeps_layout():
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (33, 50), dtype=np.uint8)
    assert imresize(gray, scale=0.25).shape == (9, 13)
    assert imresize(gray, scale=4).shape == (132, 200)
    assert imresize(gray[:, :, None].repeat(3, 2), output_shape=(20, 7)).shape == (20, 7, 3)
    assert imresize(gray.astype(np.float32), scale=0.5).dtype == np.float32


def test_constant_image_stays_constant_both_directions():
    image = np.full((13, 17, 3), 200, np.uint8)
    assert np.all(imresize(image, scale=0.25) == 200) and np.all(imresize(image, scale=3) == 200)


@pytest.mark.parametrize("kwargs", [{}, {"scale": 0.5, "output_shape": (2, 2)}, {"scale": 0}, {"output_shape": (0, 3)}])
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ValueError):
        imresize(np.zeros((8, 8), np.uint8), **kwargs)

"""imresize against MATLAB: the LR x4 files of the EDSR benchmark pack (uint8 path) and MATLAB's float answers,
both from the shared data root (``../shared/data``; skipped without it), and properties checked on synthetic images
and scikit-image's sample photographs (no outside data)."""
import numpy as np
import pytest
from PIL import Image
from skimage import data

from imresize import imresize
from utils import load_image, modcrop


def _pairs(root, set_name):
    for hr_path in sorted((root / set_name / "HR").glob("*.png")):
        yield hr_path, root / set_name / "LR_bicubic" / "X4" / f"{hr_path.stem}x4.png"


@pytest.mark.parametrize("set_name, count", [("Set5", 5), ("Set14", 14), ("B100", 100)])
def test_reproduces_every_matlab_lr_file_bit_for_bit(shared_set, set_name, count):
    checked = 0
    for hr_path, lr_path in _pairs(shared_set(set_name), set_name):
        hr = np.asarray(Image.open(hr_path))  # keep gray images HxW
        lr = np.asarray(Image.open(lr_path))
        out = imresize(modcrop(hr, 4), scale=0.25)
        assert out.dtype == np.uint8 and out.shape == lr.shape, hr_path.name
        assert np.array_equal(out, lr), f"{hr_path.name}: {np.count_nonzero(out != lr)} values differ"
        checked += 1
    assert checked == count


def test_rounding_after_each_pass_matters(shared_data):
    """Rounding only at the end (the float path + one final rounding) is not MATLAB's uint8 behaviour."""
    hr = load_image(shared_data / "Set5" / "HR" / "butterfly.png")
    lr = load_image(shared_data / "Set5" / "LR_bicubic" / "X4" / "butterflyx4.png")
    once = np.clip(np.floor(imresize(hr.astype(np.float64), scale=0.25) + 0.5), 0, 255).astype(np.uint8)
    assert np.count_nonzero(once != lr) > 0.01 * lr.size
    assert np.array_equal(imresize(hr, scale=0.25), lr)


def _matlab_cases(root):
    cases = np.load(root / "matlab_imresize" / "cases.npz")
    names = sorted(key[: -len("_output")] for key in cases.files if key.endswith("_output"))
    return cases, names


def test_matches_all_16_matlab_float_answers(shared_set):
    cases, names = _matlab_cases(shared_set("matlab_imresize"))
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


def test_constant_float_image_stays_constant_and_keeps_its_dtype():
    for dtype in (np.float64, np.float32):
        image = np.full((13, 17), 0.3, dtype)
        for scale in (0.25, 1 / 3, 3):
            out = imresize(image, scale=scale)
            assert out.dtype == dtype
            np.testing.assert_allclose(out, 0.3, rtol=0, atol=1e-6 if dtype == np.float32 else 1e-12)


def test_scale_one_returns_the_input():
    photo = data.astronaut()
    assert np.array_equal(imresize(photo, 1), photo)
    assert np.array_equal(imresize(photo, output_shape=photo.shape[:2]), photo)
    camera = data.camera() / 255.0
    assert np.array_equal(imresize(camera, 1), camera)


def test_linear_ramp_is_kept_away_from_the_borders():
    """Keys' cubic reproduces straight lines, so inside the image output pixel x (1-based) of a ramp
    ``f(i) = i`` is the sampled coordinate ``u = x / scale + (1 - 1 / scale) / 2``; only the symmetric border
    bends it (the stretched kernel reaches 2 / scale pixels when shrinking)."""
    ramp = np.tile(np.arange(1, 33, dtype=np.float64), (3, 1))
    for scale, inside in ((0.5, slice(2, 14)), (0.25, slice(2, 6)), (2, slice(3, 61))):
        out = imresize(ramp, scale=(1, scale))[0]
        x = np.arange(1, out.size + 1)
        u = x / scale + 0.5 * (1 - 1 / scale)
        np.testing.assert_allclose(out[inside], u[inside], rtol=0, atol=1e-12)
        assert np.abs(out[[0, -1]] - u[[0, -1]]).min() > 0.01  # the border is mirrored, not extrapolated


def test_an_image_symmetric_left_right_stays_symmetric():
    half = data.camera()[100:300, 50:200]
    image = np.concatenate([half, half[:, ::-1]], axis=1)  # 200x300
    for kwargs in ({"scale": 0.25}, {"scale": 3}, {"output_shape": (37, 71)}, {"output_shape": (500, 913)}):
        out = imresize(image, **kwargs)
        assert np.array_equal(out, out[:, ::-1]), kwargs
        out = imresize(image.astype(np.float64), **kwargs)
        np.testing.assert_allclose(out, out[:, ::-1], rtol=0, atol=1e-9, err_msg=str(kwargs))


def test_uint8_path_is_the_rounded_float_path_within_one_grey_level():
    """Without clipping (grey levels 48..175), rounding after each pass moves a value by at most 1 from the float
    path rounded once; it does move some of them (MATLAB's uint8 behaviour)."""
    photo = (48 + data.astronaut() // 2).astype(np.uint8)
    for scale in (0.25, 1 / 3, 2):
        out = imresize(photo, scale=scale)
        rounded = np.floor(imresize(photo.astype(np.float64), scale=scale) + 0.5)
        assert out.dtype == np.uint8 and out.shape == rounded.shape
        difference = np.abs(out.astype(np.float64) - rounded)
        assert difference.max() == 1, scale
        assert 0.01 < np.mean(difference > 0) < 0.5, scale

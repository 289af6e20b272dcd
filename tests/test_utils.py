"""Metrics against the published bicubic numbers (real images from the shared data root, skipped without it) and
against known answers on synthetic images and scikit-image's sample photographs, conversions, image reading,
checkpoints."""
import numpy as np
import pytest
import torch
from PIL import Image
from reference import BICUBIC_X4

import utils
from imresize import imresize
from metrics import calc_psnr, calc_ssim
from utils import convert_image, load_image, modcrop, run_main


def _bicubic_scores(root, set_name):
    psnrs, ssims = [], []
    for hr_path in sorted((root / set_name / "HR").glob("*.png")):
        hr = modcrop(load_image(hr_path), 4)
        lr_path = root / set_name / "LR_bicubic" / "X4" / f"{hr_path.stem}x4.png"
        lr = load_image(lr_path) if lr_path.exists() else imresize(hr, scale=0.25)
        sr = imresize(lr, scale=4)
        psnrs.append(calc_psnr(sr, hr))
        ssims.append(calc_ssim(sr, hr))
    return np.mean(psnrs), np.mean(ssims)


@pytest.mark.parametrize("set_name", list(BICUBIC_X4))
def test_bicubic_baseline_matches_reference_table(shared_set, set_name):
    psnr, ssim = _bicubic_scores(shared_set(set_name), set_name)
    assert psnr == pytest.approx(BICUBIC_X4[set_name][0], abs=0.005)
    assert ssim == pytest.approx(BICUBIC_X4[set_name][1], abs=0.0005)


def test_butterfly_single_image_reference(shared_data):
    hr = load_image(shared_data / "Set5" / "HR" / "butterfly.png")
    sr = imresize(load_image(shared_data / "Set5" / "LR_bicubic" / "X4" / "butterflyx4.png"), scale=4)
    assert calc_psnr(sr, hr) == pytest.approx(22.100, abs=0.001)
    assert calc_ssim(sr, hr) == pytest.approx(0.7375, abs=0.0001)
    # the pitfalls of REFERENCE.md give other numbers: RGB PSNR, no crop, skimage's default SSIM
    assert abs(calc_psnr(sr, hr, crop_border=0) - 22.100) > 0.01


def test_psnr_is_skimages_psnr_on_skimages_y_with_the_border_cropped():
    from skimage import data
    from skimage.color import rgb2ycbcr
    from skimage.metrics import peak_signal_noise_ratio

    hr = data.astronaut()
    sr = imresize(imresize(hr, scale=0.25), scale=4)
    expected = peak_signal_noise_ratio(rgb2ycbcr(hr)[4:-4, 4:-4, 0], rgb2ycbcr(sr)[4:-4, 4:-4, 0], data_range=255)
    assert calc_psnr(sr, hr) == pytest.approx(expected, abs=1e-9)
    assert 20 < calc_psnr(sr, hr) < 40 and abs(calc_psnr(sr, hr, crop_border=0) - expected) > 0.01


def test_only_the_cropped_border_may_differ():
    from skimage import data

    hr = data.astronaut()
    framed = hr.copy()
    framed[:4], framed[-4:], framed[:, :4], framed[:, -4:] = 0, 255, 0, 255
    assert calc_psnr(framed, hr) == float("inf") and calc_ssim(framed, hr) == pytest.approx(1.0)
    assert calc_psnr(framed, hr, crop_border=0) < 30 and calc_ssim(framed, hr, crop_border=0) < 0.99
    assert calc_psnr(framed, hr, crop_border=3) < 40


def test_ssim_of_two_flat_greys_is_the_luminance_term():
    """Flat images have no variance, so SSIM is ``(2 a b + C1) / (a^2 + b^2 + C1)`` of their Y levels a, b, with
    ``C1 = (0.01 * 255)^2``."""
    a, b = 16 + 219 * 100 / 255, 16 + 219 * 140 / 255
    c1 = (0.01 * 255) ** 2
    ssim = calc_ssim(np.full((32, 32), 100, np.uint8), np.full((32, 32), 140, np.uint8))
    assert ssim == pytest.approx((2 * a * b + c1) / (a ** 2 + b ** 2 + c1), abs=1e-9)
    assert ssim == pytest.approx(0.95923, abs=1e-5)


def test_psnr_formula_and_identity():
    a = np.zeros((20, 20), np.uint8)
    b = a.copy()
    b[4:16, 4:16] = 1  # gray: Y differs by 219/255 inside the crop
    expected = 10 * np.log10(255 ** 2 / (219 / 255) ** 2)
    assert calc_psnr(a, b) == pytest.approx(expected, abs=1e-9)
    assert calc_psnr(a, a) == float("inf")
    assert calc_ssim(a, a) == pytest.approx(1.0)


def test_gray_counts_as_r_equals_g_equals_b():
    rng = np.random.default_rng(1)
    gray, other = rng.integers(0, 256, (2, 40, 40), dtype=np.uint8)
    rgb = np.repeat(gray[:, :, None], 3, axis=2)
    assert calc_psnr(gray, other) == calc_psnr(rgb, np.repeat(other[:, :, None], 3, axis=2))
    assert np.allclose(convert_image(gray, "uint8", "y"), 16 + 219 * gray.astype(np.float64) / 255)


def test_metrics_refuse_mismatched_or_tiny_images():
    with pytest.raises(ValueError, match="shape"):
        calc_psnr(np.zeros((20, 20, 3), np.uint8), np.zeros((20, 24, 3), np.uint8))
    with pytest.raises(ValueError, match="small"):
        calc_ssim(np.zeros((16, 16, 3), np.uint8), np.zeros((16, 16, 3), np.uint8))


def test_convert_image_round_trips_and_ranges():
    rng = np.random.default_rng(2)
    array = rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)
    unit = convert_image(array, "uint8", "[0, 1]")
    assert unit.shape == (3, 12, 10) and unit.dtype == torch.float32 and 0 <= unit.min() and unit.max() <= 1
    signed = convert_image(array, "uint8", "[-1, 1]")
    assert -1 <= signed.min() and signed.max() <= 1
    for source, tensor in [("[0, 1]", unit), ("[-1, 1]", signed)]:
        assert np.array_equal(convert_image(tensor, source, "uint8"), array)
        assert np.array_equal(convert_image(tensor[None], source, "uint8")[0], array)  # batches too
    imagenet = convert_image(signed, "[-1, 1]", "imagenet")
    assert torch.allclose(convert_image(imagenet, "imagenet", "[0, 1]"), unit, atol=1e-6)
    assert torch.allclose(imagenet[0], (unit[0] - 0.485) / 0.229)
    assert np.array_equal(convert_image(convert_image(array, "uint8", "pil"), "pil", "uint8"), array)
    y_tensor = convert_image(unit.double(), "[0, 1]", "y")
    assert np.allclose(y_tensor.numpy(), convert_image(array, "uint8", "y"))
    # out-of-range SR output is clamped when quantised
    assert convert_image(torch.full((3, 2, 2), 1.5), "[-1, 1]", "uint8").max() == 255
    with pytest.raises(ValueError, match="unknown"):
        convert_image(array, "uint8", "bgr")


def test_ycbcr_is_matlabs_rgb2ycbcr():
    from skimage.color import rgb2ycbcr  # the same BT.601 "studio swing" matrix as MATLAB, from another library

    array = np.random.default_rng(0).integers(0, 256, (6, 7, 3), dtype=np.uint8)
    ycbcr = convert_image(array, "uint8", "ycbcr")
    assert np.allclose(ycbcr, rgb2ycbcr(array), atol=1e-9)
    assert np.allclose(ycbcr[..., 0], convert_image(array, "uint8", "y"), rtol=0, atol=1e-12)
    # tensors, single and batched, from [-1, 1] as G's output: the same numbers, channels first
    image = convert_image(array, "uint8", "[-1, 1]").double()
    assert torch.allclose(convert_image(image, "[-1, 1]", "ycbcr").permute(1, 2, 0), torch.from_numpy(ycbcr),
                          atol=1e-9)
    batch = convert_image(image[None].expand(2, -1, -1, -1), "[-1, 1]", "ycbcr")
    assert batch.shape == (2, 3, 6, 7) and torch.allclose(batch[1].permute(1, 2, 0), torch.from_numpy(ycbcr),
                                                          atol=1e-9)


def test_load_image_converts_every_mode_to_rgb_uint8(tmp_path):
    gray = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    Image.fromarray(gray).save(tmp_path / "gray.png")
    Image.fromarray(gray).convert("P").save(tmp_path / "palette.png")
    rgba = np.dstack([np.repeat(gray[:, :, None], 3, 2), np.zeros_like(gray)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    Image.fromarray(gray.astype(np.uint16) * 257).save(tmp_path / "deep.png")  # 16-bit gray
    for name in ["gray", "palette", "rgba", "deep"]:
        image = load_image(tmp_path / f"{name}.png")
        assert image.dtype == np.uint8 and image.shape == (8, 8, 3), name
        assert np.array_equal(image[:, :, 0], gray) and np.array_equal(image[:, :, 2], gray), name


def test_load_image_names_the_bad_file(tmp_path):
    (tmp_path / "notes.png").write_text("not an image")
    truncated = tmp_path / "cut.png"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8) + 9).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:60])
    for path in [tmp_path / "notes.png", truncated, tmp_path / "missing.png"]:
        with pytest.raises(ValueError, match=path.name):
            load_image(path)


def test_modcrop_top_left():
    image = np.arange(7 * 10).reshape(7, 10)
    assert np.array_equal(modcrop(image, 4), image[:4, :8])


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "last.pth"
    utils.save_checkpoint({"epoch": 1, "weight": torch.ones(3)}, path)

    def broken_save(obj, file):  # a crash (or a full disk) half way through writing
        with open(file, "wb") as handle:
            handle.write(b"partial")
        raise OSError("No space left on device")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        utils.save_checkpoint({"epoch": 2, "weight": torch.zeros(3)}, path)
    monkeypatch.undo()
    state = utils.load_checkpoint(path)
    assert state["epoch"] == 1 and torch.equal(state["weight"], torch.ones(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pth"]  # no temporary file left behind


def test_load_checkpoint_names_missing_or_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        utils.load_checkpoint(tmp_path / "nope.pth")
    (tmp_path / "junk.pth").write_bytes(b"junk")
    with pytest.raises(ValueError, match="junk.pth"):
        utils.load_checkpoint(tmp_path / "junk.pth")


@pytest.mark.parametrize("error", [ModuleNotFoundError("the EfficientNet-Lite0 content loss needs the package x"),
                                   OSError("Could not get the ImageNet VGG19 weights"),
                                   MemoryError("CUDA out of memory even with 128-pixel tiles")])
def test_a_command_line_prints_what_the_machine_lacks_in_one_line(error, capsys, monkeypatch):
    monkeypatch.delenv("SRGAN_TRACEBACK", raising=False)

    def main(argv):
        raise error

    assert run_main(main, []) == 1
    assert capsys.readouterr().err == f"error: {error}\n"  # no traceback


def test_an_error_without_a_message_is_named_by_its_type(capsys, monkeypatch):
    monkeypatch.delenv("SRGAN_TRACEBACK", raising=False)

    def main(argv):
        raise MemoryError()

    assert run_main(main, []) == 1 and capsys.readouterr().err == "error: MemoryError\n"


def test_get_device_refuses_cuda_on_a_machine_without_it(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert utils.get_device("auto") == utils.get_device(None) == torch.device("cpu")
    with pytest.raises(ValueError, match="device 'cuda:1': CUDA is not available"):  # not torch's RuntimeError
        utils.get_device("cuda:1")


def test_constant_like_takes_the_dtype_and_device_of_its_model_exactly():
    like64 = torch.zeros(2, dtype=torch.float64)
    values = utils.constant_like(utils.Y_COEFFICIENTS, like64)  # built in float64: no float32 rounding on the way
    assert values.dtype == torch.float64 and values.tolist() == list(utils.Y_COEFFICIENTS)
    mask = utils.constant_like(torch.tensor([True, False]), torch.zeros(1, dtype=torch.float16))
    assert mask.dtype == torch.float16 and mask.tolist() == [1.0, 0.0]

"""The spectral diagnostics metrics.calc_grid_score / calc_texture_score (HR = 1) and metrics.calc_added_energy (grey
levels RMS), on synthetic and real images."""
import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from imresize import imresize
from metrics import (
    TEXTURE_CUTOFF,
    _power_spectrum,
    calc_added_energy,
    calc_grid_score,
    calc_spectral_scores,
    calc_texture_score,
    grid_point_masks,
)
from utils import load_image, modcrop


def _natural_image(size=128, seed=0):
    """A gray image with a natural 1/f amplitude spectrum, grey levels 20..235, as uint8 ``HxWx3``."""
    rng = np.random.default_rng(seed)
    fy, fx = np.fft.fftfreq(size)[:, None], np.fft.fftfreq(size)[None, :]
    amplitude = 1 / np.maximum(np.hypot(fy, fx), 1 / size)
    image = np.real(np.fft.ifft2(np.fft.fft2(rng.standard_normal((size, size))) * amplitude))
    image = 20 + 215 * (image - image.min()) / (image.max() - image.min())
    return np.repeat(np.round(image).astype(np.uint8)[:, :, None], 3, axis=2)


def _with_pattern(image, period, grey=2, seed=1):
    """``image`` plus a random pattern repeating every ``period`` pixels, +-``grey`` grey levels (R = G = B)."""
    tile = np.random.default_rng(seed).choice([-grey, grey], size=(period, period))
    pattern = np.tile(tile, (image.shape[0] // period + 1, image.shape[1] // period + 1))
    pattern = pattern[:image.shape[0], :image.shape[1], None]
    return np.clip(image.astype(int) + pattern, 0, 255).astype(np.uint8)


def _blurred(image, sigma=1.5):
    return np.round(gaussian_filter(image.astype(float), sigma=(sigma, sigma, 0))).astype(np.uint8)


def _bicubic(hr):
    return imresize(imresize(hr, 0.25), 4)


def test_hr_scores_exactly_one():
    hr = _natural_image()
    assert calc_grid_score(hr, hr) == 1.0 and calc_texture_score(hr, hr) == 1.0
    assert calc_spectral_scores(hr, hr) == (1.0, 1.0)
    flat = np.full((64, 48, 3), 128, np.uint8)  # no energy at all: the floors keep the ratio defined
    assert calc_spectral_scores(flat, flat) == (1.0, 1.0)


@pytest.mark.parametrize("period", [4, 2])
def test_a_faint_periodic_pattern_raises_the_grid_score_not_the_texture(period):
    hr = _natural_image()
    gridded = _with_pattern(hr, period)
    grid, texture = calc_spectral_scores(gridded, hr)
    assert grid > 1.5
    assert texture == pytest.approx(1.0, abs=0.1)
    assert calc_grid_score(_with_pattern(hr, 3), hr) < 1.2  # a period that is not a grid of the x4 upscaling
    assert calc_grid_score(_with_pattern(hr, period, grey=6), hr) > grid  # a stronger grid scores higher


@pytest.mark.parametrize("shape", [(64, 64), (67, 61)])
def test_each_grid_point_mask_holds_its_cosine(shape):
    """A cosine at (ky/4, kx/4) cycles/pixel puts its (Hann-windowed) energy in the masks of (ky, kx) and its mirror
    (-ky, -kx), also for odd sides, where the frequency falls between DFT bins; every mask mirrors another."""
    masks = grid_point_masks(*shape)
    assert len(masks) == 15
    rows, cols = np.indices(shape)
    for (ky, kx), mask in masks.items():
        mirror = ((4 - ky) % 4, (4 - kx) % 4)
        power, _ = _power_spectrum(np.cos(2 * np.pi * (ky * rows + kx * cols) / 4))
        assert power[mask | masks[mirror]].sum() > 0.99 * power.sum()
        negated = np.roll(mask[::-1, ::-1], 1, axis=(0, 1))  # bin j -> bin -j (mod n): frequency f -> -f
        assert np.array_equal(negated, masks[mirror])


def test_over_smooth_images_have_a_low_texture_score():
    hr = _natural_image(256)
    for smooth in (_blurred(hr), _bicubic(hr)):
        grid, texture = calc_spectral_scores(smooth, hr)
        assert texture < 0.5 and grid < 1.2
    noisy = np.clip(hr + np.random.default_rng(2).normal(0, 16, hr.shape[:2] + (1,)), 0, 255).astype(np.uint8)
    assert calc_texture_score(noisy, hr) > 1.5  # energy, not correctness: noise counts as texture


def test_mismatched_or_corrupt_pairs_raise_a_clear_error():
    hr = _natural_image(64)
    with pytest.raises(ValueError, match="differ in shape"):
        calc_grid_score(hr[:60], hr)
    with pytest.raises(ValueError, match="differ in shape"):
        calc_texture_score(hr, hr[:, :, :2])
    with pytest.raises(ValueError, match="uint8"):
        calc_grid_score(hr.astype(np.float32), hr.astype(np.float32))  # e.g. a [0, 1] image passed by mistake
    with pytest.raises(ValueError, match="HxW or HxWx3"):
        calc_texture_score(hr[:, :, :2], hr[:, :, :2])
    with pytest.raises(ValueError, match="too small for the spectral scores"):
        calc_grid_score(hr[:20, :20], hr[:20, :20])


def test_real_images(shared_data):
    """On the Set5 HR images: a 2-grey-level 4-pixel pattern, a blur and the bicubic x4 upscaling."""
    for path in sorted((shared_data / "Set5" / "HR").glob("*.png")):
        hr = modcrop(load_image(path), 4)
        assert calc_spectral_scores(hr, hr) == (1.0, 1.0)
        grid, texture = calc_spectral_scores(_with_pattern(hr, 4), hr)
        assert grid > 1.5 and texture == pytest.approx(1.0, abs=0.1), path.name
        assert calc_texture_score(_blurred(hr), hr) < 0.5, path.name
        lr = load_image(shared_data / "Set5" / "LR_bicubic" / "X4" / f"{path.stem}x4.png")
        grid, texture = calc_spectral_scores(imresize(lr, 4), hr)
        assert texture < 0.2 and grid < 1.2, path.name


def _grating(shape, cycles_y, cycles_x, amplitude):
    """``amplitude * sin(2 pi (fy y + fx x))`` as float ``HxW``."""
    rows, cols = np.indices(shape)
    return amplitude * np.sin(2 * np.pi * (cycles_y * rows + cycles_x * cols))


def test_added_energy_reads_the_rms_of_an_added_pattern_above_the_lr_nyquist():
    hr = _natural_image(200)
    assert calc_added_energy(hr, hr) == (0.0, 0.0)
    y_gain = 219 / 255  # R = G = B = v gives Y = 16 + 219 v / 255: the pattern's amplitude in Y
    for fy, fx in ((0.2, 0.2), (0.3, 0.0), (0.15, 0.1)):  # a mesh, stripes: all above 1/8 cycles/pixel
        for amplitude in (2, 6):
            meshed = hr + _grating(hr.shape[:2], fy, fx, amplitude)[:, :, None]
            meshed = np.clip(meshed, 0, 255).round().astype(np.uint8)
            added, chroma = calc_added_energy(meshed, hr)
            assert added == pytest.approx(amplitude * y_gain / np.sqrt(2), rel=0.15), (fy, fx, amplitude)
            assert chroma < 0.1
    low = np.clip(hr + _grating(hr.shape[:2], 0.05, 0.0, 6)[:, :, None], 0, 255).round().astype(np.uint8)
    assert calc_added_energy(low, hr)[0] < 0.5  # below the LR's Nyquist frequency: the LR holds it, not "added"
    assert calc_added_energy(_blurred(hr), hr)[0] < 0.3  # detail removed is not detail added



def test_added_energy_of_another_draw_of_the_hrs_own_texture_is_about_0_43_of_its_rms():
    """The score's floor: the same stationary texture drawn twice (equal spectra, independent phases) is not 0, but
    about 0.43 times the HR texture's RMS above the LR's Nyquist frequency (the bin-to-bin noise of two spectrum
    estimates): compare models with each other, not with 0."""
    rng = np.random.default_rng(0)
    size = 256
    band = np.maximum(*np.meshgrid(*[np.abs(np.fft.fftfreq(size - 8))] * 2, indexing="ij")) > TEXTURE_CUTOFF
    ratios = []
    for _ in range(3):
        hr, sr = (np.clip(128 + 20 * t / t.std(), 0, 255).round().astype(np.uint8)
                  for t in (gaussian_filter(rng.standard_normal((size, size)), 0.8) for _ in range(2)))
        spectrum = np.fft.fft2(hr[4:-4, 4:-4] - hr[4:-4, 4:-4].mean())  # the 4-px border crop, as the score's
        band_rms = np.sqrt(np.sum(np.abs(spectrum[band]) ** 2)) / spectrum.size * 219 / 255  # Parseval, in Y
        ratios.append(calc_added_energy(sr, hr)[0] / band_rms)
    assert ratios == pytest.approx([0.43] * 3, abs=0.04)

def test_added_chroma_sees_colour_speckle_and_not_grey_noise():
    hr = _natural_image(128)
    rng = np.random.default_rng(0)
    speckle = rng.normal(0, 4, hr.shape[:2])[:, :, None] * np.array([1.0, -1.0, 1.0])  # colour, little luma
    grey = rng.normal(0, 4, hr.shape[:2])[:, :, None] * np.ones(3)
    added, chroma = calc_added_energy(np.clip(hr + speckle, 0, 255).round().astype(np.uint8), hr)
    assert chroma > 3 and added < chroma / 3
    added, chroma = calc_added_energy(np.clip(hr + grey, 0, 255).round().astype(np.uint8), hr)
    assert added > 3 and chroma < 0.2
    with pytest.raises(ValueError, match="too small for the added-energy score"):
        calc_added_energy(hr[:20, :60], hr[:20, :60])
    narrow = calc_added_energy(np.clip(hr + grey, 0, 255).round().astype(np.uint8)[:40], hr[:40])  # one tile high
    assert narrow[0] > 3 and narrow[1] < 0.2
    with pytest.raises(ValueError, match="differ in shape"):
        calc_added_energy(hr[:100], hr)

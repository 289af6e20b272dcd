"""Small shared helpers: the scale and test sets (``SCALE``, ``DEFAULT_TEST_SETS``), reading and converting images,
the PSNR/SSIM metrics and spectral grid/texture scores, checkpoints.

Image representations used everywhere in this project (``convert_image`` goes between any two):

========== ============================================================================
``pil``     ``PIL.Image`` in mode RGB
``uint8``   numpy ``uint8`` array ``HxWx3`` (RGB, 0..255); the canonical on-disk form
``[0, 1]``  float tensor ``(3, H, W)`` or ``(N, 3, H, W)``; the generator's input (LR)
``[-1, 1]`` float tensor, same shapes; the generator's output and the HR target, as the paper
``imagenet`` float tensor, same shapes, ``([0, 1] - mean) / std`` with ImageNet statistics (VGG input)
``lite``    float tensor, same shapes, ``(255 [0, 1] - 127) / 128`` (EfficientNet-Lite input)
``y``       luma of ITU-R BT.601 as MATLAB ``rgb2ycbcr``: float, range 16..235, shape ``HxW``
            (numpy float64 from ``pil``/``uint8``) or ``(H, W)``/``(N, H, W)`` (tensor from tensors)
``ycbcr``   MATLAB ``rgb2ycbcr`` (not rounded): numpy float64 ``HxWx3``, Y in 16..235, Cb and Cr in 16..240;
            from ``pil``/``uint8`` only
========== ============================================================================
"""
import contextlib
import csv
import os
import sys
import tempfile

import numpy as np
import scipy.ndimage
import torch
from PIL import Image
from skimage.metrics import structural_similarity

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# MATLAB rgb2ycbcr for R, G, B in 0..255: Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255,
# Cb = 128 + (-37.797 R - 74.203 G + 112 B) / 255, Cr = 128 + (112 R - 93.786 G - 18.214 B) / 255.
YCBCR_MATRIX = np.array([[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]]) / 255
YCBCR_OFFSET = np.array([16.0, 128.0, 128.0])
Y_COEFFICIENTS, Y_OFFSET = tuple(YCBCR_MATRIX[0]), float(YCBCR_OFFSET[0])

SOURCES = ("pil", "uint8", "[0, 1]", "[-1, 1]", "imagenet", "lite")
REPRESENTATIONS = SOURCES + ("y", "ycbcr")

# The project's super-resolution factor, and its test sets (each a data list <lists>/<set>.csv) in table order.
SCALE = 4
DEFAULT_TEST_SETS = ("DIV2K-valid", "Set5", "Set14", "B100", "Urban100")


# ----------------------------------------------------------------------------------------------
# Reading and writing images
# ----------------------------------------------------------------------------------------------
def load_image(path):
    """Read an image file as a numpy ``uint8`` array ``HxWx3`` (RGB).

    Every format is converted predictably: gray (``L``, ``1``) is copied to R = G = B; palette images
    are expanded to their colours; the alpha channel of ``RGBA``/``LA``/``PA`` is dropped (its colour
    values are kept as stored); 16-bit gray images are scaled from 0..65535 to 0..255
    (``round(v * 255 / 65535)``); CMYK and YCbCr go through PIL's RGB conversion.

    Raises:
        ValueError: naming the file, when it is missing, not an image or corrupt.
    """
    try:
        with Image.open(path) as image:
            image.load()
            return _pil_to_rgb_array(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ValueError(f"{path}: cannot read as an image ({error})") from error


def _pil_to_rgb_array(image):
    """A decoded PIL image of any mode -> ``uint8`` array ``HxWx3``."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        values = np.asarray(image, dtype=np.float64)  # 16-bit gray (PIL opens such PNGs as I;16 or I)
        gray = np.clip(np.floor(values * 255.0 / 65535.0 + 0.5), 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if image.mode == "F":
        raise ValueError(f"floating-point image mode 'F' is not supported (size {image.size})")
    if image.mode == "P":
        image = image.convert("RGBA") if "transparency" in image.info else image.convert("RGB")
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


@contextlib.contextmanager
def atomic_path(path):
    """Write a file atomically: yields a temporary path in the same folder to write to; when the block
    ends without an error the file is flushed to disk and renamed over ``path``, else it is removed.
    A crash, Ctrl-C or full disk never leaves ``path`` half-written (the previous version stays)."""
    path = os.fspath(path)
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=directory)
    os.close(fd)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as file:
            os.fsync(file.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes it private (0600); give it the usual mode
        os.replace(tmp_path, path)
    finally:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)


def write_csv(path, rows, columns=None):
    """Write a list of dicts as a CSV file, atomically; ``columns`` default to the keys of all rows."""
    columns = columns or list(dict.fromkeys(key for row in rows for key in row))
    with atomic_path(path) as tmp_path, open(tmp_path, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def save_image(path, img):
    """Write a ``uint8`` ``HxWx3`` (or ``HxW``) array as an image file (format from the extension), atomically."""
    with atomic_path(path) as tmp_path:
        Image.fromarray(np.asarray(img, dtype=np.uint8)).save(tmp_path)


def lr_size(hr_shape, scale=SCALE):
    """``(height, width)`` of the LR image that goes with an HR of ``hr_shape`` (``(H, W, ...)``):
    ``floor(HR / scale)`` in each dimension, as MATLAB ``imresize(hr, 1/scale)`` gives."""
    return hr_shape[0] // scale, hr_shape[1] // scale


def modcrop(img, scale=SCALE):
    """Crop an ``HxW[xC]`` array at the top-left to a multiple of ``scale`` (MATLAB ``modcrop``)."""
    height, width = img.shape[0] - img.shape[0] % scale, img.shape[1] - img.shape[1] % scale
    return img[:height, :width]


# ----------------------------------------------------------------------------------------------
# Converting between representations
# ----------------------------------------------------------------------------------------------
def convert_image(img, source, target):
    """Convert an image between the representations listed in this module's docstring.

    ``source`` is one of ``SOURCES`` (``pil``, ``uint8``, ``[0, 1]``, ``[-1, 1]``, ``imagenet``, ``lite``);
    ``target`` any of those, ``y`` or ``ycbcr`` (``ycbcr`` from ``pil``/``uint8`` only). Tensor targets keep the
    tensor's device and float dtype (uint8 sources give float32 tensors). ``uint8``/``pil`` targets from tensors
    clamp, round and return numpy ``HxWx3`` (``NxHxWx3`` for a batch; ``pil`` needs a single image). A gray ``HxW``
    uint8 array counts as R = G = B.
    """
    if source not in SOURCES or target not in REPRESENTATIONS:
        raise ValueError(f"convert_image: unknown source {source!r} or target {target!r}; "
                         f"choose from {REPRESENTATIONS}")
    if source == target:
        return img

    if source in ("pil", "uint8"):
        array = _pil_to_rgb_array(img) if source == "pil" else as_rgb(img)
        if target == "uint8":
            return array
        if target == "pil":
            return Image.fromarray(array)
        if target == "y":
            return Y_OFFSET + array.astype(np.float64) @ np.array(Y_COEFFICIENTS)
        if target == "ycbcr":
            return YCBCR_OFFSET + array.astype(np.float64) @ YCBCR_MATRIX.T
        unit = torch.from_numpy(array).permute(2, 0, 1).float().div(255.0)
    else:  # a float tensor: bring it to [0, 1] first
        unit = img
        if source == "[-1, 1]":
            unit = (img + 1.0) / 2.0
        elif source == "imagenet":
            unit = img * _imagenet_stats(img, IMAGENET_STD) + _imagenet_stats(img, IMAGENET_MEAN)
        elif source == "lite":
            unit = (img * 128.0 + 127.0) / 255.0

    if target == "[0, 1]":
        return unit
    if target == "[-1, 1]":
        return unit * 2.0 - 1.0
    if target == "imagenet":
        return (unit - _imagenet_stats(unit, IMAGENET_MEAN)) / _imagenet_stats(unit, IMAGENET_STD)
    if target == "lite":
        return (unit * 255.0 - 127.0) / 128.0
    if target == "ycbcr":
        raise ValueError(f"convert_image: target 'ycbcr' needs a pil or uint8 image, not {source!r}")
    if target == "y":
        weights = torch.tensor(Y_COEFFICIENTS, dtype=unit.dtype, device=unit.device).view(3, 1, 1)
        return Y_OFFSET + (unit * 255.0 * weights).sum(dim=-3)
    # target uint8 or pil: quantise as if saved to a PNG file
    array = (unit.detach().float().clamp(0, 1) * 255.0).round().to(torch.uint8).cpu()
    array = array.movedim(-3, -1).numpy()
    if target == "uint8":
        return array
    if array.ndim != 3:
        raise ValueError(f"convert_image: target 'pil' needs one image, got shape {tuple(unit.shape)}")
    return Image.fromarray(array)


def as_rgb(array):
    """A ``uint8`` image ``HxW`` (gray) or ``HxWx3`` -> ``HxWx3`` RGB (gray copied to R = G = B); ``ValueError``
    for anything else."""
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image array, got dtype {array.dtype}")
    if array.ndim == 2:
        return np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim == 3 and array.shape[2] == 3:
        return array
    raise ValueError(f"expected a uint8 image of shape HxW or HxWx3, got {array.shape}")


def _imagenet_stats(like, values):
    return torch.tensor(values, dtype=like.dtype, device=like.device).view(3, 1, 1)


# ----------------------------------------------------------------------------------------------
# Metrics (the protocol of the published SR tables: README.md, "Evaluation protocol")
# ----------------------------------------------------------------------------------------------
def _y_pair(img1, img2, crop_border):
    """Two uint8 RGB (or gray) images -> their float64 Y channels, ``crop_border`` px cut off each side."""
    img1, img2 = np.asarray(img1), np.asarray(img2)
    if img1.shape != img2.shape:
        raise ValueError(f"images to compare differ in shape: {img1.shape} and {img2.shape}")
    y1, y2 = convert_image(img1, "uint8", "y"), convert_image(img2, "uint8", "y")
    if crop_border:
        inside = (slice(crop_border, -crop_border), slice(crop_border, -crop_border))
        y1, y2 = y1[inside], y2[inside]
    if y1.size == 0:
        raise ValueError(f"image of shape {img1.shape} is too small for a {crop_border}-pixel border crop")
    return y1, y2


def calc_psnr(img1, img2, crop_border=4):
    """PSNR in dB on the Y channel (float, BT.601 as MATLAB), ``crop_border`` pixels cropped from each side.

    Args:
        img1, img2: ``uint8`` arrays ``HxWx3`` (RGB) or ``HxW`` (gray, counted as R = G = B), same shape.
    Returns:
        ``10 log10(255^2 / MSE)`` as a Python float; ``inf`` for identical images.
    """
    y1, y2 = _y_pair(img1, img2, crop_border)
    mse = np.mean((y1 - y2) ** 2)
    return float("inf") if mse == 0 else float(10.0 * np.log10(255.0 ** 2 / mse))


def calc_ssim(img1, img2, crop_border=4):
    """SSIM on the Y channel as Wang et al. 2004 ``ssim_index`` (11x11 Gaussian window, sigma 1.5,
    K1 = 0.01, K2 = 0.03, L = 255, population covariance), ``crop_border`` pixels cropped from each side.

    Args:
        img1, img2: ``uint8`` arrays ``HxWx3`` (RGB) or ``HxW`` (gray), same shape, at least 11x11 after the crop.
    Returns:
        The mean SSIM as a Python float in [-1, 1].
    """
    y1, y2 = _y_pair(img1, img2, crop_border)
    if min(y1.shape) < 11:
        raise ValueError(f"image of shape {np.asarray(img1).shape} is too small for SSIM's 11x11 window")
    return float(structural_similarity(y1, y2, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                       data_range=255))


# Spectral diagnostics (not in the published tables): how much of a 2-/4-pixel grid and of fine texture an SR image
# has, relative to its HR. Both compare windowed power spectra of the Y channels (``_power_spectrum``).
GRID_PERIOD = 4          # px: two x2 sub-pixel convolutions (and stride-2 layers) repeat every 4 (and 2) pixels
GRID_RADIUS_BINS = 1.5   # DFT bins within this distance of a grid frequency count as "grid"
TEXTURE_CUTOFF = 1 / 8   # cycles/pixel: the Nyquist frequency of the x4 LR image; above it, detail is invented
FLOOR_GREY = 0.5         # grey levels RMS: patterns weaker than half a uint8 step are not counted
MIN_SPECTRUM_SIDE = 16   # pixels after the border crop


def _power_spectrum(y):
    """``|FFT2|^2`` of a Y channel after removing its mean and applying a 2-D Hann window; also the window's
    ``sum(w^2)``. The window tapers the borders to 0, so the image's edges (a jump, for the periodic DFT) do not
    leak energy to every frequency; a pattern that repeats exactly at a DFT bin then stays within +-1 bin."""
    window = np.outer(np.hanning(y.shape[0]), np.hanning(y.shape[1]))
    return np.abs(np.fft.fft2((y - y.mean()) * window)) ** 2, float(np.sum(window ** 2))


def _near_grid_frequency(n, k):
    """Per 1-D DFT bin ``j`` of ``n`` (``j/n`` cycles/pixel, wrapping around at 1): whether it lies within
    ``GRID_RADIUS_BINS`` of ``k/4`` cycles/pixel. Exact: computed in integers (4 x the distance in bins)."""
    offset = (GRID_PERIOD * np.arange(n) - k * n) % (GRID_PERIOD * n)
    return np.minimum(offset, GRID_PERIOD * n - offset) <= GRID_PERIOD * GRID_RADIUS_BINS


def grid_point_masks(height, width):
    """``{(ky, kx): mask}`` for ky, kx = 0..3, not both 0: boolean ``height x width`` masks over the DFT bins within
    ``GRID_RADIUS_BINS`` of ``(ky/4, kx/4)`` cycles/pixel, where a 4- or 2-pixel-periodic pattern puts its energy.
    The radius of 1.5 bins holds a Hann-windowed peak (+-1 bin) when the frequency falls on a bin, as it does for
    modcropped images (sides multiples of 4, also after a 4-px crop), and the two nearest bins each side otherwise."""
    return {(ky, kx): np.outer(_near_grid_frequency(height, ky), _near_grid_frequency(width, kx))
            for ky in range(GRID_PERIOD) for kx in range(GRID_PERIOD) if (ky, kx) != (0, 0)}


def _spectral_masks(height, width):
    """Boolean ``height x width`` masks over the DFT bins: ``grid``, the union of ``grid_point_masks``; ``texture``,
    the bins above the LR Nyquist frequency (``max(|fy|, |fx|) > 1/8``), not in ``grid``."""
    near_y = np.stack([_near_grid_frequency(height, k) for k in range(GRID_PERIOD)])  # (4, height): per k
    near_x = np.stack([_near_grid_frequency(width, k) for k in range(GRID_PERIOD)])
    # the union over (ky, kx) != (0, 0), as two outer products: ky >= 1 with any kx, or ky = 0 with kx >= 1
    grid = np.outer(near_y[1:].any(0), near_x.any(0)) | np.outer(near_y[0], near_x[1:].any(0))
    fy, fx = np.abs(np.fft.fftfreq(height)), np.abs(np.fft.fftfreq(width))
    texture = (np.maximum(fy[:, None], fx[None, :]) > TEXTURE_CUTOFF) & ~grid
    return grid, texture


def calc_spectral_scores(sr, hr, crop_border=4):
    """``(calc_grid_score, calc_texture_score)`` of a pair at the cost of one pair of FFTs (see those two)."""
    y_sr, y_hr = _y_pair(sr, hr, crop_border)
    if min(y_sr.shape) < MIN_SPECTRUM_SIDE:
        raise ValueError(f"image of shape {np.asarray(sr).shape} is too small for the spectral scores (at least "
                         f"{MIN_SPECTRUM_SIDE}x{MIN_SPECTRUM_SIDE} after the {crop_border}-pixel border crop)")
    (power_sr, window_energy), (power_hr, _) = _power_spectrum(y_sr), _power_spectrum(y_hr)
    grid, texture = _spectral_masks(*y_sr.shape)
    # Floors: the energy of a FLOOR_GREY-RMS pattern in the band, a periodic one (all its energy at the grid bins,
    # Parseval: pixels * a^2 * sum(w^2)) for the grid, white noise (a^2 * sum(w^2) per bin) for the texture.
    floors = (y_sr.size * FLOOR_GREY ** 2 * window_energy, texture.sum() * FLOOR_GREY ** 2 * window_energy)
    return tuple(float((power_sr[mask].sum() + floor) / (power_hr[mask].sum() + floor))
                 for mask, floor in zip((grid, texture), floors))


def calc_grid_score(sr, hr, crop_border=4):
    """Grid score: the SR image's spectral energy at the frequencies of a 4- and 2-pixel period, relative to the HR's.

    The x4 sub-pixel convolutions (and a discriminator's stride-2 convolutions) can leave a pattern repeating every
    4 (or 2) pixels; all its energy lies at ``(ky/4, kx/4)`` cycles/pixel, k = 0..3 (``_spectral_masks``). On the
    Y channel, ``crop_border`` px cropped, mean removed, Hann-windowed (``_power_spectrum``), the score is
    ``(E_sr + F) / (E_hr + F)`` over the bins within 1.5 bins of those frequencies. The floor ``F`` is the energy of
    a 4-periodic pattern of 0.5 grey level RMS, half a uint8 step and below visibility: it keeps smooth images (HR
    with almost no energy there, e.g. Set5 baby) from turning an invisible pattern into a large ratio.

    Args:
        sr, hr: ``uint8`` arrays ``HxWx3`` (RGB) or ``HxW`` (gray), same shape, at least 16x16 after the crop.
    Returns:
        A Python float: 1 for the HR itself; about 1 or below for a clean result (an over-smooth one has less
        energy there than the HR); well above 1 when a grid is visible (5 for a pattern of 1 grey level RMS on
        a flat image).
    Raises:
        ValueError: images of different shapes, not ``uint8`` HxW(x3), or too small.
    """
    return calc_spectral_scores(sr, hr, crop_border)[0]


def calc_texture_score(sr, hr, crop_border=4):
    """Texture score: the SR image's high-frequency energy relative to the HR's, outside the grid frequencies.

    The band is every frequency the x4 LR image cannot hold, ``max(|fy|, |fx|) > 1/8`` cycles/pixel (its Nyquist
    square), less the grid bins of ``calc_grid_score`` (a grid is not texture). Same Y channel, crop and window;
    ``(E_sr + F) / (E_hr + F)`` with ``F`` the energy of white noise of 0.5 grey level RMS in the band. It measures
    how much detail there is, not whether it is the right detail: noise raises it as well as true texture.

    Args:
        sr, hr: as ``calc_grid_score``.
    Returns:
        A Python float: 1 for the HR itself; well below 1 for over-smooth results (bicubic, MSE-trained models);
        above 1 for results noisier or sharper than the HR.
    Raises:
        ValueError: as ``calc_grid_score``.
    """
    return calc_spectral_scores(sr, hr, crop_border)[1]


# What the SR image adds that the HR lacks, in local spectra: tiles of ADDED_TILE px, half-overlapping, Hann-windowed.
ADDED_TILE = 64
ADDED_SMOOTH_BINS = 5  # each tile's power spectrum is averaged over 5x5 DFT bins before SR and HR are compared


def calc_added_energy(sr, hr, crop_border=4):
    """``(added, added_chroma)``: how strong a pattern the SR image has that the HR lacks, above the LR's Nyquist
    frequency, in grey levels RMS (0 = nothing added).

    Both images are converted to Y, Cb and Cr (MATLAB ``rgb2ycbcr``, 0..255 scale) and cut into 64x64 tiles with a
    32-px step. In each tile and channel, the power spectra of SR and HR (mean removed, Hann window, averaged over
    3x3 bins) are compared bin by bin over the band ``max(|fy|, |fx|) > 1/8`` cycles/pixel that the x4 LR cannot
    hold (the texture band of ``calc_texture_score``, grid bins included); where the SR has more energy than the
    HR, the excess is summed. By Parseval that sum is the mean square of a pattern: ``added`` is its RMS in the
    Y channel (a mesh, noise, a grid: anything at any frequency of that band that the HR does not have there),
    ``added_chroma`` the RMS of the Cb and Cr excesses together (colour speckle). Because the comparison is per tile
    and per frequency, texture missing in one place (an over-smooth SR) does not cancel a pattern added elsewhere.

    Calibration (``tests/test_scores.py``): a sine grating of amplitude a added to the HR reads about ``a / sqrt(2)``
    (its RMS); a texture with exactly the HR's local spectra but other phases still reads about 0.2 to 0.3 times the
    HR texture's RMS (the bin-to-bin noise of a spectrum estimate), so compare models with each other, not with 0.

    Args:
        sr, hr: ``uint8`` arrays ``HxWx3`` (RGB) or ``HxW`` (gray), same shape, at least 16x16 after the crop (a side
            below 64 px is one tile across).
    Returns:
        Two Python floats, grey levels RMS.
    Raises:
        ValueError: images of different shapes or too small.
    """
    sr, hr = np.asarray(sr), np.asarray(hr)
    if sr.shape != hr.shape:
        raise ValueError(f"images to compare differ in shape: {sr.shape} and {hr.shape}")
    ycbcr = [convert_image(image, "uint8", "ycbcr") for image in (sr, hr)]
    if crop_border:
        ycbcr = [image[crop_border:-crop_border, crop_border:-crop_border] for image in ycbcr]
    if min(ycbcr[0].shape[:2]) < MIN_SPECTRUM_SIDE:
        raise ValueError(f"image of shape {sr.shape} is too small for the added-energy score (at least "
                         f"{MIN_SPECTRUM_SIDE}x{MIN_SPECTRUM_SIDE} after the {crop_border}-pixel border crop)")
    tile = [min(ADDED_TILE, side) for side in ycbcr[0].shape[:2]]  # one tile across a side below 64 px
    starts = [range(0, side - size + 1, max(size // 2, 1)) for side, size in zip(ycbcr[0].shape, tile)]
    window = np.outer(np.hanning(tile[0]), np.hanning(tile[1]))
    band = np.maximum(*np.meshgrid(*(np.abs(np.fft.fftfreq(size)) for size in tile), indexing="ij")) > TEXTURE_CUTOFF
    excess = np.zeros(3)  # summed over tiles, per channel
    for y in starts[0]:
        for x in starts[1]:
            power = [_smoothed_power(image[y:y + tile[0], x:x + tile[1]], window) for image in ycbcr]  # SR, HR
            excess += np.where(band, np.maximum(power[0] - power[1], 0), 0).sum(axis=(1, 2))
    # Parseval: sum |DFT|^2 = pixels * sum(x^2); the window weighs the pattern by sum(w^2) / pixels on average.
    mean_square = excess / (len(starts[0]) * len(starts[1]) * window.size * np.sum(window ** 2))
    return float(np.sqrt(mean_square[0])), float(np.sqrt(mean_square[1] + mean_square[2]))


def _smoothed_power(tile, window):
    """``(3, Th, Tw)``: per channel of a ``ThxTwx3`` tile, ``|FFT2|^2`` of the mean-removed, windowed tile, averaged over
    ``ADDED_SMOOTH_BINS`` x ``ADDED_SMOOTH_BINS`` neighbouring bins (wrapping around, as the spectrum does)."""
    channels = np.moveaxis(tile - tile.mean(axis=(0, 1)), 2, 0) * window
    power = np.abs(np.fft.fft2(channels)) ** 2
    return scipy.ndimage.uniform_filter(power, size=(1, ADDED_SMOOTH_BINS, ADDED_SMOOTH_BINS), mode="wrap")


# ----------------------------------------------------------------------------------------------
# Checkpoints and devices
# ----------------------------------------------------------------------------------------------
def save_checkpoint(state, path):
    """``torch.save`` a dict atomically (``atomic_path``): an interruption or a full disk while writing
    leaves the previous checkpoint intact."""
    with atomic_path(path) as tmp_path:
        torch.save(state, tmp_path)


def generator_weights(checkpoint, moving_average=True):
    """The generator a training checkpoint is used with: its moving average (``generator_ema``, when it was
    trained with ``ema_decay``, unless ``moving_average`` is False), else ``generator``; None when it has neither."""
    return (moving_average and checkpoint.get("generator_ema")) or checkpoint.get("generator")


def load_checkpoint(path, map_location="cpu"):
    """Load a checkpoint written by ``save_checkpoint`` (state_dicts and plain Python values only).

    Raises:
        FileNotFoundError / ValueError: naming the file, when it is missing or not a readable checkpoint.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path}: a folder, not a checkpoint file (give the .pth file in it)")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: checkpoint not found")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises many types for a corrupt or foreign file
        raise ValueError(f"{path}: not a readable checkpoint ({type(error).__name__}: {error})") from error


def get_device(name=None):
    """``torch.device(name)``, or CUDA when available and ``name`` is None/'auto', else the CPU."""
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


# A user's mistake (a missing or malformed file, a wrong setting) raises one of these with a message that
# names the file or the setting; a command line prints that message, not a traceback.
USER_ERRORS = (ValueError, KeyError, OSError, FloatingPointError)


def run_main(main, argv=None):
    """Run a command line's ``main(argv)`` and return its exit status.

    A ``USER_ERRORS`` exception prints ``error: <message>`` (exit 1); Ctrl-C prints ``interrupted`` (exit
    130), after whatever the command itself said. ``SRGAN_TRACEBACK=1`` shows the full traceback instead.
    """
    try:
        return main(argv)
    except (*USER_ERRORS, KeyboardInterrupt) as error:
        if os.environ.get("SRGAN_TRACEBACK"):
            raise
        if isinstance(error, KeyboardInterrupt):
            print("interrupted", file=sys.stderr)
            return 130
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"error: {message}", file=sys.stderr)
        return 1

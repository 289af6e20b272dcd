"""Image quality metrics of a super-resolved image against its HR, all on ``uint8`` arrays ``HxWx3`` (RGB) or ``HxW``
(gray), by the protocol of the published SR tables (README.md, "Evaluation protocol"): the Y channel (ITU-R BT.601 as
MATLAB), a border of ``crop_border`` pixels cut off.

* ``calc_psnr``, ``calc_ssim``: the published tables' distortion measures.
* ``calc_grid_score``, ``calc_texture_score`` (``calc_spectral_scores``: both at once): spectral energy of the SR image
  relative to the HR's at the frequencies of a 4- and 2-pixel grid, and above the LR's Nyquist frequency (HR = 1).
* ``calc_added_energy``: what the SR image has above the LR's Nyquist frequency that the HR lacks, in Y and in colour
  (grey levels RMS).

NIQE, which needs no reference, is ``niqe.calc_niqe``.
"""
import numpy as np
import scipy.ndimage
from skimage.metrics import structural_similarity

from utils import convert_image


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
    ``ADDED_SMOOTH_BINS`` x ``ADDED_SMOOTH_BINS`` = 5x5 bins) are compared bin by bin over the band
    ``max(|fy|, |fx|) > 1/8`` cycles/pixel that the x4 LR cannot hold (the texture band of ``calc_texture_score``,
    grid bins included); where the SR has more energy than the HR, the excess is summed. By Parseval that sum is the
    mean square of a pattern: ``added`` is its RMS in the Y channel (a mesh, noise, a grid: anything at any frequency
    of that band that the HR does not have there), ``added_chroma`` the RMS of the Cb and Cr excesses together (colour
    speckle). Because the comparison is per tile and per frequency, texture missing in one place (an over-smooth SR)
    does not cancel a pattern added elsewhere.

    Calibration (``tests/test_scores.py``): a sine grating of amplitude a added to the HR reads about ``a / sqrt(2)``
    (its RMS); another draw of the HR's own stationary texture (equal spectra, independent phases) still reads about
    0.43 times the RMS of the HR's texture in that band (the bin-to-bin noise of two spectrum estimates), so compare
    models with each other, not with 0.

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
    """``(3, Th, Tw)``: per channel of a ``ThxTwx3`` tile, ``|FFT2|^2`` of the mean-removed, windowed tile, averaged
    over ``ADDED_SMOOTH_BINS`` x ``ADDED_SMOOTH_BINS`` neighbouring bins (wrapping around, as the spectrum does)."""
    channels = np.moveaxis(tile - tile.mean(axis=(0, 1)), 2, 0) * window
    power = np.abs(np.fft.fft2(channels)) ** 2
    return scipy.ndimage.uniform_filter(power, size=(1, ADDED_SMOOTH_BINS, ADDED_SMOOTH_BINS), mode="wrap")

"""NIQE, the "Natural Image Quality Evaluator" (Mittal, Soundararajan and Bovik, IEEE Signal Processing Letters
20(3), 2013): a no-reference score, lower is better, as the authors' MATLAB release computes it
(``computequality.m``, ``computefeature.m``, ``estimateaggdparam.m``). PIRM 2018 ranked SR methods by it.

The algorithm, on the Y channel as MATLAB ``rgb2ycbcr`` makes it from uint8 RGB (rounded to integers):

1. crop the image to whole 96x96 blocks (top-left);
2. at each of two scales (the image, then MATLAB ``imresize(im, 0.5)``, bicubic with antialiasing: ``imresize.py``)
   compute the MSCN coefficients ``(im - mu) / (sigma + 1)``, with ``mu`` and ``sigma`` local means and standard
   deviations under a 7x7 Gaussian window (sigma 7/6, borders replicated);
3. per block (96x96, then 48x48): 18 features: the shape and mean width of an asymmetric generalised Gaussian
   (AGGD, fitted by moment matching against the lookup ``alpha = 0.2:0.001:10``) of the MSCN coefficients, and
   the shape, mean and left/right widths of the AGGD of their products with 4 neighbours (right, below, and the
   two diagonals; shifted circularly within the block);
4. the 36 features of all blocks give a mean and a covariance; the score is the distance of that Gaussian to the
   pristine model's: ``sqrt((mu_p - mu) pinv((cov_p + cov) / 2) (mu_p - mu)')``.

The pristine model (36 means, a 36x36 covariance) was fitted by the authors on 125 pristine photographs. It is
not part of this project: ``load_pristine_model`` reads it from a path you give, or from the cache, or downloads
it once from a public copy; either way it is checked by the SHA-256 of its arrays. Where none is found (offline,
nothing cached), ``load_pristine_model_or_none`` says how to get it and gives None: the tables then show NIQE as n/a.

What NIQE rewards: natural-image statistics, not fidelity. Noise and artefacts can lower (improve) it, so it is
read beside a distortion measure (PSNR) and never used alone to choose a model (Blau and Michaeli 2018).
"""
import hashlib
import os
import urllib.request
from pathlib import Path
from typing import NamedTuple

import numpy as np
import scipy.io
import scipy.ndimage
import scipy.special

from imresize import imresize
from utils import atomic_path, convert_image

BLOCK_SIZE = 96
# SHA-256 of the pristine arrays as little-endian float64: the 36 means, then the 36x36 covariance (row-major).
PRISTINE_SHA256 = "f6284a2b53fd40bbc960472b76ec55b67a299a0270294b804c847e99b8cc1e30"
PRISTINE_FILE = "niqe_pristine_params.npz"
# Public copies of the authors' model: BasicSR's NumPy file (the same numbers as the release's modelparameters.mat).
PRISTINE_URLS = ("https://raw.githubusercontent.com/XPixelGroup/BasicSR/master/basicsr/metrics/niqe_pris_params.npz",)
# What every "not found" message says: where the model comes from and how to pass it.
HOW_TO_GET = ("get niqe_pris_params.npz (BasicSR) or the authors' niqe_release (modelparameters.mat) and pass its "
              "path (niqe_model=PATH, or the environment variable SRGAN_NIQE_MODEL=PATH)")
# Names of the two arrays in the files that hold them: this project's, BasicSR's, the MATLAB release's.
_ARRAY_NAMES = (("mu", "cov"), ("mu_pris_param", "cov_pris_param"), ("mu_prisparam", "cov_prisparam"))
_SHAPES = np.arange(0.2, 10.0005, 0.001)  # MATLAB's gam = 0.2:0.001:10 (9801 values)
_RATIOS = scipy.special.gamma(2 / _SHAPES) ** 2 / (scipy.special.gamma(1 / _SHAPES) * scipy.special.gamma(3 / _SHAPES))


class PristineModel(NamedTuple):
    """The pristine multivariate Gaussian: ``mu`` ``(36,)`` and ``cov`` ``(36, 36)``, float64."""
    mu: np.ndarray
    cov: np.ndarray


def default_cache_folder():
    """Where the downloaded pristine model is kept: ``$XDG_CACHE_HOME/srgan`` (default ``~/.cache/srgan``)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "srgan"


def load_pristine_model(path=None, cache_folder=None, urls=PRISTINE_URLS):
    """The NIQE pristine model, checked by ``PRISTINE_SHA256``.

    Looks, in order, at ``path`` (a ``.npz`` or MATLAB ``.mat`` file, or a folder holding ``niqe_pristine_params.npz``
    or the release's ``modelparameters.mat``), then ``$SRGAN_NIQE_MODEL`` (the same), then
    ``<cache_folder>/niqe_pristine_params.npz``; else downloads it from ``urls`` into the cache (once).

    Raises:
        FileNotFoundError: a given path holds no model, or it is neither cached nor downloadable (the message says
            where to get it and how to pass it).
        ValueError: naming the file, when its arrays are not the authors' model.
    """
    path = path if path is not None else os.environ.get("SRGAN_NIQE_MODEL")
    if path is not None:
        return _read_model(_model_file(Path(path)))
    cached = Path(cache_folder or default_cache_folder()) / PRISTINE_FILE
    if cached.is_file():
        return _read_model(cached)
    errors = []
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                data = response.read()
            with atomic_path(cached) as tmp_path:
                Path(tmp_path).write_bytes(data)
                model = _read_model(Path(tmp_path), name=url)  # checked before it replaces anything
            return model
        except (OSError, ValueError) as error:
            errors.append(f"{url}: {error}")
    raise FileNotFoundError(
        f"NIQE's pristine model is not cached ({cached}) and could not be downloaded ({'; '.join(errors)}): "
        f"{HOW_TO_GET}")


def load_pristine_model_or_none(path=None, **kwargs):
    """``load_pristine_model(path, **kwargs)``, or None where it finds no model (a given path that is not there;
    offline with nothing cached): then it prints one note, ``NIQE n/a: ...``, saying how to get it, and the tables
    go on without NIQE. A file that is there but is not the authors' model still raises ``ValueError``."""
    try:
        return load_pristine_model(path, **kwargs)
    except FileNotFoundError as error:
        print(f"NIQE n/a: {error}")
        return None


def _model_file(path):
    if path.is_dir():
        for name in (PRISTINE_FILE, "niqe_pris_params.npz", "modelparameters.mat"):
            if (path / name).is_file():
                return path / name
        raise FileNotFoundError(f"{path}: no {PRISTINE_FILE}, niqe_pris_params.npz or modelparameters.mat in it; "
                                f"{HOW_TO_GET}")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: NIQE pristine model not found; {HOW_TO_GET}")
    return path


def _read_model(path, name=None):
    """Read and check a pristine model file (``.npz`` or MATLAB ``.mat``)."""
    name = name or path
    try:
        arrays = scipy.io.loadmat(path) if path.suffix == ".mat" else dict(np.load(path))
    except Exception as error:  # numpy and scipy raise many types for a foreign or corrupt file
        raise ValueError(f"{name}: not a readable .npz or .mat file ({type(error).__name__}: {error})") from error
    keys = next((pair for pair in _ARRAY_NAMES if all(key in arrays for key in pair)), None)
    if keys is None:
        raise ValueError(f"{name}: no NIQE model arrays in it (expected one of {_ARRAY_NAMES})")
    mu, cov = (np.asarray(arrays[key], dtype="<f8") for key in keys)
    mu = mu.ravel()
    digest = hashlib.sha256(mu.tobytes() + np.ascontiguousarray(cov).tobytes()).hexdigest()
    if mu.shape != (36,) or cov.shape != (36, 36) or digest != PRISTINE_SHA256:
        raise ValueError(f"{name}: not the NIQE authors' pristine model (shapes {mu.shape}, {cov.shape}; SHA-256 of "
                         f"the arrays {digest[:12]}..., expected {PRISTINE_SHA256[:12]}...)")
    return PristineModel(mu, cov)


# ----------------------------------------------------------------------------------------------
# The score
# ----------------------------------------------------------------------------------------------
def calc_niqe(img, pristine, crop_border=4):
    """NIQE of one image (no reference needed; lower = closer to the pristine photographs' statistics).

    Args:
        img: ``uint8`` array ``HxWx3`` (RGB) or ``HxW`` (gray), at least 96x96 after the crop.
        pristine: the ``PristineModel`` from ``load_pristine_model``.
        crop_border: pixels cut off each side first (4 for x4 SR, as the PSNR protocol and PIRM 2018).
    Returns:
        A Python float (Set14's baboon HR, no crop: 5.7296, as MATLAB).
    Raises:
        ValueError: an image smaller than one 96x96 block after the crop.
    """
    y = np.floor(convert_image(np.asarray(img), "uint8", "y") + 0.5)  # MATLAB's uint8 rgb2ycbcr: rounded
    if crop_border:
        y = y[crop_border:-crop_border, crop_border:-crop_border]
    features = niqe_features(y)
    mu = np.nanmean(features, axis=0)
    complete = features[~np.isnan(features).any(axis=1)]  # MATLAB nancov: rows without NaN
    cov = np.cov(complete, rowvar=False)
    difference = pristine.mu - mu
    return float(np.sqrt(difference @ np.linalg.pinv((pristine.cov + cov) / 2) @ difference))


def niqe_features(y):
    """The 36 NIQE features of every 96x96 block of a gray image ``HxW`` (float, 0..255): ``(blocks, 36)``, the 18
    features of the block at full scale, then the 18 of the same block (48x48) at half scale."""
    rows, columns = y.shape[0] // BLOCK_SIZE, y.shape[1] // BLOCK_SIZE
    if rows == 0 or columns == 0:
        raise ValueError(f"image of {y.shape[0]}x{y.shape[1]} pixels is too small for NIQE (one {BLOCK_SIZE}x"
                         f"{BLOCK_SIZE} block at least)")
    image = np.asarray(y[:rows * BLOCK_SIZE, :columns * BLOCK_SIZE], dtype=np.float64)
    per_scale = []
    for scale in (1, 2):
        size = BLOCK_SIZE // scale
        blocks = (mscn(image).reshape(rows, size, columns, size).transpose(0, 2, 1, 3)
                  .reshape(rows * columns, size, size))
        per_scale.append(_block_features(blocks))
        image = imresize(image, 0.5)
    return np.concatenate(per_scale, axis=1)


def mscn(image):
    """Mean-subtracted contrast-normalised coefficients ``(im - mu) / (sigma + 1)`` of a float ``HxW`` image, with
    ``mu``, ``sigma`` under MATLAB's ``fspecial('gaussian', 7, 7/6)`` and ``imfilter(..., 'replicate')``."""
    axis = np.arange(-3, 4)
    window = np.exp(-(axis[:, None] ** 2 + axis[None, :] ** 2) / (2 * (7 / 6) ** 2))
    window /= window.sum()
    mu = scipy.ndimage.correlate(image, window, mode="nearest")
    sigma = np.sqrt(np.abs(scipy.ndimage.correlate(image * image, window, mode="nearest") - mu * mu))
    return (image - mu) / (sigma + 1)


def _block_features(blocks):
    """``computefeature.m`` for a stack of MSCN blocks ``(B, s, s)``: ``(B, 18)``."""
    flat = blocks.reshape(len(blocks), -1)
    alpha, left, right = fit_aggd(flat)
    features = [alpha, (left + right) / 2]
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):  # MATLAB circshift(block, [dy dx]) within each block
        shifted = np.roll(blocks, (dy, dx), axis=(1, 2)).reshape(len(blocks), -1)
        alpha, left, right = fit_aggd(flat * shifted)
        mean = (right - left) * scipy.special.gamma(2 / alpha) / scipy.special.gamma(1 / alpha)
        features += [alpha, mean, left, right]
    return np.stack(features, axis=1)


def fit_aggd(values):
    """Moment-matching fit of an asymmetric generalised Gaussian to each row of ``values`` ``(B, n)``
    (``estimateaggdparam.m``): ``(alpha, beta_left, beta_right)``, each ``(B,)``; alpha from the lookup
    0.2:0.001:10 (the first best match, as MATLAB's ``min``). The asymmetry correction of the moment ratio is
    MATLAB's (Lasmar et al. 2009): exact for symmetric data; for asymmetric data alpha comes out lower than the true
    shape (1.12 for a Gaussian with widths 1:4), as in every NIQE/BRISQUE release. A row without negative (or
    positive) values gives NaN widths, as in MATLAB."""
    with np.errstate(invalid="ignore", divide="ignore"):
        left = np.sqrt(np.sum(np.where(values < 0, values * values, 0), axis=1) / np.sum(values < 0, axis=1))
        right = np.sqrt(np.sum(np.where(values > 0, values * values, 0), axis=1) / np.sum(values > 0, axis=1))
        gamma_hat = left / right
        r_hat = np.mean(np.abs(values), axis=1) ** 2 / np.mean(values * values, axis=1)
        r_norm = r_hat * (gamma_hat ** 3 + 1) * (gamma_hat + 1) / (gamma_hat ** 2 + 1) ** 2
    alpha = _SHAPES[np.argmin((_RATIOS[None, :] - r_norm[:, None]) ** 2, axis=1)]
    width = np.sqrt(scipy.special.gamma(1 / alpha) / scipy.special.gamma(3 / alpha))
    return alpha, left * width, right * width

"""Shared helpers: the scale and test sets (``SCALE``, ``DEFAULT_TEST_SETS``), reading and writing images and CSV
files atomically, converting images between representations, checkpoints and devices, and the command lines' error
handling. The metrics are in ``metrics.py`` (and NIQE in ``niqe.py``).

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
``ycbcr``   MATLAB ``rgb2ycbcr`` (not rounded): Y in 16..235, Cb and Cr in 16..240; numpy float64 ``HxWx3``
            from ``pil``/``uint8``, a tensor ``(3, H, W)``/``(N, 3, H, W)`` (Y, Cb, Cr) from tensors
========== ============================================================================
"""
import contextlib
import csv
import os
import sys
import tempfile

import numpy as np
import torch
from PIL import Image

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


def read_csv(path):
    """The rows of a CSV file as dicts of strings (``[]`` when the file does not exist)."""
    if not os.path.exists(path):
        return []
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


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
    ``target`` any of those, ``y`` or ``ycbcr``. Tensor targets keep the
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
        if target in ("uint8", "pil", "y", "ycbcr"):
            return _from_array(array, target)
        return _from_unit(torch.from_numpy(array).permute(2, 0, 1).float().div(255.0), target)
    unit = img  # a float tensor: to [0, 1] first
    if source == "[-1, 1]":
        unit = (img + 1.0) / 2.0
    elif source == "imagenet":
        unit = img * _imagenet_stats(img, IMAGENET_STD) + _imagenet_stats(img, IMAGENET_MEAN)
    elif source == "lite":
        unit = (img * 128.0 + 127.0) / 255.0
    return _from_unit(unit, target)


def _from_array(array, target):
    """A ``uint8`` ``HxWx3`` array as ``uint8``, ``pil``, ``y`` or ``ycbcr`` (numpy float64)."""
    if target == "pil":
        return Image.fromarray(array)
    if target == "y":
        return Y_OFFSET + array.astype(np.float64) @ np.array(Y_COEFFICIENTS)
    if target == "ycbcr":
        return YCBCR_OFFSET + array.astype(np.float64) @ YCBCR_MATRIX.T
    return array


def _from_unit(unit, target):
    """A float tensor in ``[0, 1]`` as ``target``: a tensor representation, ``y``, or (quantised) ``uint8``/``pil``."""
    if target == "[0, 1]":
        return unit
    if target == "[-1, 1]":
        return unit * 2.0 - 1.0
    if target == "imagenet":
        return (unit - _imagenet_stats(unit, IMAGENET_MEAN)) / _imagenet_stats(unit, IMAGENET_STD)
    if target == "lite":
        return (unit * 255.0 - 127.0) / 128.0
    if target == "y":
        weights = constant_like(Y_COEFFICIENTS, unit).view(3, 1, 1)
        return Y_OFFSET + (unit * 255.0 * weights).sum(dim=-3)
    if target == "ycbcr":
        matrix = constant_like(YCBCR_MATRIX.tolist(), unit)
        return constant_like(YCBCR_OFFSET.tolist(), unit).view(3, 1, 1) + torch.einsum(
            "kc,...chw->...khw", matrix, unit * 255.0)
    # target uint8 or pil: quantise as if saved to a PNG file
    array = (unit.detach().float().clamp(0, 1) * 255.0).round().to(torch.uint8).cpu().movedim(-3, -1).numpy()
    if target == "pil" and array.ndim != 3:
        raise ValueError(f"convert_image: target 'pil' needs one image, got shape {tuple(unit.shape)}")
    return _from_array(array, target) if target == "pil" else array


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


def nearest_upscale(image, factor):
    """An ``HxW`` or ``HxWx3`` array enlarged ``factor`` (an int) times by repeating each pixel (nearest neighbour):
    how an LR image is shown beside SR images, without inventing anything."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def _imagenet_stats(like, values):
    return constant_like(values, like).view(3, 1, 1)


def constant_like(values, like):
    """``values`` (numbers, or a CPU tensor of any dtype) as a tensor of ``like``'s dtype on ``like``'s device.
    To a GPU it goes from pinned memory without waiting: a plain copy would stall the training step until the GPU
    had finished all its queued work."""
    tensor = torch.as_tensor(values, dtype=like.dtype)
    if like.device.type != "cuda":
        return tensor.to(like.device)
    return tensor.pin_memory().to(like.device, non_blocking=True)


# ----------------------------------------------------------------------------------------------
# Checkpoints and devices
# ----------------------------------------------------------------------------------------------
def save_checkpoint(state, path):
    """``torch.save`` a dict atomically (``atomic_path``): an interruption or a full disk while writing
    leaves the previous checkpoint intact."""
    with atomic_path(path) as tmp_path:
        torch.save(state, tmp_path)


def epoch_checkpoint_path(checkpoint_folder, phase, epoch):
    """``<checkpoint_folder>/<phase>_epoch_NNN.pth``: the generator after ``epoch`` (``keep_epoch_generators``)."""
    return os.path.join(checkpoint_folder, f"{phase}_epoch_{epoch:03d}.pth")


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
    """``torch.device(name)``, or CUDA when available and ``name`` is None/'auto', else the CPU. ``ValueError`` for
    a CUDA device on a machine without one (a command line then prints one line, not torch's traceback)."""
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r}: CUDA is not available on this machine (use cpu or auto)")
    return device


# A user's mistake or what the user's machine lacks (a missing or malformed file, a wrong setting, a package that
# is not installed, weights that cannot be downloaded, a GPU too small) raises one of these with a message that
# names the file, the setting or the package; a command line prints that message, not a traceback.
USER_ERRORS = (ValueError, KeyError, OSError, FloatingPointError, ImportError, MemoryError,
               torch.cuda.OutOfMemoryError)


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
        print(f"error: {str(message) or type(error).__name__}", file=sys.stderr)  # MemoryError() has no text
        return 1

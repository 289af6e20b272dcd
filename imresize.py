"""MATLAB-exact bicubic ``imresize`` for numpy images.

The assignment's LR images were made by MATLAB ``imresize(HR, 1/4, 'bicubic')``. No common Python
library reproduces it (PIL, OpenCV and torch use another cubic kernel, other borders or no
antialiasing), so this module ports MATLAB's algorithm:

* Keys cubic kernel with a = -0.5;
* antialiasing when shrinking: the kernel is stretched by ``1 / scale`` (on by default);
* output pixel ``x`` (1-based) samples input coordinate ``u = x / scale + 0.5 * (1 - 1 / scale)``;
* 'symmetric' borders that repeat the edge sample (``[a b c] -> [b a | a b c | c b]``);
* one 1-D pass per dimension, the dimension with the smaller scale first (rows first on a tie);
* uint8 input is rounded half away from zero and saturated to 0..255 **after each pass**, as
  MATLAB does; float input is neither rounded nor clipped.

Each 1-D pass is a sparse matrix product: a ``(out, in)`` matrix with a few nonzero weights per
row, built once per call, applied to the image with its resized axis first. The weights are the
same for every row and channel, so nothing is computed per pixel in Python.

Checked bit for bit against all Set5, Set14 and B100 LR x4 files made by MATLAB, and to 1e-10
against MATLAB's float answers (``tests/test_imresize.py``).
"""
import math

import numpy as np
import scipy.sparse


def cubic(x):
    """Keys cubic convolution kernel with a = -0.5 (MATLAB's ``cubic``), elementwise on an array."""
    absx = np.abs(x)
    absx2 = absx ** 2
    absx3 = absx ** 3
    near = (1.5 * absx3 - 2.5 * absx2 + 1) * (absx <= 1)
    far = (-0.5 * absx3 + 2.5 * absx2 - 4 * absx + 2) * ((absx > 1) & (absx <= 2))
    return near + far


def resize_matrix(in_length, out_length, scale, antialiasing=True):
    """The ``(out_length, in_length)`` sparse matrix of one 1-D MATLAB bicubic resize.

    Row ``i`` holds the weights (summing to 1) that make output sample ``i`` from the input samples,
    with the symmetric border folded back onto the image, as MATLAB's ``contributions`` does.
    """
    kernel_width = 4.0
    if scale < 1 and antialiasing:
        kernel = lambda x: scale * cubic(scale * x)  # noqa: E731 - a stretched, lower kernel
        kernel_width /= scale
    else:
        kernel = cubic

    x = np.arange(1, out_length + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)                  # input coordinate, 1-based
    left = np.floor(u - kernel_width / 2)
    taps = math.ceil(kernel_width) + 2
    indices = left[:, None] + np.arange(taps)[None, :]     # (out, taps), 1-based, may leave the image
    weights = kernel(u[:, None] - indices)
    weights /= weights.sum(axis=1, keepdims=True)

    # Symmetric padding: fold an index outside 1..in back inside, repeating the edge sample.
    mirror = np.concatenate([np.arange(in_length), np.arange(in_length - 1, -1, -1)])
    columns = mirror[np.mod(indices.astype(np.int64) - 1, 2 * in_length)]
    rows = np.repeat(np.arange(out_length), taps)
    # Repeated (row, column) pairs are summed, as MATLAB sums the taps that fold onto one sample.
    return scipy.sparse.csr_matrix((weights.ravel(), (rows, columns.ravel())),
                                   shape=(out_length, in_length))


def _resize_along_axis(image, axis, matrix, round_to_uint8):
    """Apply one 1-D resize ``matrix`` along ``axis`` of a float64 ``image``."""
    moved = np.moveaxis(image, axis, 0)
    flat = moved.reshape(moved.shape[0], -1)
    out = np.asarray(matrix @ flat).reshape((matrix.shape[0],) + moved.shape[1:])
    if round_to_uint8:
        # Values are clipped to 0..255 afterwards, so rounding half up equals MATLAB's half-away-from-zero.
        out += 0.5
        np.floor(out, out=out)
        np.clip(out, 0, 255, out=out)
    return np.moveaxis(out, 0, axis)


def imresize(img, scale=None, output_shape=None, antialiasing=True):
    """Resize an image exactly as MATLAB ``imresize(img, scale_or_size, 'bicubic')``.

    Args:
        img: numpy array, ``HxW`` or ``HxWxC``; ``uint8`` (values 0..255) or float (any range).
        scale: a number, or ``(scale_h, scale_w)``; the output size is ``ceil(scale * input size)``.
        output_shape: ``(out_h, out_w)``, used instead of ``scale``; then scale = out / in per axis.
        antialiasing: stretch the kernel when shrinking (MATLAB's default, True).

    Returns:
        The resized image with the same number of dimensions; ``uint8`` for uint8 input (rounded and
        saturated after each 1-D pass, as MATLAB), else float with the input's float dtype (float64
        for integer types other than uint8, as MATLAB's double path).
    """
    img = np.asarray(img)
    if img.ndim not in (2, 3):
        raise ValueError(f"imresize expects an HxW or HxWxC image, got shape {img.shape}")
    if (scale is None) == (output_shape is None):
        raise ValueError("imresize needs exactly one of scale and output_shape")
    in_shape = img.shape[:2]
    if min(in_shape) < 1:
        raise ValueError(f"imresize got an empty image of shape {img.shape}")
    if scale is not None:
        scales = tuple(float(s) for s in np.broadcast_to(scale, (2,)))
        if min(scales) <= 0:
            raise ValueError(f"imresize scale must be positive, got {scale}")
        out_shape = tuple(math.ceil(s * n) for s, n in zip(scales, in_shape))
    else:
        out_shape = tuple(int(n) for n in output_shape)
        if len(out_shape) != 2 or min(out_shape) < 1:
            raise ValueError(f"imresize output_shape must be two positive sizes, got {output_shape}")
        scales = tuple(o / n for o, n in zip(out_shape, in_shape))

    is_uint8 = img.dtype == np.uint8
    out_dtype = np.uint8 if is_uint8 else (img.dtype if np.issubdtype(img.dtype, np.floating) else np.float64)
    out = img.astype(np.float64)
    # The smaller scale first; a stable sort keeps rows (axis 0) first on a tie, as MATLAB.
    for axis in sorted((0, 1), key=lambda a: scales[a]):
        matrix = resize_matrix(in_shape[axis], out_shape[axis], scales[axis], antialiasing)
        out = _resize_along_axis(out, axis, matrix, round_to_uint8=is_uint8)
    return out.astype(out_dtype)

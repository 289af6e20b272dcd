"""Inference: load trained generators and super-resolve images x4, whole or in exact tiles.

Images are numpy ``uint8`` arrays ``HxWx3`` (RGB, 0..255). The generator takes LR in ``[0, 1]`` and returns SR
in ``[-1, 1]`` (see ``utils.py``); ``super_resolve`` rounds its output to ``uint8`` as if saved to a PNG file,
before any metric sees it (README.md, "Evaluation protocol"). ``model=None`` means the bicubic baseline.

Tiled inference gives the whole-image result. With BatchNorm in eval mode the generator is a fixed stack of
convolutions, pixel shuffles and pointwise functions, so one SR pixel depends only on the LR pixels within a
finite *receptive-field radius* (``receptive_field_radius``: 40 LR pixels for the paper's 16 blocks: the 9x9
head conv (4), 33 3x3 convs at LR scale (33), the first upsampling conv (1), the second at x2 scale (1/2,
rounded up by the pixel shuffle's alignment) and the 9x9 conv at x4 scale (1)). A tile is the LR block to
produce plus ``overlap`` >= that radius LR pixels of context on each side (clipped at the image border, where
the zero padding is then the same as for the whole image); its output is cropped to the block. Each kept SR
value is then computed from exactly the same inputs as without tiling; only the floating-point summation order
of the convolution kernels may differ (oneDNN/cuDNN pick kernels by input size), which moves values by ~1e-6
(~1e-4 grey levels) and so can flip a uint8 rounding by one grey level, only for a value that close to .5.
tests/test_inference.py checks this on real images: float difference <= 1e-5, uint8 at most 1 grey level
(4 of 196,608 values with a 16-channel model; identical with the paper's generator).

Public functions: ``load_generator``, ``load_models``, ``receptive_field_radius``, ``super_resolve`` (one
image), ``super_resolve_set`` (every image of a set).
"""
import math
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from datasets import TestDataset
from imresize import imresize
from models import Generator
from utils import SCALE, as_rgb, convert_image, generator_weights, get_device, load_checkpoint, save_image

# Automatic tiling on the CPU: above this many LR pixels, tiles of CPU_TILE_SIZE x CPU_TILE_SIZE LR pixels.
# Untiled inference of the paper's generator peaks at about 9 KB of memory per LR pixel (the x4 feature
# maps, see benchmarks/bench_tiling.py): 500,000 LR pixels (a 2828x2828 output) stay below ~4.5 GB.
CPU_MAX_UNTILED_LR_PIXELS = 500_000
CPU_TILE_SIZE = 256
# On CUDA the whole image is tried first; after an out-of-memory error, these tile sizes in turn.
CUDA_FALLBACK_TILE_SIZES = (512, 256, 128, 64, 32)

# Modules that act on each pixel separately (no spatial extent) once the network is in eval mode.
_POINTWISE_MODULES = (nn.BatchNorm2d, nn.PReLU, nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.Identity)


# ----------------------------------------------------------------------------------------------
# Loading generators
# ----------------------------------------------------------------------------------------------
def _strip_prefixes(state_dict):
    """Remove the ``module.`` (DataParallel/DDP) and ``_orig_mod.`` (torch.compile) key prefixes."""
    cleaned = {}
    for key, value in state_dict.items():
        for prefix in ("module.", "_orig_mod."):
            while key.startswith(prefix):
                key = key[len(prefix):]
        cleaned[key] = value
    return cleaned


def _infer_model_config(state_dict):
    """The ``Generator`` arguments that a generator state_dict was made with (None if not a generator's)."""
    if "head.0.weight" not in state_dict or "head.1.weight" not in state_dict:
        return None
    blocks = {key.split(".")[1] for key in state_dict if key.startswith("body.") and ".body." in key}
    upsamplers = {key.split(".")[1] for key in state_dict if key.startswith("tail.") and ".body.0.weight" in key}
    return {"n_blocks": len(blocks), "channels": int(state_dict["head.0.weight"].shape[0]),
            "scale": 2 ** len(upsamplers), "prelu_per_channel": state_dict["head.1.weight"].numel() > 1}


def load_generator(checkpoint_path, device=None, moving_average=True):
    """Build the generator stored in a checkpoint, in eval mode.

    Args:
        checkpoint_path: a file written by the trainer (a dict with ``'generator'``: state_dict, and
            ``'generator_ema'``, the moving average that is then used, when trained with ``ema_decay``;
            ``'config'``: ``{'model': Generator arguments, ...}``), or a bare generator state_dict (its
            architecture is then read from the tensor shapes). ``module.``/``_orig_mod.`` key prefixes
            (DDP, torch.compile) are accepted.
        device: ``'cpu'``, ``'cuda'``, a ``torch.device``, or None/'auto' (CUDA when available).
        moving_average: False loads ``'generator'`` (the trained weights themselves) even when the checkpoint
            has a ``'generator_ema'``.
    Returns:
        ``models.Generator`` in eval mode on ``device``.
    Raises:
        FileNotFoundError: naming the file, when it does not exist.
        ValueError: naming the file and the problem, when it is corrupt, not a generator checkpoint (e.g. a
            discriminator state_dict, no ``'generator'`` entry), or its weights do not fit the architecture or
            are not finite (NaN/inf).
    """
    path = os.fspath(checkpoint_path)
    state_dict, config = _generator_entry(path, moving_average)
    state_dict = _strip_prefixes(state_dict)
    broken = [key for key, value in state_dict.items() if value.is_floating_point() and not value.isfinite().all()]
    if broken:
        raise ValueError(f"{path}: weights not finite (NaN or inf) in {len(broken)} tensor(s), e.g. {broken[0]}: "
                         f"training diverged before this checkpoint; use an earlier one")
    inferred = _infer_model_config(state_dict)
    if inferred is None:
        keys = ", ".join(list(state_dict)[:4])
        raise ValueError(f"{path}: the weights are not a Generator's (keys start {keys}; expected head.0.weight, "
                         f"body..., tail...): is it a discriminator or another model?")
    arguments = {**inferred, **{key: config[key] for key in inferred if key in config}}
    try:
        generator = Generator(**arguments)
        generator.load_state_dict(state_dict)
    except (RuntimeError, ValueError, TypeError) as error:
        first_lines = " ".join(str(error).split("\n")[:4])
        raise ValueError(f"{path}: the generator weights do not fit Generator({arguments}): {first_lines}") from error
    return generator.to(get_device(device)).eval()


def _generator_entry(path, moving_average):
    """``(generator state_dict, model config)`` of a checkpoint file (``ValueError`` naming it when it has none)."""
    checkpoint = load_checkpoint(path)  # FileNotFoundError / ValueError naming the file
    if not isinstance(checkpoint, dict):
        raise ValueError(f"{path}: not a generator checkpoint (a {type(checkpoint).__name__}, expected a dict)")
    if "generator" in checkpoint:
        state_dict = generator_weights(checkpoint, moving_average)
        if not isinstance(state_dict, dict) or not state_dict:
            raise ValueError(f"{path}: its 'generator' entry is {type(state_dict).__name__}, not a state_dict")
        return state_dict, dict((checkpoint.get("config") or {}).get("model") or {})
    if checkpoint and all(isinstance(value, torch.Tensor) for value in checkpoint.values()):
        return checkpoint, {}
    keys = ", ".join(sorted(map(str, checkpoint))[:6]) or "none"
    raise ValueError(f"{path}: not a generator checkpoint: no 'generator' entry (keys: {keys})")


def load_models(checkpoints, device=None, include_bicubic=True, trained_weights=()):
    """Load the generators to compare, skipping absent ones with a printed note.

    Args:
        checkpoints: dict name -> checkpoint path, e.g. ``{'srresnet': 'checkpoints/srresnet.pth', 'srgan':
            None}``. A None or missing path is skipped (printed); a file that exists but is not a usable
            generator checkpoint raises (see ``load_generator``): a wrong file should not pass unnoticed.
        device: as in ``load_generator``.
        include_bicubic: put ``'bicubic': None`` (the bicubic baseline) first.
        trained_weights: names whose trained weights are loaded, not the moving average saved beside them
            (``ema_decay``; ``load_generator(..., moving_average=False)``). A name not in ``checkpoints`` raises.
    Returns:
        dict name -> ``Generator`` (or None for ``'bicubic'``), in the order given.
    """
    unknown = sorted(set(trained_weights) - set(checkpoints))
    if unknown:
        raise ValueError(f"trained_weights names {unknown}, not among the models {list(checkpoints)}")
    loaded = {"bicubic": None} if include_bicubic else {}
    for name, path in checkpoints.items():
        if path is None or not os.path.isfile(os.fspath(path)):
            reason = "no checkpoint given" if path is None else f"{path} not found"
            print(f"note: {name} skipped ({reason})")
            continue
        average = name not in trained_weights
        loaded[name] = load_generator(path, device, moving_average=average)
        print(f"{name}: loaded {path}" + ("" if average else " (its trained weights, not their moving average)"))
    return loaded


# ----------------------------------------------------------------------------------------------
# Tiled generation (exact: see the module docstring)
# ----------------------------------------------------------------------------------------------
def receptive_field_radius(generator):
    """The LR receptive-field radius ``r`` of a generator in eval mode.

    Every SR pixel of the ``scale x scale`` block over LR pixel ``(i, j)`` depends only on the LR pixels
    ``(i + di, j + dj)`` with ``|di|, |dj| <= r``. Computed exactly by following the dependency interval of
    each output sub-pixel position backwards through the convolutions (``+-(k - 1) / 2``) and pixel shuffles
    (``floor(. / f)``), taken in module order (head, body, tail: the long skip only adds a shorter path).
    The paper's generator gives 40. Raises ``ValueError`` for a layer whose extent is unknown here.
    """
    layers = []
    for module in generator.modules():
        if list(module.children()) or isinstance(module, _POINTWISE_MODULES):
            continue  # a container, or a layer without spatial extent
        if isinstance(module, nn.PixelShuffle):
            layers.append(("shuffle", module.upscale_factor))
        elif isinstance(module, nn.Conv2d):
            size = module.kernel_size[0]
            if (module.kernel_size != (size, size) or size % 2 == 0 or module.stride != (1, 1)
                    or module.dilation != (1, 1) or module.padding != (size // 2, size // 2)):
                raise ValueError(f"receptive_field_radius: unsupported convolution {module}")
            layers.append(("conv", size // 2))
        else:
            raise ValueError(f"receptive_field_radius: unknown spatial extent of layer {module}")
    scale = math.prod(factor for kind, factor in layers if kind == "shuffle")
    radius = 0
    for position in range(scale):  # sub-pixel position of an output pixel inside its LR pixel's block
        low = high = position
        for kind, value in reversed(layers):
            if kind == "conv":
                low, high = low - value, high + value
            else:
                low, high = low // value, high // value
        radius = max(radius, -low, high)
    return radius


def _generator_scale(generator):
    return getattr(generator, "scale", None) or math.prod(
        module.upscale_factor for module in generator.modules() if isinstance(module, nn.PixelShuffle))


def _balanced_tiles(length, tile_size):
    """Split ``range(length)`` into ``ceil(length / tile_size)`` nearly equal ``(start, stop)`` blocks."""
    count = math.ceil(length / tile_size)
    bounds = [round(i * length / count) for i in range(count + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


def _generate(generator, lr, tile_size=0, tile_overlap=None):
    """Run the generator on one LR tensor, whole or in tiles, and return its float output on the CPU.

    Args:
        generator: in eval mode; its device is used.
        lr: float tensor ``(1, 3, h, w)`` in ``[0, 1]``, on the generator's device.
        tile_size: 0 = whole image; else the side of the LR blocks produced per tile (each tile's input is
            the block plus ``tile_overlap`` LR pixels on each side, clipped at the image border).
        tile_overlap: LR pixels of context; None = ``receptive_field_radius(generator)`` (exact result).
    Returns:
        float tensor ``(1, 3, scale*h, scale*w)`` in ``[-1, 1]`` on the CPU.
    """
    with torch.no_grad():
        if not tile_size:
            return generator(lr).float().cpu()
        overlap = receptive_field_radius(generator) if tile_overlap is None else int(tile_overlap)
        scale = _generator_scale(generator)
        _, _, height, width = lr.shape
        sr = torch.empty(1, 3, height * scale, width * scale)
        for y0, y1 in _balanced_tiles(height, tile_size):
            for x0, x1 in _balanced_tiles(width, tile_size):
                in_y0, in_y1 = max(0, y0 - overlap), min(height, y1 + overlap)
                in_x0, in_x1 = max(0, x0 - overlap), min(width, x1 + overlap)
                tile = generator(lr[:, :, in_y0:in_y1, in_x0:in_x1])
                top, left = (y0 - in_y0) * scale, (x0 - in_x0) * scale
                sr[:, :, y0 * scale:y1 * scale, x0 * scale:x1 * scale] = (
                    tile[:, :, top:top + (y1 - y0) * scale, left:left + (x1 - x0) * scale].float().cpu())
        return sr


def _generate_auto(generator, lr, tile_overlap):
    """``_generate`` with the tiling chosen from the available memory (see the module constants)."""
    if lr.device.type == "cuda":
        return _generate_with_oom_fallback(generator, lr, tile_overlap)
    too_big = lr.shape[2] * lr.shape[3] > CPU_MAX_UNTILED_LR_PIXELS
    return _generate(generator, lr, CPU_TILE_SIZE if too_big else 0, tile_overlap)


def _generate_with_oom_fallback(generator, lr, tile_overlap):
    """The whole image first; after a CUDA out-of-memory error, ever smaller tiles."""
    for tile_size in (0,) + CUDA_FALLBACK_TILE_SIZES:
        out_of_memory = False
        try:
            return _generate(generator, lr, tile_size, tile_overlap)
        except torch.cuda.OutOfMemoryError:
            out_of_memory = True  # retried outside the except block, so the failed attempt's memory is freed
        if out_of_memory:
            torch.cuda.empty_cache()
    raise MemoryError(f"CUDA out of memory even with {CUDA_FALLBACK_TILE_SIZES[-1]}-pixel tiles "
                       f"(LR {lr.shape[2]}x{lr.shape[3]}); use device='cpu'")


def _run_generator(generator, lr_image, tile_size, device, tile_overlap):
    """``super_resolve`` with a generator: batch 1, eval mode (restored afterwards), no gradients."""
    if device is not None:
        generator.to(get_device(device))
    parameter = next(generator.parameters(), None)
    model_device = parameter.device if parameter is not None else torch.device("cpu")
    lr = convert_image(lr_image, "uint8", "[0, 1]").unsqueeze(0).to(model_device)

    was_training = generator.training
    generator.eval()
    try:
        if tile_size is None:
            sr = _generate_auto(generator, lr, tile_overlap)
        else:
            if tile_size < 0:
                raise ValueError(f"tile_size must be None, 0 or positive, got {tile_size}")
            sr = _generate(generator, lr, tile_size, tile_overlap)
    finally:
        generator.train(was_training)
    if not sr.isfinite().all():
        raise FloatingPointError("the generator's output is not finite (NaN or inf): its weights are broken")
    return convert_image(sr[0], "[-1, 1]", "uint8")


# ----------------------------------------------------------------------------------------------
# Super-resolving an image, a set
# ----------------------------------------------------------------------------------------------
def super_resolve(model, lr_image, tile_size=None, device=None, tile_overlap=None):
    """Super-resolve one image x4 with a generator, or with bicubic interpolation when ``model`` is None.

    Args:
        model: a ``models.Generator`` (run with batch 1, in eval mode, without gradients; its train/eval mode
            is restored afterwards), or None for the bicubic baseline: MATLAB-exact ``imresize(lr, 4)``
            (``tile_size``, ``device`` and ``tile_overlap`` are then ignored).
        lr_image: ``uint8`` array ``HxWx3`` (RGB, 0..255) or ``HxW`` (gray, used as R = G = B), or a PIL
            image. Any size from 1x1 up; for other formats read the file with ``utils.load_image``.
        tile_size: None = automatic (whole image, unless it is large on the CPU or does not fit on the GPU);
            0 = always the whole image; N > 0 = tiles producing N x N LR pixels each.
        device: None = the generator's device; else the generator is moved there.
        tile_overlap: LR pixels of context around each tile; None = the receptive-field radius, which makes
            the tiled result equal to the whole-image one (module docstring). Smaller values approximate.
    Returns:
        ``uint8`` array ``4Hx4Wx3`` (RGB, 0..255): the SR image clamped and rounded as if saved to PNG.
    Raises:
        ValueError: ``lr_image`` is not a ``uint8`` image, or ``tile_size`` is negative.
        FloatingPointError: the generator's output is not finite (broken weights).
    """
    lr_image = as_rgb(lr_image) if isinstance(lr_image, np.ndarray) else convert_image(lr_image, "pil", "uint8")
    if model is None:
        return imresize(lr_image, SCALE)
    return _run_generator(model, lr_image, tile_size, device, tile_overlap)


def super_resolve_set(models, list_path, out_folder, max_images=None, tile_size=None, device=None,
                      progress=True):
    """Super-resolve every image of a set with every model, writing ``<out_folder>/<model>/<name>.png``.

    A generator function: it works one image at a time, as it is iterated (``for image in
    super_resolve_set(...)``), so a large set never sits in memory.

    Args:
        models: dict name -> generator, or None for bicubic (e.g. from ``load_models``).
        list_path: the set's CSV list (``create_data_lists.py``).
        out_folder: the output folder, e.g. ``results/Set5``.
        max_images: only the first N images (None = all).
        tile_size, device: passed to ``super_resolve``.
        progress: a tqdm progress bar.
    Yields:
        per image ``{'name': str, 'lr': uint8 HxWx3, 'hr': uint8 4Hx4Wx3, 'sr': {model: uint8 4Hx4Wx3},
        'paths': {model: Path of the written PNG}}``.
    """
    dataset = TestDataset(list_path)
    count = dataset.count(max_images)
    out_folder = Path(out_folder)
    for index in tqdm(range(count), desc=out_folder.name, unit="image", disable=not progress):
        item = dataset[index]
        sr_images, paths = {}, {}
        for name, model in models.items():
            sr_images[name] = super_resolve(model, item["lr"], tile_size, device)
            paths[name] = out_folder / name / f"{item['name']}.png"
            save_image(paths[name], sr_images[name])
        yield {**item, "sr": sr_images, "paths": paths}


def write_set_images(checkpoints, list_path, out_folder):
    """Super-resolve a set's images with each generator checkpoint and write them, for scripts that read images
    from folders: ``{label: folder}`` with ``<folder>/<name>.png`` for each checkpoint that loaded.

    Args:
        checkpoints: dict label -> checkpoint path; a missing file raises ``FileNotFoundError`` naming it (a typo
            must not drop a model from a table unnoticed).
        list_path: the set's CSV list; out_folder: the folder of the ``<label>/`` folders.
    """
    if not checkpoints:
        return {}
    for path in checkpoints.values():
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path}: no such checkpoint file")
    generators = load_models(checkpoints, include_bicubic=False)
    for _ in super_resolve_set(generators, list_path, out_folder, progress=False):
        pass
    return {label: str(Path(out_folder) / label) for label in generators}

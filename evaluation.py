"""Evaluation and visualisation of x4 super-resolution: load a trained generator, super-resolve images of
any size (tiled when memory is short), measure PSNR/SSIM (and the grid/texture diagnostics) on the test sets, and
draw comparison figures.

The notebooks ``test.ipynb`` and ``super_resolution.ipynb`` and the command line ``super_resolve.py`` only
call this module. Images are numpy ``uint8`` arrays ``HxWx3`` (RGB, 0..255) throughout; the generator takes
LR in ``[0, 1]`` and returns SR in ``[-1, 1]`` (see ``utils.py``), and ``super_resolve`` quantises its
output to ``uint8`` as if saved to a PNG file, before any metric is computed (REFERENCE.md, protocol step 1).

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
tests/test_evaluation.py checks this on real images: float difference <= 1e-5, uint8 at most 1 grey level
(4 of 196,608 values with a 16-channel model; identical with the paper's generator).

Public functions: ``load_generator``, ``load_models``, ``receptive_field_radius``, ``super_resolve``,
``bicubic_upscale``, ``upscale``, ``evaluate_dataset``, ``evaluate_all``, ``metrics_markdown``, ``write_metrics``,
``format_psnr_ssim``, ``format_grid_texture``, ``display_name``, ``load_example``, ``auto_zoom_box``,
``compare_figure``, ``save_figure``, ``figure_preview``, ``super_resolve_set``.
"""
import io
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image
from torch import nn
from tqdm import tqdm

from datasets import TestDataset
from imresize import imresize
from models import Generator
from utils import (atomic_path, calc_psnr, calc_spectral_scores, calc_ssim, convert_image, get_device, load_checkpoint,
                   load_image, modcrop, save_image, write_csv)

SCALE = 4
DEFAULT_TEST_SETS = ("DIV2K-valid", "Set5", "Set14", "B100", "Urban100")
# grid, texture (utils.calc_grid_score / calc_texture_score, HR = 1) follow the older columns, which keep their order.
METRICS_COLUMNS = ("model", "dataset", "psnr", "ssim", "images", "grid", "texture")
PER_IMAGE_COLUMNS = ("name", "psnr", "ssim", "seconds", "grid", "texture")
DISPLAY_NAMES = {"bicubic": "Bicubic", "srresnet": "SRResNet", "srgan": "SRGAN", "baseline": "GAN from scratch",
                 "lr": "LR", "hr": "HR"}

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


def load_generator(checkpoint_path, device=None):
    """Build the generator stored in a checkpoint, in eval mode.

    Args:
        checkpoint_path: a file written by the trainer (a dict with ``'generator'``: state_dict and
            ``'config'``: ``{'model': Generator arguments, ...}``), or a bare generator state_dict (its
            architecture is then read from the tensor shapes). ``module.``/``_orig_mod.`` key prefixes
            (DDP, torch.compile) are accepted.
        device: ``'cpu'``, ``'cuda'``, a ``torch.device``, or None/'auto' (CUDA when available).
    Returns:
        ``models.Generator`` in eval mode on ``device``.
    Raises:
        FileNotFoundError: naming the file, when it does not exist.
        ValueError: naming the file and the problem, when it is corrupt, not a generator checkpoint (e.g. a
            discriminator state_dict, no ``'generator'`` entry), or its weights do not fit the architecture or
            are not finite (NaN/inf).
    """
    path = os.fspath(checkpoint_path)
    checkpoint = load_checkpoint(path)  # FileNotFoundError / ValueError naming the file
    if not isinstance(checkpoint, dict):
        raise ValueError(f"{path}: not a generator checkpoint (a {type(checkpoint).__name__}, expected a dict)")

    config = {}
    if "generator" in checkpoint:
        state_dict = checkpoint["generator"]
        if not isinstance(state_dict, dict) or not state_dict:
            raise ValueError(f"{path}: its 'generator' entry is {type(state_dict).__name__}, not a state_dict")
        config = dict((checkpoint.get("config") or {}).get("model") or {})
    elif checkpoint and all(isinstance(value, torch.Tensor) for value in checkpoint.values()):
        state_dict = checkpoint
    else:
        keys = ", ".join(sorted(map(str, checkpoint))[:6]) or "none"
        raise ValueError(f"{path}: not a generator checkpoint: no 'generator' entry (keys: {keys})")

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


def load_models(checkpoints, device=None, include_bicubic=True):
    """Load the generators to compare, skipping absent ones with a printed note.

    Args:
        checkpoints: dict name -> checkpoint path, e.g. ``{'srresnet': 'checkpoints/srresnet.pth', 'srgan':
            None}``. A None or missing path is skipped (printed); a file that exists but is not a usable
            generator checkpoint raises (see ``load_generator``): a wrong file should not pass unnoticed.
        device: as in ``load_generator``.
        include_bicubic: put ``'bicubic': None`` (the bicubic baseline) first.
    Returns:
        dict name -> ``Generator`` (or None for ``'bicubic'``), in the order given.
    """
    loaded = {"bicubic": None} if include_bicubic else {}
    for name, path in checkpoints.items():
        if path is None or not os.path.isfile(os.fspath(path)):
            reason = "no checkpoint given" if path is None else f"{path} not found"
            print(f"note: {name} skipped ({reason})")
            continue
        loaded[name] = load_generator(path, device)
        print(f"{name}: loaded {path}")
    return loaded


# ----------------------------------------------------------------------------------------------
# Super-resolving one image
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


def generate(generator, lr, tile_size=0, tile_overlap=None):
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
    """``generate`` with the tiling chosen from the available memory (see the module constants)."""
    if lr.device.type == "cuda":
        return _generate_with_oom_fallback(generator, lr, tile_overlap)
    too_big = lr.shape[2] * lr.shape[3] > CPU_MAX_UNTILED_LR_PIXELS
    return generate(generator, lr, CPU_TILE_SIZE if too_big else 0, tile_overlap)


def _generate_with_oom_fallback(generator, lr, tile_overlap):
    """The whole image first; after a CUDA out-of-memory error, ever smaller tiles."""
    for tile_size in (0,) + CUDA_FALLBACK_TILE_SIZES:
        out_of_memory = False
        try:
            return generate(generator, lr, tile_size, tile_overlap)
        except torch.cuda.OutOfMemoryError:
            out_of_memory = True  # retried outside the except block, so the failed attempt's memory is freed
        if out_of_memory:
            torch.cuda.empty_cache()
    raise RuntimeError(f"CUDA out of memory even with {CUDA_FALLBACK_TILE_SIZES[-1]}-pixel tiles "
                       f"(LR {lr.shape[2]}x{lr.shape[3]}); use device='cpu'")


def super_resolve(generator, lr_image, tile_size=None, tile_overlap=None, device=None):
    """Super-resolve one image with a generator (batch 1, eval mode, no gradients).

    Args:
        generator: a ``models.Generator`` (its train/eval mode is restored afterwards).
        lr_image: ``uint8`` array ``HxWx3`` (RGB) or ``HxW`` (gray, used as R = G = B), or a PIL image. Any
            size from 1x1 up; for other formats read the file with ``utils.load_image``.
        tile_size: None = automatic (whole image, unless it is large on the CPU or does not fit on the GPU);
            0 = always the whole image; N > 0 = tiles producing N x N LR pixels each.
        tile_overlap: LR pixels of context around each tile; None = the receptive-field radius, which makes
            the tiled result equal to the whole-image one (module docstring). Smaller values approximate.
        device: None = the generator's device; else the generator is moved there.
    Returns:
        ``uint8`` array ``(scale*H)x(scale*W)x3``: the SR image clamped and rounded as if saved to PNG.
    """
    if device is not None:
        generator.to(get_device(device))
    parameter = next(generator.parameters(), None)
    model_device = parameter.device if parameter is not None else torch.device("cpu")
    source = "uint8" if isinstance(lr_image, np.ndarray) else "pil"
    lr = convert_image(lr_image, source, "[0, 1]").unsqueeze(0).to(model_device)

    was_training = generator.training
    generator.eval()
    try:
        if tile_size is None:
            sr = _generate_auto(generator, lr, tile_overlap)
        else:
            if tile_size < 0:
                raise ValueError(f"tile_size must be None, 0 or positive, got {tile_size}")
            sr = generate(generator, lr, tile_size, tile_overlap)
    finally:
        generator.train(was_training)
    if not sr.isfinite().all():
        raise FloatingPointError("the generator's output is not finite (NaN or inf): its weights are broken")
    return convert_image(sr[0], "[-1, 1]", "uint8")


def bicubic_upscale(lr_image, scale=SCALE):
    """The bicubic baseline: MATLAB-exact ``imresize(lr, scale)``.

    ``uint8`` ``HxWx3`` (or ``HxW`` gray, used as R = G = B) -> ``uint8`` ``(scale*H)x(scale*W)x3``.
    """
    lr_image = np.asarray(lr_image)
    if lr_image.ndim == 2:
        lr_image = np.repeat(lr_image[:, :, None], 3, axis=2)
    return imresize(lr_image, scale)


def upscale(model, lr_image, tile_size=None, device=None):
    """``bicubic_upscale(lr_image)`` when ``model`` is None, else ``super_resolve(model, lr_image, ...)``."""
    if model is None:
        return bicubic_upscale(lr_image)
    return super_resolve(model, lr_image, tile_size=tile_size, device=device)


# ----------------------------------------------------------------------------------------------
# Metrics over the test sets
# ----------------------------------------------------------------------------------------------
def _summary(model_name, dataset_name, rows, note=""):
    """Mean PSNR, SSIM, grid and texture scores and seconds of per-image rows (NaN and 0 images when there are none)."""
    mean = (lambda key: float(np.mean([row[key] for row in rows]))) if rows else (lambda key: float("nan"))
    return {"model": model_name, "dataset": dataset_name, "psnr": mean("psnr"), "ssim": mean("ssim"),
            "images": len(rows), "grid": mean("grid"), "texture": mean("texture"), "seconds": mean("seconds"),
            "note": note}


def _score(model, item, tile_size, device, hr_path):
    """Upscale one test item and score it: ``{'name', 'psnr', 'ssim', 'seconds' (upscaling only), 'grid',
    'texture'}``."""
    start = time.perf_counter()
    sr = upscale(model, item["lr"], tile_size, device)
    seconds = time.perf_counter() - start
    try:
        grid, texture = calc_spectral_scores(sr, item["hr"], SCALE)
        return {"name": item["name"], "psnr": calc_psnr(sr, item["hr"], SCALE),
                "ssim": calc_ssim(sr, item["hr"], SCALE), "seconds": seconds, "grid": grid, "texture": texture}
    except ValueError as error:
        raise ValueError(f"{hr_path}: {error}") from error


def _evaluate_models_on_set(models, list_path, dataset_name, max_images=None, tile_size=None, device=None,
                            results_folder=None, progress=True):
    """Evaluate several models on one set, decoding each image once. Returns name -> (rows, summary)."""
    list_path = Path(list_path)
    dataset = TestDataset(list_path) if list_path.is_file() else None
    count = 0 if dataset is None else (len(dataset) if max_images is None else min(max_images, len(dataset)))
    if count == 0:
        note = f"no data list {list_path}" if dataset is None else f"no images in {list_path}"
        print(f"note: {dataset_name} missing ({note}): reported with 0 images and NaN metrics")
        return {name: ([], _summary(name, dataset_name, [], note)) for name in models}

    rows = {name: [] for name in models}
    failures = []
    for index in tqdm(range(count), desc=dataset_name, unit="image", disable=not progress):
        try:
            item = dataset[index]  # ValueError naming the file when it cannot be read
            hr_path = dataset.rows[index]["hr_path"]
            scores = {name: _score(model, item, tile_size, device, hr_path) for name, model in models.items()}
        except (ValueError, OSError) as error:  # unreadable, or too small for the metrics: named, skipped
            failures.append(str(error))
            print(f"warning: {dataset_name}: image {index + 1} skipped: {error}")
            continue
        for name, score in scores.items():
            rows[name].append(score)

    note = f"{len(failures)} unusable image(s) skipped" if failures else ""
    results = {}
    for name in models:
        summary = _summary(name, dataset_name, rows[name], note)
        summary["failures"] = failures
        if results_folder is not None:
            write_csv(Path(results_folder) / "per_image" / f"{name}_{dataset_name}.csv", rows[name],
                      PER_IMAGE_COLUMNS)
        results[name] = (rows[name], summary)
    return results


def evaluate_dataset(model, list_path, dataset_name, model_name=None, max_images=None, tile_size=None,
                     device=None, results_folder=None, progress=True):
    """PSNR and SSIM of one model on one test set, by the protocol of REFERENCE.md, and the grid and texture scores.

    Each SR image (``uint8``) is compared with the modcropped HR on the Y channel (BT.601 as MATLAB), with a
    4-pixel border cropped (``utils.calc_psnr``/``calc_ssim``, and the spectral diagnostics ``calc_grid_score``/
    ``calc_texture_score``: HR = 1), then averaged over the set.

    Args:
        model: a generator, or None for the bicubic baseline (``bicubic_upscale``).
        list_path: the set's CSV from ``create_data_lists.py``. A missing or empty list gives 0 images and NaN
            metrics (and a printed note), never an error, so a missing set shows in the tables.
        dataset_name: the set's name in the results, e.g. ``'Set5'``.
        model_name: the model's name in the results; default ``'bicubic'`` / ``'model'``.
        max_images: evaluate only the first N images (None = all).
        tile_size, device: passed to ``super_resolve``.
        results_folder: if given, the per-image rows go to ``<results_folder>/per_image/<model>_<set>.csv``.
        progress: show a tqdm progress bar.
    Returns:
        ``(rows, summary)``: rows ``[{'name', 'psnr', 'ssim', 'seconds', 'grid', 'texture'}]`` (seconds: the
        upscaling alone); summary ``{'model', 'dataset', 'psnr', 'ssim', 'images', 'grid', 'texture', 'seconds'
        (mean per image), 'note', 'failures' (messages naming the images that were skipped: unreadable, or too
        small for SSIM or the spectral scores)}``.
    """
    model_name = model_name or ("bicubic" if model is None else "model")
    results = _evaluate_models_on_set({model_name: model}, list_path, dataset_name, max_images, tile_size,
                                      device, results_folder, progress)
    return results[model_name]


def evaluate_all(models, lists_folder, datasets=DEFAULT_TEST_SETS, max_images=None, results_folder="results",
                 tile_size=None, device=None, progress=True):
    """Evaluate every model on every test set and write the tables.

    Args:
        models: dict name -> generator, or None for the bicubic baseline (e.g. from ``load_models``).
        lists_folder: folder of the CSV lists (``<lists_folder>/<dataset>.csv``).
        datasets: set names; a set without a list is reported as missing (0 images, NaN), not dropped.
        max_images: only the first N images of each set (None = all).
        results_folder: where ``metrics.csv``, ``metrics.md`` and ``per_image/<model>_<set>.csv`` go (None =
            write nothing). The tables are rewritten (atomically) after every set.
        tile_size, device: passed to ``super_resolve``.
        progress: tqdm progress bars.
    Returns:
        list of summaries (see ``evaluate_dataset``), one per (model, set), models outer, sets inner.
    """
    by_key = {}
    for dataset_name in datasets:
        results = _evaluate_models_on_set(models, Path(lists_folder) / f"{dataset_name}.csv", dataset_name,
                                          max_images, tile_size, device, results_folder, progress)
        for name, (_, summary) in results.items():
            by_key[name, dataset_name] = summary
        if results_folder is not None:
            write_metrics([by_key[key] for key in by_key], results_folder)
    summaries = [by_key[name, dataset_name] for name in models for dataset_name in datasets]
    if results_folder is not None:
        write_metrics(summaries, results_folder)
    return summaries


def display_name(name):
    """The label of a model in tables and figures: 'srresnet' -> 'SRResNet', unknown names unchanged."""
    return DISPLAY_NAMES.get(str(name).lower(), str(name))


def format_psnr_ssim(psnr, ssim):
    """The ``PSNR / SSIM`` cell of every table: ``'30.37 / 0.8623'`` (dB to 0.01, SSIM to 0.0001)."""
    return f"{psnr:.2f} / {ssim:.4f}"


def format_grid_texture(grid, texture):
    """The ``grid / texture`` cell of every table: ``'6.50 / 0.69'`` (both to 0.01, unlike a PSNR / SSIM cell)."""
    return f"{grid:.2f} / {texture:.2f}"


def metrics_markdown(summaries):
    """Markdown tables of summaries: one row per model, one ``PSNR / SSIM`` column per set; the same for the
    ``grid / texture`` scores (HR = 1) and the mean seconds per image; then the number of images per set."""
    models = list(dict.fromkeys(summary["model"] for summary in summaries))
    datasets = list(dict.fromkeys(summary["dataset"] for summary in summaries))
    lookup = {(summary["model"], summary["dataset"]): summary for summary in summaries}

    def cell(model, dataset, text):
        summary = lookup.get((model, dataset))
        return "n/a" if summary is None or not summary["images"] else text(summary)

    lines = ["| Model | " + " | ".join(f"{name} PSNR / SSIM" for name in datasets) + " |",
             "|---|" + "---|" * len(datasets)]
    for model in models:
        cells = [cell(model, dataset, lambda s: format_psnr_ssim(s["psnr"], s["ssim"])) for dataset in datasets]
        lines.append(f"| {display_name(model)} | " + " | ".join(cells) + " |")
    lines += ["", "Grid / texture scores (spectral energy of the SR image relative to the HR's, HR = 1: grid at the "
                  "2- and 4-pixel periods, above 1 = a periodic grid; texture above the LR's Nyquist frequency, "
                  "below 1 = over-smooth):", "",
              "| Model | " + " | ".join(f"{name} grid / texture" for name in datasets) + " |",
              "|---|" + "---|" * len(datasets)]
    for model in models:
        cells = [cell(model, dataset, lambda s: format_grid_texture(s["grid"], s["texture"])) for dataset in datasets]
        lines.append(f"| {display_name(model)} | " + " | ".join(cells) + " |")
    lines += ["", "Mean seconds per image (the upscaling alone):", "",
              "| Model | " + " | ".join(datasets) + " |", "|---|" + "---|" * len(datasets)]
    for model in models:
        cells = [cell(model, dataset, lambda s: f"{s['seconds']:.3f}") for dataset in datasets]
        lines.append(f"| {display_name(model)} | " + " | ".join(cells) + " |")
    counts = {dataset: max((s["images"] for s in summaries if s["dataset"] == dataset), default=0)
              for dataset in datasets}
    images = ", ".join(f"{dataset} {count}" for dataset, count in counts.items())
    lines += ["", f"x{SCALE}, Y channel (ITU-R BT.601), {SCALE}-pixel border cropped, SSIM with an 11x11 Gaussian "
                  f"window (Wang et al. 2004). Images: {images}; n/a = no images.", ""]
    return "\n".join(lines)


def write_metrics(summaries, results_folder="results"):
    """Write ``metrics.csv`` (columns exactly ``model,dataset,psnr,ssim,images,grid,texture``) and ``metrics.md``
    atomically into ``results_folder``. Returns ``(csv_path, md_path)``."""
    folder = Path(results_folder)
    rows = [{"model": s["model"], "dataset": s["dataset"], "psnr": f"{s['psnr']:.4f}", "ssim": f"{s['ssim']:.6f}",
             "images": s["images"], "grid": f"{s['grid']:.4f}", "texture": f"{s['texture']:.4f}"} for s in summaries]
    write_csv(folder / "metrics.csv", rows, METRICS_COLUMNS)
    with atomic_path(folder / "metrics.md") as tmp_path:
        Path(tmp_path).write_text(metrics_markdown(summaries), encoding="utf-8")
    return folder / "metrics.csv", folder / "metrics.md"


# ----------------------------------------------------------------------------------------------
# Visualisation
# ----------------------------------------------------------------------------------------------
def load_example(image_path=None, hr_path=None, list_path=None, name="butterfly"):
    """One LR image (and its HR when known) to show.

    Either ``image_path`` (an LR image file, any format ``load_image`` reads) with an optional ``hr_path``
    (cropped to a multiple of 4; it must be 4x the LR's size), or, when ``image_path`` is None, the image
    called ``name`` of the data list ``list_path`` (its first image if no image has that name).

    Returns:
        ``{'name': str, 'lr': uint8 HxWx3, 'hr': uint8 4Hx4Wx3 or None}``.
    """
    if image_path is None:
        if list_path is None:
            raise ValueError("load_example: give image_path or list_path")
        dataset = TestDataset(list_path)
        if len(dataset) == 0:
            raise ValueError(f"{list_path}: no images")
        names = [Path(row["hr_path"]).stem for row in dataset.rows]
        return dataset[names.index(name) if name in names else 0]
    lr = load_image(image_path)
    hr = None
    if hr_path is not None:
        hr = modcrop(load_image(hr_path), SCALE)
        if hr.shape[:2] != (lr.shape[0] * SCALE, lr.shape[1] * SCALE):
            raise ValueError(f"{hr_path}: HR is {hr.shape[0]}x{hr.shape[1]} after modcrop, but the LR {image_path} "
                             f"({lr.shape[0]}x{lr.shape[1]}) needs {lr.shape[0] * SCALE}x{lr.shape[1] * SCALE}")
    return {"name": Path(image_path).stem, "lr": lr, "hr": hr}


def auto_zoom_box(image, size=None):
    """The ``(y, x, h, w)`` square with the most detail (largest sum of gradient magnitudes) of a ``uint8``
    image; ``size`` defaults to a quarter of the smaller side (at least 16 pixels)."""
    gray = convert_image(np.asarray(image), "uint8", "y")
    height, width = gray.shape
    size = min(height, width, size or max(16, min(height, width) // 4))
    detail = np.zeros((height + 1, width + 1))
    gradient = np.abs(np.diff(gray, axis=0, append=gray[-1:])) + np.abs(np.diff(gray, axis=1, append=gray[:, -1:]))
    detail[1:, 1:] = gradient.cumsum(0).cumsum(1)  # integral image: window sums in O(1)
    sums = detail[size:, size:] - detail[:-size, size:] - detail[size:, :-size] + detail[:-size, :-size]
    y, x = np.unravel_index(np.argmax(sums), sums.shape)
    return int(y), int(x), size, size


def _to_display_size(image, height, width, label):
    """An ``HxW[x3]`` uint8 image -> RGB at ``height x width``, enlarged by pixel repetition (nearest)."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    factor_y, factor_x = height / image.shape[0], width / image.shape[1]
    if factor_y != factor_x or factor_y != int(factor_y):
        raise ValueError(f"compare_figure: {label!r} is {image.shape[0]}x{image.shape[1]}, not an integer fraction "
                         f"of the largest image ({height}x{width})")
    factor = int(factor_y)
    return image.repeat(factor, axis=0).repeat(factor, axis=1) if factor > 1 else image


def compare_figure(images, zoom_box=None, title=None, reference="HR", panel_size=3.0):
    """Side-by-side comparison with a zoomed crop row.

    Args:
        images: dict label -> ``uint8`` image, in display order, e.g. LR, Bicubic, SRResNet, SRGAN, HR. Smaller
            images (the LR) are enlarged by pixel repetition (nearest) to the largest size.
        zoom_box: ``(y, x, h, w)`` in HR pixels, drawn as a red box on the top row and shown enlarged on the
            bottom row; None = ``auto_zoom_box`` of the reference (or the last image).
        title: the figure's title.
        reference: label of the ground truth: every other image of its size gets its PSNR / SSIM (Y channel,
            4-pixel crop) under its label. Ignored when absent.
        panel_size: inches per panel.
    Returns:
        a ``matplotlib.figure.Figure`` (not registered with pyplot: display it, or ``save_figure`` it).
    """
    if not images:
        raise ValueError("compare_figure: no images")
    labels = list(images)
    height = max(np.asarray(image).shape[0] for image in images.values())
    width = max(np.asarray(image).shape[1] for image in images.values())
    shown = {label: _to_display_size(images[label], height, width, label) for label in labels}
    if zoom_box is None:
        zoom_box = auto_zoom_box(shown[reference if reference in shown else labels[-1]])
    y, x, box_h, box_w = (int(v) for v in zoom_box)
    if box_h < 1 or box_w < 1 or y < 0 or x < 0 or y + box_h > height or x + box_w > width:
        raise ValueError(f"compare_figure: zoom_box {tuple(zoom_box)} (y, x, h, w) is not inside the "
                         f"{height}x{width} images")

    captions = {label: label for label in labels}
    truth = images.get(reference)
    if truth is not None:
        for label in labels:
            image = np.asarray(images[label])
            if label != reference and image.shape == np.asarray(truth).shape:
                try:
                    captions[label] += f"\n{calc_psnr(image, truth):.2f} dB / {calc_ssim(image, truth):.4f}"
                except ValueError:  # too small for the border crop or the SSIM window
                    pass

    figure = Figure(figsize=(panel_size * len(labels), panel_size * 2 + 0.6), layout="constrained")
    axes = figure.subplots(2, len(labels), squeeze=False)
    for column, label in enumerate(labels):
        top, bottom = axes[0, column], axes[1, column]
        top.imshow(shown[label], interpolation="nearest")
        top.add_patch(Rectangle((x - 0.5, y - 0.5), box_w, box_h, fill=False, edgecolor="red", linewidth=1.5))
        top.set_title(captions[label], fontsize=10)
        bottom.imshow(shown[label][y:y + box_h, x:x + box_w], interpolation="nearest")
        for axis in (top, bottom):
            axis.set_xticks([])
            axis.set_yticks([])
    if title:
        figure.suptitle(title)
    return figure


def save_figure(figure, path, dpi=100):
    """Save a figure as a PNG atomically (temporary file + rename)."""
    path = Path(path)
    with atomic_path(path) as tmp_path:
        figure.savefig(tmp_path, dpi=dpi, format="png")
    return path


def figure_preview(path, width=900):
    """The PNG figure at ``path`` scaled down to ``width`` pixels (if wider), as PNG bytes for a notebook.

    The file keeps its full resolution (judge the images there); the preview keeps a notebook that shows
    many figures small enough to commit.
    """
    with Image.open(path) as image:
        image = image.convert("RGB")
        if image.width > width:
            image = image.resize((width, round(image.height * width / image.width)), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def super_resolve_set(models, list_path, out_folder, max_images=None, tile_size=None, device=None, zoom_box=None,
                      progress=True):
    """Super-resolve every image of a set with every model and draw one comparison figure per image.

    Writes ``<out_folder>/<model>/<name>.png`` (the SR image of each model, bicubic included) and
    ``<out_folder>/compare_<name>.png`` (LR, each model, HR, with a zoomed crop), e.g. ``results/Set5/...``.

    Args:
        models: dict name -> generator or None (bicubic), e.g. from ``load_models``.
        list_path: the set's CSV list.
        out_folder: the output folder.
        max_images: only the first N images (None = all).
        tile_size, device: passed to ``super_resolve``.
        zoom_box: ``(y, x, h, w)`` for every figure, or None to pick the most detailed region of each HR.
        progress: a tqdm progress bar.
    Returns:
        list of ``{'name', 'images': {model: path}, 'figure': path}``.
    """
    dataset = TestDataset(list_path)
    count = len(dataset) if max_images is None else min(max_images, len(dataset))
    out_folder = Path(out_folder)
    written = []
    for index in tqdm(range(count), desc=out_folder.name, unit="image", disable=not progress):
        item = dataset[index]
        panels, paths = {"LR": item["lr"]}, {}
        for name, model in models.items():
            sr = upscale(model, item["lr"], tile_size, device)
            paths[name] = out_folder / name / f"{item['name']}.png"
            save_image(paths[name], sr)
            panels[display_name(name)] = sr
        panels["HR"] = item["hr"]
        figure = compare_figure(panels, zoom_box=zoom_box, title=f"{item['name']} (x{SCALE})")
        figure_path = save_figure(figure, out_folder / f"compare_{item['name']}.png")
        written.append({"name": item["name"], "images": paths, "figure": figure_path})
    return written

"""Reporting of x4 super-resolution: PSNR/SSIM tables of the test sets (with the grid/texture diagnostics),
comparison figures and training curves.

The notebooks ``test.ipynb`` and ``super_resolution.ipynb`` call this module and ``inference.py`` (loading
generators, super-resolving images), one function per step. Images are numpy ``uint8`` arrays ``HxWx3`` (RGB,
0..255) throughout; the metrics follow README.md, "Evaluation protocol".

Public functions: tables ``score_image``, ``evaluate_dataset``, ``evaluate_all``, ``metrics_markdown``, ``write_metrics``,
``format_psnr_ssim``, ``format_grid_texture``, ``format_added``, ``display_name``; figures ``load_example``, ``auto_zoom_box``,
``compare_figure``, ``save_figure``, ``figure_preview``, ``compare_set``, ``read_log``,
``plot_training_curves``, ``plot_validation_curves``.
"""
import csv
import io
import os
import time
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image
from tqdm import tqdm

from datasets import TestDataset
from inference import super_resolve, super_resolve_set
from niqe import calc_niqe
from utils import (
    DEFAULT_TEST_SETS,
    SCALE,
    as_rgb,
    atomic_path,
    calc_added_energy,
    calc_psnr,
    calc_spectral_scores,
    calc_ssim,
    convert_image,
    load_image,
    modcrop,
    write_csv,
)

# Newer scores follow the older columns, which keep their order: grid, texture (utils.calc_grid_score /
# calc_texture_score, HR = 1); niqe (niqe.calc_niqe, NaN when no pristine model was given); added, added_chroma
# (utils.calc_added_energy, grey levels RMS). The "hr" rows hold the HR images' own NIQE (and 1 / 1 / 0 / 0).
SCORES = ("psnr", "ssim", "grid", "texture", "niqe", "added", "added_chroma")
METRICS_COLUMNS = ("model", "dataset", "psnr", "ssim", "images", "grid", "texture", "niqe", "added", "added_chroma")
PER_IMAGE_COLUMNS = ("name", "psnr", "ssim", "seconds", "grid", "texture", "niqe", "added", "added_chroma")
DISPLAY_NAMES = {"bicubic": "Bicubic", "srresnet": "SRResNet", "srgan": "SRGAN", "baseline": "GAN from scratch",
                 "lr": "LR", "hr": "HR"}


# ----------------------------------------------------------------------------------------------
# Metrics over the test sets
# ----------------------------------------------------------------------------------------------
def _summary(model_name, dataset_name, rows, note=""):
    """Mean of every score and of the seconds over per-image rows (NaN and 0 images when there are none)."""
    mean = (lambda key: float(np.mean([row[key] for row in rows]))) if rows else (lambda key: float("nan"))
    return {"model": model_name, "dataset": dataset_name, "images": len(rows), "seconds": mean("seconds"),
            **{key: mean(key) for key in SCORES}, "note": note}


def score_image(sr, hr, niqe_model=None):
    """Every score of one SR image against its HR (``uint8`` ``HxWx3``, same shape), by the test protocol (Y channel,
    4-px border crop): ``{'psnr', 'ssim', 'grid', 'texture', 'niqe', 'added', 'added_chroma'}``; ``niqe`` is NaN
    without a ``niqe_model`` (``niqe.load_pristine_model``). ``ValueError`` for images too small for a score."""
    grid, texture = calc_spectral_scores(sr, hr, SCALE)
    added, added_chroma = calc_added_energy(sr, hr, SCALE)
    return {"psnr": calc_psnr(sr, hr, SCALE), "ssim": calc_ssim(sr, hr, SCALE), "grid": grid, "texture": texture,
            "niqe": float("nan") if niqe_model is None else calc_niqe(sr, niqe_model, SCALE),
            "added": added, "added_chroma": added_chroma}


def _score(model, item, tile_size, device, hr_path, niqe_model):
    """Super-resolve one test item (model None: bicubic; "hr": the HR itself) and score it: ``{'name', 'seconds'
    (upscaling only), **score_image}``."""
    start = time.perf_counter()
    sr = item["hr"] if isinstance(model, str) and model == "hr" else super_resolve(model, item["lr"], tile_size,
                                                                                   device)
    seconds = time.perf_counter() - start
    try:
        return {"name": item["name"], "seconds": seconds, **score_image(sr, item["hr"], niqe_model)}
    except ValueError as error:
        raise ValueError(f"{hr_path}: {error}") from error


def _evaluate_models_on_set(models, list_path, dataset_name, max_images=None, tile_size=None, device=None,
                            results_folder=None, progress=True, niqe_model=None):
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
            scores = {name: _score(model, item, tile_size, device, hr_path, niqe_model)
                      for name, model in models.items()}
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
                     device=None, results_folder=None, progress=True, niqe_model=None):
    """PSNR and SSIM of one model on one test set, and the other scores (README.md, "Evaluation protocol").

    Each SR image (``uint8``) is compared with the modcropped HR on the Y channel (BT.601 as MATLAB), with a
    4-pixel border cropped (``score_image``: ``utils.calc_psnr``/``calc_ssim``, the spectral diagnostics
    ``calc_grid_score``/``calc_texture_score``: HR = 1, ``calc_added_energy``; ``niqe.calc_niqe`` of the SR
    alone), then averaged over the set.

    Args:
        model: a generator, None for the bicubic baseline (see ``inference.super_resolve``), or ``"hr"`` to score
            the HR images themselves (their NIQE).
        list_path: the set's CSV from ``create_data_lists.py``. A missing or empty list gives 0 images and NaN
            metrics (and a printed note), never an error, so a missing set shows in the tables.
        dataset_name: the set's name in the results, e.g. ``'Set5'``.
        model_name: the model's name in the results; default ``'bicubic'`` / ``'model'``.
        max_images: evaluate only the first N images (None = all).
        tile_size, device: passed to ``inference.super_resolve``.
        results_folder: if given, the per-image rows go to ``<results_folder>/per_image/<model>_<set>.csv``.
        progress: show a tqdm progress bar.
        niqe_model: NIQE's pristine model (``niqe.load_pristine_model``); None: NIQE is NaN.
    Returns:
        ``(rows, summary)``: rows ``[{'name', 'seconds', **score_image}]`` (seconds: the upscaling alone); summary
        ``{'model', 'dataset', 'images', 'seconds' (mean per image), the mean of each score, 'note', 'failures'
        (messages naming the images that were skipped: unreadable, or too small for a score)}``.
    """
    model_name = model_name or ("bicubic" if model is None else "model")
    results = _evaluate_models_on_set({model_name: model}, list_path, dataset_name, max_images, tile_size,
                                      device, results_folder, progress, niqe_model)
    return results[model_name]


def evaluate_all(models, lists_folder, datasets=DEFAULT_TEST_SETS, max_images=None, results_folder="results",
                 tile_size=None, device=None, progress=True, niqe_model=None):
    """Evaluate every model on every test set and write the tables.

    Args:
        models: dict name -> generator, or None for the bicubic baseline (e.g. from ``load_models``); with a
            ``niqe_model``, an ``"hr"`` row (the HR images' own NIQE) is added.
        niqe_model: NIQE's pristine model (``niqe.load_pristine_model``); None: NIQE is NaN.
        lists_folder: folder of the CSV lists (``<lists_folder>/<dataset>.csv``).
        datasets: set names; a set without a list is reported as missing (0 images, NaN), not dropped.
        max_images: only the first N images of each set (None = all).
        results_folder: where ``metrics.csv``, ``metrics.md`` and ``per_image/<model>_<set>.csv`` go (None =
            write nothing). The tables are rewritten (atomically) after every set.
        tile_size, device: passed to ``inference.super_resolve``.
        progress: tqdm progress bars.
    Returns:
        list of summaries (see ``evaluate_dataset``), one per (model, set), models outer, sets inner.
    """
    models = {**models, "hr": "hr"} if niqe_model is not None else models
    by_key = {}
    for dataset_name in datasets:
        results = _evaluate_models_on_set(models, Path(lists_folder) / f"{dataset_name}.csv", dataset_name,
                                          max_images, tile_size, device, results_folder, progress, niqe_model)
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


def format_added(added, chroma):
    """The ``added / chroma`` cell (``utils.calc_added_energy``, grey levels RMS): ``'2.10 / 0.61'``."""
    return f"{added:.2f} / {chroma:.2f}"


def metrics_markdown(summaries):
    """Markdown tables of summaries, one row per model and one column per set: ``PSNR / SSIM``; NIQE (with the HR
    images' own, when measured); ``grid / texture`` (HR = 1); ``added / chroma`` (grey levels RMS); the mean
    seconds per image; then the number of images per set. The ``hr`` rows appear in the NIQE table only."""
    models = list(dict.fromkeys(summary["model"] for summary in summaries))
    datasets = list(dict.fromkeys(summary["dataset"] for summary in summaries))
    lookup = {(summary["model"], summary["dataset"]): summary for summary in summaries}
    sr_models = [model for model in models if model != "hr"]

    def table(title, header, text, rows=sr_models):
        lines = [title, "", "| Model | " + " | ".join(f"{name} {header}" for name in datasets) + " |",
                 "|---|" + "---|" * len(datasets)]
        for model in rows:
            cells = []
            for dataset in datasets:
                summary = lookup.get((model, dataset))
                cells.append("n/a" if summary is None or not summary["images"] else text(summary))
            lines.append(f"| {display_name(model)} | " + " | ".join(cells) + " |")
        return lines + [""]

    lines = table("PSNR (dB) / SSIM, higher is better:", "PSNR / SSIM",
                  lambda s: format_psnr_ssim(s["psnr"], s["ssim"]))
    if any(np.isfinite(summary["niqe"]) for summary in summaries):
        lines += table("NIQE (no reference; lower = closer to the statistics of natural photographs; noise can lower "
                       "it too, so read it beside PSNR):", "NIQE", lambda s: f"{s['niqe']:.2f}", models)
    lines += table("Grid / texture scores (spectral energy of the SR image relative to the HR's, HR = 1: grid at the "
                   "2- and 4-pixel periods, above 1 = a periodic grid; texture above the LR's Nyquist frequency, "
                   "below 1 = over-smooth):", "grid / texture", lambda s: format_grid_texture(s["grid"], s["texture"]))
    lines += table("Added / chroma (grey levels RMS of what the SR image has above the LR's Nyquist frequency that "
                   "the HR lacks there, tile by tile and frequency by frequency: in Y, and in colour):",
                   "added / chroma", lambda s: format_added(s["added"], s["added_chroma"]))
    lines += table("Mean seconds per image (the upscaling alone):", "seconds", lambda s: f"{s['seconds']:.3f}")
    counts = {dataset: max((s["images"] for s in summaries if s["dataset"] == dataset), default=0)
              for dataset in datasets}
    images = ", ".join(f"{dataset} {count}" for dataset, count in counts.items())
    lines += [f"x{SCALE}, Y channel (ITU-R BT.601), {SCALE}-pixel border cropped, SSIM with an 11x11 Gaussian "
              f"window (Wang et al. 2004). Images: {images}; n/a = no images.", ""]
    return "\n".join(lines)


def write_metrics(summaries, results_folder="results"):
    """Write ``metrics.csv`` (columns exactly ``METRICS_COLUMNS``) and ``metrics.md`` atomically into
    ``results_folder``. Returns ``(csv_path, md_path)``."""
    folder = Path(results_folder)
    rows = [{"model": s["model"], "dataset": s["dataset"], "psnr": f"{s['psnr']:.4f}", "ssim": f"{s['ssim']:.6f}",
             "images": s["images"], **{key: f"{s[key]:.4f}" for key in SCORES[2:]}} for s in summaries]
    write_csv(folder / "metrics.csv", rows, METRICS_COLUMNS)
    with atomic_path(folder / "metrics.md") as tmp_path:
        Path(tmp_path).write_text(metrics_markdown(summaries), encoding="utf-8")
    return folder / "metrics.csv", folder / "metrics.md"


# ----------------------------------------------------------------------------------------------
# Figures
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
    image = as_rgb(image)
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


def compare_set(models, list_path, out_folder, max_images=None, tile_size=None, device=None, zoom_box=None,
                progress=True):
    """Super-resolve every image of a set with every model and draw one comparison figure per image.

    Writes ``<out_folder>/<model>/<name>.png`` (the SR image of each model, bicubic included:
    ``inference.super_resolve_set``) and ``<out_folder>/compare_<name>.png`` (LR, each model, HR, with a zoomed
    crop), e.g. ``results/Set5/...``.

    Args:
        models: dict name -> generator or None (bicubic), e.g. from ``inference.load_models``.
        list_path: the set's CSV list.
        out_folder: the output folder.
        max_images: only the first N images (None = all).
        tile_size, device: passed to ``inference.super_resolve``.
        zoom_box: ``(y, x, h, w)`` for every figure, or None to pick the most detailed region of each HR.
        progress: a tqdm progress bar.
    Returns:
        list of ``{'name', 'images': {model: path}, 'figure': path}``.
    """
    written = []
    for image in super_resolve_set(models, list_path, out_folder, max_images, tile_size, device, progress):
        panels = {"LR": image["lr"]}
        for name, sr in image["sr"].items():
            panels[display_name(name)] = sr
        panels["HR"] = image["hr"]
        figure = compare_figure(panels, zoom_box=zoom_box, title=f"{image['name']} (x{SCALE})")
        figure_path = save_figure(figure, Path(out_folder) / f"compare_{image['name']}.png")
        written.append({"name": image["name"], "images": image["paths"], "figure": figure_path})
    return written


# ----------------------------------------------------------------------------------------------
# Training curves
# ----------------------------------------------------------------------------------------------
def read_log(path):
    """The rows of a CSV log of ``solver.train`` as dicts of strings (``[]`` when the file does not exist)."""
    if not os.path.exists(path):
        return []
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def plot_training_curves(log_folder, phases=("srresnet", "srgan", "baseline")):
    """Plot the losses (per iteration, with a running mean) and validation PSNR (per epoch) that
    ``solver.train`` logged to ``<log_folder>/<phase>_iterations.csv`` / ``<phase>_epochs.csv``.

    Returns a matplotlib Figure made with pyplot (so a notebook shows it), one row per phase that has logs: the
    losses (log scale) left, the validation PSNR (Y channel, dB) right; None if no phase has logs.
    """
    import matplotlib.pyplot as plt

    logged = [(phase, read_log(os.path.join(log_folder, f"{phase}_iterations.csv")),
               read_log(os.path.join(log_folder, f"{phase}_epochs.csv"))) for phase in phases]
    logged = [entry for entry in logged if entry[1] or entry[2]]
    if not logged:
        return None
    figure, axes = plt.subplots(len(logged), 2, figsize=(12, 3.6 * len(logged)), squeeze=False)
    for (phase, iterations, epochs), (loss_axis, val_axis) in zip(logged, axes):
        steps = np.arange(1, len(iterations) + 1)
        for name in ("content", "loss_g", "loss_d", "adversarial"):
            if iterations and name in iterations[0]:
                values = np.array([float(row[name]) for row in iterations])
                window = max(1, len(values) // 50)
                smooth = np.convolve(values, np.ones(window) / window, mode="valid")
                line, = loss_axis.plot(steps, values, alpha=0.25, linewidth=0.8)
                loss_axis.plot(steps[window - 1:], smooth, color=line.get_color(), label=name)
        loss_axis.set(title=f"{phase}: training losses", xlabel="iteration", yscale="log")
        loss_axis.legend(fontsize=8)
        if epochs:
            val_axis.plot([int(r["epoch"]) for r in epochs], [float(r["val_psnr"]) for r in epochs], "o-")
        val_axis.set(title=f"{phase}: validation PSNR (Y, dB)", xlabel="epoch")
        val_axis.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def plot_validation_curves(runs, reference=None):
    """Validation PSNR against training hours for several runs, e.g. to compare samplers or schedules.

    Args:
        runs: dict label -> path of a ``<phase>_epochs.csv`` written by ``solver.train`` (columns ``seconds``:
            the training seconds of each epoch, and ``val_psnr``).
        reference: optional ``(label, PSNR in dB)`` drawn as a dashed line, e.g. bicubic on the same images.
    Returns:
        a matplotlib Figure: one line per run, x = hours of training (cumulative ``seconds``, validation
        excluded), y = validation PSNR (Y channel, dB) after each epoch.
    """
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4.5))
    for label, path in runs.items():
        epochs = read_log(path)
        if not epochs or "val_psnr" not in epochs[0] or "seconds" not in epochs[0]:
            raise ValueError(f"{path}: not an epochs log of solver.train (needs 'seconds' and 'val_psnr' columns)")
        hours = np.cumsum([float(row["seconds"]) for row in epochs]) / 3600
        axis.plot(hours, [float(row["val_psnr"]) for row in epochs], ".-", label=f"{label} ({len(epochs)} epochs)")
    if reference is not None:
        axis.axhline(reference[1], color="grey", linestyle="--", label=reference[0])
    axis.set(xlabel="hours of training", ylabel="validation PSNR (Y, dB)",
             title="Validation PSNR against training time")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure

"""The metric tables of x4 super-resolution: every score of every model on every test set (``metrics.py``, and
``niqe.py``), as ``results/metrics.csv``, ``results/metrics.md`` and one CSV per model and set.

``test.ipynb`` calls ``evaluate_all``; training validates with ``evaluate_dataset``. Images are numpy ``uint8``
arrays ``HxWx3`` (RGB, 0..255) throughout; the metrics follow README.md, "Evaluation protocol". The comparison
figures are ``figures.py``, the training curves ``curves.py``.

Public functions: ``score_image``, ``evaluate_dataset``, ``evaluate_all``, ``metrics_markdown``, ``write_metrics``,
``format_psnr_ssim``, ``format_grid_texture``, ``format_added``, ``display_name``.
"""
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from datasets import TestDataset
from inference import super_resolve
from metrics import calc_added_energy, calc_psnr, calc_spectral_scores, calc_ssim
from niqe import calc_niqe
from utils import DEFAULT_TEST_SETS, SCALE, atomic_path, write_csv

# Newer scores follow the older columns, which keep their order: grid, texture (metrics.calc_grid_score /
# calc_texture_score, HR = 1); niqe (niqe.calc_niqe, NaN when no pristine model was given); added, added_chroma
# (metrics.calc_added_energy, grey levels RMS). The "hr" rows hold the HR images' own NIQE (and 1 / 1 / 0 / 0).
SCORES = ("psnr", "ssim", "grid", "texture", "niqe", "added", "added_chroma")
METRICS_COLUMNS = ("model", "dataset", "psnr", "ssim", "images", "grid", "texture", "niqe", "added", "added_chroma")
PER_IMAGE_COLUMNS = ("name", "psnr", "ssim", "seconds", "grid", "texture", "niqe", "added", "added_chroma")
DISPLAY_NAMES = {"bicubic": "Bicubic", "srresnet": "SRResNet", "srgan": "SRGAN", "srgan_mse": "SRGAN-MSE",
                 "srgan_1120": "SRGAN (1,120 updates)", "srgan_epoch36": "SRGAN (end: 10,080 updates)",
                 "baseline": "GAN from scratch", "lr": "LR", "hr": "HR"}


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
    count = 0 if dataset is None else dataset.count(max_images)
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
    4-pixel border cropped (``score_image``: ``metrics.calc_psnr``/``calc_ssim``, the spectral diagnostics
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
    """The ``added / chroma`` cell (``metrics.calc_added_energy``, grey levels RMS): ``'2.10 / 0.61'``."""
    return f"{added:.2f} / {chroma:.2f}"


def metrics_markdown(summaries):
    """Markdown tables of summaries, one row per model and one column per set: ``PSNR / SSIM``; NIQE (with the HR
    images' own, when measured; else one line: n/a); ``grid / texture`` (HR = 1); ``added / chroma`` (grey levels
    RMS); the mean seconds per image; then the number of images per set. The ``hr`` rows appear in the NIQE table
    only."""
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
    else:
        lines += ["NIQE: n/a (measured only with NIQE's pristine model, niqe.load_pristine_model).", ""]
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

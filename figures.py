"""Comparison figures of x4 super-resolution: one image by every model side by side with a zoomed crop, for a person
to look at (``super_resolution.ipynb``, ``results/Set5/compare_<name>.png``).

Every figure is a ``matplotlib.figure.Figure`` made without pyplot (no global state; a notebook displays it, and
``save_figure`` writes it). Images are numpy ``uint8`` arrays ``HxWx3`` (RGB, 0..255).

Public functions: ``load_example``, ``auto_zoom_box``, ``compare_figure``, ``save_figure``, ``figure_preview``,
``compare_set``, ``saved_set_images``, ``regions_figure``.
"""
import io
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image

from datasets import TestDataset, read_data_list
from evaluation import display_name
from inference import super_resolve_set
from metrics import calc_psnr, calc_ssim
from utils import SCALE, as_rgb, atomic_path, convert_image, load_image, modcrop, nearest_upscale


def load_example(image_path=None, hr_path=None, list_path=None, name="butterfly"):
    """One LR image (and its HR when known) to show.

    Either ``image_path`` (an LR image file, any format ``load_image`` reads) with an optional ``hr_path``
    (cropped to a multiple of 4; it must be 4x the LR's size), or, when ``image_path`` is None, the image
    called ``name`` of the data list ``list_path`` (its first image when ``name`` is None; ``ValueError`` naming the
    list and its images when none has that name).

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
        if name is not None and name not in names:
            raise ValueError(f"{list_path}: no image named {name!r} (it has: {', '.join(names)})")
        return dataset[0 if name is None else names.index(name)]
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
    return nearest_upscale(image, factor)


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

    captions = _captions(images, reference)
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


def _captions(images, reference):
    """Each image's label, with its PSNR / SSIM against ``images[reference]`` below when it has its size."""
    captions = {label: label for label in images}
    truth = images.get(reference)
    if truth is not None:
        for label, image in images.items():
            if label != reference and np.asarray(image).shape == np.asarray(truth).shape:
                try:
                    captions[label] += f"\n{calc_psnr(image, truth):.2f} dB / {calc_ssim(image, truth):.4f}"
                except ValueError:  # too small for the border crop or the SSIM window
                    pass
    return captions


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


# Where the SRGAN's artefacts showed on Set5 (issue 37): (image, region, (y, x, h, w) in HR pixels).
SET5_REGIONS = (("bird", "beak", (40, 160, 96, 96)), ("head", "hair", (0, 120, 96, 96)),
                ("butterfly", "black between the dots", (100, 160, 96, 96)), ("woman", "hat", (8, 24, 72, 72)),
                ("woman", "face", (96, 96, 72, 72)), ("baby", "hat", (40, 100, 96, 96)))


def saved_set_images(out_folder, models, list_path, max_images=None):
    """``{label: {image name: uint8 HxWx3}}``: the SR images ``compare_set`` wrote for each of ``models`` (names, as
    in ``<out_folder>/<model>/<name>.png``; labels by ``display_name``), then the HR images of the set's list as
    ``"HR"``; the first ``max_images`` of the list (None: all). ``ValueError`` naming an image that is missing or
    unreadable (``load_image``)."""
    rows = read_data_list(list_path)[:max_images]
    names = [Path(row["hr_path"]).stem for row in rows]
    images = {display_name(model): {name: load_image(Path(out_folder) / model / f"{name}.png") for name in names}
              for model in models}
    images["HR"] = {name: modcrop(as_rgb(load_image(row["hr_path"]))) for name, row in zip(names, rows)}  # SR's size
    return images


def regions_figure(images, regions=SET5_REGIONS, panel_size=2.2):
    """The same regions of several models' images side by side: one row per region, one column per label, each
    crop shown enlarged without interpolation (for a person to judge detail against artefacts).

    Args:
        images: dict label -> dict image name -> ``uint8`` image (``saved_set_images``), in display order.
        regions: ``(image name, region, (y, x, h, w))`` in HR pixels (``SET5_REGIONS``); a region is left out when
            a label lacks its image or its box is not inside that image (another image of the same name).
        panel_size: inches per panel.
    Returns:
        a ``matplotlib.figure.Figure``, or None when no region can be shown.
    """
    def fits(name, box):
        y, x, h, w = box
        return all(name in by_name and y >= 0 and x >= 0 and y + h <= np.asarray(by_name[name]).shape[0]
                   and x + w <= np.asarray(by_name[name]).shape[1] for by_name in images.values())

    regions = [(name, region, box) for name, region, box in regions if fits(name, box)]
    if not regions:
        return None
    figure = Figure(figsize=(panel_size * len(images), panel_size * len(regions)), layout="constrained")
    axes = figure.subplots(len(regions), len(images), squeeze=False)
    for row, (name, region, (y, x, h, w)) in enumerate(regions):
        for column, (label, by_name) in enumerate(images.items()):
            axis = axes[row, column]
            axis.imshow(np.asarray(by_name[name])[y:y + h, x:x + w], interpolation="nearest")
            axis.set_xticks([])
            axis.set_yticks([])
            if row == 0:
                axis.set_title(label, fontsize=10)
            if column == 0:
                axis.set_ylabel(f"{name}: {region}", fontsize=9)
    return figure

"""Training curves from the CSV logs that ``training.train`` writes: ``<log_folder>/<phase>_iterations.csv`` (the
losses of every update) and ``<phase>_epochs.csv`` (per epoch: the mean losses, the time, validation on held-out
images). The logs hold a phase's whole history across sittings, so the curves do too.

Every figure is a ``matplotlib.figure.Figure`` made without pyplot (a notebook displays it; ``figures.save_figure``
writes it). Public functions: ``plot_training_curves``, ``plot_validation_curves``, ``plot_tradeoffs`` (runs in the
plane of PSNR against a perceptual score), ``plot_frontier`` (runs in the planes of NIQE against the artefact scores)
and ``epochs_table`` (the epochs log as a Markdown table).
"""
import os

import numpy as np
from matplotlib.figure import Figure

from evaluation import SCORES
from solver import STEP_LOSSES
from utils import read_csv

PHASE_TITLES = {"srresnet": "SRResNet", "srgan": "SRGAN", "baseline": "GAN from scratch"}
LABELS = {"loss_g": "G: total", "adversarial": "G: adversarial (-log D(SR))", "loss_d": "D: BCE",
          "d_real": "D(HR)", "d_fake": "D(SR)"}


def _updates(rows):
    """The update number of each row of an iterations log (1 = the first update of epoch 1)."""
    per_epoch = {}
    for row in rows:
        per_epoch[int(row["epoch"])] = max(per_epoch.get(int(row["epoch"]), 0), int(row["iteration"]))
    offsets, total = {}, 0
    for epoch in sorted(per_epoch):
        offsets[epoch], total = total, total + per_epoch[epoch]
    return np.array([offsets[int(row["epoch"])] + int(row["iteration"]) for row in rows])


def _plot_smoothed(axis, x, values, label):
    """Each value faint (fainter the more there are, so that thousands of updates do not paint a solid band), and
    their running mean over 1/50 of the points."""
    window = max(1, len(values) // 50)
    line, = axis.plot(x, values, alpha=min(0.2, max(0.03, 100 / len(values))), linewidth=0.7)
    axis.plot(x[window - 1:], np.convolve(values, np.ones(window) / window, mode="valid"), color=line.get_color(),
              label=label)


def plot_training_curves(log_folder, phases=tuple(PHASE_TITLES)):
    """One row per phase that has logs, against the number of updates: the content loss; in the adversarial phases
    also G's adversarial loss and D's loss, and D's mean output on HR and SR images (D(HR), D(SR)); last, the
    validation PSNR (dB) after each epoch, and in the adversarial phases the grid and texture scores, the added
    energy and NIQE when they were logged. Returns the Figure, or None when no phase has logs."""
    logged = [(phase, read_csv(os.path.join(log_folder, f"{phase}_iterations.csv")),
               read_csv(os.path.join(log_folder, f"{phase}_epochs.csv"))) for phase in phases]
    logged = [entry for entry in logged if entry[1] and entry[2]]
    if not logged:
        return None
    adversarial = {phase: [name for name in STEP_LOSSES["adversarial"] if name in iterations[0] and name != "content"]
                   for phase, iterations, _ in logged}
    columns = 4 if any(adversarial.values()) else 2  # a phase-1 row: content loss, validation
    figure = Figure(figsize=(4 * columns, 3.4 * len(logged)), layout="constrained")
    axes = figure.subplots(len(logged), columns, squeeze=False)
    for (phase, iterations, epochs), row in zip(logged, axes):
        x = _updates(iterations)
        _plot_smoothed(row[0], x, [float(r["content"]) for r in iterations], "content")
        row[0].set(title=f"{PHASE_TITLES.get(phase, phase)}: content loss", xlabel="update", yscale="log")
        if adversarial[phase]:
            for name, axis in (("loss_g", row[1]), ("adversarial", row[1]), ("loss_d", row[1]),
                               ("d_real", row[2]), ("d_fake", row[2])):
                if name in adversarial[phase]:
                    _plot_smoothed(axis, x, [float(r[name]) for r in iterations], LABELS[name])
            row[1].set(title="G's and D's losses", xlabel="update", yscale="log")  # 0.1 beside 5
            row[2].set(title="D's mean output (1 = real)", xlabel="update", ylim=(0, 1))
            shown = row
        else:  # content loss, then validation in the last column, under the adversarial phases' validation
            shown = [row[0], row[-1]]
            for axis in row[1:-1]:
                axis.set_visible(False)
        _plot_validation(shown[-1], epochs)
        for axis in shown[:-1]:
            axis.legend(fontsize=8)
        for axis in shown:
            axis.grid(alpha=0.3)
    return figure


# The columns of an epochs log that epochs_table shows, in order, with their heading and format.
EPOCH_COLUMNS = {"epoch": ("epoch", "{:.0f}"), "lr": ("lr", "{:.2g}"), "content": ("content", "{:.5f}"),
                 "loss_g": ("G: total", "{:.4f}"), "loss_d": ("D: BCE", "{:.3f}"),
                 "adversarial": ("G: -log D(SR)", "{:.2f}"),
                 "d_real": ("D(HR)", "{:.2f}"), "d_fake": ("D(SR)", "{:.2f}"), "periodic": ("periodic", "{:.5f}"),
                 "seconds": ("s", "{:.0f}"), "val_psnr": ("val PSNR", "{:.2f}"), "val_ssim": ("val SSIM", "{:.4f}"),
                 **{f"val_{score}": (f"val {score}", "{:.2f}") for score in SCORES[2:]}}


def epochs_table(log_folder, phase):
    """``<log_folder>/<phase>_epochs.csv``, every epoch of the phase's whole history, as a Markdown table: the
    learning rate, the mean losses of the epoch (the content loss; in the adversarial phases G's total and
    adversarial losses, D's loss, D's mean outputs and the periodic error), its training seconds and the validation
    on the held-out images (PSNR dB, SSIM, and the perceptual scores that were logged). An empty, NaN or missing
    cell shows as ``-``. Returns ``""`` when the phase has no log."""
    rows = read_csv(os.path.join(log_folder, f"{phase}_epochs.csv"))
    if not rows:
        return ""
    shown = [key for key in EPOCH_COLUMNS if key in rows[0] and any(row[key] not in (None, "", "nan") for row in rows)]

    def cell(row, key):
        try:
            value = float(row[key])
        except (TypeError, ValueError):  # a short row (None) or an empty cell
            return "-"
        return EPOCH_COLUMNS[key][1].format(value) if np.isfinite(value) else "-"

    lines = ["| " + " | ".join(EPOCH_COLUMNS[key][0] for key in shown) + " |", "|" + "---|" * len(shown)]
    lines += ["| " + " | ".join(cell(row, key) for key in shown) + " |" for row in rows]
    return "\n".join(lines)


def _plot_validation(axis, epochs):
    """Validation PSNR after each epoch (left axis) and the perceptual scores that were logged (right axis), in one
    legend."""
    updates = np.cumsum([int(r["iterations"]) for r in epochs])
    axis.plot(updates, [float(r["val_psnr"]) for r in epochs], "o-", color="black", label="PSNR (dB)")
    axis.set(title="validation (held-out images)", xlabel="update", ylabel="PSNR (dB)")
    other = axis.twinx()
    logged = []
    for score in SCORES[2:]:
        values = [float(r.get(f"val_{score}", "nan") or "nan") for r in epochs]
        if np.isfinite(values).any():
            other.plot(updates, values, ".--", label=score)
            logged.append(score)
    if logged:
        handles, labels = axis.get_legend_handles_labels()
        more, more_labels = other.get_legend_handles_labels()
        other.legend(handles + more, labels + more_labels, fontsize=7, loc="upper center",  # below the panel:
                     ncol=min(3, len(labels) + len(logged)), bbox_to_anchor=(0.5, -0.22))  # hides no point
        other.set_ylabel(", ".join(logged) if len(logged) <= 2 else "scores (see legend)")
    else:
        axis.legend(fontsize=8)
        other.set_visible(False)


def plot_validation_curves(runs, reference=None):
    """Validation PSNR against training hours for several runs, e.g. to compare samplers or schedules.

    Args:
        runs: dict label -> path of a ``<phase>_epochs.csv`` written by ``training.train`` (columns ``seconds``:
            the training seconds of each epoch, and ``val_psnr``).
        reference: optional ``(label, PSNR in dB)`` drawn as a dashed line, e.g. bicubic on the same images.
    Returns:
        a Figure: one line per run, x = hours of training (cumulative ``seconds``, validation excluded), y = validation
        PSNR (Y channel, dB) after each epoch.
    """
    figure = Figure(figsize=(8, 4.5), layout="constrained")
    axis = figure.subplots()
    for label, path in runs.items():
        epochs = read_csv(path)
        if not epochs or "val_psnr" not in epochs[0] or "seconds" not in epochs[0]:
            raise ValueError(f"{path}: not an epochs log of training.train (needs 'seconds' and 'val_psnr' columns)")
        hours = np.cumsum([float(row["seconds"]) for row in epochs]) / 3600
        axis.plot(hours, [float(row["val_psnr"]) for row in epochs], ".-", label=f"{label} ({len(epochs)} epochs)")
    if reference is not None:
        axis.axhline(reference[1], color="grey", linestyle="--", label=reference[0])
    axis.set(xlabel="hours of training", ylabel="validation PSNR (Y, dB)",
             title="Validation PSNR against training time")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    return figure


def plot_tradeoffs(runs, start=None, hr=None, scores=("niqe", "added_chroma")):
    """Each run's path through the planes of validation PSNR against perceptual scores, one point per epoch: how much
    distortion a run pays for what it gains (the perception-distortion trade-off of Blau & Michaeli 2018).

    Args:
        runs: dict label -> path of an adversarial phase's ``<phase>_epochs.csv`` (columns ``val_psnr`` and
            ``val_<score>`` for each score).
        start: optional dict score -> value of the model the runs start from (``"psnr"`` and each score, on the same
            images), drawn as a black star and joined to each path's first point.
        hr: optional dict score -> the HR images' own value (e.g. their NIQE), drawn as a dashed grey line.
        scores: the scores of ``evaluation.SCORES`` on the y axes, one panel each.
    Returns:
        a Figure with one panel per score: x = validation PSNR (Y, dB; the axis runs right to left, so that a path
        reads left to right as a run gives up PSNR), y = the score after each epoch (an epoch validated without it:
        a gap), the last epoch labelled with its number.
    """
    figure = Figure(figsize=(4.5 * len(scores), 4.2), layout="constrained")
    axes = figure.subplots(1, len(scores), squeeze=False)[0]
    for label, path in runs.items():
        epochs = read_csv(path)
        missing = [f"val_{key}" for key in ("psnr", *scores) if not epochs or f"val_{key}" not in epochs[0]]
        if missing:
            raise ValueError(f"{path}: not an epochs log with validation scores (missing {', '.join(missing)})")
        psnr = [float(row["val_psnr"]) for row in epochs]
        for axis, score in zip(axes, scores):
            values = [float(row[f"val_{score}"] or "nan") for row in epochs]
            xs, ys = ([start["psnr"]] + psnr, [start[score]] + values) if start else (psnr, values)
            line, = axis.plot(xs, ys, ".-", label=label)
            axis.annotate(str(len(epochs)), (psnr[-1], values[-1]), textcoords="offset points", xytext=(-3, 3),
                          ha="right", fontsize=7, color=line.get_color())
    for axis, score in zip(axes, scores):
        if start:
            axis.plot([start["psnr"]], [start[score]], "*", color="black", markersize=10, label="start")
        if hr and score in hr:
            axis.axhline(hr[score], color="grey", linestyle="--", label="HR")
        axis.set(xlabel="validation PSNR (Y, dB)", ylabel=f"validation {score}", title=f"{score} against PSNR")
        axis.invert_xaxis()
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    return figure


def plot_frontier(runs, start, limits=None, chosen=None, scores=("added", "added_chroma", "psnr")):
    """Each run's path in the planes of NIQE against the artefact scores (and PSNR), one point per epoch, on held-out
    images: a run whose path lies below another's reaches more natural-looking images (lower NIQE) for the same
    added pattern (issue 37's frontier).

    Args:
        runs: dict label -> path of an adversarial phase's ``<phase>_epochs.csv`` (``val_niqe`` and ``val_<score>``).
        start: dict score -> the SRResNet's value (``selection.srresnet_reference``; ``niqe`` too, if known), drawn as
            a black star joined to each path's first point.
        limits: optional dict score -> the rule's limit on that score (``selection``: reference + allowance, or
            reference - allowance for PSNR), a dashed line.
        chosen: optional dict label -> the epoch the rule chose for that run, circled.
        scores: the x axis of each panel.
    Returns:
        a Figure, one panel per score: x = the score (PSNR's axis runs right to left, so that every path reads left
        to right as the run moves away from the SRResNet), y = NIQE (lower: more natural); each path's last epoch
        labelled with its number.
    """
    figure = Figure(figsize=(4.6 * len(scores), 4.4), layout="constrained")
    axes = figure.subplots(1, len(scores), squeeze=False)[0]
    for label, path in runs.items():
        epochs = [row for row in read_csv(path) if row.get("val_niqe") not in (None, "", "nan")]
        if not epochs or any(f"val_{score}" not in epochs[0] for score in scores):
            raise ValueError(f"{path}: not an epochs log with val_niqe and val_{', val_'.join(scores)}")
        niqe = [float(row["val_niqe"]) for row in epochs]
        for axis, score in zip(axes, scores):
            values = [float(row[f"val_{score}"]) for row in epochs]
            xs, ys = ([start[score]] + values, [start["niqe"]] + niqe) if "niqe" in start else (values, niqe)
            line, = axis.plot(xs, ys, ".-", label=label, linewidth=1)
            axis.annotate(epochs[-1]["epoch"], (values[-1], niqe[-1]), textcoords="offset points", xytext=(3, 3),
                          fontsize=7, color=line.get_color())
            if chosen and label in chosen:
                row = next(row for row in epochs if int(row["epoch"]) == int(chosen[label]))
                axis.plot([float(row[f"val_{score}"])], [float(row["val_niqe"])], "o", markersize=11,
                          markerfacecolor="none", color=line.get_color())
    for axis, score in zip(axes, scores):
        if "niqe" in start:
            axis.plot([start[score]], [start["niqe"]], "*", color="black", markersize=11, label="SRResNet")
        if limits and score in limits:
            axis.axvline(limits[score], color="grey", linestyle="--", linewidth=1, label="the rule's limit")
        axis.set(xlabel=f"validation {score}" + (" (dB)" if score == "psnr" else " (grey levels RMS)"),
                 ylabel="validation NIQE (lower: more natural)", title=f"NIQE against {score}")
        if score == "psnr":
            axis.invert_xaxis()
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    return figure

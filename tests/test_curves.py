"""curves.py: the training curves of every phase from the CSV logs, against updates."""
import math

import pytest
from matplotlib.figure import Figure

import curves


def _write_log(path, columns, rows):
    path.write_text(",".join(columns) + "\n" + "".join(",".join(str(v) for v in row) + "\n" for row in rows))


def test_plot_training_curves(tmp_path):
    assert curves.plot_training_curves(tmp_path) is None  # no logs yet
    _write_log(tmp_path / "srresnet_iterations.csv", ("epoch", "iteration", "content"),
               [(1 + (n - 1) // 50, 1 + (n - 1) % 50, 1 / n) for n in range(1, 101)])
    _write_log(tmp_path / "srresnet_epochs.csv", ("epoch", "iterations", "val_psnr"), [(1, 50, 20.5), (2, 50, 21.25)])
    figure = curves.plot_training_curves(tmp_path)
    assert isinstance(figure, Figure)
    content_axis, val_axis = figure.axes[:2]  # phase 1 alone: two panels, no adversarial ones
    assert content_axis.get_title() == "SRResNet: content loss"
    assert list(content_axis.lines[0].get_xdata()) == list(range(1, 101))  # updates across the two epochs
    assert list(val_axis.lines[0].get_xdata()) == [50, 100] and list(val_axis.lines[0].get_ydata()) == [20.5, 21.25]
    assert len([axis for axis in figure.axes if axis.get_visible()]) == 2


def test_adversarial_curves_show_both_losses_and_d_on_hr_and_sr(tmp_path):
    columns = ("epoch", "iteration", "loss_d", "loss_g", "content", "adversarial", "d_real", "d_fake")
    _write_log(tmp_path / "srgan_iterations.csv", columns,
               [(1, n, 1.2, 0.02, 0.01, 5.0, 0.8, 0.25) for n in range(1, 11)])
    _write_log(tmp_path / "srgan_epochs.csv", ("epoch", "iterations", "val_psnr", "val_grid", "val_niqe"),
               [(1, 10, 29.5, 1.1, 5.5)])
    figure = curves.plot_training_curves(tmp_path, phases=("srgan",))
    losses, outputs, validation = figure.axes[1], figure.axes[2], figure.axes[3]
    assert [text.get_text() for text in losses.get_legend().get_texts()] == [
        "G: total", "G: adversarial (-log D(SR))", "D: BCE"]
    assert losses.get_yscale() == "log"  # G's total (0.02) would lie flat on zero beside -log D(SR) (5.0)
    assert [text.get_text() for text in outputs.get_legend().get_texts()] == ["D(HR)", "D(SR)"]
    assert outputs.lines[1].get_ydata()[0] == pytest.approx(0.8)  # faint line of each, then its running mean
    twin = figure.axes[4]  # the right-hand axis of the validation panel: the perceptual scores that were logged
    assert [line.get_label() for line in twin.lines] == ["grid", "niqe"] and validation.lines[0].get_ydata()[0] == 29.5
    assert [text.get_text() for text in twin.get_legend().get_texts()] == ["PSNR (dB)", "grid", "niqe"]  # one legend


def test_a_phase_1_row_beside_adversarial_rows_keeps_validation_in_the_last_column(tmp_path):
    _write_log(tmp_path / "srresnet_iterations.csv", ("epoch", "iteration", "content"), [(1, n, 0.02) for n in (1, 2)])
    _write_log(tmp_path / "srresnet_epochs.csv", ("epoch", "iterations", "val_psnr"), [(1, 2, 28.0)])
    columns = ("epoch", "iteration", "loss_d", "loss_g", "content", "adversarial", "d_real", "d_fake")
    _write_log(tmp_path / "srgan_iterations.csv", columns, [(1, n, 1.2, 0.02, 0.01, 5.0, 0.8, 0.25) for n in (1, 2)])
    _write_log(tmp_path / "srgan_epochs.csv", ("epoch", "iterations", "val_psnr"), [(1, 2, 27.0)])
    figure = curves.plot_training_curves(tmp_path)
    srresnet_row = figure.axes[:4]
    assert [axis.get_visible() for axis in srresnet_row] == [True, False, False, True]
    assert srresnet_row[3].get_title() == figure.axes[7].get_title() == "validation (held-out images)"


def test_plot_validation_curves_puts_each_run_on_hours_of_training(tmp_path):
    log = tmp_path / "srresnet_epochs.csv"
    log.write_text("epoch,seconds,val_psnr\n1,1800,25.0\n2,3600,27.5\n3,1800,28.0\n")
    figure = curves.plot_validation_curves({"run": log}, reference=("bicubic", 24.0))
    run_line, reference_line = figure.axes[0].lines
    assert list(run_line.get_xdata()) == [0.5, 1.5, 2.0] and list(run_line.get_ydata()) == [25.0, 27.5, 28.0]
    assert list(reference_line.get_ydata()) == [24.0, 24.0]
    (tmp_path / "iterations.csv").write_text("content\n0.1\n")
    with pytest.raises(ValueError, match="iterations.csv: not an epochs log"):
        curves.plot_validation_curves({"wrong file": tmp_path / "iterations.csv"})


def test_epochs_table_shows_every_epoch_of_the_log(tmp_path):
    assert curves.epochs_table(tmp_path, "srgan") == ""
    _write_log(tmp_path / "srgan_epochs.csv", ("epoch", "loss_d", "content", "adversarial", "d_real", "d_fake",
                                               "seconds", "iterations", "lr", "val_psnr", "val_grid", "val_niqe"),
               [(1, 0.678, 0.013664, 3.84, 0.806, 0.187, 423.0, 280, 1e-4, 30.94015, 1.3456, ""),
                (2, 0.403, 0.015170, 5.10, 0.899, 0.107, 202.0, 280, 1e-5, 30.87441, 1.1359, "")])
    lines = curves.epochs_table(tmp_path, "srgan").splitlines()
    assert lines[0] == "| epoch | lr | content | D: BCE | G: -log D(SR) | D(HR) | D(SR) | s | val PSNR | val grid |"
    assert lines[2:] == ["| 1 | 0.0001 | 0.01366 | 0.678 | 3.84 | 0.81 | 0.19 | 423 | 30.94 | 1.35 |",
                         "| 2 | 1e-05 | 0.01517 | 0.403 | 5.10 | 0.90 | 0.11 | 202 | 30.87 | 1.14 |"]
    with open(tmp_path / "srgan_epochs.csv", "a") as log:  # a row cut short, and a NaN
        log.write("3,0.5,nan\n")  # epoch, loss_d, content (NaN), then nothing
    assert curves.epochs_table(tmp_path, "srgan").splitlines()[-1] == "| 3 | - | - | 0.500 | - | - | - | - | - | - |"


def test_plot_tradeoffs_draws_each_run_from_the_start_through_its_epochs(tmp_path):
    log = tmp_path / "srgan_epochs.csv"
    _write_log(log, ("epoch", "val_psnr", "val_niqe", "val_added_chroma"), [(1, 30.5, 7.0, 0.9), (2, 30.1, 6.5, 1.0)])
    start = {"psnr": 30.9, "niqe": 7.1, "added_chroma": 0.6}
    figure = curves.plot_tradeoffs({"mse": log}, start=start, hr={"niqe": 5.3})
    niqe_axis, chroma_axis = figure.axes
    path, star, hr_line = niqe_axis.lines
    assert list(hr_line.get_ydata()) == [5.3, 5.3] and len(chroma_axis.lines) == 2  # the HR's line where given
    assert list(path.get_xdata()) == [30.9, 30.5, 30.1] and list(path.get_ydata()) == [7.1, 7.0, 6.5]
    assert list(chroma_axis.lines[0].get_ydata()) == [0.6, 0.9, 1.0] and list(star.get_ydata()) == [7.1]
    assert niqe_axis.xaxis_inverted() and niqe_axis.texts[0].get_text() == "2"  # the last epoch is labelled
    _write_log(log, ("epoch", "val_psnr", "val_niqe", "val_added_chroma"), [(1, 30.5, "", 0.9)])  # NIQE off
    assert math.isnan(curves.plot_tradeoffs({"mse": log}).axes[0].lines[0].get_ydata()[0])  # a gap, not an error
    _write_log(tmp_path / "old_epochs.csv", ("epoch", "val_psnr"), [(1, 30.0)])
    with pytest.raises(ValueError, match="old_epochs.csv: .*missing val_niqe, val_added_chroma"):
        curves.plot_tradeoffs({"old": tmp_path / "old_epochs.csv"})

"""The rule that chooses an adversarial run's epoch and ranks the screening runs (selection.py), and the frontier
figure that shows them (curves.plot_frontier)."""
import pytest
from matplotlib.figure import Figure

import curves
import selection
from utils import save_checkpoint, write_csv

REFERENCE = {"epoch": 54, "psnr": 30.9, "added": 1.4, "added_chroma": 0.8}


def _row(epoch, psnr, added, chroma, niqe):
    return {"epoch": str(epoch), "val_psnr": str(psnr), "val_added": str(added), "val_added_chroma": str(chroma),
            "val_niqe": str(niqe), "iterations": "280"}


def test_the_srresnet_reference_is_its_best_epoch(tmp_path):
    path = tmp_path / "srresnet_epochs.csv"
    write_csv(path, [{"epoch": 1, "val_psnr": 28.0, "val_added": 0.5, "val_added_chroma": 1.5},
                     {"epoch": 2, "val_psnr": 30.5, "val_added": 1.3, "val_added_chroma": 0.7},
                     {"epoch": 3, "val_psnr": 30.4, "val_added": 1.4, "val_added_chroma": 0.8}])
    assert selection.srresnet_reference(path) == {"epoch": 2, "psnr": 30.5, "added": 1.3, "added_chroma": 0.7}
    write_csv(path, [{"epoch": 1, "val_psnr": 28.0}])
    with pytest.raises(ValueError, match="srresnet_epochs.csv: not an epochs log with val_added"):
        selection.srresnet_reference(path)


def test_violation_is_the_worst_score_past_its_limit_as_a_share_of_its_allowance():
    assert selection.violation(_row(1, 30.9, 1.4, 0.8, 6), REFERENCE) == pytest.approx(-1)  # the SRResNet itself
    assert selection.violation(_row(1, 30.0, 2.1, 0.9, 6), REFERENCE) == pytest.approx(0)  # added at its limit
    assert selection.violation(_row(1, 30.0, 1.5, 1.1, 6), REFERENCE) == pytest.approx(0.5)  # chroma 0.1 past 0.2
    assert selection.violation(_row(1, 27.9, 1.5, 0.8, 6), REFERENCE) == pytest.approx(0.5)  # PSNR 1 dB past 2


def test_the_rule_takes_the_lowest_niqe_within_the_limits_else_the_closest_epoch():
    rows = [_row(1, 30.7, 1.6, 0.85, 6.8), _row(2, 30.4, 1.9, 0.95, 6.0), _row(3, 30.2, 2.3, 1.05, 5.6),
            _row(4, 30.0, 2.6, 1.2, 5.4)]
    row, admissible = selection.choose_epoch(rows, REFERENCE)
    assert (row["epoch"], admissible) == ("2", True)  # epochs 3 and 4 look better but add too much
    row, admissible = selection.choose_epoch(rows[2:], REFERENCE)
    assert (row["epoch"], admissible) == ("3", False)  # none within: the closest
    row, admissible = selection.choose_epoch([_row(5, 30.9, 1.4, 0.8, "nan")] + rows, REFERENCE)
    assert (row["epoch"], admissible) == ("2", True)  # an epoch without NIQE is left out
    with pytest.raises(ValueError, match="no epoch with all of"):
        selection.choose_epoch([_row(5, 30.9, 1.4, 0.8, "nan")], REFERENCE)


def test_runs_rank_admissible_first_by_niqe_then_by_violation(tmp_path):
    logs = {"reference": [_row(1, 30.5, 1.9, 1.05, 6.5), _row(2, 30.2, 2.4, 1.2, 5.8)],
            "better": [_row(1, 30.6, 1.7, 0.85, 6.4), _row(2, 30.4, 1.9, 0.9, 5.9)],
            "closer": [_row(1, 30.5, 2.0, 1.02, 6.2)],
            "admissible": [_row(1, 30.8, 1.5, 0.8, 6.9), _row(2, 30.8, 1.5, 0.8, "nan")]}
    runs = {}
    for label, rows in logs.items():
        runs[label] = tmp_path / f"{label}.csv"
        write_csv(runs[label], rows)
    ranked = selection.rank_runs(runs, REFERENCE)
    assert [(label, row["epoch"], ok) for label, row, ok in ranked] == [
        ("better", "2", True), ("admissible", "1", True), ("closer", "1", False), ("reference", "1", False)]


def test_frontier_figure_draws_every_run_and_the_limits(tmp_path):
    path = tmp_path / "run.csv"
    write_csv(path, [_row(1, 30.7, 1.6, 0.85, 6.8), _row(2, 30.4, 1.9, 0.95, 6.0)])
    start = {**REFERENCE, "niqe": 7.2}
    limits = {"added": 2.1, "added_chroma": 1.0, "psnr": 28.9}
    figure = curves.plot_frontier({"run": path}, start, limits, chosen={"run": 2})
    assert isinstance(figure, Figure) and len(figure.axes) == 3
    axis = figure.axes[0]
    path_line = [line for line in axis.lines if line.get_label() == "run"][0]
    assert list(path_line.get_xdata()) == [1.4, 1.6, 1.9] and list(path_line.get_ydata()) == [7.2, 6.8, 6.0]
    assert [line.get_xdata()[0] for line in axis.lines if line.get_label() == "the rule's limit"] == [2.1]
    write_csv(path, [{"epoch": 1, "val_psnr": 30.0}])
    with pytest.raises(ValueError, match="not an epochs log with val_niqe"):
        curves.plot_frontier({"run": path}, start)


@pytest.fixture
def three_epochs(tmp_path):
    """``(logs, checkpoints)`` folders: an SRGAN log of three epochs whose second one the rule chooses (the third
    adds too much), no generator kept yet."""
    logs, checkpoints = tmp_path / "logs", tmp_path / "checkpoints"
    logs.mkdir()
    checkpoints.mkdir()
    write_csv(logs / "srgan_epochs.csv", [_row(1, 30.7, 1.6, 0.85, 6.8), _row(2, 30.4, 1.9, 0.95, 6.0),
                                          _row(3, 30.2, 2.3, 1.05, 5.6)])
    return logs, checkpoints


def test_the_chosen_checkpoint_is_the_kept_generator_of_the_chosen_epoch(three_epochs):
    logs, checkpoints = three_epochs
    with pytest.raises(FileNotFoundError, match=r"srgan_epoch_002.pth: the generator of epoch 2, which the rule "
                                                r"chooses in .*srgan_epochs.csv, was not kept"):
        selection.chosen_checkpoint(logs, checkpoints, REFERENCE)
    for epoch in (1, 2, 3):
        (checkpoints / f"srgan_epoch_{epoch:03d}.pth").write_bytes(b"weights")
    path, row, admissible = selection.chosen_checkpoint(logs, checkpoints, REFERENCE)
    assert (path, row["epoch"], admissible) == (str(checkpoints / "srgan_epoch_002.pth"), "2", True)


def test_the_reported_checkpoint_is_a_copy_of_the_chosen_epoch_or_says_why_not(three_epochs):
    logs, checkpoints = three_epochs
    for epoch in (1, 2, 3):
        (checkpoints / f"srgan_epoch_{epoch:03d}.pth").write_bytes(b"weights %d" % epoch)
    said = selection.keep_chosen(logs, checkpoints, REFERENCE)
    assert said.endswith("srgan_chosen.pth = srgan_epoch_002.pth: the lowest held-out NIQE (6.00) within the rule's "
                         "limits")
    assert (checkpoints / "srgan_chosen.pth").read_bytes() == b"weights 2"
    write_csv(logs / "srgan_epochs.csv", [_row(epoch, 30.2, 2.3, 1.05, "nan") for epoch in (1, 2, 3)])  # no NIQE
    said = selection.keep_chosen(logs, checkpoints, REFERENCE)
    assert said.endswith("srgan_chosen.pth = srgan_epoch_003.pth: the last epoch: the run was validated without NIQE "
                         "(val_niqe=false), so the rule cannot choose")
    assert (checkpoints / "srgan_chosen.pth").read_bytes() == b"weights 3"
    assert sorted(path.name for path in checkpoints.iterdir()) == [
        "srgan_chosen.pth", "srgan_epoch_001.pth", "srgan_epoch_002.pth", "srgan_epoch_003.pth"]  # no temporary file


def test_nothing_logged_or_nothing_kept_is_said_not_guessed(tmp_path):
    with pytest.raises(ValueError, match="srgan_epochs.csv: no epoch logged"):
        selection.keep_chosen(tmp_path, tmp_path, REFERENCE)
    write_csv(tmp_path / "srgan_epochs.csv", [_row(1, 30.2, 2.3, 1.05, "nan"), _row(2, 30.2, 2.3, 1.05, "nan")])
    (tmp_path / "srgan_epoch_001.pth").write_bytes(b"an older epoch")  # not the last one: never taken instead
    with pytest.raises(FileNotFoundError, match="srgan_epoch_002.pth: the generator of epoch 2, the last logged, was "
                                                "not kept"):
        selection.keep_chosen(tmp_path, tmp_path, REFERENCE)
    assert not (tmp_path / "srgan_chosen.pth").exists()
    save_checkpoint({"history": [{"epoch": 1, "val_psnr": 30.0}]}, tmp_path / "old_srresnet.pth")
    with pytest.raises(ValueError, match="old_srresnet.pth: its history has no epoch with val_psnr, val_added"):
        selection.srresnet_reference(tmp_path / "old_srresnet.pth")


def _ranked(*labels):
    """A ``rank_runs``-shaped list, best first."""
    return [(label, _row(1, 30.5, 1.6, 0.85, 6.0), True) for label in labels]


def test_the_combination_joins_the_runs_above_the_reference_else_the_two_best_others():
    assert selection.combination_runs(_ranked("a", "b", "c", "reference", "d")) == ["a", "b", "c"]
    assert selection.combination_runs(_ranked("a", "reference", "b", "c")) == ["a", "b"]
    assert selection.combination_runs(_ranked("reference", "a", "b", "c")) == ["a", "b"]
    assert selection.second_seed_runs(_ranked("combined", "reference", "a")) == ["combined", "reference"]


def test_the_winner_is_the_run_whose_worse_seed_ranks_better_trained_on_from_its_better_seed():
    # a's seed 1 ranks first, but its seed 0 ranks behind both of b's: b wins, from its better seed (seed 1)
    order = _ranked("a_seed1", "b_seed1", "b", "c", "a")
    assert selection.winner(order, ["a", "b"]) == ("b", "b_seed1")
    assert selection.winner(_ranked("a", "b", "a_seed1", "b_seed1"), ["a", "b"]) == ("a", "a")
    with pytest.raises(ValueError, match="no ranked epochs log for b_seed1"):
        selection.winner(_ranked("a", "b", "a_seed1"), ["a", "b"])

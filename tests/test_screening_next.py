"""experiments/artefact_screening_next.py: the screening's next runs (report_appendix A15) from fake runs' logs and
kept checkpoints (their settings), as the queue calls it."""
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import settings
from utils import save_checkpoint, write_csv

SCRIPT = Path(__file__).resolve().parent.parent / "experiments" / "artefact_screening_next.py"
sys.path.append(str(SCRIPT.parent))  # after the repository: no module of it is shadowed
import artefact_screening_next  # noqa: E402

SRRESNET = [{"epoch": 1, "val_psnr": 30.9, "val_added": 1.4, "val_added_chroma": 0.8}]
OPTIONS = {"reference": {}, "d_luminance": {"d_luminance": True}, "spectral": {"spectral_weight": 30.0},
           "ldl": {"ldl_weight": 1.0}, "d_augment": {"d_augment": True},
           "combined": {"d_luminance": True, "spectral_weight": 30.0}}


def _run(runs, name, niqe, chroma=0.85, epochs=2):
    """A fake screening run: its epochs log (NIQE falling to ``niqe`` in the last epoch) and kept generators."""
    base, _, seed = name.partition("_seed")
    config = settings.cpu_config(content_loss="mse", seed=int(seed or 0), **OPTIONS[base])
    (runs / name / "logs").mkdir(parents=True)
    write_csv(runs / name / "logs" / "srgan_epochs.csv",
              [{"epoch": epoch, "iterations": 280, "val_psnr": 30.5, "val_added": 1.6, "val_added_chroma": chroma,
                "val_niqe": niqe + epochs - epoch} for epoch in range(1, epochs + 1)])
    for epoch in range(1, epochs + 1):
        save_checkpoint({"config": dict(config)}, runs / name / "checkpoints" / f"srgan_epoch_{epoch:03d}.pth")


def _next(step, runs, capsys, expect_error=False):
    """``(stdout, stderr)`` of the script's ``step`` on ``runs``, called as the queue calls it (in this process)."""
    argv = [step, "--runs", str(runs), "--srresnet-log", str(runs.parent / "srresnet_epochs.csv"), "--epochs", "2"]
    try:
        artefact_screening_next.main(argv)
        error = None
    except SystemExit as stop:  # a user's error: a message, no traceback
        error = stop.code
    assert (error is not None) == expect_error, error
    out, said = capsys.readouterr()
    return out.strip(), said + (error or "")


def test_the_command_line_says_what_is_wrong_without_a_traceback(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), "seeds", "--runs", str(tmp_path), "--srresnet-log",
                             str(tmp_path / "missing.csv")], capture_output=True, text=True)
    assert result.returncode == 1 and result.stderr.startswith("error: ") and "missing.csv" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def runs(tmp_path):
    write_csv(tmp_path / "srresnet_epochs.csv", SRRESNET)
    runs = tmp_path / "screening"
    for name, niqe in (("reference", 6.5), ("d_luminance", 6.0), ("spectral", 6.2), ("ldl", 6.8), ("d_augment", 6.9)):
        _run(runs, name, niqe)
    return runs


def test_the_next_steps_follow_the_ranking_to_the_winner(runs, capsys):
    out, said = _next("combination", runs, capsys)
    assert out == "d_luminance=true spectral_weight=30.0"
    assert "the combination joins d_luminance, spectral" in said
    _next("seeds", runs, capsys, expect_error=True)  # the combination has not run yet
    _run(runs, "combined", 5.9)
    assert _next("seeds", runs, capsys)[0] == "combined_seed1 d_luminance_seed1"
    _run(runs, "combined_seed1", 6.4)  # behind reference: its worse seed ranks below d_luminance's
    _run(runs, "d_luminance_seed1", 5.8)
    out, said = _next("winner", runs, capsys)
    assert out.splitlines() == [f"WINNER_DIR={runs.resolve() / 'd_luminance_seed1'}",
                                "WINNER_OPTIONS='d_luminance: true, seed: 1'"]
    assert "the winner: d_luminance; trained on: d_luminance_seed1" in said


def test_a_run_that_has_not_ended_or_is_missing_is_named(runs, capsys):
    write_csv(runs / "ldl" / "logs" / "srgan_epochs.csv", [{"epoch": 1, "iterations": 280}])
    _, said = _next("combination", runs, capsys, expect_error=True)
    assert said.strip().endswith("ldl/logs/srgan_epochs.csv: 1 of 2 epochs logged: run ldl has not ended")
    (runs / "ldl" / "logs" / "srgan_epochs.csv").unlink()
    _, said = _next("combination", runs, capsys, expect_error=True)
    assert said.strip().endswith("ldl/logs/srgan_epochs.csv: 0 of 2 epochs logged: run ldl has not ended")


@pytest.mark.parametrize("value", [True, False, None, 30, 30.0, 1e-05, (18,), (), (10, 20), "mse"])
def test_settings_are_written_as_the_command_line_and_yaml_read_them_back(value):
    assert settings.parse_value(artefact_screening_next.setting_text("key", value)) == value
    assert yaml.safe_load(artefact_screening_next.yaml_text(value)) == (list(value) if isinstance(value, tuple)
                                                                        else value)


def test_text_the_command_line_cannot_read_back_is_refused():
    with pytest.raises(ValueError, match="setting key='a b': not writable as one KEY=VALUE word"):
        artefact_screening_next.setting_text("key", "a b")

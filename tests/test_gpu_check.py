"""benchmarks/gpu_check.sh: its syntax, and its CPU side end to end (on a GPU it measures more; appendix A8)."""
import os
import subprocess
import sys
from pathlib import Path

from utils import load_checkpoint, read_csv

REPO = Path(__file__).resolve().parents[1]


def test_gpu_check_runs_its_cpu_side_and_writes_its_figures(tmp_path):
    script = REPO / "benchmarks" / "gpu_check.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    env = dict(os.environ, OUT=str(tmp_path), PYTHON=sys.executable, CUDA_VISIBLE_DEVICES="")
    run = subprocess.run(["bash", str(script)], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    report = (tmp_path / "gpu_check.txt").read_text()
    assert run.returncode == 0, run.stderr[-2000:]
    for heading in ("== 1. tests", "== 2. bench_training.py --device cpu", "== 3. the paper profile"):
        assert heading in report
    assert "fp32, NCHW (baseline)" in report and "fp32, channels_last" in report
    assert "host waits per step, srgan: 0.050" in report  # the losses are read once per 20 steps
    assert "srresnet epoch 1/1" in report and "mean content loss of the first" in report
    # Step 3 trained real updates (on ../shared/data, or else the sample photographs), and logged those it ran:
    # one row per update, the epoch's count, and Adam's own count of its steps all agree.
    logs = tmp_path / "paper_run" / "logs"
    rows, epochs = read_csv(logs / "srresnet_iterations.csv"), read_csv(logs / "srresnet_epochs.csv")
    assert rows and len(epochs) == 1 and int(epochs[0]["iterations"]) == len(rows)
    adam = load_checkpoint(tmp_path / "paper_run" / "checkpoints" / "srresnet_last.pth")["optimizer_g"]["state"]
    assert {int(state["step"]) for state in adam.values()} == {len(rows)}
    assert f"{len(rows)} updates; mean content loss" in report


def test_gpu_check_stops_with_an_error_when_its_python_has_no_torch(tmp_path):
    """Without torch (no environment made, a bare system Python) the script stops with one error line instead of
    taking the CUDA path with no GPU count."""
    env = dict(os.environ, OUT=str(tmp_path), PYTHON="false")  # an interpreter that prints nothing and fails
    run = subprocess.run(["bash", str(REPO / "benchmarks" / "gpu_check.sh")], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 1 and "error: false cannot import torch" in run.stderr
    assert not (tmp_path / "gpu_check.txt").exists()

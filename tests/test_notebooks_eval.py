"""test.ipynb and super_resolution.ipynb run headless (papermill) on a tiny configuration and write their
outputs: a random small generator checkpoint, Set5 only, two images."""
import csv
import json
import math
import re
from pathlib import Path

import pytest

from utils import load_image

papermill = pytest.importorskip("papermill")
REPO = Path(__file__).resolve().parents[1]


def _execute(notebook, output, parameters):
    papermill.execute_notebook(str(REPO / notebook), str(output), parameters=parameters, cwd=str(REPO),
                               kernel_name="python3", progress_bar=False, execution_timeout=300)
    return output.read_text(encoding="utf-8")


@pytest.mark.parametrize("notebook", ["train.ipynb", "test.ipynb", "super_resolution.ipynb"])
def test_committed_notebooks_have_a_parameters_cell_and_no_errors(notebook):
    """Committed notebooks keep their outputs (the assignment asks for that), but never an error."""
    cells = json.loads((REPO / notebook).read_text(encoding="utf-8"))["cells"]
    assert sum("parameters" in cell["metadata"].get("tags", []) for cell in cells) == 1
    assert not [output for cell in cells for output in cell.get("outputs", [])
                if output.get("output_type") == "error"]


@pytest.mark.parametrize("notebook", ["train.ipynb", "test.ipynb", "super_resolution.ipynb"])
def test_committed_notebooks_ran_every_code_cell_without_progress_bars(notebook):
    """The hand-in: every code cell of the committed notebooks has run, in order, and kept its outputs; none of
    them is a progress bar's stream (a carriage return or a tqdm bar like ' 40%|####  |')."""
    cells = [cell for cell in json.loads((REPO / notebook).read_text(encoding="utf-8"))["cells"]
             if cell["cell_type"] == "code"]
    counts = [cell.get("execution_count") for cell in cells]
    assert None not in counts and counts == sorted(counts), f"{notebook}: code cells not run in order: {counts}"
    streams = ["".join(output.get("text", "")) for cell in cells for output in cell.get("outputs", [])
               if output.get("output_type") == "stream"]
    bars = [text[:80] for text in streams if "\r" in text or re.search(r"\d+%\|", text)]
    assert not bars, f"{notebook}: {len(bars)} progress-bar streams in the outputs, the first: {bars[:3]}"


@pytest.mark.parametrize("notebook", ["train.ipynb", "test.ipynb", "super_resolution.ipynb"])
def test_papermill_reads_every_parameter(notebook):
    """Every `name = value  # comment` line of the parameters cell is one papermill understands (an `=` in a
    comment, say, makes it warn and drop the parameter from `papermill --help-notebook`)."""
    from papermill.translators import PythonTranslator

    cells = json.loads((REPO / notebook).read_text(encoding="utf-8"))["cells"]
    source = next("".join(cell["source"]) for cell in cells if "parameters" in cell["metadata"].get("tags", []))
    assigned = [line.split("=")[0].strip() for line in source.splitlines() if line and not line.startswith("#")]
    parsed = [parameter.name for parameter in PythonTranslator.inspect({"source": source})]
    assert parsed == assigned


def test_test_notebook(tmp_path, eval_lists, tiny_checkpoint, shared_data, niqe_model):
    results = tmp_path / "results"
    executed = _execute("test.ipynb", tmp_path / "test_out.ipynb", {
        "srresnet_checkpoint": str(tiny_checkpoint), "srgan_checkpoint": str(tmp_path / "no_srgan.pth"),
        "baseline_checkpoint": None, "extra_checkpoints": {"srgan_mse": str(tiny_checkpoint)},
        "lists_folder": str(eval_lists), "datasets": ["Set5", "Urban100"], "max_images": 2,
        "results_folder": str(results), "tile_size": None, "device": "cpu",
        "niqe_model": str(shared_data.parent / "niqe"), "progress": False})
    assert '"name": "stderr"' not in executed  # no progress-bar streams
    assert "srgan skipped" in executed and "baseline skipped" in executed and "Urban100 missing" in executed
    assert "| Bicubic |" in executed and "| SRResNet |" in executed and "| SRGAN-MSE |" in executed

    with open(results / "metrics.csv", newline="") as file:
        reader = csv.DictReader(file)
        rows = {(row["model"], row["dataset"]): row for row in reader}
    assert reader.fieldnames == ["model", "dataset", "psnr", "ssim", "images", "grid", "texture", "niqe", "added",
                                 "added_chroma"]
    assert set(rows) == {(model, dataset) for model in ("bicubic", "srresnet", "srgan_mse", "hr")
                         for dataset in ("Set5", "Urban100")}
    assert float(rows["hr", "Set5"]["niqe"]) < float(rows["bicubic", "Set5"]["niqe"])  # blur: a worse NIQE
    assert rows["bicubic", "Set5"]["images"] == "2" and rows["srresnet", "Set5"]["images"] == "2"
    assert float(rows["bicubic", "Set5"]["psnr"]) > float(rows["srresnet", "Set5"]["psnr"])  # untrained model
    assert rows["srresnet", "Urban100"]["images"] == "0" and math.isnan(float(rows["srresnet", "Urban100"]["psnr"]))
    assert "Set5 PSNR / SSIM" in (results / "metrics.md").read_text()
    assert (results / "per_image" / "srresnet_Set5.csv").is_file()


def test_super_resolution_notebook(tmp_path, eval_lists, tiny_checkpoint):
    results = tmp_path / "results"
    executed = _execute("super_resolution.ipynb", tmp_path / "sr_out.ipynb", {
        "image_path": None, "hr_path": None, "image_name": "butterfly",
        "srresnet_checkpoint": str(tiny_checkpoint), "srgan_checkpoint": str(tiny_checkpoint),
        "baseline_checkpoint": str(tiny_checkpoint), "extra_checkpoints": {"srgan_mse": str(tiny_checkpoint)},
        "set5_list": str(eval_lists / "Set5.csv"), "results_folder": str(results), "zoom_box": [100, 100, 48, 64],
        "max_images": 2, "tile_size": None, "device": "cpu", "progress": False})
    assert '"name": "stderr"' not in executed  # no progress-bar streams
    assert executed.count('"image/png"') == 1 + 2  # the figures are shown: the chosen image, then two of Set5
    assert (results / "example_butterfly.png").is_file()
    for name, size in (("baby", 512), ("bird", 288)):
        for model in ("bicubic", "srresnet", "srgan", "baseline", "srgan_mse"):
            assert load_image(results / "Set5" / model / f"{name}.png").shape == (size, size, 3)
        assert (results / "Set5" / f"compare_{name}.png").is_file()
    assert not (results / "Set5" / "compare_butterfly.png").exists()  # max_images = 2

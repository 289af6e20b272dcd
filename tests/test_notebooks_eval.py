"""test.ipynb and super_resolution.ipynb run headless (papermill) on a tiny configuration and write their
outputs: a random small generator checkpoint, Set5 only, two images."""
import ast
import csv
import json
import math
import re
import shutil
from pathlib import Path

import pytest
from conftest import experiment_script

import settings
from utils import load_image, save_image

papermill = pytest.importorskip("papermill")
REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["train.ipynb", "test.ipynb", "super_resolution.ipynb"]


def _execute(notebook, output, parameters):
    papermill.execute_notebook(str(REPO / notebook), str(output), parameters=parameters, cwd=str(REPO),
                               kernel_name="python3", progress_bar=False, execution_timeout=300)
    return output.read_text(encoding="utf-8")


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_committed_notebooks_have_a_parameters_cell_and_no_errors(notebook):
    """Committed notebooks keep their outputs (the assignment asks for that), but never an error."""
    cells = json.loads((REPO / notebook).read_text(encoding="utf-8"))["cells"]
    assert sum("parameters" in cell["metadata"].get("tags", []) for cell in cells) == 1
    assert not [output for cell in cells for output in cell.get("outputs", [])
                if output.get("output_type") == "error"]


@pytest.mark.parametrize("notebook", NOTEBOOKS)
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


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_papermill_reads_every_parameter(notebook):
    """Every `name = value  # comment` line of the parameters cell is one papermill understands (an `=` in a
    comment, say, makes it warn and drop the parameter from `papermill --help-notebook`)."""
    from papermill.translators import PythonTranslator

    cells = json.loads((REPO / notebook).read_text(encoding="utf-8"))["cells"]
    source = next("".join(cell["source"]) for cell in cells if "parameters" in cell["metadata"].get("tags", []))
    assigned = [line.split("=")[0].strip() for line in source.splitlines() if line and not line.startswith("#")]
    parsed = [parameter.name for parameter in PythonTranslator.inspect({"source": source})]
    assert parsed == assigned


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_committed_notebooks_hold_no_absolute_path(notebook):
    """No machine's path in a cell, an output or papermill's metadata (images aside): paths are relative to the
    repository or the data root (experiments/keep_train_outputs.py refuses a run that would commit one)."""
    keep = experiment_script("keep_train_outputs")
    assert keep.absolute_paths(json.loads((REPO / notebook).read_text(encoding="utf-8"))) == []


def _cells(notebook):
    return json.loads((REPO / notebook).read_text(encoding="utf-8"))["cells"]


def test_train_notebook_run_as_committed_trains_the_papers_settings(tmp_path, monkeypatch):
    """What its first cell promises: running every cell of train.ipynb as committed (its parameters cell, then the
    record of the run that made its outputs, then the cell that makes the configs) gives the paper's settings; the
    record's switch gives that run's settings, the config its output shows."""
    cells = _cells("train.ipynb")
    assert 'profile = "paper"' in "".join(cells[0]["source"]) and "repeat_the_run = True" in "".join(cells[0]["source"])
    code = [cell for cell in cells if cell["cell_type"] == "code"]
    assert "parameters" in code[0]["metadata"]["tags"] and "injected-parameters" in code[1]["metadata"]["tags"]
    assert "settings.phase_configs" in "".join(code[2]["source"])
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SRGAN_DATA_ROOT", raising=False)

    def run(repeat):
        names = {}
        for cell in code[:3]:
            source = "".join(cell["source"])
            exec(source.replace("repeat_the_run = False", f"repeat_the_run = {repeat}"), names)
        return names

    committed = run(False)
    assert (committed["profile"], committed["data_root"], committed["overrides"]) == ("paper", None, {})
    assert not committed["phase_overrides"] and committed["make_lists"]
    for phase, config in committed["configs"].items():
        assert dict(config) == dict(settings.default_config()), phase

    repeated = run(True)
    assert repeated["profile"] == "cpu" and not Path(repeated["data_root"]).is_absolute()
    shown = next(output for output in code[2]["outputs"] if output["output_type"] == "execute_result")
    shown = ast.literal_eval("".join(shown["data"]["text/plain"]))
    config = repeated["configs"]["srresnet"]
    assert {key: config[key] for key in shown if key in config} == {key: value for key, value in shown.items()
                                                                      if key in config}
    assert config.srresnet_epochs == 54 and config.augment and config.patches_per_image == 16


@pytest.fixture
def user_folder(tmp_path, tiny_checkpoint, monkeypatch):
    """A user's work folder with no ../shared, no NIQE model and no network: the default checkpoints (tiny random
    generators) and data_lists/Set5.csv of two of scikit-image's photographs named as Set5 images (butterfly, bird;
    no LR files: made with imresize). The notebooks' kernels import the repository's modules."""
    import skimage.data

    work = tmp_path / "work"
    (work / "checkpoints").mkdir(parents=True)
    for name in ("srresnet_best.pth", "srgan_chosen.pth"):
        shutil.copy(tiny_checkpoint, work / "checkpoints" / name)
    rows = []
    for name, image in (("butterfly", skimage.data.chelsea()), ("bird", skimage.data.coffee())):
        path = tmp_path / "images" / f"{name}.png"
        save_image(path, image[:200, :240])
        rows.append({"hr_path": str(path), "lr_path": "", "hr_height": 200, "hr_width": 240})
    (work / "data_lists").mkdir()
    with open(work / "data_lists" / "Set5.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv("SRGAN_NIQE_MODEL", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty_cache"))
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):  # offline: a download fails at once
        monkeypatch.setenv(proxy, "http://127.0.0.1:9")
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    return work


def test_test_and_super_resolution_notebooks_run_as_committed_on_a_users_machine(user_folder):
    """test.ipynb and super_resolution.ipynb as committed (no parameters given: their own parameters cells, and the
    records of the runs that made their outputs left off), offline without NIQE's model: the PSNR/SSIM tables are
    written, NIQE is n/a with one note saying how to get it, and the Set5 pictures and the rating page are made."""
    for notebook in ("test.ipynb", "super_resolution.ipynb"):
        papermill.execute_notebook(str(REPO / notebook), str(user_folder / f"out_{notebook}"), cwd=str(user_folder),
                                   kernel_name="python3", progress_bar=False, execution_timeout=300)
    executed = json.loads((user_folder / "out_test.ipynb").read_text(encoding="utf-8"))["cells"]
    printed = "".join("".join(output.get("text", "")) for cell in executed for output in cell.get("outputs", []))
    assert printed.count("NIQE n/a:") == 1 and "niqe_model=PATH" in printed and "SRGAN_NIQE_MODEL" in printed
    assert "baseline skipped" in printed
    results = user_folder / "results"
    with open(results / "metrics.csv", newline="") as file:
        rows = {(row["model"], row["dataset"]): row for row in csv.DictReader(file)}
    assert {model for model, _ in rows} == {"bicubic", "srresnet", "srgan"}  # no "hr" row: no NIQE
    for model in ("bicubic", "srresnet", "srgan"):
        assert rows[model, "Set5"]["images"] == "2" and float(rows[model, "Set5"]["psnr"]) > 10
        assert math.isnan(float(rows[model, "Set5"]["niqe"])) and rows[model, "Urban100"]["images"] == "0"
    markdown = (results / "metrics.md").read_text()
    assert "| SRResNet |" in markdown and "NIQE: n/a" in markdown
    assert (results / "example_butterfly.png").is_file()
    for name in ("butterfly", "bird"):
        assert load_image(results / "Set5" / "srgan" / f"{name}.png").shape == (200, 240, 3)
    assert (results / "rating" / "index.html").is_file()


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

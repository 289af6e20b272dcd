"""train.ipynb runs end to end, headless, with papermill parameters (a tiny configuration); rerun with a changed
setting, it refuses to resume, naming the change and the two ways on, and the switch continues and logs it."""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

import papermill
import pytest

import settings
from utils import load_checkpoint, read_csv

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_train_notebook_executes_both_phases(shared_data, tmp_path, monkeypatch):
    root = tmp_path / "data"
    folder = root / "train" / "BSDS200" / "HR"
    folder.mkdir(parents=True)
    for path in sorted((shared_data / "train" / "BSDS200" / "HR").glob("*.png"))[:5]:
        shutil.copy(path, folder / path.name)
    shutil.copytree(shared_data / "Set5", root / "Set5")
    monkeypatch.setenv("PYTHONPATH", REPO)  # the kernel imports the project's modules
    overrides = dict(n_blocks=1, channels=8, discriminator_channels=8, discriminator_dense=16, crop_size=48,
                     patches_per_image=4, batch_size=4, num_workers=0, srresnet_epochs=1, srgan_epochs=1,
                     srgan_lr_decay_epochs=[], val_max_images=1, progress=False)
    out = tmp_path / "train.out.ipynb"

    def run_notebook(**changes):
        papermill.execute_notebook(
            os.path.join(REPO, "train.ipynb"), str(out), cwd=str(tmp_path), kernel_name="python3",
            progress_bar=False,
            parameters=dict(profile="cpu", data_root=str(root), lists_folder=str(tmp_path / "lists"),
                            test_sets=["Set5"], val_images=2, checkpoint_folder=str(tmp_path / "checkpoints"),
                            log_folder=str(tmp_path / "logs"), results_folder=str(tmp_path / "results"),
                            overrides={**overrides, **changes}, phase_overrides={"srresnet": {"augment": True}}))

    run_notebook()
    assert load_checkpoint(tmp_path / "checkpoints" / "srresnet_best.pth")["epoch"] == 1
    assert load_checkpoint(tmp_path / "checkpoints" / "srgan_last.pth")["phase"] == "srgan"
    assert load_checkpoint(tmp_path / "checkpoints" / "srresnet_last.pth")["config"]["augment"]  # phase 1 only
    assert not load_checkpoint(tmp_path / "checkpoints" / "srgan_last.pth")["config"]["augment"]
    assert sorted(os.listdir(tmp_path / "lists")) == ["Set5.csv", "train.csv", "val.csv"]
    assert (tmp_path / "results" / "training_curves.png").stat().st_size > 10_000
    cells = json.loads(out.read_text())["cells"]
    assert not [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    def markdown_shown(phase):  # what the cell that trains the phase displays
        cell = next(c for c in cells if f'training.train(configs["{phase}"]' in "".join(c["source"]))
        return "".join("".join(o.get("data", {}).get("text/markdown", "")) for o in cell["outputs"])

    assert markdown_shown("srresnet").startswith("| epoch | lr | content | s | val PSNR |")  # the whole history
    assert "| D(HR) | D(SR) |" in markdown_shown("srgan")
    curves_cell = next(c for c in cells if "plot_training_curves" in "".join(c["source"]))
    assert [o for o in curves_cell["outputs"] if "image/png" in o.get("data", {})]  # a picture, not "<Figure ...>"

    # The student changes the learning rate and reruns: refused, nothing trained, nothing overwritten.
    before = [(tmp_path / path).read_bytes() for path in ("checkpoints/srresnet_last.pth", "logs/srresnet_epochs.csv")]
    with pytest.raises(papermill.PapermillExecutionError) as refused:
        run_notebook(srresnet_lr=3e-4)
    message = refused.value.evalue
    assert "srresnet_lr 0.0001 -> 0.0003" in message
    assert "checkpoint_folder" in message and "allow_changed_settings=True" in message
    assert [(tmp_path / path).read_bytes() for path in ("checkpoints/srresnet_last.pth", "logs/srresnet_epochs.csv")
            ] == before

    # The switch: one more epoch with the new rate, the change logged with the epoch it followed.
    run_notebook(srresnet_lr=3e-4, srresnet_epochs=2, allow_changed_settings=True)
    assert load_checkpoint(tmp_path / "checkpoints" / "srresnet_last.pth")["epoch"] == 2
    assert read_csv(tmp_path / "logs" / "srresnet_setting_changes.csv") == [
        {"after_epoch": "1", "setting": "srresnet_lr", "old": "0.0001", "new": "0.0003"}]


def test_the_documented_papermill_command_gives_the_notebook_its_overrides(tmp_path):
    """The headless command that README.md and the notebook's introduction show, as a user types it: papermill's
    -p passes a dict as a string, which the notebook cannot use; the documented command must arrive as a dict."""
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as file:
        command = re.search(r"`(papermill train\.ipynb [^`]+)`", file.read()).group(1)
    with open(os.path.join(REPO, "train.ipynb"), encoding="utf-8") as file:
        assert command in "".join(json.load(file)["cells"][0]["source"])  # the introduction shows the same
    words = shlex.split(command)
    out = tmp_path / "out.ipynb"
    subprocess.run([sys.executable, "-m", "papermill", os.path.join(REPO, "train.ipynb"), str(out), *words[3:],
                    "--prepare-only"], check=True, capture_output=True, cwd=tmp_path)
    injected = next(cell for cell in json.loads(out.read_text())["cells"]
                    if "injected-parameters" in cell["metadata"].get("tags", []))
    parameters = {}
    exec("".join(injected["source"]), parameters)
    assert parameters["profile"] == "cpu" and parameters["overrides"] == {"srresnet_epochs": 5}


def stated_settings(text):
    """``[(key, value)]``: the settings a notebook's Markdown states as `key=value` (the value read as the command line
    reads it, ``settings.parse_value``)."""
    return [(key, settings.parse_value(value)) for key, value in re.findall(r"`(\w+)=([^`\s]+)`", text)]


def same_value(stated, actual):
    """A stated scalar equals a one-element tuple of it (`srgan_lr_decay_epochs=18`)."""
    actual = tuple(actual) if isinstance(actual, list) else actual
    return stated == actual or (isinstance(actual, tuple) and (stated,) == actual)


def test_the_train_notebook_states_the_settings_it_ran_with():
    """Issue 39: what train.ipynb's text says about the paper's settings is ``settings.py``'s, and what it says about
    the run its outputs come from is the run's: the recorded parameters cell (repeat_the_run) made into each phase's
    config. Each value is written `key=value`; the paragraph headed "This notebook's outputs" states the run's, each
    setting the run gave (overrides, phase_overrides) among them."""
    with open(os.path.join(REPO, "train.ipynb"), encoding="utf-8") as file:
        cells = json.load(file)["cells"]
    intro, *others = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    run_start = intro.index("**This notebook's outputs**")
    run_end = intro.find("\n\n", run_start)
    run_text = intro[run_start:] if run_end < 0 else intro[run_start:run_end]

    paper, cpu = settings.paper_settings(), settings.cpu_config()
    paper_stated = stated_settings(intro[:run_start])  # the introduction's account of the paper
    assert {"srresnet_lr", "srgan_lr", "adversarial_weight", "content_loss"} <= {key for key, _ in paper_stated}
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    namespace = {}
    exec(code[0], namespace)  # the parameters cell (its defaults)
    everything = stated_settings(intro) + stated_settings("\n".join(others))
    assert not [key for key, _ in everything if key not in paper and key not in namespace]  # a misspelt key
    for key, value in paper_stated:
        if key in paper and key not in settings.MACHINERY:  # not `allow_changed_settings=True`, a how-to
            assert same_value(value, paper[key]), f"train.ipynb says the paper's {key} is {value!r}: {paper[key]!r}"
    for key, value in stated_settings("\n".join(others)):  # the other cells speak of the paper or the cpu profile
        if key in paper and key not in settings.MACHINERY:
            assert same_value(value, paper[key]) or same_value(value, cpu[key]), f"train.ipynb: {key}={value!r}"

    record = next(source for source in code if "repeat_the_run = False" in source)
    exec(record.replace("repeat_the_run = False", "repeat_the_run = True"), namespace)
    configs = settings.phase_configs(namespace["profile"], namespace["overrides"], namespace["phase_overrides"])
    run_stated = stated_settings(run_text) + [item for item in stated_settings("\n".join(others))
                                              if item[0] in namespace]  # the notebook's own parameters
    recorded = set(namespace["overrides"]).union(*namespace["phase_overrides"].values()) - set(settings.MACHINERY)
    assert recorded <= {key for key, _ in run_stated}, "the run's own settings, each stated"
    for key, value in run_stated:
        if key in paper:
            given = [p for p, values in namespace["phase_overrides"].items() if key in values]  # one phase's
            phase = (given or [p for p in settings.PHASES if key.startswith(f"{p}_")] or ["srgan"])[0]
            actual = configs[phase][key]
        else:  # a parameter of the notebook (train_baseline)
            actual = namespace[key]
        assert same_value(value, actual), f"train.ipynb says its run had {key}={value!r}: the run's is {actual!r}"

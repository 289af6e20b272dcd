"""A newcomer's usual mistakes, run as a user runs them: a one-line message naming the problem, the right
exit status, and no traceback."""
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from utils import save_checkpoint

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["n_blocks=1", "channels=8", "discriminator_channels=8", "discriminator_dense=16", "crop_size=48",
        "batch_size=4", "progress=false", "num_workers=0"]


def run(args, cwd, **kwargs):
    """Run ``python ARGS`` in ``cwd``; returns the CompletedProcess (text output)."""
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300, **kwargs)


def assert_clean_error(result, status, *phrases):
    output = result.stdout + result.stderr
    assert result.returncode == status, output
    assert "Traceback" not in output, output
    for phrase in phrases:
        assert phrase in output, output


@pytest.fixture
def script(tmp_path):
    """Runs a repository script from an empty folder (a fresh clone's state: no lists, no checkpoints)."""
    return lambda name, *args: run([os.path.join(REPO, name), *args], tmp_path)


def test_solver_before_the_data_lists(script):
    assert_clean_error(script("training.py", "--profile", "cpu"), 1, "data_lists/train.csv: data list not found",
                       "create_data_lists.py")


def test_srgan_without_an_srresnet(script, tmp_path):
    (tmp_path / "data_lists").mkdir()
    for name in ("train.csv", "val.csv"):
        (tmp_path / "data_lists" / name).write_text("hr_path,lr_path,hr_height,hr_width\n")
    assert_clean_error(script("training.py", "--phase", "srgan"), 1, "srresnet_best.pth: no SRResNet checkpoint",
                       "--phase srresnet")


@pytest.mark.parametrize("setting, message", [
    ("batch_size=abc", "config batch_size='abc': must be an integer"),
    ("srresnet_epochs=abc", "config srresnet_epochs='abc': must be an integer"),
    ("crop_size=50", "config crop_size=50: must be a multiple of scale 4"),
    ("device=gpu", "config device='gpu': must be auto, cpu, cuda"),
    ("srresnet_lr_schedule=linear", "must be one of step, cosine"),
    ("scale=2", "config scale=2: must be one of 4"),  # the lists, validation and evaluation are x4
    ("batchsize=16", "unknown config keys: ['batchsize']"),
])
def test_config_values_of_the_wrong_type_or_range(script, setting, message):
    assert_clean_error(script("training.py", setting), 2, message)


def test_an_epoch_with_no_update_is_refused(script, tmp_path):
    """The sample photographs (5 to train), 1 patch each over 2 loader workers, batch 4: no worker fills a batch."""
    from create_data_lists import write_data_lists
    from sample_data import make_sample_data
    make_sample_data(tmp_path / "data", log=None)
    write_data_lists(tmp_path / "data", tmp_path / "data_lists", test_sets=(), val_images=1, crop_size=48, log=None)
    result = script("training.py", "--profile", "paper", *TINY[:-1], "patches_per_image=1", "num_workers=2")
    assert_clean_error(result, 1, "data_lists/train.csv: an epoch would run no update: 5 images x 1 patches per "
                       "image", "2 loader worker(s)", "batch of 4", "raise patches_per_image")
    assert not (tmp_path / "checkpoints").exists() and not (tmp_path / "logs").exists()


def _default_sigint():
    """In the child before it starts: Ctrl-C's default action, as in a terminal. A suite run in the background
    (``pytest &`` in a script) hands its children SIGINT ignored, and Python then installs no KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_in_the_first_epoch_and_later(shared_data, tmp_path):
    from create_data_lists import write_data_lists
    root = tmp_path / "data" / "train" / "BSDS200" / "HR"
    root.mkdir(parents=True)
    for path in sorted((shared_data / "train" / "BSDS200" / "HR").glob("*.png"))[:4]:
        os.symlink(path, root / path.name)
    write_data_lists(tmp_path / "data", tmp_path / "data_lists", test_sets=(), val_images=1, crop_size=48, log=None)
    command = [sys.executable, os.path.join(REPO, "training.py"), "--phase", "srresnet", "--profile", "cpu",
               "patches_per_image=400", "num_workers=1", "allow_changed_settings=true", *TINY[:-1]]

    def interrupt_after(marker):
        """Start training, press Ctrl-C (SIGINT to the whole process group, as a terminal does) once
        ``marker`` is printed; returns (exit status, output)."""
        process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, start_new_session=True, preexec_fn=_default_sigint)
        output = ""
        for line in process.stdout:
            output += line
            if marker in line:
                time.sleep(1.0)
                os.killpg(process.pid, signal.SIGINT)
                break
        try:
            output += process.communicate(timeout=120)[0]
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"training went on for 120 s after Ctrl-C:\n{output}")
        return process.returncode, output

    status, output = interrupt_after("training epochs 1 to")
    assert status == 130 and "Traceback" not in output, output
    assert "no epoch was completed: running it again starts over" in output, output
    assert (tmp_path / "checkpoints" / "srresnet_interrupted.pth").exists()

    # One short epoch completes; the interrupted weights of the first run are superseded and removed.
    finished = run([*command[1:], "srresnet_epochs=1", "patches_per_image=4"], tmp_path)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert not (tmp_path / "checkpoints" / "srresnet_interrupted.pth").exists()
    status, output = interrupt_after("training epochs 2 to")
    assert status == 130 and "Traceback" not in output, output
    assert "resumes from checkpoints/srresnet_last.pth (epoch 1)" in output, output


def test_nan_checkpoint_is_refused(script, tmp_path, tiny_checkpoint):
    state = torch.load(tiny_checkpoint, weights_only=True)
    first = next(iter(state["generator"]))
    state["generator"][first] = torch.full_like(state["generator"][first], float("nan"))
    save_checkpoint(state, tmp_path / "nan.pth")
    image = tmp_path / "photo.png"
    from utils import save_image
    save_image(image, (torch.rand(20, 24, 3) * 255).byte().numpy())
    result = script("super_resolve.py", "--checkpoint", "nan.pth", "photo.png", "--output-folder", "out")
    assert_clean_error(result, 2, "nan.pth: ", "not finite")
    assert not list((tmp_path / "out").glob("*"))


def test_data_list_mistakes(script, shared_data, tmp_path):
    (tmp_path / "a_file").write_text("")
    result = script("create_data_lists.py", "--data-root", str(shared_data), "--output-folder", "a_file")
    assert_clean_error(result, 2, "a_file: the output folder is a file", "no lists written")

    few = tmp_path / "few" / "train" / "T91" / "HR"
    few.mkdir(parents=True)
    for path in sorted((shared_data / "train" / "T91" / "HR").glob("*.png"))[:11]:
        os.symlink(path, few / path.name)
    result = script("create_data_lists.py", "--data-root", str(tmp_path / "few"), "--test-sets", "Set5")
    assert_clean_error(result, 2, "only 11 training images: holding out 10 for validation would leave 1",
                       "--val-images 5")
    assert not (tmp_path / "data_lists").exists()

    assert_clean_error(script("demo.py", "--data-root", "missing_folder"), 1, "data root", "missing_folder",
                       "is not a folder")


def test_super_resolve_checks_its_output_folder_and_checkpoint_first(script, tmp_path, tiny_checkpoint):
    from utils import save_image
    save_image(tmp_path / "photo.png", (torch.rand(20, 24, 3) * 255).byte().numpy())
    (tmp_path / "a_file").write_text("")
    result = script("super_resolve.py", "--checkpoint", str(tiny_checkpoint), "photo.png", "--output-folder", "a_file")
    assert_clean_error(result, 2, "a_file: the output folder is a file")
    assert "photo.png" not in result.stdout  # nothing was upscaled first

    (tmp_path / "folder.pth").mkdir()
    result = script("super_resolve.py", "--checkpoint", "folder.pth", "photo.png", "--output-folder", "out")
    assert_clean_error(result, 2, "folder.pth: a folder, not a checkpoint file")


def test_super_resolve_refuses_an_output_folder_it_cannot_write(tmp_path, tiny_checkpoint, monkeypatch, capsys):
    """In-process, with the permission answered by os.access as for a user without write access (root, as in CI,
    may write anywhere, so a real read-only folder would check nothing there)."""
    import super_resolve
    from utils import save_image
    save_image(tmp_path / "photo.png", (torch.rand(20, 24, 3) * 255).byte().numpy())
    (tmp_path / "locked").mkdir()
    real_access = os.access
    monkeypatch.setattr(super_resolve.os, "access",
                        lambda path, mode: False if str(path).endswith("locked") else real_access(path, mode))
    assert super_resolve.main(["--checkpoint", str(tiny_checkpoint), str(tmp_path / "photo.png"),
                               "--output-folder", str(tmp_path / "locked")]) == 2
    captured = capsys.readouterr()
    assert "locked: the output folder is not writable" in captured.err and "photo.png" not in captured.out


def test_requirements_pin_a_torch_with_every_api_the_code_uses():
    """requirements.txt asks for at least the torch release that introduced each API the trainer needs (a lower pin
    installed torch 2.1, where building a Trainer failed)."""
    import re

    needs = {"torch.amp.GradScaler(device_type)": (2, 3), "Adam(fused=True) on CUDA": (2, 0),
             "torch.nn.utils.parametrizations.spectral_norm": (1, 11)}
    text = open(os.path.join(REPO, "requirements.txt")).read()
    pinned = tuple(int(part) for part in re.search(r"^torch>=(\d+)\.(\d+)", text, re.MULTILINE).groups())
    assert all(pinned >= version for version in needs.values()), (pinned, needs)
    assert hasattr(torch.amp, "GradScaler") and torch.amp.GradScaler("cpu", enabled=False) is not None

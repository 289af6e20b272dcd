"""Shared pytest fixtures: where the real images live (outside the repository), and small trees made from them."""
import importlib.util
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Where each folder of the shared data root comes from (all outside the project; see PROVENANCE.md there).
DATA_SOURCES = {
    "Set5": "Set5 (EDSR benchmark pack)",
    "Set14": "Set14 (EDSR benchmark pack)",
    "B100": "B100 (EDSR benchmark pack)",
    "Urban100": "Urban100 (EDSR benchmark pack)",
    "matlab_imresize": "MATLAB's imresize answers (sanghyun-son/bicubic_pytorch)",
    "train": "the T91 and BSDS200 training images",
}


def shared_root():
    """The shared data root: ``$SRGAN_SHARED_DATA``, default ``../shared/data`` beside the repository."""
    return Path(os.environ.get("SRGAN_SHARED_DATA", REPO.parent / "shared" / "data"))


def need_shared(name, what=None):
    """The shared data root, once it holds the folder ``name``; else the test is skipped, saying what is missing
    (``what``, by default where ``name`` comes from)."""
    root = shared_root()
    if not (root / name).is_dir():
        pytest.skip(f"{what or DATA_SOURCES.get(name, name)} not found at {root / name}; set SRGAN_SHARED_DATA")
    return root


def experiment_script(name):
    """The module ``experiments/<name>.py`` (a script folder, not a package), imported for its functions."""
    spec = importlib.util.spec_from_file_location(name, REPO / "experiments" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def shared_data():
    """The real benchmark/training images (``SRGAN_SHARED_DATA``, default ``../shared/data``); the test is
    skipped unless Set5 and the training images (``train/T91``, ``train/BSDS200``) are there (``download_data.py``'s
    folder has no T91 or BSDS200)."""
    need_shared("Set5", "real images (EDSR benchmark pack: Set5, Set14, B100, Urban100; T91, BSDS200)")
    for name in ("train/T91", "train/BSDS200"):
        need_shared(name, "the T91 and BSDS200 training images (the shared data's train/)")
    return shared_root()


@pytest.fixture(scope="session")
def shared_set():
    """``shared_set(name)``: the shared data root, once it holds ``name`` (a test set or ``matlab_imresize``);
    the test is skipped otherwise."""
    return need_shared


@pytest.fixture(scope="session")
def fake_div2k(shared_data, tmp_path_factory):
    """A small fake DIV2K tree in the official layout, made from real images.

    ``DIV2K_train_HR/0001..0004.png`` are BSDS200 images and ``DIV2K_valid_HR/0801..0803.png`` Set5 images
    (bird, butterfly, woman); their ``..._LR_bicubic/X4/<name>x4.png`` are made with ``imresize`` from the
    modcropped HR. Returns the root Path.
    """
    from imresize import imresize
    from utils import load_image, modcrop, save_image

    root = tmp_path_factory.mktemp("fake_div2k")
    bsds = sorted((shared_data / "train" / "BSDS200" / "HR").glob("*.png"))[:4]
    set5 = [shared_data / "Set5" / "HR" / f"{name}.png" for name in ("bird", "butterfly", "woman")]
    for split, sources, first in (("train", bsds, 1), ("valid", set5, 801)):
        for number, source in enumerate(sources, start=first):
            hr = load_image(source)
            save_image(root / f"DIV2K_{split}_HR" / f"{number:04d}.png", hr)
            save_image(root / f"DIV2K_{split}_LR_bicubic" / "X4" / f"{number:04d}x4.png",
                       imresize(modcrop(hr, 4), 1 / 4))
    return root


@pytest.fixture(scope="session")
def eval_lists(shared_data, tmp_path_factory):
    """A folder with the data lists ``Set5.csv`` and ``Set14.csv`` of the real images (the CSV format of
    ``create_data_lists.py``: LR from the shipped MATLAB files). No other set has a list there."""
    import csv

    from create_data_lists import scan_image_folder, test_set_folders
    from datasets import CSV_COLUMNS

    folder = tmp_path_factory.mktemp("eval_lists")
    for name in ("Set5", "Set14"):
        rows, _, _ = scan_image_folder(*test_set_folders(shared_data, name))
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    return folder


TINY_GENERATOR = {"n_blocks": 2, "channels": 16, "scale": 4, "prelu_per_channel": False}


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    """A randomly initialised small generator (2 blocks, 16 channels; seed 0) saved as the trainer saves
    checkpoints: ``{'generator', 'discriminator', 'config': {'model': ...}, 'epoch', 'phase'}``."""
    import torch

    from models import Generator
    from utils import save_checkpoint

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("checkpoints") / "tiny_srresnet.pth"
    save_checkpoint({"generator": Generator(**TINY_GENERATOR).state_dict(), "discriminator": None,
                     "config": {"model": dict(TINY_GENERATOR)}, "epoch": 1, "phase": "srresnet"}, path)
    return path


@pytest.fixture(scope="session")
def niqe_model(shared_data):
    """NIQE's pristine model from ``../shared/niqe`` (beside the shared images; the test is skipped without it)."""
    import niqe

    folder = shared_data.parent / "niqe"
    if not (folder / niqe.PRISTINE_FILE).is_file():
        pytest.skip(f"NIQE's pristine model not found in {folder} (it comes from the authors' niqe_release)")
    return niqe.load_pristine_model(folder)

"""The README's main command: its defaults are the settings measured best on the held-out photograph
(experiments/demo_tuning.py's logs), and it runs end to end on the built-in default (here with tiny networks), keeping
the generators only unless --keep-checkpoints. The full-size run (about 4 minutes) stays out of the suite; its
figures are in README.md's Quick start."""
import csv
from pathlib import Path

import pytest

import demo
from utils import load_checkpoint, read_csv

TUNING = Path(__file__).resolve().parents[1] / "results" / "logs" / "demo_tuning"
TINY = ["--srresnet-epochs", "1", "--srgan-epochs", "1", "--patches-per-image", "4", "n_blocks=1", "channels=8",
        "discriminator_channels=8", "discriminator_dense=16", "progress=false"]
TRAINING_IMAGES = 5  # sample_data's six training photographs, one held out to validate
SRRESNET_SECONDS = 160  # the SRResNet's share of the demo's 4 minutes (results/logs/demo_tuning/README.md)


def _final_epochs(rows):
    """Each run's row after its last epoch (the rows are in epoch order)."""
    return list({row["run"]: row for row in rows if row["run"] != "bicubic"}.values())


def test_demo_defaults_are_the_best_measured_on_the_held_out_photograph():
    config = demo.demo_config(demo.parse_args([]), "data_lists")
    srresnet = read_csv(TUNING / "srresnet.csv")
    affordable = [row for row in _final_epochs(srresnet) if float(row["wall_seconds"]) <= SRRESNET_SECONDS]
    best = max(affordable, key=lambda row: float(row["val_psnr"]))
    other = dict(item.split("=") for item in best["other"].split())
    assert (config.crop_size, config.batch_size, config.srresnet_lr, config.srresnet_lr_schedule,
            config.patches_per_image, config.srresnet_epochs) == (
        int(best["crop"]), int(best["batch"]), float(best["lr"]), best["schedule"], int(best["patches_per_image"]),
        int(best["epoch"]))
    assert {key: str(config[key]) for key in other} == other  # the initialisation
    assert config.srresnet_epochs * TRAINING_IMAGES * config.patches_per_image // config.batch_size == int(
        best["updates"])
    # the SRGAN phase: its update count and the moving average (or not) that scored best
    srgan = max(_final_epochs(read_csv(TUNING / "srgan.csv")), key=lambda row: float(row["val_psnr"]))
    assert config.ema_decay == float(srgan["ema_decay"])
    assert config.srgan_epochs * TRAINING_IMAGES * config.patches_per_image // config.batch_size == int(
        srgan["updates"])
    assert (config.crop_size, config.batch_size) == (int(srgan["crop"]), int(srgan["batch"]))
    # the paper's networks
    assert (config.n_blocks, config.channels, config.discriminator_channels, config.discriminator_dense) == (
        16, 64, 64, 1024)


def test_demo_runs_every_step_and_keeps_only_the_generators(tmp_path):
    out = tmp_path / "demo"
    assert demo.main(["--output", str(out), *TINY]) == 0
    with open(out / "results" / "metrics.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [(r["model"], r["dataset"], r["images"]) for r in rows] == [
        ("bicubic", "Sample", "3"), ("srresnet", "Sample", "3"), ("srgan", "Sample", "3")]
    assert float(rows[0]["psnr"]) > 25  # bicubic on real photographs
    for model in ("bicubic", "srresnet", "srgan"):
        assert len(list((out / "results" / "Sample" / model).glob("*.png"))) == 3
    assert len(list((out / "results" / "Sample").glob("compare_*.png"))) == 3
    assert (out / "results" / "training_curves.png").exists()
    for phase in ("srresnet", "srgan"):
        state = load_checkpoint(out / "checkpoints" / f"{phase}_last.pth")
        assert state["generator"] and state["epoch"] == 1
        assert not {"discriminator", "optimizer_g", "optimizer_d"} & set(state), phase
    assert sorted(path.name for path in (out / "checkpoints").iterdir()) == [
        "srgan_best.pth", "srgan_last.pth", "srresnet_best.pth", "srresnet_last.pth"]

    before = (out / "checkpoints" / "srgan_last.pth").read_bytes()
    assert demo.main(["--output", str(out), *TINY]) == 0  # run again: nothing to train, the same results
    assert (out / "checkpoints" / "srgan_last.pth").read_bytes() == before
    with pytest.raises(ValueError, match=r"srgan_last.pth holds the generator only .*--keep-checkpoints"):
        demo.main(["--output", str(out), *TINY[:2], "--srgan-epochs", "2", *TINY[4:]])


def test_keep_checkpoints_keeps_what_training_on_needs(tmp_path):
    out = tmp_path / "demo"
    assert demo.main(["--output", str(out), "--keep-checkpoints", *TINY]) == 0
    state = load_checkpoint(out / "checkpoints" / "srgan_last.pth")
    assert state["discriminator"] and state["optimizer_g"] and state["optimizer_d"]
    before = (out / "checkpoints" / "srgan_last.pth").read_bytes()
    assert demo.main(["--output", str(out), *TINY]) == 0  # a later run that trains nothing drops nothing
    assert (out / "checkpoints" / "srgan_last.pth").read_bytes() == before
    assert demo.main(["--output", str(out), *TINY[:2], "--srgan-epochs", "2", *TINY[4:]]) == 0  # trains on
    assert load_checkpoint(out / "checkpoints" / "srgan_last.pth")["epoch"] == 2

"""Network interpolation: the weights, the choice of alpha, and the command line."""
import csv

import pytest
import torch
from conftest import TINY_GENERATOR

import interpolate
from inference import load_generator
from models import Generator
from utils import save_checkpoint


def _generators():
    torch.manual_seed(0)
    gan, psnr = Generator(**TINY_GENERATOR), Generator(**TINY_GENERATOR)
    psnr.body[0].body[1].running_mean.fill_(0.5)  # a batch-norm statistic that differs too
    return gan.eval(), psnr.eval()


def test_interpolation_mixes_every_weight_and_statistic():
    gan, psnr = _generators()
    before = {key: value.clone() for key, value in gan.state_dict().items()}
    for alpha in (0, 0.3, 1):
        mixed = interpolate.interpolate_generators(gan, psnr, alpha).state_dict()
        for key, value in gan.state_dict().items():
            if value.is_floating_point():
                assert torch.allclose(mixed[key], alpha * value + (1 - alpha) * psnr.state_dict()[key], atol=1e-7)
    assert torch.equal(interpolate.interpolate_generators(gan, psnr, 0).state_dict()["tail.2.weight"],
                       psnr.state_dict()["tail.2.weight"])
    assert all(torch.equal(before[key], gan.state_dict()[key]) for key in before)  # inputs unchanged
    with pytest.raises(ValueError, match="alpha=1.5"):
        interpolate.interpolate_generators(gan, psnr, 1.5)
    with pytest.raises(ValueError, match="different architectures"):
        interpolate.interpolate_generators(gan, Generator(n_blocks=1, channels=16), 0.5)


def test_choose_alpha_takes_the_largest_within_the_grid_limit():
    rows = [{"alpha": 0.0, "grid": 1.0}, {"alpha": 0.5, "grid": 1.08}, {"alpha": 0.7, "grid": 1.3},
            {"alpha": 1.0, "grid": 4.0}]
    assert interpolate.choose_alpha(rows) == 0.5
    assert interpolate.choose_alpha(rows, max_grid_ratio=1.5) == 0.7
    with pytest.raises(ValueError, match="alpha 0"):
        interpolate.choose_alpha(rows[1:])


def _set5_list(root, path, names=("bird", "butterfly")):
    from create_data_lists import scan_image_folder, test_set_folders
    from datasets import CSV_COLUMNS
    rows, _, _ = scan_image_folder(*test_set_folders(root, "Set5"))
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(row for row in rows if any(f"/{name}." in row["hr_path"] for name in names))
    return path


def test_command_line_sweeps_on_held_out_images_and_saves_the_choice(shared_data, tmp_path, capsys):
    gan, psnr = _generators()
    save_checkpoint({"generator": gan.state_dict()}, tmp_path / "gan.pth")
    save_checkpoint({"generator": psnr.state_dict()}, tmp_path / "psnr.pth")
    val = _set5_list(shared_data, tmp_path / "val.csv")
    out = tmp_path / "out" / "interp.pth"
    assert interpolate.main(["--gan", str(tmp_path / "gan.pth"), "--psnr", str(tmp_path / "psnr.pth"),
                             "--val-list", str(val), "--output", str(out), "--device", "cpu"]) == 0
    with open(tmp_path / "out" / "interp.csv", newline="") as file:
        rows = [{key: float(value) for key, value in row.items()} for row in csv.DictReader(file)]
    assert [row["alpha"] for row in rows] == list(interpolate.SWEEP)
    chosen = interpolate.choose_alpha(rows)
    assert f"chosen alpha {chosen}" in capsys.readouterr().out
    loaded = load_generator(out, "cpu").state_dict()
    expected = interpolate.interpolate_generators(gan, psnr, chosen).state_dict()
    assert all(torch.allclose(loaded[key], expected[key]) for key in expected)
    assert torch.load(out, weights_only=False)["interpolation"]["alpha"] == chosen


def test_command_line_errors_name_the_problem(tmp_path, capsys):
    gan, _ = _generators()
    save_checkpoint({"generator": gan.state_dict()}, tmp_path / "gan.pth")
    save_checkpoint({"generator": Generator(n_blocks=1, channels=8).state_dict()}, tmp_path / "small.pth")
    base = ["--gan", str(tmp_path / "gan.pth"), "--output", str(tmp_path / "x.pth")]
    cases = [(["--psnr", str(tmp_path / "gan.pth")], "give either --val-list"),
             (["--psnr", str(tmp_path / "gan.pth"), "--alpha", "0.5", "--val-list", "x.csv"], "not both"),
             (["--psnr", str(tmp_path / "gan.pth"), "--val-list", str(tmp_path / "none.csv")], "none.csv: no such"),
             (["--psnr", str(tmp_path / "small.pth"), "--alpha", "0.5"], "different architectures"),
             (["--psnr", str(tmp_path / "missing.pth"), "--alpha", "0.5"], "missing.pth")]
    for extra, message in cases:
        assert interpolate.run_main(interpolate.main, base + extra) == 1
        assert message in capsys.readouterr().err
    assert not (tmp_path / "x.pth").exists()

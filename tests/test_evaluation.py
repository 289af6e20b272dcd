"""evaluation.py and super_resolve.py: the bicubic row against REFERENCE.md, exact tiled inference, checkpoint
loading errors, odd inputs, tables and figures, and the command line."""
import csv
import io
import math
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from PIL import Image

import evaluation
import super_resolve as cli
from imresize import imresize
from models import Discriminator, Generator
from utils import calc_psnr, convert_image, load_image, save_checkpoint

REPO = evaluation.Path(evaluation.__file__).resolve().parent
# REFERENCE.md, "this protocol" row: bicubic x4, float Y, 4 px crop, Wang SSIM.
from reference import BICUBIC_X4 as REFERENCE_BICUBIC


def contrasty_generator(seed=0, **model):
    """A random generator in eval mode whose BatchNorm layers do something (random running statistics and
    affine parameters) and whose output spans most of [-1, 1] (a larger last conv), so that the comparisons
    below see real structure, not a nearly constant grey image."""
    torch.manual_seed(seed)
    generator = Generator(**model).eval()
    with torch.no_grad():
        for module in generator.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.1, 0.1)
        generator.tail[-2].weight.mul_(8.0)
    return generator


def _lr_tensor(image):
    return convert_image(image, "uint8", "[0, 1]").unsqueeze(0)


# ----------------------------------------------------------------------------------------------
# Receptive field and exact tiling
# ----------------------------------------------------------------------------------------------
def test_receptive_field_radius_of_the_paper_generator():
    # 9x9 head (4) + 33 3x3 convs at LR (33) + upsampling conv at LR (1) + at x2 (rounded up to 1 by the
    # pixel-shuffle alignment) + 9x9 at x4 (1) = 40 LR pixels.
    assert evaluation.receptive_field_radius(Generator()) == 40
    assert evaluation.receptive_field_radius(Generator(n_blocks=2, channels=16)) == 12


def test_receptive_field_radius_is_exact():
    """The gradient of the SR block over one LR pixel reaches exactly ``radius`` LR pixels away, no further."""
    generator = contrasty_generator(n_blocks=2, channels=16)
    radius = evaluation.receptive_field_radius(generator)
    lr = torch.rand(1, 3, 41, 41, requires_grad=True)
    generator(lr)[:, :, 80:84, 80:84].sum().backward()  # the SR pixels of LR pixel (20, 20)
    rows = np.nonzero(lr.grad.abs().sum(dim=(0, 1, 3)).numpy())[0]
    columns = np.nonzero(lr.grad.abs().sum(dim=(0, 1, 2)).numpy())[0]
    assert max(20 - rows.min(), rows.max() - 20) == radius
    assert max(20 - columns.min(), columns.max() - 20) == radius


def _assert_tiling_tolerance(tiled, whole):
    """The proven tolerance: same SR values up to float rounding (<= 1e-5 in [-1, 1], i.e. 0.0013 grey
    levels), so after quantisation at most 1 grey level apart, and only where a value sits on a rounding
    boundary (a tiny fraction of the pixels)."""
    difference = np.abs(tiled.astype(int) - whole.astype(int))
    assert difference.max() <= 1 and np.count_nonzero(difference) <= 1e-3 * difference.size
    return int(difference.max()), int(np.count_nonzero(difference))


def test_tiled_equals_untiled_on_a_real_image(shared_data):
    """64x64 LR crop of Set5 baby, 3x3 tiles of ~21 LR pixels: float output equal to 1e-5, uint8 output at most
    1 grey level apart (here: 4 of 196,608 values differ by 1, float differences below 1e-6); one pixel less
    overlap than the radius already changes the result by more than the tolerance (the comparison can fail)."""
    lr = load_image(shared_data / "Set5" / "LR_bicubic" / "X4" / "babyx4.png")[32:96, 32:96]
    generator = contrasty_generator(n_blocks=2, channels=16)
    radius = evaluation.receptive_field_radius(generator)

    whole_float = evaluation.generate(generator, _lr_tensor(lr), tile_size=0)
    tiled_float = evaluation.generate(generator, _lr_tensor(lr), tile_size=24)
    assert (tiled_float - whole_float).abs().max().item() <= 1e-5
    short_overlap = evaluation.generate(generator, _lr_tensor(lr), tile_size=24, tile_overlap=radius - 1)
    assert (short_overlap - whole_float).abs().max().item() > 1e-5  # 7.8e-5 here: the cone's faint edge

    whole = evaluation.super_resolve(generator, lr, tile_size=0)
    assert whole.shape == (256, 256, 3) and whole.std() > 20  # real structure, not a flat grey
    assert np.array_equal(whole, convert_image(whole_float[0], "[-1, 1]", "uint8"))
    _assert_tiling_tolerance(evaluation.super_resolve(generator, lr, tile_size=24), whole)


def test_tiled_equals_untiled_with_the_paper_generator(shared_data):
    """The full 16-block generator (radius 40) on a 24x100 LR strip of Set5 butterfly, two tiles of 50:
    identical uint8 output on this CPU (the assertion allows the proven 1 grey level)."""
    lr = load_image(shared_data / "Set5" / "LR_bicubic" / "X4" / "butterflyx4.png")[20:44, :]
    lr = np.concatenate([lr, lr[:, ::-1]], axis=1)[:, :100]
    generator = contrasty_generator()
    _assert_tiling_tolerance(evaluation.super_resolve(generator, lr, tile_size=50),
                             evaluation.super_resolve(generator, lr, tile_size=0))


def test_automatic_tiling_on_the_cpu(monkeypatch):
    generator = contrasty_generator(n_blocks=1, channels=8)
    lr = (np.random.default_rng(0).random((30, 20, 3)) * 255).astype(np.uint8)
    calls = []
    original = evaluation.generate
    monkeypatch.setattr(evaluation, "generate", lambda g, x, tile_size=0, tile_overlap=None:
                        calls.append(tile_size) or original(g, x, tile_size, tile_overlap))
    monkeypatch.setattr(evaluation, "CPU_MAX_UNTILED_LR_PIXELS", 30 * 20 - 1)
    monkeypatch.setattr(evaluation, "CPU_TILE_SIZE", 8)
    tiled = evaluation.super_resolve(generator, lr)  # automatic: too many pixels -> tiles
    assert calls == [8]
    monkeypatch.setattr(evaluation, "CPU_MAX_UNTILED_LR_PIXELS", 30 * 20)
    assert np.array_equal(evaluation.super_resolve(generator, lr), tiled) and calls == [8, 0]


def test_out_of_memory_falls_back_to_smaller_tiles(monkeypatch):
    """The CUDA path, simulated on the CPU: whole image and 512-pixel tiles run out of memory, 256 works."""
    generator = contrasty_generator(n_blocks=1, channels=8)
    lr = torch.rand(1, 3, 12, 10)
    calls = []
    original = evaluation.generate

    def generate(g, x, tile_size=0, tile_overlap=None):
        calls.append(tile_size)
        if tile_size in (0, 512):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return original(g, x, tile_size, tile_overlap)

    monkeypatch.setattr(evaluation, "generate", generate)
    sr = evaluation._generate_with_oom_fallback(generator, lr, None)
    assert calls == [0, 512, 256] and torch.equal(sr, original(generator, lr))
    monkeypatch.setattr(evaluation, "CUDA_FALLBACK_TILE_SIZES", (512,))
    with pytest.raises(RuntimeError, match="out of memory even with 512-pixel tiles"):
        evaluation._generate_with_oom_fallback(generator, lr, None)


# ----------------------------------------------------------------------------------------------
# super_resolve and bicubic_upscale on any input
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(1, 1, 3), (8, 8, 3), (13, 7, 3), (9, 10)])
def test_super_resolve_any_size_and_gray(shape):
    generator = Generator(n_blocks=1, channels=8).train()
    lr = (np.random.default_rng(1).random(shape) * 255).astype(np.uint8)
    sr = evaluation.super_resolve(generator, lr)
    assert sr.dtype == np.uint8 and sr.shape == (shape[0] * 4, shape[1] * 4, 3)
    assert generator.training  # its mode is restored
    assert np.array_equal(evaluation.super_resolve(generator, lr, tile_size=3), sr)
    if len(shape) == 2:  # gray counts as R = G = B
        assert np.array_equal(sr, evaluation.super_resolve(generator, np.repeat(lr[:, :, None], 3, axis=2)))


def test_super_resolve_takes_a_pil_image_and_rejects_bad_arrays():
    generator = Generator(n_blocks=1, channels=8)
    image = Image.fromarray(np.full((5, 6, 3), 100, np.uint8))
    assert evaluation.super_resolve(generator, image).shape == (20, 24, 3)
    with pytest.raises(ValueError, match="uint8"):
        evaluation.super_resolve(generator, np.zeros((5, 6, 3), np.float32))
    with pytest.raises(ValueError, match="tile_size"):
        evaluation.super_resolve(generator, np.zeros((5, 6, 3), np.uint8), tile_size=-1)


def test_bicubic_upscale_is_matlab_imresize(shared_data):
    lr = load_image(shared_data / "Set5" / "LR_bicubic" / "X4" / "birdx4.png")
    assert np.array_equal(evaluation.bicubic_upscale(lr), imresize(lr, 4))
    assert evaluation.bicubic_upscale(lr[:, :, 0]).shape == (lr.shape[0] * 4, lr.shape[1] * 4, 3)


# ----------------------------------------------------------------------------------------------
# Loading checkpoints
# ----------------------------------------------------------------------------------------------
def test_load_generator_from_a_trainer_checkpoint(tiny_checkpoint):
    generator = evaluation.load_generator(tiny_checkpoint, "cpu")
    assert not generator.training and len(generator.body) == 2 + 2 and generator.head[0].out_channels == 16
    state = torch.load(tiny_checkpoint, weights_only=True)["generator"]
    assert all(torch.equal(value, state[key]) for key, value in generator.state_dict().items())


def test_load_generator_from_a_bare_or_wrapped_state_dict(tmp_path):
    torch.manual_seed(3)
    original = Generator(n_blocks=3, channels=8, prelu_per_channel=True)
    bare, wrapped = tmp_path / "bare.pth", tmp_path / "ddp.pth"
    torch.save(original.state_dict(), bare)
    save_checkpoint({"generator": {f"module.{k}": v for k, v in original.state_dict().items()},
                     "config": {"model": {"n_blocks": 3, "channels": 8, "scale": 4, "prelu_per_channel": True}}},
                    wrapped)
    lr = torch.rand(1, 3, 6, 5)
    with torch.no_grad():
        expected = original.eval()(lr)
        for path in (bare, wrapped):
            assert torch.equal(evaluation.load_generator(path, "cpu")(lr), expected)


def test_load_generator_errors_name_the_file_and_the_problem(tmp_path, tiny_checkpoint):
    cases = {}
    cases["discriminator.pth"] = Discriminator(channels=8, dense_features=16).state_dict()
    cases["no_generator_key.pth"] = {"discriminator": Discriminator(channels=8, dense_features=16).state_dict(),
                                     "epoch": 3}
    cases["generator_none.pth"] = {"generator": None, "epoch": 3}
    small = torch.load(tiny_checkpoint, weights_only=True)
    small["config"]["model"]["channels"] = 32  # the config says 32 channels, the weights have 16
    cases["shape_mismatch.pth"] = small
    expected = {"discriminator.pth": "not a Generator", "no_generator_key.pth": "no 'generator' entry",
                "generator_none.pth": "not a state_dict", "shape_mismatch.pth": "do not fit"}
    for name, content in cases.items():
        save_checkpoint(content, tmp_path / name)
        with pytest.raises(ValueError, match=expected[name]) as error:
            evaluation.load_generator(tmp_path / name)
        assert str(tmp_path / name) in str(error.value)

    corrupt = tmp_path / "corrupt.pth"
    corrupt.write_bytes(b"this is not a checkpoint" * 10)
    with pytest.raises(ValueError, match="corrupt.pth"):
        evaluation.load_generator(corrupt)
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        evaluation.load_generator(tmp_path / "missing.pth")


def test_load_models_skips_absent_checkpoints_with_a_note(tmp_path, tiny_checkpoint, capsys):
    models = evaluation.load_models({"srresnet": tiny_checkpoint, "srgan": tmp_path / "none.pth", "other": None},
                                    device="cpu")
    assert list(models) == ["bicubic", "srresnet"] and models["bicubic"] is None
    out = capsys.readouterr().out
    assert "srgan skipped" in out and "none.pth not found" in out and "other skipped (no checkpoint given)" in out


# ----------------------------------------------------------------------------------------------
# Evaluating data sets and writing the tables
# ----------------------------------------------------------------------------------------------
def test_bicubic_rows_match_the_reference_and_tables_are_written(eval_lists, tmp_path, capsys):
    results = tmp_path / "results"
    summaries = evaluation.evaluate_all({"bicubic": None}, eval_lists, datasets=("Set5", "Set14", "B100"),
                                        results_folder=results, progress=False)
    by_set = {summary["dataset"]: summary for summary in summaries}
    for name in ("Set5", "Set14"):
        psnr, ssim = REFERENCE_BICUBIC[name]
        assert by_set[name]["psnr"] == pytest.approx(psnr, abs=0.005)
        assert by_set[name]["ssim"] == pytest.approx(ssim, abs=0.0005)
        assert by_set[name]["images"] == {"Set5": 5, "Set14": 14}[name] and by_set[name]["seconds"] > 0
    # A set without a list is reported, not dropped.
    assert by_set["B100"]["images"] == 0 and math.isnan(by_set["B100"]["psnr"])
    assert "B100 missing" in capsys.readouterr().out

    with open(results / "metrics.csv", newline="") as file:
        reader = csv.DictReader(file)
        rows = list(reader)
    assert reader.fieldnames == ["model", "dataset", "psnr", "ssim", "images", "grid", "texture"]
    assert [(row["model"], row["dataset"], row["images"]) for row in rows] == [
        ("bicubic", "Set5", "5"), ("bicubic", "Set14", "14"), ("bicubic", "B100", "0")]
    assert float(rows[0]["psnr"]) == pytest.approx(28.429, abs=0.005) and rows[2]["psnr"] == "nan"
    assert float(rows[0]["grid"]) < 1.2 and float(rows[0]["texture"]) < 0.2  # bicubic: no grid, over-smooth
    assert rows[2]["grid"] == rows[2]["texture"] == "nan"
    markdown = (results / "metrics.md").read_text()
    assert "| Bicubic | 28.43 / 0.8111 | 26.09 / 0.7048 | n/a |" in markdown
    assert "| Model | Set5 grid / texture | Set14 grid / texture | B100 grid / texture |" in markdown
    assert re.search(r"\| Bicubic \| 0\.\d\d / 0\.0\d \| 0\.\d\d / 0\.\d\d \| n/a \|", markdown)

    with open(results / "per_image" / "bicubic_Set5.csv", newline="") as file:
        per_image = {row["name"]: row for row in csv.DictReader(file)}
    assert list(per_image["butterfly"]) == ["name", "psnr", "ssim", "seconds", "grid", "texture"]
    assert float(per_image["butterfly"]["psnr"]) == pytest.approx(22.100, abs=0.001)  # REFERENCE.md
    assert float(per_image["butterfly"]["ssim"]) == pytest.approx(0.7375, abs=0.0001)
    assert not list(results.rglob(".tmp-*"))  # atomic writes leave nothing behind


def test_evaluate_dataset_with_a_generator(eval_lists, tiny_checkpoint, tmp_path):
    generator = evaluation.load_generator(tiny_checkpoint, "cpu")
    rows, summary = evaluation.evaluate_dataset(generator, eval_lists / "Set5.csv", "Set5", model_name="tiny",
                                                max_images=2, tile_size=48, results_folder=tmp_path, progress=False)
    assert [row["name"] for row in rows] == ["baby", "bird"] and summary["images"] == 2
    assert summary["psnr"] == pytest.approx(np.mean([row["psnr"] for row in rows]))
    assert 0 < summary["psnr"] < 25 and -1 <= summary["ssim"] <= 1  # an untrained model is worse than bicubic
    assert (tmp_path / "per_image" / "tiny_Set5.csv").is_file()


def test_evaluate_dataset_modcrops_and_reports_unusable_images(shared_data, tmp_path, capsys):
    """An HR of 70x67 (not a multiple of 4, no LR file) is modcropped to 68x64 and evaluated; a corrupt file
    and an image too small for SSIM are skipped with a message naming them; the rest is evaluated."""
    bird = load_image(shared_data / "Set5" / "HR" / "bird.png")
    odd, tiny, broken = tmp_path / "odd.png", tmp_path / "tiny.png", tmp_path / "broken.png"
    Image.fromarray(bird[100:170, 100:167]).save(odd)
    Image.fromarray(bird[:16, :16]).save(tiny)
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    list_path = tmp_path / "Mixed.csv"
    list_path.write_text(f"hr_path,lr_path,hr_height,hr_width\n{broken},,16,16\n{odd},,70,67\n{tiny},,16,16\n")
    rows, summary = evaluation.evaluate_dataset(None, list_path, "Mixed", progress=False)
    assert [row["name"] for row in rows] == ["odd"] and summary["images"] == 1
    hr = bird[100:168, 100:164]
    assert rows[0]["psnr"] == pytest.approx(calc_psnr(imresize(imresize(hr, 0.25), 4), hr))
    assert len(summary["failures"]) == 2 and "broken.png" in summary["failures"][0]
    assert "tiny.png" in summary["failures"][1] and "too small" in summary["failures"][1]
    out = capsys.readouterr().out
    assert "broken.png" in out and "tiny.png" in out


# ----------------------------------------------------------------------------------------------
# Figures
# ----------------------------------------------------------------------------------------------
def test_compare_figure_and_zoom_box(shared_data):
    hr = load_image(shared_data / "Set5" / "HR" / "bird.png")
    lr = load_image(shared_data / "Set5" / "LR_bicubic" / "X4" / "birdx4.png")
    bicubic = evaluation.bicubic_upscale(lr)
    figure = evaluation.compare_figure({"LR": lr, "Bicubic": bicubic, "HR": hr}, zoom_box=(100, 120, 64, 48),
                                       title="bird")
    assert isinstance(figure, Figure) and len(figure.axes) == 6
    assert "dB" in figure.axes[1].get_title() and figure.axes[0].get_title() == "LR"
    assert figure.axes[3].images[0].get_array().shape[:2] == (64, 48)  # the zoomed LR crop, enlarged
    y, x, h, w = evaluation.auto_zoom_box(hr)
    assert h == w == 72 and 0 <= y <= hr.shape[0] - h and 0 <= x <= hr.shape[1] - w
    assert len(evaluation.compare_figure({"LR": lr, "Bicubic": bicubic}).axes) == 4  # automatic box, no HR
    with pytest.raises(ValueError, match="zoom_box"):
        evaluation.compare_figure({"LR": lr, "HR": hr}, zoom_box=(280, 0, 20, 20))
    with pytest.raises(ValueError, match="integer fraction"):
        evaluation.compare_figure({"odd": lr[:50], "HR": hr})


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------
def _write_odd_images(folder):
    """Images of every awkward kind; returns name -> expected LR (H, W)."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    rgb = (rng.random((12, 10, 3)) * 255).astype(np.uint8)
    Image.fromarray(rgb[:, :, 0]).save(folder / "gray.png")
    Image.fromarray(np.dstack([rgb, np.full((12, 10), 128, np.uint8)])).save(folder / "rgba.png")
    Image.fromarray(rgb).convert("P").save(folder / "palette.png")
    Image.fromarray((rng.random((9, 11)) * 65535).astype(np.uint16)).save(folder / "deep16.png")
    Image.fromarray(rgb[:7, :5]).save(folder / "odd_7x5.png")
    Image.fromarray(rgb[:1, :1]).save(folder / "tiny_1x1.png")
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    (folder / "readme.txt").write_text("not an image: ignored in a folder")
    assert Image.open(folder / "deep16.png").mode.startswith("I")
    return {"gray": (12, 10), "rgba": (12, 10), "palette": (12, 10), "deep16": (9, 11), "odd_7x5": (7, 5),
            "tiny_1x1": (1, 1)}


def test_cli_on_a_folder_of_awkward_images(tmp_path, tiny_checkpoint, capsys):
    expected = _write_odd_images(tmp_path / "inputs")
    out = tmp_path / "out"
    status = cli.main(["--checkpoint", str(tiny_checkpoint), str(tmp_path / "inputs"), "--output-folder", str(out),
                       "--device", "cpu"])
    assert status == 1  # the corrupt file failed, the others were done
    err = capsys.readouterr().err
    assert str(tmp_path / "inputs" / "corrupt.png") in err
    for name, (height, width) in expected.items():
        assert load_image(out / f"{name}_x4.png").shape == (height * 4, width * 4, 3)
    assert sorted(path.name for path in out.iterdir()) == sorted(f"{name}_x4.png" for name in expected)


def test_cli_on_one_file_with_tiles(tmp_path, tiny_checkpoint, shared_data):
    image = shared_data / "Set5" / "LR_bicubic" / "X4" / "headx4.png"
    status = cli.main(["--checkpoint", str(tiny_checkpoint), str(image), "--output-folder", str(tmp_path),
                       "--tile-size", "40", "--device", "cpu"])
    assert status == 0
    expected = evaluation.super_resolve(evaluation.load_generator(tiny_checkpoint, "cpu"), load_image(image))
    _assert_tiling_tolerance(load_image(tmp_path / "headx4_x4.png"), expected)


def test_cli_rejects_wrong_or_missing_checkpoints(tmp_path, capsys):
    image = tmp_path / "image.png"
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(image)
    wrong = tmp_path / "discriminator.pth"
    save_checkpoint({"generator": Discriminator(channels=8, dense_features=16).state_dict()}, wrong)
    for checkpoint in (wrong, tmp_path / "missing.pth"):
        assert cli.main(["--checkpoint", str(checkpoint), str(image), "--output-folder", str(tmp_path / "o")]) == 2
        assert str(checkpoint) in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_missing_input_and_help(tmp_path, tiny_checkpoint, capsys):
    status = cli.main(["--checkpoint", str(tiny_checkpoint), str(tmp_path / "nothing.png"), "--output-folder",
                       str(tmp_path / "o"), "--device", "cpu"])
    assert status == 1 and "nothing.png: no such file or folder" in capsys.readouterr().err
    completed = subprocess.run([sys.executable, "super_resolve.py", "--help"], cwd=REPO, capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 0 and "--tile-size" in completed.stdout and "--checkpoint" in completed.stdout


def test_figure_preview_scales_wide_figures_and_keeps_small_ones(tmp_path):
    wide, small = tmp_path / "wide.png", tmp_path / "small.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (300, 1800, 3), dtype=np.uint8)).save(wide)
    Image.fromarray(np.full((40, 60, 3), 200, dtype=np.uint8)).save(small)
    with Image.open(io.BytesIO(evaluation.figure_preview(wide, width=900))) as preview:
        assert preview.format == "PNG" and preview.size == (900, 150)
    with Image.open(io.BytesIO(evaluation.figure_preview(small, width=900))) as preview, Image.open(small) as image:
        assert preview.size == (60, 40) and np.array_equal(np.array(preview), np.array(image))
    with Image.open(wide) as original:
        assert original.size == (1800, 300)  # the file itself is untouched

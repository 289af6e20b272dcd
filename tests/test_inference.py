"""inference.py and its command line super_resolve.py: exact tiled inference, the bicubic baseline, checkpoint
loading errors, odd inputs, a whole set."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import inference
import super_resolve as cli
from imresize import imresize
from models import Discriminator, Generator
from utils import convert_image, load_image, save_checkpoint

REPO = Path(inference.__file__).resolve().parent


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
    assert inference.receptive_field_radius(Generator()) == 40
    assert inference.receptive_field_radius(Generator(n_blocks=2, channels=16)) == 12


def test_receptive_field_radius_is_exact():
    """The gradient of the SR block over one LR pixel reaches exactly ``radius`` LR pixels away, no further."""
    generator = contrasty_generator(n_blocks=2, channels=16)
    radius = inference.receptive_field_radius(generator)
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
    radius = inference.receptive_field_radius(generator)

    whole_float = inference._generate(generator, _lr_tensor(lr), tile_size=0)
    tiled_float = inference._generate(generator, _lr_tensor(lr), tile_size=24)
    assert (tiled_float - whole_float).abs().max().item() <= 1e-5
    short_overlap = inference._generate(generator, _lr_tensor(lr), tile_size=24, tile_overlap=radius - 1)
    assert (short_overlap - whole_float).abs().max().item() > 1e-5  # 7.8e-5 here: the cone's faint edge

    whole = inference.super_resolve(generator, lr, tile_size=0)
    assert whole.shape == (256, 256, 3) and whole.std() > 20  # real structure, not a flat grey
    assert np.array_equal(whole, convert_image(whole_float[0], "[-1, 1]", "uint8"))
    _assert_tiling_tolerance(inference.super_resolve(generator, lr, tile_size=24), whole)


def test_tiled_equals_untiled_with_the_paper_generator(shared_data):
    """The full 16-block generator (radius 40) on a 24x100 LR strip of Set5 butterfly, two tiles of 50:
    identical uint8 output on this CPU (the assertion allows the proven 1 grey level)."""
    lr = load_image(shared_data / "Set5" / "LR_bicubic" / "X4" / "butterflyx4.png")[20:44, :]
    lr = np.concatenate([lr, lr[:, ::-1]], axis=1)[:, :100]
    generator = contrasty_generator()
    _assert_tiling_tolerance(inference.super_resolve(generator, lr, tile_size=50),
                             inference.super_resolve(generator, lr, tile_size=0))


def test_automatic_tiling_on_the_cpu(monkeypatch):
    generator = contrasty_generator(n_blocks=1, channels=8)
    lr = (np.random.default_rng(0).random((30, 20, 3)) * 255).astype(np.uint8)
    calls = []
    original = inference._generate
    monkeypatch.setattr(inference, "_generate", lambda g, x, tile_size=0, tile_overlap=None:
                        calls.append(tile_size) or original(g, x, tile_size, tile_overlap))
    monkeypatch.setattr(inference, "CPU_MAX_UNTILED_LR_PIXELS", 30 * 20 - 1)
    monkeypatch.setattr(inference, "CPU_TILE_SIZE", 8)
    tiled = inference.super_resolve(generator, lr)  # automatic: too many pixels -> tiles
    assert calls == [8]
    monkeypatch.setattr(inference, "CPU_MAX_UNTILED_LR_PIXELS", 30 * 20)
    assert np.array_equal(inference.super_resolve(generator, lr), tiled) and calls == [8, 0]


def test_out_of_memory_falls_back_to_smaller_tiles(monkeypatch):
    """The CUDA path, simulated on the CPU: whole image and 512-pixel tiles run out of memory, 256 works."""
    generator = contrasty_generator(n_blocks=1, channels=8)
    lr = torch.rand(1, 3, 12, 10)
    calls = []
    original = inference._generate

    def generate(g, x, tile_size=0, tile_overlap=None):
        calls.append(tile_size)
        if tile_size in (0, 512):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return original(g, x, tile_size, tile_overlap)

    monkeypatch.setattr(inference, "_generate", generate)
    sr = inference._generate_with_oom_fallback(generator, lr, None)
    assert calls == [0, 512, 256] and torch.equal(sr, original(generator, lr))
    monkeypatch.setattr(inference, "CUDA_FALLBACK_TILE_SIZES", (512,))
    with pytest.raises(MemoryError, match="out of memory even with 512-pixel tiles"):
        inference._generate_with_oom_fallback(generator, lr, None)


# ----------------------------------------------------------------------------------------------
# super_resolve on any input, with a generator or bicubic
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(1, 1, 3), (8, 8, 3), (13, 7, 3), (9, 10)])
def test_super_resolve_any_size_and_gray(shape):
    generator = Generator(n_blocks=1, channels=8).train()
    lr = (np.random.default_rng(1).random(shape) * 255).astype(np.uint8)
    sr = inference.super_resolve(generator, lr)
    assert sr.dtype == np.uint8 and sr.shape == (shape[0] * 4, shape[1] * 4, 3)
    assert generator.training  # its mode is restored
    assert np.array_equal(inference.super_resolve(generator, lr, tile_size=3), sr)
    if len(shape) == 2:  # gray counts as R = G = B
        assert np.array_equal(sr, inference.super_resolve(generator, np.repeat(lr[:, :, None], 3, axis=2)))


def test_super_resolve_takes_a_pil_image_and_rejects_bad_arrays():
    generator = Generator(n_blocks=1, channels=8)
    image = Image.fromarray(np.full((5, 6, 3), 100, np.uint8))
    assert inference.super_resolve(generator, image).shape == (20, 24, 3)
    # a palette or RGBA image is its colours, by the generator and by bicubic alike
    rgb = np.zeros((5, 6, 3), np.uint8) + np.array([200, 50, 0], np.uint8)
    for other in (Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE),
                  Image.fromarray(rgb).convert("RGBA")):
        assert np.array_equal(inference.super_resolve(None, other), inference.super_resolve(None, rgb))
        assert np.array_equal(inference.super_resolve(generator, other), inference.super_resolve(generator, rgb))
    with pytest.raises(ValueError, match="uint8"):
        inference.super_resolve(generator, np.zeros((5, 6, 3), np.float32))
    with pytest.raises(ValueError, match="tile_size"):
        inference.super_resolve(generator, np.zeros((5, 6, 3), np.uint8), tile_size=-1)


def test_super_resolve_without_a_model_is_matlab_imresize(shared_data):
    lr = load_image(shared_data / "Set5" / "LR_bicubic" / "X4" / "birdx4.png")
    assert np.array_equal(inference.super_resolve(None, lr), imresize(lr, 4))
    assert inference.super_resolve(None, lr[:, :, 0]).shape == (lr.shape[0] * 4, lr.shape[1] * 4, 3)


# ----------------------------------------------------------------------------------------------
# Loading checkpoints
# ----------------------------------------------------------------------------------------------
def test_load_generator_from_a_trainer_checkpoint(tiny_checkpoint):
    generator = inference.load_generator(tiny_checkpoint, "cpu")
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
            assert torch.equal(inference.load_generator(path, "cpu")(lr), expected)


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
            inference.load_generator(tmp_path / name)
        assert str(tmp_path / name) in str(error.value)

    corrupt = tmp_path / "corrupt.pth"
    corrupt.write_bytes(b"this is not a checkpoint" * 10)
    with pytest.raises(ValueError, match="corrupt.pth"):
        inference.load_generator(corrupt)
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        inference.load_generator(tmp_path / "missing.pth")


def test_load_models_skips_absent_checkpoints_with_a_note(tmp_path, tiny_checkpoint, capsys):
    models = inference.load_models({"srresnet": tiny_checkpoint, "srgan": tmp_path / "none.pth", "other": None},
                                    device="cpu")
    assert list(models) == ["bicubic", "srresnet"] and models["bicubic"] is None
    out = capsys.readouterr().out
    assert "srgan skipped" in out and "none.pth not found" in out and "other skipped (no checkpoint given)" in out


def test_trained_weights_or_their_moving_average(tmp_path, tiny_checkpoint, shared_data, capsys):
    """A checkpoint of a run with ``ema_decay`` holds both; the moving average is the default everywhere, and
    ``load_models(trained_weights=...)`` / ``super_resolve.py --trained-weights`` pick the trained weights."""
    checkpoint = torch.load(tiny_checkpoint, weights_only=True)
    average = contrasty_generator(**checkpoint["config"]["model"]).state_dict()
    path = tmp_path / "with_ema.pth"
    save_checkpoint({**checkpoint, "generator_ema": average}, path)
    def same(model, weights):
        return all(torch.equal(model.state_dict()[k], v) for k, v in weights.items())

    models = inference.load_models({"srgan": path, "baseline": path}, "cpu", trained_weights=["baseline"])
    assert same(models["srgan"], average) and same(models["baseline"], checkpoint["generator"])
    assert not same(models["baseline"], average)
    out = capsys.readouterr().out
    assert f"srgan: loaded {path}\n" in out and f"baseline: loaded {path} (its trained weights" in out
    with pytest.raises(ValueError, match="basline"):
        inference.load_models({"baseline": path}, "cpu", trained_weights=["basline"])

    image = shared_data / "Set5" / "LR_bicubic" / "X4" / "birdx4.png"
    for flags, model in (([], models["srgan"]), (["--trained-weights"], models["baseline"])):
        assert cli.main(["--checkpoint", str(path), str(image), "--output-folder", str(tmp_path / "out"),
                         "--device", "cpu", *flags]) == 0
        expected = inference.super_resolve(model, load_image(image))
        assert np.array_equal(load_image(tmp_path / "out" / "birdx4_x4.png"), expected)


def test_super_resolve_set_writes_and_yields_every_image(eval_lists, tiny_checkpoint, tmp_path):
    models = {"bicubic": None, "tiny": inference.load_generator(tiny_checkpoint, "cpu")}
    images = inference.super_resolve_set(models, eval_lists / "Set5.csv", tmp_path / "Set5", max_images=2,
                                         progress=False)
    assert not (tmp_path / "Set5").exists()  # a generator: nothing is done before it is iterated
    images = list(images)
    assert [image["name"] for image in images] == ["baby", "bird"]
    for image in images:
        assert image["hr"].shape == (image["lr"].shape[0] * 4, image["lr"].shape[1] * 4, 3)
        for name, model in models.items():
            assert image["paths"][name] == tmp_path / "Set5" / name / f"{image['name']}.png"
            assert np.array_equal(load_image(image["paths"][name]), image["sr"][name])
            assert np.array_equal(image["sr"][name], inference.super_resolve(model, image["lr"]))


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
    expected = inference.super_resolve(inference.load_generator(tiny_checkpoint, "cpu"), load_image(image))
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

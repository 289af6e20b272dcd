"""The settings of a training run: one table of every key with its default (the paper's), its allowed values and what
it does, the two profiles built from it, and their check.

* ``default_config(**overrides)``: the paper's settings (for a GPU and DIV2K).
* ``cpu_config(**overrides)``: a laptop CPU profile: smaller epochs, the MSE content loss (nothing to download) and the
  two options of the adversarial phases chosen on held-out images against grid artefacts (report.md).
* ``check_config(config)``: ``ValueError`` naming the first key whose value breaks its rule or a rule between keys.
* ``settings_markdown()``: the table as Markdown (train.ipynb shows it; ``python training.py --settings`` prints it).
* ``departures_markdown(configs)``: the settings in which a run departs from the paper (train.ipynb shows it).

A config is an ``EasyDict``: ``config.batch_size``. An epoch is ``images x patches_per_image`` patches: on DIV2K
(800 images x 100) that is 5,000 updates of batch 16, so 200 SRResNet epochs are the paper's 10^6 updates and 40
SRGAN epochs its 2 x 10^5.
"""
import math
from dataclasses import dataclass

import torch
from easydict import EasyDict

from models import ContentLoss

PHASES = ("srresnet", "srgan", "baseline")
GRID_WINDOW = 16  # the tiles of gan_options.periodic_error (grid_weight), in HR pixels
SPECTRAL_TILE = 32  # the tiles of gan_options.spectral_excess (spectral_weight), in HR pixels
# Settings that change where and how fast a run goes, what it shows or validates, not what it trains.
MACHINERY = ("lists_folder", "val_list", "val_max_images", "val_niqe", "num_workers", "pool_size", "device", "amp",
             "channels_last", "sync_batch_norm", "checkpoint_folder", "log_folder", "resume", "allow_changed_settings",
             "progress", "srgan_init", "keep_epoch_generators")
# Settings of a generator from random weights (SRResNet, baseline): SRGAN starts from the SRResNet.
RANDOM_START_ONLY = ("icnr_init", "zero_init_residual")
# Settings that only the adversarial phases use (SRResNet training ignores them).
ADVERSARIAL_ONLY = ("content_loss", "vgg_weights", "feature_scale", "adversarial_weight", "gan_loss", "d_lr_ratio",
                    "generator_bn", "ema_decay", "d_shift", "d_blur", "d_spectral_norm", "grid_weight",
                    "d_luminance", "d_augment", "ldl_weight", "spectral_weight", "spectral_borders", "chroma_weight",
                    "discriminator_channels", "discriminator_dense")


# ----------------------------------------------------------------------------------------------
# Rules: what a value may be
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """An allowed set of values: ``test(value)`` says whether ``value`` is in it, ``text`` describes it."""
    text: str
    test: object

    def allows(self, value):
        return bool(self.test(value))


def integer(low=0):
    return Rule(f"an integer >= {low}", lambda v: type(v) is int and v >= low)


def number(low=0.0, high=None, high_included=True):
    bound = "" if high is None else f" and {'<=' if high_included else '<'} {high}"
    return Rule(f"a number >= {low}{bound}", lambda v: type(v) in (int, float) and math.isfinite(v) and v >= low and (
        high is None or (v <= high if high_included else v < high)))


def positive():
    return Rule("a number > 0", lambda v: type(v) in (int, float) and math.isfinite(v) and v > 0)


def choice(*options):
    return Rule(f"one of {', '.join(map(str, options))}", lambda v: v in options)


def optional(rule):
    return Rule(f"{rule.text} or none", lambda v: v is None or rule.allows(v))


FLAG = Rule("true or false", lambda v: isinstance(v, bool))
TEXT = Rule("a non-empty text", lambda v: isinstance(v, str) and v != "")
EPOCHS = Rule("epoch numbers >= 1, e.g. 10,20", lambda v: isinstance(v, tuple) and all(
    type(item) is int and item >= 1 for item in v))
POOL = Rule("'all' or an integer >= 1", lambda v: v == "all" or (type(v) is int and v >= 1))


def _is_device_name(name):
    """Whether ``name`` is 'auto' or a device that exists here (``cuda`` needs a GPU)."""
    if not isinstance(name, str):
        return False
    if name == "auto":
        return True
    try:
        device = torch.device(name)
    except RuntimeError:
        return False
    if device.type == "cuda":
        return torch.cuda.is_available() and (device.index or 0) < torch.cuda.device_count()
    return device.type == "cpu" or (device.type == "mps" and torch.backends.mps.is_available())


DEVICE = Rule("auto, cpu, cuda, cuda:N or mps (and available on this machine)", _is_device_name)


# ----------------------------------------------------------------------------------------------
# The table: key -> (the paper's value, rule, what it does)
# ----------------------------------------------------------------------------------------------
def _phase_settings(phase, epochs, lr, milestones, what):
    return {
        f"{phase}_epochs": (epochs, integer(1), f"{what}: epochs"),
        f"{phase}_lr": (lr, positive(), f"{what}: Adam's learning rate"),
        f"{phase}_lr_decay_epochs": (milestones, EPOCHS, "epochs after which the rate is multiplied by "
                                                         "lr_decay_factor (schedule step)"),
        f"{phase}_lr_schedule": ("step", choice("step", "cosine"), "step: the paper's; cosine: from the rate down to "
                                                                   "0 over the phase, one value per epoch"),
    }


SETTINGS = {
    # data (lists made by create_data_lists.py)
    "lists_folder": ("data_lists", TEXT, "folder of the data lists (create_data_lists.py)"),
    "train_list": ("train.csv", TEXT, "training images (in lists_folder)"),
    "val_list": ("val.csv", TEXT, "held-out validation images, never a test set (in lists_folder)"),
    "val_max_images": (None, optional(integer(1)), "validate on the first N held-out images (none: all)"),
    "val_niqe": (False, FLAG, "also NIQE in validation (niqe.load_pristine_model: $SRGAN_NIQE_MODEL, the cache or a "
                              "download)"),
    "crop_size": (96, integer(16), "HR training crop, px (a multiple of scale)"),
    "scale": (4, choice(4), "the upscaling factor: x4 only (the data lists' LR files, validation and evaluation are "
                            "x4; models.Generator itself also builds x2 and x8)"),
    "patches_per_image": (100, integer(1), "random crops per training image per epoch"),
    "augment": (False, FLAG, "the eight flips/rotations of each crop (not the paper)"),
    "batch_size": (16, integer(1), "the global batch: under torchrun each of N processes takes batch_size / N"),
    "num_workers": (4, integer(0), "data loader processes"),
    "pool_size": (32, POOL, "decoded images per worker (DIV2K); all: the whole set decoded once (datasets.py)"),
    # generator / discriminator (the paper: 16 blocks of 64 channels; D from 64 channels, dense 1024)
    "n_blocks": (16, integer(1), "G's residual blocks"),
    "channels": (64, integer(1), "G's feature channels"),
    "prelu_per_channel": (False, FLAG, "one PReLU slope per channel instead of one per layer (the paper's count)"),
    "discriminator_channels": (64, integer(1), "D's first channels"),
    "discriminator_dense": (1024, integer(1), "D's dense layer"),
    # the phases: SRResNet (pixel MSE, 1e-4 constant), SRGAN and the baseline (1e-4, then 1e-5 for the second half)
    **_phase_settings("srresnet", 200, 1e-4, (), "phase 1, SRResNet"),
    **_phase_settings("srgan", 40, 1e-4, (20,), "phase 2, SRGAN"),
    **_phase_settings("baseline", 40, 1e-4, (20,), "the baseline, G and D from random weights"),
    "lr_decay_factor": (0.1, Rule("a number > 0 and <= 1", lambda v: positive().allows(v) and v <= 1),
                        "the step schedule's factor"),
    "beta1": (0.9, number(0.0, 1.0, high_included=False), "Adam's beta1"),
    "beta2": (0.999, number(0.0, 1.0, high_included=False), "Adam's beta2"),
    "srgan_init": (None, optional(TEXT), "the SRResNet checkpoint SRGAN starts from (none: "
                                         "<checkpoint_folder>/srresnet_best.pth)"),
    # losses of the adversarial phases
    "content_loss": ("vgg54", choice(*ContentLoss.KINDS), "vgg54: the paper's SRGAN; lite0_stage3/5: ImageNet "
                                                          "EfficientNet-Lite0 (models.ContentLoss)"),
    "vgg_weights": ("imagenet", TEXT, "imagenet (torchvision download), a vgg19 .pth file, or random (seeded by seed)"),
    "feature_scale": (None, optional(positive()), "features are multiplied by it (none: the kind's own, 1/12.75 for "
                                                  "VGG; models.ContentLoss.FEATURE_SCALES)"),
    "adversarial_weight": (1e-3, number(), "weight of -log D(G(LR)) in G's loss"),
    # experimental options of the adversarial phases, each off (the paper) by default: gan_options.py, report.md
    "gan_loss": ("bce", choice("bce", "relativistic"), "bce: the paper's; relativistic: ESRGAN's RaGAN"),
    "d_lr_ratio": (1.0, positive(), "D's learning rate as a multiple of G's"),
    "generator_bn": ("batch", choice("batch", "frozen"), "frozen: G's batch norms keep the SRResNet's statistics"),
    "ema_decay": (0.0, number(0.0, 1.0, high_included=False), "G for inference is a moving average of its weights "
                                                              "(0: off; BasicSR uses 0.999)"),
    "icnr_init": (False, FLAG, "ICNR initialisation of the sub-pixel convolutions of a G from random weights"),
    "zero_init_residual": (False, FLAG, "a G from random weights starts with every residual branch at 0 (the scale of "
                                        "its last batch norm; models.zero_init_residual_)"),
    "d_shift": (0, integer(0), "D judges each image cropped at a random offset of 0..d_shift px (<= crop_size / 2)"),
    "d_blur": (False, FLAG, "D judges HR and SR low-passed by a 3x3 binomial filter"),
    "d_spectral_norm": (False, FLAG, "spectral normalisation of D's layers, without its batch norms"),
    "grid_weight": (0.0, number(), "G's loss adds grid_weight x the 4-pixel-periodic part of its pixel error "
                                   "(crop_size a multiple of 16)"),
    "d_luminance": (False, FLAG, "D sees the luminance only (BT.601 Y as a grey image): no adversarial push on colour"),
    "d_augment": (False, FLAG, "DiffAugment (Zhao et al. 2020): random translation (1/8 of the side) and cutout (half "
                               "the side) of HR and SR before every D call"),
    "ldl_weight": (0.0, number(), "G's loss adds ldl_weight x LDL's artefact-map-weighted L1 (Liang et al. 2022; the "
                                  "paper's weight: 1; needs ema_decay > 0)"),
    "spectral_weight": (0.0, number(), "G's loss adds spectral_weight x the energy SR has above the LR's Nyquist "
                                       "frequency beyond twice the HR's, in 32-px tiles (gan_options.spectral_excess)"),
    "spectral_borders": (False, FLAG, "spectral_weight's tiles also cover the images' outer pixels (mirrored margin; "
                                      "spectral_excess's cover_borders); false: the term the reported SRGAN trained "
                                      "with, blind to the outer ~4 px"),
    "chroma_weight": (0.0, number(), "G's loss adds chroma_weight x the mean square of SR's Cb and Cr error against "
                                     "the HR's (gan_options.chroma_error): colour speckle costs more, luminance "
                                     "texture no more"),
    "keep_epoch_generators": (True, FLAG, "adversarial phases: keep the generator used for inference (the moving "
                                          "average when on) after every epoch, <phase>_epoch_NNN.pth, ~6 MB each"),
    # machinery
    "device": ("auto", DEVICE, "auto: CUDA when available, else the CPU"),
    "amp": (True, FLAG, "mixed precision: fp16 on CUDA, bf16 on a CPU with bf16 instructions, else fp32"),
    "channels_last": ("auto", choice("auto", True, False), "channels_last memory layout; auto: where measured to "
                                                           "help (bf16 on a CPU; solver.memory_format)"),
    "sync_batch_norm": (True, FLAG, "under torchrun on CUDA, batch norms use the global batch's statistics"),
    "seed": (0, integer(0), "seeds the weights, the crops and every random draw of training"),
    "checkpoint_folder": ("checkpoints", TEXT, "<phase>_last.pth (to resume) and <phase>_best.pth"),
    "log_folder": ("logs", TEXT, "<phase>_iterations.csv and <phase>_epochs.csv"),
    "resume": (True, FLAG, "resume from <phase>_last.pth when it exists"),
    "allow_changed_settings": (False, FLAG, "resume even when settings that change training differ from the "
                                            "checkpoint's (the change is logged)"),
    "progress": (True, FLAG, "a progress bar per epoch"),
}

# What the cpu profile changes, and why (report.md measures each).
CPU_PROFILE = dict(patches_per_image=16, num_workers=1, pool_size="all", srresnet_epochs=20, srgan_epochs=4,
                   srgan_lr_decay_epochs=(2,), baseline_epochs=4, baseline_lr_decay_epochs=(2,), content_loss="mse",
                   val_max_images=5, ema_decay=0.999, grid_weight=100.0)


def paper_settings():
    """The paper's settings as a new plain dict (key -> value)."""
    return {key: default for key, (default, _, _) in SETTINGS.items()}


def default_config(**overrides):
    """The paper's settings (for a GPU and DIV2K), overridable by keyword; checked (``check_config``)."""
    config = EasyDict(paper_settings())
    unknown = set(overrides) - set(config)
    if unknown:
        raise KeyError(f"unknown config keys: {sorted(unknown)}")
    config.update(overrides)
    for phase in PHASES:  # one milestone may be given as a number
        milestones = config[f"{phase}_lr_decay_epochs"]
        config[f"{phase}_lr_decay_epochs"] = ((milestones,) if isinstance(milestones, (int, float, str))
                                              else tuple(milestones))
    check_config(config)
    return config


def cpu_config(**overrides):
    """The laptop CPU profile: the paper's networks and losses with ``CPU_PROFILE``'s changes (smaller epochs, fewer
    workers; the pixel MSE content loss: VGG19's weights need a download, and the EfficientNet-Lite0 losses did not
    beat MSE on the held-out images, the report appendix's A11; ``ema_decay=0.999`` and ``grid_weight=100`` chosen
    on held-out images against grid artefacts), then ``overrides``."""
    return default_config(**{**CPU_PROFILE, **overrides})


def phase_configs(profile="paper", overrides=None, phase_overrides=None):
    """One checked config per phase (``PHASES``): the profile's settings (``"paper"``: ``default_config``, ``"cpu"``:
    ``cpu_config``), then ``overrides`` (every phase), then ``phase_overrides[phase]`` (that phase only; it wins).
    ``ValueError`` for an unknown profile or phase name, ``KeyError`` for an unknown setting."""
    make = {"paper": default_config, "cpu": cpu_config}.get(profile)
    if make is None:
        raise ValueError(f"unknown profile {profile!r}: 'paper' or 'cpu'")
    phase_overrides = phase_overrides or {}
    unknown = set(phase_overrides) - set(PHASES)
    if unknown:
        raise ValueError(f"phase_overrides names no phase: {sorted(unknown)} (phases: {', '.join(PHASES)})")
    return {phase: make(**{**(overrides or {}), **phase_overrides.get(phase, {})}) for phase in PHASES}


def check_config(config):
    """Raise ``ValueError`` naming the first setting outside its rule (``SETTINGS``) or breaking a rule between
    settings."""
    for key, value in config.items():
        rule = SETTINGS[key][1]
        if not rule.allows(value):
            raise ValueError(f"config {key}={value!r}: must be {rule.text}")
    if config.crop_size % config.scale or config.crop_size < 4 * config.scale:
        raise ValueError(f"config crop_size={config.crop_size}: must be a multiple of scale {config.scale} "
                         f"and at least {4 * config.scale}")
    if config.d_shift * 2 > config.crop_size:
        raise ValueError(f"config d_shift={config.d_shift}: must be at most half of crop_size ({config.crop_size})")
    if config.ldl_weight and not config.ema_decay:
        raise ValueError(f"config ldl_weight={config.ldl_weight}: LDL compares G with its moving average; set "
                         f"ema_decay (e.g. 0.999)")
    if config.spectral_weight and config.crop_size < SPECTRAL_TILE:
        raise ValueError(f"config spectral_weight={config.spectral_weight}: needs crop_size >= {SPECTRAL_TILE}")
    if config.grid_weight and config.crop_size % GRID_WINDOW:
        raise ValueError(f"config grid_weight={config.grid_weight}: must be >= 0, and when on, crop_size "
                         f"({config.crop_size}) a multiple of {GRID_WINDOW}")


def settings_markdown():
    """Every setting as a Markdown table: key, the paper's value, the cpu profile's when it differs, allowed, what."""
    lines = ["| key | paper | cpu | allowed | what it does |", "|---|---|---|---|---|"]
    for key, (default, rule, text) in SETTINGS.items():
        cpu = CPU_PROFILE.get(key, default)
        lines.append(f"| `{key}` | {default!r} | {'' if cpu == default else repr(cpu)} | {rule.text} | {text} |")
    return "\n".join(lines)


def departures_markdown(configs):
    """The settings in which a run departs from the paper, as a Markdown table: one row per key that a phase uses
    with a value other than ``paper_settings()``'s, with the paper's value and each phase's (a phase that keeps the
    paper's value shows it too; a phase that does not use the key, an empty cell: another phase's ``srgan_lr``,
    an ``ADVERSARIAL_ONLY`` key for the SRResNet, a ``RANDOM_START_ONLY`` one for SRGAN). ``MACHINERY`` keys are left
    out. ``configs``: ``phase_configs``'s dict (phase -> config; a key it lacks counts as the paper's)."""
    paper = paper_settings()

    def used(phase, key):
        owner = next((p for p in PHASES if key.startswith(f"{p}_")), phase)
        return owner == phase and not (phase == "srresnet" and key in ADVERSARIAL_ONLY) and not (
            phase == "srgan" and key in RANDOM_START_ONLY)

    def value(phase, key):
        return _plain(configs[phase].get(key, paper[key]))

    keys = [key for key in SETTINGS if key not in MACHINERY and any(
        used(phase, key) and value(phase, key) != _plain(paper[key]) for phase in configs)]
    if not keys:
        return "This run trains with the paper's settings in every phase."
    lines = ["| key | paper | " + " | ".join(configs) + " |", "|---|---|" + "---|" * len(configs)]
    lines += [f"| `{key}` | {_plain(paper[key])!r} | " + " | ".join(
        repr(value(phase, key)) if used(phase, key) else "" for phase in configs) + " |" for key in keys]
    return "\n".join(lines)


def _plain(value):
    """A setting's value with lists as tuples (a config read back from JSON or YAML holds lists)."""
    return tuple(value) if isinstance(value, list) else value


# ----------------------------------------------------------------------------------------------
# KEY=VALUE settings of the command line
# ----------------------------------------------------------------------------------------------
def parse_value(text):
    """``"16"`` -> 16, ``"1e-4"`` -> 1e-4, ``"true"`` -> True, ``"none"`` -> None, ``"10,20"`` -> (10, 20)."""
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            pass
    if text.lower() in ("true", "false", "none"):
        return {"true": True, "false": False, "none": None}[text.lower()]
    if "," in text or text == "()":
        return tuple(parse_value(part) for part in text.strip("()").split(",") if part)
    return text


def parse_settings(settings):
    """Command-line ``KEY=VALUE`` strings -> a dict of config overrides (values parsed as numbers etc.)."""
    overrides = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or not key:
            raise ValueError(f"setting {setting!r} is not KEY=VALUE")
        overrides[key] = parse_value(value)
    return overrides

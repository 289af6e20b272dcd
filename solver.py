"""Training SRGAN: one epoch of each phase, and the loop around it (checkpoints, validation, logs).

Phases (``train(config, phase)``):

* ``"srresnet"``: the generator alone with the pixel MSE content loss (the paper's SRResNet, and the
  pre-training the assignment asks for).
* ``"srgan"``: the generator initialised from the trained SRResNet, then trained against the
  discriminator: ``l_G = l_content + 1e-3 * l_adv`` with ``l_adv = -log D(G(LR))``, and ``l_D`` the binary
  cross-entropy of real = 1, fake = 0; one D step per G step.
* ``"baseline"``: the same adversarial training, but G and D both start from random weights (the
  assignment's original mode, which gives a poor model; kept for comparison).

Value ranges: LR batches ``(N, 3, h, w)`` in [0, 1]; HR batches and generator output ``(N, 3, 4h, 4w)`` in
[-1, 1]; the discriminator returns logits ``(N,)``. Losses are computed from logits with
``binary_cross_entropy_with_logits`` (the paper's sigmoid + BCE, numerically stable).

Everything a run needs is in one flat ``config`` (``default_config()``: the paper's values). Checkpoints
(``<checkpoint_folder>/<phase>_last.pth`` every epoch, ``<phase>_best.pth`` by validation PSNR) hold all
state needed to resume exactly; they are written atomically. Under ``torchrun --nproc_per_node=N`` the
same code trains with DistributedDataParallel (``python solver.py --help``).
"""
import argparse
import csv
import json
import math
import os
import time

import torch
import torch.distributed as dist
from easydict import EasyDict
from torch import nn
from torch.nn import functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from datasets import TestDataset, TrainDataset
from evaluation import evaluate_dataset
from models import ContentLoss, Discriminator, Generator, icnr_
from niqe import load_pristine_model
from utils import generator_weights, get_device, load_checkpoint, run_main, save_checkpoint, write_csv

PHASES = ("srresnet", "srgan", "baseline")
# What <phase>_best.pth keeps (<phase>_last.pth has everything needed to resume).
BEST_KEYS = ("phase", "epoch", "config", "generator", "generator_ema", "history", "best_psnr")
GRID_WINDOW = 16  # the tiles of periodic_error (grid_weight), in HR pixels


def paper_settings():
    """The paper's settings (for a GPU and DIV2K) as a new plain dict; ``default_config`` explains them."""
    return dict(
        # data (lists made by create_data_lists.py)
        # val_niqe: also NIQE in validation (niqe.load_pristine_model: $SRGAN_NIQE_MODEL, the cache, or a download)
        lists_folder="data_lists", train_list="train.csv", val_list="val.csv", val_max_images=None, val_niqe=False,
        # batch_size is the global batch: under torchrun each of N processes takes batch_size / N
        # pool_size: decoded images per worker (DIV2K); "all" keeps the whole set decoded (datasets.TrainDataset)
        crop_size=96, scale=4, patches_per_image=100, augment=False, batch_size=16, num_workers=4, pool_size=32,
        # generator / discriminator (the paper: 16 blocks of 64 channels; D from 64 channels, dense 1024)
        n_blocks=16, channels=64, prelu_per_channel=False, discriminator_channels=64, discriminator_dense=1024,
        # phase 1: SRResNet, pixel MSE, Adam(0.9, 0.999) at 1e-4 (constant)
        srresnet_epochs=200, srresnet_lr=1e-4, srresnet_lr_decay_epochs=(),
        # <phase>_lr_schedule: "step" (x lr_decay_factor at each <phase>_lr_decay_epochs: the paper) or
        # "cosine" (from <phase>_lr down to 0 over the phase's epochs, one value per epoch)
        srresnet_lr_schedule="step",
        # phase 2: SRGAN (and the baseline), 1e-4 then 1e-5 for the second half
        srgan_epochs=40, srgan_lr=1e-4, srgan_lr_decay_epochs=(20,), srgan_lr_schedule="step",
        baseline_epochs=40, baseline_lr=1e-4, baseline_lr_decay_epochs=(20,), baseline_lr_schedule="step",
        # content_loss: "mse", "vgg22", "vgg54" (the paper's SRGAN), "lite0_stage3", "lite0_stage5"
        # (models.ContentLoss); vgg_weights: "imagenet", a file, or "random" (seeded by seed);
        # feature_scale None: the kind's own (1/12.75 for VGG; ContentLoss.FEATURE_SCALES)
        content_loss="vgg54", vgg_weights="imagenet", feature_scale=None, adversarial_weight=1e-3,
        # Options for the adversarial phases, each off (the paper) by default; report.md measures them:
        # gan_loss "bce" (the paper) or "relativistic" (ESRGAN's RaGAN); d_lr_ratio: D's rate / G's;
        # generator_bn "batch" (the paper: G's batch norms use batch statistics while training) or "frozen"
        # (they keep the SRResNet's running statistics); ema_decay: G for inference is an exponential moving
        # average of its weights (0 = off; BasicSR uses 0.999); icnr_init: ICNR initialisation of the
        # sub-pixel convolutions of a G that starts from random weights (phase 1 and the baseline); d_shift: D
        # judges every image cropped at a random offset of 0..d_shift px in each direction (0 = the whole image),
        # so that the phase of D's stride-2 grid relative to G's pixel grid changes from one image to the next;
        # d_blur: D judges HR and SR low-passed by a 3x3 binomial filter (blind to 2-pixel-period patterns);
        # d_spectral_norm: spectral normalisation of D's layers, without its batch norms (models.Discriminator);
        # grid_weight: G's loss adds grid_weight * periodic_error(SR, HR), the part of its
        # pixel MSE that repeats every 4 pixels in 16 x 16 tiles (with the MSE content loss, the error at the grid
        # frequencies then weighs 1 + grid_weight times)
        gan_loss="bce", d_lr_ratio=1.0, generator_bn="batch", ema_decay=0.0, icnr_init=False, d_shift=0,
        d_blur=False, d_spectral_norm=False, grid_weight=0.0,
        srgan_init=None,  # the phase-1 generator for SRGAN; None: <checkpoint_folder>/srresnet_best.pth
        lr_decay_factor=0.1, beta1=0.9, beta2=0.999,
        # machinery
        # amp: fp16 autocast on CUDA, bf16 on a CPU with bf16 instructions (AVX512-BF16, AMX), else fp32
        # (amp_settings); channels_last memory layout; both measured by benchmarks/bench_training.py;
        # False gives plain fp32 / NCHW
        # sync_batch_norm: under torchrun on CUDA, batch norms use the statistics of the global batch
        device="auto", amp=True, channels_last=True, sync_batch_norm=True, seed=0, checkpoint_folder="checkpoints",
        log_folder="logs", resume=True, progress=True,
    )


def default_config(**overrides):
    """The paper's settings (for a GPU and DIV2K), overridable by keyword.

    An epoch is ``images x patches_per_image`` patches: on DIV2K (800 images x 100) that is 5,000 updates
    of batch 16, so 200 SRResNet epochs are the paper's 10^6 updates and 40 SRGAN epochs its 2 x 10^5.
    """
    config = EasyDict(paper_settings())
    unknown = set(overrides) - set(config)
    if unknown:
        raise KeyError(f"unknown config keys: {sorted(unknown)}")
    config.update(overrides)
    for phase in PHASES:  # one milestone may be given as a number
        key = f"{phase}_lr_decay_epochs"
        milestones = config[key]
        config[key] = (milestones,) if isinstance(milestones, (int, float, str)) else tuple(milestones)
    check_config(config)
    return config


# Settings that are not plain numbers: their allowed values.
_CHOICES = {"content_loss": ContentLoss.KINDS, "gan_loss": ("bce", "relativistic"),
            "generator_bn": ("batch", "frozen"), **{f"{phase}_lr_schedule": ("step", "cosine") for phase in PHASES}}
_OPTIONAL = {"val_max_images": int, "srgan_init": str, "feature_scale": float}  # None allowed


def check_config(config):
    """Raise ``ValueError`` naming the first setting of the wrong type or out of range (each is checked
    against the type of its default in ``paper_settings``)."""
    defaults = paper_settings()
    for key, value in config.items():
        if not _is_valid(key, value, defaults[key]):
            raise ValueError(f"config {key}={value!r}: {_expected(key, defaults[key])}")
    for key in ("batch_size", "crop_size", "patches_per_image", "n_blocks", "channels", "scale", "srresnet_lr",
                "srgan_lr", "baseline_lr", "val_max_images", "discriminator_channels", "discriminator_dense"):
        if config[key] is not None and config[key] <= 0:
            raise ValueError(f"config {key}={config[key]!r}: must be > 0")
    if config.crop_size % config.scale or config.crop_size < 4 * config.scale:
        raise ValueError(f"config crop_size={config.crop_size}: must be a multiple of scale {config.scale} "
                         f"and at least {4 * config.scale}")
    if not (0 < config.lr_decay_factor <= 1 and 0 <= config.beta1 < 1 and 0 <= config.beta2 < 1):
        raise ValueError("config: lr_decay_factor must be in (0, 1], beta1 and beta2 in [0, 1)")
    if config.d_shift * 2 > config.crop_size:
        raise ValueError(f"config d_shift={config.d_shift}: must be at most half of crop_size ({config.crop_size})")
    if config.grid_weight < 0 or (config.grid_weight and config.crop_size % GRID_WINDOW):
        raise ValueError(f"config grid_weight={config.grid_weight}: must be >= 0, and when on, crop_size "
                         f"({config.crop_size}) a multiple of {GRID_WINDOW}")
    if not (0 <= config.ema_decay < 1 and config.d_lr_ratio > 0):
        raise ValueError(f"config: ema_decay must be in [0, 1) (got {config.ema_decay}) and d_lr_ratio > 0 "
                         f"(got {config.d_lr_ratio})")


def _is_valid(key, value, default):
    if value is None:
        return key in _OPTIONAL
    if key in _CHOICES:
        return value in _CHOICES[key]
    if key == "pool_size":
        return value == "all" or (type(value) is int and value >= 1)
    if key == "device":
        return isinstance(value, str) and _is_device_name(value)
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, tuple):
        return all(type(item) is int and item >= 1 for item in value)
    if isinstance(default, int) or _OPTIONAL.get(key) is int:
        return type(value) is int and value >= 0
    if isinstance(default, float) or _OPTIONAL.get(key) is float:
        return type(value) in (int, float) and math.isfinite(value) and value >= 0
    return isinstance(value, str) and value != ""


def _expected(key, default):
    if key in _CHOICES:
        return f"must be one of {', '.join(_CHOICES[key])}"
    if key == "pool_size":
        return "must be 'all' or an integer >= 1"
    if key == "device":
        return "must be auto, cpu, cuda, cuda:N or mps (and available on this machine)"
    if isinstance(default, bool):
        return "must be true or false"
    if isinstance(default, tuple):
        return "must be epoch numbers >= 1, e.g. 10,20"
    kind = "an integer" if isinstance(default, int) or _OPTIONAL.get(key) is int else "a number"
    return f"must be {kind} >= 0" + (" or none" if key in _OPTIONAL else "")


def _is_device_name(name):
    """Whether ``name`` is 'auto' or a device that exists here (``cuda`` needs a GPU)."""
    if name == "auto":
        return True
    try:
        device = torch.device(name)
    except RuntimeError:
        return False
    if device.type == "cuda":
        return torch.cuda.is_available() and (device.index or 0) < torch.cuda.device_count()
    return device.type in ("cpu", "mps") and (device.type == "cpu" or torch.backends.mps.is_available())


def cpu_config(**overrides):
    """A profile for a laptop CPU: smaller epochs and the MSE content loss (no VGG weights needed).

    Same networks and losses as the paper; what changes is the amount of data per epoch, the workers, the
    SRGAN content loss (``mse``: the paper's SRGAN-MSE) so that nothing must be downloaded, and two options of
    the adversarial phases that the experiments of report.md (section 4c) chose on held-out images against the
    grid artefacts: ``ema_decay=0.999`` and ``grid_weight=100``.
    """
    settings = dict(patches_per_image=16, num_workers=1, pool_size="all", srresnet_epochs=20, srgan_epochs=4,
                    srgan_lr_decay_epochs=(2,), baseline_epochs=4, baseline_lr_decay_epochs=(2,),
                    content_loss="mse", val_max_images=5, ema_decay=0.999, grid_weight=100.0)
    settings.update(overrides)
    return default_config(**settings)


# ----------------------------------------------------------------------------------------------
# One update of each phase, and the epoch loop around it
# ----------------------------------------------------------------------------------------------
def lr_factor(config, phase, epoch):
    """The learning rate of ``epoch`` (0 = the first) as a fraction of ``<phase>_lr``, by ``<phase>_lr_schedule``."""
    if config[f"{phase}_lr_schedule"] == "cosine":
        return 0.5 * (1 + math.cos(math.pi * epoch / config[f"{phase}_epochs"]))
    return config.lr_decay_factor ** sum(epoch >= milestone for milestone in config[f"{phase}_lr_decay_epochs"])


def cpu_has_bf16():
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX): there bf16 autocast is about 3x faster than
    fp32; without (AVX2 only, most laptops) it is emulated and was 12x slower (benchmarks/bench_training.py)."""
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(check and check())


def amp_settings(config, device):
    """``(autocast dtype or None, GradScaler)``: fp16 with loss scaling on CUDA, bf16 on a CPU that has bf16
    instructions (``cpu_has_bf16``), else plain fp32."""
    dtype = None
    if config.amp and device.type == "cuda":
        dtype = torch.float16
    elif config.amp and device.type == "cpu" and cpu_has_bf16():
        dtype = torch.bfloat16
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    return dtype, scaler


class Trainer:
    """The networks, losses and optimisers of one phase, and one update of it (``step``).

    ``Trainer(config, phase, device)`` builds G (and D for ``srgan``/``baseline``) in the config's memory layout,
    the content loss (pixel MSE for ``srresnet``, ``config.content_loss`` otherwise), one Adam per network at
    ``<phase>_lr`` with the phase's schedule (``lr_factor``, stepped once per epoch) and the autocast settings.
    ``self.g`` / ``self.d`` are the modules that run the forward passes: the networks themselves, or their
    DDP wrappers after ``wrap``. Batches: LR ``(N, 3, h, w)`` in [0, 1], HR ``(N, 3, 4h, 4w)`` in [-1, 1].
    """

    def __init__(self, config, phase, device):
        self.config, self.phase, self.device = config, phase, device
        self.adversarial = phase != "srresnet"
        self.memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
        self.amp_dtype, self.scaler = amp_settings(config, device)
        self.generator = Generator(**_model_config(config)).to(device, memory_format=self.memory_format)
        if config.icnr_init:  # a G loaded from a checkpoint later (SRGAN, a resume) is not affected
            with torch.random.fork_rng(devices=[]):  # its draws leave D and all later draws as they are without it
                icnr_(self.generator)
        self.discriminator = Discriminator(config.discriminator_channels, config.discriminator_dense,
                                           spectral_norm=config.d_spectral_norm).to(
            device, memory_format=self.memory_format) if self.adversarial else None
        self.content_loss = ContentLoss("mse" if phase == "srresnet" else config.content_loss,
                                        vgg_weights=config.vgg_weights, feature_scale=config.feature_scale,
                                        seed=config.seed).to(device)
        networks = [(self.generator, 1.0)] + ([(self.discriminator, config.d_lr_ratio)] if self.adversarial else [])
        self.optimizers = [torch.optim.Adam(net.parameters(), lr=config[f"{phase}_lr"] * ratio,
                                            betas=(config.beta1, config.beta2)) for net, ratio in networks]
        self.schedulers = [torch.optim.lr_scheduler.LambdaLR(opt, lambda epoch: lr_factor(config, phase, epoch))
                           for opt in self.optimizers]
        self.g, self.d = self.generator, self.discriminator
        # Adversarial phases: an exponential moving average of G's weights and buffers, updated after every G step.
        self.ema = AveragedModel(self.generator, multi_avg_fn=get_ema_multi_avg_fn(config.ema_decay),
                                 use_buffers=True) if config.ema_decay and self.adversarial else None

    def inference_generator(self):
        """The generator to validate and to use for inference: the moving average when ``ema_decay`` is set."""
        return self.ema.module if self.ema is not None else self.generator

    def wrap(self, ddp):
        """Use ``ddp``'s wrappers for the forward passes (``_Distributed.wrap``); call after loading weights."""
        self.g = ddp.wrap(self.generator, self.config)
        self.d = ddp.wrap(self.discriminator, self.config) if self.adversarial else None

    def autocast(self):
        return torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None)

    def step(self, lr, hr):
        """One update on a batch; returns the losses as floats (the names of the phase's log columns)."""
        return self._gan_step(lr, hr) if self.adversarial else self._srresnet_step(lr, hr)

    def _srresnet_step(self, lr, hr):
        """Phase 1: minimise the content loss (pixel MSE) of ``G(lr)`` against ``hr``."""
        with self.autocast():
            loss = self.content_loss(self.g(lr), hr)
        self._update(self.optimizers[0], loss)
        return {"content": loss.item()}

    def _gan_step(self, lr, hr):
        """A D step, then a G step (SRGAN and the baseline).

        D step: ``l_D = BCE(D(hr), 1) + BCE(D(G(lr).detach()), 0)``.
        G step: ``l_G = content(G(lr), hr) + adversarial_weight * BCE(D(G(lr)), 1)``, i.e. ``-log D(G(lr))``,
        through the updated D with its weights frozen, plus ``grid_weight * periodic_error(G(lr), hr)`` when set.
        Losses from logits (the paper's sigmoid + BCE, stable).
        With ``gan_loss="relativistic"`` (ESRGAN), D judges whether HR looks more real than SR on average:
        ``l_D = (BCE(D(hr) - mean D(sr), 1) + BCE(D(sr) - mean D(hr), 0)) / 2`` and the adversarial loss is the
        same with the targets swapped. Also returns ``d_real``/``d_fake``: D's mean sigmoid of HR and SR, and
        ``periodic`` (``periodic_error``) when ``grid_weight`` is set.
        After the G step the moving average of G (``ema_decay``) is updated.
        """
        optimizer_g, optimizer_d = self.optimizers
        relativistic = self.config.gan_loss == "relativistic"
        with self.autocast():
            sr = self.g(lr)
            real_logits, fake_logits = self._judge(hr), self._judge(sr.detach())
            loss_d = (_bce(real_logits - fake_logits.mean(), 1) + _bce(fake_logits - real_logits.mean(), 0)) / 2 \
                if relativistic else _bce(real_logits, 1) + _bce(fake_logits, 0)
        self._update(optimizer_d, loss_d, step_scaler=False)

        self.discriminator.requires_grad_(False)
        with self.autocast():
            content = self.content_loss(sr, hr)
            fooled_logits = self._judge(sr)
            if relativistic:  # RaGAN: G also makes HR look less real than SR (D's logits of HR, updated D)
                real_again = self._judge(hr).detach()
                adversarial = (_bce(real_again - fooled_logits.mean(), 0)
                               + _bce(fooled_logits - real_again.mean(), 1)) / 2
            else:
                adversarial = _bce(fooled_logits, 1)
            periodic = periodic_error(sr, hr) if self.config.grid_weight else sr.new_zeros(())
            loss_g = content + self.config.adversarial_weight * adversarial + self.config.grid_weight * periodic
        self._update(optimizer_g, loss_g)
        self.discriminator.requires_grad_(True)
        if self.ema is not None:
            self.ema.update_parameters(self.generator)
        losses = {"loss_d": loss_d.item(), "loss_g": loss_g.item(), "content": content.item(),
                  "adversarial": adversarial.item(), "d_real": torch.sigmoid(real_logits.float()).mean().item(),
                  "d_fake": torch.sigmoid(fake_logits.float()).mean().item()}
        return {**losses, "periodic": periodic.item()} if self.config.grid_weight else losses

    def _judge(self, images):
        """D's logits ``(N,)`` of ``images`` ``(N, 3, H, W)``: low-passed first when ``d_blur`` is set
        (``binomial_blur``), each cropped at its own random offset when ``d_shift`` is set (``random_shift``; the
        torch generator, saved in checkpoints, draws the offsets)."""
        if self.config.d_blur:
            images = binomial_blur(images)
        return self.d(random_shift(images, self.config.d_shift) if self.config.d_shift else images)

    def _train_mode(self):
        """Networks in training mode; with ``generator_bn="frozen"`` (adversarial phases) G's batch norms stay in
        eval mode: they normalise with, and keep, the running statistics G came with."""
        self.generator.train()
        if self.adversarial:
            self.discriminator.train()
            if self.config.generator_bn == "frozen":
                for module in self.generator.modules():
                    if isinstance(module, nn.modules.batchnorm._BatchNorm):
                        module.eval()

    def _update(self, optimizer, loss, step_scaler=True):
        """Backward and optimiser step (with fp16 loss scaling when enabled; the scaler updates once per batch)."""
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)
        if step_scaler:
            self.scaler.update()

    def run_epoch(self, loader, epoch, progress=True, on_iteration=None):
        """``step`` on every batch of ``loader`` (stops on a NaN/inf loss: ``_check_finite``), then one step of
        the learning-rate schedules.

        Returns the mean of each loss, ``seconds`` (the epoch), ``data_seconds`` (waiting for batches),
        ``iterations`` and ``lr`` (G's rate in this epoch). ``on_iteration(dict)`` receives each iteration's
        losses (for the log).
        """
        self._train_mode()
        timer, totals, iteration = {"data": 0.0}, {}, 0
        start = time.perf_counter()
        bar = tqdm(_batches(loader, self.device, self.memory_format, timer), total=len(loader),
                   disable=not progress, desc=f"{self.phase} epoch {epoch}", leave=False)
        for iteration, (lr, hr) in enumerate(bar, 1):
            losses = self.step(lr, hr)
            _check_finite(losses, epoch, iteration, self.device)
            for name, value in losses.items():
                totals[name] = totals.get(name, 0.0) + value
            bar.set_postfix({name: f"{total / iteration:.4f}" for name, total in totals.items() if name in
                             ("content", "loss_d", "loss_g")})
            if on_iteration:
                on_iteration({"epoch": epoch, "iteration": iteration, **losses})
        summary = {name: total / max(iteration, 1) for name, total in totals.items()}
        summary.update(seconds=time.perf_counter() - start, data_seconds=timer["data"], iterations=iteration,
                       lr=self.optimizers[0].param_groups[0]["lr"])
        for scheduler in self.schedulers:
            scheduler.step()
        return summary

    def state_dict(self):
        """The training state of the networks, optimisers, schedulers and loss scaler (for ``<phase>_last.pth``)."""
        optimizer_d = self.optimizers[1] if self.adversarial else None
        return {"generator": self.generator.state_dict(), "optimizer_g": self.optimizers[0].state_dict(),
                "discriminator": self.discriminator.state_dict() if self.adversarial else None,
                "optimizer_d": optimizer_d.state_dict() if optimizer_d else None,
                "schedulers": [s.state_dict() for s in self.schedulers], "scaler": self.scaler.state_dict(),
                **({"generator_ema": self.ema.module.state_dict(), "ema_updates": int(self.ema.n_averaged)}
                   if self.ema is not None else {})}

    def load_state_dict(self, state):
        """Restore what ``state_dict`` saved (exact resume). Checkpoints written before the schedules became
        ``LambdaLR`` hold ``MultiStepLR`` states: only their epoch count is needed, and it is kept."""
        self.generator.load_state_dict(state["generator"])
        self.optimizers[0].load_state_dict(state["optimizer_g"])
        if self.adversarial:
            self.discriminator.load_state_dict(state["discriminator"])
            self.optimizers[1].load_state_dict(state["optimizer_d"])
        for scheduler, scheduler_state in zip(self.schedulers, state["schedulers"]):
            scheduler.load_state_dict({"lr_lambdas": [None], **scheduler_state})
        if state["scaler"] and self.scaler.is_enabled():  # empty when saved without fp16 loss scaling
            self.scaler.load_state_dict(state["scaler"])
        if self.ema is not None and "generator_ema" in state:
            self.ema.module.load_state_dict(state["generator_ema"])
            self.ema.n_averaged.fill_(state["ema_updates"])


def random_shift(images, max_shift):
    """Crop every image of ``(N, C, H, W)`` to ``(H - max_shift, W - max_shift)`` at its own random offset
    ``(dy, dx)``, each uniform in ``0..max_shift`` (drawn with the global torch generator). Gradients flow back
    to the kept pixels. A stride-2 discriminator's gradient repeats every 2, 4, 8... pixels of its input; shifted
    by a random offset, that pattern no longer lines up with G's pixel grid from one update to the next."""
    n, _, height, width = images.shape
    if not 0 <= max_shift < min(height, width):
        raise ValueError(f"d_shift={max_shift} must be below the image side ({height}x{width})")
    offsets = torch.randint(max_shift + 1, (n, 2)).tolist()
    layout = torch.channels_last if images.is_contiguous(memory_format=torch.channels_last) else torch.contiguous_format
    return torch.stack([image[:, dy:dy + height - max_shift, dx:dx + width - max_shift]
                        for image, (dy, dx) in zip(images, offsets)]).contiguous(memory_format=layout)


def binomial_blur(images):
    """``(N, C, H, W)`` -> same shape: each channel filtered by the 3x3 binomial kernel ``[1, 2, 1]^T [1, 2, 1] / 16``
    (edges reflected). Its response is ``cos^2(pi f)`` per axis: 1 at f = 0, 0.5 at 1/4 cycle/pixel, 0 at 1/2, so a
    pattern of a 2-pixel period vanishes and one of a 4-pixel period is halved; along one axis, frequencies
    below 1/8 (what the x4 LR image holds) keep at least 85% of their amplitude. Gradients pass through (it is a
    fixed convolution)."""
    taps = images.new_tensor([1.0, 2.0, 1.0])
    kernel = (taps[:, None] * taps[None, :] / 16).expand(images.shape[1], 1, 3, 3)
    return F.conv2d(F.pad(images, (1, 1, 1, 1), mode="reflect"), kernel, groups=images.shape[1])


def periodic_error(sr, hr, window=GRID_WINDOW):
    """The part of the error ``sr - hr`` that repeats every 4 pixels, measured in each ``window`` x ``window`` tile.

    ``sr``, ``hr``: ``(N, C, H, W)`` with H and W multiples of ``window`` (a multiple of 4). In each tile, the error
    at each of the 16 positions modulo 4 (the sub-pixel phases of the two x2 pixel shuffles) is averaged over the
    tile's ``(window / 4)^2`` repeats; less the mean over the 16 phases, that is the tile's 4-pixel-periodic error:
    all of its energy lies at the grid frequencies ``(ky/4, kx/4)``, DC excepted (what ``utils.calc_grid_score``
    measures). Returns the mean square of that periodic part over all tiles, phases, channels and images (a
    scalar). Normalised so that it is the part of the pixel MSE at those frequencies (in each tile): with the MSE
    content loss (SRGAN-MSE), ``mse + w * periodic_error`` weighs the error there ``1 + w`` times and the rest of
    the error as before. A grid is all periodic; an error without a period keeps only a small part in it (white
    noise: 15/256 of its energy, the share of those 15 frequencies' bands in a 16 x 16 tile's spectrum).
    """
    n, c, height, width = sr.shape
    if window % 4 or height % window or width % window:
        raise ValueError(f"periodic_error: window={window} must be a multiple of 4 dividing the image "
                         f"side ({height}x{width})")
    repeats = window // 4
    error = (sr - hr).float().reshape(n, c, height // window, repeats, 4, width // window, repeats, 4)
    phases = error.mean(dim=(3, 6))  # (N, C, tiles_y, 4, tiles_x, 4): the mean error at each phase of each tile
    return (phases - phases.mean(dim=(3, 5), keepdim=True)).square().mean()


def _bce(logits, target):
    """Binary cross-entropy of logits against a constant target (1 = real, 0 = fake)."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, float(target)))


def _batches(loader, device, memory_format, timer):
    """Move each ``(lr, hr)`` batch to the device; ``timer['data']`` adds up the time spent waiting."""
    iterator = iter(loader)
    while True:
        start = time.perf_counter()
        try:
            lr, hr = next(iterator)
        except StopIteration:
            return
        lr = lr.to(device, non_blocking=True, memory_format=memory_format)
        hr = hr.to(device, non_blocking=True, memory_format=memory_format)
        timer["data"] += time.perf_counter() - start
        yield lr, hr


def _check_finite(losses, epoch, iteration, device):
    """Stop on a NaN/inf loss; under DDP every process stops together (else the others would hang)."""
    bad = [name for name, value in losses.items() if not math.isfinite(value)]
    if dist.is_initialized():
        flag = torch.tensor([float(bool(bad))], device=device)
        dist.all_reduce(flag)
        bad = bad or (["a loss on another process"] if flag.item() else [])
    if bad:
        raise FloatingPointError(f"{', '.join(bad)} not finite at epoch {epoch}, iteration {iteration} "
                                 f"({losses}): training stopped; the last good checkpoint is kept "
                                 f"(try a lower learning rate)")


VALIDATION_KEYS = ("val_psnr", "val_ssim", "val_grid", "val_texture", "val_niqe", "val_added", "val_added_chroma")


def validate(generator, list_path, max_images=None, niqe_model=None):
    """``{'val_psnr', 'val_ssim', 'val_grid', 'val_texture', 'val_niqe', 'val_added', 'val_added_chroma'}``: the
    means over the whole images of a data list, by the test protocol (``evaluation.evaluate_dataset``: batch 1, eval
    mode, uint8 output, Y channel, 4 px crop); ``val_niqe`` is NaN without a ``niqe_model``."""
    _, summary = evaluate_dataset(generator, list_path, "validation", max_images=max_images, progress=False,
                                  niqe_model=niqe_model)
    return {key: summary[key.removeprefix("val_")] for key in VALIDATION_KEYS}


# ----------------------------------------------------------------------------------------------
# The training loop of a phase
# ----------------------------------------------------------------------------------------------
class _Distributed:
    """Rank and world size under ``torchrun`` (a single process otherwise)."""

    def __init__(self, device_name):
        self.world_size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.enabled = self.world_size > 1
        device = get_device(device_name)
        if self.enabled:
            if device.type == "cuda":
                device = torch.device("cuda", self.local_rank)
                torch.cuda.set_device(device)
            if not dist.is_initialized():
                dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        self.device = device
        self.is_main = self.rank == 0

    def syncs_batch_norm(self, config):
        """Whether batch norms use the statistics of the global batch: under torchrun on CUDA (NCCL), unless
        ``sync_batch_norm=False``; never on the CPU, where PyTorch's ``SyncBatchNorm`` does not run (gloo)."""
        return self.enabled and self.device.type == "cuda" and config.sync_batch_norm

    def wrap(self, model, config):
        """``model`` for training: DDP-wrapped under torchrun (its batch norms synchronised, as above).
        ``SyncBatchNorm`` keeps the ``BatchNorm2d`` state_dict keys, so checkpoints load either way."""
        if not self.enabled:
            return model
        if self.syncs_batch_norm(config):
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        return DistributedDataParallel(model, device_ids=[self.device] if self.device.type == "cuda" else None)

    def batch_norm_note(self, config):
        """One line for the startup message under torchrun: which statistics the batch norms use."""
        if self.syncs_batch_norm(config):
            return "batch norm: statistics of the global batch (SyncBatchNorm)"
        why = "SyncBatchNorm needs CUDA" if self.device.type != "cuda" else "sync_batch_norm=False"
        return f"batch norm: statistics of each process's {config.batch_size // self.world_size} patches ({why})"

    def barrier(self):
        if self.enabled:
            dist.barrier()


def _model_config(config):
    return {"n_blocks": config.n_blocks, "channels": config.channels, "scale": config.scale,
            "prelu_per_channel": config.prelu_per_channel}


def _rng_state():
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


class _CsvLog:
    """A CSV log: rows collected during an epoch are appended at its end. On resume, the rows of epochs
    after the checkpoint's are dropped first (a partly written last line, from a crash, too)."""

    def __init__(self, path, keep_until_epoch):
        self.path, self.rows, self.columns = path, [], None
        if os.path.exists(path):
            with open(path, newline="") as file:
                reader = csv.DictReader(file)
                kept = [row for row in reader if _logged_epoch(row) <= keep_until_epoch]
                self.columns = reader.fieldnames
            write_csv(path, kept, self.columns)

    def add(self, row):
        self.rows.append(row)

    def flush(self):
        if not self.rows:
            return
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        with open(self.path, "a", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=self.columns or list(self.rows[0]), extrasaction="ignore",
                                    lineterminator="\n")
            if self.columns is None:
                writer.writeheader()
                self.columns = writer.fieldnames
            writer.writerows(self.rows)
        self.rows = []


def _logged_epoch(row):
    try:
        return int(row["epoch"]) if None not in row.values() else math.inf
    except (KeyError, TypeError, ValueError):
        return math.inf


def checkpoint_paths(config, phase):
    """``(last, best)`` checkpoint paths of a phase."""
    folder = config.checkpoint_folder
    return os.path.join(folder, f"{phase}_last.pth"), os.path.join(folder, f"{phase}_best.pth")


def _check_inputs(config, phase):
    """``(train list, val list)`` paths; ``FileNotFoundError`` saying what to do when a list, or the SRResNet that
    a new SRGAN starts from, is missing (before any model is built)."""
    lists = config.lists_folder
    paths = os.path.join(lists, config.train_list), os.path.join(lists, config.val_list)
    for path in paths:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path}: data list not found; make the lists first with "
                                    f"'python create_data_lists.py --data-root DATA --output-folder {lists}'")
    init_path = _srgan_init_path(config)
    resuming = config.resume and os.path.exists(checkpoint_paths(config, phase)[0])
    if phase == "srgan" and not resuming and not os.path.isfile(init_path):
        raise FileNotFoundError(f"{init_path}: no SRResNet checkpoint to start SRGAN from; train phase "
                                f"'srresnet' first (python solver.py --phase srresnet), or set srgan_init=PATH")
    return paths


def _srgan_init_path(config):
    return config.srgan_init or checkpoint_paths(config, "srresnet")[1]


def _resume_or_start(trainer, config, phase, say):
    """Load ``<phase>_last.pth`` into ``trainer`` when resuming (SRGAN: else G from the SRResNet); returns
    ``(epochs done, history, best validation PSNR)``."""
    last_path = checkpoint_paths(config, phase)[0]
    if config.resume and os.path.exists(last_path):
        state = load_checkpoint(last_path, map_location=trainer.device)
        if state.get("phase") != phase:
            raise ValueError(f"{last_path}: a checkpoint of phase {state.get('phase')!r}, not {phase!r}")
        trainer.load_state_dict(state)
        torch.set_rng_state(state["rng"]["torch"].cpu())
        if "cuda" in state["rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([s.cpu() for s in state["rng"]["cuda"]])
        say(f"Resuming {phase} from {last_path} after epoch {state['epoch']}")
        return state["epoch"], state["history"], state["best_psnr"]
    if phase == "srgan":
        _load_srresnet_weights(trainer.generator, _srgan_init_path(config), trainer.device)
        say(f"SRGAN generator initialised from {_srgan_init_path(config)}")
    return 0, [], -math.inf


def _load_srresnet_weights(generator, path, device):
    """Initialise the SRGAN generator from a phase-1 checkpoint (``ValueError`` naming it when unusable)."""
    state = load_checkpoint(path, map_location=device)
    if not isinstance(generator_weights(state), dict):
        raise ValueError(f"{path}: not a generator checkpoint (no 'generator' entry)")
    try:
        generator.load_state_dict(generator_weights(state))
    except RuntimeError as error:
        raise ValueError(f"{path}: its generator does not fit this config's (n_blocks, channels, scale): "
                         f"{str(error).splitlines()[0]}") from error


def _loader(config, ddp, train_path):
    """The training DataLoader of this process (its share of the global batch)."""
    if config.batch_size % ddp.world_size:
        raise ValueError(f"batch_size {config.batch_size} (the global batch) is not divisible by the "
                         f"{ddp.world_size} processes")
    train_set = TrainDataset(train_path, crop_size=config.crop_size, scale=config.scale,
                             patches_per_image=config.patches_per_image, augment=config.augment, seed=config.seed,
                             pool_size=config.pool_size, rank=ddp.rank, world_size=ddp.world_size)
    return DataLoader(train_set, batch_size=config.batch_size // ddp.world_size, num_workers=config.num_workers,
                      drop_last=True, pin_memory=ddp.device.type == "cuda")


class _Run:
    """What one ``train`` call keeps between epochs on the main process: config, history, best validation
    PSNR, the CSV logs and the checkpoint paths; ``end_epoch`` validates, saves and logs."""

    def __init__(self, config, phase, trainer, start_epoch, history, best_psnr, val_path):
        self.config, self.phase, self.trainer = config, phase, trainer
        self.history, self.best_psnr, self.val_path = history, best_psnr, val_path
        self.has_val = len(TestDataset(val_path, scale=config.scale)) > 0  # the list is read (and checked)
        self.niqe_model = load_pristine_model() if config.val_niqe and self.has_val else None
        self.last, self.best = checkpoint_paths(config, phase)
        self.interrupted = os.path.join(config.checkpoint_folder, f"{phase}_interrupted.pth")
        self.iterations = _CsvLog(os.path.join(config.log_folder, f"{phase}_iterations.csv"), start_epoch)
        self.epochs = _CsvLog(os.path.join(config.log_folder, f"{phase}_epochs.csv"), start_epoch)
        # Plain JSON types only (a Path or numpy value would not load with torch.load(weights_only=True)).
        self.plain_config = json.loads(json.dumps({**config, "model": _model_config(config)}, default=str))

    def state_dict(self, epoch):
        return {"phase": self.phase, "epoch": epoch, "config": self.plain_config, **self.trainer.state_dict(),
                "rng": _rng_state(), "history": self.history, "best_psnr": self.best_psnr}

    def end_epoch(self, epoch, summary):
        """Validate (held-out images; none: the latest epoch is the best), write ``_last`` (and ``_best``),
        the logs and one line of progress."""
        summary.update(validate(self.trainer.inference_generator(), self.val_path, self.config.val_max_images,
                                self.niqe_model) if self.has_val else dict.fromkeys(VALIDATION_KEYS, math.nan))
        self.history.append({"epoch": epoch, **summary})
        improved = not self.has_val or summary["val_psnr"] > self.best_psnr
        self.best_psnr = max(self.best_psnr, summary["val_psnr"]) if self.has_val else self.best_psnr
        state = self.state_dict(epoch)
        save_checkpoint(state, self.last)
        if improved:  # the generator alone: what inference and SRGAN's start need
            save_checkpoint({key: value for key, value in state.items() if key in BEST_KEYS}, self.best)
        if os.path.exists(self.interrupted):  # superseded by a later completed epoch
            os.remove(self.interrupted)
        self.iterations.flush()
        self.epochs.add(self.history[-1])
        self.epochs.flush()
        print(f"{self.phase} epoch {epoch}/{self.config[f'{self.phase}_epochs']}: " + ", ".join(
            f"{k} {v:.4g}" for k, v in summary.items() if k != "iterations") + (" (best)" if improved else ""))

    def save_interrupted(self, epoch):
        """Ctrl-C: the weights of the unfinished epoch, for a look; training resumes from ``_last``."""
        save_checkpoint({"phase": self.phase, "epoch": epoch, "interrupted": True, "config": self.plain_config,
                         "generator": self.trainer.generator.state_dict(),
                         "discriminator": self.trainer.discriminator.state_dict() if self.trainer.adversarial
                         else None}, self.interrupted)
        again = (f"running the same command again resumes from {self.last} (epoch {epoch - 1})"
                 if os.path.exists(self.last) else "no epoch was completed: running it again starts over")
        print(f"Interrupted in epoch {epoch}: its weights are in {self.interrupted}; {again}")


def train(config, phase="srresnet"):
    """Train one phase for ``config.<phase>_epochs`` epochs, resuming from ``<phase>_last.pth`` if present.

    Every epoch: train, validate on ``val_list`` (held-out images, never a test set), write
    ``<phase>_last.pth`` (and ``<phase>_best.pth``, the generator alone, when validation PSNR improves), and
    the CSV logs ``<log_folder>/<phase>_iterations.csv`` and ``<phase>_epochs.csv``. Ctrl-C saves the weights
    of the unfinished epoch to ``<phase>_interrupted.pth`` and re-raises; calling ``train`` again resumes
    exactly from ``<phase>_last.pth``. A NaN/inf loss raises ``FloatingPointError`` and keeps the last good
    checkpoint. Without validation images (an empty ``val_list``), ``<phase>_best.pth`` is the latest epoch.

    Returns ``{"last": path, "best": path, "history": per-epoch list of dicts, "models": (generator,)
    or (generator, discriminator)}`` (the models as trained, in the state of the last epoch).
    """
    if phase not in PHASES:
        raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")
    config = EasyDict(config)
    train_path, val_path = _check_inputs(config, phase)
    ddp = _Distributed(config.device)
    say = print if ddp.is_main else (lambda *args: None)
    torch.manual_seed(config.seed)
    trainer = Trainer(config, phase, ddp.device)
    start_epoch, history, best_psnr = _resume_or_start(trainer, config, phase, say)
    run = _Run(config, phase, trainer, start_epoch, history, best_psnr, val_path)
    epochs = config[f"{phase}_epochs"]
    result = {"last": run.last, "best": run.best, "history": history,
              "models": (trainer.generator,) + ((trainer.discriminator,) if trainer.adversarial else ())}
    if start_epoch >= epochs:
        say(f"{phase}: already trained for {start_epoch} epochs (config asks {epochs}); nothing to do")
        return result

    loader = _loader(config, ddp, train_path)
    trainer.wrap(ddp)
    if not run.has_val:
        say(f"warning: {config.val_list} is empty: no validation; '{phase}_best.pth' = the latest epoch")
    say(f"{phase}: training epochs {start_epoch + 1} to {epochs}, {len(loader)} updates of batch "
        f"{config.batch_size} each, on {ddp.device} ({ddp.world_size} process(es)); checkpoints in "
        f"{config.checkpoint_folder}")
    if ddp.enabled:
        say(ddp.batch_norm_note(config))
    epoch = start_epoch
    try:
        for epoch in range(start_epoch + 1, epochs + 1):
            loader.dataset.set_epoch(epoch)
            summary = trainer.run_epoch(loader, epoch, config.progress and ddp.is_main,
                                        run.iterations.add if ddp.is_main else None)
            if ddp.is_main:
                run.end_epoch(epoch, summary)
            ddp.barrier()
    except KeyboardInterrupt:
        if ddp.is_main:
            run.save_interrupted(epoch)
        raise
    return result


# ----------------------------------------------------------------------------------------------
# Command line (for torchrun and long runs outside a notebook)
# ----------------------------------------------------------------------------------------------
def _parse_value(text):
    """``"16"`` -> 16, ``"1e-4"`` -> 1e-4, ``"true"`` -> True, ``"none"`` -> None, ``"10,20"`` -> (10, 20)."""
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            pass
    if text.lower() in ("true", "false", "none"):
        return {"true": True, "false": False, "none": None}[text.lower()]
    if "," in text or text == "()":
        return tuple(_parse_value(part) for part in text.strip("()").split(",") if part)
    return text


def parse_settings(settings):
    """Command-line ``KEY=VALUE`` strings -> a dict of config overrides (values parsed as numbers etc.)."""
    overrides = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or not key:
            raise ValueError(f"setting {setting!r} is not KEY=VALUE")
        overrides[key] = _parse_value(value)
    return overrides


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Train SRResNet (phase 1), SRGAN (phase 2) or the from-scratch baseline. Settings are "
                    "the paper's (solver.default_config) unless given as KEY=VALUE. Multi-GPU: "
                    "torchrun --nproc_per_node=N solver.py --phase srresnet ...",
        epilog="example: python solver.py --phase srresnet --profile cpu srresnet_epochs=5 lists_folder=data_lists")
    parser.add_argument("--phase", choices=PHASES + ("both",), default="both",
                        help="which phase to train ('both' = srresnet then srgan)")
    parser.add_argument("--profile", choices=("paper", "cpu"), default="paper",
                        help="paper: default_config(); cpu: cpu_config() (smaller epochs, MSE content loss)")
    parser.add_argument("settings", nargs="*", metavar="KEY=VALUE", help="config overrides, e.g. batch_size=8")
    args = parser.parse_args(argv)
    try:
        overrides = parse_settings(args.settings)
        config = (cpu_config if args.profile == "cpu" else default_config)(**overrides)
    except (ValueError, KeyError) as error:
        parser.error(error.args[0])
    for phase in (("srresnet", "srgan") if args.phase == "both" else (args.phase,)):
        train(config, phase)
    if dist.is_initialized():
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))

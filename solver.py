"""One epoch of training SRGAN (Ledig et al., CVPR 2017): the networks, losses and optimisers of a phase, and its
update.

Phases:

* ``"srresnet"``: the generator alone with the pixel MSE content loss (the paper's SRResNet, and the pre-training
  the assignment asks for).
* ``"srgan"``: the generator initialised from the trained SRResNet, then trained against the discriminator, one D
  step and one G step per batch: ``l_D = BCE(D(hr), 1) + BCE(D(G(lr)), 0)``,
  ``l_G = l_content + 1e-3 * l_adv`` with ``l_adv = -log D(G(lr))``.
* ``"baseline"``: the same adversarial training, but G and D both start from random weights (the assignment's
  original mode, which gives a poor model; kept for comparison).

``Trainer._gan_step`` is the paper's update. Where it calls a hook (``self.view``, ``self.gan_loss``,
``self.extra_terms``, ``self.ema``), the experimental options of ``gan_options.py`` plug in; with the paper's
settings each hook does what the paper does. To change the training, change ``_gan_step`` or add a hook there.

Value ranges: LR batches ``(N, 3, h, w)`` in [0, 1]; HR batches and generator output ``(N, 3, 4h, 4w)`` in
[-1, 1]; the discriminator returns logits ``(N,)``. The loop around epochs (data, checkpoints, validation, logs,
several GPUs) is ``training.py``; the settings are ``settings.py``.
"""
import math
import time

import torch
import torch.distributed as dist
from tqdm.auto import tqdm

import gan_options
from models import ContentLoss, Discriminator, Generator, zero_init_residual_

# The losses each step returns, in order: the columns of <phase>_iterations.csv (curves.py reads them), then the
# names of gan_options.generator_terms. d_real / d_fake: D's mean sigmoid output on the HR and SR images.
STEP_LOSSES = {"srresnet": ("content",),
               "adversarial": ("loss_d", "loss_g", "content", "adversarial", "d_real", "d_fake")}


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


def memory_format(config, device, amp_dtype):
    """channels_last when ``config.channels_last`` is True; with "auto", only where it was measured to help
    (benchmarks/bench_training.py): bf16 on a CPU (2.25x with autocast). Not in fp32 on an AVX2 CPU (SRResNet 7%
    faster, SRGAN 6% slower), nor yet on CUDA, where PixelShuffle has no channels_last kernel (benchmarks/gpu_check.sh
    measures it)."""
    if config.channels_last == "auto":
        wanted = device.type == "cpu" and amp_dtype == torch.bfloat16
    else:
        wanted = config.channels_last
    return torch.channels_last if wanted else torch.contiguous_format


def model_settings(config):
    """The generator's constructor arguments from a config (also stored in checkpoints as ``config['model']``)."""
    return {"n_blocks": config.n_blocks, "channels": config.channels, "scale": config.scale,
            "prelu_per_channel": config.prelu_per_channel}


def unwrap(network):
    """The network itself inside a DistributedDataParallel wrapper (or the network, unwrapped)."""
    return getattr(network, "module", network)


class Trainer:
    """The networks, losses and optimisers of one phase, and one update of it (``step``).

    ``self.generator`` / ``self.discriminator`` (None in phase 1) run every forward pass: the networks, or their
    DDP wrappers after ``wrap``; ``unwrap`` gives the network inside. One Adam per network at ``<phase>_lr``
    (D's times ``d_lr_ratio``) in ``self.optimizers[name]``, stepped down once per epoch by ``lr_factor``.
    Batches: LR ``(N, 3, h, w)`` in [0, 1], HR ``(N, 3, 4h, 4w)`` in [-1, 1].
    """

    def __init__(self, config, phase, device):
        self.config, self.phase, self.device = config, phase, device
        self.adversarial = phase != "srresnet"
        self.amp_dtype, self.scaler = amp_settings(config, device)
        self.memory_format = memory_format(config, device, self.amp_dtype)
        self.generator = Generator(**model_settings(config))
        if config.icnr_init:  # a G loaded from a checkpoint later (SRGAN, a resume) is not affected
            gan_options.icnr_(self.generator)
        if config.zero_init_residual:  # the same: only a G from random weights
            zero_init_residual_(self.generator)
        self.generator.to(device, memory_format=self.memory_format)
        self.discriminator = Discriminator(config.discriminator_channels, config.discriminator_dense,
                                           spectral_norm=config.d_spectral_norm).to(
            device, memory_format=self.memory_format) if self.adversarial else None
        self.content_loss = ContentLoss("mse" if phase == "srresnet" else config.content_loss,
                                        vgg_weights=config.vgg_weights, feature_scale=config.feature_scale,
                                        seed=config.seed).to(device)
        self.base_lrs = {"generator": config[f"{phase}_lr"],
                         **({"discriminator": config[f"{phase}_lr"] * config.d_lr_ratio} if self.adversarial else {})}
        fused = device.type == "cuda"  # one kernel, and the fp16 scaler's inf check without a wait for the GPU
        self.optimizers = {name: torch.optim.Adam(getattr(self, name).parameters(), lr=rate, fused=fused,
                                                  betas=(config.beta1, config.beta2))
                           for name, rate in self.base_lrs.items()}
        self.schedulers = {name: torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: lr_factor(config, phase, e))
                           for name, optimizer in self.optimizers.items()}
        # The hooks of the adversarial update (gan_options.py); with the paper's settings, the paper's update.
        self.gan_loss = gan_options.GAN_LOSSES[config.gan_loss]()
        self.view = gan_options.discriminator_view(config)
        self.ema = gan_options.moving_average(self.generator, config.ema_decay) if self.adversarial else None
        self.extra_terms = gan_options.generator_terms(config, self.ema) if self.adversarial else {}

    def inference_generator(self):
        """The generator to validate and to use for inference: the moving average when ``ema_decay`` is set."""
        return self.ema.module if self.ema is not None else unwrap(self.generator)

    def wrap(self, ddp):
        """Run the forward passes through ``ddp``'s wrappers (``training.Distributed.wrap``); after loading weights."""
        self.generator = ddp.wrap(self.generator, self.config)
        if self.adversarial:
            # D runs on real and fake before one backward; it trains on batch statistics only (its running ones
            # serve the D probe, on the main process), so no broadcast of them (training.Distributed.wrap)
            self.discriminator = ddp.wrap(self.discriminator, self.config, broadcast_buffers=False)

    def autocast(self):
        return torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None)

    def step(self, lr, hr):
        """One update on a batch; returns the losses as 0-d tensors (the names of the phase's log columns)."""
        return self._gan_step(lr, hr) if self.adversarial else self._srresnet_step(lr, hr)

    def _srresnet_step(self, lr, hr):
        """Phase 1: minimise the content loss (pixel MSE) of ``G(lr)`` against ``hr``."""
        with self.autocast():
            loss = self.content_loss(self.generator(lr), hr)
        self._update("generator", loss)
        return dict(zip(STEP_LOSSES["srresnet"], (loss.detach(),)))

    def _gan_step(self, lr, hr):
        """The paper's update: a D step on HR against G's output, then a G step through the updated D."""
        with self.autocast():  # D step: tell HR (1) from SR (0)
            sr = self.generator(lr)
            real, fake = self.discriminator(self.view(hr)), self.discriminator(self.view(sr.detach()))
            loss_d = self.gan_loss.discriminator(real, fake)
        self._update("discriminator", loss_d, step_scaler=False)

        self.discriminator.requires_grad_(False)  # G step: content + 1e-3 x adversarial (+ optional terms)
        with self.autocast():
            content = self.content_loss(sr, hr)
            fooled = self.discriminator(self.view(sr))
            real_now = self.discriminator(self.view(hr)).detach() if self.gan_loss.needs_real else None
            adversarial = self.gan_loss.generator(fooled, real_now)
            extra = {name: term(sr, hr, lr) for name, (_, term) in self.extra_terms.items()}
            loss_g = (content + self.config.adversarial_weight * adversarial
                      + sum(weight * extra[name] for name, (weight, _) in self.extra_terms.items()))
        self._update("generator", loss_g)
        self.discriminator.requires_grad_(True)
        if self.ema is not None:
            self.ema.update_parameters(unwrap(self.generator))
        d_real, d_fake = (torch.sigmoid(logits.detach().float()).mean() for logits in (real, fake))
        losses = (loss_d, loss_g, content, adversarial, d_real, d_fake)
        return {**dict(zip(STEP_LOSSES["adversarial"], (loss.detach() for loss in losses))),
                **{name: value.detach() for name, value in extra.items()}}

    def _update(self, name, loss, step_scaler=True):
        """Backward and the ``name`` optimiser's step (fp16 loss scaling when enabled; the scaler updates once per
        batch, after the G step)."""
        optimizer = self.optimizers[name]
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)
        if step_scaler:
            self.scaler.update()

    def _train_mode(self):
        """Networks in training mode; with ``generator_bn="frozen"`` (adversarial phases) G's batch norms stay in
        eval mode (``gan_options.freeze_batch_norms``)."""
        self.generator.train()
        if self.adversarial:
            self.discriminator.train()
            if self.config.generator_bn == "frozen":
                gan_options.freeze_batch_norms(self.generator)

    def run_epoch(self, loader, epoch, progress=True, on_iteration=None):
        """``step`` on every batch of ``loader``, then one step of the learning-rate schedules.

        The losses stay on the device while the epoch runs: they are read (one wait for the device) every
        ``LOSS_READ_EVERY`` steps and at the end, checked for NaN/inf (``FloatingPointError``), shown on the progress
        bar and passed one iteration at a time to ``on_iteration(dict)`` for the log. Under DDP every loss is the
        mean over all processes. Returns the mean of each loss, ``seconds`` (the epoch), ``data_seconds`` (waiting
        for batches), ``iterations`` (the updates that ran) and ``lr`` (G's rate in this epoch).

        ``len(loader)`` must be the number of batches it yields (``training._loader``'s is): else, or when it
        yields none, this raises before the schedules step, and nothing of the epoch is counted.
        """
        self._train_mode()
        timer, unread, totals = {"data": 0.0}, [], {}
        start = time.perf_counter()
        expected, iteration = len(loader), 0
        bar = tqdm(_batches(loader, self.device, self.memory_format, timer), total=expected,
                   disable=not progress, desc=f"{self.phase} epoch {epoch}", leave=False)
        for iteration, (lr, hr) in enumerate(bar, 1):
            losses = self.step(lr, hr)
            unread.append(torch.stack([value.float() for value in losses.values()]))
            if len(unread) == LOSS_READ_EVERY or iteration == expected:
                for row in _read_losses(unread, list(losses), epoch, iteration - len(unread) + 1):
                    totals = {name: totals.get(name, 0.0) + row[name] for name in losses}
                    if on_iteration:
                        on_iteration(row)
                unread = []
                bar.set_postfix({name: f"{total / iteration:.4f}" for name, total in totals.items()
                                 if name in SHOWN_LOSSES})
        if iteration == 0:
            raise ValueError(f"{self.phase} epoch {epoch}: the data loader gave no batch, so no update ran")
        if iteration != expected or unread:
            raise RuntimeError(f"{self.phase} epoch {epoch}: the data loader gave {iteration} batches, not the "
                               f"{expected} of its len(): the epoch's log would count updates that did not run")
        summary = {name: total / iteration for name, total in totals.items()}
        summary.update(seconds=time.perf_counter() - start, data_seconds=timer["data"], iterations=iteration,
                       lr=self.optimizers["generator"].param_groups[0]["lr"])
        for scheduler in self.schedulers.values():
            scheduler.step()
        return summary

    def state_dict(self):
        """The training state of the networks, optimisers, schedulers and loss scaler (for ``<phase>_last.pth``)."""
        state = {"generator": unwrap(self.generator).state_dict(),
                 "optimizer_g": self.optimizers["generator"].state_dict(),
                 "discriminator": unwrap(self.discriminator).state_dict() if self.adversarial else None,
                 "optimizer_d": self.optimizers["discriminator"].state_dict() if self.adversarial else None,
                 "schedulers": [scheduler.state_dict() for scheduler in self.schedulers.values()],
                 "scaler": self.scaler.state_dict()}
        if self.ema is not None:
            state.update(generator_ema=self.ema.module.state_dict(), ema_updates=int(self.ema.n_averaged))
        return state

    def load_state_dict(self, state):
        """Restore what ``state_dict`` saved (exact resume). Checkpoints written before the schedules became
        ``LambdaLR`` hold ``MultiStepLR`` states: only their epoch count is needed, and it is kept."""
        unwrap(self.generator).load_state_dict(state["generator"])
        self.optimizers["generator"].load_state_dict(state["optimizer_g"])
        if self.adversarial:
            unwrap(self.discriminator).load_state_dict(state["discriminator"])
            self.optimizers["discriminator"].load_state_dict(state["optimizer_d"])
        for scheduler, scheduler_state in zip(self.schedulers.values(), state["schedulers"]):
            scheduler.load_state_dict({"lr_lambdas": [None], **scheduler_state})
        for name, optimizer in self.optimizers.items():  # the config's rates and betas, not the saved ones
            base = self.base_lrs[name]
            self.schedulers[name].base_lrs = [base]
            for group in optimizer.param_groups:
                group.update(initial_lr=base, betas=(self.config.beta1, self.config.beta2),
                             lr=base * lr_factor(self.config, self.phase, self.schedulers[name].last_epoch))
        if state["scaler"] and self.scaler.is_enabled():  # empty when saved without fp16 loss scaling
            self.scaler.load_state_dict(state["scaler"])
        if self.ema is not None and "generator_ema" in state:
            self.ema.module.load_state_dict(state["generator_ema"])
            self.ema.n_averaged.fill_(state["ema_updates"])


LOSS_READ_EVERY = 20  # steps between reads of the losses from the device (one host wait each)
SHOWN_LOSSES = ("content", "loss_d", "loss_g")


def _read_losses(unread, names, epoch, first_iteration):
    """The losses of the last steps (a list of ``(len(names),)`` tensors on the device), brought to the host in one
    wait and averaged over the processes of a DDP run, as one ``{'epoch', 'iteration', **losses}`` row per step.
    Raises ``FloatingPointError`` on a NaN/inf loss (every process sees the same averaged values: all stop)."""
    rows = []
    for offset, values in enumerate(_mean_over_processes(torch.stack(unread)).tolist()):
        row = {"epoch": epoch, "iteration": first_iteration + offset, **dict(zip(names, values))}
        bad = [name for name in names if not math.isfinite(row[name])]
        if bad:
            raise FloatingPointError(f"{', '.join(bad)} not finite at epoch {epoch}, iteration {row['iteration']} "
                                     f"({row}): training stopped; the last good checkpoint is kept (try a lower "
                                     f"learning rate)")
        rows.append(row)
    return rows


def _mean_over_processes(values):
    """``values`` averaged over the processes of a DDP run (an all-reduce; unchanged in a single process)."""
    if dist.is_initialized():
        values = values.clone()
        dist.all_reduce(values)
        values /= dist.get_world_size()
    return values


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

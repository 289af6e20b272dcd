"""The training run around ``solver.Trainer``'s epochs: data, checkpoints and resume, validation, CSV logs, several
GPUs, and the command line.

``train(config, phase)`` trains one phase for ``config.<phase>_epochs`` epochs (``settings.py`` makes the config).
Every epoch it validates on held-out images (never a test set), writes ``<checkpoint_folder>/<phase>_last.pth``
(everything needed to resume exactly, written atomically) and ``<phase>_best.pth`` (the generator, when validation
PSNR improves), and appends to ``<log_folder>/<phase>_iterations.csv`` and ``<phase>_epochs.csv``. Calling it again
resumes from ``<phase>_last.pth``, unless the settings that change training differ from the checkpoint's: then it
stops and says which (``allow_changed_settings=True`` continues anyway and logs the change).

Command line (``--help``), also under ``torchrun --nproc_per_node=N training.py ...`` (DistributedDataParallel)::

    python training.py --phase both --profile cpu srresnet_epochs=5
"""
import argparse
import csv
import datetime
import json
import math
import os

import torch
import torch.distributed as dist
from easydict import EasyDict
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

import selection
import settings
from datasets import TestDataset, TrainDataset, read_data_list
from evaluation import evaluate_dataset
from models import ContentLoss, Discriminator
from niqe import load_pristine_model
from solver import Trainer, model_settings, unwrap
from utils import (
    epoch_checkpoint_path,
    generator_weights,
    get_device,
    load_checkpoint,
    read_csv,
    run_main,
    save_checkpoint,
    write_csv,
)

# What <phase>_best.pth keeps (<phase>_last.pth has everything needed to resume).
BEST_KEYS = ("phase", "epoch", "config", "generator", "generator_ema", "history", "best_psnr")
VALIDATION_KEYS = ("val_psnr", "val_ssim", "val_grid", "val_texture", "val_niqe", "val_added", "val_added_chroma")
# Adversarial phases: D's mean output on fixed crops of training and of held-out images (discriminator_outputs).
PROBE_KEYS = ("d_train_real", "d_train_fake", "d_val_real", "d_val_fake")
PROBE_CROPS = 160  # crops of each kind
PROBE_SEED = 0  # the probe's crops are the same in every run
# Settings that do not change what is trained (where and how fast it runs, what is shown or validated): a resume
# may change them freely. <phase>_epochs may grow too (the step schedule of the epochs done stays the same).
NOT_TRAINING = settings.MACHINERY + settings.RANDOM_START_ONLY  # a resumed G's start is behind it


def train(config, phase="srresnet"):
    """Train one phase, resuming from ``<phase>_last.pth`` if present (see the module docstring).

    Ctrl-C saves the weights of the unfinished epoch to ``<phase>_interrupted.pth`` and re-raises; calling ``train``
    again resumes exactly from ``<phase>_last.pth``. A NaN/inf loss raises ``FloatingPointError`` and keeps the
    last good checkpoint. Without validation images (an empty ``val_list``), ``<phase>_best.pth`` is the latest
    epoch. Returns ``{"last": path, "best": path, "history": per-epoch list of dicts, "new_epochs": the epochs this
    call trained, "models": (generator,) or (generator, discriminator)}`` (the networks as trained, in the state of
    the last epoch).
    """
    if phase not in settings.PHASES:
        raise ValueError(f"phase must be one of {settings.PHASES}, got {phase!r}")
    config = EasyDict(config)
    train_path, val_path = _check_inputs(config, phase)
    ddp = Distributed(config.device)
    say = print if ddp.is_main else (lambda *args: None)
    torch.manual_seed(config.seed)
    trainer = ddp.main_first(lambda: Trainer(config, phase, ddp.device))  # rank 0 downloads a VGG19 alone
    start_epoch, history, best_psnr = _resume_or_start(trainer, config, phase, say, ddp.is_main)
    run = _Run(config, phase, trainer, start_epoch, history, best_psnr, train_path, val_path, ddp.is_main)
    epochs = config[f"{phase}_epochs"]
    result = {"last": run.last, "best": run.best, "history": history, "new_epochs": max(0, epochs - start_epoch),
              "models": (trainer.generator,) + ((trainer.discriminator,) if trainer.adversarial else ())}
    if start_epoch >= epochs:
        say(f"{phase}: {run.last} holds epoch {start_epoch}, trained in earlier sittings; {phase}_epochs={epochs} "
            f"asks no more, so this sitting trains none")
        if ddp.is_main and phase == "srgan" and config.keep_epoch_generators:
            say(_keep_chosen(config))
        return result

    loader = _loader(config, ddp, train_path)
    trainer.wrap(ddp)
    benchmark = torch.backends.cudnn.benchmark  # restored at the end: inference then meets images of every size
    if ddp.device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed training shapes: let cuDNN pick its fastest algorithms
    dropped = loader.dataset.batches(loader.batch_size, loader.num_workers)[1]
    say(f"{phase}: training epochs {start_epoch + 1} to {epochs}, {len(loader)} updates of batch "
        f"{config.batch_size} each" + (f" ({dropped} patches per epoch left out: each loader worker drops its "
                                       f"partial batch)" if dropped else "") +
        f", on {ddp.device} ({ddp.world_size} process(es)); checkpoints in "
        f"{config.checkpoint_folder}" + ("" if run.has_val else f"; warning: {config.val_list} is empty: no "
                                         f"validation, '{phase}_best.pth' = the latest epoch"))
    if ddp.enabled:
        say(ddp.batch_norm_note(config))
    epoch = start_epoch
    try:
        for epoch in range(start_epoch + 1, epochs + 1):
            loader.dataset.set_epoch(epoch)
            if ddp.enabled:  # each process its own random D views (d_shift, d_augment), the same after a resume
                torch.manual_seed(config.seed + 1_000_003 * epoch + ddp.rank)
            summary = trainer.run_epoch(loader, epoch, config.progress and ddp.is_main,
                                        run.iterations.add if ddp.is_main else None)
            if ddp.is_main:
                run.end_epoch(epoch, summary)
            ddp.barrier()
    except KeyboardInterrupt:
        if ddp.is_main:
            run.save_interrupted(epoch)
        raise
    finally:
        torch.backends.cudnn.benchmark = benchmark
    if ddp.is_main and phase == "srgan" and config.keep_epoch_generators:  # else no epoch to choose from
        say(_keep_chosen(config))
    return result


def describe_checkpoints(folder):
    """The files of a checkpoint folder, one line each with its size in MB; each phase's kept epoch generators
    (``<phase>_epoch_NNN.pth``) in one line: first, last, count and the size of one."""
    names = sorted(os.listdir(folder))
    epochs = {}
    for name in names:
        phase, marker, _ = name.partition("_epoch_")
        if marker:
            epochs.setdefault(phase, []).append(name)
    lines = [f"{name}  ({os.path.getsize(os.path.join(folder, name)) / 1e6:.1f} MB)" for name in names
             if "_epoch_" not in name]
    for kept in epochs.values():
        size = os.path.getsize(os.path.join(folder, kept[0])) / 1e6
        lines.append(f"{kept[0]} ... {kept[-1]}  ({len(kept)} files, {size:.1f} MB each)")
    return "\n".join(lines)


def _keep_chosen(config):
    """``selection.keep_chosen`` for an SRGAN run that kept its epochs' generators, against the SRResNet it started
    from (``srgan_init``): writes ``srgan_chosen.pth`` and returns what it says, or a sentence saying why it could
    not."""
    init = _srgan_init_path(config)
    try:
        return selection.keep_chosen(config.log_folder, config.checkpoint_folder, selection.srresnet_reference(init))
    except (OSError, ValueError) as error:  # the SRResNet moved, or it was validated without the scores
        return f"srgan_chosen.pth not written: {error}"


def validate(generator, list_path, max_images=None, niqe_model=None):
    """``{'val_psnr', 'val_ssim', 'val_grid', 'val_texture', 'val_niqe', 'val_added', 'val_added_chroma'}``: the
    means over the whole images of a data list, by the test protocol (``evaluation.evaluate_dataset``: batch 1, eval
    mode, uint8 output, Y channel, 4 px crop); ``val_niqe`` is NaN without a ``niqe_model``."""
    _, summary = evaluate_dataset(generator, list_path, "validation", max_images=max_images, progress=False,
                                  niqe_model=niqe_model)
    return {key: summary[key.removeprefix("val_")] for key in VALIDATION_KEYS}


def probe_crops(rows, config, count=PROBE_CROPS, max_images=40):
    """``(lr, hr)``: ``count`` fixed crops of data-list ``rows``, as training crops are cut (``TrainDataset``: aligned,
    random, seeded by ``PROBE_SEED``: the same crops in every run, whatever its seed), from at most ``max_images``
    images evenly spread over the rows: LR ``(count, 3, c/4, c/4)`` in ``[0, 1]``, HR ``(count, 3, c, c)`` in
    ``[-1, 1]``."""
    rows = rows[::math.ceil(len(rows) / max_images)]
    crops = TrainDataset(rows, crop_size=config.crop_size, scale=config.scale, seed=PROBE_SEED,
                         patches_per_image=math.ceil(count / len(rows)), pool_size="all").generate()
    lr, hr = zip(*(crop for _, crop in zip(range(count), crops)))
    return torch.stack(lr), torch.stack(hr)


def probe_sets(train_path, val_path, config):
    """``{"train": (lr, hr), "val": (lr, hr)}`` (``probe_crops``) for ``discriminator_outputs``, or None when either
    list has no image as large as a crop. The training crops come from the training images of the held-out images'
    own folders when there are any (T91's, when T91 images are held out; else every training image), so that a gap
    between D's outputs on the two tells what D has seen, not what kind of photograph it is."""
    def large(path):
        return [row for row in read_data_list(path) if min(row["hr_height"], row["hr_width"]) >= config.crop_size]

    held_out, training = large(val_path), large(train_path)
    folders = {os.path.dirname(row["hr_path"]) for row in held_out}
    training = [row for row in training if os.path.dirname(row["hr_path"]) in folders] or training
    if not held_out or not training:
        return None
    return {"train": probe_crops(training, config), "val": probe_crops(held_out, config)}


def discriminator_outputs(trainer, probes, batch_size):
    """``{d_train_real, d_train_fake, d_val_real, d_val_fake}``: D's mean output (sigmoid, P(real)) on the HR crops
    and on G's SR of their LR, for each of ``probes = {"train": (lr, hr), "val": (lr, hr)}`` (``probe_sets``).

    The question it answers (issue 37): does D tell HR from SR on images it never trained on as well as on its
    training images, or has it learnt those by heart (then ``d_val_real`` falls towards ``d_val_fake`` while
    ``d_train_real`` stays near 1)? D runs as in its updates (training mode: batch statistics over batches of
    ``batch_size``, all real or all fake; its view of the images), as a plain copy (no DDP, no SyncBatchNorm: this runs
    on the main process alone), so that D's own running statistics stay as they are; G (the trained weights, not the
    moving average) in eval mode, where D trains on its training-mode output; no gradient; the global random
    generator is left as it was (forked), so that training goes on exactly as without this.
    """
    config, generator = trainer.config, unwrap(trainer.generator)
    mode = generator.training
    outputs = {}
    try:
        generator.eval()
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            discriminator = Discriminator(config.discriminator_channels, config.discriminator_dense,
                                          spectral_norm=config.d_spectral_norm).to(trainer.device,
                                                                                   memory_format=trainer.memory_format)
            discriminator.load_state_dict(unwrap(trainer.discriminator).state_dict())
            discriminator.train()
            with trainer.autocast():
                for name, (lr, hr) in probes.items():
                    real, fake = [], []
                    for start in range(0, len(lr), batch_size):
                        lr_batch, hr_batch = (images[start:start + batch_size].to(
                            trainer.device, memory_format=trainer.memory_format) for images in (lr, hr))
                        real.append(torch.sigmoid(discriminator(trainer.view(hr_batch)).float()))
                        fake.append(torch.sigmoid(discriminator(trainer.view(generator(lr_batch))).float()))
                    outputs[f"d_{name}_real"], outputs[f"d_{name}_fake"] = (torch.cat(values).mean().item()
                                                                            for values in (real, fake))
    finally:
        generator.train(mode)
    return outputs


def checkpoint_paths(config, phase):
    """``(last, best)`` checkpoint paths of a phase."""
    folder = config.checkpoint_folder
    return os.path.join(folder, f"{phase}_last.pth"), os.path.join(folder, f"{phase}_best.pth")


# ----------------------------------------------------------------------------------------------
# Starting and resuming
# ----------------------------------------------------------------------------------------------
def _check_inputs(config, phase):
    """``(train list, val list)`` paths; ``FileNotFoundError`` saying what to do when a list, or the SRResNet that
    a new SRGAN starts from, is missing (before any model is built)."""
    lists = config.lists_folder
    paths = os.path.join(lists, config.train_list), os.path.join(lists, config.val_list)
    for path in paths:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path}: data list not found; make the lists first with "
                                    f"'python create_data_lists.py --data-root DATA --output-folder {lists}'")
    resuming = config.resume and os.path.exists(checkpoint_paths(config, phase)[0])
    if phase == "srgan" and not resuming and not os.path.isfile(_srgan_init_path(config)):
        raise FileNotFoundError(f"{_srgan_init_path(config)}: no SRResNet checkpoint to start SRGAN from; train "
                                f"phase 'srresnet' first (python training.py --phase srresnet), or set "
                                f"srgan_init=PATH")
    return paths


def _srgan_init_path(config):
    return config.srgan_init or checkpoint_paths(config, "srresnet")[1]


def _resume_or_start(trainer, config, phase, say, is_main=True):
    """Load ``<phase>_last.pth`` into ``trainer`` when resuming (SRGAN: else G from the SRResNet); returns
    ``(epochs done, history, best validation PSNR)``. Only the main process (``is_main``) records a change of
    settings."""
    last_path = checkpoint_paths(config, phase)[0]
    if config.resume and os.path.exists(last_path):
        state = load_checkpoint(last_path, map_location=trainer.device)
        if state.get("phase") != phase:
            raise ValueError(f"{last_path}: a checkpoint of phase {state.get('phase')!r}, not {phase!r}")
        _check_same_settings(state.get("config", {}), config, phase, last_path, state["epoch"], is_main)
        if "optimizer_g" not in state:  # keep_generators_only: finished, and not to be resumed
            _load_finished_generators(trainer, state, last_path, config[f"{phase}_epochs"])
            return state["epoch"], state["history"], state["best_psnr"]
        trainer.load_state_dict(state)
        torch.set_rng_state(state["rng"]["torch"].cpu())  # nothing draws from a CUDA generator: only the CPU's
        say(f"Resuming {phase} from {last_path} after epoch {state['epoch']}")
        return state["epoch"], state["history"], state["best_psnr"]
    if phase == "srgan":
        _load_srresnet_weights(trainer.generator, _srgan_init_path(config), trainer.device)
        if trainer.ema is not None:  # the moving average starts there too (LDL compares G with it from step 1)
            trainer.ema.module.load_state_dict(trainer.generator.state_dict())
        say(f"SRGAN generator initialised from {_srgan_init_path(config)}")
    return 0, [], -math.inf


def keep_generators_only(config, phase):
    """Rewrite ``<phase>_last.pth`` with only what inference and the next phase read (``BEST_KEYS``: the generator,
    its moving average, the config and history), atomically, dropping D and the optimiser states (nearly all of an
    SRGAN checkpoint: D has 23.6 M weights and Adam keeps two more values per weight). ``train`` then has nothing to
    do for this phase when it asks no more epochs, and stops with an error when it asks more. Returns the path."""
    last = checkpoint_paths(config, phase)[0]
    state = load_checkpoint(last)
    save_checkpoint({key: value for key, value in state.items() if key in BEST_KEYS}, last)
    return last


def _load_finished_generators(trainer, state, path, epochs):
    """Load the generator (and its moving average) of a ``keep_generators_only`` checkpoint; ``ValueError`` when
    training should go on from it (it has no optimiser states to resume)."""
    if state["epoch"] < epochs:
        dropped = "no D, no optimiser states" if trainer.adversarial else "no optimiser states"
        raise ValueError(f"{path} holds the generator only ({dropped}; demo.py keeps them only with "
                         f"--keep-checkpoints): it cannot be trained on from epoch "
                         f"{state['epoch']} to {epochs}. Give a new checkpoint_folder (and log_folder) to train again")
    unwrap(trainer.generator).load_state_dict(state["generator"])
    if trainer.ema is not None and "generator_ema" in state:
        trainer.ema.module.load_state_dict(state["generator_ema"])


def changed_settings(saved, config, phase):
    """``{key: (checkpoint's value, config's value)}`` for the settings of ``phase`` that change training
    (not ``NOT_TRAINING``; for SRResNet, not the adversarial ones; no other phase's) and differ. A key the checkpoint
    does not have (written before it existed) counts as its default, ``settings.SETTINGS``'s: what the code did
    before the option was added (a new option is off by default)."""
    def training_value(source, key):
        value = source.get(key, settings.SETTINGS.get(key, (None,))[0])
        if key == "feature_scale" and value is None:  # None: the kind's own scale
            value = ContentLoss.FEATURE_SCALES.get(source.get("content_loss"))
        return json.loads(json.dumps(value))  # tuples as lists, as the checkpoint stores them

    other_phases = tuple(f"{other}_" for other in settings.PHASES if other != phase)
    ignored = NOT_TRAINING + (settings.ADVERSARIAL_ONLY if phase == "srresnet" else ())
    if saved.get("content_loss") == config["content_loss"] == "mse":
        ignored += ("feature_scale", "vgg_weights")
    if config[f"{phase}_lr_schedule"] == "step":
        ignored += (f"{phase}_epochs",)
    return {key: (training_value(saved, key), training_value(config, key)) for key in config
            if key not in ignored and not key.startswith(other_phases)
            and training_value(saved, key) != training_value(config, key)}


def _check_same_settings(saved, config, phase, path, epoch, record=True):
    """Stop a resume whose settings differ (naming each, and the two ways on), or, when ``allow_changed_settings``
    is set, go on and (``record``: the main process) log and print the change."""
    changes = changed_settings(saved, config, phase)
    if not changes:
        return
    listed = ", ".join(f"{key} {old!r} -> {new!r}" for key, (old, new) in changes.items())
    if not config.allow_changed_settings:
        raise ValueError(f"{path} was trained with other settings: {listed}. To train with the new settings from "
                         f"the start, give a new checkpoint_folder (and log_folder); to continue this checkpoint "
                         f"with them, set allow_changed_settings=True (the change is logged)")
    if not record:
        return
    rows = [{"after_epoch": epoch, "setting": key, "old": json.dumps(old), "new": json.dumps(new)}
            for key, (old, new) in changes.items()]
    log = os.path.join(config.log_folder, f"{phase}_setting_changes.csv")
    write_csv(log, read_csv(log) + rows, ("after_epoch", "setting", "old", "new"))
    print(f"Continuing {path} with changed settings ({listed}); recorded in {log}")


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
    """The training DataLoader of this process (its share of the global batch); its ``len`` is the updates an
    epoch runs. ``ValueError`` naming the numbers when an epoch would run none."""
    if config.batch_size % ddp.world_size:
        raise ValueError(f"batch_size {config.batch_size} (the global batch) is not divisible by the "
                         f"{ddp.world_size} processes")
    train_set = TrainDataset(train_path, crop_size=config.crop_size, scale=config.scale,
                             patches_per_image=config.patches_per_image, augment=config.augment, seed=config.seed,
                             pool_size=config.pool_size, rank=ddp.rank, world_size=ddp.world_size)
    batch = config.batch_size // ddp.world_size
    if not train_set.batches(batch, config.num_workers)[0]:
        shares = train_set.worker_patches(config.num_workers)
        raise ValueError(f"{train_path}: an epoch would run no update: {len(train_set.rows)} images x "
                         f"{config.patches_per_image} patches per image, split over {ddp.world_size} process(es) x "
                         f"{len(shares)} loader worker(s), leave each worker at most {max(shares)} patches, fewer "
                         f"than its batch of {batch} (batch_size {config.batch_size} over {ddp.world_size} "
                         f"process(es)); raise patches_per_image, or lower num_workers or batch_size")
    return _WorkerBatches(train_set, batch_size=batch, num_workers=config.num_workers, drop_last=True,
                          pin_memory=ddp.device.type == "cuda")


class _WorkerBatches(DataLoader):
    """The training DataLoader: each worker batches its own share of the epoch's patches and drops its partial
    batch, so ``len`` is ``TrainDataset.batches`` (DataLoader's own divides all the patches by the batch)."""

    def __len__(self):
        return self.dataset.batches(self.batch_size, self.num_workers)[0]


# ----------------------------------------------------------------------------------------------
# Epoch ends: validation, checkpoints, logs
# ----------------------------------------------------------------------------------------------
class _Run:
    """What one ``train`` call keeps between epochs: config, history, best validation PSNR, the checkpoint paths
    and, on the main process only, the CSV logs, NIQE's model and D's probe crops; ``end_epoch`` (main process)
    validates, saves and logs."""

    def __init__(self, config, phase, trainer, start_epoch, history, best_psnr, train_path, val_path, is_main=True):
        self.config, self.phase, self.trainer = config, phase, trainer
        self.history, self.best_psnr, self.val_path = history, best_psnr, val_path
        self.has_val = len(TestDataset(val_path, scale=config.scale)) > 0  # the list is read (and checked)
        self.last, self.best = checkpoint_paths(config, phase)
        self.interrupted = os.path.join(config.checkpoint_folder, f"{phase}_interrupted.pth")
        # Plain JSON types only (a Path or numpy value would not load with torch.load(weights_only=True)).
        self.plain_config = json.loads(json.dumps({**config, "model": model_settings(config)}, default=str))
        self.probes = self.niqe_model = self.iterations = self.epochs = None
        if not is_main:  # the other processes of a torchrun only train: no validation, no files
            return
        self.probes = probe_sets(train_path, val_path, config) if trainer.adversarial else None
        self.niqe_model = load_pristine_model() if config.val_niqe and self.has_val else None
        self.iterations = _CsvLog(os.path.join(config.log_folder, f"{phase}_iterations.csv"), start_epoch)
        self.epochs = _CsvLog(os.path.join(config.log_folder, f"{phase}_epochs.csv"), start_epoch)

    def state_dict(self, epoch):
        return {"phase": self.phase, "epoch": epoch, "config": self.plain_config, **self.trainer.state_dict(),
                "rng": {"torch": torch.get_rng_state()}, "history": self.history, "best_psnr": self.best_psnr}

    def end_epoch(self, epoch, summary):
        """Validate (held-out images; none: the latest epoch is the best), write ``_last`` (and ``_best``),
        the logs and one line of progress."""
        summary.update(validate(self.trainer.inference_generator(), self.val_path, self.config.val_max_images,
                                self.niqe_model) if self.has_val else dict.fromkeys(VALIDATION_KEYS, math.nan))
        if self.trainer.adversarial:
            summary.update(discriminator_outputs(self.trainer, self.probes, self.config.batch_size) if self.probes
                           else dict.fromkeys(PROBE_KEYS, math.nan))
        self.history.append({"epoch": epoch, **summary})
        improved = not self.has_val or summary["val_psnr"] > self.best_psnr
        self.best_psnr = max(self.best_psnr, summary["val_psnr"]) if self.has_val else self.best_psnr
        # The epoch's files first, <phase>_last.pth last: it marks the epoch done (a resume drops later log rows)
        state = self.state_dict(epoch)
        generator_only = {key: value for key, value in state.items() if key in BEST_KEYS}
        if improved:  # the generator alone: what inference and SRGAN's start need
            save_checkpoint(generator_only, self.best)
        if self.trainer.adversarial and self.config.keep_epoch_generators:  # to choose an epoch later (selection.py)
            save_checkpoint(generator_only, epoch_checkpoint_path(self.config.checkpoint_folder, self.phase, epoch))
        self.iterations.flush()
        self.epochs.add(self.history[-1])
        self.epochs.flush()
        save_checkpoint(state, self.last)
        if os.path.exists(self.interrupted):  # superseded by a later completed epoch
            os.remove(self.interrupted)
        print(f"{self.phase} epoch {epoch}/{self.config[f'{self.phase}_epochs']}: " + ", ".join(
            f"{k} {v:.4g}" for k, v in summary.items() if k != "iterations") + (" (best)" if improved else ""))

    def save_interrupted(self, epoch):
        """Ctrl-C: the weights of the unfinished epoch, for a look; training resumes from ``_last``."""
        trainer = self.trainer
        save_checkpoint({"phase": self.phase, "epoch": epoch, "interrupted": True, "config": self.plain_config,
                         **{key: value for key, value in trainer.state_dict().items()
                            if key in ("generator", "discriminator")}}, self.interrupted)
        again = (f"running the same command again resumes from {self.last} (epoch {epoch - 1})"
                 if os.path.exists(self.last) else "no epoch was completed: running it again starts over")
        print(f"Interrupted in epoch {epoch}: its weights are in {self.interrupted}; {again}")


class _CsvLog:
    """A CSV log: rows collected during an epoch are appended at its end. On resume, the rows of epochs
    after the checkpoint's are dropped first (a partly written last line, from a crash, too). A resume that logs
    new columns (say ``val_niqe`` turned on) widens the header; the earlier rows leave them empty."""

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
        logged = dict.fromkeys(key for row in self.rows for key in row)
        added = [key for key in logged if key not in (self.columns or [])]
        if self.columns is not None and added:  # rewrite the file with the wider header
            self.columns = list(self.columns) + added
            write_csv(self.path, read_csv(self.path) + self.rows, self.columns)
            self.rows = []
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


# ----------------------------------------------------------------------------------------------
# Several processes (torchrun)
# ----------------------------------------------------------------------------------------------
class Distributed:
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
            if not dist.is_initialized():  # the others wait at each epoch's end while the main one validates
                dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                                        timeout=datetime.timedelta(hours=1))
        elif device.type == "cuda" and device.index is not None:
            torch.cuda.set_device(device)  # cuda:N alone: pinned memory and cuDNN's handles there, not on GPU 0
        self.device = device
        self.is_main = self.rank == 0

    def main_first(self, make):
        """``make()`` on the main process first (e.g. a download into a shared cache), then on the others."""
        if self.enabled and not self.is_main:
            dist.barrier()
        made = make()
        if self.enabled and self.is_main:
            dist.barrier()
        return made

    def syncs_batch_norm(self, config):
        """Whether batch norms use the statistics of the global batch: under torchrun on CUDA (NCCL), unless
        ``sync_batch_norm=False``; never on the CPU, where PyTorch's ``SyncBatchNorm`` does not run (gloo)."""
        return self.enabled and self.device.type == "cuda" and config.sync_batch_norm

    def wrap(self, model, config, broadcast_buffers=True):
        """``model`` for training: DDP-wrapped under torchrun (its batch norms synchronised, as above).
        ``SyncBatchNorm`` keeps the ``BatchNorm2d`` state_dict keys, so checkpoints load either way.
        ``broadcast_buffers=False`` for a model run twice before one backward (D on real and fake): the broadcast
        of rank 0's running statistics at the second forward would change, in place, what the first one saved for
        its backward (an autograd error with plain batch norms)."""
        if not self.enabled:
            return model
        if self.syncs_batch_norm(config):
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        return DistributedDataParallel(model, device_ids=[self.device] if self.device.type == "cuda" else None,
                                       broadcast_buffers=broadcast_buffers)

    def batch_norm_note(self, config):
        """One line for the startup message under torchrun: which statistics the batch norms use."""
        if self.syncs_batch_norm(config):
            return "batch norm: statistics of the global batch (SyncBatchNorm)"
        why = "SyncBatchNorm needs CUDA" if self.device.type != "cuda" else "sync_batch_norm=False"
        return f"batch norm: statistics of each process's {config.batch_size // self.world_size} patches ({why})"

    def barrier(self):
        if self.enabled:
            dist.barrier()


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Train SRResNet (phase 1), SRGAN (phase 2) or the from-scratch baseline. Settings are "
                    "the paper's (settings.default_config) unless given as KEY=VALUE; --settings lists them. "
                    "Several GPUs: torchrun --nproc_per_node=N training.py --phase srresnet ...",
        epilog="example: python training.py --phase srresnet --profile cpu srresnet_epochs=5 lists_folder=data_lists")
    parser.add_argument("--phase", choices=settings.PHASES + ("both",), default="both",
                        help="which phase to train ('both' = srresnet then srgan)")
    parser.add_argument("--profile", choices=("paper", "cpu"), default="paper",
                        help="paper: settings.default_config(); cpu: settings.cpu_config() (smaller epochs, MSE "
                             "content loss)")
    parser.add_argument("--settings", action="store_true", help="print every setting (a Markdown table) and exit")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides, e.g. batch_size=8")
    args = parser.parse_args(argv)
    if args.settings:
        print(settings.settings_markdown())
        return 0
    try:
        overrides = settings.parse_settings(args.overrides)
        configs = settings.phase_configs(args.profile, overrides)
    except (ValueError, KeyError) as error:
        parser.error(error.args[0])
    for phase in (("srresnet", "srgan") if args.phase == "both" else (args.phase,)):
        train(configs[phase], phase)
    if dist.is_initialized():
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))

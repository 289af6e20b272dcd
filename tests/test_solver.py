"""Training: the loss falls on real patches, resume is exact, checkpoints survive failures, DDP works."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from easydict import EasyDict

import curves
import gan_options
import selection
import settings
import solver
import training
from create_data_lists import write_data_lists
from models import ContentLoss
from sample_data import make_sample_data
from utils import load_checkpoint, read_csv, save_checkpoint, write_csv

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = dict(n_blocks=2, channels=16, discriminator_channels=8, discriminator_dense=32, crop_size=48,
            patches_per_image=4, batch_size=4, num_workers=0, val_max_images=2, progress=False, srresnet_epochs=2,
            srgan_epochs=2, srgan_lr_decay_epochs=(1,), baseline_epochs=1, content_loss="mse")


@pytest.fixture(scope="module")
def tiny_root(shared_data, tmp_path_factory):
    """A data root of 8 real BSDS200 training images (6 to train, 2 held out) and its lists."""
    root = tmp_path_factory.mktemp("data")
    folder = root / "train" / "BSDS200" / "HR"
    folder.mkdir(parents=True)
    for path in sorted((shared_data / "train" / "BSDS200" / "HR").glob("*.png"))[:8]:
        shutil.copy(path, folder / path.name)
    write_data_lists(root, root / "lists", test_sets=(), val_images=2, crop_size=48, log=lambda *a: None)
    return root


def tiny_config(root, run, **overrides):
    values = dict(TINY, lists_folder=str(root / "lists"), checkpoint_folder=str(root / run / "checkpoints"),
                  log_folder=str(root / run / "logs"))
    values.update(overrides)
    return settings.cpu_config(**values)


def test_default_config_is_the_papers():
    config = settings.default_config()
    assert (config.batch_size, config.crop_size, config.patches_per_image) == (16, 96, 100)
    assert (config.srresnet_lr, config.srgan_lr, config.beta1, config.adversarial_weight) == (1e-4, 1e-4, 0.9, 1e-3)
    assert config.content_loss == "vgg54" and config.feature_scale is None  # None: the kind's own scale, VGG's:
    assert ContentLoss.FEATURE_SCALES["vgg54"] == pytest.approx(1 / 12.75)
    assert config.srgan_epochs == 40 and tuple(config.srgan_lr_decay_epochs) == (20,)  # 1e-4, then 1e-5
    with pytest.raises(KeyError, match="batchsize"):
        settings.default_config(batchsize=4)


def test_phase_configs_layer_the_profile_every_phase_and_one_phase():
    configs = settings.phase_configs("cpu", {"batch_size": 8, "augment": False}, {"srresnet": {"augment": True}})
    assert list(configs) == list(settings.PHASES)
    assert configs["srresnet"].augment and not configs["srgan"].augment and not configs["baseline"].augment
    assert {config.batch_size for config in configs.values()} == {8}
    assert configs["srgan"].ema_decay == settings.cpu_config().ema_decay != settings.default_config().ema_decay
    with pytest.raises(ValueError, match="srresnt"):
        settings.phase_configs("cpu", {}, {"srresnt": {"augment": True}})
    with pytest.raises(ValueError, match="laptop"):
        settings.phase_configs("laptop")


def test_the_departures_table_lists_each_setting_a_phase_changes_from_the_papers():
    unchanged = "This run trains with the paper's settings in every phase."
    assert settings.departures_markdown(settings.phase_configs()) == unchanged
    # Machinery (how fast, what is validated) and settings a phase does not use are no departure
    assert settings.departures_markdown(settings.phase_configs("paper", {"val_niqe": True, "num_workers": 1}, {
        "srresnet": {"ema_decay": 0.999}, "srgan": {"icnr_init": True}})) == unchanged
    configs = settings.phase_configs("paper", {"batch_size": 8, "ema_decay": 0.999},
                                     {"srresnet": {"srresnet_lr": 4e-4, "srresnet_lr_decay_epochs": [48]}})
    configs["srgan"].srgan_lr_decay_epochs = [20]  # read back from JSON: a list, still the paper's (20,)
    assert settings.departures_markdown(configs).splitlines() == [
        "| key | paper | srresnet | srgan | baseline |", "|---|---|---|---|---|",
        "| `batch_size` | 16 | 8 | 8 | 8 |",
        "| `srresnet_lr` | 0.0001 | 0.0004 |  |  |",  # another phase's key: an empty cell
        "| `srresnet_lr_decay_epochs` | () | (48,) |  |  |",
        "| `ema_decay` | 0.0 |  | 0.999 | 0.999 |"]  # SRResNet training does not use it


def test_training_lowers_the_loss_on_real_patches(tiny_root):
    result = training.train(tiny_config(tiny_root, "falls", srresnet_epochs=10, srresnet_lr=1e-3), "srresnet")
    losses = [epoch["content"] for epoch in result["history"]]
    assert len(losses) == 10 and sum(losses[-5:]) / 5 < 0.85 * losses[0], losses
    psnrs = [epoch["val_psnr"] for epoch in result["history"]]
    assert psnrs[-1] > psnrs[0] + 2, psnrs  # on the held-out images too
    assert os.path.exists(result["last"]) and os.path.exists(result["best"])
    logs = tiny_root / "falls" / "logs"
    assert (logs / "srresnet_iterations.csv").read_text().count("\n") == 10 * 6 + 1  # 6 images x 4 / 4 per batch
    assert (logs / "srresnet_epochs.csv").read_text().count("\n") == 11


@pytest.fixture(scope="module")
def sample_root(tmp_path_factory):
    """scikit-image's sample photographs as a data root (no ../shared needed): 5 training images, 1 held out."""
    root = tmp_path_factory.mktemp("sample")
    make_sample_data(root / "data", log=None)
    write_data_lists(root / "data", root / "lists", test_sets=(), val_images=1, crop_size=48, log=lambda *a: None)
    return root


def test_an_epoch_logs_the_updates_it_ran_when_worker_shares_are_not_whole_batches(sample_root, capsys):
    """5 images x 2 patches over 2 loader workers: each worker's share of 5 patches gives one batch of 3 and drops
    2, so an epoch runs 2 updates (DataLoader's own len, 10 // 3, says 3). The logs, the schedule and the curves'
    update axis count the 2 that ran; Adam's own step count agrees."""
    config = tiny_config(sample_root, "shares", patches_per_image=2, batch_size=3, num_workers=2, srresnet_epochs=2,
                         val_max_images=1)
    result = training.train(config, "srresnet")
    assert "2 updates of batch 3 each (4 patches per epoch left out" in capsys.readouterr().out
    assert [epoch["iterations"] for epoch in result["history"]] == [2, 2]
    logs = sample_root / "shares" / "logs"
    rows = read_csv(logs / "srresnet_iterations.csv")
    assert [(row["epoch"], row["iteration"]) for row in rows] == [("1", "1"), ("1", "2"), ("2", "1"), ("2", "2")]
    assert [row["iterations"] for row in read_csv(logs / "srresnet_epochs.csv")] == ["2", "2"]
    state = load_checkpoint(result["last"])
    assert {int(adam["step"]) for adam in state["optimizer_g"]["state"].values()} == {4}
    assert [scheduler["last_epoch"] for scheduler in state["schedulers"]] == [2]
    assert curves._updates(rows).tolist() == [1, 2, 3, 4]


def test_an_epoch_that_would_run_no_update_stops_before_training(sample_root):
    """5 images x 1 patch over 2 loader workers (3 and 2 patches) and batches of 4: no worker fills a batch."""
    config = tiny_config(sample_root, "no-update", patches_per_image=1, batch_size=4, num_workers=2)
    with pytest.raises(ValueError, match="an epoch would run no update") as error:
        training.train(config, "srresnet")
    for numbers in ("5 images x 1 patches per image", "1 process(es) x 2 loader worker(s)", "at most 3 patches",
                    "batch of 4"):
        assert numbers in str(error.value)
    assert not (sample_root / "no-update" / "checkpoints").exists()
    trainer = solver.Trainer(config, "srresnet", torch.device("cpu"))
    with pytest.raises(ValueError, match="no update ran"):  # a loader that gives nothing: the schedule stays
        trainer.run_epoch([], 1, progress=False)
    assert trainer.schedulers["generator"].last_epoch == 0


def _weights(path):
    state = load_checkpoint(path)
    return {**{f"g.{k}": v for k, v in state["generator"].items()},
            **{f"d.{k}": v for k, v in (state["discriminator"] or {}).items()}}


@pytest.mark.parametrize("phase, options", [("srresnet", {}), ("baseline", {"d_shift": 4, "d_spectral_norm": True})])
def test_resume_gives_bit_identical_weights(tiny_root, phase, options):
    # d_shift: D's random crops come from the saved torch generator; d_spectral_norm: its power-iteration vectors
    epochs = {f"{phase}_epochs": 2, **options}
    straight = training.train(tiny_config(tiny_root, f"straight-{phase}", **epochs), phase)
    training.train(tiny_config(tiny_root, f"resumed-{phase}", **{**epochs, f"{phase}_epochs": 1}), phase)
    resumed = training.train(tiny_config(tiny_root, f"resumed-{phase}", **epochs), phase)
    a, b = _weights(straight["last"]), _weights(resumed["last"])
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), [k for k in a if not torch.equal(a[k], b[k])][:5]
    assert [e["content"] for e in straight["history"]] == [e["content"] for e in resumed["history"]]
    logs = [tiny_root / run / "logs" / f"{phase}_iterations.csv" for run in (f"straight-{phase}", f"resumed-{phase}")]
    assert logs[0].read_text() == logs[1].read_text()


def test_resume_from_a_checkpoint_of_the_earlier_scheduler(tiny_root):
    """Checkpoints written before the schedules became LambdaLR hold MultiStepLR states (as the earlier
    trainer saved them); they still resume, to the same weights as a run without the interruption."""
    epochs = dict(srgan_epochs=2, srgan_lr_decay_epochs=(1,))
    srresnet = training.train(tiny_config(tiny_root, "old-format"), "srresnet")
    straight = training.train(tiny_config(tiny_root, "old-format", **epochs, srgan_init=srresnet["best"],
                                        checkpoint_folder=str(tiny_root / "old-format" / "straight")), "srgan")
    config = tiny_config(tiny_root, "old-format", **epochs, srgan_init=srresnet["best"])
    first = training.train({**config, "srgan_epochs": 1}, "srgan")
    state = load_checkpoint(first["last"])
    assert all("lr_lambdas" in scheduler for scheduler in state["schedulers"])
    old = []
    for scheduler in state["schedulers"]:  # what MultiStepLR(optimizer, [1], gamma=0.1) saved after one epoch
        old.append({"milestones": {1: 1}, "gamma": 0.1, "base_lrs": scheduler["base_lrs"], "last_epoch": 1,
                    "verbose": False, "_step_count": 2, "_get_lr_called_within_step": False,
                    "_last_lr": scheduler["_last_lr"]})
    save_checkpoint({**state, "schedulers": old}, first["last"])
    resumed = training.train(config, "srgan")
    a, b = _weights(straight["last"]), _weights(resumed["last"])
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [e["lr"] for e in resumed["history"]] == pytest.approx([1e-4, 1e-5])


def test_resume_from_a_checkpoint_written_before_the_move_and_on_more_gpus(tiny_root, monkeypatch):
    """A checkpoint as the trainer saved it before solver.py was split (its config without the newer keys and with
    the VGG scale as a number, and, from a run with 4 visible GPUs, 4 CUDA generator states) resumes on a machine
    with fewer GPUs (here none) to the weights of a run without the interruption."""
    straight = training.train(tiny_config(tiny_root, "before-move", srresnet_epochs=2,
                                          checkpoint_folder=str(tiny_root / "before-move" / "straight")), "srresnet")
    config = tiny_config(tiny_root, "before-move", srresnet_epochs=2)
    first = training.train({**config, "srresnet_epochs": 1}, "srresnet")
    state = load_checkpoint(first["last"])
    old_config = {key: value for key, value in state["config"].items() if key not in ("val_niqe",
                                                                                       "allow_changed_settings")}
    old_config["feature_scale"] = 1 / 12.75
    cuda_states = [torch.zeros(816, dtype=torch.uint8) for _ in range(4)]  # torch.cuda.get_rng_state_all() of 4
    save_checkpoint({**state, "config": old_config, "rng": {**state["rng"], "cuda": cuda_states}}, first["last"])

    def one_gpu_set_rng_state_all(states):  # what torch does with 4 states and 1 visible GPU
        raise IndexError("list index out of range")

    trainer = solver.Trainer(settings.cpu_config(**config), "srresnet", torch.device("cpu"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # as on a machine with one GPU
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", one_gpu_set_rng_state_all)
    assert training._resume_or_start(trainer, settings.cpu_config(**config), "srresnet", print)[0] == 1
    monkeypatch.undo()
    resumed = training.train(config, "srresnet")
    a, b = _weights(straight["last"]), _weights(resumed["last"])
    assert all(torch.equal(a[k], b[k]) for k in a) and resumed["history"][-1]["epoch"] == 2
    assert "cuda" not in load_checkpoint(resumed["last"])["rng"]  # nothing draws from a CUDA generator


def test_srgan_starts_from_srresnet_and_decays_lr(tiny_root):
    config = tiny_config(tiny_root, "two-phase", srresnet_epochs=1)
    with pytest.raises(FileNotFoundError, match="srresnet"):
        training.train(config, "srgan")
    training.train(config, "srresnet")
    result = training.train(config, "srgan")
    assert [round(e["lr"], 8) for e in result["history"]] == [1e-4, 1e-5]
    state = load_checkpoint(result["last"])
    assert state["phase"] == "srgan" and state["discriminator"] is not None
    assert state["config"]["model"] == {"n_blocks": 2, "channels": 16, "scale": 4, "prelu_per_channel": False}
    assert {"loss_d", "loss_g", "adversarial", "d_real", "d_fake", "val_psnr", "val_grid", "val_texture"} <= set(
        result["history"][0])
    # The reported SRGAN: validated without NIQE, the rule cannot choose, so srgan_chosen.pth is the last epoch's G
    folder = Path(config["checkpoint_folder"])
    assert (folder / "srgan_chosen.pth").read_bytes() == (folder / "srgan_epoch_002.pth").read_bytes()
    # With NIQE logged, the rule chooses against the SRResNet the run started from (its checkpoint's history)
    reference = selection.srresnet_reference(folder / "srresnet_best.pth")
    log = Path(config["log_folder"]) / "srgan_epochs.csv"
    rows = read_csv(log)
    for row, niqe in zip(rows, (5.0, 6.0)):
        row.update(val_psnr=reference["psnr"], val_added=reference["added"], val_added_chroma=reference["added_chroma"],
                   val_niqe=niqe)
    write_csv(log, rows)
    assert training._keep_chosen(EasyDict(config)).endswith("srgan_chosen.pth = srgan_epoch_001.pth: the lowest "
                                                            "held-out NIQE (5.00) within the rule's limits")
    assert (folder / "srgan_chosen.pth").read_bytes() == (folder / "srgan_epoch_001.pth").read_bytes()


def test_one_gan_iteration_follows_the_paper():
    """One update of Trainer.step equals the losses and updates written out from the paper's formulas:
    D step on BCE(D(HR), 1) + BCE(D(SR), 0) with SR detached; then G step on MSE + 1e-3 * BCE(D(SR), 1)
    through the updated, frozen D."""
    import copy

    from torch.nn.functional import binary_cross_entropy_with_logits as bce
    from torch.nn.functional import mse_loss

    torch.manual_seed(0)
    config = settings.default_config(n_blocks=1, channels=8, discriminator_channels=8, discriminator_dense=16,
                                   content_loss="mse", srgan_lr=1e-3, amp=False, channels_last=False)
    trainer = solver.Trainer(config, "srgan", torch.device("cpu"))
    generator, discriminator = trainer.generator, trainer.discriminator
    lr, hr = torch.rand(4, 3, 8, 8), torch.rand(4, 3, 32, 32) * 2 - 1
    g_ref, d_ref = copy.deepcopy(generator), copy.deepcopy(discriminator)
    ref_opt_g, ref_opt_d = (torch.optim.Adam(m.parameters(), 1e-3) for m in (g_ref, d_ref))

    summary = _floats(trainer.step(lr, hr))

    sr = g_ref(lr)
    real, fake = d_ref(hr), d_ref(sr.detach())
    loss_d = bce(real, torch.ones(4)) + bce(fake, torch.zeros(4))
    ref_opt_d.zero_grad()
    loss_d.backward()
    ref_opt_d.step()
    d_weights_after_d_step = copy.deepcopy(d_ref.state_dict())
    loss_g = mse_loss(sr, hr) + 1e-3 * bce(d_ref(sr), torch.ones(4))
    ref_opt_g.zero_grad()
    loss_g.backward()
    ref_opt_g.step()

    assert summary["loss_d"] == pytest.approx(loss_d.item(), rel=1e-5)
    assert summary["loss_g"] == pytest.approx(loss_g.item(), rel=1e-5)
    for name, value in generator.state_dict().items():
        assert torch.allclose(value, g_ref.state_dict()[name], atol=1e-6), name
    for name, value in discriminator.state_dict().items():  # the G step does not move D's weights
        if not name.endswith(("running_mean", "running_var", "num_batches_tracked")):
            assert torch.allclose(value, d_weights_after_d_step[name], atol=1e-6), name
    assert all(p.requires_grad for p in discriminator.parameters())  # D unfrozen again afterwards


def test_a_resume_with_other_settings_stops_or_continues_on_request(tiny_root):
    config = tiny_config(tiny_root, "changed", srresnet_epochs=1)
    training.train(config, "srresnet")
    changed = dict(config, srresnet_epochs=2, srresnet_lr=2e-3, progress=False, srgan_lr=1.0)  # more epochs: fine
    with pytest.raises(ValueError, match=r"srresnet_last.pth was trained with other settings: srresnet_lr 0.0001 -> "
                                         r"0.002\. .*new checkpoint_folder.*allow_changed_settings=True"):
        training.train(changed, "srresnet")
    assert load_checkpoint(training.checkpoint_paths(config, "srresnet")[0])["epoch"] == 1  # nothing trained
    result = training.train(dict(changed, allow_changed_settings=True), "srresnet")
    assert result["history"][-1]["epoch"] == 2 and result["history"][-1]["lr"] == pytest.approx(2e-3)
    with open(os.path.join(config.log_folder, "srresnet_setting_changes.csv")) as file:
        assert file.read().splitlines() == ["after_epoch,setting,old,new", "1,srresnet_lr,0.0001,0.002"]
    # the names the message gives: every changed setting of the phase, old -> new; other phases' are not compared
    saved = load_checkpoint(training.checkpoint_paths(config, "srresnet")[0])["config"]
    assert training.changed_settings(saved, dict(changed, allow_changed_settings=True, seed=3, gan_loss="x"),
                                     "srresnet") == {"seed": (0, 3)}
    # a setting added after the checkpoint was written counts as its default (a new option is off by default)
    older = {key: value for key, value in saved.items() if key != "spectral_weight"}
    assert training.changed_settings(older, dict(saved, spectral_weight=30.0), "srgan") == {
        "spectral_weight": (0.0, 30.0)}
    assert training.changed_settings(older, saved, "srgan") == {}


def test_without_validation_images_best_is_the_latest_epoch(tiny_root):
    empty = tiny_root / "lists" / "empty_val.csv"
    empty.write_text("hr_path,lr_path,hr_height,hr_width\n")
    result = training.train(tiny_config(tiny_root, "no-val", srresnet_epochs=2, val_list="empty_val.csv"), "srresnet")
    assert load_checkpoint(result["best"])["epoch"] == 2


class _FailingLoss(torch.nn.Module):
    """Pixel MSE that fails (NaN, or a Ctrl-C) from its ``fail_at``-th call on."""

    def __init__(self, fail_at, failure):
        super().__init__()
        self.calls, self.fail_at, self.failure = 0, fail_at, failure

    def forward(self, sr, hr):
        self.calls += 1
        loss = torch.nn.functional.mse_loss(sr, hr)
        if self.calls >= self.fail_at:
            if self.failure == "nan":
                return loss * float("nan")
            raise KeyboardInterrupt
        return loss


@pytest.mark.parametrize("failure", ["nan", "interrupt"])
def test_failures_keep_the_last_good_checkpoint(tiny_root, monkeypatch, failure):
    config = tiny_config(tiny_root, f"fail-{failure}", srresnet_epochs=3)
    # 6 iterations per epoch: fail in the middle of epoch 2
    monkeypatch.setattr(solver, "ContentLoss", lambda *a, **k: _FailingLoss(9, failure))
    with pytest.raises(FloatingPointError if failure == "nan" else KeyboardInterrupt) as error:
        training.train(config, "srresnet")
    last, _ = training.checkpoint_paths(config, "srresnet")
    assert load_checkpoint(last)["epoch"] == 1
    folder = os.path.dirname(last)
    if failure == "nan":
        assert "epoch 2, iteration 3" in str(error.value)
        assert not os.path.exists(os.path.join(folder, "srresnet_interrupted.pth"))
    else:
        interrupted = load_checkpoint(os.path.join(folder, "srresnet_interrupted.pth"))
        assert interrupted["epoch"] == 2 and interrupted["interrupted"] and "generator" in interrupted
    assert not [name for name in os.listdir(folder) if name.startswith(".tmp")]


def test_checkpoint_interrupted_mid_write_leaves_the_previous_one(tiny_root, monkeypatch):
    config = tiny_config(tiny_root, "disk-full", srresnet_epochs=2)
    training.train(dict(config, srresnet_epochs=1), "srresnet")
    last, _ = training.checkpoint_paths(config, "srresnet")

    def disk_full(obj, file):
        with open(file, "wb") as handle:
            handle.write(b"half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(OSError, match="No space"):
        training.train(config, "srresnet")
    monkeypatch.undo()
    assert load_checkpoint(last)["epoch"] == 1


def test_two_process_gloo_training_keeps_ranks_in_sync(tiny_root, tmp_path):
    config = dict(TINY, lists_folder=str(tiny_root / "lists"), checkpoint_folder=str(tmp_path / "checkpoints"),
                  log_folder=str(tmp_path / "logs"), srresnet_epochs=1, srgan_epochs=1)
    script = tmp_path / "worker.py"
    script.write_text(f"""
import sys
import torch
import torch.distributed as dist
sys.path.insert(0, {REPO!r})
import os
import time

import settings
import solver
import training
config = settings.cpu_config(**{config!r})
# the main process makes shared things (a download) first; the losses logged are the mean over the processes
ddp = training.Distributed("cpu")
marker = os.path.join({str(tmp_path)!r}, "made_by_rank_0")
def make():
    if ddp.is_main:
        time.sleep(1.0)
        open(marker, "w").close()
    else:
        assert os.path.exists(marker), "rank 1 ran before rank 0 had finished"
    return ddp.rank
assert ddp.main_first(make) == ddp.rank
assert solver._mean_over_processes(torch.tensor([float(dist.get_rank())])).item() == 0.5
for phase in ("srresnet", "srgan"):
    result = training.train(config, phase)
    # the ranks must end with the same weights: compare a checksum of every parameter
    models = result["models"]
    sums = torch.stack([p.detach().double().sum() for m in models for p in m.parameters()])
    gathered = [torch.zeros_like(sums) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, sums)
    assert torch.equal(gathered[0], gathered[1]), phase
    if dist.get_rank() == 0:
        print("in sync:", phase, len(sums))
    # ... while each process draws its own random numbers (D's random views)
    draws = [torch.zeros(1) for _ in range(dist.get_world_size())]
    dist.all_gather(draws, torch.rand(1))
    assert not torch.equal(draws[0], draws[1]), phase
# D runs on real and fake before one backward: wrapped without broadcasting its batch-norm buffers (G with)
trainer = solver.Trainer(config, "srgan", ddp.device)
trainer.wrap(ddp)
assert trainer.discriminator.broadcast_buffers is False and trainer.generator.broadcast_buffers is True
# a resume with an allowed change of settings: every process goes on, the main one alone records it
changed = {{**{config!r}, "srgan_epochs": 2, "srgan_lr": 5e-5, "allow_changed_settings": True}}
training.train(settings.cpu_config(**changed), "srgan")
dist.destroy_process_group()
""")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", str(script)],
                         capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "in sync: srresnet" in run.stdout and "in sync: srgan" in run.stdout
    assert "batch norm: statistics of each process's 2 patches (SyncBatchNorm needs CUDA)" in run.stdout
    assert run.stdout.count("with changed settings (srgan_lr 0.0001 -> 5e-05)") == 1
    assert len(read_csv(tmp_path / "logs" / "srgan_setting_changes.csv")) == 1
    assert load_checkpoint(tmp_path / "checkpoints" / "srgan_last.pth")["epoch"] == 2


def test_learning_rate_schedules():
    step = settings.default_config(srresnet_epochs=4, srresnet_lr_decay_epochs=(2,))
    assert [solver.lr_factor(step, "srresnet", e) for e in range(4)] == pytest.approx([1, 1, 0.1, 0.1])
    cosine = settings.default_config(srresnet_epochs=4, srresnet_lr_schedule="cosine")
    assert [solver.lr_factor(cosine, "srresnet", e) for e in range(4)] == pytest.approx(
        [1, 0.5 + 0.5 ** 1.5, 0.5, 0.5 - 0.5 ** 1.5])
    srgan = settings.default_config()  # the paper: 1e-4 for 20 epochs, then 1e-5
    assert [solver.lr_factor(srgan, "srgan", e) for e in (0, 19, 20, 39)] == pytest.approx([1, 1, 0.1, 0.1])


def test_batch_norm_synchronised_exactly_under_torchrun_on_cuda(tmp_path):
    def ddp(enabled, device):
        fake = object.__new__(training.Distributed)  # rank/world size as torchrun would set them
        fake.enabled, fake.device = enabled, torch.device(device)
        return fake

    config = settings.default_config()
    assert ddp(True, "cuda").syncs_batch_norm(config)
    assert not ddp(True, "cpu").syncs_batch_norm(config)  # gloo: PyTorch's SyncBatchNorm does not run
    assert not ddp(False, "cuda").syncs_batch_norm(config)
    assert not ddp(True, "cuda").syncs_batch_norm(settings.default_config(sync_batch_norm=False))

    # A synchronised generator saves the keys of plain BatchNorm2d: its checkpoints load for inference.
    from inference import load_generator
    from models import Generator
    synced = torch.nn.SyncBatchNorm.convert_sync_batchnorm(Generator(n_blocks=2, channels=16))
    assert any(isinstance(m, torch.nn.SyncBatchNorm) for m in synced.modules())
    save_checkpoint({"generator": synced.state_dict(), "config": {"model": {"n_blocks": 2, "channels": 16}}},
                           tmp_path / "synced.pth")
    loaded = load_generator(tmp_path / "synced.pth", "cpu")
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), synced.state_dict().values()))


def _floats(losses):
    """``Trainer.step``'s losses (0-d tensors, left on the device while training) as Python floats."""
    return {name: value.item() for name, value in losses.items()}


def _tiny_trainer(**overrides):
    torch.manual_seed(0)
    config = settings.default_config(n_blocks=1, channels=8, discriminator_channels=8, discriminator_dense=16,
                                   content_loss="mse", srgan_lr=1e-3, amp=False, channels_last=False, **overrides)
    return solver.Trainer(config, "srgan", torch.device("cpu"))


def test_relativistic_gan_step_follows_esrgan():
    import copy

    from torch.nn.functional import binary_cross_entropy_with_logits as bce
    from torch.nn.functional import mse_loss
    trainer = _tiny_trainer(gan_loss="relativistic", d_lr_ratio=0.5)
    assert trainer.optimizers["discriminator"].param_groups[0]["lr"] == pytest.approx(5e-4)  # D at half G's rate
    g_ref, d_ref = copy.deepcopy(trainer.generator), copy.deepcopy(trainer.discriminator)
    ref_opt_g, ref_opt_d = torch.optim.Adam(g_ref.parameters(), 1e-3), torch.optim.Adam(d_ref.parameters(), 5e-4)
    lr, hr = torch.rand(4, 3, 8, 8), torch.rand(4, 3, 32, 32) * 2 - 1
    losses = _floats(trainer.step(lr, hr))

    ones, zeros = torch.ones(4), torch.zeros(4)
    sr = g_ref(lr)
    real, fake = d_ref(hr), d_ref(sr.detach())
    loss_d = (bce(real - fake.mean(), ones) + bce(fake - real.mean(), zeros)) / 2
    ref_opt_d.zero_grad()
    loss_d.backward()
    ref_opt_d.step()
    real, fooled = d_ref(hr).detach(), d_ref(sr)
    loss_g = mse_loss(sr, hr) + 1e-3 * (bce(real - fooled.mean(), zeros) + bce(fooled - real.mean(), ones)) / 2
    ref_opt_g.zero_grad()
    loss_g.backward()
    ref_opt_g.step()
    assert losses["loss_d"] == pytest.approx(loss_d.item(), rel=1e-5)
    assert losses["loss_g"] == pytest.approx(loss_g.item(), rel=1e-5)
    for name, value in trainer.generator.state_dict().items():
        assert torch.allclose(value, g_ref.state_dict()[name], atol=1e-6), name


def test_frozen_generator_batch_norm_keeps_its_statistics(tiny_root):
    trainer = _tiny_trainer(generator_bn="frozen")
    before = {k: v.clone() for k, v in trainer.generator.state_dict().items() if "running" in k}
    trainer.run_epoch([(torch.rand(4, 3, 8, 8), torch.rand(4, 3, 32, 32) * 2 - 1)] * 2, 1, progress=False)
    after = trainer.generator.state_dict()
    assert before and all(torch.equal(before[k], after[k]) for k in before)
    bn = trainer.generator.body[-1]
    assert not bn.training and bn.weight.grad is not None  # eval-mode statistics, affine still trained

    batch = _tiny_trainer()  # the paper's: batch statistics, running statistics updated
    batch.run_epoch([(torch.rand(4, 3, 8, 8), torch.rand(4, 3, 32, 32) * 2 - 1)], 1, progress=False)
    assert not all(torch.equal(before[k], batch.generator.state_dict()[k]) for k in before)


def test_moving_average_of_the_generator(tiny_root):
    trainer = _tiny_trainer(ema_decay=0.9)
    batches = [(torch.rand(4, 3, 8, 8), torch.rand(4, 3, 32, 32) * 2 - 1) for _ in range(3)]
    expected = None
    for lr, hr in batches:
        trainer.step(lr, hr)
        weights = {k: v.detach().clone() for k, v in trainer.generator.state_dict().items()
                   if v.is_floating_point()}
        expected = weights if expected is None else {k: 0.9 * expected[k] + 0.1 * weights[k] for k in weights}
    ema = trainer.inference_generator().state_dict()
    assert all(torch.allclose(ema[k], expected[k], atol=1e-6) for k in expected)
    assert not torch.equal(ema["head.0.weight"], trainer.generator.state_dict()["head.0.weight"])

    # A checkpoint with the average: inference and an SRGAN start use it; a resume restores it exactly.
    from inference import load_generator
    state = trainer.state_dict()
    assert state["ema_updates"] == 3
    save_checkpoint({**state, "config": {"model": solver.model_settings(trainer.config)}},
                           tiny_root / "ema.pth")
    loaded = load_generator(tiny_root / "ema.pth", "cpu").state_dict()
    assert all(torch.equal(loaded[k], ema[k]) for k in ema)
    raw = load_generator(tiny_root / "ema.pth", "cpu", moving_average=False).state_dict()
    assert all(torch.equal(raw[k], v) for k, v in trainer.generator.state_dict().items())
    again = _tiny_trainer(ema_decay=0.9)
    again.load_state_dict(state)
    assert int(again.ema.n_averaged) == 3
    assert all(torch.equal(again.inference_generator().state_dict()[k], ema[k]) for k in ema)

    # Phase 1 has no adversarial step to average after: its G is validated and saved as trained
    config = settings.default_config(n_blocks=1, channels=8, ema_decay=0.9, amp=False, channels_last=False)
    phase1 = solver.Trainer(config, "srresnet", torch.device("cpu"))
    assert phase1.ema is None and phase1.inference_generator() is phase1.generator


def test_random_shift_crops_each_image_at_its_own_offset():
    images = torch.rand(64, 3, 12, 10, requires_grad=True)
    torch.manual_seed(0)
    crops = gan_options.random_shift(images, 3)
    assert crops.shape == (64, 3, 9, 7)
    offsets = set()
    for image, crop in zip(images, crops):
        found = [(dy, dx) for dy in range(4) for dx in range(4) if torch.equal(image[:, dy:dy + 9, dx:dx + 7], crop)]
        assert len(found) == 1
        offsets.add(found[0])
    assert len(offsets) > 10  # per image, not one offset for the batch; all within 0..3
    crops.sum().backward()
    assert images.grad.sum() == 64 * 3 * 9 * 7  # the gradient reaches exactly the kept pixels
    torch.manual_seed(0)
    assert torch.equal(gan_options.random_shift(images, 3), crops)  # drawn from the (checkpointed) torch generator
    assert torch.equal(gan_options.random_shift(images, 0), images)
    with pytest.raises(ValueError, match="d_shift=10 must be below the image side"):
        gan_options.random_shift(images, 10)
    with pytest.raises(ValueError, match="d_shift=49: must be at most half of crop_size"):
        settings.default_config(d_shift=49)


def test_discriminator_judges_shifted_crops():
    trainer = _tiny_trainer(d_shift=4)
    seen = []
    trainer.discriminator.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].shape))
    trainer.step(torch.rand(4, 3, 8, 8), torch.rand(4, 3, 32, 32) * 2 - 1)
    assert seen == [(4, 3, 28, 28)] * 3  # D step: HR and SR; G step: SR
    assert _tiny_trainer().config.d_shift == 0  # the paper: D sees the whole image


def test_binomial_blur_removes_two_pixel_patterns_and_halves_four_pixel_ones():
    import math
    rows = torch.zeros(1, 3, 16, 16)
    rows[..., ::2, :] = 1  # stripes of a 2-pixel period
    assert torch.allclose(gan_options.binomial_blur(rows), torch.full_like(rows, 0.5))
    wave = torch.cos(2 * math.pi * torch.arange(16.0) / 4).expand(2, 3, 16, 16)  # a 4-pixel period
    assert torch.allclose(gan_options.binomial_blur(wave)[..., 4:12], 0.5 * wave[..., 4:12], atol=1e-6)
    flat = torch.full((1, 3, 8, 8), 0.3)
    assert torch.allclose(gan_options.binomial_blur(flat), flat)

    trainer = _tiny_trainer(d_blur=True)
    seen = []
    trainer.discriminator.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
    hr = torch.rand(4, 3, 32, 32) * 2 - 1
    trainer.step(torch.rand(4, 3, 8, 8), hr)
    assert torch.allclose(seen[0], gan_options.binomial_blur(hr))  # D judges the low-passed HR (and SR)


def test_icnr_makes_each_upsampling_a_nearest_neighbour_enlargement():
    from gan_options import icnr_
    from models import Generator
    torch.manual_seed(0)
    block = icnr_(Generator(n_blocks=1, channels=8)).tail[0]
    out = block(torch.rand(1, 8, 5, 6))
    assert torch.equal(out[..., 0::2, 0::2], out[..., 1::2, 1::2])
    assert torch.equal(out[..., 0::2, 0::2], out[..., 0::2, 1::2])
    plain = Generator(n_blocks=1, channels=8).tail[0](torch.rand(1, 8, 5, 6))
    assert not torch.equal(plain[..., 0::2, 0::2], plain[..., 1::2, 1::2])
    assert settings.default_config(icnr_init=True).icnr_init and not settings.default_config().icnr_init


def test_zero_init_residual_setting_reaches_a_g_from_random_weights():
    tiny = dict(n_blocks=1, channels=8, content_loss="mse", amp=False, channels_last=False)
    for zero in (False, True):
        trainer = solver.Trainer(settings.default_config(zero_init_residual=zero, **tiny), "srresnet",
                                 torch.device("cpu"))
        scales = torch.cat([trainer.generator.body[0].body[4].weight, trainer.generator.body[-1].weight])
        assert bool((scales == 0).all()) == zero and bool((scales == 1).all()) != zero


def test_icnr_changes_nothing_but_the_upsampling_convolutions():
    """ICNR draws from a forked random stream: D, G's other layers and every later draw are as without it."""
    tiny = dict(n_blocks=1, channels=8, discriminator_channels=8, discriminator_dense=16, content_loss="mse",
                amp=False, channels_last=False)
    runs = []
    for icnr in (False, True):
        torch.manual_seed(0)
        trainer = solver.Trainer(settings.default_config(icnr_init=icnr, **tiny), "baseline", torch.device("cpu"))
        runs.append((trainer, torch.rand(3)))
    (plain, next_plain), (icnr, next_icnr) = runs
    assert torch.equal(next_plain, next_icnr)
    assert all(torch.equal(v, icnr.discriminator.state_dict()[k]) for k, v in plain.discriminator.state_dict().items())
    changed = {k for k, v in plain.generator.state_dict().items() if not torch.equal(v, icnr.generator.state_dict()[k])}
    upsampling = {f"tail.{i}.body.0.{name}" for i in range(2) for name in ("weight", "bias")}
    assert changed == upsampling


def test_periodic_error_is_the_four_pixel_periodic_part_of_the_mse():
    torch.manual_seed(0)
    hr = torch.rand(2, 3, 32, 48) * 2 - 1
    template = torch.randn(1, 3, 4, 4)
    template -= template.mean(dim=(2, 3), keepdim=True)
    gridded = hr + 0.1 * template.repeat(1, 1, 8, 12)
    # A phase-locked pattern is all periodic: periodic_error equals its MSE, in tiles of any size
    for window in (4, 16):
        assert gan_options.periodic_error(gridded, hr, window).item() == pytest.approx(
            torch.nn.functional.mse_loss(gridded, hr).item(), rel=1e-5)
    # Parseval: with one tile the size of the image, it is the error's energy at (ky/4, kx/4), DC excepted
    error = torch.randn(1, 1, 16, 16)
    spectrum = torch.fft.fft2(error).abs().square()[0, 0]
    at_grid = spectrum[::4, ::4].sum() - spectrum[0, 0]
    assert gan_options.periodic_error(error, torch.zeros_like(error), 16).item() == pytest.approx(
        (at_grid / 16 ** 4).item(), rel=1e-4)
    # Tiles are contiguous window x window squares: a pattern whose sign flips from one 16-pixel tile to the
    # next is all periodic in 16-pixel tiles and cancels in 32-pixel ones
    flips = torch.tensor([1.0, -1.0]).repeat_interleave(16)
    flipping = template.repeat(1, 1, 8, 8) * flips[:, None] * flips[None, :]
    zeros = torch.zeros_like(flipping)
    assert gan_options.periodic_error(flipping, zeros, 16).item() == pytest.approx(flipping.square().mean().item())
    assert gan_options.periodic_error(flipping, zeros, 32).item() == pytest.approx(0, abs=1e-12)
    # Errors with no 4-pixel period: a colour shift none; white noise about 15/256 of its MSE
    assert gan_options.periodic_error(hr + 0.1, hr).item() == pytest.approx(0, abs=1e-12)
    noise = 0.1 * torch.randn(8, 3, 64, 64)
    assert gan_options.periodic_error(noise, torch.zeros_like(noise)).item() == pytest.approx(
        15 / 256 * noise.square().mean().item(), rel=0.1)
    with pytest.raises(ValueError, match="window=16 must be a multiple of 4 dividing the image side"):
        gan_options.periodic_error(torch.zeros(1, 3, 24, 24), torch.zeros(1, 3, 24, 24))


def test_grid_weight_adds_the_periodic_error_to_the_generator_loss():
    trainer = _tiny_trainer(grid_weight=100.0, adversarial_weight=0.0)
    lr, hr = torch.rand(4, 3, 8, 8), torch.rand(4, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        sr = trainer.generator(lr)
    losses = _floats(trainer.step(lr, hr))
    assert losses["periodic"] == pytest.approx(gan_options.periodic_error(sr, hr).item(), rel=1e-5)
    assert losses["loss_g"] == pytest.approx(losses["content"] + 100 * losses["periodic"], rel=1e-5)
    assert "periodic" not in _tiny_trainer().step(lr, hr)  # the paper: no such term
    # The term reaches G's weights: the same first step without it moves them differently
    with_term, without = _tiny_trainer(grid_weight=100.0, adversarial_weight=0.0), _tiny_trainer(adversarial_weight=0.0)
    with_term.step(lr, hr), without.step(lr, hr)
    assert not torch.equal(with_term.generator.tail[-2].weight, without.generator.tail[-2].weight)
    with pytest.raises(ValueError, match="grid_weight=1.0: must be >= 0, and when on, crop_size \\(40\\)"):
        settings.default_config(grid_weight=1.0, crop_size=40)


def test_a_log_resumed_with_new_columns_keeps_them(tmp_path):
    """A resume that logs more columns (val_niqe turned on, say) widens the CSV header; earlier rows stay, empty
    there, and a resume to an earlier epoch still drops the later rows."""
    path = tmp_path / "srresnet_epochs.csv"
    log = training._CsvLog(str(path), 0)
    log.add({"epoch": 1, "val_psnr": 25.0})
    log.flush()
    log = training._CsvLog(str(path), 1)
    log.add({"epoch": 2, "val_psnr": 26.0, "val_niqe": 6.5})
    log.flush()
    log.add({"epoch": 3, "val_psnr": 27.0, "val_niqe": 6.0})
    log.flush()
    assert read_csv(path) == [{"epoch": "1", "val_psnr": "25.0", "val_niqe": ""},
                              {"epoch": "2", "val_psnr": "26.0", "val_niqe": "6.5"},
                              {"epoch": "3", "val_psnr": "27.0", "val_niqe": "6.0"}]
    training._CsvLog(str(path), 2)
    assert [row["epoch"] for row in read_csv(path)] == ["1", "2"]


def test_the_checkpoint_listing_gives_each_phases_epoch_files_one_line(tmp_path):
    for name, size in (("srresnet_best.pth", 6_300_000), ("srgan_last.pth", 308_000_000),
                       ("srgan_epoch_001.pth", 6_300_000), ("srgan_epoch_002.pth", 6_300_000),
                       ("baseline_epoch_001.pth", 6_300_000)):
        with open(tmp_path / name, "wb") as file:
            file.truncate(size)
    assert training.describe_checkpoints(tmp_path).splitlines() == [
        "srgan_last.pth  (308.0 MB)", "srresnet_best.pth  (6.3 MB)",
        "baseline_epoch_001.pth ... baseline_epoch_001.pth  (1 files, 6.3 MB each)",
        "srgan_epoch_001.pth ... srgan_epoch_002.pth  (2 files, 6.3 MB each)"]

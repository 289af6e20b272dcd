"""The CUDA path (skipped without a GPU; benchmarks/gpu_check.sh runs it where one is lent): fp16 AMP training
steps of each phase in both memory layouts, a short training that resumes from its checkpoints on the GPU, and
tiled inference."""
import math

import pytest
import torch

import inference
import settings
import solver
import training
import utils
from create_data_lists import write_data_lists
from models import Generator
from sample_data import make_sample_data

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
TINY = dict(n_blocks=2, channels=16, discriminator_channels=8, discriminator_dense=16, crop_size=48, device="cuda")


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("phase", ["srresnet", "srgan"])
def test_fp16_steps_lower_the_loss_update_every_network_and_stay_on_the_gpu(phase, channels_last):
    torch.manual_seed(0)
    trainer = solver.Trainer(settings.cpu_config(**TINY, srgan_lr=1e-3, srresnet_lr=1e-3, channels_last=channels_last),
                             phase, torch.device("cuda"))
    assert trainer.amp_dtype == torch.float16 and trainer.scaler.is_enabled()
    assert all(group.get("fused") for optimizer in trainer.optimizers.values() for group in optimizer.param_groups)
    before = {name: [p.detach().clone() for p in getattr(trainer, name).parameters()] for name in trainer.optimizers}
    lr = torch.rand(4, 3, 12, 12, device="cuda")
    hr = torch.nn.functional.interpolate(lr, scale_factor=4, mode="bicubic").clamp(0, 1) * 2 - 1
    first = trainer.step(lr, hr)["content"].item()
    for _ in range(30):
        losses = trainer.step(lr, hr)
    assert all(value.device.type == "cuda" for value in losses.values())
    assert losses["content"].item() < first and all(torch.isfinite(value) for value in losses.values())
    assert math.isfinite(trainer.scaler.get_scale())  # the scaler did not skip every step
    for name, weights in before.items():  # G and (SRGAN) D both changed: neither optimizer's steps were all skipped
        assert any(not torch.equal(old, new) for old, new in zip(weights, getattr(trainer, name).parameters())), name
    if trainer.ema is not None:  # the moving average and its step counter live on the GPU
        assert trainer.ema.n_averaged.device.type == "cuda" and int(trainer.ema.n_averaged) == 31


def test_a_gpu_training_resumes_from_its_checkpoints(tmp_path):
    """Both phases, one epoch, then one more from the checkpoint (loaded onto the GPU: fused Adam's and the
    scaler's state); the loader pins memory, validation runs after each epoch; cuDNN's autotuning is switched
    back off afterwards."""
    make_sample_data(tmp_path / "data", log=None)
    write_data_lists(tmp_path / "data", tmp_path / "lists", test_sets=(), val_images=1, crop_size=48,
                     log=lambda *a: None)
    given = dict(TINY, patches_per_image=2, batch_size=4, num_workers=2, val_max_images=1, progress=False,
                 lists_folder=str(tmp_path / "lists"), checkpoint_folder=str(tmp_path / "checkpoints"),
                 log_folder=str(tmp_path / "logs"))
    benchmark = torch.backends.cudnn.benchmark
    for phase in ("srresnet", "srgan"):
        training.train(settings.cpu_config(**given, srresnet_epochs=1, srgan_epochs=1), phase)
        again = training.train(settings.cpu_config(**given, srresnet_epochs=2, srgan_epochs=2), phase)
        assert again["new_epochs"] == 1 and [row["epoch"] for row in again["history"]] == [1, 2]
        assert all(math.isfinite(row["content"]) and math.isfinite(row["val_psnr"]) for row in again["history"])
    assert torch.backends.cudnn.benchmark == benchmark


def test_tiled_inference_equals_whole_within_one_grey_level():
    torch.manual_seed(0)
    generator = Generator(n_blocks=2, channels=16).cuda().eval()
    image = (torch.rand(60, 52, 3) * 255).byte().numpy()
    whole = inference.super_resolve(generator, image, tile_size=0, device="cuda")
    tiled = inference.super_resolve(generator, image, tile_size=24, device="cuda")
    assert abs(whole.astype(int) - tiled.astype(int)).max() <= 1


def test_constants_reach_the_gpu_with_their_values():
    like = torch.zeros(1, device="cuda", dtype=torch.float16)
    values = utils.constant_like([1.0, 2.0, 0.5], like)
    assert values.device.type == "cuda" and values.dtype == torch.float16 and values.tolist() == [1.0, 2.0, 0.5]

"""The CUDA path (skipped without a GPU; benchmarks/gpu_check.sh runs it where one is lent): fp16 AMP training
steps of each phase, and tiled inference (resume is tested on the CPU only)."""
import pytest
import torch

import inference
import settings
import solver
from models import Generator

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
TINY = dict(n_blocks=2, channels=16, discriminator_channels=8, discriminator_dense=16, crop_size=48, device="cuda")


@pytest.mark.parametrize("phase", ["srresnet", "srgan"])
def test_fp16_steps_lower_the_loss_and_stay_on_the_gpu(phase):
    torch.manual_seed(0)
    trainer = solver.Trainer(settings.cpu_config(**TINY, srgan_lr=1e-3, srresnet_lr=1e-3), phase,
                             torch.device("cuda"))
    assert trainer.amp_dtype == torch.float16 and trainer.scaler.is_enabled()
    assert all(group.get("fused") for optimizer in trainer.optimizers.values() for group in optimizer.param_groups)
    lr = torch.rand(4, 3, 12, 12, device="cuda")
    hr = torch.nn.functional.interpolate(lr, scale_factor=4, mode="bicubic").clamp(0, 1) * 2 - 1
    first = trainer.step(lr, hr)["content"].item()
    for _ in range(30):
        losses = trainer.step(lr, hr)
    assert all(value.device.type == "cuda" for value in losses.values())
    assert losses["content"].item() < first and all(torch.isfinite(value) for value in losses.values())


def test_tiled_inference_equals_whole_within_one_grey_level():
    torch.manual_seed(0)
    generator = Generator(n_blocks=2, channels=16).cuda().eval()
    image = (torch.rand(60, 52, 3) * 255).byte().numpy()
    whole = inference.super_resolve(generator, image, tile_size=0, device="cuda")
    tiled = inference.super_resolve(generator, image, tile_size=24, device="cuda")
    assert abs(whole.astype(int) - tiled.astype(int)).max() <= 1

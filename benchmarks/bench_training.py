"""Training speed: fp32 eager (the plain baseline) beside mixed precision and channels_last, in the same run; and the
host waits per step.

Measures phase-1 (SRResNet) and phase-2 (SRGAN: a D step and a G step) updates per second with the paper's
networks, batch and crop, on real patches, for each variant: fp32 or mixed precision (bf16 autocast on the CPU,
fp16 with loss scaling on CUDA; forced on, whatever ``amp``'s automatic choice would be) times NCHW or channels_last.
Then counts, over a real epoch of ``Trainer.run_epoch``, the project's calls that make the host wait for the device
(``.item()``, ``.tolist()``, ``float()``/``bool()`` of a tensor): per step in the steady state; on CUDA also every
synchronising operation, torch's own and blocking copies included (``torch.cuda.set_sync_debug_mode``). Then checks
that the data pipeline keeps up.

    python benchmarks/bench_training.py [--device cuda] [--steps 6] [--batch-size 16] [--crop-size 96] [--quick]

``--quick`` (the CPU side of benchmarks/gpu_check.sh): fp32 only, no data-pipeline epoch.
"""
import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch
from torch.utils.data import DataLoader

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from create_data_lists import scan_image_folder  # noqa: E402
from datasets import TrainDataset  # noqa: E402
from sample_data import make_sample_data  # noqa: E402
from settings import cpu_config  # noqa: E402
from solver import Trainer  # noqa: E402

SHARED = Path(os.environ.get("SRGAN_SHARED_DATA", REPO.parent / "shared" / "data"))
WAITS = ("item", "tolist", "__float__", "__bool__")  # Tensor methods that bring a value to the host


def image_folder(scratch):
    """BSDS200's HR folder of ../shared/data ($SRGAN_SHARED_DATA); without it, scikit-image's colour sample
    photographs (sample_data.py), written into the folder ``scratch``."""
    folder = SHARED / "train" / "BSDS200" / "HR"
    if folder.is_dir():
        return folder
    print(f"(no {folder}: scikit-image's sample photographs instead)")
    make_sample_data(scratch, log=None)
    return Path(scratch) / "train" / "skimage" / "HR"


def training_rows(folder, count):
    rows = scan_image_folder(folder, min_size=96)[0]
    return (rows * count)[:count]  # the 6 sample photographs repeat


def _synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(phase, device, mixed, channels_last, batches, steps):
    """Seconds per update (median of ``steps`` after one warm-up) of one phase's training step."""
    torch.manual_seed(0)
    trainer = Trainer(cpu_config(amp=mixed, channels_last=channels_last, device=device.type), phase, device)
    if mixed and device.type == "cpu":
        trainer.amp_dtype = torch.bfloat16  # forced: amp's automatic choice is fp32 on CPUs without bf16
    times = []
    for step in range(steps + 1):
        lr, hr = (tensor.to(device, memory_format=trainer.memory_format) for tensor in batches[step % len(batches)])
        _synchronize(device)
        start = time.perf_counter()
        trainer.step(lr, hr)
        _synchronize(device)
        if step:  # the first step warms up the allocator and kernels
            times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def count_host_waits(phase, device, batches):
    """Calls that make the host wait for the device, per step, over one epoch of ``run_epoch`` on ``batches``: the
    project's own (``WAITS``), and on CUDA (key ``"all syncs"``) every synchronising operation that CUDA's sync debug
    mode reports."""
    torch.manual_seed(0)
    trainer = Trainer(cpu_config(amp=False, device=device.type), phase, device)
    counts = {name: 0 for name in WAITS}
    originals = {name: getattr(torch.Tensor, name) for name in WAITS}

    def counting(name):
        def wrapper(tensor, *args, **kwargs):
            # the project's calls (torch's own show in "all syncs" on CUDA)
            if os.path.dirname(sys._getframe(1).f_code.co_filename) == str(REPO):
                counts[name] += 1
            return originals[name](tensor, *args, **kwargs)
        return wrapper

    try:
        for name in WAITS:
            setattr(torch.Tensor, name, counting(name))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if device.type == "cuda":
                torch.cuda.set_sync_debug_mode("warn")
            trainer.run_epoch(batches, 1, progress=False)
    finally:
        if device.type == "cuda":
            torch.cuda.set_sync_debug_mode("default")
        for name, method in originals.items():
            setattr(torch.Tensor, name, method)
    if device.type == "cuda":
        counts["all syncs"] = sum("synchronizing" in str(warning.message) for warning in caught)
    return sum(counts[name] for name in WAITS) / len(batches), counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--crop-size", type=int, default=96)
    parser.add_argument("--quick", action="store_true", help="fp32 variants only, no data-pipeline epoch")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_training_") as scratch:  # removed at the end
        run(args, image_folder(scratch))


def run(args, folder):
    """The measurements, on the training images of ``folder``."""
    device = torch.device(args.device)
    torch.backends.cudnn.benchmark = device.type == "cuda"  # as training.train does: fixed shapes, autotuned
    print(f"torch {torch.__version__}, {device}, {torch.get_num_threads()} threads, batch {args.batch_size}, "
          f"crop {args.crop_size}")
    dataset = TrainDataset(training_rows(folder, 8), crop_size=args.crop_size, patches_per_image=args.batch_size)
    batches = list(DataLoader(dataset, batch_size=args.batch_size))
    mixed = "fp16 AMP" if device.type == "cuda" else "bf16 autocast"
    variants = [("fp32, NCHW (baseline)", False, False), (f"{mixed}, NCHW", True, False),
                (f"{mixed}, channels_last", True, True), ("fp32, channels_last", False, True)]
    variants = [variant for variant in variants if not (args.quick and variant[1])]
    for phase in ("srresnet", "srgan"):
        baseline = None
        print(f"\n{phase}: s/update, updates/s, speed-up over fp32 NCHW")
        for name, use_mixed, channels_last in variants:
            seconds = measure(phase, device, use_mixed, channels_last, batches, args.steps)
            baseline = baseline or seconds
            print(f"  {name:32s} {seconds:7.3f} s  {1 / seconds:6.2f} updates/s  x{baseline / seconds:.2f}")

    epoch = (batches * 20)[:20]  # 20 steps: one read of the losses
    for phase in ("srresnet", "srgan"):
        per_step, counts = count_host_waits(phase, device, epoch)
        print(f"\nhost waits per step, {phase}: {per_step:.3f} over {len(epoch)} steps ({counts})")

    if args.quick:
        return
    # Does the data pipeline keep up? One real epoch with the cpu profile (1 worker).
    dataset = TrainDataset(training_rows(folder, 24), crop_size=args.crop_size, patches_per_image=16)
    loader = DataLoader(dataset, batch_size=args.batch_size, num_workers=1, drop_last=True)
    summary = Trainer(cpu_config(device=device.type), "srresnet", device).run_epoch(loader, 1, progress=False)
    share = summary["data_seconds"] / summary["seconds"]
    print(f"\ndata pipeline: {summary['iterations']} iterations in {summary['seconds']:.1f} s, "
          f"{summary['data_seconds']:.2f} s waiting for data = {100 * share:.1f}% of the epoch "
          f"(includes the first batch's decode)")


if __name__ == "__main__":
    main()

"""Peak memory and time of tiled versus whole-image inference for a DIV2K-sized output, on the CPU.

The input is an LR image of 510x339 (WxH; a 2040x1356 SR output, the size of a DIV2K image), made from a
real B100 photograph resized with the MATLAB-exact imresize (random noise if the data is absent); the
generator is the paper's (16 blocks, 64 channels), randomly initialised with a fixed seed.

Each configuration runs in its own fresh Python process, so the figures are independent: the process
reports its peak resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) before inference (model,
input, libraries loaded) and after it; the difference is the memory that inference itself needed. Tracemalloc
would not see torch's allocations. The outputs are saved and compared to the whole-image one.

Usage: ``python benchmarks/bench_tiling.py [--tile-sizes 256 128] [--repeats 1] [--data-root ../shared/data]``
(about 1.5 to 2 minutes on 2 CPU cores per repeat).
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LR_HEIGHT, LR_WIDTH = 339, 510


def _peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _make_input(data_root):
    """The LR test image, ``uint8`` 339x510x3."""
    import numpy as np

    from imresize import imresize
    from utils import load_image

    candidates = sorted(Path(data_root).glob("B100/HR/*.png")) if data_root else []
    for path in candidates:
        image = load_image(path)
        if image.shape[1] > image.shape[0]:  # a landscape photograph
            return imresize(image, output_shape=(LR_HEIGHT, LR_WIDTH)), str(path)
    return np.random.default_rng(0).integers(0, 256, (LR_HEIGHT, LR_WIDTH, 3), dtype=np.uint8), "random noise"


def worker(tile_size, data_root, output_path):
    """Run one configuration in this process; print one JSON line of figures."""
    sys.path.insert(0, str(REPO))
    import numpy as np
    import torch

    from inference import super_resolve
    from models import Generator

    torch.manual_seed(0)
    generator = Generator().eval()
    lr, source = _make_input(data_root)
    before = _peak_rss_mib()
    start = time.perf_counter()
    sr = super_resolve(generator, lr, tile_size=tile_size)
    seconds = time.perf_counter() - start
    after = _peak_rss_mib()
    np.save(output_path, sr)
    print(json.dumps({"tile_size": tile_size, "seconds": seconds, "rss_before_mib": before, "rss_peak_mib": after,
                      "threads": torch.get_num_threads(), "source": source, "output_shape": list(sr.shape)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tile-sizes", type=int, nargs="+", default=[256, 128],
                        help="LR tile sizes to compare with the whole image (default: %(default)s)")
    default_root = os.environ.get("SRGAN_SHARED_DATA", str(REPO.parent / "shared" / "data"))
    parser.add_argument("--data-root", default=default_root,
                        help="folder with B100/HR for a real input image (else random noise)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per configuration, alternating; the fastest time and the largest memory are "
                             "reported (use 2-3 on a busy machine; default: %(default)s)")
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--output", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        worker(args.worker, args.data_root, args.output)
        return

    import numpy as np
    runs = {tile_size: [] for tile_size in [0] + args.tile_sizes}
    with tempfile.TemporaryDirectory() as folder:
        for repeat in range(args.repeats):
            for tile_size in runs:
                output = os.path.join(folder, f"sr_{tile_size}.npy")
                completed = subprocess.run([sys.executable, __file__, "--worker", str(tile_size), "--data-root",
                                            args.data_root, "--output", output], capture_output=True, text=True,
                                           check=True)
                figures = json.loads(completed.stdout.strip().splitlines()[-1])
                whole = np.load(os.path.join(folder, "sr_0.npy")).astype(int)
                figures["max_diff"] = int(np.abs(np.load(output).astype(int) - whole).max())
                runs[tile_size].append(figures)
                print(f"  run {repeat + 1}: tiles {tile_size or 'none'}: {figures['seconds']:.1f} s", flush=True)
    results = []
    for tile_size, figures in runs.items():
        best = dict(figures[0])
        best["seconds"] = min(f["seconds"] for f in figures)
        best["extra_mib"] = max(f["rss_peak_mib"] - f["rss_before_mib"] for f in figures)
        best["rss_peak_mib"] = max(f["rss_peak_mib"] for f in figures)
        best["max_diff"] = max(f["max_diff"] for f in figures)
        best["computed"] = computed_fraction(tile_size)
        results.append(best)

    base = results[0]
    print(f"\nLR {LR_WIDTH}x{LR_HEIGHT} -> SR {base['output_shape'][1]}x{base['output_shape'][0]} (WxH), input: "
          f"{base['source']}; paper generator (random init), CPU, {base['threads']} threads, "
          f"best of {args.repeats}\n")
    header = (f"{'tiling':<16}{'LR px run':>10}{'time (s)':>10}{'x time':>8}{'inference peak (MiB)':>22}"
              f"{'x memory':>10}{'process peak (MiB)':>20}{'max |diff|':>12}")
    print(header)
    print("-" * len(header))
    for figures in results:
        label = f"tiles {figures['tile_size']} LR px" if figures["tile_size"] else "whole image"
        print(f"{label:<16}{figures['computed']:>10.2f}{figures['seconds']:>10.1f}"
              f"{figures['seconds'] / base['seconds']:>8.2f}{figures['extra_mib']:>22.0f}"
              f"{figures['extra_mib'] / base['extra_mib']:>10.2f}{figures['rss_peak_mib']:>20.0f}"
              f"{figures['max_diff']:>12d}")
    print("\nLR px run = LR pixels the generator processes (tiles with their overlap) / LR pixels of the image;"
          "\ninference peak = peak resident memory after inference minus before it (model and input loaded);"
          "\nmax |diff| = largest grey-level difference from the whole-image output (0 = identical).")


def computed_fraction(tile_size):
    """LR pixels run through the generator, tiles with their context, per LR pixel of the image."""
    if not tile_size:
        return 1.0
    sys.path.insert(0, str(REPO))
    from inference import _balanced_tiles, receptive_field_radius
    from models import Generator

    overlap = receptive_field_radius(Generator())

    def covered(length):
        return sum(min(length, stop + overlap) - max(0, start - overlap)
                   for start, stop in _balanced_tiles(length, tile_size))
    return covered(LR_HEIGHT) * covered(LR_WIDTH) / (LR_HEIGHT * LR_WIDTH)

if __name__ == "__main__":
    main()

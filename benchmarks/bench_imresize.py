"""imresize speed beside PIL's C bicubic, on a DIV2K-sized (2040x1356) RGB image, same run.

PIL is not MATLAB-exact (another kernel, fixed-point arithmetic); it is the speed reference a plain
library call sets. Prints the median of several runs of each and the ratio.

    python benchmarks/bench_imresize.py [--repeats 15]
"""
import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from imresize import imresize  # noqa: E402
from utils import load_image  # noqa: E402

SHARED = Path(os.environ.get("SRGAN_SHARED_DATA", REPO.parent / "shared" / "data"))


def median_seconds(function, repeats):
    function()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    # A real photograph brought to DIV2K's size (2040x1356); random pixels if the images are absent.
    source = SHARED / "Urban100" / "HR" / "img001.png"
    if source.exists():
        hr = np.asarray(Image.fromarray(load_image(source)).resize((2040, 1356), Image.LANCZOS))
    else:
        hr = np.random.default_rng(0).integers(0, 256, (1356, 2040, 3), dtype=np.uint8)
    lr = imresize(hr, scale=0.25)
    cases = [
        ("x1/4 down 2040x1356 -> 510x339", lambda: imresize(hr, scale=0.25),
         lambda: Image.fromarray(hr).resize((510, 339), Image.BICUBIC)),
        ("x4 up    510x339 -> 2040x1356", lambda: imresize(lr, scale=4),
         lambda: Image.fromarray(lr).resize((2040, 1356), Image.BICUBIC)),
    ]
    print(f"median of {args.repeats} runs (uint8 RGB; imresize MATLAB-exact, PIL not)")
    print(f"{'case':34s} {'imresize':>10s} {'PIL':>10s} {'ratio':>7s}")
    for name, ours, pil in cases:
        t_ours, t_pil = median_seconds(ours, args.repeats), median_seconds(pil, args.repeats)
        print(f"{name:34s} {1000 * t_ours:8.1f}ms {1000 * t_pil:8.1f}ms {t_ours / t_pil:6.2f}x")


if __name__ == "__main__":
    main()

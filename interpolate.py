"""Network interpolation (ESRGAN, Wang et al. 2018, section 3.4): one generator whose every weight is
``alpha * adversarial G + (1 - alpha) * PSNR-oriented G``, with ``alpha`` chosen on held-out images.

    python interpolate.py --gan checkpoints/srgan_chosen.pth --psnr checkpoints/srresnet_best.pth \\
        --val-list data_lists/val.csv --output checkpoints/srgan_interp.pth

The two generators must have the same architecture (the SRGAN starts from the SRResNet, so they do). Give one of
``--alpha`` and ``--val-list``. With ``--val-list``, alpha = 0, 0.1, ..., 1 are evaluated on its held-out images
(PSNR, SSIM and the grid and texture scores of ``evaluation``), the table goes to ``<output without .pth>.csv``,
and the largest alpha whose grid score is at most ``--max-grid-ratio`` (default 1.1) times the PSNR model's is
saved: the most of the adversarial model's texture without a grid that the PSNR model does not have. Never choose
alpha on a test set.
Exit status: 0 done, 1 unusable checkpoint, list or arguments (the message names the file).
"""
import argparse
import copy
import os
import sys

from evaluation import evaluate_dataset
from inference import load_generator
from utils import run_main, save_checkpoint, write_csv

SWEEP = tuple(round(0.1 * step, 1) for step in range(11))
COLUMNS = ("alpha", "psnr", "ssim", "grid", "texture")


def interpolate_generators(gan, psnr, alpha):
    """A new generator with the weights ``alpha * gan + (1 - alpha) * psnr``.

    Args:
        gan, psnr: ``models.Generator`` of the same architecture (e.g. from ``inference.load_generator``).
        alpha: a float in [0, 1]: 0 gives ``psnr``'s weights, 1 ``gan``'s. Batch-norm running statistics are
            interpolated too; integer buffers (batches counted) are taken from ``gan``.
    Returns:
        ``models.Generator`` in eval mode on ``gan``'s device; the inputs are not changed.
    Raises:
        ValueError: alpha outside [0, 1], or the two generators' weights differ in names or shapes.
    """
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha={alpha}: must be in [0, 1]")
    a, b = gan.state_dict(), psnr.state_dict()
    if a.keys() != b.keys() or any(a[key].shape != b[key].shape for key in a):
        raise ValueError("the two generators have different architectures: interpolate only an adversarial G "
                         "with the PSNR-oriented G it was started from")
    mixed = {key: alpha * a[key] + (1 - alpha) * b[key].to(a[key].device) if a[key].is_floating_point() else a[key]
             for key in a}
    result = copy.deepcopy(gan)
    result.load_state_dict(mixed)
    return result.eval()


def sweep(gan, psnr, list_path, alphas=SWEEP, progress=True):
    """Evaluate ``interpolate_generators(gan, psnr, alpha)`` on the images of ``list_path`` for each alpha.

    Returns ``[{'alpha', 'psnr', 'ssim', 'grid', 'texture'}]`` (set means, as ``evaluation.evaluate_dataset``)."""
    rows = []
    for alpha in alphas:
        _, summary = evaluate_dataset(interpolate_generators(gan, psnr, alpha), list_path, "val", f"alpha {alpha}",
                                      progress=progress)
        if not summary["images"]:
            raise ValueError(f"{list_path}: no usable images to choose alpha on")
        rows.append({"alpha": alpha, **{key: summary[key] for key in COLUMNS[1:]}})
    return rows


def choose_alpha(rows, max_grid_ratio=1.1):
    """The largest alpha of a ``sweep`` whose grid score is at most ``max_grid_ratio`` times that of alpha 0
    (the PSNR model); rows must include alpha 0."""
    reference = next((row["grid"] for row in rows if row["alpha"] == 0), None)
    if reference is None:
        raise ValueError("the sweep must include alpha 0 (the PSNR model) as the reference grid score")
    return max(row["alpha"] for row in rows if row["grid"] <= max_grid_ratio * reference)


def save_interpolated(generator, path, info):
    """Write a checkpoint that ``inference.load_generator`` reads (atomically): ``{'generator', 'interpolation'}``."""
    save_checkpoint({"generator": generator.state_dict(), "interpolation": info}, path)


def build_parser():
    parser = argparse.ArgumentParser(prog="interpolate.py", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gan", required=True, help="the adversarially trained generator (e.g. srgan_chosen.pth; "
                        "its moving average when it has one)")
    parser.add_argument("--psnr", required=True, help="the PSNR-oriented generator (e.g. srresnet_best.pth)")
    parser.add_argument("--output", required=True, help="the interpolated generator checkpoint to write (.pth)")
    parser.add_argument("--val-list", help="held-out images (data_lists/val.csv) to choose alpha on")
    parser.add_argument("--alpha", type=float, help="use this alpha instead of choosing it")
    parser.add_argument("--max-grid-ratio", type=float, default=1.1,
                        help="largest grid score allowed, relative to the PSNR model's (default %(default)s)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if (args.alpha is None) == (args.val_list is None):
        raise ValueError("give either --val-list (held-out images to choose alpha on) or --alpha, not both")
    if args.val_list and not os.path.isfile(args.val_list):
        raise FileNotFoundError(f"{args.val_list}: no such data list (make it with create_data_lists.py)")
    gan, psnr = load_generator(args.gan, args.device), load_generator(args.psnr, args.device)
    info = {"gan": args.gan, "psnr": args.psnr}
    if args.alpha is None:
        rows = sweep(gan, psnr, args.val_list)
        table = os.path.splitext(args.output)[0] + ".csv"
        write_csv(table, [{key: f"{row[key]:.4f}" for key in COLUMNS} for row in rows], COLUMNS)
        for row in rows:
            print("alpha {alpha:.1f}: {psnr:.2f} dB, grid {grid:.2f}, texture {texture:.2f}".format(**row))
        alpha = choose_alpha(rows, args.max_grid_ratio)
        info.update(val_list=args.val_list, max_grid_ratio=args.max_grid_ratio, table=table)
        print(f"chosen alpha {alpha} (grid at most {args.max_grid_ratio} x the PSNR model's); table: {table}")
    else:
        alpha = args.alpha
    save_interpolated(interpolate_generators(gan, psnr, alpha), args.output, {**info, "alpha": alpha})
    print(f"wrote {args.output} (alpha {alpha})")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))

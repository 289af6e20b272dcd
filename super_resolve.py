"""Super-resolve image files x4 with a trained generator (command line).

    python super_resolve.py --checkpoint checkpoints/srgan_chosen.pth photo.png more_photos/ --output-folder sr/

Every INPUT is an image file or a folder (its image files, not its sub-folders). Each result is written as
``<output folder>/<input name>_x4.png``. Any image format that ``utils.load_image`` reads works: gray,
palette, RGBA (alpha dropped), 16-bit; any size. A file that cannot be read or processed is reported with
its name and the others go on. Exit status: 0 all done, 1 some inputs failed, 2 unusable checkpoint or
arguments. Large images are processed in exact tiles (see ``inference.py``).
"""
import argparse
import os
import sys
import time
from pathlib import Path

from create_data_lists import is_image_file
from inference import load_generator, super_resolve
from utils import load_image, run_main, save_image


def build_parser():
    parser = argparse.ArgumentParser(
        prog="super_resolve.py", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit status: 0 all inputs done, 1 some inputs failed (each one is named), "
               "2 unusable checkpoint or arguments")
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files and/or folders of images")
    parser.add_argument("--checkpoint", required=True, help="generator checkpoint written by training (.pth)")
    parser.add_argument("--output-folder", required=True, help="where the <name>_x4.png results go")
    parser.add_argument("--tile-size", type=int, default=None,
                        help="LR tile side for tiled inference (exact; bounds memory); 0 = whole image; "
                             "default: automatic (tiles only for large images or after a CUDA out-of-memory)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                        help="default: %(default)s (CUDA when available)")
    parser.add_argument("--trained-weights", action="store_true",
                        help="use the checkpoint's trained weights, not the moving average saved beside them "
                             "(training with ema_decay); without one the two are the same")
    return parser


def collect_inputs(inputs):
    """Expand the INPUT arguments into files. Returns ``(files, problems)``; problems are messages."""
    files, problems = [], []
    for entry in map(Path, inputs):
        if entry.is_dir():
            found = sorted(path for path in entry.iterdir() if path.is_file() and is_image_file(path))
            if not found:
                problems.append(f"{entry}: no image files in this folder")
            files += found
        elif entry.is_file():
            files.append(entry)  # named explicitly: tried whatever its extension
        else:
            problems.append(f"{entry}: no such file or folder")
    return files, problems


def check_output_folder(folder):
    """``OSError`` naming ``folder`` when it is a file or cannot be written to (it, or the nearest existing folder
    above it, where it would be made). Makes nothing: ``main`` makes it once the checkpoint has loaded."""
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"{folder}: the output folder is a file")
    existing = next(path for path in (folder.absolute(), *folder.absolute().parents) if path.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"{folder}: the output folder is not writable")


def main(argv=None):
    """Command-line entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.tile_size is not None and args.tile_size < 0:
        print("error: --tile-size must be >= 0", file=sys.stderr)
        return 2
    output_folder = Path(args.output_folder)
    try:
        check_output_folder(output_folder)
        generator = load_generator(args.checkpoint, args.device, moving_average=not args.trained_weights)
        output_folder.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    files, failures = collect_inputs(args.inputs)
    for problem in failures:
        print(f"error: {problem}", file=sys.stderr)
    written = set()
    for path in files:
        target = output_folder / f"{path.stem}_x4.png"
        try:
            if target in written:
                raise ValueError(f"another input has the name {path.stem!r}; its result {target} would be overwritten")
            lr = load_image(path)  # ValueError naming the file when it is not a readable image
            start = time.perf_counter()
            sr = super_resolve(generator, lr, tile_size=args.tile_size)
            save_image(target, sr)
            written.add(target)
            print(f"{path} ({lr.shape[1]}x{lr.shape[0]}) -> {target} ({sr.shape[1]}x{sr.shape[0]}), "
                  f"{time.perf_counter() - start:.2f} s")
        except Exception as error:  # report any failure with the file's name and go on with the others
            message = str(error) if str(path) in str(error) else f"{path}: {error}"
            print(f"error: {message}", file=sys.stderr)
            failures.append(message)
    print(f"{len(written)} image(s) written to {output_folder}" + (f", {len(failures)} failed" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(run_main(main))

"""Make the CSV lists of training, validation and test images that ``datasets.py`` reads.

Run ``python create_data_lists.py --help`` for the options. The data root is laid out as::

    <root>/DIV2K_train_HR/0001.png         <root>/DIV2K_train_LR_bicubic/X4/0001x4.png   (official DIV2K)
    <root>/DIV2K_valid_HR/0801.png         <root>/DIV2K_valid_LR_bicubic/X4/0801x4.png
    <root>/<Set>/HR/<name>.png             <root>/<Set>/LR_bicubic/X4/<name>x4.png        (LR optional)
    <root>/train/<Extra>/HR/<name>.png     [<root>/train/<Extra>/LR_bicubic/X4/<name>x4.png] (extra training)

Every CSV has the columns ``hr_path,lr_path,hr_height,hr_width``: absolute paths, and the size of the HR
file as stored (before the modcrop to a multiple of 4). ``lr_path`` is empty when there is no LR file: the
datasets then make the LR with the MATLAB-exact ``imresize`` from the modcropped HR, which reproduces
MATLAB's LR files bit for bit.

Only image headers are read for the sizes (no pixel decoding), plus, unless ``--no-verify``, PIL's
``verify()`` (for PNG: every chunk's checksum, no decompression), which catches truncated or damaged files.
Files that cannot be used (unreadable, wrong LR size, too small, LR without HR) are printed with the
reason and counted; they never silently go into or vanish from a list.

Importable functions: ``scan_data_root``, ``write_data_lists``, ``main`` (``--make-sample-data``:
``sample_data.make_sample_data``)
(``datasets.read_data_list`` reads the lists back).
"""
import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from datasets import CSV_COLUMNS
from sample_data import make_sample_data
from utils import DEFAULT_TEST_SETS, SCALE, lr_size, run_main, write_csv

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
DIV2K_VALID = DEFAULT_TEST_SETS[0]

class DataListError(ValueError):
    """A problem that makes the data lists unusable (no training images, missing data root, ...)."""


@dataclass
class DataListSummary:
    """What ``scan_data_root`` found; ``write_data_lists`` adds the files it wrote.

    Rows are dicts ``{'hr_path': str, 'lr_path': str ('' = make LR with imresize), 'hr_height': int,
    'hr_width': int}``.
    """
    data_root: str
    train: list = field(default_factory=list)
    val: list = field(default_factory=list)
    val_source: str = "none"                            # where val.csv comes from, in words
    test_sets: dict = field(default_factory=dict)       # name -> rows, for the test sets present
    missing_test_sets: list = field(default_factory=list)
    skipped: list = field(default_factory=list)         # (path, reason): files or folders left out
    notes: list = field(default_factory=list)           # (path, remark): kept, but worth knowing
    errors: list = field(default_factory=list)          # fatal problems: no lists are written
    written: dict = field(default_factory=dict)         # csv file name -> absolute path


# ----------------------------------------------------------------------------------------------
# Scanning folders
# ----------------------------------------------------------------------------------------------
def is_image_file(path):
    """True for the image extensions this project reads (case-insensitive)."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def read_image_size(path, verify=True):
    """``(height, width)`` of an image file from its header, without decoding the pixels.

    With ``verify``, PIL's ``verify()`` also checks the file's integrity (PNG: chunk checksums and
    completeness, no decompression). Raises ``ValueError`` naming the file when it is not a usable image.
    """
    try:
        with Image.open(path) as image:
            width, height = image.size
            mode = image.mode
            if verify:
                image.verify()
    except Exception as error:  # PIL raises many types (OSError, SyntaxError, struct.error, ...) for bad files
        raise ValueError(f"{path}: not a readable image ({type(error).__name__}: {error})") from error
    if mode == "F":
        raise ValueError(f"{path}: floating-point images (PIL mode 'F') are not supported")
    if width < 1 or height < 1:
        raise ValueError(f"{path}: empty image ({height}x{width})")
    return height, width


def lr_folder_for(hr_folder, scale=SCALE):
    """The LR folder that goes with an HR folder: ``.../X/HR`` -> ``.../X/LR_bicubic/X4`` and
    ``.../DIV2K_train_HR`` -> ``.../DIV2K_train_LR_bicubic/X4``; None for other names."""
    hr_folder = Path(hr_folder)
    if hr_folder.name == "HR":
        return hr_folder.parent / "LR_bicubic" / f"X{scale}"
    if hr_folder.name.endswith("_HR"):
        return hr_folder.parent / f"{hr_folder.name[:-3]}_LR_bicubic" / f"X{scale}"
    return None


def test_set_folders(data_root, name, scale=SCALE):
    """``(hr_folder, lr_folder)`` of a test set: DIV2K-valid has the official DIV2K names, any other name
    ``<root>/<name>/HR`` and ``<root>/<name>/LR_bicubic/X4``."""
    root = Path(data_root)
    hr_folder = root / "DIV2K_valid_HR" if name == DIV2K_VALID else root / name / "HR"
    return hr_folder, lr_folder_for(hr_folder, scale)


def default_train_folders(data_root):
    """``DIV2K_train_HR`` when present, then every ``train/*/HR`` (sorted by name)."""
    root = Path(data_root)
    folders = [root / "DIV2K_train_HR"] if (root / "DIV2K_train_HR").is_dir() else []
    if (root / "train").is_dir():
        folders += sorted(path / "HR" for path in (root / "train").iterdir() if (path / "HR").is_dir())
    return folders


def _list_image_files(folder, skipped):
    """Sorted image files of a folder; other files are recorded in ``skipped``. Sub-folders are ignored."""
    files = []
    for path in sorted(Path(folder).iterdir()):
        if path.is_dir():
            continue
        if is_image_file(path):
            files.append(path)
        else:
            skipped.append((str(path), f"not an image file (extension not one of {', '.join(IMAGE_EXTENSIONS)})"))
    return files


def scan_image_folder(hr_folder, lr_folder=None, scale=SCALE, min_size=None, verify=True):
    """List the usable HR (and LR) images of one folder.

    Args:
        hr_folder: folder of HR images.
        lr_folder: folder of LR images named ``<hr stem>x<scale>.<ext>``, or None / a missing folder.
        scale: the downscaling factor; an LR must be ``floor(HR / scale)`` in both dimensions.
        min_size: for training images, the crop size: the modcropped HR must be at least this big.
        verify: check each file's integrity (see ``read_image_size``).

    Returns:
        ``(rows, skipped, notes)``: rows sorted by HR file name, and ``(path, reason)`` lists.
    """
    rows, skipped, notes = [], [], []
    hr_files = _list_image_files(hr_folder, skipped)
    lr_files = {}
    has_lr_folder = lr_folder is not None and Path(lr_folder).is_dir()
    if has_lr_folder:
        for path in _list_image_files(lr_folder, skipped):
            lr_files[path.stem] = path
    used_lr, seen_stems = set(), set()

    for hr_path in hr_files:
        if hr_path.stem in seen_stems:
            skipped.append((str(hr_path), f"another HR image in {hr_folder} has the name {hr_path.stem!r}"))
            continue
        seen_stems.add(hr_path.stem)
        lr_stem = f"{hr_path.stem}x{scale}"
        lr_path = lr_files.get(lr_stem)
        if lr_path is not None:
            used_lr.add(lr_stem)
        try:
            rows.append(_checked_row(hr_path, lr_path, scale, min_size, verify))
        except ValueError as error:
            skipped.append((str(hr_path), str(error)))
            continue
        if lr_path is None and has_lr_folder:
            notes.append((str(hr_path), f"no LR file {lr_stem}.* in {lr_folder}: LR will be made with imresize"))

    for lr_stem in sorted(set(lr_files) - used_lr):
        skipped.append((str(lr_files[lr_stem]), f"LR file with no HR image (expected <name>x{scale}.* with <name>.* "
                                                f"in {hr_folder})"))
    return rows, skipped, notes


def _checked_row(hr_path, lr_path, scale, min_size, verify):
    """The data-list row of one HR image (and its LR file, or None); ``ValueError`` with the reason to skip it:
    unreadable, smaller than the scale or the training crop, or an LR whose size is not ``floor(HR / scale)``."""
    try:
        height, width = read_image_size(hr_path, verify)
    except ValueError as error:
        raise ValueError(str(error).replace(f"{hr_path}: ", "")) from error
    crop_h, crop_w = height - height % scale, width - width % scale
    if crop_h < scale or crop_w < scale:
        raise ValueError(f"HR {height}x{width} (HxW) is smaller than the scale {scale}")
    if min_size is not None and (crop_h < min_size or crop_w < min_size):
        raise ValueError(f"too small for a {min_size}x{min_size} training crop: HR {height}x{width} (HxW), "
                         f"{crop_h}x{crop_w} after modcrop")
    if lr_path is not None:
        try:
            lr_height, lr_width = read_image_size(lr_path, verify)
        except ValueError as error:
            raise ValueError(f"its LR file is unusable: {error}") from error
        expected = lr_size((height, width), scale)
        if (lr_height, lr_width) != expected:
            raise ValueError(f"LR {lr_path} is {lr_height}x{lr_width} (HxW) but HR {height}x{width} needs "
                             f"{expected[0]}x{expected[1]} (floor(HR / {scale}))")
    return {"hr_path": os.path.abspath(hr_path), "lr_path": os.path.abspath(lr_path) if lr_path else "",
            "hr_height": height, "hr_width": width}


def scan_data_root(data_root, test_sets=DEFAULT_TEST_SETS, train_folders=None, val_images=10, crop_size=96,
                   scale=SCALE, verify=True, log=print):
    """Find the training, validation and test images under ``data_root`` (layout: module docstring).

    Args:
        data_root: the data folder.
        test_sets: names of test sets; ``DIV2K-valid`` means ``DIV2K_valid_HR``, any other name ``<root>/<name>/HR``.
        train_folders: HR folders for training (absolute or relative to ``data_root``); None = the default
            (``DIV2K_train_HR`` if present plus every ``train/*/HR``).
        val_images: size of the validation list: the first ``val_images`` of DIV2K-valid when it is present
            (left out of the DIV2K-valid test list), else the last ``val_images`` training images, removed from
            the training list (held out). 0 = no validation images.
        crop_size: HR training crop; smaller training images (after modcrop) are skipped.
        scale: the super-resolution factor (LR folder ``X<scale>``, LR names ``<name>x<scale>``).
        verify: check file integrity, not only headers (see ``read_image_size``).
        log: a ``print``-like function for the messages (None = silent).

    Returns:
        A ``DataListSummary``. Problems that make the lists unusable are in its ``errors`` (nothing raised).
    """
    log = log or (lambda *args, **kwargs: None)
    root = Path(data_root)
    summary = DataListSummary(data_root=os.path.abspath(root))
    if not root.is_dir():
        summary.errors.append(f"data root {summary.data_root} is not a folder")
        return summary

    def report(label, rows, skipped, notes):
        for path, reason in skipped:
            log(f"  skipped {path}: {reason}")
        for path, remark in notes:
            log(f"  note: {path}: {remark}")
        summary.skipped += skipped
        summary.notes += notes
        log(f"{label}: {len(rows)} images" + (f", {len(skipped)} skipped" if skipped else ""))

    folders = _scan_train_folders(root, train_folders, crop_size, scale, verify, summary, report, log)
    div2k_valid_rows = _scan_test_sets(root, test_sets, scale, verify, summary, report, log)
    _choose_validation(summary, val_images, div2k_valid_rows)
    if not summary.train and not summary.errors:
        summary.errors.append(f"no usable training images under {summary.data_root} "
                              f"(training folders: {', '.join(str(f) for f in folders) or 'none found'})")
    return summary


def _scan_train_folders(root, train_folders, crop_size, scale, verify, summary, report, log):
    """Add the training folders' rows (in the given order; files sorted by name) to ``summary.train``;
    returns the folders."""
    folders = default_train_folders(root) if train_folders is None else [root / folder for folder in train_folders]
    for folder in folders:  # root / absolute path == the absolute path
        if not folder.is_dir():
            summary.skipped.append((str(folder), "training folder not found"))
            log(f"  skipped {folder}: training folder not found")
            continue
        lr_folder = lr_folder_for(folder, scale)
        rows, skipped, notes = scan_image_folder(folder, lr_folder, scale, min_size=crop_size, verify=verify)
        summary.train += rows
        report(f"train folder {folder}", rows, skipped, notes)
    return folders


def _scan_test_sets(root, test_sets, scale, verify, summary, report, log):
    """Add each test set's rows to ``summary.test_sets`` (or its name to ``missing_test_sets``); DIV2K-valid is
    scanned when present even if not named, as it provides val.csv. Returns DIV2K-valid's rows (or None)."""
    names = list(dict.fromkeys(test_sets))
    div2k_valid_rows = None
    for name in names + ([DIV2K_VALID] if DIV2K_VALID not in names else []):
        hr_folder, lr_folder = test_set_folders(root, name, scale)
        if not hr_folder.is_dir():
            if name in names:
                summary.missing_test_sets.append(name)
                log(f"test set {name}: missing (no folder {hr_folder}); no CSV written")
            continue
        rows, skipped, notes = scan_image_folder(hr_folder, lr_folder, scale, min_size=None, verify=verify)
        if name == DIV2K_VALID:
            div2k_valid_rows = rows
        if name not in names:
            report(f"{DIV2K_VALID} (for validation only)", rows, skipped, notes)
        elif rows:
            summary.test_sets[name] = rows
            report(f"test set {name}", rows, skipped, notes)
        else:
            summary.missing_test_sets.append(name)
            report(f"test set {name}: no usable images in {hr_folder}; no CSV written", rows, skipped, notes)
    return div2k_valid_rows


def _choose_validation(summary, val_images, div2k_valid_rows):
    """Fill ``summary.val``: the first ``val_images`` of DIV2K-valid when present (left out of the DIV2K-valid test
    list: the images that choose epochs and settings are never tested on), else the last training images, held
    out (an error in ``summary.errors`` when that would leave fewer training images than it takes)."""
    if val_images > 0 and div2k_valid_rows:
        summary.val = div2k_valid_rows[:val_images]
        summary.val_source = f"the first {len(summary.val)} images of {DIV2K_VALID}"
        if DIV2K_VALID in summary.test_sets:
            summary.val_source += f", left out of {DIV2K_VALID}.csv"
            summary.test_sets[DIV2K_VALID] = div2k_valid_rows[val_images:]
            if not summary.test_sets[DIV2K_VALID]:  # every image validates: no test list rather than an empty one
                del summary.test_sets[DIV2K_VALID]
                summary.missing_test_sets.append(DIV2K_VALID)
    elif val_images > 0 and summary.train:
        count = len(summary.train)
        if count < 2 * val_images:
            summary.errors.append(f"only {count} training images: holding out {val_images} for validation would "
                                  f"leave {max(count - val_images, 0)} to train on (use --val-images {count // 2} "
                                  f"or fewer)")
        else:
            summary.val = summary.train[-val_images:]
            summary.train = summary.train[:-val_images]
            summary.val_source = f"held out: the last {val_images} training images, removed from train.csv"


# ----------------------------------------------------------------------------------------------
# Writing and reading the CSV files
# ----------------------------------------------------------------------------------------------
def write_data_lists(data_root, output_folder="data_lists", test_sets=DEFAULT_TEST_SETS, train_folders=None,
                     val_images=10, crop_size=96, scale=SCALE, verify=True, log=print):
    """Scan ``data_root`` (see ``scan_data_root`` for the arguments) and write the CSV lists.

    Writes ``train.csv``, ``val.csv`` and ``<test set>.csv`` for each test set present into
    ``output_folder``; an old CSV of a test set that is now missing is removed, so no stale list remains.

    Returns:
        The ``DataListSummary``, with ``written`` filled in.
    Raises:
        DataListError: when the lists would be unusable (e.g. no training images); nothing is written then.
    """
    log = log or (lambda *args, **kwargs: None)
    output = Path(output_folder)
    if output.exists() and not output.is_dir():  # before the scan, which verifies every image (minutes on DIV2K)
        raise DataListError(f"{output}: the output folder is a file")
    summary = scan_data_root(data_root, test_sets, train_folders, val_images, crop_size, scale, verify, log)
    if summary.errors:
        raise DataListError("; ".join(summary.errors))

    output.mkdir(parents=True, exist_ok=True)
    lists = {"train.csv": summary.train, "val.csv": summary.val}
    lists.update({f"{name}.csv": rows for name, rows in summary.test_sets.items()})
    for file_name, rows in lists.items():
        write_csv(output / file_name, rows, CSV_COLUMNS)
        summary.written[file_name] = os.path.abspath(output / file_name)
    for name in summary.missing_test_sets:
        stale = output / f"{name}.csv"
        if stale.exists():
            stale.unlink()
            log(f"removed the old {stale}: no {name} test list now")

    log(f"\nData lists from {data_root} written to {output}:")  # as given: a notebook's output shows no machine's paths
    for file_name, rows in lists.items():
        from_files = sum(1 for row in rows if row["lr_path"])
        detail = f"{from_files} LR files, {len(rows) - from_files} LR made with imresize"
        if file_name == "val.csv":
            detail = summary.val_source if rows else "empty (--val-images 0)"
        log(f"  {file_name:<16} {len(rows):5d} images  ({detail})")
    for name in summary.missing_test_sets:
        log(f"  {name + '.csv':<16}   missing (not written)")
    log(f"  skipped: {len(summary.skipped)}" + (" (files or folders; reasons above)" if summary.skipped else ""))
    if summary.notes:
        log(f"  notes: {len(summary.notes)} (above)")
    return summary


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------
def build_parser():
    parser = argparse.ArgumentParser(
        prog="create_data_lists.py",
        description="Make the CSV lists (train.csv, val.csv, one per test set) of the SRGAN x4 images.\n"
                    "Columns: hr_path,lr_path,hr_height,hr_width (absolute paths; an empty lr_path means\n"
                    "the LR is made with the MATLAB-exact imresize from the HR cropped to a multiple of 4).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="data root layout:\n"
               "  DIV2K_train_HR/0001.png       DIV2K_train_LR_bicubic/X4/0001x4.png\n"
               "  DIV2K_valid_HR/0801.png       DIV2K_valid_LR_bicubic/X4/0801x4.png\n"
               "  <Set>/HR/<name>.png           <Set>/LR_bicubic/X4/<name>x4.png   (LR optional)\n"
               "  train/<Extra>/HR/<name>.png   (extra training images, e.g. train/T91/HR)\n"
               f"image files: {' '.join(IMAGE_EXTENSIONS)}. Unusable files are listed with the reason.\n"
               "exit status: 0 lists written, 2 the lists would be unusable (e.g. no training images) or\n"
               "the output folder is a file, 1 another problem with a file or folder (named).\n\n"
               "no data? python create_data_lists.py --make-sample-data sample_data\n"
               "         python create_data_lists.py --data-root sample_data --test-sets Sample --val-images 1")
    parser.add_argument("--data-root", default=os.environ.get("SRGAN_DATA_ROOT", "./data"),
                        help="folder with the images (default: $SRGAN_DATA_ROOT, else ./data)")
    parser.add_argument("--output-folder", default="./data_lists", help="where the CSVs go (default: %(default)s)")
    parser.add_argument("--test-sets", nargs="+", default=list(DEFAULT_TEST_SETS), metavar="NAME",
                        help="test sets: DIV2K-valid (= DIV2K_valid_HR) or any <root>/<NAME>/HR folder; a missing "
                             "one is reported and gets no CSV (default: %(default)s)")
    parser.add_argument("--train-folders", nargs="+", default=None, metavar="FOLDER",
                        help="HR folders to train on, relative to the data root or absolute (default: "
                             "DIV2K_train_HR if present plus every train/*/HR)")
    parser.add_argument("--val-images", type=int, default=10,
                        help="validation images (val.csv): the first N of DIV2K-valid when present (left out of "
                             "DIV2K-valid.csv: no image that chose the model is tested on); otherwise the last "
                             "N training images, held out (removed from train.csv, never a test set). "
                             "0 = none (default: %(default)s)")
    parser.add_argument("--crop-size", type=int, default=96,
                        help="HR training crop; training images smaller than it after cropping to a multiple "
                             "of 4 are skipped (default: %(default)s)")
    parser.add_argument("--no-verify", action="store_true",
                        help="read only the image headers; skips the integrity check (faster on a slow disk)")
    parser.add_argument("--make-sample-data", metavar="DIR",
                        help="write scikit-image's sample photographs as a small data root in DIR "
                             "(train/skimage/HR and test set Sample), then exit")
    return parser


def main(argv=None):
    """Command-line entry point; returns the exit status (0 ok, 2 unusable lists; ``run_main``: 1 a file problem)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.val_images < 0:
        parser.error("--val-images must be >= 0")
    if args.crop_size < SCALE or args.crop_size % SCALE:
        parser.error(f"--crop-size must be a positive multiple of {SCALE}")
    if args.make_sample_data:
        make_sample_data(args.make_sample_data)
        print(f"next: python create_data_lists.py --data-root {args.make_sample_data} --test-sets Sample "
              f"--val-images 1")
        return 0
    try:
        write_data_lists(args.data_root, args.output_folder, test_sets=args.test_sets,
                         train_folders=args.train_folders, val_images=args.val_images, crop_size=args.crop_size,
                         verify=not args.no_verify)
    except DataListError as error:
        print(f"error: {error}; no lists written", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))

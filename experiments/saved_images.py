"""The command-line arguments that name the models whose images an experiment reads (dark_grain.py,
border_texture.py): saved folders (``--model LABEL=FOLDER``) and generator checkpoints (``--checkpoint LABEL=PATH``,
super-resolved first with ``inference.write_set_images``), over one data list (``--list``) and an output folder."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from inference import write_set_images  # noqa: E402


def add_arguments(parser):
    """Add ``--list``, ``--model``, ``--checkpoint`` and ``--out`` to an ``argparse`` parser."""
    parser.add_argument("--list", required=True, help="a data list (hr_path column), e.g. Set5's or the held-out one")
    parser.add_argument("--model", action="append", default=[], metavar="LABEL=FOLDER",
                        help="a model's saved images, <FOLDER>/<name>.png (repeat)")
    parser.add_argument("--checkpoint", action="append", default=[], metavar="LABEL=PATH",
                        help="a generator checkpoint: its images are made first, into <out>/images/<LABEL> (repeat)")
    parser.add_argument("--out", required=True)


def image_folders(parser, args):
    """``{label: folder or None}``: ``"HR": None`` first (the list's own images), then each ``--model``'s folder and
    each ``--checkpoint``'s images, written to ``<out>/images/<label>``. Neither given: the parser's usage error."""
    if not args.model and not args.checkpoint:
        parser.error("give at least one --model or --checkpoint")
    models = dict(item.split("=", 1) for item in args.model)
    checkpoints = dict(item.split("=", 1) for item in args.checkpoint)
    models.update(write_set_images(checkpoints, args.list, Path(args.out) / "images"))
    return {"HR": None, **models}

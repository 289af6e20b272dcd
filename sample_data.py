"""A tiny built-in data set for users without the real ones: scikit-image's sample photographs, written as a data
root that ``create_data_lists.py`` reads (``python create_data_lists.py --make-sample-data DIR``, and ``demo.py``).
No network is needed: the photographs ship with scikit-image.
"""
import os
from pathlib import Path

import numpy as np

from imresize import imresize
from utils import SCALE, load_image, modcrop, save_image

# scikit-image's colour sample photographs that load without a network download (scikit-image 0.26); its
# gray ones are left out: a model trained mostly on gray images gives nearly gray results.
SAMPLE_TEST_IMAGES = ("astronaut", "coffee", "chelsea")
# The last by name (rocket) is the one create_data_lists holds out to validate: a scene no training image shows
# (the two views of stereo_motorcycle sort before it).
SAMPLE_TRAIN_IMAGES = ("hubble_deep_field", "immunohistochemistry", "motorcycle_left", "motorcycle_right", "retina",
                       "rocket")


def _load_skimage_sample(name):
    """A scikit-image sample photograph as ``uint8`` ``HxW`` or ``HxWx3`` (raises when it needs a download);
    ``motorcycle_left`` / ``_right`` are the two views of ``stereo_motorcycle``."""
    import skimage.data
    if name.startswith("motorcycle_"):
        image = skimage.data.stereo_motorcycle()[int(name.endswith("right"))]  # (left, right, disparity)
    else:
        image = getattr(skimage.data, name)()
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"skimage.data.{name} is not a uint8 photograph ({image.dtype}, {image.shape})")
    return image[:, :, :3] if image.ndim == 3 else image


def make_sample_data(root, log=print):
    """Write scikit-image's bundled sample photographs as a tiny data root (no network needed).

    Training images go to ``root/train/skimage/HR/<name>.png``; three photos are held out as the test
    set ``Sample``: ``root/Sample/HR/<name>.png`` and ``root/Sample/LR_bicubic/X4/<name>x4.png`` (LR made
    with ``imresize`` from the modcropped HR). Then ``create_data_lists.py --data-root root --test-sets
    Sample --val-images 1`` works (6 colour training images: hold out only one for validation).
    Idempotent: existing files are kept; files are written atomically. Other images in the script's own
    ``train/skimage/HR`` (an older version's names) are removed, so the folder holds exactly this set.

    Returns:
        ``{'train': [HR paths], 'test': [HR paths]}`` of the images now in place.
    """
    log = log or (lambda *args, **kwargs: None)
    root = Path(root)
    written = {"train": [], "test": []}
    for split, names in (("test", SAMPLE_TEST_IMAGES), ("train", SAMPLE_TRAIN_IMAGES)):
        hr_folder = root / ("Sample/HR" if split == "test" else "train/skimage/HR")
        for name in names:
            hr_path = hr_folder / f"{name}.png"
            if not hr_path.exists():
                try:
                    image = _load_skimage_sample(name)
                except Exception as error:  # e.g. a sample that needs a download (pooch) offline
                    log(f"  skipped skimage.data.{name}: {type(error).__name__}: {str(error).splitlines()[0]}")
                    continue
                save_image(hr_path, image)
            if split == "test":
                lr_path = root / "Sample" / "LR_bicubic" / f"X{SCALE}" / f"{name}x{SCALE}.png"
                if not lr_path.exists():
                    hr = modcrop(load_image(hr_path), SCALE)
                    save_image(lr_path, imresize(hr, 1 / SCALE))
            written[split].append(str(hr_path))
    train_folder = root / "train" / "skimage" / "HR"
    for stale in sorted(set(train_folder.glob("*.png")) - {Path(path) for path in written["train"]}):
        stale.unlink()
        log(f"  removed {stale}: not one of this version's sample photographs")
    if not written["train"]:
        raise OSError("no scikit-image sample photograph could be loaded (the log names each one's error)")
    log(f"sample data in {os.path.abspath(root)}: {len(written['train'])} training images, "
        f"{len(written['test'])} test images (set 'Sample')")
    return written

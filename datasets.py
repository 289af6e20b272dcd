"""PyTorch datasets for SRGAN x4: random training patches and whole test images.

Design of ``TrainDataset`` (decode once, crop many, mix every batch):

* Decoding a 2K PNG takes far longer than cutting a 96x96 crop from it, so an image is decoded once and
  cropped many times: HR read, cropped at the top-left to a multiple of 4 (modcrop), LR read from its
  file when the list has one, else made with the MATLAB-exact ``imresize(hr, 1/4)`` of the *whole*
  modcropped HR (as the LR files were made). A patch is an aligned random crop: the LR crop at ``(y, x)``
  of size ``crop/4`` and the HR crop at ``(4y, 4x)`` of size ``crop``.
* Every image gives ``patches_per_image`` patches per epoch, and a batch should mix as many images as
  uniform sampling would (a batch from a few images gives a poorer gradient and batch-norm statistics:
  report.md). ``pool_size="all"`` (for sets that fit in memory, such as T91 + BSDS200) decodes the whole
  list once and draws the epoch's patches in a random order over all images. ``pool_size=N`` (for DIV2K)
  bounds memory: each worker keeps a pool of N decoded images and draws each patch from a random one; an
  image whose patches are used up leaves the pool and the next one of the epoch is decoded in its place.
* The epoch's order (of patches with ``"all"``, of images with a pool) is the same on every DDP rank and
  worker, then split by rank (``rank::world_size``, padded by repeating entries, as ``DistributedSampler``
  does, so every rank yields the same number of patches) and by DataLoader worker (``worker::num_workers``).
  Each worker batches its own share: with ``drop_last`` a share that is not a multiple of the batch loses its
  last partial batch, so an epoch runs ``batches(batch_size, num_workers)`` updates, not all patches / batch.
* Everything random comes from ``numpy.random.Generator`` objects seeded by ``(seed, epoch)`` (the order)
  and ``(seed, epoch, rank, worker)`` (pool draws, crop positions, augmentation); the global RNGs are never
  used. So an epoch is bit-exact reproducible, e.g. when training resumes. Call ``set_epoch(epoch)`` before
  iterating, as with ``DistributedSampler``; with ``persistent_workers=True`` the workers keep their own
  copy of the dataset and would not see it, so leave that option off.

Value ranges (as the paper): ``lr`` float32 ``(3, crop/4, crop/4)`` in [0, 1] (generator input), ``hr``
float32 ``(3, crop, crop)`` in [-1, 1] (target, like the generator's tanh output).

``TestDataset`` returns whole images as ``uint8`` numpy arrays (LR ``HxWx3``, modcropped HR
``4Hx4Wx3``) for evaluation with ``metrics.calc_psnr``/``calc_ssim``.
"""
import csv
import math
import os
from collections import deque
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from imresize import imresize
from utils import SCALE, convert_image, load_image, lr_size, modcrop

# The columns of a data list (create_data_lists.py writes them; read_data_list reads them).
CSV_COLUMNS = ("hr_path", "lr_path", "hr_height", "hr_width")


def read_data_list(csv_path):
    """Read a CSV written by ``write_data_lists``.

    Returns:
        A list of dicts ``{'hr_path': str, 'lr_path': str ('' = none), 'hr_height': int, 'hr_width': int}``.
    Raises:
        FileNotFoundError / ValueError: naming the CSV (and line), when it is missing or malformed.
    """
    csv_path = os.fspath(csv_path)
    if not os.path.isfile(csv_path):
        raise FileNotFoundError(f"{csv_path}: data list not found (make it with create_data_lists.py)")
    with open(csv_path, newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
            raise ValueError(f"{csv_path}: not a data list: header {reader.fieldnames}, expected "
                             f"{','.join(CSV_COLUMNS)}")
        rows = []
        for row in reader:
            try:
                if not row["hr_path"] or None in row or None in row.values():
                    raise ValueError("wrong number of fields or empty hr_path")
                height, width = int(row["hr_height"]), int(row["hr_width"])
                if height < 1 or width < 1:
                    raise ValueError(f"sizes must be positive, got {height}x{width}")
            except (TypeError, ValueError) as error:
                raise ValueError(f"{csv_path}, line {reader.line_num}: bad row ({error})") from error
            rows.append({"hr_path": row["hr_path"], "lr_path": row["lr_path"], "hr_height": height,
                         "hr_width": width})
    return rows


def _as_rows(list_path_or_rows):
    """A CSV path (read with ``read_data_list``) or a list of row dicts -> list of row dicts."""
    if isinstance(list_path_or_rows, (str, os.PathLike)):
        return read_data_list(list_path_or_rows)
    rows = []
    for row in list_path_or_rows:
        if not row.get("hr_path"):
            raise ValueError(f"data list row without an hr_path: {row}")
        rows.append({"hr_path": str(row["hr_path"]), "lr_path": str(row.get("lr_path") or ""),
                     "hr_height": row.get("hr_height"), "hr_width": row.get("hr_width")})
    return rows


def load_lr_hr(row, scale=SCALE):
    """Decode one listed image pair.

    Args:
        row: a data-list row (``hr_path``, ``lr_path`` ('' = none), optional ``hr_height``/``hr_width``).
        scale: the super-resolution factor.
    Returns:
        ``(lr, hr)``: ``uint8`` arrays ``HxWx3`` and ``(scale*H)x(scale*W)x3``; HR modcropped, LR from the
        LR file or ``imresize(hr, 1/scale)``.
    Raises:
        ValueError: naming the file, when it is unreadable, has changed size since the list was made, or
        the LR size is not ``floor(HR / scale)``.
    """
    hr_path, lr_path = row["hr_path"], row["lr_path"]
    hr = load_image(hr_path)
    listed = (row.get("hr_height") or None, row.get("hr_width") or None)  # None or "" = not listed
    if None not in listed and tuple(int(v) for v in listed) != hr.shape[:2]:
        raise ValueError(f"{hr_path}: image is {hr.shape[0]}x{hr.shape[1]} (HxW) but the data list says "
                         f"{listed[0]}x{listed[1]}; run create_data_lists.py again")
    hr = modcrop(hr, scale)
    if hr.shape[0] == 0 or hr.shape[1] == 0:
        raise ValueError(f"{hr_path}: image smaller than the scale {scale}")
    expected = lr_size(hr.shape, scale)
    if lr_path:
        lr = load_image(lr_path)
        if lr.shape[:2] != expected:
            raise ValueError(f"{lr_path}: LR is {lr.shape[0]}x{lr.shape[1]} (HxW) but its HR {hr_path} needs "
                             f"{expected[0]}x{expected[1]} (floor(HR / {scale}))")
    else:
        lr = imresize(hr, 1 / scale)
    return lr, hr


class TrainDataset(IterableDataset):
    """Random aligned (LR, HR) training patches, each image decoded once (module docstring).

    Args:
        list_path_or_rows: a CSV from ``create_data_lists.py`` or a list of its row dicts.
        crop_size: HR patch size (a multiple of ``scale``); the LR patch is ``crop_size // scale``.
        scale: the super-resolution factor.
        patches_per_image: patches cut from each image per epoch (the assignment: 100).
        augment: one of the eight flips/rotations of each patch, at random, the same for LR and HR
            (the paper does not augment: default off).
        seed: base seed (>= 0) of every random choice.
        pool_size: ``"all"``: decode the whole list once, here, and keep it (memory: the decoded LR + HR of
            every image; about 130 MB for T91 + BSDS200); every patch of an epoch then comes from a uniformly
            random image. A number: decoded images each worker holds at once, re-decoded every epoch (for sets
            too large to keep, such as DIV2K: 32 images of 2K are about 0.3 GB).
        rank, world_size: this process's DDP rank and the number of ranks.

    Yields:
        ``(lr, hr)``: float32 tensors ``(3, crop/scale, crop/scale)`` in [0, 1] and ``(3, crop, crop)`` in [-1, 1].
    """

    def __init__(self, list_path_or_rows, crop_size=96, scale=SCALE, patches_per_image=100, augment=False, seed=0,
                 pool_size="all", rank=0, world_size=1):
        super().__init__()
        self.rows = _as_rows(list_path_or_rows)
        if not self.rows:
            raise ValueError(f"TrainDataset: empty data list {list_path_or_rows!r}")
        if crop_size < scale or crop_size % scale:
            raise ValueError(f"crop_size {crop_size} must be a positive multiple of scale {scale}")
        if pool_size != "all" and not (isinstance(pool_size, int) and pool_size >= 1):
            raise ValueError(f"pool_size must be 'all' or an integer >= 1, got {pool_size!r}")
        if patches_per_image < 1 or seed < 0:
            raise ValueError("patches_per_image must be >= 1 and seed >= 0")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} must be in 0..world_size-1 (world_size {world_size})")
        self.crop_size, self.scale = crop_size, scale
        self.patches_per_image, self.augment = patches_per_image, augment
        self.seed, self.pool_size = seed, pool_size
        self.rank, self.world_size = rank, world_size
        self.epoch = 0
        # Decoded once, before any DataLoader worker starts (forked workers share it).
        self.images = [self._load(row) for row in self.rows] if pool_size == "all" else None

    def set_epoch(self, epoch):
        """Choose the epoch: it seeds the image order and every crop (as ``DistributedSampler.set_epoch``)."""
        self.epoch = int(epoch)

    def __len__(self):
        """Patches this rank yields per epoch (all its DataLoader workers together)."""
        return math.ceil(len(self.rows) / self.world_size) * self.patches_per_image

    def worker_patches(self, num_workers=0):
        """Patches per epoch of each of this rank's DataLoader workers (``num_workers=0``: the main process alone,
        one share). Each worker batches its own share and, with ``drop_last``, drops its last partial batch."""
        workers = max(1, num_workers)
        per_entry = 1 if self.images is not None else self.patches_per_image  # a pool's entries are images
        return [len(self.image_indices(worker, workers)) * per_entry for worker in range(workers)]

    def batches(self, batch_size, num_workers=0):
        """``(batches, patches dropped)`` per epoch on this rank, when every DataLoader worker batches its own share
        (``worker_patches``) with ``drop_last``: the updates an epoch runs, and the patches left out of them."""
        shares = self.worker_patches(num_workers)
        return sum(share // batch_size for share in shares), sum(share % batch_size for share in shares)

    def image_indices(self, worker_id=0, num_workers=1):
        """The image of each patch this rank's worker ``worker_id`` yields this epoch (``pool_size="all"``),
        or the images it decodes, in order (a pool)."""
        per_image = self.patches_per_image if self.images is not None else 1
        entries = np.repeat(np.arange(len(self.rows)), per_image)
        order = np.random.default_rng([self.seed, self.epoch]).permutation(entries)
        per_rank = math.ceil(len(self.rows) / self.world_size) * per_image
        padded = np.resize(order, per_rank * self.world_size)  # repeats the first entries to fill up
        return padded[self.rank::self.world_size][worker_id::num_workers].tolist()

    def __iter__(self):
        info = get_worker_info()
        worker_id, num_workers = (0, 1) if info is None else (info.id, info.num_workers)
        return self.generate(worker_id, num_workers)

    def generate(self, worker_id=0, num_workers=1):
        """The patches of one worker (what ``__iter__`` returns inside DataLoader worker ``worker_id``)."""
        rng = np.random.default_rng([self.seed, self.epoch, self.rank, worker_id])
        if self.images is not None:
            for index in self.image_indices(worker_id, num_workers):
                yield self._random_patch(rng, *self.images[index])
            return
        queue = deque(self.image_indices(worker_id, num_workers))
        pool = []  # entries [lr uint8, hr uint8, patches left]
        while queue or pool:
            while queue and len(pool) < self.pool_size:
                pool.append(list(self._load(self.rows[queue.popleft()])) + [self.patches_per_image])
            slot = int(rng.integers(len(pool)))
            lr, hr, left = pool[slot]
            yield self._random_patch(rng, lr, hr)
            if left == 1:
                pool.pop(slot)  # retire it; the next image is decoded on the next step
            else:
                pool[slot][2] = left - 1

    def _load(self, row):
        lr, hr = load_lr_hr(row, self.scale)
        if hr.shape[0] < self.crop_size or hr.shape[1] < self.crop_size:
            raise ValueError(f"{row['hr_path']}: {hr.shape[0]}x{hr.shape[1]} (HxW, after modcrop) is smaller "
                             f"than the {self.crop_size}x{self.crop_size} crop")
        return lr, hr

    def _random_patch(self, rng, lr, hr):
        """An aligned random crop of a decoded pair, as tensors (LR in [0, 1], HR in [-1, 1])."""
        lr_size = self.crop_size // self.scale
        y = int(rng.integers(lr.shape[0] - lr_size + 1))
        x = int(rng.integers(lr.shape[1] - lr_size + 1))
        lr_patch = lr[y:y + lr_size, x:x + lr_size]
        hr_y, hr_x = y * self.scale, x * self.scale
        hr_patch = hr[hr_y:hr_y + self.crop_size, hr_x:hr_x + self.crop_size]
        if self.augment:
            hflip, vflip, rotate = rng.random(3) < 0.5
            if hflip:
                lr_patch, hr_patch = lr_patch[:, ::-1], hr_patch[:, ::-1]
            if vflip:
                lr_patch, hr_patch = lr_patch[::-1], hr_patch[::-1]
            if rotate:
                lr_patch, hr_patch = np.rot90(lr_patch), np.rot90(hr_patch)
            lr_patch, hr_patch = np.ascontiguousarray(lr_patch), np.ascontiguousarray(hr_patch)
        return (convert_image(lr_patch, "uint8", "[0, 1]").contiguous(),
                convert_image(hr_patch, "uint8", "[-1, 1]").contiguous())


class TestDataset(Dataset):
    """Whole test images for evaluation.

    Args:
        list_path_or_rows: a CSV from ``create_data_lists.py`` or a list of its row dicts.
        scale: the super-resolution factor.

    Item ``i`` is ``{'name': file stem, 'lr': uint8 HxWx3, 'hr': uint8 (scale*H)x(scale*W)x3}``: the HR
    modcropped, the LR from its file or made with ``imresize`` (raises ``ValueError`` naming the file when
    its size is not ``floor(HR / scale)``). Use ``DataLoader(..., batch_size=None)`` (sizes differ).
    """

    __test__ = False  # not a pytest test class, despite its name

    def __init__(self, list_path_or_rows, scale=SCALE):
        super().__init__()
        self.rows = _as_rows(list_path_or_rows)
        self.scale = scale

    def count(self, max_images=None):
        """How many images to use: all, or at most ``max_images`` (None = all)."""
        return len(self) if max_images is None else min(max_images, len(self))

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        row = self.rows[index]
        lr, hr = load_lr_hr(row, self.scale)
        return {"name": Path(row["hr_path"]).stem, "lr": lr, "hr": hr}

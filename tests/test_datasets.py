"""Tests of datasets.py: aligned patches, decode once, determinism, worker/rank split, image formats."""
from collections import Counter

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

import datasets
from datasets import TestDataset, TrainDataset
from imresize import imresize
from utils import convert_image, load_image, modcrop, save_image


def make_row(hr_path, lr_path=""):
    with Image.open(hr_path) as image:
        height, width = image.height, image.width
    return {"hr_path": str(hr_path), "lr_path": str(lr_path), "hr_height": height, "hr_width": width}


def b100_rows(shared_data, names=("101085", "108005")):
    """B100 images with their MATLAB-made LR files (321x481 / 481x321)."""
    return [make_row(shared_data / "B100" / "HR" / f"{name}.png",
                     shared_data / "B100" / "LR_bicubic" / "X4" / f"{name}x4.png") for name in names]


def bsds_rows(shared_data, count=2):
    """BSDS200 training images, no LR file (LR made with imresize)."""
    return [make_row(path) for path in sorted((shared_data / "train" / "BSDS200" / "HR").glob("*.png"))[:count]]


def as_uint8(lr, hr):
    """A patch's tensors back to uint8 HxWx3 (exact: they came from uint8)."""
    return convert_image(lr, "[0, 1]", "uint8"), convert_image(hr, "[-1, 1]", "uint8")


def locate(patch, image):
    """All (y, x) where ``patch`` occurs in ``image`` (uint8 HxWx3)."""
    size = patch.shape[0]
    candidates = np.argwhere((image[: image.shape[0] - size + 1, : image.shape[1] - size + 1] == patch[0, 0]).all(-1))
    return [(y, x) for y, x in candidates if np.array_equal(image[y:y + size, x:x + size], patch)]


def full_pairs(rows):
    """(LR, modcropped HR) of each row, decoded directly: LR file or imresize of the whole image."""
    pairs = []
    for row in rows:
        hr = modcrop(load_image(row["hr_path"]), 4)
        lr = load_image(row["lr_path"]) if row["lr_path"] else imresize(hr, 1 / 4)
        pairs.append((lr, hr))
    return pairs


def assert_aligned(patches, rows, patches_per_image):
    """Every patch is found at some (y, x) of one image's LR, its HR is the crop at (4y, 4x), and
    ``imresize`` of the HR crop equals the LR crop away from the 2-pixel border (where the kernel of the
    full image reaches outside the crop). Each image gives exactly ``patches_per_image`` patches."""
    pairs = full_pairs(rows)
    per_image = Counter()
    for lr, hr in patches:
        assert lr.dtype == hr.dtype == torch.float32
        assert lr.shape == (3, 24, 24) and hr.shape == (3, 96, 96)
        assert 0 <= lr.min() and lr.max() <= 1 and -1 <= hr.min() and hr.max() <= 1
        lr8, hr8 = as_uint8(lr, hr)
        found = [(i, yx) for i, (full_lr, _) in enumerate(pairs) for yx in locate(lr8, full_lr)]
        assert found, "LR patch not found in any LR image"
        index, (y, x) = found[0]
        assert np.array_equal(hr8, pairs[index][1][4 * y:4 * y + 96, 4 * x:4 * x + 96])
        assert np.array_equal(imresize(hr8, 1 / 4)[2:-2, 2:-2], lr8[2:-2, 2:-2])
        per_image[index] += 1
    assert per_image == {i: patches_per_image for i in range(len(rows))}


@pytest.mark.parametrize("source", ["LR files", "imresize"])
def test_train_patches_are_aligned(shared_data, source):
    rows = b100_rows(shared_data) if source == "LR files" else bsds_rows(shared_data)
    dataset = TrainDataset(rows, patches_per_image=6, pool_size=2)
    patches = list(dataset)
    assert len(patches) == len(dataset) == 12
    assert_aligned(patches, rows, 6)


def test_augmented_patches_are_aligned_dihedral_transforms(shared_data):
    rows = b100_rows(shared_data, names=("101085",))
    (full_lr, full_hr), = full_pairs(rows)
    dataset = TrainDataset(rows, patches_per_image=12, augment=True, seed=3)
    seen = set()
    for lr, hr in dataset:
        lr8, hr8 = as_uint8(lr, hr)
        for k in range(4):
            for flip in (False, True):
                undo_lr, undo_hr = np.rot90(lr8, k), np.rot90(hr8, k)
                if flip:
                    undo_lr, undo_hr = undo_lr[:, ::-1], undo_hr[:, ::-1]
                matches = locate(np.ascontiguousarray(undo_lr), full_lr)
                if matches:
                    y, x = matches[0]
                    assert np.array_equal(undo_hr, full_hr[4 * y:4 * y + 96, 4 * x:4 * x + 96])
                    seen.add((k, flip))
                    break
            else:
                continue
            break
        else:
            pytest.fail("augmented patch is no flip/rotation of an aligned crop")
    assert len(seen) > 2  # the augmentation really varies


def test_each_image_decoded_once_per_epoch(shared_data, monkeypatch):
    rows = b100_rows(shared_data) + bsds_rows(shared_data)
    loads, resizes = Counter(), []
    real_load, real_resize = datasets.load_image, datasets.imresize

    def counting_load(path):
        loads[str(path)] += 1
        return real_load(path)

    def counting_resize(img, *args, **kwargs):
        resizes.append(img.shape)
        return real_resize(img, *args, **kwargs)

    monkeypatch.setattr(datasets, "load_image", counting_load)
    monkeypatch.setattr(datasets, "imresize", counting_resize)
    dataset = TrainDataset(rows, patches_per_image=5, pool_size=2)
    assert len(list(dataset)) == 20
    expected = {row["hr_path"]: 1 for row in rows}
    expected.update({row["lr_path"]: 1 for row in rows if row["lr_path"]})
    assert loads == expected
    # imresize only for the two images without an LR file, on the whole (modcropped) image
    assert sorted(resizes) == sorted(modcrop(load_image(row["hr_path"]), 4).shape for row in rows[2:])


def test_deterministic_per_seed_and_epoch(shared_data):
    rows = bsds_rows(shared_data, count=3)

    def epoch_patches(epoch, seed=0):
        dataset = TrainDataset(rows, patches_per_image=4, pool_size=2, seed=seed, augment=True)
        dataset.set_epoch(epoch)
        return torch.stack([torch.cat([lr.flatten(), hr.flatten()]) for lr, hr in dataset])

    first = epoch_patches(3)
    assert torch.equal(first, epoch_patches(3))
    assert not torch.equal(first, epoch_patches(4))
    assert not torch.equal(first, epoch_patches(3, seed=1))


@pytest.fixture
def labelled_images(tmp_path):
    """Five synthetic images whose red channel is 40 * (index + 1) everywhere: a patch tells its image."""
    rng = np.random.default_rng(0)
    rows = []
    for index in range(5):
        image = rng.integers(0, 256, size=(100, 130, 3), dtype=np.uint8)
        image[:, :, 0] = 40 * (index + 1)
        save_image(tmp_path / f"img{index}.png", image)
        rows.append(make_row(tmp_path / f"img{index}.png"))
    return rows


def image_of(hr):
    return int(convert_image(hr, "[-1, 1]", "uint8")[..., 0].flat[0]) // 40 - 1


def test_two_workers_split_the_images(labelled_images):
    dataset = TrainDataset(labelled_images, patches_per_image=4, pool_size=2, seed=5)
    dataset.set_epoch(2)
    worker_images = [dataset.image_indices(worker, 2) for worker in (0, 1)]
    assert not set(worker_images[0]) & set(worker_images[1])
    assert sorted(worker_images[0] + worker_images[1]) == list(range(5))

    loader = DataLoader(dataset, batch_size=3, num_workers=2)
    batches = list(loader)
    assert len(batches) == 4 + 3  # each worker batches its own patches: 3 images (12) and 2 images (8)
    lr = torch.cat([batch[0] for batch in batches])
    hr = torch.cat([batch[1] for batch in batches])
    assert len(hr) == len(dataset) == 20
    assert Counter(image_of(patch) for patch in hr) == {index: 4 for index in range(5)}  # no image twice
    # The workers produced exactly what generate() gives in this process.
    expected = list(dataset.generate(0, 2)) + list(dataset.generate(1, 2))
    key = lambda pair: pair[1].flatten().tolist()  # noqa: E731
    assert sorted(map(key, zip(lr, hr))) == sorted(map(key, expected))


@pytest.mark.parametrize("pool_size, patches_per_image, batch_size, num_workers, world_size", [
    ("all", 2, 3, 2, 1),  # 10 patches, shares of 5: each worker drops 2 (DataLoader's own len, 10 // 3, says 3)
    (2, 5, 4, 2, 1),      # shares of 3 and 2 images: 15 and 10 patches, 3 + 2 batches (25 // 4 = 6)
    (2, 4, 3, 2, 2),      # 3 images per rank (one repeated): shares of 8 and 4 patches, 2 + 1 batches
    ("all", 1, 4, 2, 1),  # shares of 3 and 2 patches: no batch at all
    (2, 3, 4, 0, 1),      # no workers: the main process batches all 15 patches
])
def test_batches_are_what_the_data_loader_gives(labelled_images, pool_size, patches_per_image, batch_size,
                                                num_workers, world_size):
    dataset = TrainDataset(labelled_images, patches_per_image=patches_per_image, pool_size=pool_size,
                           world_size=world_size)
    dataset.set_epoch(1)
    shares = dataset.worker_patches(num_workers)
    assert sum(shares) == len(dataset)
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=num_workers, drop_last=True)
    sizes = [len(lr) for lr, _ in loader]
    assert set(sizes) <= {batch_size}
    assert dataset.batches(batch_size, num_workers) == (len(sizes), len(dataset) - batch_size * len(sizes))


def test_rank_split(labelled_images):
    ranks = [TrainDataset(labelled_images, patches_per_image=2, pool_size=2, rank=rank, world_size=2)
             for rank in (0, 1)]
    for dataset in ranks:
        dataset.set_epoch(1)
    images = [dataset.image_indices() for dataset in ranks]
    assert len(images[0]) == len(images[1]) == 3  # 5 images on 2 ranks: padded to 3 each
    assert set(images[0]) | set(images[1]) == set(range(5))
    assert len(set(images[0]) & set(images[1])) == 1  # only the padding image repeats
    for dataset, mine in zip(ranks, images):
        patches = list(dataset)
        assert len(patches) == len(dataset) == 6
        assert Counter(image_of(hr) for _, hr in patches) == Counter({index: 2 for index in mine})

    even = [TrainDataset(labelled_images[:4], patches_per_image=2, pool_size=2, rank=rank, world_size=2)
            for rank in (0, 1)]
    assert not set(even[0].image_indices()) & set(even[1].image_indices())


def test_whole_set_decoded_once_and_mixed_in_every_window(labelled_images, monkeypatch):
    decoded = Counter()
    real_load = datasets.load_image
    monkeypatch.setattr(datasets, "load_image", lambda path: decoded.update([path]) or real_load(path))
    dataset = TrainDataset(labelled_images, patches_per_image=20, pool_size="all", seed=1)
    for epoch in (1, 2):
        dataset.set_epoch(epoch)
        images = [image_of(hr) for _, hr in dataset]
        assert Counter(images) == {index: 20 for index in range(5)}  # every image, patches_per_image times
        # mixed like uniform sampling: any 10 patches in a row come from at least 3 of the 5 images
        # (a pool of 2, the old way, gives at most 2)
        assert min(len(set(images[i:i + 10])) for i in range(len(images) - 9)) >= 3
    assert decoded == {row["hr_path"]: 1 for row in labelled_images}  # once, for both epochs


def test_whole_set_split_by_rank_and_worker(labelled_images):
    ranks = [TrainDataset(labelled_images, patches_per_image=2, pool_size="all", rank=rank, world_size=2)
             for rank in (0, 1)]
    counts = Counter()
    for dataset in ranks:
        dataset.set_epoch(3)
        patches = list(dataset)
        assert len(patches) == len(dataset) == 6  # 10 patches on 2 ranks: padded to 6 each
        counts.update(image_of(hr) for _, hr in patches)
    assert sum(counts.values()) == 12 and all(counts[index] >= 2 for index in range(5))

    dataset = ranks[0]
    loader = DataLoader(dataset, batch_size=2, num_workers=2)
    from_workers = sorted(hr.flatten().tolist() for _, hr_batch in loader for hr in hr_batch)
    in_process = sorted(hr.flatten().tolist() for worker in (0, 1) for _, hr in dataset.generate(worker, 2))
    assert from_workers == in_process


@pytest.fixture
def odd_format_rows(shared_data, tmp_path):
    """One 128x132 photo saved as gray, palette, RGBA and 16-bit gray PNGs; returns (rows, RGB original)."""
    rgb = load_image(shared_data / "Set5" / "HR" / "baby.png")[100:228, 100:232]
    image = Image.fromarray(rgb)
    gray16 = Image.fromarray(np.asarray(image.convert("L"), dtype=np.uint16) * 257)
    versions = {"gray": image.convert("L"), "palette": image.convert("P"), "rgba": image.convert("RGBA"),
                "gray16": gray16}
    rows = []
    for name, version in versions.items():
        version.save(tmp_path / f"{name}.png")
        rows.append(make_row(tmp_path / f"{name}.png"))
    return rows, rgb


def test_gray_palette_rgba_16bit_become_rgb(odd_format_rows):
    rows, rgb = odd_format_rows
    for lr, hr in TrainDataset(rows, patches_per_image=2):
        assert lr.shape == (3, 24, 24) and hr.shape == (3, 96, 96)
    items = TestDataset(rows)
    for row, item in zip(rows, items):
        assert item["lr"].dtype == item["hr"].dtype == np.uint8
        assert item["hr"].shape == (128, 132, 3) and item["lr"].shape == (32, 33, 3)
        if "gray" in item["name"]:
            assert (item["hr"] == item["hr"][..., :1]).all()  # R = G = B
    by_name = {item["name"]: item for item in items}
    assert np.array_equal(by_name["rgba"]["hr"], rgb)
    assert np.array_equal(by_name["gray16"]["hr"], by_name["gray"]["hr"])


def test_test_dataset_modcrops_hr_and_reads_or_makes_lr(shared_data):
    rows = [make_row(shared_data / "Set14" / "HR" / f"{name}.png",
                     shared_data / "Set14" / "LR_bicubic" / "X4" / f"{name}x4.png") for name in ("comic", "bridge")]
    rows.append(make_row(shared_data / "Urban100" / "HR" / "img011.png"))
    dataset = TestDataset(rows)
    assert len(dataset) == 3
    for row, item in zip(rows, dataset):
        full = load_image(row["hr_path"])
        height, width = full.shape[0] // 4, full.shape[1] // 4
        assert item["hr"].shape == (4 * height, 4 * width, 3) and item["lr"].shape == (height, width, 3)
        assert np.array_equal(item["hr"], full[:4 * height, :4 * width])
        assert np.array_equal(item["lr"], imresize(item["hr"], 1 / 4))  # LR files are MATLAB-exact
    assert [item["name"] for item in dataset] == ["comic", "bridge", "img011"]
    assert dataset[0]["hr"].shape == (360, 248, 3)  # comic is 361x250


def test_errors_name_the_file(shared_data, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(ValueError, match="notes.png"):
        list(TrainDataset([{"hr_path": str(text), "lr_path": ""}], patches_per_image=1))

    wrong_lr = tmp_path / "birdx4.png"
    save_image(wrong_lr, load_image(shared_data / "Set5" / "LR_bicubic" / "X4" / "birdx4.png")[:, :-2])
    with pytest.raises(ValueError, match="birdx4.png: LR is 72x70"):
        TestDataset([make_row(shared_data / "Set5" / "HR" / "bird.png", wrong_lr)])[0]

    stale = make_row(shared_data / "Set5" / "HR" / "bird.png")
    stale["hr_width"] = 300
    with pytest.raises(ValueError, match="bird.png: image is 288x288.*data list says 288x300"):
        TestDataset([stale])[0]

    small = make_row(shared_data / "Set5" / "HR" / "bird.png")
    with pytest.raises(ValueError, match="bird.png: .*smaller than the 320x320 crop"):
        list(TrainDataset([small], crop_size=320, patches_per_image=1))


def test_reads_a_csv_list(fake_div2k, tmp_path):
    from create_data_lists import write_data_lists
    write_data_lists(fake_div2k, tmp_path, test_sets=["DIV2K-valid"], val_images=1, log=None)
    train = TrainDataset(tmp_path / "train.csv", patches_per_image=2)
    assert len(train) == 8 and len(list(train)) == 8
    valid = TestDataset(tmp_path / "DIV2K-valid.csv")
    assert [item["name"] for item in valid] == ["0802", "0803"]  # 0801 validates: it is in val.csv instead
    assert [item["name"] for item in TestDataset(tmp_path / "val.csv")] == ["0801"]

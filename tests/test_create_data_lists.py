"""Tests of create_data_lists.py: the lists of the real images, a fake DIV2K tree, bad inputs, the CLI."""
import os
import shutil

import pytest
from PIL import Image

from create_data_lists import (
    DataListError,
    main,
    scan_data_root,
    write_data_lists,
)
from datasets import CSV_COLUMNS, read_data_list
from imresize import imresize
from sample_data import make_sample_data
from utils import load_image, modcrop, save_image

STANDARD_COUNTS = {"Set5": 5, "Set14": 14, "B100": 100, "Urban100": 100}


def header_size(path):
    with Image.open(path) as image:
        return image.height, image.width


@pytest.fixture(scope="module")
def shared_lists(shared_data, tmp_path_factory):
    """The lists of the real images, written once for this module: (summary, output folder)."""
    output = tmp_path_factory.mktemp("lists")
    return write_data_lists(shared_data, output, log=None), output


# ----------------------------------------------------------------------------------------------
# The real images
# ----------------------------------------------------------------------------------------------
def test_test_sets_of_shared_data(shared_lists):
    summary, output = shared_lists
    assert summary.missing_test_sets == ["DIV2K-valid"]
    assert not (output / "DIV2K-valid.csv").exists()
    for name, count in STANDARD_COUNTS.items():
        rows = read_data_list(output / f"{name}.csv")
        assert rows == summary.test_sets[name]
        assert len(rows) == count
        for row in rows:
            assert os.path.isabs(row["hr_path"]) and os.path.isfile(row["hr_path"])
            assert (row["hr_height"], row["hr_width"]) == header_size(row["hr_path"])
            if name == "Urban100":
                assert row["lr_path"] == ""  # no LR shipped: made with imresize
            else:
                assert os.path.isabs(row["lr_path"]) and os.path.isfile(row["lr_path"])
                assert os.path.basename(row["lr_path"]) == os.path.basename(row["hr_path"]).replace(".png", "x4.png")
                assert header_size(row["lr_path"]) == (row["hr_height"] // 4, row["hr_width"] // 4)


def test_train_and_held_out_val_of_shared_data(shared_data, shared_lists):
    summary, output = shared_lists
    train, val = read_data_list(output / "train.csv"), read_data_list(output / "val.csv")
    # Expected independently: every T91/BSDS200 image whose modcropped size fits a 96x96 crop.
    big_enough, too_small = [], []
    for folder in ("BSDS200", "T91"):
        for path in sorted((shared_data / "train" / folder / "HR").glob("*.png")):
            height, width = header_size(path)
            (big_enough if min(height - height % 4, width - width % 4) >= 96 else too_small).append(str(path))
    assert len(big_enough) + len(too_small) == 291 and too_small  # T91 has images smaller than 96 px
    assert len(val) == 10 and len(train) == len(big_enough) - 10
    assert [row["hr_path"] for row in train + val] == big_enough  # val = the last 10, held out
    assert not {row["hr_path"] for row in val} & {row["hr_path"] for row in train}
    assert all(row["lr_path"] == "" for row in train + val)
    assert {path for path, _ in summary.skipped} == set(too_small)
    assert all("too small" in reason for _, reason in summary.skipped)
    assert "held out" in summary.val_source


# ----------------------------------------------------------------------------------------------
# DIV2K layout
# ----------------------------------------------------------------------------------------------
def test_fake_div2k_gives_div2k_valid_and_val(fake_div2k, tmp_path, capsys):
    summary = write_data_lists(fake_div2k, tmp_path, val_images=2)
    val, valid = read_data_list(tmp_path / "val.csv"), read_data_list(tmp_path / "DIV2K-valid.csv")
    # the first two validate; the test list keeps the rest: no image that chose the model is tested on
    assert [os.path.basename(row["hr_path"]) for row in val] == ["0801.png", "0802.png"]
    assert [os.path.basename(row["hr_path"]) for row in valid] == ["0803.png"]
    assert all(row["lr_path"].endswith(os.path.join("DIV2K_valid_LR_bicubic", "X4",
                                                    os.path.basename(row["hr_path"])[:4] + "x4.png"))
               for row in val + valid)
    train = read_data_list(tmp_path / "train.csv")
    assert [os.path.basename(row["hr_path"]) for row in train] == ["0001.png", "0002.png", "0003.png", "0004.png"]
    assert all(row["lr_path"] for row in train)
    assert summary.missing_test_sets == ["Set5", "Set14", "B100", "Urban100"]
    assert not summary.skipped and not summary.notes
    out = capsys.readouterr().out
    assert "test set Set5: missing" in out and "DIV2K-valid" in out


def test_div2k_valid_serves_val_even_when_not_a_test_set(fake_div2k, tmp_path):
    summary = write_data_lists(fake_div2k, tmp_path, test_sets=[], val_images=10, log=None)
    assert len(summary.val) == 3 and len(summary.train) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.csv", "val.csv"]
    # as a test set too, but every image of it validates: no DIV2K-valid.csv rather than an empty one
    summary = write_data_lists(fake_div2k, tmp_path, test_sets=["DIV2K-valid"], val_images=3, log=None)
    assert len(summary.val) == 3 and summary.missing_test_sets == ["DIV2K-valid"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.csv", "val.csv"]


# ----------------------------------------------------------------------------------------------
# Bad inputs
# ----------------------------------------------------------------------------------------------
@pytest.fixture
def messy_root(shared_data, tmp_path):
    """A data root with one problem of each kind, next to good files."""
    root = tmp_path / "root"
    train = root / "train" / "Mixed" / "HR"
    train.mkdir(parents=True)
    for name in ("100075", "100080"):
        shutil.copy(shared_data / "train" / "BSDS200" / "HR" / f"{name}.png", train / f"good_{name}.png")
    png = (shared_data / "Set5" / "HR" / "baby.png").read_bytes()
    (train / "corrupt.png").write_bytes(png[: len(png) // 2])          # truncated: header fine, data not
    (train / "notes.png").write_text("this is not an image\n")          # text file named .png
    save_image(train / "tiny.PNG", load_image(shared_data / "Set5" / "HR" / "bird.png")[:99, :200])  # 96x200 modcropped
    (train / "readme.txt").write_text("hello\n")

    test_set = root / "MySet"
    (test_set / "LR_bicubic" / "X4").mkdir(parents=True)
    (test_set / "HR").mkdir()
    for name in ("bird", "butterfly"):
        shutil.copy(shared_data / "Set5" / "HR" / f"{name}.png", test_set / "HR" / f"{name}.png")
    shutil.copy(shared_data / "Set5" / "LR_bicubic" / "X4" / "birdx4.png", test_set / "LR_bicubic" / "X4")
    wrong = load_image(shared_data / "Set5" / "LR_bicubic" / "X4" / "butterflyx4.png")[:-1]
    save_image(test_set / "LR_bicubic" / "X4" / "butterflyx4.png", wrong)     # one row short
    shutil.copy(shared_data / "Set5" / "LR_bicubic" / "X4" / "headx4.png", test_set / "LR_bicubic" / "X4")  # no HR
    return root


def test_bad_inputs_get_messages_and_counts(messy_root, tmp_path, capsys):
    output = tmp_path / "lists"
    output.mkdir()
    (output / "Nope.csv").write_text("stale\n")
    summary = write_data_lists(messy_root, output, test_sets=["MySet", "Nope"], val_images=1, crop_size=100)
    reasons = {os.path.basename(path): reason for path, reason in summary.skipped}
    assert set(reasons) == {"corrupt.png", "notes.png", "tiny.PNG", "readme.txt", "butterfly.png", "headx4.png"}
    assert "not a readable image" in reasons["corrupt.png"]
    assert "not a readable image" in reasons["notes.png"]
    assert "too small for a 100x100 training crop" in reasons["tiny.PNG"] and "96x200" in reasons["tiny.PNG"]
    assert "not an image file" in reasons["readme.txt"]
    assert "butterflyx4.png is 63x64" in reasons["butterfly.png"] and "needs 64x64" in reasons["butterfly.png"]
    assert "LR file with no HR" in reasons["headx4.png"]

    assert [os.path.basename(r["hr_path"]) for r in summary.train] == ["good_100075.png"]
    assert [os.path.basename(r["hr_path"]) for r in summary.val] == ["good_100080.png"]   # held out
    assert [os.path.basename(r["hr_path"]) for r in read_data_list(output / "MySet.csv")] == ["bird.png"]
    assert summary.missing_test_sets == ["Nope"] and not (output / "Nope.csv").exists()  # stale list removed

    out = capsys.readouterr().out
    for name in reasons:
        assert f"skipped {messy_root}" in out and name in out
    assert "test set Nope: missing" in out
    assert "skipped: 6" in out


def test_tiny_image_kept_in_test_sets_but_not_in_training(messy_root, tmp_path):
    summary = scan_data_root(messy_root, test_sets=[], val_images=0, crop_size=96, log=None)
    assert sorted(os.path.basename(r["hr_path"]) for r in summary.train) == [
        "good_100075.png", "good_100080.png", "tiny.PNG"]  # 96x200 after modcrop fits a 96 crop
    assert summary.val == [] and summary.val_source == "none"


def test_hr_without_lr_file_is_noted_and_uses_imresize(shared_data, tmp_path):
    root = tmp_path / "root"
    (root / "S" / "LR_bicubic" / "X4").mkdir(parents=True)
    (root / "S" / "HR").mkdir()
    shutil.copy(shared_data / "Set5" / "HR" / "bird.png", root / "S" / "HR")
    shutil.copytree(shared_data / "Set5" / "HR", root / "train" / "A" / "HR")
    summary = scan_data_root(root, test_sets=["S"], val_images=1, log=None)
    assert summary.test_sets["S"][0]["lr_path"] == ""
    assert len(summary.notes) == 1 and "LR will be made with imresize" in summary.notes[0][1]


def test_empty_training_list_is_an_error(shared_data, tmp_path, capsys):
    root = tmp_path / "root"
    shutil.copytree(shared_data / "Set5", root / "Set5")
    output = tmp_path / "lists"
    assert main(["--data-root", str(root), "--output-folder", str(output)]) == 2
    assert "no usable training images" in capsys.readouterr().err
    assert not output.exists()
    with pytest.raises(DataListError, match="no usable training images"):
        write_data_lists(root, output, log=None)


def test_an_output_folder_that_is_a_file_is_refused_before_any_image_is_read(tmp_path, monkeypatch):
    (tmp_path / "lists").write_text("")
    monkeypatch.setattr("create_data_lists.scan_data_root", lambda *args: pytest.fail("scanned first"))
    with pytest.raises(DataListError, match="lists: the output folder is a file"):
        write_data_lists(tmp_path / "data", tmp_path / "lists", log=None)


def test_too_few_images_to_hold_out_is_an_error(messy_root, tmp_path):
    with pytest.raises(DataListError, match="only 3 training images: holding out 10 for validation would leave 0"):
        write_data_lists(messy_root, tmp_path, test_sets=[], val_images=10, log=None)


def test_missing_training_folder_is_reported(fake_div2k, tmp_path):
    summary = scan_data_root(fake_div2k, test_sets=[], train_folders=["DIV2K_train_HR", "train/Nothing/HR"],
                             log=None)
    assert len(summary.train) == 4
    assert summary.skipped == [(str(fake_div2k / "train" / "Nothing" / "HR"), "training folder not found")]


# ----------------------------------------------------------------------------------------------
# Reading lists, the command line, sample data
# ----------------------------------------------------------------------------------------------
def test_read_data_list_validates(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.csv"):
        read_data_list(tmp_path / "absent.csv")
    bad_header = tmp_path / "bad_header.csv"
    bad_header.write_text("path,size\n/a.png,3\n")
    with pytest.raises(ValueError, match="bad_header.csv: not a data list"):
        read_data_list(bad_header)
    bad_row = tmp_path / "bad_row.csv"
    bad_row.write_text(",".join(CSV_COLUMNS) + "\n/a.png,,10,10\n/b.png,,ten,10\n")
    with pytest.raises(ValueError, match="bad_row.csv, line 3"):
        read_data_list(bad_row)


def test_cli_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # help lines are wrapped
    for expected in ("--data-root", "SRGAN_DATA_ROOT", "--test-sets", "--train-folders", "--val-images",
                     "--crop-size", "--make-sample-data", "left out of DIV2K-valid.csv", "held out"):
        assert expected in text


def test_cli_writes_lists_with_data_root_from_env(fake_div2k, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SRGAN_DATA_ROOT", str(fake_div2k))
    assert main(["--output-folder", str(tmp_path), "--val-images", "1", "--test-sets", "DIV2K-valid"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["DIV2K-valid.csv", "train.csv", "val.csv"]
    assert len(read_data_list(tmp_path / "val.csv")) == 1
    assert "train.csv" in capsys.readouterr().out


def test_make_sample_data_without_shared_data(tmp_path, capsys):
    root = tmp_path / "sample"
    assert main(["--make-sample-data", str(root)]) == 0
    old = root / "train" / "skimage" / "HR" / "stereo_motorcycle_right.png"  # an older version's name
    old.write_bytes((root / "train" / "skimage" / "HR" / "motorcycle_right.png").read_bytes())
    made = make_sample_data(root, log=None)  # idempotent: keeps the files, removes the older version's
    assert not old.exists()
    assert len(made["test"]) == 3 and len(made["train"]) == 6
    for path in made["train"]:  # colour photographs, so that the demo's results are in colour
        image = load_image(path)
        assert not (image == image[..., :1]).all(), path
    assert main(["--data-root", str(root), "--output-folder", str(tmp_path / "lists"), "--test-sets", "Sample",
                 "--val-images", "1"]) == 0
    sample = read_data_list(tmp_path / "lists" / "Sample.csv")
    train = read_data_list(tmp_path / "lists" / "train.csv")
    assert len(sample) == 3 and len(train) == len(made["train"]) - 1
    # the held-out image is a scene no training image shows (the two motorcycle views both train)
    assert [os.path.basename(row["hr_path"]) for row in read_data_list(tmp_path / "lists" / "val.csv")] == [
        "rocket.png"]
    for row in sample:
        hr = modcrop(load_image(row["hr_path"]), 4)
        assert (load_image(row["lr_path"]) == imresize(hr, 1 / 4)).all()
    assert "Sample.csv" in capsys.readouterr().out

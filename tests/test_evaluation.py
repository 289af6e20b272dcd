"""evaluation.py: the bicubic rows against the published table (tests/reference.py), the metric tables, figures and
training curves."""
import csv
import io
import math
import re

import numpy as np
import pytest
from conftest import experiment_script
from matplotlib.figure import Figure
from PIL import Image
from reference import BICUBIC_X4 as REFERENCE_BICUBIC

import evaluation
import figures
import inference
from imresize import imresize
from metrics import calc_psnr
from utils import as_rgb, load_image, save_image


# ----------------------------------------------------------------------------------------------
# Evaluating data sets and writing the tables
# ----------------------------------------------------------------------------------------------
def test_bicubic_rows_match_the_reference_and_tables_are_written(eval_lists, niqe_model, tmp_path, capsys):
    results = tmp_path / "results"
    summaries = evaluation.evaluate_all({"bicubic": None}, eval_lists, datasets=("Set5", "Set14", "B100"),
                                        results_folder=results, progress=False, niqe_model=niqe_model)
    by_set = {summary["dataset"]: summary for summary in summaries if summary["model"] == "bicubic"}
    for name in ("Set5", "Set14"):
        psnr, ssim = REFERENCE_BICUBIC[name]
        assert by_set[name]["psnr"] == pytest.approx(psnr, abs=0.005)
        assert by_set[name]["ssim"] == pytest.approx(ssim, abs=0.0005)
        assert by_set[name]["images"] == {"Set5": 5, "Set14": 14}[name] and by_set[name]["seconds"] > 0
    # A set without a list is reported, not dropped.
    assert by_set["B100"]["images"] == 0 and math.isnan(by_set["B100"]["psnr"])
    assert "B100 missing" in capsys.readouterr().out

    with open(results / "metrics.csv", newline="") as file:
        reader = csv.DictReader(file)
        rows = list(reader)
    assert reader.fieldnames == ["model", "dataset", "psnr", "ssim", "images", "grid", "texture", "niqe", "added",
                                 "added_chroma"]
    assert [(row["model"], row["dataset"], row["images"]) for row in rows] == [
        ("bicubic", "Set5", "5"), ("bicubic", "Set14", "14"), ("bicubic", "B100", "0"), ("hr", "Set5", "5"),
        ("hr", "Set14", "14"), ("hr", "B100", "0")]
    # bicubic is blurred: a worse (higher) NIQE than the HR images, and nothing added
    assert float(rows[1]["niqe"]) > float(rows[4]["niqe"]) + 1 and float(rows[1]["added"]) < 1
    assert (float(rows[4]["grid"]), float(rows[4]["texture"]), float(rows[4]["added"])) == (1, 1, 0)
    assert float(rows[0]["psnr"]) == pytest.approx(28.429, abs=0.005) and rows[2]["psnr"] == "nan"
    assert float(rows[0]["grid"]) < 1.2 and float(rows[0]["texture"]) < 0.2  # bicubic: no grid, over-smooth
    assert rows[2]["grid"] == rows[2]["texture"] == "nan"
    markdown = (results / "metrics.md").read_text()
    assert "| Bicubic | 28.43 / 0.8111 | 26.09 / 0.7048 | n/a |" in markdown
    assert "| Model | Set5 grid / texture | Set14 grid / texture | B100 grid / texture |" in markdown
    assert re.search(r"\| HR \| \d\.\d\d \| \d\.\d\d \| n/a \|", markdown)  # NIQE: the HR row, here only
    assert markdown.count("| HR |") == 1 and "| Model | Set5 added / chroma |" in markdown
    assert re.search(r"\| Bicubic \| 0\.\d\d / 0\.0\d \| 0\.\d\d / 0\.\d\d \| n/a \|", markdown)

    with open(results / "per_image" / "bicubic_Set5.csv", newline="") as file:
        per_image = {row["name"]: row for row in csv.DictReader(file)}
    assert list(per_image["butterfly"]) == ["name", "psnr", "ssim", "seconds", "grid", "texture", "niqe", "added",
                                            "added_chroma"]
    assert float(per_image["butterfly"]["psnr"]) == pytest.approx(22.100, abs=0.001)  # the reference's one-image check
    assert float(per_image["butterfly"]["ssim"]) == pytest.approx(0.7375, abs=0.0001)
    assert not list(results.rglob(".tmp-*"))  # atomic writes leave nothing behind


def test_evaluate_dataset_with_a_generator(eval_lists, tiny_checkpoint, tmp_path):
    generator = inference.load_generator(tiny_checkpoint, "cpu")
    rows, summary = evaluation.evaluate_dataset(generator, eval_lists / "Set5.csv", "Set5", model_name="tiny",
                                                max_images=2, tile_size=48, results_folder=tmp_path, progress=False)
    assert [row["name"] for row in rows] == ["baby", "bird"] and summary["images"] == 2
    assert summary["psnr"] == pytest.approx(np.mean([row["psnr"] for row in rows]))
    assert 0 < summary["psnr"] < 25 and -1 <= summary["ssim"] <= 1  # an untrained model is worse than bicubic
    assert (tmp_path / "per_image" / "tiny_Set5.csv").is_file()


def test_evaluate_dataset_modcrops_and_reports_unusable_images(shared_data, tmp_path, capsys):
    """An HR of 70x67 (not a multiple of 4, no LR file) is modcropped to 68x64 and evaluated; a corrupt file
    and an image too small for SSIM are skipped with a message naming them; the rest is evaluated."""
    bird = load_image(shared_data / "Set5" / "HR" / "bird.png")
    odd, tiny, broken = tmp_path / "odd.png", tmp_path / "tiny.png", tmp_path / "broken.png"
    Image.fromarray(bird[100:170, 100:167]).save(odd)
    Image.fromarray(bird[:16, :16]).save(tiny)
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    list_path = tmp_path / "Mixed.csv"
    list_path.write_text(f"hr_path,lr_path,hr_height,hr_width\n{broken},,16,16\n{odd},,70,67\n{tiny},,16,16\n")
    rows, summary = evaluation.evaluate_dataset(None, list_path, "Mixed", progress=False)
    assert [row["name"] for row in rows] == ["odd"] and summary["images"] == 1
    hr = bird[100:168, 100:164]
    assert rows[0]["psnr"] == pytest.approx(calc_psnr(imresize(imresize(hr, 0.25), 4), hr))
    assert len(summary["failures"]) == 2 and "broken.png" in summary["failures"][0]
    assert "tiny.png" in summary["failures"][1] and "too small" in summary["failures"][1]
    out = capsys.readouterr().out
    assert "broken.png" in out and "tiny.png" in out


# ----------------------------------------------------------------------------------------------
# Figures
# ----------------------------------------------------------------------------------------------
def test_compare_figure_and_zoom_box(shared_data):
    hr = load_image(shared_data / "Set5" / "HR" / "bird.png")
    lr = load_image(shared_data / "Set5" / "LR_bicubic" / "X4" / "birdx4.png")
    bicubic = inference.super_resolve(None, lr)
    figure = figures.compare_figure({"LR": lr, "Bicubic": bicubic, "HR": hr}, zoom_box=(100, 120, 64, 48),
                                       title="bird")
    assert isinstance(figure, Figure) and len(figure.axes) == 6
    assert "dB" in figure.axes[1].get_title() and figure.axes[0].get_title() == "LR"
    assert figure.axes[3].images[0].get_array().shape[:2] == (64, 48)  # the zoomed LR crop, enlarged
    y, x, h, w = figures.auto_zoom_box(hr)
    assert h == w == 72 and 0 <= y <= hr.shape[0] - h and 0 <= x <= hr.shape[1] - w
    assert len(figures.compare_figure({"LR": lr, "Bicubic": bicubic}).axes) == 4  # automatic box, no HR
    with pytest.raises(ValueError, match="zoom_box"):
        figures.compare_figure({"LR": lr, "HR": hr}, zoom_box=(280, 0, 20, 20))
    with pytest.raises(ValueError, match="integer fraction"):
        figures.compare_figure({"odd": lr[:50], "HR": hr})



def test_load_example_by_name_and_a_mistyped_name(eval_lists):
    path = eval_lists / "Set5.csv"
    assert figures.load_example(list_path=path, name="bird")["name"] == "bird"
    assert figures.load_example(list_path=path, name=None)["name"] == "baby"  # the list's first image
    with pytest.raises(ValueError, match="no image named 'butterfy' .*butterfly"):  # not another image, silently
        figures.load_example(list_path=path, name="butterfy")

def test_figure_preview_scales_wide_figures_and_keeps_small_ones(tmp_path):
    wide, small = tmp_path / "wide.png", tmp_path / "small.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (300, 1800, 3), dtype=np.uint8)).save(wide)
    Image.fromarray(np.full((40, 60, 3), 200, dtype=np.uint8)).save(small)
    with Image.open(io.BytesIO(figures.figure_preview(wide, width=900))) as preview:
        assert preview.format == "PNG" and preview.size == (900, 150)
    with Image.open(io.BytesIO(figures.figure_preview(small, width=900))) as preview, Image.open(small) as image:
        assert preview.size == (60, 40) and np.array_equal(np.array(preview), np.array(image))
    with Image.open(wide) as original:
        assert original.size == (1800, 300)  # the file itself is untouched

def test_compare_set_writes_the_images_and_one_figure_each(eval_lists, tmp_path):
    written = figures.compare_set({"bicubic": None}, eval_lists / "Set5.csv", tmp_path / "Set5", max_images=1,
                                     zoom_box=(100, 100, 48, 64), progress=False)
    assert [entry["name"] for entry in written] == ["baby"]
    assert written[0]["images"] == {"bicubic": tmp_path / "Set5" / "bicubic" / "baby.png"}
    assert written[0]["figure"] == tmp_path / "Set5" / "compare_baby.png" and written[0]["figure"].is_file()
    assert load_image(written[0]["images"]["bicubic"]).shape == (512, 512, 3)


def test_saved_images_are_scored_as_the_per_image_table_and_a_different_image_is_named(eval_lists, tmp_path):
    """experiments/score_saved_images.py scores PNGs written by figures.compare_set exactly as test.ipynb scored the
    model (same PSNR and SSIM), and refuses a saved image that is not the one the table scored."""
    script = experiment_script("score_saved_images")
    list_path, images = eval_lists / "Set5.csv", tmp_path / "Set5"
    figures.compare_set({"bicubic": None}, list_path, images, progress=False)
    evaluation.evaluate_dataset(None, list_path, "Set5", results_folder=tmp_path, progress=False)
    rows = script.score_saved(images, list_path, None)
    assert [row["name"] for row in rows] == ["baby", "bird", "butterfly", "head", "woman"]
    script.check_against(rows, tmp_path / "per_image")
    assert all(math.isnan(row["niqe"]) for row in rows)  # no pristine model given

    bird = load_image(images / "bicubic" / "bird.png")
    bird[50, 50] = 255 - bird[50, 50]
    Image.fromarray(bird).save(images / "bicubic" / "bird.png")
    with pytest.raises(ValueError, match="bicubic_Set5.csv: bird psnr"):
        script.check_against(script.score_saved(images, list_path, None), tmp_path / "per_image")


def test_the_regions_figure_shows_each_region_of_every_model_and_refuses_a_box_outside(tmp_path):
    import skimage.data

    hr = as_rgb(skimage.data.astronaut()[:200, :240])
    folder = tmp_path / "Set5"
    for model, image in (("srresnet", hr // 2), ("srgan", hr)):
        save_image(folder / model / "bird.png", image)
    save_image(tmp_path / "bird.png", hr)
    list_path = tmp_path / "Set5.csv"
    list_path.write_text(f"hr_path,lr_path,hr_height,hr_width\n{tmp_path / 'bird.png'},,200,240\n")
    images = figures.saved_set_images(folder, ["srresnet", "srgan"], list_path)
    assert list(images) == ["SRResNet", "SRGAN", "HR"] and np.array_equal(images["HR"]["bird"], hr)
    regions = (("bird", "beak", (40, 160, 96, 64)), ("head", "hair", (0, 0, 8, 8)),  # no head: left out
               ("bird", "cheek", (150, 160, 96, 64)))  # not inside this bird: left out
    figure = figures.regions_figure(images, regions)
    assert len(figure.axes) == 3 and figure.axes[0].get_ylabel() == "bird: beak"
    assert np.array_equal(figure.axes[1].images[0].get_array(), hr[40:136, 160:224])
    assert figures.regions_figure(images, regions[1:]) is None
    with pytest.raises(ValueError, match="baseline/bird.png: cannot read as an image"):
        figures.saved_set_images(folder, ["srgan", "baseline"], list_path)
    assert figures.saved_set_images(folder, ["srgan", "baseline"], list_path, max_images=0) == {
        "SRGAN": {}, "GAN from scratch": {}, "HR": {}}

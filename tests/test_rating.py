"""rating.py: the blind rating page (driven in a real headless Chromium), whose downloads ``mos.analyse`` reads,
and the notebook's rating cells (tests/test_mos.py: the MOS analysis itself)."""
import csv
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from test_mos import read_csv, write_ratings

import mos
import rating
from utils import load_image, save_image

METHODS = ("nearest", "bicubic", "srresnet", "srgan", "baseline", "hr")
IMAGES = ("baby", "bird", "butterfly", "head", "woman")  # Set5's names, small synthetic pictures
CHROMEDRIVER = Path("/usr/bin/chromedriver")  # Debian's chromium-driver (.ci/run installs it)


def synthetic_versions(size=(24, 32)):
    """``{image: {method: uint8 HxWx3}}`` for the five names and six methods: random pixels, all different."""
    rng = np.random.default_rng(0)
    return {image: {method: rng.integers(0, 256, (*size, 3), dtype=np.uint8) for method in METHODS}
            for image in IMAGES}


# ----------------------------------------------------------------------------------------------
# The page without a browser
# ----------------------------------------------------------------------------------------------
def test_page_holds_ids_but_not_the_key(tmp_path):
    written = rating.write_rating_page(synthetic_versions(), "Set5", tmp_path / "rating", seed=3)
    key = read_csv(written["key"])
    assert [(row["image"], row["method"]) for row in key] == [(i, m) for i in IMAGES for m in METHODS]
    assert {row["set"] for row in key} == {"Set5"} and len({row["version"] for row in key}) == 30
    assert written["versions"] == 30

    html = written["page"].read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html and "<script src" not in html  # no network
    for method in ("nearest", "bicubic", "srresnet", "srgan", "baseline", "SRResNet", "SRGAN", "Bicubic"):
        assert method not in html
    data = json.loads(html.split('<script type="application/json" id="page-data">')[1].split("</script>")[0])
    assert sorted(v["version"] for v in data["versions"]) == sorted(row["version"] for row in key)
    assert set(data["versions"][0]) == {"image", "version", "src"}  # image name, anonymous id, pixels: no method
    shown = [(v["image"], v["version"]) for v in data["versions"]]
    assert shown != [(row["image"], row["version"]) for row in key]  # listed in random order, not the key's
    assert (data["scores"], data["labels"], data["columns"]) == (
        list(rating.SCORES), list(rating.SCORE_LABELS), list(rating.RATING_COLUMNS))  # the page's one source


def test_page_file_repeats_no_label_or_column_and_names_cannot_end_the_script(tmp_path, monkeypatch):
    """rating.html (found beside rating.py from any directory) types no score label and no CSV header; a set or
    image name holding "</script>" or "<!--" stays inside the JSON of the page-data element."""
    source = (Path(rating.__file__).resolve().parent / "rating.html").read_text(encoding="utf-8")
    for label in rating.SCORE_LABELS:
        assert label not in source.lower()
    assert ",".join(rating.RATING_COLUMNS) not in source and "1&ndash;5" not in source and "[1-5]" not in source

    monkeypatch.chdir(tmp_path)
    hostile = "</script><script>alert(1)</script><!--"
    versions = {hostile: synthetic_versions()["bird"]}
    written = rating.write_rating_page(versions, "Set</SCRIPT>5", "rating", seed=0)
    html = written["page"].read_text(encoding="utf-8")
    raw = html.split('<script type="application/json" id="page-data">')[1].split("</script>")[0]
    assert html.lower().count("</script>") == source.count("</script>") and "<" not in raw  # "<" as \u003c
    data = json.loads(raw)
    assert data["set"] == "Set</SCRIPT>5" and {v["image"] for v in data["versions"]} == {hostile}


def test_page_refuses_to_replace_a_page_and_versions_of_different_sizes(tmp_path):
    versions = synthetic_versions()
    rating.write_rating_page(versions, "Set5", tmp_path, seed=0)
    before = (tmp_path / "key.csv").read_text()
    with pytest.raises(FileExistsError, match="exists already"):
        rating.write_rating_page(versions, "Set5", tmp_path, seed=1)
    assert (tmp_path / "key.csv").read_text() == before
    rating.write_rating_page(versions, "Set5", tmp_path, seed=1, overwrite=True)
    assert (tmp_path / "key.csv").read_text() != before

    versions["bird"]["hr"] = np.zeros((28, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="differ in size"):
        rating.write_rating_page(versions, "Set5", tmp_path / "other")
    del versions["bird"]["hr"]
    with pytest.raises(ValueError, match="methods"):
        rating.write_rating_page(versions, "Set5", tmp_path / "other")
    assert not (tmp_path / "other").exists()


def make_tiny_set(folder, sr_folder, models=("bicubic", "srgan")):
    """Two random 32x40 HR images with their 8x10 LR in ``folder`` and a data list ``folder/Tiny.csv`` of them;
    random SR images ``sr_folder/<model>/<name>.png`` as ``super_resolve_set`` writes them. Returns the list."""
    rng = np.random.default_rng(1)
    rows = []
    for name in ("one", "two"):
        hr, lr = rng.integers(0, 256, (32, 40, 3), np.uint8), rng.integers(0, 256, (8, 10, 3), np.uint8)
        save_image(folder / "HR" / f"{name}.png", hr)
        save_image(folder / "LR" / f"{name}x4.png", lr)
        rows.append({"hr_path": folder / "HR" / f"{name}.png", "lr_path": folder / "LR" / f"{name}x4.png",
                     "hr_height": 32, "hr_width": 40})
        for model in models:
            save_image(Path(sr_folder) / model / f"{name}.png", rng.integers(0, 256, (32, 40, 3), np.uint8))
    list_path = folder / "Tiny.csv"
    with open(list_path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return list_path


def test_set_versions_and_the_page_command(tmp_path, capsys):
    """From a data list and the folders of super_resolve_set: nearest neighbour of the LR, each model, the HR."""
    list_path = make_tiny_set(tmp_path, tmp_path / "Tiny")
    versions = rating.set_versions(list_path, tmp_path / "Tiny", ["bicubic", "srgan"])
    assert list(versions) == ["one", "two"] and list(versions["one"]) == ["nearest", "bicubic", "srgan", "hr"]
    lr = load_image(tmp_path / "LR" / "onex4.png")
    assert np.array_equal(versions["one"]["nearest"][::4, ::4], lr)
    assert np.array_equal(versions["one"]["nearest"][3::4, 3::4], lr)
    assert np.array_equal(versions["one"]["hr"], load_image(tmp_path / "HR" / "one.png"))

    out = tmp_path / "page"
    assert rating.main(["page", "--list", str(list_path), "--sr-folder", str(tmp_path / "Tiny"),
                        "--models", "bicubic", "srgan", "--out", str(out)]) == 0
    assert {row["set"] for row in read_csv(out / "key.csv")} == {"Tiny"} and len(read_csv(out / "key.csv")) == 8
    assert rating.run_main(rating.main, ["page", "--list", str(list_path), "--sr-folder", str(tmp_path / "Tiny"),
                                         "--models", "srresnet", "--out", str(tmp_path / "page2")]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: ") and "srresnet" in error and "Traceback" not in error
    (tmp_path / "Tiny" / "baseline").mkdir()  # without --models: every model folder there is (none missing)
    save_image(tmp_path / "Tiny" / "baseline" / "one.png", load_image(tmp_path / "HR" / "one.png"))
    save_image(tmp_path / "Tiny" / "baseline" / "two.png", load_image(tmp_path / "HR" / "two.png"))
    assert rating.main(["page", "--list", str(list_path), "--sr-folder", str(tmp_path / "Tiny"),
                        "--out", str(tmp_path / "page3")]) == 0
    assert {row["method"] for row in read_csv(tmp_path / "page3" / "key.csv")} == {
        "nearest", "baseline", "bicubic", "srgan", "hr"}


def test_notebook_cells_write_the_page_then_show_the_mos_table(tmp_path):
    """The rating cells of super_resolution.ipynb, run with the notebook's names: the page is written once and
    then kept; the MOS cell waits for ratings, then shows the table."""
    cells = json.loads((Path(__file__).resolve().parents[1] / "super_resolution.ipynb").read_text(encoding="utf-8"))
    page_cell, mos_cell = ["".join(cell["source"]) for cell in cells["cells"]
                           if cell["cell_type"] == "code" and ("rating." in "".join(cell["source"])
                                                               or "mos." in "".join(cell["source"]))]
    results = tmp_path / "results"
    shown = []
    names = {"os": os, "display": shown.append, "results_folder": str(results), "max_images": None,
             "set5_list": str(make_tiny_set(tmp_path, results / "Set5")), "new_rating_page": False,
             "models": {"bicubic": None, "srgan": object()}}
    exec(page_cell, names)
    key = read_csv(results / "rating" / "key.csv")
    assert len(key) == 8 and {row["method"] for row in key} == {"nearest", "bicubic", "srgan", "hr"}
    exec(page_cell, names)  # a second run keeps the page (it may have been rated)
    assert read_csv(results / "rating" / "key.csv") == key
    exec(mos_cell, names)
    assert not shown and not (results / "mos.md").exists()

    (results / "ratings").mkdir()
    write_ratings(results / "ratings" / "ann.csv",
                  [f"ann,Set5,{row['image']},{row['version']},{3 + (row['method'] == 'hr')},1" for row in key])
    exec(mos_cell, names)
    assert "| HR | 4.00 [4.00, 4.00] (2) |" in shown[0].data and (results / "mos.csv").is_file()


# ----------------------------------------------------------------------------------------------
# The page in a real browser
# ----------------------------------------------------------------------------------------------
@pytest.fixture
def browser(tmp_path):
    """Headless Chromium (Debian's chromedriver, never a download) saving downloads to ``tmp_path/downloads``."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    if not CHROMEDRIVER.is_file():
        pytest.skip(f"{CHROMEDRIVER} not found (apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--user-data-dir={tmp_path / 'profile'}", "--window-size=900,900"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.downloads = downloads
    yield driver
    driver.quit()


def _wait(condition, timeout=10.0, what="the page"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _intended_score(image, method):
    """The score the test gives each version: depends on its hidden method (and image), so a score credited to
    the wrong method shows in the CSV."""
    return {"nearest": 1, "bicubic": 2, "srresnet": 3, "srgan": 4, "baseline": 2, "hr": 5}[method] - (
        image == "head" and method in ("srgan", "hr"))


def test_rate_all_of_a_set_with_the_keyboard_reload_halfway_and_download(tmp_path, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    written = rating.write_rating_page(synthetic_versions(), "Set5", tmp_path / "rating", seed=7)
    key = {row["version"]: row for row in read_csv(written["key"])}
    browser.get(written["page"].as_uri())
    data = json.loads(browser.find_element(By.ID, "page-data").get_attribute("textContent"))
    version_of_src = {v["src"]: v["version"] for v in data["versions"]}

    def keys(text):
        ActionChains(browser).send_keys(text).perform()

    browser.find_element(By.ID, "rater").click()
    keys("Ann O'Neil, \"tester\"" + Keys.ENTER)  # a name that needs CSV quoting
    _wait(lambda: browser.find_element(By.ID, "calibration").is_displayed(), what="the calibration")
    shown = [browser.find_element(By.ID, f"calibration-{end}").get_attribute("src") for end in ("low", "high")]
    assert shown == [data["calibration"]["low"], data["calibration"]["high"]]
    browser.find_element(By.ID, "calibration-button").click()

    given, order = {}, []
    for index in range(30):
        if index == 13:  # reload in the middle: nothing is lost, rating goes on where it stopped
            browser.refresh()
        _wait(lambda: browser.execute_script("return document.getElementById('rate').dataset.ready !== undefined"),
              what=f"image {index + 1}")
        assert browser.find_element(By.ID, "progress-text").text.endswith(f"image {index + 1} of 30")
        version = version_of_src[browser.find_element(By.ID, "photo").get_attribute("src")]
        given[version] = _intended_score(key[version]["image"], key[version]["method"])
        order.append(version)
        keys(str(given[version]))
    _wait(lambda: browser.find_element(By.ID, "end").is_displayed(), what="the end page")
    assert len(set(order)) == 30 and order != [v["version"] for v in data["versions"]]  # each once, shuffled

    browser.find_element(By.ID, "download-button").click()
    files = _wait(lambda: [path for path in browser.downloads.glob("*.csv")], what="the download")
    assert files[0].name == "ratings_Set5_Ann_O_Neil_tester_.csv"
    rows = read_csv(files[0])
    assert list(rows[0]) == list(rating.RATING_COLUMNS) and len(rows) == 30
    assert {row["rater"] for row in rows} == {"Ann O'Neil, \"tester\""} and {row["set"] for row in rows} == {"Set5"}
    assert [row["version"] for row in rows] == order
    assert {row["version"]: int(row["score"]) for row in rows} == given
    for row in rows:  # each score is the one meant for the version's hidden method
        assert int(row["score"]) == _intended_score(key[row["version"]]["image"], key[row["version"]]["method"])
        assert row["image"] == key[row["version"]]["image"] and float(row["seconds"]) >= 0

    result = mos.analyse(files, [written["key"]], tmp_path / "results")
    mos_of = {row["method"]: row["mos"] for row in result["rows"]}
    assert mos_of == pytest.approx({"nearest": 1, "bicubic": 2, "srresnet": 3, "srgan": 3.8, "baseline": 2, "hr": 4.8})


def test_the_page_takes_its_labels_and_csv_columns_from_python(tmp_path, browser, monkeypatch):
    """Other labels and another column order in rating.py: the page shows those labels and downloads those
    columns (nothing in rating.html repeats them)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    monkeypatch.setattr(rating, "SCORE_LABELS", ("awful", "meh", "so-so", "nice", "superb"))
    monkeypatch.setattr(rating, "RATING_COLUMNS", tuple(reversed(rating.RATING_COLUMNS)))
    written = rating.write_rating_page({"bird": synthetic_versions()["bird"]}, "Set5", tmp_path / "rating", seed=1)
    browser.get(written["page"].as_uri())
    assert browser.title == "Image quality rating (Set5)"
    assert "You will see 6 images" in browser.find_element(By.ID, "start").text
    assert "from 1 (awful) to 5 (superb), with the keys 1\u20135" in browser.find_element(By.ID, "start").text
    buttons = browser.find_elements(By.CSS_SELECTOR, "#scores button")
    assert [button.get_attribute("textContent") for button in buttons] == [
        "1awful", "2meh", "3so-so", "4nice", "5superb"]

    browser.find_element(By.ID, "rater").click()
    ActionChains(browser).send_keys("Bo" + Keys.ENTER).perform()
    _wait(lambda: browser.find_element(By.ID, "calibration").is_displayed(), what="the calibration")
    assert "This is a 1 (awful)" in browser.find_element(By.ID, "calibration").text
    assert "This is a 5 (superb)" in browser.find_element(By.ID, "calibration").text
    browser.find_element(By.ID, "calibration-button").click()
    for index in range(6):
        _wait(lambda: browser.execute_script("return document.getElementById('rate').dataset.ready !== undefined"),
              what=f"image {index + 1}")
        ActionChains(browser).send_keys("3").perform()
    _wait(lambda: browser.find_element(By.ID, "end").is_displayed(), what="the end page")
    browser.find_element(By.ID, "download-button").click()
    files = _wait(lambda: [path for path in browser.downloads.glob("*.csv")], what="the download")
    rows = read_csv(files[0])
    assert list(rows[0]) == ["seconds", "score", "version", "image", "set", "rater"] and len(rows) == 6
    assert {(row["rater"], row["set"], row["image"], row["score"]) for row in rows} == {("Bo", "Set5", "bird", "3")}

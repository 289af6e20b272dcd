"""NIQE against the authors' MATLAB release (Set14 baboon), its parts on synthetic data, and how the pristine model
is found, checked and downloaded."""
import shutil

import numpy as np
import pytest
import scipy.stats

import niqe
from utils import load_image

MATLAB_BABOON = 5.7296  # MATLAB niqe_release on Set14 baboon.png (HR, Y channel, no crop): ../shared/niqe/PROVENANCE.md


@pytest.fixture(scope="module")
def pristine_folder(shared_data, niqe_model):
    """The folder of the authors' pristine model beside the shared images (skipped without it)."""
    return shared_data.parent / "niqe"


def test_niqe_of_baboon_matches_matlab(shared_data, niqe_model):
    image = load_image(shared_data / "Set14" / "HR" / "baboon.png")
    assert niqe.calc_niqe(image, niqe_model, crop_border=0) == pytest.approx(MATLAB_BABOON, abs=1e-3)


def test_niqe_ranks_blur_and_noise_worse_than_the_photograph(shared_data, niqe_model):
    from scipy.ndimage import gaussian_filter
    model = niqe_model
    image = load_image(shared_data / "Set14" / "HR" / "baboon.png")
    blurred = np.round(gaussian_filter(image.astype(float), sigma=(2, 2, 0))).astype(np.uint8)
    noisy = np.clip(image + np.random.default_rng(0).normal(0, 25, image.shape), 0, 255).round().astype(np.uint8)
    clean = niqe.calc_niqe(image, model)
    assert niqe.calc_niqe(blurred, model) > clean + 1 and niqe.calc_niqe(noisy, model) > clean + 1


def test_aggd_fit_recovers_shape_and_widths():
    rng = np.random.default_rng(0)
    for shape in (0.8, 1.0, 2.0):  # Laplacian-like, Laplacian, Gaussian
        samples = scipy.stats.gennorm.rvs(shape, size=(2, 200_000), random_state=rng)
        alpha, left, right = niqe.fit_aggd(samples)
        assert alpha == pytest.approx([shape, shape], abs=0.03)
        assert left == pytest.approx(right, rel=0.02)
    samples = scipy.stats.gennorm.rvs(2.0, size=(1, 200_000), random_state=rng)
    samples = np.where(samples < 0, samples * 0.5, samples * 2.0)  # left half narrower
    alpha, left, right = niqe.fit_aggd(samples)
    # the widths keep their ratio; the shape is MATLAB's (Lasmar et al.'s correction for asymmetry, not exact)
    assert right[0] / left[0] == pytest.approx(4.0, rel=0.03) and 1.0 < alpha[0] < 1.3


def test_niqe_needs_one_whole_block():
    with pytest.raises(ValueError, match="too small for NIQE"):
        niqe.niqe_features(np.zeros((95, 300)))
    assert niqe.niqe_features(np.random.default_rng(0).uniform(0, 255, (200, 300))).shape == (2 * 3, 36)


def test_pristine_model_is_found_checked_and_downloaded(pristine_folder, tmp_path, monkeypatch):
    monkeypatch.delenv("SRGAN_NIQE_MODEL", raising=False)
    model = niqe.load_pristine_model(pristine_folder)
    assert model.mu.shape == (36,) and model.cov.shape == (36, 36)
    # the same from the file, and through the environment variable
    assert np.array_equal(niqe.load_pristine_model(pristine_folder / niqe.PRISTINE_FILE).cov, model.cov)
    monkeypatch.setenv("SRGAN_NIQE_MODEL", str(pristine_folder))
    assert np.array_equal(niqe.load_pristine_model().mu, model.mu)
    monkeypatch.delenv("SRGAN_NIQE_MODEL")
    # a download (here from a file URL) is checked, then cached; the next call reads the cache
    cache = tmp_path / "cache"
    url = (pristine_folder / niqe.PRISTINE_FILE).as_uri()
    assert np.array_equal(niqe.load_pristine_model(cache_folder=cache, urls=(url,)).mu, model.mu)
    assert (cache / niqe.PRISTINE_FILE).is_file()
    assert np.array_equal(niqe.load_pristine_model(cache_folder=cache, urls=()).mu, model.mu)
    # other numbers are refused, naming the file; nothing is cached from a bad download
    bad = tmp_path / "bad.npz"
    np.savez(bad, mu=model.mu + 1e-9, cov=model.cov)
    with pytest.raises(ValueError, match="bad.npz: not the NIQE authors' pristine model"):
        niqe.load_pristine_model(bad)
    with pytest.raises(FileNotFoundError, match="could not be downloaded.*SRGAN_NIQE_MODEL"):
        niqe.load_pristine_model(cache_folder=tmp_path / "other", urls=(bad.as_uri(), (tmp_path / "no").as_uri()))
    assert not (tmp_path / "other" / niqe.PRISTINE_FILE).exists()
    # BasicSR's key names are read too
    basicsr = tmp_path / "basicsr" / "niqe_pris_params.npz"
    basicsr.parent.mkdir()
    np.savez(basicsr, mu_pris_param=model.mu[None], cov_pris_param=model.cov)
    assert np.array_equal(niqe.load_pristine_model(basicsr.parent).mu, model.mu)
    shutil.rmtree(basicsr.parent)
    with pytest.raises(FileNotFoundError, match="NIQE pristine model not found"):
        niqe.load_pristine_model(basicsr)


def test_a_missing_model_gives_none_and_one_note_saying_how_to_get_it(tmp_path, monkeypatch, capsys):
    """What test.ipynb does without the model (a path that is not there; offline with nothing cached): NIQE n/a,
    one printed note; a file that is there but is not the model still stops it."""
    monkeypatch.delenv("SRGAN_NIQE_MODEL", raising=False)
    assert niqe.load_pristine_model_or_none(tmp_path / "no_niqe") is None
    assert niqe.load_pristine_model_or_none(cache_folder=tmp_path / "cache", urls=((tmp_path / "no").as_uri(),)) is None
    notes = capsys.readouterr().out.splitlines()
    assert len(notes) == 2 and all(note.startswith("NIQE n/a: ") and niqe.HOW_TO_GET in note for note in notes)
    assert "no_niqe: NIQE pristine model not found" in notes[0] and "could not be downloaded" in notes[1]
    bad = tmp_path / "bad.npz"
    np.savez(bad, mu=np.zeros(36), cov=np.eye(36))
    with pytest.raises(ValueError, match="bad.npz: not the NIQE authors' pristine model"):
        niqe.load_pristine_model_or_none(bad)

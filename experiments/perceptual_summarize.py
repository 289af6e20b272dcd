"""Issue 25: the table and the zoomed crops of the content-loss experiments of ``perceptual.sh``, on the held-out
images only (never a test set), to choose the reported SRGAN's content loss.

Usage, from the work tree where ``perceptual.sh`` ran (the project's modules importable):
    python experiments/perceptual_summarize.py SRRESNET.pth [RUN ...]      # default: every run under runs/
Writes, in ``logs/summary/``:
- ``metrics.csv`` / ``metrics.md`` and ``per_image/``: every score (PSNR, SSIM, grid, texture, NIQE, added energy in Y
  and chroma) of the SRResNet the runs start from, of each run's ``srgan_last.pth`` (its moving average of G) and of
  the HR images themselves (their NIQE), on ``data_lists/val.csv``;
- ``crops/compare_<image>.png``: the start and each run on every held-out image, with the most detailed region
  enlarged, to look at before choosing;
- ``tradeoffs.png``: each run's path after each epoch in the planes of PSNR against NIQE and against added chroma,
  from the start (``curves.plot_tradeoffs``, on ``logs/<run>/srgan_epochs.csv``).
NIQE's pristine model: ``$SRGAN_NIQE_MODEL`` (``niqe.load_pristine_model``). Bicubic is scored too.

How the content loss is chosen (fixed before the runs, 2026-11-30): among the runs whose held-out PSNR is at most
2.5 dB below the start's (the distortion budget), the lowest NIQE, provided its added chroma energy (colour
speckle) is not above the MSE run's and its crops show no mesh or speckle where the HR is plain; NIQE alone never
decides (noise lowers it). If no feature loss beats MSE so, MSE stays.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from curves import plot_tradeoffs  # noqa: E402
from evaluation import evaluate_all  # noqa: E402
from figures import compare_set, save_figure  # noqa: E402
from inference import load_models  # noqa: E402
from niqe import load_pristine_model  # noqa: E402


def main(start_checkpoint, names):
    runs = Path("runs")
    names = names or sorted(path.name for path in runs.iterdir() if (path / "srgan_last.pth").is_file())
    models = load_models({"start": start_checkpoint, **{name: runs / name / "srgan_last.pth" for name in names}},
                         include_bicubic=True)
    out = Path("logs") / "summary"
    summaries = evaluate_all(models, "data_lists", datasets=("val",), results_folder=out, progress=False,
                             niqe_model=load_pristine_model())
    for s in summaries:
        print(f"{s['model']:>14}: {s['psnr']:6.2f} dB, SSIM {s['ssim']:.4f}, NIQE {s['niqe']:5.2f}, grid "
              f"{s['grid']:4.2f}, texture {s['texture']:4.2f}, added {s['added']:4.2f} / {s['added_chroma']:4.2f}")
    compare_set(models, "data_lists/val.csv", out / "crops", progress=False)
    scores = {s["model"]: s for s in summaries}
    save_figure(plot_tradeoffs({name: Path("logs") / name / "srgan_epochs.csv" for name in names},
                               start=scores["start"], hr={"niqe": scores["hr"]["niqe"]}), out / "tradeoffs.png")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python experiments/perceptual_summarize.py SRRESNET.pth [RUN ...]")
    main(sys.argv[1], sys.argv[2:])

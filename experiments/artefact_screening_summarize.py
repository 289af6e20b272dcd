"""Issue 37: the screening's table, frontier figure, D's outputs and crops, on the held-out images only (never a
test set), ranked by ``selection.py``'s rule.

Usage, from the repository (its modules importable), after ``artefact_screening.sh`` ran in RUN_DIR:
    python experiments/artefact_screening_summarize.py --runs RUN_DIR/screening --lists RUN_DIR/data_lists \\
        --srresnet SRRESNET_RUN/checkpoints/srresnet_best.pth --srresnet-log SRRESNET_RUN/logs/srresnet_epochs.csv \\
        --out results/logs/screening [RUN ...]        # default: every run with an epochs log
Writes, in OUT:
- ``<run>/srgan_epochs.csv`` and ``srgan_iterations.csv``: copies of each run's logs;
- ``summary.md`` / ``summary.csv``: one run per row, best first: what it changes against the reference (from its
  kept checkpoint's settings), its seed, the epoch the rule chooses and every held-out score there, D's outputs;
- ``start.csv``: the SRResNet's and the HR images' own held-out scores (NIQE included);
- ``frontier.png``: ``curves.plot_frontier``, every run's epochs as a path from the SRResNet, the rule's limits, the
  chosen epochs circled;
- ``discriminator.png``: D's mean output on fixed training and held-out crops after each epoch, HR and SR;
- ``crops/compare_<image>.png``: the SRResNet and each run's chosen epoch on every held-out image, with the most
  detailed region enlarged, to look at before anything is said about them.
NIQE's pristine model: ``$SRGAN_NIQE_MODEL`` (``niqe.load_pristine_model``).
"""
import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from artefact_screening_next import run_changes, run_config, setting_text  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

import selection  # noqa: E402
from curves import plot_frontier  # noqa: E402
from evaluation import evaluate_all  # noqa: E402
from figures import compare_set, save_figure  # noqa: E402
from inference import load_models  # noqa: E402
from niqe import load_pristine_model  # noqa: E402
from utils import read_csv, write_csv  # noqa: E402

SCORES = ("psnr", "ssim", "niqe", "added", "added_chroma", "grid")
PROBES = ("d_train_real", "d_val_real", "d_train_fake", "d_val_fake")


def discriminator_figure(logs):
    """D's mean output (P(real)) after each epoch on fixed training and held-out crops: one panel per run."""
    figure = Figure(figsize=(3.2 * len(logs), 3.2), layout="constrained")
    axes = figure.subplots(1, len(logs), squeeze=False, sharey=True)[0]
    for axis, (label, rows) in zip(axes, logs.items()):
        epochs = [int(row["epoch"]) for row in rows]
        for key, style in zip(PROBES, ("-", "--", "-", "--")):
            color = "tab:blue" if key.endswith("real") else "tab:red"
            axis.plot(epochs, [float(row.get(key) or "nan") for row in rows], style, color=color, marker=".",
                      label={"d_train_real": "HR, training crops", "d_val_real": "HR, held-out crops",
                             "d_train_fake": "SR, training crops", "d_val_fake": "SR, held-out crops"}[key])
        axis.set(title=label, xlabel="epoch", ylim=(0, 1))
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("D's mean output (P(real))")
    axes[0].legend(fontsize=7)
    return figure


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=Path, required=True, help="RUN_DIR/screening")
    parser.add_argument("--lists", type=Path, required=True, help="the data lists the runs used (val.csv)")
    parser.add_argument("--srresnet", type=Path, required=True, help="the SRResNet checkpoint the runs start from")
    parser.add_argument("--srresnet-log", type=Path, required=True, help="its srresnet_epochs.csv")
    parser.add_argument("--out", type=Path, default=Path("results/logs/screening"))
    parser.add_argument("names", nargs="*", help="runs (default: all with an epochs log)")
    args = parser.parse_args(argv)
    names = args.names or sorted(path.name for path in args.runs.iterdir()
                                 if (path / "logs" / "srgan_epochs.csv").is_file())
    logs = {}
    for name in names:
        for log in ("srgan_epochs.csv", "srgan_iterations.csv"):
            (args.out / name).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(args.runs / name / "logs" / log, args.out / name / log)
        logs[name] = args.out / name / "srgan_epochs.csv"

    reference = selection.srresnet_reference(args.srresnet_log)
    ranked = selection.rank_runs(logs, reference)
    chosen = {label: int(row["epoch"]) for label, row, _ in ranked}

    # The SRResNet's and the HR's own held-out scores (NIQE is not validated in phase 1), and every chosen epoch's
    # images for the crops.
    models = load_models({"srresnet": args.srresnet, **{label: run_config(args.runs, label, epoch)[1]
                                                         for label, epoch in chosen.items()}}, include_bicubic=False)
    start = evaluate_all({"srresnet": models["srresnet"]}, args.lists, datasets=("val",), results_folder=None,
                         progress=False, niqe_model=load_pristine_model())
    by_model = {summary["model"]: summary for summary in start}
    write_csv(args.out / "start.csv", [{"model": s["model"], **{k: s[k] for k in SCORES}} for s in start])
    compare_set(models, args.lists / "val.csv", args.out / "crops", progress=False)

    rows = []
    for label, row, admissible in ranked:
        config = run_config(args.runs, label, int(row["epoch"]))[0]
        updates = sum(int(r["iterations"]) for r in read_csv(logs[label]) if int(r["epoch"]) <= int(row["epoch"]))
        change = ", ".join(f"{key}={setting_text(key, value)}" for key, value in run_changes(args.runs, label).items())
        rows.append({"run": label, "change": change or "(today's recipe)",
                     "seed": config["seed"], "epochs run": len(read_csv(logs[label])), "chosen epoch": row["epoch"],
                     "updates": updates, "within limits": "yes" if admissible else "no",
                     "violation": f"{selection.violation(row, reference):.2f}",
                     **{score: f"{float(row[f'val_{score}']):.3f}" for score in SCORES},
                     **{key: f"{float(row.get(key) or 'nan'):.3f}" for key in PROBES}})
    write_csv(args.out / "summary.csv", rows)
    limits = {score: reference[score] + allowance if direction == "max" else reference[score] - allowance
              for score, (allowance, direction) in selection.LIMITS.items()}
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(str(value) for value in row.values()) + " |" for row in rows]
    srresnet = by_model["srresnet"]
    (args.out / "summary.md").write_text(
        f"SRResNet (held-out, its epoch {reference['epoch']}): PSNR {reference['psnr']:.2f} dB, NIQE "
        f"{srresnet['niqe']:.2f}, added {reference['added']:.2f} / chroma {reference['added_chroma']:.2f}; the HR "
        f"images' own NIQE {by_model['hr']['niqe']:.2f}.\nThe rule's limits: added <= {limits['added']:.2f}, chroma <= "
        f"{limits['added_chroma']:.2f}, PSNR >= {limits['psnr']:.2f} dB; of the epochs within them, the lowest "
        f"NIQE.\n\n" + "\n".join(lines) + "\n")
    save_figure(plot_frontier(logs, {"niqe": srresnet["niqe"], **reference}, limits, chosen), args.out / "frontier.png")
    save_figure(discriminator_figure({label: read_csv(path) for label, path in logs.items()}),
                args.out / "discriminator.png")
    print((args.out / "summary.md").read_text())


if __name__ == "__main__":
    main()

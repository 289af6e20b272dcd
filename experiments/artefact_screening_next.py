"""Issue 37: the screening's next runs, by the steps written before it started (report_appendix A15, ``selection``'s
``combination_runs``, ``second_seed_runs`` and ``winner``), from the runs' held-out epochs logs only.

Usage, from the repository (its modules importable), in the folder of ``artefact_screening.sh``'s runs:
    python experiments/artefact_screening_next.py combination --runs RUN_DIR/screening --srresnet-log LOG
        -> the KEY=VALUE settings of the combination (artefact_screening.sh's COMBINED_OPTIONS)
    python experiments/artefact_screening_next.py seeds --runs RUN_DIR/screening --srresnet-log LOG
        -> the runs to repeat with seed 1 (names for artefact_screening.sh)
    python experiments/artefact_screening_next.py winner --runs RUN_DIR/screening --srresnet-log LOG
        -> WINNER_DIR=... and WINNER_OPTIONS=... (YAML pairs) for final_training.sh, as shell assignments
LOG: the SRResNet's ``srresnet_epochs.csv`` (the rule's reference). Each step checks that the runs it ranks
(``--screened``, then the combination and the second seeds) have ended (``--epochs``) and says on stderr what it
ranked; a run not ended or missing is an error naming it.
"""
import argparse
import shlex
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import selection  # noqa: E402
from training import changed_settings, epoch_checkpoint_path  # noqa: E402
from utils import load_checkpoint, read_csv  # noqa: E402

REFERENCE, COMBINED = "reference", "combined"
SCREENED = ("reference", "d_luminance", "d_augment", "ldl", "spectral")  # artefact_screening.sh's one-change runs
FINAL_SETTINGS = ("srgan_epochs", "srgan_lr_decay_epochs", "val_niqe")  # final_training.sh sets these itself


def run_config(runs, name, epoch=1):
    """The settings run ``name`` trained with (its kept generator after ``epoch``), and the checkpoint's path."""
    path = epoch_checkpoint_path(runs / name / "checkpoints", "srgan", epoch)
    return load_checkpoint(path)["config"], path


def run_changes(runs, name):
    """``{key: value}``: the settings of run ``name`` that change training and differ from the reference run's,
    the seed left out (it is the run name's ``_seedN``)."""
    changes = changed_settings(run_config(runs, REFERENCE)[0], run_config(runs, name)[0], "srgan")
    return {key: new for key, (_, new) in changes.items() if key != "seed"}


def setting_text(key, value):
    """A setting's value as the command line writes it (``settings.parse_value`` reads it back: ``true``, ``none``,
    ``18,`` for a one-element tuple, ``()`` for an empty one). ``ValueError`` for text it could not read back."""
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value)) + ("," if len(value) == 1 else "") if value else "()"
    if isinstance(value, str) and (not value or any(c in value for c in " ,=()")):
        raise ValueError(f"setting {key}={value!r}: not writable as one KEY=VALUE word")
    return str(value)


def yaml_text(value):
    """A setting's value as YAML writes it in a flow mapping (``1.0e-05``, not ``1e-05``, which YAML reads as text)."""
    return yaml.safe_dump(value, default_flow_style=True).removesuffix("...\n").strip()


def ranked(runs, names, reference, epochs):
    """``selection.rank_runs`` of ``names``, each checked to have ended: ``epochs`` epochs logged."""
    logs = {}
    for name in names:
        logs[name] = runs / name / "logs" / "srgan_epochs.csv"
        done = len(read_csv(logs[name])) if logs[name].is_file() else 0
        if done < epochs:
            raise ValueError(f"{logs[name]}: {done} of {epochs} epochs logged: run {name} has not ended")
    order = selection.rank_runs(logs, reference)
    print("ranked: " + ", ".join(f"{label} (epoch {row['epoch']}, {'within' if ok else 'past'} the limits)"
                                 for label, row, ok in order), file=sys.stderr)
    return order


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=("combination", "seeds", "winner"))
    parser.add_argument("--runs", type=Path, required=True, help="RUN_DIR/screening")
    parser.add_argument("--srresnet-log", type=Path, required=True, help="the SRResNet's srresnet_epochs.csv")
    parser.add_argument("--epochs", type=int, default=8, help="the epochs every screening run trains (default 8)")
    parser.add_argument("--screened", nargs="+", default=SCREENED, help="the reference and the one-change runs "
                        f"(default: {' '.join(SCREENED)})")
    args = parser.parse_args(argv)
    try:
        reference = selection.srresnet_reference(args.srresnet_log)
        seed0 = list(args.screened)
        if REFERENCE not in seed0:
            raise ValueError(f"--screened {' '.join(seed0)}: no run named {REFERENCE!r}")
        if args.step == "combination":
            joined = selection.combination_runs(ranked(args.runs, seed0, reference, args.epochs), REFERENCE)
            options = {}
            for name in joined:
                options.update(run_changes(args.runs, name))
            print(f"the combination joins {', '.join(joined)}", file=sys.stderr)
            print(" ".join(f"{key}={setting_text(key, value)}" for key, value in options.items()))
            return
        order = ranked(args.runs, seed0 + [COMBINED], reference, args.epochs)
        pair = selection.second_seed_runs(order)
        if args.step == "seeds":
            print(" ".join(f"{name}_seed1" for name in pair))
            return
        run, label = selection.winner(ranked(args.runs, seed0 + [COMBINED] + [f"{name}_seed1" for name in pair],
                                             reference, args.epochs), pair)
        options = {**run_changes(args.runs, run), **({"seed": 1} if label != run else {})}
        if set(options) & set(FINAL_SETTINGS):
            raise ValueError(f"the winner {run} changes {', '.join(set(options) & set(FINAL_SETTINGS))}, which "
                             "final_training.sh sets itself: continue it by hand")
        print(f"the winner: {run}; trained on: {label}", file=sys.stderr)
        print(f"WINNER_DIR={shlex.quote(str((args.runs / label).resolve()))}")
        pairs = ", ".join(f"{key}: {yaml_text(value)}" for key, value in options.items())
        print(f"WINNER_OPTIONS={shlex.quote(pairs)}")
    except (OSError, ValueError) as error:
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    main()

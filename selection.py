"""Which epoch of an adversarial run to report, and which run of a screening wins: one rule, on held-out images.

The rule was written before issue 37's screening runs started, from the issue's targets. Every adversarial epoch is
validated on the held-out images (``training.validate``: PSNR, NIQE, added and added chroma; never a test set), and
the SRResNet the run starts from is the reference (its best epoch, on the same images). An epoch is *admissible* when
its artefacts and its PSNR stay within ``LIMITS`` of the SRResNet's:

* added (Y) at most ``A0 + 0.7``, added chroma at most ``C0 + 0.2`` grey levels RMS: what the SR images may add that
  the HR lacks (the issue's Set5 targets allow +0.74 and +0.23 over the SRResNet's 1.46 / 0.57);
* PSNR at least ``P0 - 2.0`` dB (the issue's Set5 target: 29.3 dB against the SRResNet's 31.33).

Of the admissible epochs, the one with the lowest NIQE is chosen: the most natural-looking images that stay within
the artefact budget. A run without an admissible epoch reports the epoch that comes closest (smallest
``violation``: how far past its limit the worst score is, as a fraction of that limit's allowance).

Runs are ranked the same way: admissible runs by the NIQE of their chosen epoch, then the others by violation.
``keep_chosen`` copies the chosen epoch's generator to ``<phase>_chosen.pth``, the checkpoint the notebooks report
(``training.train`` calls it after every SRGAN training).
The rule chooses; the eye then checks the chosen epoch's images (crops), and the report says what it sees.
"""
import math
import os
import shutil

from utils import atomic_path, epoch_checkpoint_path, load_checkpoint, read_csv

# score -> (allowance over the SRResNet's value, direction): "max" caps the score at reference + allowance, "min"
# keeps it at least reference - allowance.
LIMITS = {"added": (0.7, "max"), "added_chroma": (0.2, "max"), "psnr": (2.0, "min")}
SELECTED_BY = "niqe"  # lower is better


def srresnet_reference(source):
    """``{'psnr', 'added', 'added_chroma', 'epoch'}``: the held-out scores of the SRResNet's best epoch (the highest
    validation PSNR: the epoch ``srresnet_best.pth`` holds). ``source``: its ``srresnet_epochs.csv``, or a checkpoint
    of it (``.pth``: the history it keeps). ``ValueError`` naming the file when it lacks the scores."""
    columns = ("val_psnr", "val_added", "val_added_chroma")
    if str(source).endswith(".pth"):
        history = load_checkpoint(source).get("history") or []
        rows = _scored(history, columns)
        if not rows:
            raise ValueError(f"{source}: its history has no epoch with {', '.join(columns)}")
    else:
        rows = _read_epochs(source, columns)
    best = max(rows, key=lambda row: float(row["val_psnr"]))
    return {"epoch": int(best["epoch"]), **{score: float(best[f"val_{score}"]) for score in LIMITS}}


def violation(row, reference, limits=LIMITS):
    """How far an epoch's worst score lies past its limit, as a fraction of that allowance (<= 0: admissible).

    ``row``: an epochs-log row (``val_<score>`` columns); ``reference``: ``srresnet_reference``'s dict."""
    worst = -math.inf
    for score, (allowance, direction) in limits.items():
        value, limit = float(row[f"val_{score}"]), reference[score]
        past = value - (limit + allowance) if direction == "max" else (limit - allowance) - value
        worst = max(worst, past / allowance)
    return worst


def choose_epoch(rows, reference, limits=LIMITS):
    """``(row, admissible)``: the epoch the rule chooses among ``rows`` (an adversarial run's epochs log, with
    ``val_niqe``; rows without a number in every score are left out): the lowest NIQE among the admissible epochs,
    else the smallest violation."""
    columns = [f"val_{score}" for score in (*limits, SELECTED_BY)]
    rows = _scored(rows, columns)
    if not rows:
        raise ValueError(f"choose_epoch: no epoch with all of {', '.join(columns)} to choose from")
    admissible = [row for row in rows if violation(row, reference, limits) <= 0]
    if admissible:
        return min(admissible, key=lambda row: float(row[f"val_{SELECTED_BY}"])), True
    return min(rows, key=lambda row: violation(row, reference, limits)), False


def rank_runs(runs, reference, limits=LIMITS):
    """``[(label, row, admissible), ...]`` best first: each run's chosen epoch (``choose_epoch``), the admissible runs
    by their chosen epoch's NIQE, then the others by violation. ``runs``: dict label -> ``<phase>_epochs.csv`` path."""
    chosen = []
    for label, path in runs.items():
        row, admissible = choose_epoch(_read_epochs(path, [f"val_{s}" for s in (*limits, SELECTED_BY)]), reference,
                                       limits)
        chosen.append((label, row, admissible))
    return sorted(chosen, key=lambda item: (not item[2], float(item[1][f"val_{SELECTED_BY}"]) if item[2]
                                            else violation(item[1], reference, limits)))


# The steps after a screening (report_appendix A15, written before the first screening run started).
def combination_runs(ranked, reference="reference"):
    """The runs whose options the combination joins: every run ``ranked`` above ``reference``; when fewer than two
    are, the two best-ranked other runs (the reference has no option to join). ``ranked``: ``rank_runs`` of the
    one-change runs and the reference (seed 0)."""
    labels = [label for label, _, _ in ranked]
    above = labels[:labels.index(reference)]
    return above if len(above) >= 2 else [label for label in labels if label != reference][:2]


def second_seed_runs(ranked, count=2):
    """The ``count`` best-ranked runs, which run again with ``seed=1``. ``ranked``: ``rank_runs`` of the seed-0 runs,
    the combination included."""
    return [label for label, _, _ in ranked][:count]


def winner(ranked, pair):
    """``(run, label)``: of the two runs of ``pair``, each ranked with seed 0 (``run``) and seed 1 (``run_seed1``)
    in ``ranked``, the one whose worse-ranked seed ranks better (a lucky seed does not win), and the label of its
    better-ranked seed, the one trained on. ``ValueError`` naming a run of ``pair`` without both seeds."""
    position = {label: index for index, (label, _, _) in enumerate(ranked)}
    missing = [label for run in pair for label in (run, f"{run}_seed1") if label not in position]
    if missing:
        raise ValueError(f"winner: no ranked epochs log for {', '.join(missing)}")
    run = min(pair, key=lambda run: max(position[run], position[f"{run}_seed1"]))
    return run, min((run, f"{run}_seed1"), key=position.get)


def chosen_checkpoint(log_folder, checkpoint_folder, reference, phase="srgan"):
    """``(path, row, admissible)``: the kept generator of the epoch the rule chooses (``choose_epoch``, against
    ``reference``: ``srresnet_reference`` of the SRResNet the run started from) in an adversarial run trained with
    ``val_niqe`` and ``keep_epoch_generators``: ``<phase>_epoch_NNN.pth`` in ``checkpoint_folder``, its row of
    ``<log_folder>/<phase>_epochs.csv``, and whether it is admissible. ``ValueError`` naming the log when it lacks
    the scores, ``FileNotFoundError`` naming the epoch file when it was not kept."""
    log = os.path.join(log_folder, f"{phase}_epochs.csv")
    row, admissible = choose_epoch(_read_epochs(log, [f"val_{s}" for s in (*LIMITS, SELECTED_BY)]), reference)
    return _kept(checkpoint_folder, phase, int(row["epoch"]), f"which the rule chooses in {log}"), row, admissible


def keep_chosen(log_folder, checkpoint_folder, reference, phase="srgan"):
    """Copy the rule's checkpoint (``chosen_checkpoint``) to ``<checkpoint_folder>/<phase>_chosen.pth``, the one
    test.ipynb and super_resolution.ipynb use, and return a sentence saying which epoch it is and why. A run
    validated without NIQE (``val_niqe=false``) gives the rule nothing to choose by: the copy is then the last
    epoch's generator, and the sentence says so. The copy is atomic: an earlier ``_chosen.pth`` is never left
    half-written. ``ValueError`` when the log has no epoch, ``FileNotFoundError`` when the epoch was not kept."""
    log = os.path.join(log_folder, f"{phase}_epochs.csv")
    rows = read_csv(log)
    if not rows:
        raise ValueError(f"{log}: no epoch logged, nothing to choose from")
    if any(math.isfinite(float(row.get(f"val_{SELECTED_BY}") or "nan")) for row in rows):
        path, row, admissible = chosen_checkpoint(log_folder, checkpoint_folder, reference, phase)
        why = (f"the lowest held-out NIQE ({float(row['val_niqe']):.2f}) within the rule's limits" if admissible else
               "no epoch is within the rule's limits; this one comes closest")
    else:
        path = _kept(checkpoint_folder, phase, int(rows[-1]["epoch"]), "the last logged")
        why = "the last epoch: the run was validated without NIQE (val_niqe=false), so the rule cannot choose"
    target = os.path.join(checkpoint_folder, f"{phase}_chosen.pth")
    with atomic_path(target) as tmp_path:
        shutil.copyfile(path, tmp_path)
    return f"{target} = {os.path.basename(path)}: {why}"


def _kept(checkpoint_folder, phase, epoch, which):
    """The path of epoch ``epoch``'s kept generator; ``FileNotFoundError`` saying ``which`` epoch it is."""
    path = epoch_checkpoint_path(checkpoint_folder, phase, epoch)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: the generator of epoch {epoch}, {which}, was not kept (train with "
                                f"keep_epoch_generators=true)")
    return path


def _read_epochs(path, columns):
    """The rows of an epochs log that have a number in every one of ``columns`` (``ValueError`` naming the file when
    it lacks a column or no row has them all)."""
    rows = read_csv(path)
    missing = [column for column in columns if not rows or column not in rows[0]]
    if missing:
        raise ValueError(f"{path}: not an epochs log with {', '.join(missing)} (training.train writes them)")
    scored = _scored(rows, columns)
    if not scored:
        raise ValueError(f"{path}: no epoch has all of {', '.join(columns)} (validated with val_niqe=true?)")
    return scored


def _scored(rows, columns):
    """The rows (log rows of strings, or history dicts of numbers) with a finite number in every one of ``columns``."""
    def number(value):
        return float("nan") if value in (None, "") else float(value)  # 0.0 is a number

    return [row for row in rows if all(math.isfinite(number(row.get(column))) for column in columns)]

#!/usr/bin/env bash
# Issues 24 and 25: after train_notebook.sh's run has ended (SRGAN epoch 36 logged), in the repository's work tree:
# train.ipynb takes the executed copy's code cells and outputs (keep_train_outputs.py: its markdown stays the
# repository's; a changed code cell stops it), the previously reported models' outputs move (git mv) to
# results/logs/previous_models/ (the GAN from scratch's rows stay there), the run's logs go to
# results/logs/notebook/, the two curve figures of report.md are drawn from them, and final_evaluation.sh runs
# test.ipynb and super_resolution.ipynb on the models (21 minutes on 2 cores with bf16 units; test.ipynb 829 s).
#     NOTEBOOK_DIR=/work/runs/notebook SRGAN_NIQE_MODEL=/work/shared/niqe PYTHON=.venv/bin/python \
#         bash experiments/finish_notebook_run.sh
set -euo pipefail
: "${NOTEBOOK_DIR:?the work tree of train_notebook.sh}"
python="${PYTHON:-python}"
epochs=$(tail -n +2 "$NOTEBOOK_DIR/logs/srgan_epochs.csv" | wc -l)
if [ "$epochs" -lt 36 ]; then
    echo "error: $NOTEBOOK_DIR/logs/srgan_epochs.csv has $epochs of 36 SRGAN epochs: the run has not ended" >&2
    exit 1
fi
"$python" experiments/keep_train_outputs.py "$NOTEBOOK_DIR/train.executed.ipynb"
previous=results/logs/previous_models
if [ ! -f "$previous/metrics.csv" ]; then  # once: the outputs of the models reported before these
    for name in metrics.csv metrics.md per_image Set5 example_butterfly.png training_curves.png adversarial_curves.png; do
        git mv "results/$name" "$previous/$name"
    done
fi
mkdir -p results/logs/notebook
cp "$NOTEBOOK_DIR"/logs/*.csv results/logs/notebook/
"$python" - <<'PY'
import curves
import figures

for phases, name in ((("srresnet",), "training_curves"), (("srgan",), "adversarial_curves")):
    figures.save_figure(curves.plot_training_curves("results/logs/notebook", phases=phases), f"results/{name}.png")
PY
bash experiments/final_evaluation.sh

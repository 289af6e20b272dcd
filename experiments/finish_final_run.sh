#!/usr/bin/env bash
# Issues 37 and 39: after final_training.sh's run has ended (SRGAN epoch 36 logged), in the repository's work tree:
# train.ipynb takes the executed copy's code cells and outputs (keep_train_outputs.py: its markdown stays the
# repository's; a changed code cell stops it), the outputs of the models reported before (train_notebook.sh's run)
# move (git mv) to results/logs/notebook_models/ (the previous SRGAN-MSE's rows stay there), the run's logs go to
# results/logs/final/, the two curve figures of report.md are drawn from them, and final_evaluation.sh runs
# test.ipynb and super_resolution.ipynb on the models; last, section 4's regions figure (results/Set5/regions.png;
# added after the run, which made it with the same lines by hand).
#     FINAL_DIR=/work/runs/final SRGAN_NIQE_MODEL=/work/shared/niqe PYTHON=.venv/bin/python \
#         bash experiments/finish_final_run.sh
set -euo pipefail
: "${FINAL_DIR:?the work tree of final_training.sh}"
python="${PYTHON:-python}"
epochs=$(tail -n +2 "$FINAL_DIR/logs/srgan_epochs.csv" | wc -l)
chosen="$FINAL_DIR/checkpoints/srgan_chosen.pth"
if [ "$epochs" -lt 36 ] || [ ! "$chosen" -nt "$FINAL_DIR/checkpoints/srgan_epoch_036.pth" ]; then  # chosen after 36
    echo "error: $FINAL_DIR: $epochs of 36 SRGAN epochs logged, or no srgan_chosen.pth chosen after epoch 36" >&2
    exit 1
fi
"$python" experiments/keep_train_outputs.py "$FINAL_DIR/train.executed.ipynb"
previous=results/logs/notebook_models
mkdir -p "$previous"
for name in metrics.csv metrics.md per_image Set5 example_butterfly.png training_curves.png adversarial_curves.png; do
    if [ ! -e "$previous/$name" ]; then  # once: the outputs of the models reported before these
        git mv "results/$name" "$previous/$name"
    fi
done
mkdir -p results/logs/final
cp "$FINAL_DIR"/logs/*.csv results/logs/final/
"$python" - <<'PY'
import curves
import figures

for phases, name in ((("srresnet",), "training_curves"), (("srgan",), "adversarial_curves")):
    figures.save_figure(curves.plot_training_curves("results/logs/final", phases=phases), f"results/{name}.png")
PY
bash experiments/final_evaluation.sh
"$python" - <<'PY'  # report.md section 4's regions: the final models, the previous SRGAN-MSE beside them, the HR
import figures

images = figures.saved_set_images("results/Set5", ["bicubic", "srresnet", "srgan", "srgan_epoch36"], "data_lists/Set5.csv")
previous = figures.saved_set_images("results/logs/notebook_models/Set5", ["srgan"], "data_lists/Set5.csv")
hr = images.pop("HR")
images["previous SRGAN-MSE"] = previous["SRGAN"]
images["HR"] = hr
figures.save_figure(figures.regions_figure(images), "results/Set5/regions.png")
PY

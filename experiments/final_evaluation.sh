#!/usr/bin/env bash
# Issues 24, 25 and 37: test.ipynb and super_resolution.ipynb executed on the final models, keeping their outputs
# (tables and figures; no progress bars), in the work tree this is run from (the repository). The models, linked into
# checkpoints/ (ignored by git: model files are never committed), all from final_training.sh's run (FINAL_DIR):
#   srresnet_best.pth   the SRResNet (phase 1, best held-out PSNR)
#   srgan_chosen.pth    the reported SRGAN: the epoch that selection.py's rule chose on the held-out images
#   srgan_last.pth      the same run at the end of its 36 epochs, "SRGAN (end: 10,080 updates)"
# The GAN from scratch and the previously reported SRGAN-MSE are not here: their checkpoints were lost with earlier
# machines; their rows come from the tables kept in results/logs/ (previous_models/, notebook_models/). Each
# notebook is executed into NAME.executed.ipynb; only when every cell ran does keep_train_outputs.py take its outputs
# into NAME.ipynb (its injected parameters kept as the record of the run; it refuses absolute paths: the NIQE
# model's path is given relative to the repository). (Before issue 37, at f58a17b, this script evaluated
# train_notebook.sh's run: srgan_last.pth and srgan_1120_last.pth.)
#     FINAL_DIR=/work/runs/final SRGAN_NIQE_MODEL=/work/shared/niqe PYTHON=.venv/bin/python \
#         bash experiments/final_evaluation.sh
set -euo pipefail
: "${FINAL_DIR:?the work tree of final_training.sh}"
: "${SRGAN_NIQE_MODEL:?the NIQE pristine model, an absolute path}"
python="${PYTHON:-python}"
export PYTHONUNBUFFERED=1
mkdir -p checkpoints
ln -sfn "$FINAL_DIR/data_lists" data_lists
for name in srresnet_best srgan_chosen srgan_last; do
    ln -sf "$FINAL_DIR/checkpoints/$name.pth" "checkpoints/$name.pth"
done
extra='{"srgan_epoch36": "checkpoints/srgan_last.pth"}'
niqe_model=$("$python" -c 'import os, sys; print(os.path.relpath(sys.argv[1]))' "$SRGAN_NIQE_MODEL")
run_notebook() {  # run_notebook NAME YAML: execute NAME.ipynb with the parameters, then keep its outputs
    "$python" -m papermill "$1.ipynb" "$1.executed.ipynb" --cwd . -y "$2"
    "$python" experiments/keep_train_outputs.py "$1.executed.ipynb" --notebook "$1.ipynb"
    rm "$1.executed.ipynb"
}
run_notebook test "
srgan_checkpoint: checkpoints/srgan_chosen.pth
baseline_checkpoint: null
extra_checkpoints: $extra
trained_weights: []
niqe_model: $niqe_model
progress: false
"
run_notebook super_resolution "
srgan_checkpoint: checkpoints/srgan_chosen.pth
baseline_checkpoint: null
extra_checkpoints: $extra
trained_weights: []
new_rating_page: true
progress: false
"

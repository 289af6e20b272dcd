#!/usr/bin/env bash
# Issues 24 and 25: test.ipynb and super_resolution.ipynb executed on the final models, keeping their outputs (tables
# and figures; no progress bars), in the work tree this is run from (the repository). The models, linked into
# checkpoints/ (ignored by git: model files are never committed), all from train_notebook.sh's run (NOTEBOOK_DIR):
#   srresnet_best.pth   the SRResNet (phase 1, best held-out PSNR)
#   srgan_last.pth      the reported SRGAN: SRGAN-MSE (the chosen content loss) after 10,080 updates
#   srgan_1120_last.pth the same run after its first 1,120 updates (perceptual.sh's budget), "SRGAN (1,120 updates)"
# The GAN from scratch is not here: its checkpoint was lost with the first machine; its rows come from the
# previously reported models' tables (results/logs/previous_models/). Each notebook is executed into
# NAME.executed.ipynb; only when every cell ran does keep_train_outputs.py take its outputs into NAME.ipynb (its
# injected parameters kept as the record of the run; it refuses absolute paths: the NIQE model's path is given
# relative to the repository).
#     NOTEBOOK_DIR=/work/runs/notebook SRGAN_NIQE_MODEL=/work/shared/niqe PYTHON=.venv/bin/python \
#         bash experiments/final_evaluation.sh
set -euo pipefail
: "${NOTEBOOK_DIR:?the work tree of train_notebook.sh}"
: "${SRGAN_NIQE_MODEL:?the NIQE pristine model, an absolute path}"
python="${PYTHON:-python}"
export PYTHONUNBUFFERED=1
mkdir -p checkpoints
ln -sfn "$NOTEBOOK_DIR/data_lists" data_lists
for name in srresnet_best srgan_last srgan_1120_last; do
    ln -sf "$NOTEBOOK_DIR/checkpoints/$name.pth" "checkpoints/$name.pth"
done
extra='{"srgan_1120": "checkpoints/srgan_1120_last.pth"}'
niqe_model=$("$python" -c 'import os, sys; print(os.path.relpath(sys.argv[1]))' "$SRGAN_NIQE_MODEL")
run_notebook() {  # run_notebook NAME YAML: execute NAME.ipynb with the parameters, then keep its outputs
    "$python" -m papermill "$1.ipynb" "$1.executed.ipynb" --cwd . -y "$2"
    "$python" experiments/keep_train_outputs.py "$1.executed.ipynb" --notebook "$1.ipynb"
    rm "$1.executed.ipynb"
}
run_notebook test "
baseline_checkpoint: null
extra_checkpoints: $extra
trained_weights: []
niqe_model: $niqe_model
progress: false
"
run_notebook super_resolution "
baseline_checkpoint: null
extra_checkpoints: $extra
trained_weights: []
new_rating_page: true
progress: false
"

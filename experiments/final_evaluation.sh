#!/usr/bin/env bash
# Issues 24 and 25: test.ipynb and super_resolution.ipynb executed on the final models, keeping their outputs (tables
# and figures; no progress bars), in the work tree this is run from (the repository). The models, linked into
# checkpoints/ (ignored by git: model files are never committed):
#   srresnet_best.pth   the SRResNet (experiments/srresnet_retrain.sh, copied into the notebook's run)
#   srgan_last.pth      the reported SRGAN: the chosen content loss after 10,080 updates (train_notebook.sh)
#   srgan_1120_last.pth the chosen content loss after its first 1,120 updates (perceptual.sh): where the reported
#                       SRGAN started its last 8,960 updates, shown as "SRGAN (1,120 updates)"
#   srgan_mse_last.pth  SRGAN-MSE after 1,120 updates (perceptual.sh's "mse" run), the same budget: linked only
#                       when the choice is not "mse" (when it is, SRGAN-MSE at 1,120 updates is the model above)
# The GAN from scratch is not here: its checkpoint was lost with the first machine; its rows come from the
# previously reported models' tables (results/logs/previous_models/). Each notebook is executed into a temporary
# file and replaces the committed one only when every cell ran.
#     NOTEBOOK_DIR=/work/runs/notebook PERCEPTUAL_DIR=/work/runs/perceptual WINNER=lite0_stage5 \
#         LISTS=/work/runs/srresnet/data_lists SRGAN_NIQE_MODEL=/work/shared/niqe PYTHON=.venv/bin/python \
#         bash experiments/final_evaluation.sh
set -euo pipefail
: "${NOTEBOOK_DIR:?the work tree of train_notebook.sh}" "${PERCEPTUAL_DIR:?the work tree of perceptual.sh}"
: "${WINNER:?the chosen run of perceptual.sh}" "${LISTS:?the data lists folder}"
: "${SRGAN_NIQE_MODEL:?the NIQE pristine model, an absolute path}"
python="${PYTHON:-python}"
export PYTHONUNBUFFERED=1
mkdir -p checkpoints
ln -sfn "$LISTS" data_lists
ln -sf "$NOTEBOOK_DIR/checkpoints/srresnet_best.pth" checkpoints/srresnet_best.pth
ln -sf "$NOTEBOOK_DIR/checkpoints/srgan_last.pth" checkpoints/srgan_last.pth
ln -sf "$PERCEPTUAL_DIR/runs/$WINNER/srgan_last.pth" checkpoints/srgan_1120_last.pth
extra='{"srgan_1120": "checkpoints/srgan_1120_last.pth"}'
if [ "$WINNER" != mse ]; then
    ln -sf "$PERCEPTUAL_DIR/runs/mse/srgan_last.pth" checkpoints/srgan_mse_last.pth
    extra='{"srgan_1120": "checkpoints/srgan_1120_last.pth", "srgan_mse": "checkpoints/srgan_mse_last.pth"}'
fi
run_notebook() {  # run_notebook NAME YAML: execute NAME.ipynb with the parameters, then replace it
    local out
    out=$(mktemp --suffix=.ipynb)
    "$python" -m papermill "$1.ipynb" "$out" --cwd . -y "$2"
    mv "$out" "$1.ipynb"
}
run_notebook test "
baseline_checkpoint: null
extra_checkpoints: $extra
trained_weights: []
niqe_model: $SRGAN_NIQE_MODEL
progress: false
"
run_notebook super_resolution "
baseline_checkpoint: null
extra_checkpoints: $extra
trained_weights: []
new_rating_page: true
progress: false
"

#!/usr/bin/env bash
# Issues 24 and 25: train.ipynb is how the reported models are trained. It is executed with papermill (the cpu
# profile; the command-line runs' settings as its parameters) in RUN_DIR, a work tree of a fixed commit. Its
# checkpoints/ and logs/ start as copies of the SRResNet's (srresnet_retrain.sh, in SRRESNET_DIR: 54 epochs, done)
# and of the chosen content loss's first 1,120 adversarial updates (perceptual.sh, in PERCEPTUAL_DIR; WINNER names
# the run), so the notebook resumes them: phase 1 says it is done, phase 2 continues to 36 epochs (10,080
# updates, 1e-4 then 1e-5 after 18). The content loss's settings are read from the winner's checkpoint, so the
# notebook's settings check compares like with like. Each phase's table and curves show its whole history. Run it
# again after a stop: it resumes. When it ends, the executed notebook is RUN_DIR/train.executed.ipynb.
#     RUN_DIR=/work/runs/notebook SRRESNET_DIR=/work/runs/srresnet PERCEPTUAL_DIR=/work/runs/perceptual \
#         WINNER=lite0_stage5 SRGAN_NIQE_MODEL=/work/shared/niqe PYTHON=/work/main/.venv/bin/python \
#         bash experiments/train_notebook.sh
set -euo pipefail
: "${SRRESNET_DIR:?the SRResNet work tree}" "${PERCEPTUAL_DIR:?the perceptual work tree}" "${WINNER:?a run of perceptual.sh}"
export SRGAN_NIQE_MODEL="${SRGAN_NIQE_MODEL:?the NIQE pristine model, an absolute path}" PYTHONUNBUFFERED=1
cd "${RUN_DIR:?a work tree of a fixed commit}"
python="${PYTHON:-python}"
mkdir -p checkpoints logs
if [ ! -d data_lists ]; then
    cp -r "$SRRESNET_DIR/data_lists" data_lists  # the lists both runs trained and validated on
fi
if [ ! -f checkpoints/srresnet_best.pth ]; then
    cp "$SRRESNET_DIR"/checkpoints/srresnet_{best,last}.pth checkpoints/
    cp "$SRRESNET_DIR"/logs/srresnet_{epochs,iterations}.csv logs/
fi
if [ ! -f checkpoints/srgan_last.pth ]; then
    cp "$PERCEPTUAL_DIR/runs/$WINNER"/srgan_*.pth checkpoints/
    cp "$PERCEPTUAL_DIR/logs/$WINNER"/srgan_*.csv logs/
fi
# The content loss's settings as the winner's checkpoint holds them (YAML for papermill).
content=$("$python" -c '
import json, sys
from utils import load_checkpoint
config = load_checkpoint(sys.argv[1])["config"]
def text(value):  # floats with a dot and a signed exponent, which YAML 1.1 reads as floats, to the last bit
    return f"{value:.17e}" if isinstance(value, float) else json.dumps(value)
print(", ".join(f"{key}: {text(config[key])}" for key in ("content_loss", "feature_scale", "vgg_weights")))
' "$PERCEPTUAL_DIR/runs/$WINNER/srgan_last.pth")
"$python" -m papermill train.ipynb train.executed.ipynb --cwd . -p profile cpu -p make_lists False \
    -p checkpoint_folder checkpoints -p log_folder logs -p lists_folder data_lists -p results_folder results \
    -y "
overrides: {srgan_epochs: 36, srgan_lr_decay_epochs: [18], $content, srgan_init: checkpoints/srresnet_best.pth,
            val_max_images: null, val_niqe: true, amp: false, progress: false}
phase_overrides: {srresnet: {srresnet_epochs: 54, srresnet_lr: 0.0004, srresnet_lr_decay_epochs: [48], augment: true}}
"

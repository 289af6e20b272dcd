#!/usr/bin/env bash
# Issue 37, report_appendix A15 step 3: the screening's winner trained on to 36 adversarial epochs (10,080 updates)
# through train.ipynb, so that the notebook's committed execution is this sitting (issue 39). In RUN_DIR, a work tree
# of a fixed commit with its data_lists/, the first sitting copies the SRResNet's checkpoints and logs
# (SRRESNET_DIR: srresnet_fp32.sh's RUN_DIR) and the winner's (artefact_screening_next.py winner: its 8 epochs,
# every kept generator) into checkpoints/ and logs/; train.ipynb then finds the SRResNet trained (54 epochs) and
# resumes the SRGAN at epoch 9, with the screening's settings plus the winner's options (phase 2 only: a seed of 1
# is the SRGAN's; the same schedule: 1e-4, 1e-5 after 18). Before it starts, the settings the notebook will train
# with are checked against both checkpoints (a difference stops here, naming it). Run it again after a stop: it
# resumes. The executed notebook is RUN_DIR/train.executed.ipynb (experiments/keep_train_outputs.py takes its outputs
# into train.ipynb); the rule (selection.py) chooses the reported epoch among all 36 (checkpoints/srgan_chosen.pth).
#     RUN_DIR=/work/runs/final SCREENING=/work/runs/screening/screening SRRESNET_DIR=/work/runs/srresnet \
#         DATA_ROOT=/work/shared/data SRGAN_NIQE_MODEL=/work/shared/niqe PYTHON=/work/main/.venv/bin/python \
#         bash experiments/final_training.sh
set -euo pipefail
: "${SCREENING:?the screening runs' folder}" "${SRRESNET_DIR:?the SRResNet run's folder}"
: "${DATA_ROOT:?the images (create_data_lists.py --help), an absolute path}"
export SRGAN_NIQE_MODEL="${SRGAN_NIQE_MODEL:?the NIQE pristine model, an absolute path}" PYTHONUNBUFFERED=1
cd "${RUN_DIR:-.}"
python="${PYTHON:-python}"
winner=$("$python" experiments/artefact_screening_next.py winner --runs "$SCREENING" \
    --srresnet-log "$SRRESNET_DIR/logs/srresnet_epochs.csv")  # WINNER_DIR=..., WINNER_OPTIONS=... (stops on an error)
eval "$winner"
: "${WINNER_DIR:?artefact_screening_next.py named no winner}"
if [ ! -f checkpoints/srgan_last.pth ]; then  # the first sitting: the SRResNet and the winner's 8 epochs
    mkdir -p checkpoints logs
    cp "$SRRESNET_DIR"/checkpoints/srresnet_{best,last}.pth checkpoints/
    cp "$SRRESNET_DIR"/logs/srresnet_*.csv logs/
    cp "$WINNER_DIR"/checkpoints/srgan_*.pth checkpoints/
    cp "$WINNER_DIR"/logs/srgan_*.csv logs/
    rm -f checkpoints/srgan_chosen.pth  # the screening's choice among 8 epochs; the run chooses among 36
fi
data_root=$("$python" -c 'import os, sys; print(os.path.relpath(sys.argv[1]))' "$DATA_ROOT")
cat > final_parameters.yaml <<EOF
profile: cpu
data_root: $data_root
checkpoint_folder: checkpoints
log_folder: logs
lists_folder: data_lists
results_folder: results
overrides: {srgan_epochs: 36, srgan_lr_decay_epochs: [18], content_loss: mse, srgan_init: checkpoints/srresnet_best.pth,
            val_max_images: null, progress: false}
phase_overrides: {srresnet: {srresnet_epochs: 54, srresnet_lr: 0.0004, srresnet_lr_decay_epochs: [48], augment: true},
                  srgan: {val_niqe: true${WINNER_OPTIONS:+, $WINNER_OPTIONS}}}
EOF
"$python" - <<'PY'  # the notebook's settings against the two checkpoints it resumes: stop on any difference
import sys

import yaml

import settings
import training
from utils import load_checkpoint

parameters = yaml.safe_load(open("final_parameters.yaml"))
configs = settings.phase_configs(parameters["profile"], parameters["overrides"], parameters["phase_overrides"])
for phase in ("srresnet", "srgan"):
    saved = load_checkpoint(f"checkpoints/{phase}_last.pth")["config"]
    changes = training.changed_settings(saved, configs[phase], phase)
    if changes:
        sys.exit(f"error: train.ipynb would train {phase} with other settings than checkpoints/{phase}_last.pth: "
                 + ", ".join(f"{key} {old!r} -> {new!r}" for key, (old, new) in changes.items()))
print("train.ipynb's settings match both checkpoints; SRGAN's:", parameters["phase_overrides"]["srgan"])
PY
"$python" -m papermill train.ipynb train.executed.ipynb --cwd . -f final_parameters.yaml

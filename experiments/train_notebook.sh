#!/usr/bin/env bash
# Issues 24 and 25: train.ipynb is how the reported models are trained. It is executed with papermill (the cpu
# profile; the settings of experiments/srresnet_retrain.sh for phase 1 and of perceptual.sh's chosen "mse" run for
# phase 2 as its parameters) in RUN_DIR, a work tree of a fixed commit, from nothing: the lists, phase 1 (54 SRResNet
# epochs, 4e-4 then 4e-5 after 48, flips/rotations) and phase 2 (36 SRGAN epochs = 10,080 updates, 1e-4 then 1e-5
# after 18). It runs twice: first to 4 adversarial epochs (1,120 updates), whose srgan_last.pth is kept as
# checkpoints/srgan_1120_last.pth (the model at perceptual.sh's budget, shown beside the final one), then to 36,
# resuming. Each phase's table and curves show its whole history. Run it again after a stop: it resumes. When it
# ends, the executed notebook is RUN_DIR/train.executed.ipynb (keep_train_outputs.py takes its outputs into
# train.ipynb). The notebook is given the data root relative to RUN_DIR, so that its outputs show no machine's paths.
# (The first run of this recipe resumed the command-line runs' checkpoints and was lost with its machine at SRGAN
# epoch 15; its logs are results/logs/notebook_lost_fp32/.)
#     RUN_DIR=/work/runs/notebook DATA_ROOT=/work/shared/data SRGAN_NIQE_MODEL=/work/shared/niqe \
#         PYTHON=/work/main/.venv/bin/python bash experiments/train_notebook.sh
set -euo pipefail
: "${DATA_ROOT:?the images (create_data_lists.py --help), an absolute path}"
export SRGAN_NIQE_MODEL="${SRGAN_NIQE_MODEL:?the NIQE pristine model, an absolute path}" PYTHONUNBUFFERED=1
cd "${RUN_DIR:-.}"
python="${PYTHON:-python}"
data_root=$("$python" -c 'import os, sys; print(os.path.relpath(sys.argv[1]))' "$DATA_ROOT")
notebook() {  # notebook SRGAN_EPOCHS: execute train.ipynb to that many adversarial epochs
    "$python" -m papermill train.ipynb train.executed.ipynb --cwd . -p profile cpu -p data_root "$data_root" \
        -p checkpoint_folder checkpoints -p log_folder logs -p lists_folder data_lists -p results_folder results \
        -y "
overrides: {srgan_epochs: $1, srgan_lr_decay_epochs: [18], content_loss: mse, srgan_init: checkpoints/srresnet_best.pth,
            val_max_images: null, progress: false}
phase_overrides: {srresnet: {srresnet_epochs: 54, srresnet_lr: 0.0004, srresnet_lr_decay_epochs: [48], augment: true},
                  srgan: {val_niqe: true}}
"
}
if [ ! -f checkpoints/srgan_1120_last.pth ]; then
    notebook 4
    cp checkpoints/srgan_last.pth checkpoints/srgan_1120_last.pth.tmp
    mv checkpoints/srgan_1120_last.pth.tmp checkpoints/srgan_1120_last.pth
fi
notebook 36

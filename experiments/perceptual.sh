#!/usr/bin/env bash
# Issue 25: the content losses at equal budget, from the fixed SRResNet (INIT=.../srresnet_best.pth), one change
# at a time from the reported SRGAN-MSE (the cpu profile: ema_decay=0.999, grid_weight=100): 4 epochs of 280
# updates = 1,120 adversarial updates each, at 1e-4 (srgan_lr_decay_epochs=18: these are the first 4 epochs of a
# 36-epoch, 10,080-update run, which the winner continues to). Validation on the 10 held-out images with NIQE
# (SRGAN_NIQE_MODEL: the authors' pristine model, ../shared/niqe here). The feature scales come from
# experiments/feature_scale.py on the same SRResNet (models.ContentLoss.FEATURE_SCALES; the random VGG's here).
# Run from a work tree of a fixed commit, with data_lists/ made from the shared images; resumes when run again.
#     RUN_DIR=/work/runs/perceptual INIT=/work/runs/srresnet/checkpoints/srresnet_best.pth \
#         RANDOM_VGG_SCALE=<scale> bash experiments/perceptual.sh
set -euo pipefail
cd "${RUN_DIR:-.}"
export PYTHONUNBUFFERED=1 SRGAN_NIQE_MODEL="${SRGAN_NIQE_MODEL:-../shared/niqe}"
common=(--phase srgan --profile cpu srgan_init="${INIT:?the SRResNet checkpoint}" srgan_epochs=4
        srgan_lr_decay_epochs=18 val_max_images=none val_niqe=true amp=false progress=false)
run() {  # run NAME SETTINGS...
    local name=$1; shift
    "${PYTHON:-python}" training.py "${common[@]}" checkpoint_folder="runs/$name" log_folder="logs/$name" "$@" \
        2>&1 | tee -a "logs/$name.console.txt"
}
mkdir -p logs
run mse content_loss=mse
run lite0_stage5 content_loss=lite0_stage5
run lite0_stage3 content_loss=lite0_stage3
run vgg54_random content_loss=vgg54 vgg_weights=random feature_scale="${RANDOM_VGG_SCALE:?from feature_scale.py}"

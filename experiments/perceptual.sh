#!/usr/bin/env bash
# Issue 25: the content losses at equal budget, from the fixed SRResNet (INIT=.../srresnet_best.pth), one change
# at a time from the reported SRGAN-MSE (the cpu profile: ema_decay=0.999, grid_weight=100): 4 epochs of 280
# updates = 1,120 adversarial updates each, at 1e-4 (srgan_lr_decay_epochs=18: these are the first 4 epochs of a
# 36-epoch, 10,080-update run, which the winner continues to). Validation on the 10 held-out images with NIQE
# (SRGAN_NIQE_MODEL: the authors' pristine model, ../shared/niqe here). Each feature loss's scale is the one
# experiments/feature_scale.py measured on the same SRResNet and held-out images (logs/feature_scales.csv; it is
# run first when that file is missing). Run from a work tree of a fixed commit, with data_lists/ made from the
# shared images; resumes when run again (a finished run says so and is skipped). Ends with perceptual_summarize.py.
#     RUN_DIR=/work/runs/perceptual INIT=/work/runs/srresnet/checkpoints/srresnet_best.pth bash experiments/perceptual.sh
set -euo pipefail
cd "${RUN_DIR:-.}"
export PYTHONUNBUFFERED=1 SRGAN_NIQE_MODEL="${SRGAN_NIQE_MODEL:-../shared/niqe}"
python="${PYTHON:-python}"
init="${INIT:?the SRResNet checkpoint}"
mkdir -p logs
if [ ! -f logs/feature_scales.csv ]; then
    "$python" experiments/feature_scale.py "$init" --val-list data_lists/val.csv --out logs
fi
scale() {  # scale LABEL: the measured scale of one content loss
    awk -F, -v label="$1" '$1 == label { print $4 }' logs/feature_scales.csv
}
common=(--phase srgan --profile cpu srgan_init="$init" srgan_epochs=4
        srgan_lr_decay_epochs=18 val_max_images=none val_niqe=true amp=false progress=false)
run() {  # run NAME SETTINGS...
    local name=$1; shift
    "$python" training.py "${common[@]}" checkpoint_folder="runs/$name" log_folder="logs/$name" "$@" \
        2>&1 | tee -a "logs/$name.console.txt"
}
run mse content_loss=mse
run lite0_stage5 content_loss=lite0_stage5 feature_scale="$(scale lite0_stage5)"
run lite0_stage3 content_loss=lite0_stage3 feature_scale="$(scale lite0_stage3)"
run vgg54_random content_loss=vgg54 vgg_weights=random feature_scale="$(scale 'vgg54 (random weights)')"
# The table and crops to choose from, on the held-out images (logs/summary/).
"$python" experiments/perceptual_summarize.py "$init" mse lite0_stage5 lite0_stage3 vgg54_random

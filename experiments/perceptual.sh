#!/usr/bin/env bash
# Issue 25: the content losses at equal budget, from the fixed SRResNet (INIT=.../srresnet_best.pth), one change
# at a time from the reported SRGAN-MSE (the cpu profile: ema_decay=0.999, grid_weight=100): 4 epochs of 280
# updates = 1,120 adversarial updates each, at 1e-4 (srgan_lr_decay_epochs=18: these are the first 4 epochs of a
# 36-epoch, 10,080-update run, which the winner continues to). Validation on the 10 held-out images with NIQE
# (SRGAN_NIQE_MODEL: the authors' pristine model, an absolute path: /work/shared/niqe here). Each feature
# loss's scale is the one experiments/feature_scale.py measured on the same SRResNet and held-out images
# (logs/feature_scales.csv; it is run first when that file is missing). Run from a work tree of a fixed commit, with data_lists/ made from the
# shared images; resumes when run again (a finished run says so and is skipped). A run that fails does not stop
# the others; the script ends with perceptual_summarize.py on the runs that finished, and fails if any did not.
#     RUN_DIR=/work/runs/perceptual INIT=/work/runs/srresnet/checkpoints/srresnet_best.pth \
#         SRGAN_NIQE_MODEL=/work/shared/niqe bash experiments/perceptual.sh
set -euo pipefail
cd "${RUN_DIR:-.}"
export PYTHONUNBUFFERED=1 SRGAN_NIQE_MODEL="${SRGAN_NIQE_MODEL:?the NIQE pristine model, an absolute path}"
python="${PYTHON:-python}"
init="${INIT:?the SRResNet checkpoint}"
mkdir -p logs
if [ ! -f logs/feature_scales.csv ]; then
    "$python" experiments/feature_scale.py "$init" --val-list data_lists/val.csv --out logs
fi
column() {  # column LABEL NAME: one cell of feature_scales.csv, by its content loss and its column's name
    awk -F, -v label="$1" -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
                                         $1 == label { print $c }' logs/feature_scales.csv
}
scale() {  # scale LABEL: the measured scale of one content loss, measured on this INIT
    if [ "$(column "$1" checkpoint)" != "$init" ]; then
        echo "logs/feature_scales.csv was measured on another checkpoint than $init: remove it to measure again" >&2
        return 1
    fi
    column "$1" scale
}
common=(--phase srgan --profile cpu srgan_init="$init" srgan_epochs=4
        srgan_lr_decay_epochs=18 val_max_images=none val_niqe=true amp=false progress=false)
run() {  # run NAME SETTINGS...
    local name=$1; shift
    "$python" training.py "${common[@]}" checkpoint_folder="runs/$name" log_folder="logs/$name" "$@" \
        2>&1 | tee -a "logs/$name.console.txt"
}
finished=() failed=()
attempt() {  # attempt NAME SETTINGS...: one run; a failure is noted, and the next run goes on
    if run "$@"; then finished+=("$1"); else failed+=("$1"); fi
}
lite0_stage5=$(scale lite0_stage5)
lite0_stage3=$(scale lite0_stage3)
vgg54_random=$(scale 'vgg54 (random weights)')
attempt mse content_loss=mse
attempt lite0_stage5 content_loss=lite0_stage5 feature_scale="$lite0_stage5"
attempt lite0_stage3 content_loss=lite0_stage3 feature_scale="$lite0_stage3"
attempt vgg54_random content_loss=vgg54 vgg_weights=random feature_scale="$vgg54_random"
# The table and crops to choose from, on the held-out images (logs/summary/).
if [ ${#finished[@]} -gt 0 ]; then
    "$python" experiments/perceptual_summarize.py "$init" "${finished[@]}"
fi
if [ ${#failed[@]} -gt 0 ]; then
    echo "failed: ${failed[*]} (see logs/<name>.console.txt)" >&2
    exit 1
fi

#!/usr/bin/env bash
# Ran from commit cf6dc3f (2026-11-30; icnr_false, icnr_true_unforked) and commit 34af444 (2026-11-30; icnr_true):
# check out that commit to rerun it exactly; its logs are in results/logs/baseline_icnr/<run>/ (ce0d7b3 and aee5b59
# committed them). At 34af444 icnr=false draws as at cf6dc3f, so this script reruns icnr_false and icnr_true there.
# Issue 12: ICNR initialisation of the sub-pixel convolutions for a G that starts from random weights. The
# from-scratch baseline's first 2 epochs (560 updates at 1e-4; baseline.sh's settings: SRGAN-MSE, cpu profile,
# grid_weight=100), without and with icnr_init, and without the moving average (ema_decay=0), so that the
# validation after each epoch (baseline_epochs.csv) measures the trained weights. Same seed, data order and D start in
# both (icnr_init draws from a forked random stream since commit 34af444; icnr_true_unforked/ is a first run before it,
# whose D started from other weights).
# Usage: RUN_DIR=<work tree of commit 34af444 or later, with data_lists/> experiments/baseline_icnr.sh
cd "${RUN_DIR:-.}"
for icnr in false true; do
  "${PYTHON:-python}" solver.py --phase baseline --profile cpu baseline_epochs=2 baseline_lr_decay_epochs=9 \
    ema_decay=0 grid_weight=100 icnr_init=$icnr val_max_images=none progress=false \
    checkpoint_folder=runs/baseline_icnr_$icnr/checkpoints log_folder=runs/baseline_icnr_$icnr/logs \
    >> runs/baseline_icnr_$icnr.out 2>&1
done

#!/usr/bin/env bash
# Issue 12: ICNR initialisation of the sub-pixel convolutions for a G that starts from random weights. The
# from-scratch baseline's first 2 epochs (560 updates at 1e-4; baseline_run.sh's settings: SRGAN-MSE, cpu profile,
# grid_weight=100), without and with icnr_init, and without the moving average (ema_decay=0), so that the
# validation after each epoch (baseline_epochs.csv) measures the trained weights. Same seed, data order and D start in
# both (icnr_init draws from a forked random stream since commit 34af444; icnr_true_unforked/ is a first run before it,
# whose D started from other weights).
# Usage: RUN_DIR=<work tree of commit 34af444 or later, with data_lists/> results/logs/baseline_icnr/run.sh
cd "${RUN_DIR:-.}"
for icnr in false true; do
  "${PYTHON:-python}" solver.py --phase baseline --profile cpu baseline_epochs=2 baseline_lr_decay_epochs=9 \
    ema_decay=0 grid_weight=100 icnr_init=$icnr val_max_images=none progress=false \
    checkpoint_folder=runs/baseline_icnr_$icnr/checkpoints log_folder=runs/baseline_icnr_$icnr/logs \
    >> runs/baseline_icnr_$icnr.out 2>&1
done

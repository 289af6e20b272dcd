#!/usr/bin/env bash
# Ran from commit a8dcecc (2026-11-30): check out that commit to rerun it exactly; its logs are in results/logs/baseline/
# (the training code is the same from a8dcecc to dc814dd; 6d84df2 and e3dbca7 committed the logs).
# The from-scratch baseline (issue 12): the same adversarial training as the reported SRGAN (srgan.sh: SRGAN-MSE,
# cpu profile, ema_decay=0.999, grid_weight=100, 18 epochs x 280 = 5,040 updates, 1e-4 then 1e-5 from epoch 10),
# but G and D start from random weights (the assignment's original mode): the same adversarial budget, without the
# SRResNet's 20,160. Resumes from checkpoints/baseline_last.pth when run again. (A first start with ema_decay
# alone, the options of the first reported SRGAN, was stopped after 5 epochs: baseline_ema_only_stopped.sh.)
# Usage: RUN_DIR=<work tree of commit a8dcecc or later, with data_lists/> experiments/baseline.sh
# Then, to choose between its trained weights and their moving average on the held-out images (baseline_val.csv):
#   python experiments/srgan_val.py SRRESNET.pth checkpoints/baseline_last.pth logs/baseline_val.csv baseline
cd "${RUN_DIR:-.}"
exec "${PYTHON:-python}" solver.py --phase baseline --profile cpu baseline_epochs=18 baseline_lr_decay_epochs=9 \
  ema_decay=0.999 grid_weight=100 val_max_images=none progress=false checkpoint_folder=checkpoints log_folder=logs

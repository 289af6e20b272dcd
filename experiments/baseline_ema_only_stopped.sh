#!/usr/bin/env bash
# Ran from commit fb914af (2026-11-30): check out that commit to rerun it exactly; its logs are in
# results/logs/baseline_ema_only_stopped/ (the training code is the same from fb914af to 9961fbf, which committed them).
# The from-scratch baseline (issue 12): the same adversarial training as the reported SRGAN (srgan_ema_only.sh: SRGAN-MSE,
# cpu profile, ema_decay=0.999, 18 epochs x 280 = 5,040 updates, 1e-4 then 1e-5 from epoch 10), but G and D start
# from random weights (the assignment's original mode): the same adversarial budget, without the SRResNet's 20,160.
# Resumes from checkpoints/baseline_last.pth when run again.
# Usage: RUN_DIR=<work tree of commit fb914af or later, with data_lists/> experiments/baseline_ema_only_stopped.sh
cd "${RUN_DIR:-.}"
exec "${PYTHON:-python}" solver.py --phase baseline --profile cpu baseline_epochs=18 baseline_lr_decay_epochs=9 \
  ema_decay=0.999 val_max_images=none progress=false checkpoint_folder=checkpoints log_folder=logs

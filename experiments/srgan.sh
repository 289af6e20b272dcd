#!/usr/bin/env bash
# Ran from commit a8dcecc (2026-11-30): check out that commit to rerun it exactly; its logs are in results/logs/srgan/
# (the training code is the same from a8dcecc to dc814dd; 1a2a005 committed the logs).
# The reported SRGAN (issue 12): SRGAN-MSE (cpu profile) from the reported SRResNet (issue 11's srresnet_best.pth,
# experiments/srresnet.sh), 18 epochs x 280 = 5,040 adversarial updates, the paper's schedule shape: 1e-4 for
# epochs 1-9, 1e-5 for 10-18. Two options, chosen on the held-out images by the experiments of
# results/logs/gan_choices/ (report_appendix.md, A6): ema_decay=0.999 (G for inference is the moving average of its
# weights) and grid_weight=100 (G's loss weighs its error at the grid frequencies 101 times). The checkpoints hold
# G and its moving average, so both are compared on the held-out images at the end. Resumes from
# checkpoints/srgan_last.pth when run again. (The first reported SRGAN, ema_decay alone: experiments/srgan_ema_only.sh.)
# Usage: RUN_DIR=<work tree of commit a8dcecc (its options) or later, with data_lists/> INIT=<srresnet_best.pth> experiments/srgan.sh
cd "${RUN_DIR:-.}"
exec "${PYTHON:-python}" solver.py --phase srgan --profile cpu srgan_init="${INIT:?the SRResNet checkpoint}" \
  srgan_epochs=18 srgan_lr_decay_epochs=9 ema_decay=0.999 grid_weight=100 val_max_images=none \
  progress=false checkpoint_folder=checkpoints log_folder=logs

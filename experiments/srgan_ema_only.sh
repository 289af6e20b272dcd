#!/usr/bin/env bash
# Ran from commit fb914af (2026-11-30): check out that commit to rerun it exactly; its logs are in
# results/logs/srgan_ema_only/ (the training code is the same from fb914af to 9e0c0c6, which committed the logs).
# The reported SRGAN (issue 12): SRGAN-MSE (cpu profile) from the reported SRResNet (issue 11's srresnet_best.pth,
# experiments/srresnet.sh), 18 epochs x 280 = 5,040 adversarial updates, the paper's schedule shape: 1e-4 for
# epochs 1-9, 1e-5 for 10-18. One option, chosen on the held-out images by the experiments of
# results/logs/gan_choices/ (report_appendix.md, A6): ema_decay=0.999, the only change that kept the grid down at
# the experiments' budget. The checkpoints hold G and its moving average, so both are compared on the held-out
# images at the end. Resumes from checkpoints/srgan_last.pth when run again.
# Usage: RUN_DIR=<work tree of commit fb914af (its options) or later, with data_lists/> INIT=<srresnet_best.pth> experiments/srgan_ema_only.sh
cd "${RUN_DIR:-.}"
exec "${PYTHON:-python}" solver.py --phase srgan --profile cpu srgan_init="${INIT:?the SRResNet checkpoint}" \
  srgan_epochs=18 srgan_lr_decay_epochs=9 ema_decay=0.999 val_max_images=none \
  progress=false checkpoint_folder=checkpoints log_folder=logs

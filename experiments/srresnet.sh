#!/usr/bin/env bash
# Ran from commit 866c05e (2026-11-25): check out that commit to rerun it exactly; its logs are in results/logs/
# (srresnet_epochs.csv, srresnet_iterations.csv, srresnet_console.txt).
# The reported SRResNet (issue 11): cpu profile; Adam 4e-4, x0.1 for the last third (epochs 49-72);
# the eight flips/rotations; the whole training set decoded once (pool_size=all, the cpu profile's default).
# 72 epochs x 280 updates = 20,160 updates, sized to finish within one 3-hour session on 2 cores (the
# 160-epoch run of 2026-11-25 lost its checkpoints with its machine after 22 epochs: its logs are in
# results/logs/srresnet_160_aborted/). Resumes from checkpoints/srresnet_last.pth when run again. (Started as 45 epochs with the
# decay at 30; extended to 72/48 after epoch 3, once this machine measured 88 s per epoch, before any decay.)
cd "${RUN_DIR:-.}"  # a work tree of commit 866c05e, with data_lists/ made from the shared images
exec "${PYTHON:-python}" solver.py --phase srresnet --profile cpu \
  srresnet_epochs=72 srresnet_lr=4e-4 srresnet_lr_decay_epochs=48 augment=true val_max_images=none \
  progress=false checkpoint_folder=checkpoints log_folder=logs

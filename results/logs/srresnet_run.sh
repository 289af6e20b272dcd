#!/usr/bin/env bash
# The reported SRResNet (issue 11): cpu profile; Adam 4e-4, x0.1 for the last third (epochs 31-45);
# the eight flips/rotations; the whole training set decoded once (pool_size=all, the cpu profile's default).
# 45 epochs x 280 updates = 12,600 updates, sized to finish within one 3-hour session on 2 cores (the
# 160-epoch run of 2026-11-25 lost its checkpoints with its machine after 22 epochs: its logs are in
# results/logs/srresnet_160_aborted/). Resumes from checkpoints/srresnet_last.pth when run again.
cd "${RUN_DIR:-.}"  # a work tree of commit 866c05e, with data_lists/ made from the shared images
exec "${PYTHON:-python}" solver.py --phase srresnet --profile cpu \
  srresnet_epochs=45 srresnet_lr=4e-4 srresnet_lr_decay_epochs=30 augment=true val_max_images=none \
  progress=false checkpoint_folder=checkpoints log_folder=logs

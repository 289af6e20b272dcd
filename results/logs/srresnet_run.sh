#!/usr/bin/env bash
# The reported SRResNet (issue 11): cpu profile; Adam 4e-4, x0.1 from epoch 108 of 160 (the last third);
# the eight flips/rotations; the whole training set decoded once (pool_size=all, the cpu profile's default).
# Resumes from checkpoints/srresnet_last.pth when run again.
cd "${RUN_DIR:-.}"  # a work tree of commit 859b3d6, with data_lists/ made from the shared images
exec "${PYTHON:-python}" solver.py --phase srresnet --profile cpu \
  srresnet_epochs=160 srresnet_lr=4e-4 srresnet_lr_decay_epochs=107 augment=true val_max_images=none \
  progress=false checkpoint_folder=checkpoints log_folder=logs


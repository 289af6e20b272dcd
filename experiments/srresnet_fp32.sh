#!/usr/bin/env bash
# Issue 37: the SRResNet that the screening (artefact_screening.sh) and its winner start from, the reported
# SRResNet's recipe (train_notebook.sh's phase 1 = srresnet_retrain.sh's settings: 54 epochs, 4e-4 then 4e-5 after 48,
# flips/rotations) trained again from nothing, as the checkpoints of train_notebook.sh's run were lost with their
# machine. fp32 on a 2-core CPU without bf16 (AVX2 only), channels_last (about 30% faster there for SRResNet).
# Ran from 1fb4391 in RUN_DIR (a work tree of that commit, its data_lists made by
# `python create_data_lists.py --data-root DATA --output-folder data_lists`); its epoch 1 equals
# results/logs/srresnet_retrain's (the same recipe in fp32) to the printed digits. Run it again after a stop: it resumes.
#     RUN_DIR=/work/runs/srresnet PYTHON=/work/main/.venv/bin/python bash experiments/srresnet_fp32.sh
set -euo pipefail
cd "${RUN_DIR:-.}"
export PYTHONUNBUFFERED=1
exec "${PYTHON:-python}" training.py --phase srresnet --profile cpu content_loss=mse val_max_images=none \
    progress=false srresnet_epochs=54 srresnet_lr=0.0004 srresnet_lr_decay_epochs=48 augment=true channels_last=true \
    checkpoint_folder=checkpoints log_folder=logs

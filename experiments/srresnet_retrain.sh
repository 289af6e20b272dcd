#!/usr/bin/env bash
# Ran from commit 41d2cbb (started 2026-11-30, resumed over several sittings); its logs are in
# results/logs/srresnet_retrain/. The reported SRResNet, retrained because the checkpoints of experiments/srresnet.sh
# were lost with their machine: the same recipe (cpu profile; Adam 4e-4, x0.1 after epoch 48 of 72; the eight
# flips/rotations; all 10 held-out images), in fp32: this machine's CPU (AMD EPYC, AVX2, no bf16 instructions) ran a
# bf16 step 12x slower than fp32 (19.7 s against 1.62 s per SRResNet update). Resumes from checkpoints/ when run again.
# 54 epochs, not 72 (decided on 2026-11-30 after epoch 4, from the held-out images of the first run,
# results/logs/srresnet_epochs.csv: val 30.92 dB after epoch 54, 30.97 after 72; the last 18 epochs, 2.3 hours
# here, added 0.05 dB).
cd "${RUN_DIR:-.}"
export PYTHONUNBUFFERED=1
exec "${PYTHON:-python}" solver.py --phase srresnet --profile cpu \
  srresnet_epochs=54 srresnet_lr=4e-4 srresnet_lr_decay_epochs=48 augment=true val_max_images=none amp=false \
  progress=false checkpoint_folder=checkpoints log_folder=logs

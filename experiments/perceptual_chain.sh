#!/usr/bin/env bash
# Issue 25's runs one after the other, so that the CPU never idles between them across sittings (run it again
# after a stop: each step resumes, or says it is done): the SRResNet (experiments/srresnet_retrain.sh in its own
# work tree, SRRESNET_DIR), then the scales of the feature losses and the four content losses at equal budget
# (experiments/perceptual.sh in the work tree of a later commit, PERCEPTUAL_DIR, with its data_lists/).
#     SRRESNET_DIR=/work/runs/srresnet PERCEPTUAL_DIR=/work/runs/perceptual PYTHON=/work/main/.venv/bin/python \
#         SRGAN_NIQE_MODEL=/work/shared/niqe nohup bash experiments/perceptual_chain.sh >> /work/runs/chain.txt 2>&1 &
set -euo pipefail
: "${SRRESNET_DIR:?the SRResNet work tree}" "${PERCEPTUAL_DIR:?the perceptual work tree}"
export SRGAN_NIQE_MODEL="${SRGAN_NIQE_MODEL:?the NIQE pristine model (an absolute path)}"
RUN_DIR="$SRRESNET_DIR" bash "$SRRESNET_DIR/run.sh" >> "$SRRESNET_DIR/console.txt" 2>&1
RUN_DIR="$PERCEPTUAL_DIR" INIT="$SRRESNET_DIR/checkpoints/srresnet_best.pth" bash "$PERCEPTUAL_DIR/experiments/perceptual.sh"

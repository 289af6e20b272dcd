#!/usr/bin/env bash
# Issue 37's screening at equal budget: from one SRResNet (SRRESNET: srresnet_fp32.sh's best
# checkpoint), 8 adversarial epochs = 2,240 updates each (fp32 on a 2-core AVX2 CPU: about 3 s an
# update; the 5,040 would take 4 to 5 hours a run), on the held-out images after every epoch with NIQE, the
# generator kept after every epoch. The reference is today's recipe (the cpu profile's SRGAN-MSE: moving average
# 0.999, grid_weight=100, 1e-4); each other run changes one thing (selection.py's rule, written before the runs,
# ranks them; experiments/artefact_screening_summarize.py tables and draws them). A name ending in _seedN runs with
# seed N. Run it again after a stop: each run resumes from its last epoch. The run 'combined' joins the options that
# report_appendix A15's step chooses once the one-change runs ended (COMBINED_OPTIONS, the KEY=VALUE line that
# artefact_screening_next.py combination prints); the second seeds are named by its 'seeds' step.
#     RUN_DIR=/work/runs/screening SRRESNET=/work/runs/srresnet/checkpoints/srresnet_best.pth \
#         SRGAN_NIQE_MODEL=/work/shared/niqe PYTHON=/work/main/.venv/bin/python \
#         bash experiments/artefact_screening.sh reference d_luminance
set -euo pipefail
: "${SRRESNET:?the SRResNet checkpoint every run starts from}" "${SRGAN_NIQE_MODEL:?the NIQE pristine model}"
export SRGAN_NIQE_MODEL PYTHONUNBUFFERED=1
cd "${RUN_DIR:-.}"
python="${PYTHON:-python}"
# What each run changes, and what it targets: d_luminance, colour speckle (D cannot see colour); d_augment, D learning
# the 280 training images by heart (DiffAugment); ldl, artefacts by the LDL map (the paper's weight); spectral, the
# mesh (the energy SR has above the LR Nyquist frequency where the HR has less).
declare -A OPTIONS=(
    [reference]=""
    [d_luminance]="d_luminance=true"
    [d_augment]="d_augment=true"
    [ldl]="ldl_weight=1"
    [spectral]="spectral_weight=30"
    [combined]="${COMBINED_OPTIONS-}"
)
for name in "$@"; do
    base="${name%_seed*}"
    seed=0
    [ "$base" != "$name" ] && seed="${name##*_seed}"
    [ -n "${OPTIONS[$base]+set}" ] || { echo "unknown run $base (runs: ${!OPTIONS[*]})"; exit 2; }
    if [ "$base" = combined ] && [ -z "${OPTIONS[combined]}" ]; then
        echo "run $name: set COMBINED_OPTIONS (experiments/artefact_screening_next.py combination prints them)"; exit 2
    fi
    # shellcheck disable=SC2086
    "$python" training.py --phase srgan --profile cpu content_loss=mse srgan_epochs=8 srgan_lr_decay_epochs=18 \
        val_max_images=none val_niqe=true progress=false seed="$seed" srgan_init="$SRRESNET" \
        checkpoint_folder="screening/$name/checkpoints" log_folder="screening/$name/logs" ${OPTIONS[$base]}
done

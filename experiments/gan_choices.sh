#!/usr/bin/env bash
# Ran from one commit per run (each run's training code is the same up to the commit that committed its logs):
#   paper, frozen_bn, ema: 866c05e (2026-11-25; logs in bf330a1, 2026-11-30)
#   adv_weight_3e-4, d_lr_0.1, d_shift_7: 8812489 (2026-11-30; logs in 49814fb)
#   d_blur: a8a1dec; d_spectral_norm, g_lr_1e-5, adv_weight_0: fb914af (2026-11-30; logs in 49814fb)
#   grid_weight_100: 5cc2bf5; grid_weight_1000: a8dcecc (2026-11-30; logs in b8329e1)
#   relativistic: cf6dc3f (2026-11-30; logs in ce0d7b3; its first start, console_aborted.txt: 866c05e)
# Check out that commit to rerun it exactly, with that commit's copy of this script
# (results/logs/gan_choices/run.sh there: before cf6dc3f without ema_decay=0 grid_weight=0, which solver.py rejects
# before 5cc2bf5); its logs are in results/logs/gan_choices/<run>/.
# Issue 12, step 2: what causes the grid of the adversarial phase? Short SRGAN-MSE runs of equal budget from one
# fixed SRResNet checkpoint, one change at a time: 4 epochs of 280 updates (1,120), the paper's schedule shape
# (srgan_lr 1e-4, x0.1 after epoch 2), validated after every epoch on the 10 held-out T91 images (PSNR, SSIM,
# grid and texture scores in each run's srgan_epochs.csv). Usage, from a work tree of a fixed commit with its
# data_lists/ made from the shared images:
#   experiments/gan_choices.sh /path/to/fixed_srresnet.pth [RUN ...]
# The cpu profile turns on ema_decay=0.999 and grid_weight=100 since commit 2dcfd13 (after these runs); each run here
# turns both off first, so that it stays one change from the paper's SRGAN-MSE (a later KEY=VALUE wins).
# PYTHON=.venv/bin/python selects the interpreter. Each run: runs/<name>/{checkpoints,logs} and runs/<name>.out; a run whose srgan_last.pth is complete is resumed.
set -u
init=$1; shift
declare -A options=(
  [paper]=""
  [frozen_bn]="generator_bn=frozen"
  [ema]="ema_decay=0.999"
  [relativistic]="gan_loss=relativistic"
  [d_lr_0.1]="d_lr_ratio=0.1"
  [adv_weight_3e-4]="adversarial_weight=3e-4"
  [d_shift_7]="d_shift=7"
  [d_blur]="d_blur=true"
  [d_spectral_norm]="d_spectral_norm=true"
  [g_lr_1e-5]="srgan_lr=1e-5 d_lr_ratio=10"
  [adv_weight_0]="adversarial_weight=0"
  [grid_weight_100]="grid_weight=100"
  [grid_weight_10]="grid_weight=10"
  [grid_weight_1000]="grid_weight=1000"
)
names=("$@")
mkdir -p runs
[ ${#names[@]} -eq 0 ] && names=(paper frozen_bn ema relativistic d_lr_0.1 adv_weight_3e-4)
for name in "${names[@]}"; do
  "${PYTHON:-python}" solver.py --phase srgan --profile cpu srgan_epochs=4 srgan_lr_decay_epochs=2 srgan_init="$init" \
    val_max_images=none progress=false checkpoint_folder="runs/$name/checkpoints" log_folder="runs/$name/logs" \
    ema_decay=0 grid_weight=0 ${options[$name]} >> "runs/$name.out" 2>&1
done

#!/usr/bin/env bash
# Ran from commit dfdfeb5 (2026-11-25) in the work tree /work/exp: check out that commit to rerun it exactly;
# its logs are in results/logs/srresnet_choices/ (053b005 committed them and this script).
# Issue 11 step 1 and 2 (part 1): sampler benchmark, then SRResNet choices at 840 updates each (seed 0).
set -u
cd /work/exp
PY=/work/main/.venv/bin/python
$PY benchmarks/bench_sampler.py --updates 280 --pools 8 32 > runs/bench_sampler.txt 2>&1
run() {  # name, then overrides
  name=$1; shift
  $PY solver.py --phase srresnet --profile cpu srresnet_epochs=3 val_max_images=none progress=false \
     checkpoint_folder=runs/$name/checkpoints log_folder=runs/$name/logs "$@" > runs/$name.out 2>&1
}
run const2e-4 srresnet_lr=2e-4
run const4e-4 srresnet_lr=4e-4
run const2e-4_aug srresnet_lr=2e-4 augment=true
echo finished > runs/choices1.done

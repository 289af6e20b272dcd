#!/usr/bin/env bash
# Ran from commit dfdfeb5 (2026-11-25) in the work tree /work/exp: check out that commit to rerun it exactly;
# its logs are in results/logs/srresnet_choices/ (053b005 committed them and this script).
# Issue 11 step 2 (part 2): the schedule's shape at the chosen peak rate (4e-4: best validation PSNR at 840
# updates in part 1), 840 updates each, same start: cosine to 0 vs a x0.1 step for the last third.
set -u
cd /work/exp
while [ ! -f runs/choices1.done ]; do sleep 10; done
PY=/work/main/.venv/bin/python
run() {
  name=$1; shift
  $PY solver.py --phase srresnet --profile cpu srresnet_epochs=3 val_max_images=none progress=false \
     checkpoint_folder=runs/$name/checkpoints log_folder=runs/$name/logs "$@" > runs/$name.out 2>&1
}
run cosine4e-4 srresnet_lr=4e-4 srresnet_lr_schedule=cosine
run step4e-4 srresnet_lr=4e-4 srresnet_lr_decay_epochs=2
echo finished > runs/choices2.done

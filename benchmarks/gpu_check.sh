#!/usr/bin/env bash
# The checks of the CUDA path, in one run of under 10 minutes on a lent GPU; figures go to $OUT/gpu_check.txt
# (report_appendix.md A8 quotes that file). Usage, from the repository root:
#     OUT=/tmp/out bash benchmarks/gpu_check.sh          # PYTHON=... to choose the interpreter (default: .venv's)
# Steps: 1. the CUDA tests (tests/test_cuda.py) and the trainer's tests; 2. bench_training.py on CUDA: fp16 AMP on/off
# x channels_last on/off, updates per second side by side, and the host waits per step; 3. about 4 minutes of the
# paper profile on real images (../shared/data or $SRGAN_SHARED_DATA; else scikit-image's photographs): the loss
# falling, validation PSNR after each epoch; 4. with 2 GPUs: 1 process against 2 (torchrun, SyncBatchNorm on and
# off), 60 updates of each phase (the SRGAN with pixel MSE: no VGG19 weights there). Without CUDA (CI, a laptop) it
# checks its own syntax and the CPU side of each step.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PYTHON:-}" ]; then PYTHON=python; [ -x .venv/bin/python ] && PYTHON=.venv/bin/python; fi
OUT=${OUT:-gpu_check_output}
mkdir -p "$OUT"
REPORT="$OUT/gpu_check.txt"
DATA=${SRGAN_SHARED_DATA:-../shared/data}
GPUS=$("$PYTHON" -c "import torch; print(torch.cuda.device_count())" 2>/dev/null)
if ! [[ "$GPUS" =~ ^[0-9]+$ ]]; then
    echo "error: $PYTHON cannot import torch: make the environment (README, Quick start) or give PYTHON=..." >&2
    exit 1
fi
section() { echo; echo "== $*"; } >> "$REPORT"

{ echo "gpu_check $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')";
  "$PYTHON" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, 'GPUs:',
  [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())])"; } > "$REPORT"
if [ "$GPUS" = "0" ]; then  # the CPU side of each step, small and short
    DEVICE=cpu; TESTS=tests/test_cuda.py; BENCH="--steps 1 --batch-size 2 --crop-size 48 --quick"; EPOCH_LIMIT=180
    EPOCHS=1  # one short epoch: the path runs (the limit leaves room for a busy CPU); the time limit is for the GPU
    # batch_size <= patches_per_image: the first loader worker gets at least one image's patches, so the epoch
    # runs at least one update whatever the data (5 sample photographs or T91 + BSDS200)
    SMALL="batch_size=2 patches_per_image=2 n_blocks=2 channels=16"
    echo "no CUDA device: the CPU side of each step only" >> "$REPORT"
else
    DEVICE=cuda; TESTS="tests/test_cuda.py tests/test_solver.py"; BENCH="--steps 6"; EPOCH_LIMIT=240; SMALL=""
    EPOCHS=100  # as many as EPOCH_LIMIT allows
fi

section "1. tests"
"$PYTHON" -m pytest -q $TESTS -x -p no:cacheprovider 2>&1 | tail -3 >> "$REPORT"

section "2. bench_training.py --device $DEVICE $BENCH"
timeout 300 "$PYTHON" benchmarks/bench_training.py --device "$DEVICE" $BENCH >> "$REPORT" 2>&1

section "3. the paper profile on real images, $EPOCH_LIMIT s"
WORK="$OUT/paper_run"
if [ -d "$DATA/train" ]; then ROOT=$DATA; else ROOT="$WORK/sample"; "$PYTHON" create_data_lists.py --make-sample-data "$ROOT" >/dev/null; fi
echo "images: $ROOT$([ "$ROOT" = "$DATA" ] || echo " (no $DATA/train: scikit-image's photographs)")" >> "$REPORT"
"$PYTHON" create_data_lists.py --data-root "$ROOT" --output-folder "$WORK/lists" --test-sets Set5 >/dev/null 2>&1 ||
    "$PYTHON" create_data_lists.py --data-root "$ROOT" --output-folder "$WORK/lists" --test-sets Sample --val-images 1 \
        >/dev/null
timeout "$EPOCH_LIMIT" "$PYTHON" training.py --phase srresnet --profile paper device="$DEVICE" srresnet_epochs="$EPOCHS" \
    patches_per_image=16 num_workers=2 val_max_images=5 progress=false lists_folder="$WORK/lists" \
    checkpoint_folder="$WORK/checkpoints" log_folder="$WORK/logs" $SMALL >> "$REPORT" 2>&1
[ $? = 124 ] && echo "(stopped by the time limit after the epochs above)" >> "$REPORT"
"$PYTHON" - "$WORK/logs/srresnet_iterations.csv" >> "$REPORT" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]))) if __import__("os").path.exists(sys.argv[1]) else []
if rows:
    n = max(1, len(rows) // 10)
    first, last = (sum(float(r["content"]) for r in part) / len(part) for part in (rows[:n], rows[-n:]))
    print(f"{len(rows)} updates; mean content loss of the first {n}: {first:.4f}, of the last {n}: {last:.4f}")
EOF

if [ "$GPUS" -ge 2 ] 2>/dev/null; then
    section "4. one process against two (torchrun), 60 updates of each phase (SRGAN, pixel MSE: D on real and fake)"
    for run in "1 true" "2 true" "2 false"; do
        set -- $run
        timeout 300 "$PYTHON" -m torch.distributed.run --nproc_per_node="$1" training.py --phase both \
            --profile paper device=cuda srresnet_epochs=1 srgan_epochs=1 patches_per_image=4 sync_batch_norm="$2" \
            content_loss=mse progress=false \
            val_max_images=5 lists_folder="$WORK/lists" checkpoint_folder="$WORK/ddp_$1_$2" log_folder="$WORK/ddp_$1_$2" \
            2>&1 | grep -E "epoch 1/|batch norm" | sed "s/^/processes $1, sync_batch_norm $2: /" >> "$REPORT"
    done
fi
echo; cat "$REPORT"

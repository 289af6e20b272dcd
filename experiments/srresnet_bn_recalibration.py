# Ran from commit dfdfeb5 (2026-11-25) in the work tree /work/exp of srresnet_choices1.sh, as the script was at
# 053b005 (891f8fa and 26a0aa9 then followed the moves of load_generator and validate's return): check out that
# commit to rerun it exactly; its output is results/logs/srresnet_choices/recalibration.txt.
"""Validation PSNR of a checkpoint with its running BN statistics vs statistics recomputed over N batches."""
import sys

import torch
from torch.optim.swa_utils import update_bn

sys.path.insert(0, "/work/exp")
from datasets import TrainDataset
from inference import load_generator
from solver import validate

train = TrainDataset("/work/exp/data_lists/train.csv", patches_per_image=16, pool_size="all", seed=123)
train.set_epoch(1)
for path in sys.argv[1:]:
    g = load_generator(path, "cpu")
    before = validate(g, "/work/exp/data_lists/val.csv")["val_psnr"]
    batches = []
    it = iter(train)
    for _ in range(40):
        pairs = [next(it) for _ in range(16)]
        batches.append(torch.stack([lr for lr, _ in pairs]))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        update_bn(batches, g)
    g.eval()
    after = validate(g, "/work/exp/data_lists/val.csv")["val_psnr"]
    print(f"{path}: running stats {before:.3f} dB, recalibrated (40 batches) {after:.3f} dB", flush=True)

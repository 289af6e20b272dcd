"""The scale of each feature content loss, by the paper's rule: VGG54's features are multiplied by 1/12.75 "to obtain
VGG losses of a scale that is comparable to the MSE loss". Here, on the held-out images (never a test set), with the
fixed SRResNet's output as SR: scale = sqrt(pixel MSE / feature MSE), so that the scaled feature loss equals the
pixel MSE where phase 2 starts. Prints and writes one row per content loss.

    python experiments/feature_scale.py CHECKPOINT [--val-list data_lists/val.csv] [--out results/logs/perceptual]

Used for models.ContentLoss.FEATURE_SCALES (the lite0 kinds) and the random-VGG control (issue 25).
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from datasets import TestDataset  # noqa: E402
from inference import load_generator  # noqa: E402
from models import ContentLoss  # noqa: E402
from utils import convert_image, write_csv  # noqa: E402

KINDS = {"lite0_stage3": {}, "lite0_stage5": {}, "vgg54 (random weights)": {"vgg_weights": "random"}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--val-list", default="data_lists/val.csv")
    parser.add_argument("--out", default="results/logs/perceptual")
    args = parser.parse_args()
    generator = load_generator(args.checkpoint, "cpu")
    images = TestDataset(args.val_list)
    pairs = []
    with torch.no_grad():
        for index in range(len(images)):
            item = images[index]
            sr = generator(convert_image(item["lr"], "uint8", "[0, 1]")[None])
            pairs.append((sr, convert_image(item["hr"], "uint8", "[-1, 1]")[None]))
        pixel = sum(torch.mean((sr - hr) ** 2).item() for sr, hr in pairs) / len(pairs)
        rows = []
        for label, options in KINDS.items():
            loss = ContentLoss(label.split()[0], feature_scale=1.0, **options)
            feature = sum(loss(sr, hr).item() for sr, hr in pairs) / len(pairs)
            rows.append({"content_loss": label, "pixel_mse": pixel, "feature_mse": feature,
                         "scale": (pixel / feature) ** 0.5, "images": len(pairs), "checkpoint": args.checkpoint})
            print(f"{label}: pixel MSE {pixel:.6f}, feature MSE {feature:.4f} -> scale {rows[-1]['scale']:.5f}")
    write_csv(os.path.join(args.out, "feature_scales.csv"), rows)


if __name__ == "__main__":
    main()

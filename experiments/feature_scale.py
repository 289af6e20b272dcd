"""The scale of each feature content loss, by the paper's rule: VGG54's features are multiplied by 1/12.75 "to obtain
VGG losses of a scale that is comparable to the MSE loss". Here, on the held-out images (never a test set), with the
fixed SRResNet's output as SR: scale = sqrt(pixel MSE / feature MSE), so that the scaled feature loss equals the
pixel MSE where phase 2 starts. Prints and writes one row per content loss, with ``photo_distance``: how far apart
the (unscaled) features of two unrelated photographs are, |f(a) - f(b)| / |f(a)| (scikit-image's ``chelsea`` and
``coffee``, 192x192 centre crops): near 0, the network barely sees its input.

    python experiments/feature_scale.py CHECKPOINT [--val-list data_lists/val.csv] [--out results/logs/perceptual]

Used for models.ContentLoss.FEATURE_SCALES (the lite0 kinds) and the random-VGG control (issue 25).
"""
import argparse
import os
import sys

import skimage.data
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from datasets import TestDataset  # noqa: E402
from inference import load_generator  # noqa: E402
from models import ContentLoss  # noqa: E402
from utils import convert_image, write_csv  # noqa: E402

PHOTOS = ("chelsea", "coffee")

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
                         "scale": (pixel / feature) ** 0.5, "photo_distance": photo_distance(loss.features),
                         "images": len(pairs), "checkpoint": args.checkpoint})
            print(f"{label}: pixel MSE {pixel:.6f}, feature MSE {feature:.4g} -> scale {rows[-1]['scale']:.5g}; "
                  f"two unrelated photographs' features {rows[-1]['photo_distance']:.3g} apart")
    write_csv(os.path.join(args.out, "feature_scales.csv"), rows)


def photo_distance(features, size=192):
    """|f(a) - f(b)| / |f(a)| for the ``PHOTOS`` (centre crops of ``size`` px, in ``[-1, 1]``) and a feature network
    ``f`` taking images in ``[-1, 1]`` (``ContentLoss.features``)."""
    crops = []
    for name in PHOTOS:
        image = getattr(skimage.data, name)()
        top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
        crops.append(convert_image(image[top:top + size, left:left + size], "uint8", "[-1, 1]")[None])
    with torch.no_grad():
        a, b = (features(crop) for crop in crops)
    return ((a - b).norm() / a.norm()).item()


if __name__ == "__main__":
    main()

"""Issue 37: the scale of ``gan_options.chroma_error`` against the pixel MSE, to choose ``chroma_weight``.

For each checkpoint, on the held-out images of a data list (LR made by ``imresize``, as in validation): the mean over
images of the pixel MSE (``[-1, 1]`` units, as G's content loss) and of ``chroma_error`` of the whole SR image
against the HR. Writes ``chroma_error_scale.csv`` to ``--out``.

    python experiments/chroma_error_scale.py --list data_lists/val.csv --out results/logs/chroma30 \
        --model srresnet=checkpoints/srresnet_best.pth --model spectral100_epoch35=checkpoints/srgan_epoch_035.pth
"""
import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import gan_options  # noqa: E402
from datasets import load_lr_hr, read_data_list  # noqa: E402
from inference import load_models, super_resolve  # noqa: E402
from utils import convert_image, write_csv  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", required=True, help="the held-out data list")
    parser.add_argument("--model", action="append", required=True, metavar="NAME=CHECKPOINT", help="(repeat)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    pairs = [load_lr_hr(row) for row in read_data_list(args.list)]
    models = load_models(dict(item.split("=", 1) for item in args.model), include_bicubic=False)
    table = []
    for name, model in models.items():
        mse = chroma = 0.0
        for lr, hr in pairs:
            sr, hr = (convert_image(image, "uint8", "[-1, 1]")[None] for image in (super_resolve(model, lr), hr))
            mse += (sr - hr).square().mean().item()
            chroma += gan_options.chroma_error(sr, hr).item()
        count = len(pairs)
        table.append({"model": name, "images": count, "mse": mse / count, "chroma_error": chroma / count})
        print(table[-1])
    os.makedirs(args.out, exist_ok=True)
    write_csv(os.path.join(args.out, "chroma_error_scale.csv"), table)


if __name__ == "__main__":
    main()

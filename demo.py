"""The whole pipeline end to end, in minutes on a CPU: data lists, SRResNet, SRGAN, test, super-resolve.

With no ``--data-root`` it needs nothing but the installed packages: it trains on the sample photographs
bundled with scikit-image (``sample_data.make_sample_data``: 6 colour photos, 5 to train and 1 to validate,
and astronaut, coffee and chelsea held out as the test set ``Sample``). With ``--data-root`` it uses your images (the
layout of ``create_data_lists.py --help``) and the five standard test sets.

It uses the paper's networks and losses with the CPU profile of ``settings.cpu_config`` (pixel-MSE content loss
for SRGAN, so no VGG download) and ``DEMO_SETTINGS``: small crops and few updates, those that did best on the
held-out photograph in about three minutes on 2 CPU cores (both models end just above bicubic on ``Sample``; a real
model takes hours on a GPU: see README.md). Everything goes under ``--output``; of the checkpoints it keeps the
generators only (``--keep-checkpoints`` also keeps D and the optimiser states, to train on).

    python demo.py                                # built-in default, about 3 minutes on 2 CPU cores
    python demo.py --data-root ../shared/data --srresnet-epochs 10
"""
import argparse
import os

import create_data_lists
import curves
import evaluation
import figures
import inference
import sample_data
import settings
import training
import utils

# What the demo changes in the cpu profile (settings.cpu_config), chosen on the held-out photograph (rocket) by
# experiments/demo_tuning.py (its table: results/logs/demo_tuning/README.md): 48-px crops in batches of 8 (the most
# updates in the time; 32 px learned far worse, 64 px and batch 4 less), Adam at 2e-3 falling to 0 on a cosine over
# the SRResNet's 560 updates, and a G that starts with each residual branch at zero and ICNR upsampling convolutions
# (with PyTorch's default initialisation the same time ended 3.8 dB below bicubic there, with them 0.6, 0.4 at 2e-3:
# no setting that fits the time beat bicubic on that smooth photograph; on the test set they do, barely). The SRGAN
# phase: 40 updates of the paper's loss at the paper's 1e-4 from that SRResNet, used as trained: the cpu profile's
# grid term (grid_weight=100, against the grid of long runs; this SRResNet has none) made up most of G's loss and cost
# 0.4 dB there, and its moving average (0.999) would still hold 96% of the SRResNet's weights after 40 updates.
DEMO_SETTINGS = dict(crop_size=48, batch_size=8, patches_per_image=64, srresnet_epochs=14, srresnet_lr=2e-3,
                     srresnet_lr_schedule="cosine", zero_init_residual=True, icnr_init=True, srgan_epochs=1,
                     srgan_lr_decay_epochs=(), ema_decay=0.0, grid_weight=0.0, keep_epoch_generators=False)


def parse_args(argv=None):
    """The command line's arguments; ``args.overrides`` holds the parsed KEY=VALUE settings."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--data-root", help="your images (default: scikit-image's sample photos, written to "
                                            "<output>/sample_data)")
    parser.add_argument("--output", default="demo_output", help="folder for lists, checkpoints, logs, results")
    parser.add_argument("--srresnet-epochs", type=int, default=DEMO_SETTINGS["srresnet_epochs"])
    parser.add_argument("--srgan-epochs", type=int, default=DEMO_SETTINGS["srgan_epochs"])
    parser.add_argument("--patches-per-image", type=int, default=DEMO_SETTINGS["patches_per_image"],
                        help="random crops per training image per epoch")
    parser.add_argument("--keep-checkpoints", action="store_true",
                        help="keep D and the optimiser states in <output>/checkpoints/<phase>_last.pth, to train on "
                             "with more epochs (SRGAN's is about 300 MB); without it only the generators are kept")
    parser.add_argument("--max-images", type=int, default=None, help="evaluate only the first N images per set")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.add_argument("settings", nargs="*", metavar="KEY=VALUE",
                        help="more config overrides (python training.py --settings lists them), e.g. n_blocks=8")
    args = parser.parse_args(argv)
    try:
        args.overrides = settings.parse_settings(args.settings)
    except ValueError as error:
        parser.error(str(error))
    return args


def make_lists(args):
    """Steps 1 and 2: the data (scikit-image's photographs unless ``--data-root``) and its lists; returns
    ``(lists folder, test sets)``."""
    if args.data_root:
        data_root, test_sets, val_images = args.data_root, utils.DEFAULT_TEST_SETS, 10
    else:
        data_root, test_sets, val_images = os.path.join(args.output, "sample_data"), ("Sample",), 1
        print(f"1/5 Sample data: scikit-image's photographs -> {data_root}")
        sample_data.make_sample_data(data_root)
    lists = os.path.join(args.output, "data_lists")
    print(f"2/5 Data lists -> {lists}")
    create_data_lists.write_data_lists(data_root, lists, test_sets=test_sets, val_images=val_images)
    return lists, test_sets


def demo_config(args, lists_folder):
    """The training config of a demo run: the cpu profile, ``DEMO_SETTINGS``, the command line's epochs and patches,
    folders under ``args.output``, then its KEY=VALUE settings."""
    demo = dict(DEMO_SETTINGS, lists_folder=lists_folder, checkpoint_folder=os.path.join(args.output, "checkpoints"),
                log_folder=os.path.join(args.output, "logs"), srresnet_epochs=args.srresnet_epochs,
                srgan_epochs=args.srgan_epochs, patches_per_image=args.patches_per_image, device=args.device)
    return settings.cpu_config(**{**demo, **args.overrides})


def main(argv=None):
    args = parse_args(argv)
    out = args.output
    lists, test_sets = make_lists(args)
    config = demo_config(args, lists)
    print(f"3/5 Training SRResNet ({config.srresnet_epochs} epochs), then SRGAN ({config.srgan_epochs})")
    srresnet = train_phase(config, "srresnet", args.keep_checkpoints)
    srgan = train_phase(config, "srgan", args.keep_checkpoints)

    results = os.path.join(out, "results")
    figure = curves.plot_training_curves(config.log_folder)
    figures.save_figure(figure, os.path.join(results, "training_curves.png"))
    print(f"4/5 Testing on {', '.join(test_sets)} -> {results}")
    models = inference.load_models({"srresnet": srresnet["best"], "srgan": srgan["last"]}, device=args.device)
    summaries = evaluation.evaluate_all(models, lists, datasets=test_sets, max_images=args.max_images,
                                        results_folder=results, device=args.device)
    print(evaluation.metrics_markdown(summaries))
    print(gains_over_bicubic(summaries))

    human_set = "Set5" if "Set5" in test_sets else test_sets[0]
    set_list = os.path.join(lists, f"{human_set}.csv")
    if os.path.exists(set_list):
        folder = os.path.join(results, human_set)
        print(f"5/5 Super-resolving every {human_set} image with each model -> {folder}")
        figures.compare_set(models, set_list, folder, max_images=args.max_images, device=args.device)
    print(f"Done: {results} holds metrics.csv, metrics.md, training_curves.png and the super-resolved images")
    return 0


def train_phase(config, phase, keep_checkpoints=False):
    """``training.train`` one phase; then, unless ``keep_checkpoints``, ``<phase>_last.pth`` keeps the generator only
    (``training.keep_generators_only``), when this call trained it (a checkpoint kept by an earlier run with
    ``--keep-checkpoints`` stays as it is). Returns ``training.train``'s result."""
    result = training.train(config, phase)
    if result["new_epochs"] and not keep_checkpoints:
        path = training.keep_generators_only(config, phase)
        print(f"{path}: the generator kept, not D or the optimiser states (--keep-checkpoints keeps them)")
    return result


def gains_over_bicubic(summaries):
    """One line per test set: each model's PSNR and SSIM minus bicubic's, e.g. ``Sample: SRResNet +0.41 dB /
    +0.012, SRGAN +0.30 dB / +0.009 over bicubic (28.53 dB / 0.8031)``."""
    lookup = {(s["model"], s["dataset"]): s for s in summaries}
    lines = []
    for dataset in dict.fromkeys(s["dataset"] for s in summaries):
        bicubic = lookup.get(("bicubic", dataset))
        if bicubic is None or not bicubic["images"]:
            continue
        cells = [f"{evaluation.display_name(s['model'])} {s['psnr'] - bicubic['psnr']:+.2f} dB / "
                 f"{s['ssim'] - bicubic['ssim']:+.3f}" for s in summaries
                 if s["dataset"] == dataset and s["model"] not in ("bicubic", "hr") and s["images"]]
        lines.append(f"{dataset}: {', '.join(cells)} over bicubic ({bicubic['psnr']:.2f} dB / {bicubic['ssim']:.4f})")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(utils.run_main(main))

"""The whole pipeline end to end, in minutes on a CPU: data lists, SRResNet, SRGAN, test, super-resolve.

With no ``--data-root`` it needs nothing but the installed packages: it trains on the sample photographs
bundled with scikit-image (``sample_data.make_sample_data``: 6 colour photos, 5 to train and 1 to validate,
and astronaut, coffee and chelsea held out as the test set ``Sample``). With ``--data-root`` it uses your images (the
layout of ``create_data_lists.py --help``) and the five standard test sets.

It uses the paper's networks and losses with the CPU profile of ``settings.cpu_config`` (pixel-MSE
content loss for SRGAN, so no VGG download) and only a few epochs: the point is to see every step work,
not to get a good model (that takes hours on a GPU: see README.md). Everything goes under ``--output``.

    python demo.py                                # built-in default, a few minutes on 2 CPU cores
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


def parse_args(argv=None):
    """The command line's arguments; ``args.overrides`` holds the parsed KEY=VALUE settings."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--data-root", help="your images (default: scikit-image's sample photos, written to "
                                            "<output>/sample_data)")
    parser.add_argument("--output", default="demo_output", help="folder for lists, checkpoints, logs, results")
    parser.add_argument("--srresnet-epochs", type=int, default=4)
    parser.add_argument("--srgan-epochs", type=int, default=1)
    parser.add_argument("--patches-per-image", type=int, default=64)
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


def main(argv=None):
    args = parse_args(argv)
    out = args.output
    lists, test_sets = make_lists(args)
    demo = dict(lists_folder=lists, checkpoint_folder=os.path.join(out, "checkpoints"),
                log_folder=os.path.join(out, "logs"), srresnet_epochs=args.srresnet_epochs,
                srgan_epochs=args.srgan_epochs, patches_per_image=args.patches_per_image, device=args.device,
                srresnet_lr=5e-4)  # a higher rate than the paper's for the demo's few updates
    config = settings.cpu_config(**{**demo, **args.overrides})
    print(f"3/5 Training SRResNet ({config.srresnet_epochs} epochs), then SRGAN ({config.srgan_epochs})")
    srresnet = training.train(config, "srresnet")
    srgan = training.train(config, "srgan")

    results = os.path.join(out, "results")
    figure = curves.plot_training_curves(config.log_folder)
    figures.save_figure(figure, os.path.join(results, "training_curves.png"))
    print(f"4/5 Testing on {', '.join(test_sets)} -> {results}")
    models = inference.load_models({"srresnet": srresnet["best"], "srgan": srgan["last"]}, device=args.device)
    summaries = evaluation.evaluate_all(models, lists, datasets=test_sets, max_images=args.max_images,
                                        results_folder=results, device=args.device)
    print(evaluation.metrics_markdown(summaries))

    human_set = "Set5" if "Set5" in test_sets else test_sets[0]
    set_list = os.path.join(lists, f"{human_set}.csv")
    if os.path.exists(set_list):
        folder = os.path.join(results, human_set)
        print(f"5/5 Super-resolving every {human_set} image with each model -> {folder}")
        figures.compare_set(models, set_list, folder, max_images=args.max_images, device=args.device)
    print(f"Done: {results} holds metrics.csv, metrics.md, training_curves.png and the super-resolved images")
    return 0


if __name__ == "__main__":
    raise SystemExit(utils.run_main(main))

"""The README's main command runs end to end on the built-in default (here with tiny networks)."""
import csv

import demo


def test_demo_runs_every_step_on_the_builtin_sample(tmp_path):
    out = tmp_path / "demo"
    assert demo.main(["--output", str(out), "--srresnet-epochs", "1", "--srgan-epochs", "1",
                      "--patches-per-image", "4", "n_blocks=1", "channels=8", "discriminator_channels=8",
                      "discriminator_dense=16", "crop_size=48", "batch_size=8", "progress=false"]) == 0
    with open(out / "results" / "metrics.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [(r["model"], r["dataset"], r["images"]) for r in rows] == [
        ("bicubic", "Sample", "3"), ("srresnet", "Sample", "3"), ("srgan", "Sample", "3")]
    assert float(rows[0]["psnr"]) > 25  # bicubic on real photographs
    for model in ("bicubic", "srresnet", "srgan"):
        assert len(list((out / "results" / "Sample" / model).glob("*.png"))) == 3
    assert len(list((out / "results" / "Sample").glob("compare_*.png"))) == 3
    assert (out / "results" / "training_curves.png").exists()
    assert (out / "checkpoints" / "srgan_last.pth").exists()

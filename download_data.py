"""Download, verify and unpack DIV2K and the Set5/Set14/B100/Urban100 benchmark sets (command line).

    python download_data.py                          # every part into ./data (or $SRGAN_DATA_ROOT)
    python download_data.py --only benchmark         # just Set5, Set14, B100 and Urban100
    python download_data.py --archives ~/Downloads   # archives you already have, under their official names

Each part is one archive. It is downloaded to ``<data root>/downloads/<archive>.part`` with a progress bar; an
interrupted download is continued with an HTTP Range request (from the start when the server ignores Range),
in the same run when the connection broke off mid-transfer, else in the next run. The archive is then checked
against the size and checksum pinned in ``PARTS``: a wrong one is deleted, never unpacked. A checked archive
is unpacked into a temporary folder in the data root with the standard library's own protection against
entries that would land outside it, not hand-written checks: ``tarfile``'s ``filter="data"`` refuses them
(and links out of the folder, device files); ``ZipFile.extractall`` drops absolute paths and ``..``
components from entry names, so such an entry stays inside (``a/../../x`` becomes ``a/x``), and it writes
zip links as plain files. The folders the project needs are moved into place, and the completion marker
``<data root>/.download_data/<part>.complete`` is written last: a finished part is skipped next time.

Layout under the data root, as ``create_data_lists.py`` reads it::

    DIV2K_train_HR/0001.png    DIV2K_train_LR_bicubic/X4/0001x4.png
    DIV2K_valid_HR/0801.png    DIV2K_valid_LR_bicubic/X4/0801x4.png
    Set5/HR/<name>.png         Set5/LR_bicubic/X4/<name>x4.png        (the same for Set14, B100, Urban100)
"""
import argparse
import hashlib
import http.client
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import Path

from tqdm import tqdm

from utils import atomic_path, run_main

CHUNK = 1024 * 1024  # bytes read, written and hashed at a time
TIMEOUT = 60         # seconds without data before the connection counts as lost
RETRIES = 3          # resumes in one run after the connection broke off mid-transfer

DIV2K_URL = "https://data.vision.ee.ethz.ch/cvl/DIV2K/"
BENCHMARK_SETS = ("Set5", "Set14", "B100", "Urban100")

# One archive per part: "folders" maps a folder in the archive to its place under the data root; the rest of
# the archive (e.g. the X2/X3 images of the benchmark pack) is not kept. Where the pins come from:
# * DIV2K sizes and SHA-256: TensorFlow Datasets, tensorflow_datasets/url_checksums/div2k.txt (commit
#   333639b37af6c6fedf3610a4a2d42f1c6ef6f7d5), recorded for these https:// URLs (the assignment lists the
#   same files under http://). torchSR (github.com/Coloquinte/torchSR, torchsr/datasets/div2k.py, commit
#   99674a4460bab19e90dd69efab1d33c9006e9562) lists their MD5s, for a cross-check by hand: train HR
#   bdc2d9338d4e574fe81bf7d158758658, train LR x4 76c43ec4155851901ebbe8339846d93d, valid HR
#   9fcdda83005c5e5997799b69f955ff88, valid LR x4 21962de700c8d368c6ff83314480eff0.
# * benchmark.tar (the EDSR authors' pack, SNU CVLab) MD5: torchSR, torchsr/datasets/benchmarks.py (same
#   commit). No SHA-256 or exact size of it is published (the EDSR README says "250MB").
PARTS = {
    "div2k_train_hr": {
        "about": "DIV2K training images 0001-0800, HR (3.3 GiB)",
        "url": DIV2K_URL + "DIV2K_train_HR.zip", "size": 3530603713,
        "checksum": "sha256:9d0b9c463f6e35b6c62cc6a930ee2224f670b34c1df841a57670f9acf0f6c335",
        "folders": {"DIV2K_train_HR": "DIV2K_train_HR"}},
    "div2k_train_lr_x4": {
        "about": "DIV2K training images 0001-0800, bicubic x4 LR (235 MiB)",
        "url": DIV2K_URL + "DIV2K_train_LR_bicubic_X4.zip", "size": 246914039,
        "checksum": "sha256:f006b837f4eb52b82909aa01478e6d6d199eefce932179491d0c9dbb706dde3a",
        "folders": {"DIV2K_train_LR_bicubic/X4": "DIV2K_train_LR_bicubic/X4"}},
    "div2k_valid_hr": {
        "about": "DIV2K validation images 0801-0900, HR (428 MiB)",
        "url": DIV2K_URL + "DIV2K_valid_HR.zip", "size": 448993893,
        "checksum": "sha256:20dd31fd84d777bc1cf5d6b7654a3f569c0aec74458ae094122ad1d0489900fc",
        "folders": {"DIV2K_valid_HR": "DIV2K_valid_HR"}},
    "div2k_valid_lr_x4": {
        "about": "DIV2K validation images 0801-0900, bicubic x4 LR (30 MiB)",
        "url": DIV2K_URL + "DIV2K_valid_LR_bicubic_X4.zip", "size": 31505881,
        "checksum": "sha256:a50a5d1c4b88de4e8d300d8fb2b904c52fe93b2b298a4899697760d7cbb6d553",
        "folders": {"DIV2K_valid_LR_bicubic/X4": "DIV2K_valid_LR_bicubic/X4"}},
    "benchmark": {
        "about": "Set5, Set14, B100, Urban100: HR and bicubic x4 LR (EDSR pack, about 250 MB)",
        "url": "https://cv.snu.ac.kr/research/EDSR/benchmark.tar", "size": None,
        "checksum": "md5:4ace41d33c2384b97e6b320cd0afd6ba",
        "folders": {f"benchmark/{name}/{sub}": f"{name}/{sub}"
                    for name in BENCHMARK_SETS for sub in ("HR", "LR_bicubic/X4")}},
}
DIV2K_PARTS = [name for name in PARTS if name.startswith("div2k_")]  # what --only div2k means


def archive_name(part):
    """The archive's file name: the end of its URL (also its name in ``downloads/`` and in ``--archives``)."""
    return part["url"].rsplit("/", 1)[-1]


INSTALLING = "installing\n"  # a marker's text while its part's folders are being moved into place


def marker_path(root, name):
    """The completion marker of part ``name`` (it holds the part's checksum, for reference, or ``INSTALLING``)."""
    return Path(root) / ".download_data" / f"{name}.complete"


def download(url, path):
    """Download ``url`` to the file ``path`` through ``<path>.part``, continuing a ``.part`` that is there.

    When the connection breaks off after some bytes arrived, the download resumes (up to ``RETRIES`` times).
    Raises ``OSError`` saying what failed; it names the ``.part`` file when one is kept to resume later.
    """
    path = Path(path)
    part = path.with_name(path.name + ".part")
    path.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(RETRIES + 1):
        start = part.stat().st_size if part.exists() else 0
        request = urllib.request.Request(url, headers={"Range": f"bytes={start}-"} if start else {})
        received = 0
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                resumed = start > 0 and response.status == 206
                if start and not resumed:
                    print(f"{url}: the server cannot resume a download; starting from the beginning")
                length = response.headers.get("Content-Length")
                length = int(length) if length and length.isdigit() else None
                offset = start if resumed else 0
                with open(part, "ab" if resumed else "wb") as file, \
                        tqdm(total=None if length is None else offset + length, initial=offset, unit="B",
                             unit_scale=True, unit_divisor=1024, desc=path.name) as bar:
                    while chunk := response.read(CHUNK):
                        file.write(chunk)
                        bar.update(len(chunk))
                        received += len(chunk)
            if length is None or received == length:
                os.replace(part, path)
                return
            reason = f"the connection closed after {received:,} of {length:,} bytes"
        except urllib.error.HTTPError as error:
            if error.code == 416 and start:  # nothing left to send: the .part is whole (checked next)
                os.replace(part, path)
                return
            reason = f"the server answered HTTP {error.code} ({error.reason})"
        except (OSError, http.client.HTTPException) as error:  # urllib's URLError is an OSError
            reason = getattr(error, "reason", error)  # a URLError's reason is the underlying error
            reason = str(reason) or type(reason).__name__
        if not received or attempt == RETRIES:
            break
        print(f"{url}: {reason}; resuming")
    if part.exists() and not part.stat().st_size:
        part.unlink()
    kept = (f"; the partial file {part} ({part.stat().st_size:,} bytes) is kept: run again to resume"
            if part.exists() else "; check the network, or download it by hand and use --archives")
    raise OSError(f"cannot download {url}: {reason}{kept}")


def check_archive(path, part):
    """Compare the file ``path`` with the size and checksum pinned in ``part``; ``ValueError`` when they differ."""
    size = path.stat().st_size
    if part["size"] is not None and size != part["size"]:
        raise ValueError(f"{path}: {size:,} bytes, expected {part['size']:,}")
    algorithm, expected = part["checksum"].split(":")
    digest = hashlib.new(algorithm)
    print(f"checking {path.name}")
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != expected:
        raise ValueError(f"{path}: {algorithm.upper()} {digest.hexdigest()}, expected {expected} (a damaged or "
                         f"different file)")


def extract(archive, folder):
    """Unpack the zip or tar file ``archive`` into ``folder``, with the standard library's path protection
    (see the module docstring). ``ValueError`` naming the archive when it is corrupt or has an unsafe entry."""
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zip_file:
                zip_file.extractall(folder)  # also checks each entry's CRC-32
        elif not tarfile.is_tarfile(archive):
            raise ValueError(f"{archive}: not a zip or tar archive")
        elif not hasattr(tarfile, "data_filter"):
            raise ValueError(f"{archive}: unpacking a tar safely needs tarfile's data filter (Python 3.12, or "
                             f"3.10.12 / 3.11.4 and later); this is Python {sys.version.split()[0]}")
        else:
            with tarfile.open(archive) as tar_file:
                tar_file.extractall(folder, filter="data")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as error:
        raise ValueError(f"{archive}: corrupt or unsafe archive ({error})") from None


def install(name, archive, root):
    """Unpack ``archive`` into a temporary folder in ``root``, move part ``name``'s folders into place (replacing
    this script's earlier copies) and write its completion marker last. While the folders move, the marker says
    ``installing``: a run stopped there leaves folders this script knows as its own, and the next run redoes it."""
    part, marker = PARTS[name], marker_path(root, name)
    root.mkdir(parents=True, exist_ok=True)
    print(f"[{name}] unpacking {archive.name}")
    with tempfile.TemporaryDirectory(prefix=f".unpacking-{name}-", dir=root) as folder:
        extract(archive, folder)
        missing = [source for source in part["folders"] if not Path(folder, source).is_dir()]
        if missing:
            raise ValueError(f"{archive}: no folder {', '.join(missing)} in it (not the archive of part {name}?)")
        with atomic_path(marker) as tmp_path:  # from here on the part is this script's, but not complete
            Path(tmp_path).write_text(INSTALLING)
        for source, target in part["folders"].items():
            if (root / target).exists():
                shutil.rmtree(root / target)
            (root / target).parent.mkdir(parents=True, exist_ok=True)
            os.replace(Path(folder, source), root / target)
    with atomic_path(marker) as tmp_path:
        Path(tmp_path).write_text(part["checksum"] + "\n")


def prepare_part(name, root, archives=None):
    """Download (or take from the folder ``archives``), check and install part ``name`` under ``root``.

    Returns False when the part was complete already (skipped), True when it was installed now. Raises
    ``OSError`` / ``ValueError`` naming the URL or file when it fails; nothing of the part is installed then.
    """
    part, root, marker = PARTS[name], Path(root), marker_path(root, name)
    targets = [root / target for target in part["folders"].values()]
    if marker.is_file() and marker.read_text() != INSTALLING and all(map(Path.is_dir, targets)):
        return False
    foreign = [str(target) for target in targets if target.exists()]
    if foreign and not marker.is_file():  # checked first: nobody waits for 3 GB to learn this
        raise FileExistsError(f"{', '.join(foreign)} exist(s) but were not installed by this script; "
                              f"move them away and run again")
    if archives is not None:
        archive = Path(archives) / archive_name(part)
        if not archive.is_file():
            raise FileNotFoundError(f"{archive}: not found (the archive of part {name} has this name)")
        check_archive(archive, part)
    else:
        archive = root / "downloads" / archive_name(part)
        if not archive.exists():  # else left by a run that stopped before unpacking it
            print(f"[{name}] downloading {part['url']}")
            download(part["url"], archive)
        try:
            check_archive(archive, part)
        except ValueError as error:
            archive.unlink()
            raise ValueError(f"{error}; it was deleted: run again to download it anew") from None
    install(name, archive, root)
    if archives is None:
        archive.unlink()
    return True


def build_parser():
    parts = "\n".join(f"  {name:<18} {part['about']}" for name, part in PARTS.items())
    parser = argparse.ArgumentParser(
        prog="download_data.py", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"parts:\n{parts}\n  {'div2k':<18} all four DIV2K parts\n\n"
               "Archives are checked against pinned checksums before unpacking; interrupted downloads resume;\n"
               "finished parts are skipped. exit status: 0 every requested part is in place, 1 a part failed.")
    parser.add_argument("--data-root", default=os.environ.get("SRGAN_DATA_ROOT", "./data"),
                        help="where the data goes (default: $SRGAN_DATA_ROOT, else ./data)")
    parser.add_argument("--only", nargs="+", choices=[*PARTS, "div2k"], metavar="PART",
                        help="only these parts (listed below; default: all)")
    parser.add_argument("--archives", metavar="DIR",
                        help="take the archives from DIR (official file names, e.g. DIV2K_train_HR.zip, "
                             "benchmark.tar) instead of downloading them; they are checked, never deleted")
    return parser


def main(argv=None):
    """Command-line entry point; returns the exit status (0 all requested parts in place, 1 a part failed)."""
    args = build_parser().parse_args(argv)
    names = [name for item in args.only or PARTS for name in (DIV2K_PARTS if item == "div2k" else [item])]
    names = list(dict.fromkeys(names))  # without repeats, in order
    root = Path(args.data_root)
    if args.archives is not None and not Path(args.archives).is_dir():
        raise NotADirectoryError(f"--archives {args.archives}: not a folder")
    created = []  # the folders this run may create, deepest first: removed at the end if they stayed empty
    folder = (root / "downloads").absolute()
    while not folder.exists():
        created.append(folder)
        folder = folder.parent
    failed = []
    try:
        for name in names:
            try:
                if prepare_part(name, root, args.archives):
                    print(f"[{name}] done: {', '.join(PARTS[name]['folders'].values())} in {root}")
                else:
                    print(f"[{name}] already complete, skipped")
            except (OSError, ValueError) as error:
                print(f"error: [{name}] {error}", file=sys.stderr)
                failed.append(name)
    finally:
        for folder in created:
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    if failed:
        print(f"{len(failed)} of {len(names)} part(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"all requested data is in {root}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))

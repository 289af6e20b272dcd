"""Download and unpack the data sets used by the SRGAN x4 assignment.

One command fetches everything::

    python download_data.py                      # all parts into ./data
    python download_data.py --only benchmark     # just Set5/Set14/B100/Urban100
    python download_data.py --archives ~/Downloads   # use archives you already have

What it does, for every *part* (one archive each):

1. **Download** the archive into ``<data root>/downloads/`` with a progress bar.
   Bytes go to ``<archive>.part`` first; if the transfer is cut off, the next
   attempt (or the next run) continues where it stopped with an HTTP ``Range``
   request instead of starting over.
2. **Verify** the archive against a size and checksum pinned in this file
   (see ``PARTS`` below for where each value comes from).  A wrong or
   truncated file is deleted and fetched once more from scratch; if it is
   still wrong the part fails.  An unverified archive is never unpacked.
3. **Extract safely** into a temporary folder inside the data root.  Entries
   that would land outside that folder (``../x``, absolute paths, links that
   point outside) are refused before anything is written.
4. **Move into place** the folders the project needs (atomic renames), then
   write a small completion marker in ``<data root>/.download_data/``.  A part
   with a marker is skipped next time; a crash at any earlier point leaves no
   marker, so the part is simply redone.

Final layout under the data root (what ``create_data_lists.py`` reads)::

    DIV2K_train_HR/0001.png ...        DIV2K_train_LR_bicubic/X4/0001x4.png ...
    DIV2K_valid_HR/0801.png ...        DIV2K_valid_LR_bicubic/X4/0801x4.png ...
    Set5/HR/<name>.png                 Set5/LR_bicubic/X4/<name>x4.png
    (the same for Set14, B100 and Urban100)

Only the standard library and ``tqdm`` are used.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import http.client
import json
import os
import posixpath
import re
import shutil
import stat
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import Path

from tqdm import tqdm

# ---------------------------------------------------------------------------
# Configuration: where the archives live and what they must look like
# ---------------------------------------------------------------------------

#: Official DIV2K site (ETH Zurich, CVL).  The assignment lists the same files
#: under ``http://``; ``https://`` is the same server and the URL form under
#: which the SHA-256 pins below were recorded.
DIV2K_BASE_URL = "https://data.vision.ee.ethz.ch/cvl/DIV2K/"

#: The EDSR authors' (SNU CVLab) benchmark pack: one tar with Set5, Set14,
#: B100 and Urban100, unpacking to ``benchmark/<set>/{HR,LR_bicubic/X2,X3,X4}``.
BENCHMARK_BASE_URL = "https://cv.snu.ac.kr/research/EDSR/"

#: Environment variable that sets the default ``--data-root``.
DATA_ROOT_ENV = "SRGAN_DATA_ROOT"
DEFAULT_DATA_ROOT = "data"

#: Hidden folder under the data root holding one completion marker per part.
MARKER_DIR_NAME = ".download_data"
#: Folder under the data root where archives are downloaded to.
DOWNLOAD_DIR_NAME = "downloads"

CHUNK_SIZE = 1024 * 1024  # bytes read/written/hashed at a time
RETRY_WAIT_SECONDS = 3.0  # pause before retry n is n * this
USER_AGENT = "srgan-download-data/1.0 (Python urllib)"

#: Hex digest length of each supported checksum algorithm.
HASH_LENGTHS = {"md5": 32, "sha256": 64}


@dataclasses.dataclass(frozen=True)
class Part:
    """One downloadable archive and where its contents go.

    Attributes:
        name: short name used on the command line (``--only``, ``--url`` ...).
        description: one line shown by ``--help`` and ``--list``.
        url: where to download the archive from.
        filename: file name of the archive (in the download folder and in
            ``--archives DIR``).
        checksum: ``"sha256:<hex>"`` or ``"md5:<hex>"``; ``None`` = not pinned.
        size: exact archive size in bytes; ``None`` = not pinned.
        folders: pairs ``(folder inside the archive, folder under the data
            root)``.  Only these folders are kept; anything else in the
            archive (e.g. the X2/X3 images of the benchmark pack) is dropped.
    """

    name: str
    description: str
    url: str
    filename: str
    checksum: str | None
    size: int | None
    folders: tuple[tuple[str, str], ...]


# Where the pins come from (none of them could be re-checked against the live
# servers while writing this file, which had no internet access):
#
# * DIV2K sizes and SHA-256: TensorFlow Datasets' recorded checksums,
#   github.com/tensorflow/datasets, file tensorflow_datasets/url_checksums/div2k.txt
#   (commit 333639b37af6c6fedf3610a4a2d42f1c6ef6f7d5), recorded for the
#   https:// form of these URLs.  An independent second source, torchSR
#   (github.com/Coloquinte/torchSR, torchsr/datasets/div2k.py, commit
#   99674a4460bab19e90dd69efab1d33c9006e9562), lists these MD5s for the same
#   files, should you want to cross-check by hand:
#       DIV2K_train_HR.zip             bdc2d9338d4e574fe81bf7d158758658
#       DIV2K_train_LR_bicubic_X4.zip  76c43ec4155851901ebbe8339846d93d
#       DIV2K_valid_HR.zip             9fcdda83005c5e5997799b69f955ff88
#       DIV2K_valid_LR_bicubic_X4.zip  21962de700c8d368c6ff83314480eff0
# * benchmark.tar MD5: torchSR, torchsr/datasets/benchmarks.py (same commit).
#   No SHA-256 and no exact byte size was found published anywhere (the EDSR
#   README only says "250MB"), so this part is pinned by MD5 alone.
_BENCHMARK_SETS = ("Set5", "Set14", "B100", "Urban100")

def _div2k_part(split: str, kind: str, description: str, sha256: str, size: int) -> Part:
    """One official DIV2K archive, e.g. ``("train", "LR_bicubic_X4")``: its zip unpacks to the folder the
    data root keeps (``DIV2K_train_HR`` or ``DIV2K_train_LR_bicubic/X4``)."""
    folder = f"DIV2K_{split}_{kind}".replace("_X4", "/X4")
    return Part(
        name=f"div2k_{split}_{'hr' if kind == 'HR' else 'lr_x4'}",
        description=description,
        url=f"{DIV2K_BASE_URL}DIV2K_{split}_{kind}.zip",
        filename=f"DIV2K_{split}_{kind}.zip",
        checksum=f"sha256:{sha256}",
        size=size,
        folders=((folder, folder),),
    )


PARTS: dict[str, Part] = {
    part.name: part
    for part in (
        _div2k_part("train", "HR", "DIV2K training images 0001-0800, high resolution (3.3 GiB)",
                    "9d0b9c463f6e35b6c62cc6a930ee2224f670b34c1df841a57670f9acf0f6c335", 3530603713),
        _div2k_part("train", "LR_bicubic_X4", "DIV2K training images 0001-0800, bicubic x4 low resolution (235 MiB)",
                    "f006b837f4eb52b82909aa01478e6d6d199eefce932179491d0c9dbb706dde3a", 246914039),
        _div2k_part("valid", "HR", "DIV2K validation images 0801-0900, high resolution (428 MiB)",
                    "20dd31fd84d777bc1cf5d6b7654a3f569c0aec74458ae094122ad1d0489900fc", 448993893),
        _div2k_part("valid", "LR_bicubic_X4", "DIV2K validation images 0801-0900, bicubic x4 low resolution (30 MiB)",
                    "a50a5d1c4b88de4e8d300d8fb2b904c52fe93b2b298a4899697760d7cbb6d553", 31505881),
        Part(
            name="benchmark",
            description="Set5, Set14, B100, Urban100: HR + bicubic x4 LR (EDSR pack, ~250 MB)",
            url=BENCHMARK_BASE_URL + "benchmark.tar",
            filename="benchmark.tar",
            checksum="md5:4ace41d33c2384b97e6b320cd0afd6ba",
            size=None,
            folders=tuple(
                (f"benchmark/{name}/{sub}", f"{name}/{sub}")
                for name in _BENCHMARK_SETS
                for sub in ("HR", "LR_bicubic/X4")
            ),
        ),
    )
}

#: Extra names accepted by ``--only`` that stand for several parts.
ALIASES = {"div2k": [name for name in PARTS if name.startswith("div2k_")]}


# ---------------------------------------------------------------------------
# Errors and small helpers
# ---------------------------------------------------------------------------


class DownloadError(Exception):
    """A problem that stops one part; the message is shown to the user."""


class _TransferInterrupted(Exception):
    """The connection broke off mid-transfer; retrying (resuming) may help."""


def parse_checksum(text: str) -> str | None:
    """Turn ``"sha256:<hex>"``, ``"md5:<hex>"``, a bare hex digest or ``"none"``
    into the normalised form ``"<algorithm>:<lowercase hex>"`` (or ``None``).

    A bare digest's algorithm is told from its length (32 = MD5, 64 = SHA-256).

    Raises:
        ValueError: the text is not a digest of a supported algorithm.
    """
    text = text.strip().lower()
    if text == "none":
        return None
    algorithm, _, digest = text.rpartition(":")
    if not algorithm:
        by_length = {length: name for name, length in HASH_LENGTHS.items()}
        algorithm = by_length.get(len(digest), "")
    if algorithm not in HASH_LENGTHS:
        raise ValueError(
            f"unknown checksum {text!r}: use sha256:<64 hex digits> or md5:<32 hex digits>"
        )
    if not re.fullmatch(f"[0-9a-f]{{{HASH_LENGTHS[algorithm]}}}", digest):
        raise ValueError(
            f"bad {algorithm} checksum {digest!r}: expected {HASH_LENGTHS[algorithm]} hex digits"
        )
    return f"{algorithm}:{digest}"


def file_digest(path: Path, algorithm: str, progress: bool = True) -> str:
    """Return the hex digest of a file, reading it in chunks (with a progress bar)."""
    hasher = hashlib.new(algorithm)
    with (
        open(path, "rb") as f,
        tqdm(
            total=path.stat().st_size,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=f"checking {path.name}",
            leave=False,
            disable=not progress,
        ) as bar,
    ):
        while chunk := f.read(CHUNK_SIZE):
            hasher.update(chunk)
            bar.update(len(chunk))
    return hasher.hexdigest()


def _say(message: str) -> None:
    """Print a progress message (tqdm.write keeps progress bars intact)."""
    tqdm.write(message, file=sys.stdout)


def _warn(message: str) -> None:
    """Print a warning to stderr."""
    tqdm.write(f"warning: {message}", file=sys.stderr)


# ---------------------------------------------------------------------------
# Downloading, with resume
# ---------------------------------------------------------------------------


def download_file(
    url: str,
    dest: Path,
    *,
    expected_size: int | None = None,
    retries: int = 3,
    timeout: float = 60.0,
    progress: bool = True,
) -> None:
    """Download ``url`` to ``dest``, resuming a partial ``dest.part`` if present.

    The bytes go to ``<dest>.part``; only a transfer that ran to its end is
    renamed to ``dest``.  If the connection breaks, the download is retried up
    to ``retries`` times, each time continuing from the bytes already on disk.

    Raises:
        DownloadError: HTTP error (e.g. 404), or the transfer kept breaking off
            (the ``.part`` file is then kept so a later run can resume).
    """
    part_path = dest.with_name(dest.name + ".part")
    attempt = 0
    while True:
        attempt += 1
        try:
            _download_once(url, part_path, expected_size, timeout, progress)
            break
        except _TransferInterrupted as exc:
            if attempt > retries:
                raise DownloadError(
                    f"{url}: download failed after {attempt} attempts: {exc}. "
                    f"The partial file {part_path} was kept; run again to resume."
                ) from None
            _warn(f"{url}: {exc}; resuming (retry {attempt} of {retries})")
            time.sleep(RETRY_WAIT_SECONDS * attempt)
    os.replace(part_path, dest)


def _download_once(
    url: str, part_path: Path, expected_size: int | None, timeout: float, progress: bool
) -> None:
    """One HTTP request: fetch the rest of the file, appending to ``part_path``.

    Raises ``_TransferInterrupted`` when the transfer breaks off (worth a retry)
    and ``DownloadError`` for everything that a retry will not fix.
    """
    start = part_path.stat().st_size if part_path.exists() else 0
    if expected_size is not None and start > expected_size:
        part_path.unlink()  # longer than the real file: it cannot be a prefix
        start = 0
    if expected_size is not None and start == expected_size:
        return  # an earlier run already got every byte

    headers = {"User-Agent": USER_AGENT}
    if start:
        headers["Range"] = f"bytes={start}-"  # ask only for the missing tail
    request = urllib.request.Request(url, headers=headers)

    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and start:
            # "Range Not Satisfiable": we asked to start at or past the end.
            total = _total_from_content_range(err.headers.get("Content-Range", ""))
            if total == start:
                return  # the .part file is already the whole file
            part_path.unlink()
            raise _TransferInterrupted(
                "server refused to resume the partial file; starting over"
            ) from None
        raise DownloadError(f"{url}: HTTP error {err.code} ({err.reason})") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
        reason = getattr(err, "reason", err)
        raise _TransferInterrupted(f"cannot connect: {reason}") from None

    with response:
        if start and response.status == 206:
            range_start = _start_from_content_range(response.headers.get("Content-Range", ""))
            if range_start != start:
                raise DownloadError(
                    f"{url}: server answered the resume request with the wrong range "
                    f"(asked for bytes from {start}, got {response.headers.get('Content-Range')!r})"
                )
            mode = "ab"
        else:
            if start:
                _warn(f"{url}: server does not support resuming; starting over")
            start, mode = 0, "wb"

        length = response.headers.get("Content-Length")
        total = start + int(length) if length and length.isdigit() else expected_size

        with (
            open(part_path, mode) as f,
            tqdm(
                total=total,
                initial=start,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=part_path.name[: -len(".part")],
                disable=not progress,
            ) as bar,
        ):
            while True:
                try:
                    chunk = response.read(CHUNK_SIZE)
                except (http.client.HTTPException, OSError) as err:
                    raise _TransferInterrupted(f"connection lost ({type(err).__name__})") from None
                if not chunk:
                    break
                f.write(chunk)
                bar.update(len(chunk))

    received = part_path.stat().st_size
    if total is not None and received < total:
        raise _TransferInterrupted(f"connection closed after {received:,} of {total:,} bytes")


def _start_from_content_range(value: str) -> int | None:
    """First byte of a ``Content-Range: bytes <first>-<last>/<total>`` header."""
    match = re.match(r"\s*bytes\s+(\d+)-\d+/", value)
    return int(match.group(1)) if match else None


def _total_from_content_range(value: str) -> int | None:
    """Total size from a ``Content-Range: bytes .../<total>`` header."""
    match = re.match(r"\s*bytes\s+[^/]*/(\d+)", value)
    return int(match.group(1)) if match else None


# ---------------------------------------------------------------------------
# Verifying
# ---------------------------------------------------------------------------


def find_problem(
    path: Path, checksum: str | None, size: int | None, progress: bool = True
) -> str | None:
    """Check an archive's size and checksum; return what is wrong, or ``None``."""
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        return f"size mismatch: expected {size:,} bytes, got {actual_size:,}"
    if checksum is None:
        return None
    algorithm, expected = checksum.split(":")
    actual = file_digest(path, algorithm, progress)
    if actual != expected:
        return f"{algorithm.upper()} mismatch: expected {expected}, got {actual}"
    return None


def fetch_archive(
    part: Part, download_dir: Path, *, retries: int, timeout: float, progress: bool
) -> Path:
    """Make sure a verified copy of ``part``'s archive is in ``download_dir``.

    An archive already there is re-used if it verifies.  A freshly downloaded
    archive that fails verification is deleted and downloaded once more from
    scratch; if that copy is wrong too, ``DownloadError`` is raised and
    nothing is left behind.
    """
    download_dir.mkdir(parents=True, exist_ok=True)
    archive = download_dir / part.filename

    if archive.exists():
        problem = find_problem(archive, part.checksum, part.size, progress)
        if problem is None:
            _say(f"[{part.name}] re-using verified {archive}")
            return archive
        _warn(f"{archive}: {problem}; deleting it and downloading again")
        archive.unlink()

    for attempt in (1, 2):
        _say(f"[{part.name}] downloading {part.url}")
        download_file(
            part.url,
            archive,
            expected_size=part.size,
            retries=retries,
            timeout=timeout,
            progress=progress,
        )
        problem = find_problem(archive, part.checksum, part.size, progress)
        if problem is None:
            return archive
        archive.unlink()  # never keep (or unpack) a wrong file
        if attempt == 1:
            _warn(f"{part.url}: {problem}; deleted it, downloading once more from scratch")
    raise DownloadError(
        f"{part.url}: {problem} (downloaded twice, both copies were wrong and were deleted)"
    )


# ---------------------------------------------------------------------------
# Safe extraction
# ---------------------------------------------------------------------------


def _unsafe_name(name: str) -> str | None:
    """Why an archive entry name could escape the target folder, or ``None``."""
    normalized = name.replace("\\", "/")
    if not normalized:
        return "empty entry name"
    if normalized.startswith("/") or re.match(r"[A-Za-z]:", normalized):
        return "absolute path"
    if ".." in normalized.split("/"):
        return "path contains '..'"
    return None


def _unsafe_link(name: str, target: str, hard: bool) -> str | None:
    """Why a (sym/hard) link entry points outside the target folder, or ``None``.

    A symlink target is relative to the link's own folder; a tar hard link
    target is relative to the archive root.
    """
    target = target.replace("\\", "/")
    if target.startswith("/") or re.match(r"[A-Za-z]:", target):
        return f"link to absolute path {target!r}"
    base = "" if hard else posixpath.dirname(name.replace("\\", "/"))
    resolved = posixpath.normpath(posixpath.join(base, target))
    if resolved == ".." or resolved.startswith("../"):
        return f"link pointing outside the folder ({target!r})"
    return None


def _check_inside(archive: Path, dest: Path, name: str) -> None:
    """Last line of defence: the resolved path must stay under ``dest``."""
    if not (dest / name).resolve().is_relative_to(dest.resolve()):
        raise DownloadError(
            f"{archive}: refusing unsafe entry {name!r} (it would be written outside {dest})"
        )


def extract_zip(archive: Path, dest: Path) -> None:
    """Extract a zip into ``dest`` after checking every entry name."""
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        for info in members:  # check everything before writing anything
            reason = _unsafe_name(info.filename)
            if reason is None and stat.S_ISLNK(info.external_attr >> 16):
                reason = _unsafe_link(
                    info.filename, zf.read(info).decode("utf-8", "replace"), hard=False
                )
            if reason:
                raise DownloadError(
                    f"{archive}: refusing unsafe entry {info.filename!r} ({reason})"
                )
            _check_inside(archive, dest, info.filename)
        for info in members:
            zf.extract(info, dest)  # reads and checks each entry's CRC-32


def extract_tar(archive: Path, dest: Path) -> None:
    """Extract a (possibly compressed) tar into ``dest`` after checking every entry."""
    with tarfile.open(archive) as tf:
        members = tf.getmembers()
        for member in members:  # check everything before writing anything
            reason = _unsafe_name(member.name)
            if reason is None and (member.issym() or member.islnk()):
                reason = _unsafe_link(member.name, member.linkname, hard=member.islnk())
            if reason is None and not (
                member.isfile() or member.isdir() or member.issym() or member.islnk()
            ):
                reason = "special file (device, fifo ...)"
            if reason:
                raise DownloadError(f"{archive}: refusing unsafe entry {member.name!r} ({reason})")
            _check_inside(archive, dest, member.name)
        if not hasattr(tarfile, "data_filter"):  # Python < 3.11.4
            tf.extractall(dest, members=members)
            return
        try:  # the "data" filter is a second, stricter check (e.g. writes through links)
            tf.extractall(dest, members=members, filter="data")
        except tarfile.FilterError as err:
            raise DownloadError(
                f"{archive}: refusing unsafe entry {err.tarinfo.name!r} ({err})"
            ) from None


def extract_archive(archive: Path, dest: Path) -> None:
    """Extract a zip or tar archive (told apart by content, not name) into ``dest``.

    Raises:
        DownloadError: unsafe entry, unknown format, or a corrupt archive.
    """
    try:
        if zipfile.is_zipfile(archive):
            extract_zip(archive, dest)
        elif tarfile.is_tarfile(archive):
            extract_tar(archive, dest)
        else:
            raise DownloadError(f"{archive}: not a zip or tar archive")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as err:
        raise DownloadError(f"{archive}: archive is corrupt: {err}") from None


# ---------------------------------------------------------------------------
# Installing a part: extract, move into place, mark complete
# ---------------------------------------------------------------------------


def marker_path(root: Path, part: Part) -> Path:
    """The completion marker of ``part`` under the data root."""
    return root / MARKER_DIR_NAME / f"{part.name}.complete"


def is_complete(root: Path, part: Part) -> bool:
    """True if ``part`` was fully installed and its folders are still there."""
    return marker_path(root, part).is_file() and all(
        (root / dst).is_dir() for _, dst in part.folders
    )


def install_archive(part: Part, archive: Path, root: Path) -> None:
    """Unpack ``archive`` and move ``part``'s folders into place under ``root``.

    Extraction goes to a temporary folder inside ``root`` (same file system, so
    the final moves are atomic renames).  The marker is written last.
    """
    marker = marker_path(root, part)
    with tempfile.TemporaryDirectory(prefix=f".extracting-{part.name}-", dir=root) as tmp:
        tmp_path = Path(tmp)
        _say(f"[{part.name}] extracting {archive.name}")
        extract_archive(archive, tmp_path)

        missing = [src for src, _ in part.folders if not (tmp_path / src).is_dir()]
        if missing:
            raise DownloadError(
                f"{archive}: expected folder(s) not found in the archive: {', '.join(missing)}"
            )

        marker.unlink(missing_ok=True)  # from here on the part is not complete
        for src, dst in part.folders:
            target = root / dst
            if target.exists():
                shutil.rmtree(target)  # only reached for our own folders or --force
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_path / src, target)

    marker.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "archive": part.filename,
        "url": part.url,
        "checksum": part.checksum,
        "folders": [dst for _, dst in part.folders],
    }
    tmp_marker = marker.with_suffix(".tmp")
    tmp_marker.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(tmp_marker, marker)


def prepare_part(
    part: Part,
    root: Path,
    *,
    archives_dir: Path | None = None,
    download_dir: Path | None = None,
    keep_archives: bool = False,
    force: bool = False,
    retries: int = 3,
    timeout: float = 60.0,
    progress: bool = True,
) -> str:
    """Download (or take from ``archives_dir``), verify and install one part.

    Returns ``"skipped"`` or ``"installed"``; raises ``DownloadError`` on failure.
    """
    if not force and is_complete(root, part):
        return "skipped"

    # Refuse to overwrite folders this script did not create (checked before
    # any download, so nobody waits for 3 GB just to hit this error).
    ours = marker_path(root, part).is_file()
    existing = [dst for _, dst in part.folders if (root / dst).exists()]
    if existing and not (ours or force):
        raise DownloadError(
            f"{', '.join(str(root / d) for d in existing)} already exist(s) but were not "
            f"installed by a complete run of this script; move them away, or rerun with "
            f"--force to replace them"
        )

    if archives_dir is not None:
        archive = archives_dir / part.filename
        if not archive.is_file():
            raise DownloadError(
                f"{archive}: file not found (expected the archive for part '{part.name}')"
            )
        problem = find_problem(archive, part.checksum, part.size, progress)
        if problem:
            raise DownloadError(f"{archive}: {problem}")
    else:
        download_dir = download_dir or root / DOWNLOAD_DIR_NAME
        archive = fetch_archive(
            part, download_dir, retries=retries, timeout=timeout, progress=progress
        )

    if part.checksum is None:
        _warn(f"{archive}: no checksum pinned; relying on size and archive integrity checks")
    install_archive(part, archive, root)

    if archives_dir is None and not keep_archives:
        archive.unlink()
    return "installed"


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def _parts_table() -> str:
    """The list of parts shown at the end of ``--help``."""
    lines = ["parts (for --only, --url, --checksum):"]
    for part in PARTS.values():
        lines.append(f"  {part.name:<18} {part.description}")
    for alias, names in ALIASES.items():
        lines.append(f"  {alias:<18} all of: {', '.join(names)}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (kept separate so its help can be tested)."""
    parser = argparse.ArgumentParser(
        prog="download_data.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Download, verify and unpack DIV2K (train/valid HR + bicubic x4 LR) and the\n"
            "Set5/Set14/B100/Urban100 benchmark sets into the layout create_data_lists.py reads:\n"
            "  <root>/DIV2K_train_HR/0001.png     <root>/DIV2K_train_LR_bicubic/X4/0001x4.png\n"
            "  <root>/DIV2K_valid_HR/0801.png     <root>/DIV2K_valid_LR_bicubic/X4/0801x4.png\n"
            "  <root>/Set5/HR/<name>.png          <root>/Set5/LR_bicubic/X4/<name>x4.png\n"
            "  (and the same for Set14, B100 and Urban100)\n"
            "\n"
            "Interrupted downloads resume (HTTP Range, <archive>.part). Every archive is checked\n"
            "against a pinned checksum before it is unpacked: SHA-256 + exact size for the DIV2K\n"
            "zips (from TensorFlow Datasets), MD5 for benchmark.tar (from torchSR; no size is\n"
            "published for it). A wrong file is fetched once more, then the part fails.\n"
            "Entries that would escape the target folder are refused. Finished parts are\n"
            "skipped on the next run."
        ),
        epilog=_parts_table() + "\n\nexamples:\n"
        "  python download_data.py\n"
        "  python download_data.py --only benchmark div2k_valid_hr div2k_valid_lr_x4\n"
        "  python download_data.py --data-root /scratch/sr --keep-archives\n"
        "  python download_data.py --archives ~/Downloads   # archives fetched by hand\n"
        "  python download_data.py --url benchmark=https://mirror.example/benchmark.tar\n"
        "\nexit status: 0 when every requested part is in place, 1 if any part failed.",
    )
    parser.add_argument(
        "--data-root",
        type=Path,
        metavar="DIR",
        default=Path(os.environ.get(DATA_ROOT_ENV) or DEFAULT_DATA_ROOT),
        help=f"where to put the data (default: ${DATA_ROOT_ENV} or ./{DEFAULT_DATA_ROOT})",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="PART",
        help="download only these parts (names listed below; commas also work). Default: all",
    )
    parser.add_argument(
        "--archives",
        type=Path,
        metavar="DIR",
        help="take the archives from this folder (same file names as the official ones, "
        "e.g. DIV2K_train_HR.zip, benchmark.tar) instead of downloading; they are verified "
        "and never deleted",
    )
    parser.add_argument(
        "--download-dir",
        type=Path,
        metavar="DIR",
        help=f"where archives are downloaded to (default: <data root>/{DOWNLOAD_DIR_NAME})",
    )
    parser.add_argument(
        "--keep-archives",
        action="store_true",
        help="keep downloaded archives after unpacking (default: delete them to save space)",
    )
    parser.add_argument(
        "--url",
        action="append",
        default=[],
        metavar="PART=URL",
        help="download PART from URL instead of the built-in address (repeatable)",
    )
    parser.add_argument(
        "--checksum",
        action="append",
        default=[],
        metavar="PART=[sha256:|md5:]HEX",
        help="expect this checksum for PART instead of the pinned one (repeatable); this also "
        "drops the pinned size. 'PART=none' skips the checksum (not recommended)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="redo parts already marked complete and replace existing target folders",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=3,
        metavar="N",
        help="resume attempts after a dropped connection (default: 3)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="network timeout in seconds (default: 60)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    parser.add_argument(
        "--list",
        action="store_true",
        help="show the parts with their URLs and checksums, then exit",
    )
    return parser


def _parse_assignments(
    parser: argparse.ArgumentParser, option: str, values: list[str]
) -> dict[str, str]:
    """Parse repeated ``PART=VALUE`` options into a dict (usage error if malformed)."""
    result = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not value:
            parser.error(f"{option} expects PART=VALUE, got {item!r}")
        if name not in PARTS:
            parser.error(f"{option}: unknown part {name!r} (choose from {', '.join(PARTS)})")
        result[name] = value
    return result


def resolve_parts(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[Part]:
    """Apply ``--only``, ``--url`` and ``--checksum`` to the built-in ``PARTS``."""
    if args.only:
        names: list[str] = []
        for item in args.only:
            for name in filter(None, item.split(",")):
                if name in ALIASES:
                    names.extend(ALIASES[name])
                elif name in PARTS:
                    names.append(name)
                else:
                    choices = ", ".join([*PARTS, *ALIASES])
                    parser.error(f"--only: unknown part {name!r} (choose from {choices})")
        names = list(dict.fromkeys(names))  # drop repeats, keep order
    else:
        names = list(PARTS)

    urls = _parse_assignments(parser, "--url", args.url)
    checksums = _parse_assignments(parser, "--checksum", args.checksum)

    parts = []
    for name in names:
        part = PARTS[name]
        if name in urls:
            part = dataclasses.replace(part, url=urls[name])
        if name in checksums:
            try:
                checksum = parse_checksum(checksums[name])
            except ValueError as err:
                parser.error(f"--checksum {name}: {err}")
            # A different checksum means a different file: the pinned size no longer applies.
            part = dataclasses.replace(part, checksum=checksum, size=None)
        parts.append(part)
    return parts


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 = all parts in place)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.retries < 0:
        parser.error("--retries must be >= 0")
    parts = resolve_parts(parser, args)

    if args.list:
        for part in parts:
            size = f"{part.size:,} bytes" if part.size else "size not pinned"
            print(f"{part.name}\n  {part.url}\n  {part.checksum or 'no checksum'}, {size}")
        return 0

    root: Path = args.data_root
    if args.archives is not None and not args.archives.is_dir():
        print(f"error: --archives {args.archives}: not a folder", file=sys.stderr)
        return 1
    root.mkdir(parents=True, exist_ok=True)

    failed = []
    for part in parts:
        try:
            outcome = prepare_part(
                part,
                root,
                archives_dir=args.archives,
                download_dir=args.download_dir,
                keep_archives=args.keep_archives,
                force=args.force,
                retries=args.retries,
                timeout=args.timeout,
                progress=not args.no_progress,
            )
        except DownloadError as err:
            print(f"error: [{part.name}] {err}", file=sys.stderr)
            failed.append(part.name)
        except KeyboardInterrupt:
            print(
                f"\ninterrupted during [{part.name}]; run the same command again to resume",
                file=sys.stderr,
            )
            return 130
        else:
            if outcome == "skipped":
                _say(f"[{part.name}] already complete, skipped")
            else:
                _say(f"[{part.name}] done: {', '.join(dst for _, dst in part.folders)} in {root}")

    if failed:
        print(f"error: {len(failed)} part(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    _say(f"all requested data is in {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

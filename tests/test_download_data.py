"""Tests for download_data.py, without internet.

A small HTTP server on 127.0.0.1 (run in a thread, with HTTP Range support)
serves tiny DIV2K-like zips and an EDSR-like benchmark tar built here from a
few real images of the shared data folder (``$SRGAN_SHARED_DATA``, default
``<repo>/../shared/data``).  The tests hand the module those URLs and
checksums through its ``--url`` / ``--checksum`` options.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import re
import sys
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import download_data  # noqa: E402

SHARED_DATA = Path(os.environ.get("SRGAN_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
SETS = ("Set5", "Set14", "B100", "Urban100")
DIV2K_PARTS = ("div2k_train_hr", "div2k_train_lr_x4", "div2k_valid_hr", "div2k_valid_lr_x4")


# ---------------------------------------------------------------------------
# Test archives
# ---------------------------------------------------------------------------


def _zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name), data)
    return buffer.getvalue()


def _tar_bytes(entries: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tf:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tf.addfile(info)
    return buffer.getvalue()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class SampleArchives:
    """Tiny archives with the same inner layout as the real ones."""

    def __init__(self) -> None:
        set5 = SHARED_DATA / "Set5"
        hr = sorted((set5 / "HR").glob("*.png"))[:2]
        lr = [set5 / "LR_bicubic" / "X4" / f"{p.stem}x4.png" for p in hr]
        hr_bytes = [p.read_bytes() for p in hr]
        lr_bytes = [p.read_bytes() for p in lr]

        # name inside archive -> bytes, per DIV2K zip
        self.div2k: dict[str, tuple[str, dict[str, bytes]]] = {
            "div2k_train_hr": (
                "DIV2K_train_HR.zip",
                {f"DIV2K_train_HR/{i + 1:04d}.png": b for i, b in enumerate(hr_bytes)},
            ),
            "div2k_train_lr_x4": (
                "DIV2K_train_LR_bicubic_X4.zip",
                {f"DIV2K_train_LR_bicubic/X4/{i + 1:04d}x4.png": b for i, b in enumerate(lr_bytes)},
            ),
            "div2k_valid_hr": (
                "DIV2K_valid_HR.zip",
                {f"DIV2K_valid_HR/{i + 801:04d}.png": b for i, b in enumerate(hr_bytes)},
            ),
            "div2k_valid_lr_x4": (
                "DIV2K_valid_LR_bicubic_X4.zip",
                {
                    f"DIV2K_valid_LR_bicubic/X4/{i + 801:04d}x4.png": b
                    for i, b in enumerate(lr_bytes)
                },
            ),
        }
        self.zips = {part: _zip_bytes(entries) for part, (_, entries) in self.div2k.items()}

        # benchmark/<set>/HR/<name>.png, LR_bicubic/X4/<name>x4.png (+ an X2 that must be dropped)
        self.bench_entries: dict[str, bytes] = {}
        for name in SETS:
            hr_dir = SHARED_DATA / name / "HR"
            pngs = (
                sorted(hr_dir.glob("*.png"), key=lambda p: p.stat().st_size)
                if hr_dir.is_dir()
                else []
            )
            picks = pngs[:1] if name != "Set5" else sorted(pngs)
            for p in picks or [hr[0]]:
                lr_file = SHARED_DATA / name / "LR_bicubic" / "X4" / f"{p.stem}x4.png"
                lr_data = lr_file.read_bytes() if lr_file.is_file() else lr_bytes[0]
                self.bench_entries[f"benchmark/{name}/HR/{p.name}"] = p.read_bytes()
                self.bench_entries[f"benchmark/{name}/LR_bicubic/X4/{p.stem}x4.png"] = lr_data
                self.bench_entries[f"benchmark/{name}/LR_bicubic/X2/{p.stem}x2.png"] = lr_data
        self.tar = _tar_bytes(self.bench_entries)

    def expected_files(self, parts=(*DIV2K_PARTS, "benchmark")) -> dict[str, bytes]:
        """Relative path under the data root -> content, for the given parts."""
        expected = {}
        for part in parts:
            if part == "benchmark":
                for name, data in self.bench_entries.items():
                    if "/X2/" not in name:
                        expected[name.removeprefix("benchmark/")] = data
            else:
                expected.update(self.div2k[part][1])
        return expected


@pytest.fixture(scope="module")
def data() -> SampleArchives:
    if not (SHARED_DATA / "Set5" / "HR").is_dir():
        pytest.skip(f"shared test images not found at {SHARED_DATA} (set SRGAN_SHARED_DATA)")
    return SampleArchives()


# ---------------------------------------------------------------------------
# A local HTTP server with Range support and scripted misbehaviour
# ---------------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files``; ``server.plan[path]`` lists per-request tricks:
    ``("status", code)``, ``("drop", n)`` (close after n body bytes) or
    ``("body", data)`` (serve other bytes)."""

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        srv = self.server
        srv.requests.append((self.path, self.headers.get("Range")))
        plan = srv.plan.get(self.path)
        kind, arg = plan.pop(0) if plan else (None, None)
        body = srv.files.get(self.path)
        if kind == "status" or body is None:
            self.send_error(arg if kind == "status" else 404)
            return
        if kind == "body":
            body = arg

        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if match and srv.ranges:
            start = int(match.group(1))
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        payload = body[start:]
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if kind == "drop":
            payload = payload[:arg]  # then the connection closes (HTTP/1.0)
        self.wfile.write(payload)

    def log_message(self, *args) -> None:  # keep test output quiet
        pass


class LocalServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes] = {}
        self.plan: dict[str, list[tuple[str, object]]] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.ranges = True

    def url(self, filename: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{filename}"

    def publish(
        self, part: str, filename: str, content: bytes, checksum: str | None = None
    ) -> list[str]:
        """Serve ``content`` as ``/filename``; return the CLI options pointing ``part`` at it."""
        self.files[f"/{filename}"] = content
        checksum = checksum or "sha256:" + _sha256(content)
        return ["--url", f"{part}={self.url(filename)}", "--checksum", f"{part}={checksum}"]

    def publish_all(self, data: SampleArchives) -> list[str]:
        args = []
        for part, (filename, _) in data.div2k.items():
            args += self.publish(part, filename, data.zips[part])
        args += self.publish(
            "benchmark", "benchmark.tar", data.tar, "md5:" + hashlib.md5(data.tar).hexdigest()
        )
        return args


@pytest.fixture
def server():
    srv = LocalServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(autouse=True)
def no_retry_wait(monkeypatch):
    monkeypatch.setattr(download_data, "RETRY_WAIT_SECONDS", 0.0)


@pytest.fixture
def root(tmp_path) -> Path:
    # Two levels down, so '../x' and '../../x' would still land inside tmp_path.
    return tmp_path / "work" / "data"


def run(root: Path, *args: str, progress: bool = False) -> int:
    argv = ["--data-root", str(root), "--timeout", "5", *args]
    if not progress:
        argv.append("--no-progress")
    return download_data.main(argv)


def assert_files(root: Path, expected: dict[str, bytes]) -> None:
    for rel, content in expected.items():
        path = root / rel
        assert path.is_file(), f"missing {rel}"
        assert path.read_bytes() == content, f"wrong content in {rel}"


def assert_nothing_installed(root: Path, part: str) -> None:
    folders = [dst for _, dst in download_data.PARTS[part].folders]
    assert not any((root / dst).exists() for dst in folders)
    assert not (root / ".download_data" / f"{part}.complete").exists()
    assert not list(root.glob(".extracting-*"))


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------


def test_full_download_gives_expected_layout(root, server, data, capsys):
    assert run(root, *server.publish_all(data), progress=True) == 0

    assert_files(root, data.expected_files())
    assert (root / "DIV2K_train_HR" / "0001.png").is_file()
    assert (root / "DIV2K_train_LR_bicubic" / "X4" / "0001x4.png").is_file()
    assert (root / "DIV2K_valid_HR" / "0801.png").is_file()
    assert (root / "DIV2K_valid_LR_bicubic" / "X4" / "0801x4.png").is_file()
    for name in SETS:
        assert list((root / name / "HR").glob("*.png"))
        assert list((root / name / "LR_bicubic" / "X4").glob("*x4.png"))
        assert not (root / name / "LR_bicubic" / "X2").exists()  # dropped
    assert not (root / "benchmark").exists()
    for part in download_data.PARTS:
        assert (root / ".download_data" / f"{part}.complete").is_file()
    assert not list(root.glob(".extracting-*"))
    assert list((root / "downloads").iterdir()) == []  # archives deleted after unpacking
    assert "all requested data is in" in capsys.readouterr().out


def test_keep_archives(root, server, data):
    args = server.publish(
        "div2k_valid_lr_x4", "DIV2K_valid_LR_bicubic_X4.zip", data.zips["div2k_valid_lr_x4"]
    )
    assert run(root, "--only", "div2k_valid_lr_x4", "--keep-archives", *args) == 0
    assert (root / "downloads" / "DIV2K_valid_LR_bicubic_X4.zip").read_bytes() == data.zips[
        "div2k_valid_lr_x4"
    ]


def test_resume_after_dropped_connection(root, server, data):
    cut = len(data.tar) // 3
    args = server.publish("benchmark", "benchmark.tar", data.tar)
    server.plan["/benchmark.tar"] = [("drop", cut)]

    assert run(root, "--only", "benchmark", *args) == 0

    assert server.requests == [("/benchmark.tar", None), ("/benchmark.tar", f"bytes={cut}-")]
    assert_files(root, data.expected_files(["benchmark"]))


def test_dropped_connection_gives_up_after_retries_and_keeps_part_file(root, server, data, capsys):
    args = server.publish("benchmark", "benchmark.tar", data.tar)
    server.plan["/benchmark.tar"] = [("drop", 1000), ("drop", 1000)]

    assert run(root, "--only", "benchmark", "--retries", "1", *args) == 1

    err = capsys.readouterr().err
    assert "download failed after 2 attempts" in err and "run again to resume" in err
    assert (root / "downloads" / "benchmark.tar.part").stat().st_size == 2000
    assert_nothing_installed(root, "benchmark")

    # The next run continues from byte 2000.
    assert run(root, "--only", "benchmark", *args) == 0
    assert server.requests[-1] == ("/benchmark.tar", "bytes=2000-")
    assert_files(root, data.expected_files(["benchmark"]))


def test_resume_from_existing_part_file(root, server, data):
    cut = len(data.tar) // 2
    (root / "downloads").mkdir(parents=True)
    (root / "downloads" / "benchmark.tar.part").write_bytes(data.tar[:cut])
    args = server.publish("benchmark", "benchmark.tar", data.tar)

    assert run(root, "--only", "benchmark", *args) == 0

    assert server.requests == [("/benchmark.tar", f"bytes={cut}-")]
    assert_files(root, data.expected_files(["benchmark"]))


def test_complete_part_file_is_not_fetched_again(root, server, data):
    (root / "downloads").mkdir(parents=True)
    (root / "downloads" / "benchmark.tar.part").write_bytes(data.tar)
    args = server.publish("benchmark", "benchmark.tar", data.tar)

    assert run(root, "--only", "benchmark", *args) == 0

    assert server.requests == [("/benchmark.tar", f"bytes={len(data.tar)}-")]  # answered 416
    assert_files(root, data.expected_files(["benchmark"]))


def test_server_without_range_support_restarts_from_scratch(root, server, data):
    server.ranges = False
    (root / "downloads").mkdir(parents=True)
    (root / "downloads" / "benchmark.tar.part").write_bytes(b"x" * 5000)
    args = server.publish("benchmark", "benchmark.tar", data.tar)

    assert run(root, "--only", "benchmark", *args) == 0

    assert len(server.requests) == 1
    assert_files(root, data.expected_files(["benchmark"]))


def test_wrong_partial_bytes_are_caught_and_refetched(root, server, data):
    # A stale .part whose bytes are not a prefix of the file: the resumed
    # result fails the checksum, is deleted and fetched again from scratch.
    (root / "downloads").mkdir(parents=True)
    (root / "downloads" / "benchmark.tar.part").write_bytes(b"x" * 5000)
    args = server.publish("benchmark", "benchmark.tar", data.tar)

    assert run(root, "--only", "benchmark", *args) == 0

    assert server.requests == [("/benchmark.tar", "bytes=5000-"), ("/benchmark.tar", None)]
    assert_files(root, data.expected_files(["benchmark"]))


def test_truncated_download_is_refetched_once(root, server, data):
    args = server.publish("benchmark", "benchmark.tar", data.tar)
    server.plan["/benchmark.tar"] = [("body", data.tar[:-4096])]  # short but "complete" response

    assert run(root, "--only", "benchmark", *args) == 0

    assert len(server.requests) == 2
    assert_files(root, data.expected_files(["benchmark"]))


def test_corrupted_archive_fails_and_is_not_unpacked(root, server, data, capsys):
    good = data.zips["div2k_valid_hr"]
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0xFF
    args = server.publish("div2k_valid_hr", "DIV2K_valid_HR.zip", good)
    server.plan["/DIV2K_valid_HR.zip"] = [("body", bytes(bad)), ("body", bytes(bad))]

    assert run(root, "--only", "div2k_valid_hr", *args) == 1

    err = capsys.readouterr().err
    assert "SHA256 mismatch" in err
    assert f"expected {_sha256(good)}, got {_sha256(bytes(bad))}" in err
    assert server.url("DIV2K_valid_HR.zip") in err
    assert len(server.requests) == 2  # fetched exactly once more
    assert_nothing_installed(root, "div2k_valid_hr")
    assert list((root / "downloads").iterdir()) == []  # bad file deleted


def test_wrong_pinned_md5_is_reported(root, server, data, capsys):
    args = server.publish("benchmark", "benchmark.tar", data.tar, checksum="md5:" + "0" * 32)
    assert run(root, "--only", "benchmark", *args) == 1
    err = capsys.readouterr().err
    assert f"MD5 mismatch: expected {'0' * 32}, got {hashlib.md5(data.tar).hexdigest()}" in err
    assert_nothing_installed(root, "benchmark")


def test_size_pin_catches_truncated_file_without_hashing(root, server, data, monkeypatch, capsys):
    part = download_data.PARTS["div2k_valid_lr_x4"]
    content = data.zips["div2k_valid_lr_x4"]
    pinned = download_data.dataclasses.replace(
        part, url=server.url("v.zip"), size=len(content) + 10, checksum="sha256:" + _sha256(content)
    )
    monkeypatch.setitem(download_data.PARTS, "div2k_valid_lr_x4", pinned)
    server.files["/v.zip"] = content

    assert run(root, "--only", "div2k_valid_lr_x4") == 1
    assert (
        f"size mismatch: expected {len(content) + 10:,} bytes, got {len(content):,}"
        in capsys.readouterr().err
    )
    assert_nothing_installed(root, "div2k_valid_lr_x4")


def test_malicious_zip_entry_is_refused(root, server, data, capsys):
    _, entries = data.div2k["div2k_valid_lr_x4"]
    evil = _zip_bytes({**entries, "../evil.txt": b"owned", "../../evil2.txt": b"owned"})
    args = server.publish("div2k_valid_lr_x4", "DIV2K_valid_LR_bicubic_X4.zip", evil)

    assert run(root, "--only", "div2k_valid_lr_x4", *args) == 1

    assert "refusing unsafe entry '../evil.txt'" in capsys.readouterr().err
    tmp_path = root.parent.parent
    assert not [p for p in tmp_path.rglob("evil*")]
    assert_nothing_installed(root, "div2k_valid_lr_x4")


@pytest.mark.parametrize(
    "kind",
    ["dotdot", "absolute", "symlink_outside", "symlink_absolute"],
)
def test_malicious_tar_entry_is_refused(root, server, data, capsys, kind):
    outside = root.parent.parent / "evil.txt"
    entries, links = dict(data.bench_entries), {}
    if kind == "dotdot":
        entries["benchmark/../../evil.txt"] = b"owned"
    elif kind == "absolute":
        entries[str(outside)] = b"owned"
    elif kind == "symlink_outside":
        links["benchmark/Set5/HR/link"] = "../../../../evil.txt"
    else:
        links["benchmark/Set5/HR/link"] = str(outside)
    evil = _tar_bytes(entries, links)
    args = server.publish("benchmark", "benchmark.tar", evil)

    assert run(root, "--only", "benchmark", *args) == 1

    err = capsys.readouterr().err
    assert "refusing unsafe entry" in err
    assert not outside.exists()
    assert not [p for p in root.parent.parent.rglob("evil*")]
    assert_nothing_installed(root, "benchmark")


def test_archive_without_expected_folders_is_rejected(root, server, data, capsys):
    only_set5 = {k: v for k, v in data.bench_entries.items() if k.startswith("benchmark/Set5/")}
    args = server.publish("benchmark", "benchmark.tar", _tar_bytes(only_set5))
    assert run(root, "--only", "benchmark", *args) == 1
    assert "benchmark/Set14/HR" in capsys.readouterr().err
    assert_nothing_installed(root, "benchmark")


@pytest.mark.parametrize("code", [404, 500])
def test_http_error_is_reported(root, server, data, capsys, code):
    args = server.publish("benchmark", "benchmark.tar", data.tar)
    if code == 404:
        args[1] = f"benchmark={server.url('missing.tar')}"
    else:
        server.plan["/benchmark.tar"] = [("status", 500)]

    assert run(root, "--only", "benchmark", *args) == 1

    err = capsys.readouterr().err
    assert f"HTTP error {code}" in err
    assert server.url("missing.tar" if code == 404 else "benchmark.tar") in err
    assert_nothing_installed(root, "benchmark")


def test_one_failing_part_does_not_stop_the_others(root, server, data, capsys):
    args = server.publish_all(data)
    server.plan["/benchmark.tar"] = [("status", 500)]
    assert run(root, *args) == 1
    assert "1 part(s) failed: benchmark" in capsys.readouterr().err
    assert_files(root, data.expected_files(DIV2K_PARTS))
    assert_nothing_installed(root, "benchmark")


def test_local_archives_folder(root, tmp_path, data):
    archives = tmp_path / "my_downloads"
    archives.mkdir()
    (archives / "benchmark.tar").write_bytes(data.tar)
    (archives / "DIV2K_valid_HR.zip").write_bytes(data.zips["div2k_valid_hr"])
    checksums = [
        "--checksum", f"benchmark={hashlib.md5(data.tar).hexdigest()}",
        "--checksum", f"div2k_valid_hr={_sha256(data.zips['div2k_valid_hr'])}",
    ]  # fmt: skip

    assert (
        run(root, "--archives", str(archives), "--only", "benchmark,div2k_valid_hr", *checksums)
        == 0
    )

    assert_files(root, data.expected_files(["benchmark", "div2k_valid_hr"]))
    assert (archives / "benchmark.tar").read_bytes() == data.tar  # user's files untouched
    assert not (root / "downloads").exists()  # no network, no download folder


def test_local_archives_folder_errors(root, tmp_path, data, capsys):
    archives = tmp_path / "my_downloads"
    archives.mkdir()
    (archives / "benchmark.tar").write_bytes(data.tar[:-100])
    md5 = hashlib.md5(data.tar).hexdigest()

    assert (
        run(
            root,
            "--archives",
            str(archives),
            "--only",
            "benchmark",
            "div2k_valid_hr",
            "--checksum",
            f"benchmark={md5}",
        )
        == 1
    )

    err = capsys.readouterr().err
    assert "MD5 mismatch" in err and str(archives / "benchmark.tar") in err
    assert "DIV2K_valid_HR.zip: file not found" in err
    assert (archives / "benchmark.tar").exists()  # never deleted
    assert_nothing_installed(root, "benchmark")


def test_complete_part_is_skipped(root, server, data, capsys):
    args = server.publish("benchmark", "benchmark.tar", data.tar)
    assert run(root, "--only", "benchmark", *args) == 0
    assert len(server.requests) == 1

    assert run(root, "--only", "benchmark", *args) == 0
    assert len(server.requests) == 1  # nothing fetched
    assert "[benchmark] already complete, skipped" in capsys.readouterr().out

    # A folder of a complete part went missing: the part is redone.
    for path in (root / "Set14" / "HR").iterdir():
        path.unlink()
    (root / "Set14" / "HR").rmdir()
    assert run(root, "--only", "benchmark", *args) == 0
    assert len(server.requests) == 2
    assert_files(root, data.expected_files(["benchmark"]))


def test_existing_foreign_folder_needs_force(root, server, data, capsys):
    (root / "Set5" / "HR").mkdir(parents=True)
    (root / "Set5" / "HR" / "mine.png").write_bytes(b"not ours")
    args = server.publish("benchmark", "benchmark.tar", data.tar)

    assert run(root, "--only", "benchmark", *args) == 1
    assert "--force" in capsys.readouterr().err
    assert server.requests == []  # refused before downloading
    assert (root / "Set5" / "HR" / "mine.png").exists()

    assert run(root, "--only", "benchmark", "--force", *args) == 0
    assert not (root / "Set5" / "HR" / "mine.png").exists()
    assert_files(root, data.expected_files(["benchmark"]))


def test_default_data_root_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SRGAN_DATA_ROOT", str(tmp_path / "from_env"))
    assert download_data.build_parser().parse_args([]).data_root == tmp_path / "from_env"
    monkeypatch.delenv("SRGAN_DATA_ROOT")
    assert download_data.build_parser().parse_args([]).data_root == Path("data")


def test_parse_checksum():
    digest = "ab" * 32
    assert download_data.parse_checksum(digest) == f"sha256:{digest}"
    assert download_data.parse_checksum(f"SHA256:{digest.upper()}") == f"sha256:{digest}"
    assert download_data.parse_checksum("cd" * 16) == "md5:" + "cd" * 16
    assert download_data.parse_checksum("none") is None
    for bad in ("xyz", "md5:" + "0" * 31, "sha1:" + "0" * 40, "sha256:" + "g" * 64):
        with pytest.raises(ValueError):
            download_data.parse_checksum(bad)


@pytest.mark.parametrize(
    "argv",
    [
        ["--only", "nope"],
        ["--url", "nope=http://x"],
        ["--url", "benchmark"],
        ["--checksum", "benchmark=xyz"],
    ],
)
def test_bad_command_line_is_a_usage_error(tmp_path, argv, capsys):
    with pytest.raises(SystemExit) as exc:
        download_data.main(["--data-root", str(tmp_path), *argv])
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_help_and_list(capsys):
    with pytest.raises(SystemExit) as exc:
        download_data.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in download_data.PARTS:
        assert name in out
    assert download_data.main(["--list", "--only", "div2k"]) == 0
    out = capsys.readouterr().out
    assert "https://data.vision.ee.ethz.ch/cvl/DIV2K/DIV2K_train_HR.zip" in out
    assert "benchmark.tar" not in out


def test_pinned_checksums_are_well_formed():
    for part in download_data.PARTS.values():
        assert download_data.parse_checksum(part.checksum) == part.checksum
        assert part.url.endswith(part.filename)

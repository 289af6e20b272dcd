"""Tests for download_data.py without internet: a local HTTP server on 127.0.0.1 (with HTTP Range) serves tiny
archives with the inner layout of the real ones, and ``PARTS`` is pointed at them (URL, size, checksum)."""
import hashlib
import http.server
import io
import os
import re
import socket
import subprocess
import sys
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest

import download_data
from download_data import PARTS

REPO = Path(__file__).resolve().parents[1]


def zip_bytes(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name), data)  # ZipInfo keeps '..' in the name as given
    return buffer.getvalue()


def tar_bytes(entries):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def archive_entries(name):
    """``{entry: bytes}`` of a stand-in for part ``name``'s archive; the benchmark pack's X2 images are not kept."""
    if name == "benchmark":
        return {f"benchmark/{s}/{sub}/img{x}.png": f"{s} {sub}".encode() for s in download_data.BENCHMARK_SETS
                for sub, x in (("HR", ""), ("LR_bicubic/X4", "x4"), ("LR_bicubic/X2", "x2"))}
    folder = next(iter(PARTS[name]["folders"]))
    return {f"{folder}/{number:04d}.png": f"{name} {number}".encode() for number in (1, 2)}


def pack(name, entries):
    return (tar_bytes if name == "benchmark" else zip_bytes)(entries)


ARCHIVES = {name: pack(name, archive_entries(name)) for name in PARTS}


def installed_files(name):
    """``{path under the data root: bytes}`` that part ``name`` installs from its stand-in archive."""
    return {target + entry[len(source):]: data for entry, data in archive_entries(name).items()
            for source, target in PARTS[name]["folders"].items() if entry.startswith(source + "/")}


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files``, with Range unless ``server.ranges`` is False. ``server.tricks[path]`` lists
    misbehaviours, one per request: ``("status", code)``, ``("drop", n)`` (close after n bytes), ``("body", data)``."""

    def do_GET(self):
        server = self.server
        server.requests.append((self.path, self.headers.get("Range")))
        tricks = server.tricks.get(self.path)
        trick, value = tricks.pop(0) if tricks else (None, None)
        body = value if trick == "body" else server.files.get(self.path)
        if trick == "status" or body is None:
            return self.send_error(value if trick == "status" else 404)
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        start = int(match[1]) if match and server.ranges else 0
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        self.wfile.write(body[start:start + value] if trick == "drop" else body[start:])  # then it closes

    def log_message(self, *args):
        pass


def publish(server, monkeypatch, name, data):
    """Serve ``data`` as part ``name``'s archive and pin its size (DIV2K) and checksum in ``PARTS``."""
    part = PARTS[name]
    server.files["/" + download_data.archive_name(part)] = data
    algorithm = part["checksum"].split(":")[0]
    monkeypatch.setitem(PARTS, name, {**part, "url": f"http://127.0.0.1:{server.server_port}/"
                                      f"{download_data.archive_name(part)}", "size": part["size"] and len(data),
                                      "checksum": f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"})


@pytest.fixture
def server(monkeypatch):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.files, server.tricks, server.requests, server.ranges = {}, {}, [], True
    for name, data in ARCHIVES.items():
        publish(server, monkeypatch, name, data)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 that nothing listens on: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(root, *args):
    return download_data.main(["--data-root", str(root), *args])


def assert_installed(root, name):
    for path, data in installed_files(name).items():
        assert (root / path).read_bytes() == data, path
    assert download_data.marker_path(root, name).is_file()
    assert not list(root.glob(".unpacking-*"))


def assert_not_installed(root, name):
    assert not any((root / target).exists() for target in PARTS[name]["folders"].values())
    assert not download_data.marker_path(root, name).exists()
    assert not list(root.glob(".unpacking-*"))


def test_full_download_gives_the_layout(tmp_path, server, capsys):
    root = tmp_path / "data"
    assert run(root) == 0
    for name in PARTS:
        assert_installed(root, name)
    assert sorted(path.name for path in root.iterdir()) == [  # archives deleted, their folder too
        ".download_data", "B100", "DIV2K_train_HR", "DIV2K_train_LR_bicubic", "DIV2K_valid_HR",
        "DIV2K_valid_LR_bicubic", "Set14", "Set5", "Urban100"]
    assert [path.name for path in (root / "Set5" / "LR_bicubic").iterdir()] == ["X4"]
    assert "all requested data is in" in capsys.readouterr().out


def test_resume_after_a_dropped_connection(tmp_path, server):
    cut = len(ARCHIVES["benchmark"]) // 3
    server.tricks["/benchmark.tar"] = [("drop", cut)]
    assert run(tmp_path, "--only", "benchmark") == 0
    assert server.requests == [("/benchmark.tar", None), ("/benchmark.tar", f"bytes={cut}-")]
    assert_installed(tmp_path, "benchmark")


@pytest.mark.parametrize("ranges", [True, False])
def test_resume_from_a_part_file_or_restart_without_range_support(tmp_path, server, ranges):
    server.ranges = ranges  # without Range support, the .part (here wrong bytes) is replaced
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "benchmark.tar.part").write_bytes(ARCHIVES["benchmark"][:5000] if ranges else
                                                                 b"x" * 5000)
    assert run(tmp_path, "--only", "benchmark") == 0
    assert server.requests == [("/benchmark.tar", "bytes=5000-")]
    assert_installed(tmp_path, "benchmark")


def test_a_corrupt_archive_is_deleted_and_not_unpacked(tmp_path, server, capsys):
    bad = bytearray(ARCHIVES["div2k_valid_hr"])
    bad[len(bad) // 2] ^= 0xFF
    server.tricks["/DIV2K_valid_HR.zip"] = [("body", bytes(bad))]
    root = tmp_path / "data"
    assert run(root, "--only", "div2k_valid_hr") == 1
    error = capsys.readouterr().err
    assert f"SHA256 {hashlib.sha256(bad).hexdigest()}, expected" in error and "it was deleted" in error
    assert not root.exists()  # nothing installed, the archive deleted, the empty folders removed


@pytest.mark.parametrize("name", ["div2k_valid_hr", "benchmark"])
def test_entries_with_dotdot_do_not_escape(tmp_path, server, monkeypatch, capsys, name):
    root = tmp_path / "a" / "data"  # '../evil' and '../../evil' would still land in tmp_path
    entries = {**archive_entries(name), "../evil.txt": b"x", f"{next(iter(PARTS[name]['folders']))}/../../evil": b"x"}
    publish(server, monkeypatch, name, pack(name, entries))
    status = run(root, "--only", name)
    assert not [path for path in tmp_path.rglob("evil*") if root not in path.parents]
    if name == "benchmark":  # tarfile's data filter refuses the archive
        assert status == 1 and "corrupt or unsafe archive" in capsys.readouterr().err
        assert_not_installed(root, name)
    else:  # zipfile drops the '..' components: the entries land inside the destination
        assert status == 0
        assert_installed(root, name)


@pytest.mark.parametrize("code", [404, 500])
def test_an_http_error_is_reported(tmp_path, server, capsys, code):
    server.tricks["/benchmark.tar"] = [("status", code)]
    assert run(tmp_path / "data", "--only", "benchmark") == 1
    error = capsys.readouterr().err
    assert f"error: [benchmark] cannot download {PARTS['benchmark']['url']}: the server answered HTTP {code}" in error
    assert not (tmp_path / "data").exists()


def test_archives_folder(tmp_path, server, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "benchmark.tar").write_bytes(ARCHIVES["benchmark"])
    root = tmp_path / "data"
    assert run(root, "--archives", str(folder), "--only", "benchmark", "div2k_valid_hr") == 1
    assert f"error: [div2k_valid_hr] {folder / 'DIV2K_valid_HR.zip'}: not found" in capsys.readouterr().err
    assert_installed(root, "benchmark")
    assert (folder / "benchmark.tar").read_bytes() == ARCHIVES["benchmark"]  # never deleted
    assert server.requests == [] and not (root / "downloads").exists()


def test_a_complete_part_is_skipped(tmp_path, server, capsys):
    assert run(tmp_path, "--only", "benchmark") == 0
    assert run(tmp_path, "--only", "benchmark") == 0
    assert len(server.requests) == 1
    assert "[benchmark] already complete, skipped" in capsys.readouterr().out


def test_folders_made_by_someone_else_are_not_replaced(tmp_path, server, capsys):
    (tmp_path / "Set5" / "HR").mkdir(parents=True)
    (tmp_path / "Set5" / "HR" / "mine.png").write_bytes(b"mine")
    assert run(tmp_path, "--only", "benchmark") == 1
    assert "move them away" in capsys.readouterr().err
    assert server.requests == [] and (tmp_path / "Set5" / "HR" / "mine.png").exists()


def test_an_install_stopped_while_moving_folders_is_redone(tmp_path, server, monkeypatch):
    """Ctrl-C between two folders of a part: the next run knows them as its own and installs the part again."""
    moves, real_replace = [], os.replace

    def replace_then_stop(source, target):  # the marker's atomic writes pass; the second folder's move stops
        if ".download_data" not in str(target):
            if moves:
                raise KeyboardInterrupt
            moves.append(target)
        real_replace(source, target)

    monkeypatch.setattr(download_data.os, "replace", replace_then_stop)
    with pytest.raises(KeyboardInterrupt):
        download_data.prepare_part("benchmark", tmp_path)
    assert moves and download_data.marker_path(tmp_path, "benchmark").read_text() == download_data.INSTALLING
    monkeypatch.setattr(download_data.os, "replace", real_replace)
    assert run(tmp_path, "--only", "benchmark") == 0  # not "were not installed by this script"
    assert_installed(tmp_path, "benchmark")


def test_no_network_gives_one_clear_line_per_part(tmp_path, closed_port):
    root = tmp_path / "new" / "data"
    code = ("import sys, download_data as d\n"
            "for part in d.PARTS.values():\n"
            f"    part['url'] = 'http://127.0.0.1:{closed_port}/' + d.archive_name(part)\n"
            "sys.exit(d.run_main(d.main))")
    result = subprocess.run([sys.executable, "-c", code, "--data-root", str(root)], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert [line.split("]")[0] for line in errors] == [f"error: [{name}" for name in PARTS]
    assert all("cannot download http://127.0.0.1" in line and ".part" not in line for line in errors)
    assert not (tmp_path / "new").exists()  # the folders it made are removed again


def test_no_network_names_a_kept_part_file(tmp_path, monkeypatch, closed_port, capsys):
    monkeypatch.setitem(PARTS, "benchmark", {**PARTS["benchmark"], "url": f"http://127.0.0.1:{closed_port}/b.tar"})
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "b.tar.part").write_bytes(b"x" * 1000)
    assert run(tmp_path, "--only", "benchmark") == 1
    assert f"the partial file {tmp_path / 'downloads' / 'b.tar.part'} (1,000 bytes) is kept" in capsys.readouterr().err
    assert (tmp_path / "downloads" / "b.tar.part").stat().st_size == 1000


def test_pinned_checksums_are_well_formed():
    assert list(PARTS) == [*download_data.DIV2K_PARTS, "benchmark"]
    for name, part in PARTS.items():
        algorithm, digest = part["checksum"].split(":")
        assert re.fullmatch("[0-9a-f]{%d}" % {"sha256": 64, "md5": 32}[algorithm], digest), name
        assert part["url"].startswith("https://") and part["url"].endswith((".zip", ".tar"))
        assert part["size"] is None if name == "benchmark" else part["size"] > 0
        for target in part["folders"].values():
            assert not Path(target).is_absolute() and ".." not in Path(target).parts

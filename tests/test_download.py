"""`transferkit datasets download`: the whole path offline, against a local HTTP server on 127.0.0.1 that
serves the reference files of ../shared/data (with HTTP Range support, like the public hosts), a
corrupted copy, and a connection that drops half-way."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from transferkit.cli import app
from transferkit.data import DATASETS, load_dataset
from transferkit.data.download import DownloadError, RemoteFile, fetch_file, file_digest
from transferkit.data.sources import SOURCES, download_dataset, har_content_digest, remote_set, verify_dataset

runner = CliRunner()


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files with single-range ``Range`` requests (206), ``If-Range`` on the ETag, and an optional
    connection drop after ``drop_after`` bytes of a response (once)."""

    log: list[dict[str, str | None]]
    drop_after: int | None = None

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        self.log.append({"path": self.path, "range": self.headers.get("Range"), "if_range": self.headers.get("If-Range")})
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        start, rng = 0, self.headers.get("Range")
        if rng and (self.headers.get("If-Range") in (None, etag)):
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.end_headers()
        cut = type(self).drop_after
        if cut is not None and cut < len(body):
            type(self).drop_after = None  # drop this response only
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


@pytest.fixture()
def serve() -> Iterator:
    """``serve(folder) -> (base_url, handler_class)``: a threaded HTTP server on 127.0.0.1 over ``folder``."""
    servers = []

    def start(folder: Path):
        handler = type("H", (_Handler,), {"log": [], "drop_after": None})

        def factory(*a, **k):
            return handler(*a, directory=str(folder), **k)

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), factory)
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}", handler

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def test_every_named_set_with_files_has_a_source_whose_checksums_match_the_reference_files(data_root) -> None:
    named = [e for e in DATASETS if e.info.folder is not None]
    assert named
    for e in named:
        rs = remote_set(e.name)
        listed = {f.name for f in rs.files}
        assert set(e.info.files) <= listed, (e.name, set(e.info.files) - listed)
        assert all(f.urls or rs.build for f in rs.files), e.name
        assert all(u.startswith("https://") or "yann.lecun.com" in u for f in rs.files for u in f.urls), e.name
        assert set(verify_dataset(e.name, data_root).values()) == {"ok"}, e.name
    # every recorded source is a folder of the reference root, file for file
    for folder, rs in SOURCES.items():
        if (data_root / folder).is_dir():
            on_disk = {p.name for p in (data_root / folder).iterdir() if p.name != "SOURCE.md"}
            assert on_disk == {f.name for f in rs.files}, folder


def test_download_from_the_local_server_places_verified_files_that_load(data_root, serve, tmp_path: Path) -> None:
    url, handler = serve(data_root)
    root = tmp_path / "root"
    res = runner.invoke(app, ["datasets", "download", "usps@test", "sms-spam", "--root", str(root), "--mirror", url])
    assert res.exit_code == 0, res.output
    assert "zip.test.gz: downloaded, SHA-256 verified" in res.output
    for name in ("usps", "sms-spam"):
        assert set(verify_dataset(name, root).values()) == {"ok"}
    assert len(load_dataset("usps@test", root=root)) == 2007
    assert len(load_dataset("sms-spam", root=root)) == 5574
    assert not list(root.rglob(".*.part*")), "no partial file is left behind"
    # a second run fetches nothing: the files are there and verified
    n = len(handler.log)
    res = runner.invoke(app, ["datasets", "download", "usps", "--root", str(root), "--mirror", url])
    assert res.exit_code == 0 and "present, SHA-256 verified" in res.output
    assert len(handler.log) == n


def test_a_corrupted_file_is_refused_and_nothing_is_placed(data_root, serve, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(data_root / "sms_spam_collection", bad / "sms_spam_collection")
    p = bad / "sms_spam_collection" / "SMSSpamCollection"
    p.chmod(0o644)
    raw = bytearray(p.read_bytes())
    raw[1000] ^= 0x01  # one flipped bit
    p.write_bytes(bytes(raw))
    url, _ = serve(bad)
    root = tmp_path / "root"
    res = runner.invoke(app, ["datasets", "download", "sms-spam", "--root", str(root), "--mirror", url])
    assert res.exit_code == 3, res.output
    assert "SHA-256" in res.output and "not placed" in " ".join(res.output.split())
    assert not (root / "sms_spam_collection" / "SMSSpamCollection").exists()
    assert not list(root.rglob(".*.part")), "the bad download is deleted, not kept for resuming"
    # a damaged file already in the data root is replaced by a good download
    good_url, _ = serve(data_root)
    target = root / "sms_spam_collection" / "SMSSpamCollection"
    target.write_bytes(bytes(raw))
    assert verify_dataset("sms-spam", root)["SMSSpamCollection"] == "damaged"
    assert runner.invoke(app, ["datasets", "verify", "sms-spam", "--root", str(root)]).exit_code == 3
    download_dataset("sms-spam", root, mirror=good_url)
    assert verify_dataset("sms-spam", root)["SMSSpamCollection"] == "ok"


def test_a_partial_download_is_resumed_with_a_range_request(data_root, serve, tmp_path: Path) -> None:
    url, handler = serve(data_root)
    spec = SOURCES["usps"].files[0]  # zip.train.gz, 1.8 MB
    full = (data_root / "usps" / spec.name).read_bytes()
    target = tmp_path / "usps" / spec.name
    target.parent.mkdir()
    half = len(full) // 2
    (target.parent / f".{spec.name}.part").write_bytes(full[:half])
    (target.parent / f".{spec.name}.part.json").write_text(json.dumps({"url": f"{url}/usps/{spec.name}"}))
    assert fetch_file(spec, target, mirror=url, folder="usps")
    assert target.read_bytes() == full
    assert [r["range"] for r in handler.log] == [f"bytes={half}-"]


def test_a_dropped_connection_is_resumed_where_it_stopped(data_root, serve, tmp_path: Path) -> None:
    url, handler = serve(data_root)
    handler.drop_after = 300_000
    spec = SOURCES["usps"].files[0]
    target = tmp_path / "usps" / spec.name
    seen: list[int] = []
    assert fetch_file(spec, target, mirror=url, folder="usps", on_progress=lambda n, done, total: seen.append(done))
    assert file_digest(target, "gunzip") == spec.sha256
    assert [r["range"] for r in handler.log] == [None, "bytes=300000-"]
    assert seen[-1] == len(target.read_bytes())


def test_a_changed_file_on_the_server_restarts_the_download(data_root, serve, tmp_path: Path) -> None:
    """If-Range: a .part from an older version of the file is not glued to the new one."""
    url, handler = serve(data_root)
    spec = SOURCES["usps"].files[2]  # zip.info.txt
    target = tmp_path / "usps" / spec.name
    target.parent.mkdir()
    (target.parent / f".{spec.name}.part").write_bytes(b"an older version of the file, longer than the new" * 3)
    (target.parent / f".{spec.name}.part.json").write_text(json.dumps({"url": f"{url}/usps/{spec.name}",
                                                                        "validator": '"stale-etag"'}))
    assert fetch_file(spec, target, mirror=url, folder="usps")
    assert target.read_bytes() == (data_root / "usps" / spec.name).read_bytes()
    assert handler.log[0]["if_range"] == '"stale-etag"'


def test_gz_files_are_checked_on_their_content(data_root, serve, tmp_path: Path) -> None:
    """A re-compressed copy of the same data passes (the original .gz of a canonical host); changed data does not."""
    content = gzip.decompress((data_root / "usps" / "zip.test.gz").read_bytes())
    spec = SOURCES["usps"].files[1]
    src = tmp_path / "src" / "usps"
    src.mkdir(parents=True)
    (src / spec.name).write_bytes(gzip.compress(content, compresslevel=1, mtime=12345))
    url, _ = serve(tmp_path / "src")
    assert fetch_file(spec, tmp_path / "a" / spec.name, mirror=url, folder="usps")
    (src / spec.name).write_bytes(gzip.compress(content.replace(b"-1 ", b"-0.999 ", 1), mtime=0))
    with pytest.raises(DownloadError, match="decompressed content"):
        fetch_file(spec, tmp_path / "b" / spec.name, mirror=url, folder="usps")
    assert not (tmp_path / "b" / spec.name).exists()


def test_offline_gives_a_clear_error_and_exit_code_3(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port with nobody listening: the connection is refused, as offline
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = runner.invoke(app, ["datasets", "download", "heart-disease", "--root", str(tmp_path),
                              "--mirror", f"http://127.0.0.1:{port}"])
    assert res.exit_code == 3, res.output
    out = " ".join(res.output.split())
    assert "no network connection?" in out and "run the same command again" in out
    assert not any(tmp_path.rglob("processed.*"))


def test_unknown_and_embedded_names_are_usage_errors(tmp_path: Path) -> None:
    res = runner.invoke(app, ["datasets", "download", "mnsit", "--root", str(tmp_path)])
    assert res.exit_code == 2 and "mnist" in res.output
    res = runner.invoke(app, ["datasets", "download", "digits", "--root", str(tmp_path)])
    assert res.exit_code == 2 and "needs no download" in res.output


@pytest.mark.slow  # writes and converts 95 MB of float64 windows: about 80 s on 2 cores
def test_uci_har_is_built_from_adatime_files_and_checked_on_its_arrays(data_root, serve, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The source format (60 legacy torch pickles of numpy arrays, one train and one test file per subject),
    written here from the reference arrays, is converted back; a changed value is refused."""
    import torch

    from transferkit.data import sources

    with np.load(data_root / "uci_har_adatime" / "uci_har_inertial_by_subject.npz") as z:
        ref = {k: z[k] for k in z.files}
    src = tmp_path / "adatime" / "data" / "HAR"
    src.mkdir(parents=True)
    for s in range(1, 31):
        for flag, split in enumerate(("train", "test")):
            m = (ref["subject"] == s) & (ref["adatime_split"] == flag)
            torch.save({"samples": ref["X"][m], "labels": ref["y"][m].astype(np.float64)}, src / f"{split}_{s}.pt",
                       _use_new_zipfile_serialization=False)
    url, _ = serve(tmp_path / "adatime")
    monkeypatch.setattr(sources, "_gh", lambda repo, commit, path: f"{url}/{path}")
    root = tmp_path / "root"
    download_dataset("uci-har", root, mirror="")
    out = root / "uci_har_adatime" / "uci_har_inertial_by_subject.npz"
    assert har_content_digest(out) == sources.HAR_CONTENT_SHA256
    assert not (root / "uci_har_adatime" / ".adatime-download").exists()
    assert verify_dataset("uci-har", root) == {out.name: "ok"}
    assert len(load_dataset("uci-har:1-3", root=root)) == 347 + 302 + 341

    # one changed sample: the built arrays do not match, nothing is placed
    x = torch.load(src / "test_30.pt", weights_only=False)
    x["samples"][0, 0, 0] += 1e-6
    torch.save(x, src / "test_30.pt", _use_new_zipfile_serialization=False)
    root2 = tmp_path / "root2"
    with pytest.raises(DownloadError, match="expected"):
        download_dataset("uci-har", root2, mirror="")
    assert not (root2 / "uci_har_adatime" / out.name).exists()


def test_a_file_without_urls_needs_a_mirror(tmp_path: Path) -> None:
    spec = RemoteFile("x.bin", (), "0" * 64)
    with pytest.raises(DownloadError, match="could not get x.bin"):
        fetch_file(spec, tmp_path / "x.bin")


def test_the_next_url_is_tried_when_one_fails_or_serves_other_bytes(data_root, serve, tmp_path: Path) -> None:
    url, handler = serve(data_root)
    good = SOURCES["usps"].files[2]  # zip.info.txt
    spec = RemoteFile(good.name, (f"{url}/nowhere/{good.name}", f"{url}/usps/zip.train.gz", f"{url}/usps/{good.name}"),
                      good.sha256, good.size)
    assert fetch_file(spec, tmp_path / good.name)
    assert [r["path"] for r in handler.log] == ["/nowhere/zip.info.txt", "/usps/zip.train.gz", "/usps/zip.info.txt"]
    assert file_digest(tmp_path / good.name) == good.sha256

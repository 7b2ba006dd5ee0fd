"""Fetch files over HTTP(S) with SHA-256 verification, resume and atomic placement.

Written on the standard library (``urllib``) rather than ``pooch``: pooch checks SHA-256 and retries,
but a failed or interrupted download starts again from byte 0, and resuming matters for the larger
sets on a slow or flaky link. Here a download streams into ``.<name>.part`` next to its target; a
later run (or a retry after a dropped connection) asks only for the missing bytes with an HTTP
``Range`` header, guarded by ``If-Range`` so that a file changed on the server restarts from scratch.
A complete download is checked against its SHA-256 before it is renamed into place (``os.replace`` in
the same folder), so the data root only ever holds verified files; a file that fails the check is
deleted, never placed, and the next URL of the file (a mirror) is tried.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import json
import os
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from transferkit.errors import DataError

CHUNK = 1 << 16
TIMEOUT_S = 30.0
RETRIES = 3  # attempts per URL; each one resumes where the previous one stopped
USER_AGENT = "transferkit-datasets (+https://pypi.org/project/transferkit/)"

Progress = Callable[[str, int, int | None], None]
"""``on_progress(file_name, bytes_done, bytes_total_or_None)``."""


class DownloadError(DataError):
    """A file could not be fetched or failed its checksum; nothing was placed (exit code 3)."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a data set: where to get it and what its content must hash to.

    ``check`` is ``"file"`` (SHA-256 of the bytes placed) or ``"gunzip"`` (SHA-256 of the
    decompressed content of a ``.gz`` file: copies that differ only in their gzip container, such
    as a re-compressed mirror, are accepted when the data inside is identical).
    """

    name: str
    urls: tuple[str, ...]
    sha256: str
    size: int | None = None
    check: str = "file"


def file_digest(path: str | os.PathLike[str], check: str = "file") -> str:
    """SHA-256 (hex) of a file's bytes, or of its decompressed content when ``check == "gunzip"``."""
    h = hashlib.sha256()
    opener = gzip.open if check == "gunzip" else open
    try:
        with opener(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        return f"unreadable ({exc})"
    return h.hexdigest()


def is_valid(path: Path, spec: RemoteFile) -> bool:
    """Whether ``path`` exists and holds exactly the content ``spec`` describes."""
    return path.is_file() and file_digest(path, spec.check) == spec.sha256


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (a lock file) so two processes never write one ``.part`` file."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock, the rename is still atomic
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _offline_hint(exc: BaseException) -> str:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, socket.gaierror | ConnectionRefusedError | TimeoutError | socket.timeout):
        return ("no network connection? Connect and run the same command again (a partial download resumes), "
                "or copy the data set's folder from a machine that has it into the data root, or set "
                "TRANSFERKIT_DATA_MIRROR to a server that holds the data root's layout")
    return ""


def _request(url: str, offset: int, validator: str | None) -> urllib.request.Request:
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
        if validator:
            headers["If-Range"] = validator
    return urllib.request.Request(url, headers=headers)


def _attempt(url: str, part: Path, meta: Path, name: str, on_progress: Progress | None) -> None:
    """One HTTP request, appending to ``part`` from where it ends (or restarting it)."""
    state = json.loads(meta.read_text()) if meta.is_file() else {}
    offset = part.stat().st_size if part.is_file() and state.get("url") == url else 0
    try:
        resp = urllib.request.urlopen(_request(url, offset, state.get("validator")), timeout=TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # asked past the end: the .part already holds the whole file
            return
        raise
    with resp:
        status = resp.status
        if status == 206 and offset:
            start = int((resp.headers.get("Content-Range") or "bytes 0-").split()[1].split("-")[0])
            if start != offset:
                raise urllib.error.URLError(f"server resumed at byte {start}, expected {offset}")
            mode, done = "ab", offset
        else:  # 200: a fresh start, the server ignored Range, or the file changed (If-Range): start over
            mode, done = "wb", 0
        length = resp.headers.get("Content-Length")
        total = done + int(length) if length is not None else None
        validator = resp.headers.get("ETag") or resp.headers.get("Last-Modified")
        meta.write_text(json.dumps({"url": url, "validator": validator}))
        with open(part, mode) as f:
            try:
                while block := resp.read(CHUNK):
                    f.write(block)
                    done += len(block)
                    if on_progress is not None:
                        on_progress(name, done, total)
            except http.client.HTTPException as exc:  # IncompleteRead of a chunked body...: keep what came, resume
                raise urllib.error.URLError(f"transfer broken after {done} bytes: {exc!r}") from exc
            finally:
                f.flush()
                os.fsync(f.fileno())
        if total is not None and done < total:
            raise urllib.error.URLError(f"connection closed after {done} of {total} bytes")


def _fetch_url(url: str, part: Path, meta: Path, spec: RemoteFile, on_progress: Progress | None) -> None:
    """Fill ``part`` from ``url``, resuming after a dropped connection (up to :data:`RETRIES` attempts)."""
    for attempt in range(1, RETRIES + 1):
        try:
            _attempt(url, part, meta, spec.name, on_progress)
            return
        except urllib.error.HTTPError:
            raise  # 404, 403...: another attempt gives the same answer
        except (urllib.error.URLError, OSError) as exc:
            if attempt == RETRIES or _offline_hint(exc):  # offline: retrying at once will not help
                raise
            time.sleep(0.5 * attempt)


def fetch_file(spec: RemoteFile, target: str | os.PathLike[str], *, mirror: str | None = None,
               folder: str = "", on_progress: Progress | None = None) -> bool:
    """Make ``target`` hold the verified content of ``spec``; return False when it already did.

    URLs are tried in order (with ``mirror``: only ``MIRROR/<folder>/<name>``). A partial download
    (``.<name>.part``) is resumed; a complete one that fails its SHA-256 is deleted and the next URL
    tried. Raises :class:`DownloadError` naming every URL and what went wrong when none gives the
    right content; ``target`` is then left as it was.
    """
    target = Path(target)
    if is_valid(target, spec):
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(f".{target.name}.part")
    meta = target.with_name(f".{target.name}.part.json")
    urls = ("/".join(p for p in (mirror.rstrip("/"), folder, spec.name) if p),) if mirror else spec.urls
    if not urls:
        raise DownloadError(f"could not get {spec.name}: it has no public URL of its own; pass --mirror URL "
                            "(or set TRANSFERKIT_DATA_MIRROR) to fetch it from a copy of a data root")
    failures: list[str] = []
    hint = ""
    with _locked(target.with_name(f".{target.name}.lock")):
        if is_valid(target, spec):  # another process placed it while we waited for the lock
            return False
        for url in urls:
            try:
                _fetch_url(url, part, meta, spec, on_progress)
            except (urllib.error.URLError, OSError) as exc:
                failures.append(f"{url}: {getattr(exc, 'reason', exc)}")
                hint = hint or _offline_hint(exc)
                continue
            got = file_digest(part, spec.check)
            if got != spec.sha256:
                what = "decompressed content" if spec.check == "gunzip" else "file"
                failures.append(f"{url}: SHA-256 of the {what} is {got}, expected {spec.sha256} "
                                "(a damaged or different file; deleted, not placed)")
                part.unlink(missing_ok=True)
                meta.unlink(missing_ok=True)
                continue
            os.replace(part, target)
            meta.unlink(missing_ok=True)
            return True
    raise DownloadError(f"could not get {spec.name}:\n  " + "\n  ".join(failures) + (f"\n{hint.lstrip(' -')}" if hint else ""))

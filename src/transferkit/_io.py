"""What transferkit writes to disk, on the ground floor: atomic writes, JSON-ready values, and the
``results.json`` run-folder format.

Anything that saves a file (the model zoo, run folders, reports) imports these from here, so no lower
layer has to reach up into :mod:`transferkit.reports` for them. Standard library and numpy only.

``results.json`` is plain JSON with a versioned schema::

    {
      "schema": "transferkit.results/1",
      "command": "fit",                  # demo, rank, similarity, fit, adapt, multitask, pretrain
      "argv": ["transferkit", "fit", ...],
      "created": "2026-11-28T18:00:00+00:00",
      "versions": {"transferkit": ..., "torch": ..., "python": ...},
      "seeds": [0, 1, 2],
      "data": {...},                     # Dataset.describe() of what was used
      "models": {...},                   # backbone names and fingerprints
      "sections": {...}                  # command-specific results, see reports/README
    }

Ending a run (``results.json``, ``report.html`` from the same dict, the terminal summary, MLflow) is
:func:`transferkit.reports.run.finish_run`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import platform
import re
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from transferkit.errors import DataError

SCHEMA = "transferkit.results/1"


ORPHAN_AGE_S = 30 * 60
"""A temporary file untouched for this long belongs to no live writer (writes stream to it)."""

_HOST = re.sub(r"[^A-Za-z0-9-]+", "-", socket.gethostname())[:32] or "host"


def temp_path(path: str | os.PathLike[str]) -> Path:
    """A new, unique temporary file next to ``path``: ``.<name>.<host>-<pid>.<random>.tmp``.

    The host and process id in the name let :func:`remove_orphan_temps` tell a dead writer's
    leftovers from a live writer's file; the random part keeps concurrent writers apart.
    """
    import secrets

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{_HOST}-{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:  # ordinary permissions (0666 less the umask), like any file the user writes
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:  # pragma: no cover - 32 random bits
            continue
        return tmp
    raise FileExistsError(f"no free temporary name next to {path}")  # pragma: no cover


def atomic_write_with(path: str | os.PathLike[str], write: Callable[[Path], None], *, fsync: bool = False) -> Path:
    """Let ``write(tmp)`` fill a unique temporary file next to ``path``, then rename it into place.

    A reader sees the old file or the whole new one, never a torn one, even when the writer is
    killed or several processes write the same path (the last rename wins). On failure the
    temporary file is removed; after a kill, :func:`remove_orphan_temps` removes it later.
    """
    path = Path(path)
    tmp = temp_path(path)
    try:
        write(tmp)
        if fsync:
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


_TEMP_NAME = re.compile(r"^\..+\.(?P<host>[A-Za-z0-9-]+)-(?P<pid>[0-9]+)\.[^.]+\.tmp$")


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill would terminate it there: assume alive, the age rule still applies
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive, another user's
        return True
    return True


def remove_orphan_temps(directory: str | os.PathLike[str], max_age_s: float = ORPHAN_AGE_S) -> int:
    """Remove temporary files (``.*.tmp``) left in ``directory`` by killed writers; return how many.

    A temp file is an orphan when its writer (host and process id in its name) is a process of this
    host that no longer runs, or when nobody has written to it for ``max_age_s`` seconds. A live
    writer's file is never touched. Only names starting with ``.`` and ending in ``.tmp`` are
    considered, so nothing else in the folder can be removed.
    """
    import time

    folder = Path(directory)
    if not folder.is_dir():
        return 0
    removed = 0
    now = time.time()
    for p in folder.glob(".*.tmp"):
        try:
            age = now - p.stat().st_mtime
        except OSError:  # gone already (its writer renamed it)
            continue
        m = _TEMP_NAME.match(p.name)
        dead_writer = m is not None and m["host"] == _HOST and not _pid_alive(int(m["pid"]))
        if (dead_writer or age > max_age_s) and p.is_file():
            p.unlink(missing_ok=True)
            removed += 1
    return removed
@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary file that becomes ``path`` only once completely written (a unique temp file in the same folder,
    fsync, rename); on an error the temporary file is removed and ``path`` is untouched. After a kill, the
    temp file is left behind under a name :func:`remove_orphan_temps` recognises."""
    path = Path(path)
    tmp = temp_path(path)
    try:
        with open(tmp, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path) as f:
        f.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (temp file in the same folder, then rename)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def to_jsonable(obj: Any) -> Any:
    """Convert dataclasses, numpy values and paths into plain JSON data (non-finite floats -> None)."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(asdict(obj))
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


RESULT_DISTS = ("transferkit", "torch", "numpy", "scikit-learn", "timm", "transformers", "accelerate")


def versions(dists: tuple[str, ...] = RESULT_DISTS, with_platform: bool = True) -> dict[str, str]:
    """Versions of Python (and the platform) and of ``dists`` that are installed (from package metadata, no imports)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), **({"platform": platform.platform()} if with_platform else {})}
    for dist in dists:
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:  # pragma: no cover - optional packages
            continue
    return out


def new_results(command: str, **fields: Any) -> dict[str, Any]:
    """A results dict with the schema header filled in."""
    res: dict[str, Any] = {
        "schema": SCHEMA,
        "command": command,
        "argv": [_program(), *sys.argv[1:]] if sys.argv else [],
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        "seeds": [],
        "data": {},
        "models": {},
        "sections": {},
    }
    res.update(fields)
    return res


def _program() -> str:
    """The command's name as a user types it (``python -m transferkit.cli`` runs ``__main__.py``)."""
    name = Path(sys.argv[0]).name
    return "transferkit" if name == "__main__.py" else name


def make_run_dir(command: str, root: str | os.PathLike[str] | None = None, name: str | None = None) -> Path:
    """Create ``<root>/<timestamp>-<command>[-name]`` (root: ``$TRANSFERKIT_RUNS`` or ``runs``)."""
    base = Path(root or os.environ.get("TRANSFERKIT_RUNS", "runs"))
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{stamp}-{command}" + (f"-{name}" if name else ""))
    slug = re.sub(r"\.{2,}", ".", slug)  # one path component, never '..'-like
    path = base / slug
    i = 1
    while path.exists():
        i += 1
        path = base / f"{slug}-{i}"
    path.mkdir(parents=True)
    return path


def check_regular_file(path: str | os.PathLike[str], what: str = "file") -> Path:
    """``path``, refused with a :class:`DataError` when it exists but is not a regular file or folder.

    A named pipe, a device or a socket would block a read forever (or stream without end), so every
    file the user names is checked before it is opened.
    """
    p = Path(path)
    if p.exists() and not p.is_file() and not p.is_dir():
        raise DataError(f"{p} is not a regular file (a named pipe, device or socket): reading it could wait "
                        f"forever; pass a regular {what}")
    return p


def read_results(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check ``results.json`` from a run folder."""
    path = check_regular_file(Path(run_dir) / "results.json", "results.json")
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: pass a run folder written by a transferkit command")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise DataError(f"{path} is not valid JSON ({exc}); it is damaged: rerun the command that wrote it") from exc
    if not isinstance(data, dict) or not str(data.get("schema", "")).startswith("transferkit.results/"):
        raise DataError(f"{path} is not a transferkit results file (no 'schema' field)")
    return data

"""A disk cache of feature matrices with atomic writes.

Entries are ``<key>.npy`` files (plain numpy, no pickles) in ``features/`` of the cache folder:
``$TRANSFERKIT_CACHE``, else the user cache folder (``$XDG_CACHE_HOME/transferkit``, by default
``~/.cache/transferkit`` on Linux; platformdirs elsewhere). :func:`cache_info` and :func:`clear_cache`
(``transferkit cache info|clear``) cover every part of that folder (features, converted weights). A write goes to a temporary file in the same folder and is
renamed into place, so a concurrent reader or a kill mid-write never sees a partial entry; an entry
that fails to load (truncated, wrong shape) is treated as a miss, deleted and recomputed. Two
processes storing the same key each write their own temporary file; the last rename wins and both
hold the same features. Temporary files left by a killed writer are removed the next time the cache
is used (:func:`transferkit._io.remove_orphan_temps`: a dead process of this host, or 30 minutes
without a write), never a live writer's.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from transferkit._io import atomic_open, remove_orphan_temps
from transferkit.data.paths import cache_root
from transferkit.errors import DataError, UsageError

_KEY = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_CLEANED: dict[Path, float] = {}  # folder -> when its orphans were last removed (once a minute at most)


def default_cache_dir() -> Path:
    """``features`` in the cache folder (:func:`transferkit.data.paths.cache_root`)."""
    return cache_root() / "features"


def cache_key(parts: dict[str, Any]) -> str:
    """SHA-256 of the JSON-serialised key parts (sorted keys)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def all_finite(a: np.ndarray, rows: int = 1 << 16) -> bool:
    """Whether every value of ``a`` is finite, checked a block of ``rows`` at a time (no N x D mask)."""
    return all(bool(np.isfinite(a[s:s + rows]).all()) for s in range(0, len(a), rows))


class FeatureCache:
    """Load and store feature arrays by key."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()

    def path(self, key: str) -> Path:
        """File of the entry ``key`` (letters, digits, ``-`` and ``_`` only: a key never names another folder)."""
        if not isinstance(key, str) or not _KEY.match(key):
            raise DataError(f"invalid feature-cache key {key!r}: use letters, digits, '-' and '_' (e.g. cache_key(...))")
        return self.directory / f"{key}.npy"

    def remove_orphans(self, every_s: float = 60.0) -> int:
        """Remove temporary files of killed writers (at most once per ``every_s`` seconds per folder)."""
        now = time.monotonic()
        last = _CLEANED.get(self.directory)
        if last is not None and now - last < every_s:
            return 0
        _CLEANED[self.directory] = now
        return remove_orphan_temps(self.directory)

    def load(self, key: str, n_rows: int | None = None) -> np.ndarray | None:
        """The cached array, or None on a miss or an unreadable entry (which is removed)."""
        p = self.path(key)
        self.remove_orphans()
        if not p.exists():
            return None
        try:
            arr = np.load(p, allow_pickle=False)
            if arr.ndim != 2 or (n_rows is not None and arr.shape[0] != n_rows) or not all_finite(arr):
                raise ValueError(f"unexpected cached array {arr.shape}")
            return arr
        except (ValueError, OSError, EOFError):
            p.unlink(missing_ok=True)
            return None

    def store(self, key: str, features: np.ndarray) -> Path:
        """Write atomically: temp file in the same folder, fsync, then rename."""
        target = self.path(key)
        self.remove_orphans()
        with atomic_open(target) as f:
            np.save(f, np.ascontiguousarray(features), allow_pickle=False)
        return target

    def clear(self) -> int:
        """Delete every entry; returns how many were removed."""
        n = 0
        if self.directory.is_dir():
            for p in self.directory.glob("*.npy"):
                p.unlink(missing_ok=True)
                n += 1
        return n


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_age(text: str) -> float:
    """``"30d"``, ``"12h"``, ``"90m"``, ``"45s"``, ``"2w"`` (or plain seconds) -> seconds."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([smhdw]?)\s*", text or "")
    if not m:
        raise UsageError(f"cannot read the age {text!r}: use a number and a unit, e.g. 30d, 12h, 90m, 45s")
    return float(m[1]) * _UNITS[m[2] or "s"]


def _entries(root: Path) -> list[tuple[str, Path]]:
    """``(part, file)`` for every file under ``root`` (part: its first folder, e.g. ``features``)."""
    out = []
    if root.is_dir():
        for p in sorted(root.rglob("*")):
            if p.is_file() and not p.is_symlink():
                rel = p.relative_to(root)
                out.append((rel.parts[0] if len(rel.parts) > 1 else ".", p))
    return out


def cache_info(root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """What the cache folder holds: ``{"root", "files", "bytes", "parts": {part: {"files", "bytes", "oldest",
    "newest"}}}`` (times: POSIX seconds of the files' last write)."""
    base = Path(root) if root is not None else cache_root()
    parts: dict[str, dict[str, Any]] = {}
    for part, p in _entries(base):
        try:
            st = p.stat()
        except OSError:  # removed meanwhile
            continue
        d = parts.setdefault(part, {"files": 0, "bytes": 0, "oldest": st.st_mtime, "newest": st.st_mtime})
        d["files"] += 1
        d["bytes"] += st.st_size
        d["oldest"], d["newest"] = min(d["oldest"], st.st_mtime), max(d["newest"], st.st_mtime)
    return {"root": str(base), "files": sum(d["files"] for d in parts.values()),
            "bytes": sum(d["bytes"] for d in parts.values()), "parts": parts}


def clear_cache(root: str | os.PathLike[str] | None = None, older_than_s: float | None = None,
                parts: tuple[str, ...] = ()) -> tuple[int, int]:
    """Delete cache files (all, or those not written for ``older_than_s`` seconds; only the folders named in
    ``parts`` when given); return ``(files, bytes)`` removed. A live writer's temporary file is never touched
    (only orphans are, as :func:`transferkit._io.remove_orphan_temps` decides); everything in the cache
    can be recomputed, so clearing loses no results."""
    base = Path(root) if root is not None else cache_root()
    now = time.time()
    n = size = 0
    for part, p in _entries(base):
        if parts and part not in parts:
            continue
        if p.name.startswith(".") and p.name.endswith(".tmp"):
            continue  # temporary files: see below
        try:
            st = p.stat()
            if older_than_s is not None and now - st.st_mtime < older_than_s:
                continue
            p.unlink()
        except OSError:
            continue
        n, size = n + 1, size + st.st_size
    for folder in {p.parent for _, p in _entries(base)}:
        n += remove_orphan_temps(folder, max_age_s=older_than_s if older_than_s is not None else 30 * 60)
    for d in sorted((p for p in base.rglob("*") if p.is_dir()), reverse=True) if base.is_dir() else ():
        with contextlib.suppress(OSError):
            d.rmdir()  # empty folders only
    return n, size

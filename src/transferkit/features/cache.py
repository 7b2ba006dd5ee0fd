"""A disk cache of feature matrices with atomic writes.

Entries are ``<key>.npy`` files (plain numpy, no pickles) in ``$TRANSFERKIT_CACHE`` or
``~/.cache/transferkit/features``. A write goes to a temporary file in the same folder and is
renamed into place, so a concurrent reader or a kill mid-write never sees a partial entry; an entry
that fails to load (truncated, wrong shape) is treated as a miss, deleted and recomputed. Two
processes storing the same key each write their own temporary file; the last rename wins and both
hold the same features. Temporary files left by a killed writer are removed the next time the cache
is used (:func:`transferkit._io.remove_orphan_temps`: a dead process of this host, or 30 minutes
without a write), never a live writer's.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from transferkit._io import atomic_open, remove_orphan_temps
from transferkit.errors import DataError

_KEY = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_CLEANED: dict[Path, float] = {}  # folder -> when its orphans were last removed (once a minute at most)


def default_cache_dir() -> Path:
    """``$TRANSFERKIT_CACHE/features`` or ``~/.cache/transferkit/features``."""
    base = os.environ.get("TRANSFERKIT_CACHE")
    root = Path(base) if base else Path.home() / ".cache" / "transferkit"
    return root / "features"


def cache_key(parts: dict[str, Any]) -> str:
    """SHA-256 of the JSON-serialised key parts (sorted keys)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


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
            if arr.ndim != 2 or (n_rows is not None and arr.shape[0] != n_rows) or not np.all(np.isfinite(arr)):
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

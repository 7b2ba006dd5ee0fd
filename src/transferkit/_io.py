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
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

SCHEMA = "transferkit.results/1"


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary file that becomes ``path`` only once completely written (temp file in the same folder, fsync,
    rename); on an error the temporary file is removed and ``path`` is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
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
    path = base / slug
    i = 1
    while path.exists():
        i += 1
        path = base / f"{slug}-{i}"
    path.mkdir(parents=True)
    return path


def read_results(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check ``results.json`` from a run folder."""
    path = Path(run_dir) / "results.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: pass a run folder written by a transferkit command")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not str(data.get("schema", "")).startswith("transferkit.results/"):
        raise ValueError(f"{path} is not a transferkit results file (no 'schema' field)")
    return data

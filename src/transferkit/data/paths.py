"""Where the named public data sets live on disk."""

from __future__ import annotations

import os
from pathlib import Path

from transferkit.errors import DataArgumentError

ENV_VAR = "TRANSFERKIT_DATA"


def data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The data root: ``root`` if given, else ``$TRANSFERKIT_DATA``, else ``../shared/data``
    or ``./data`` relative to the working directory, whichever exists."""
    if root is not None:
        return Path(root)
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    for cand in (Path("../shared/data"), Path("data")):
        if cand.is_dir():
            return cand
    return Path("data")


def dataset_dir(folder: str, root: str | os.PathLike[str] | None = None, files: tuple[str, ...] = ()) -> Path:
    """``<root>/<folder>``, checked to contain ``files``; a clear error says how to fix it."""
    base = data_root(root) / folder
    missing = [f for f in files if not (base / f).exists()]
    if not base.is_dir() or missing:
        what = f"missing {missing}" if base.is_dir() else "folder not found"
        raise DataArgumentError(f"data set files not found at {base} ({what}). Pass --data-root DIR or set "
                                f"{ENV_VAR}=DIR, where DIR contains the folder {folder!r}")
    return base

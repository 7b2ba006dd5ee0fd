"""Where the named public data sets live on disk, and the user folders transferkit writes to."""

from __future__ import annotations

import os
from pathlib import Path

from transferkit.errors import DataArgumentError

ENV_VAR = "TRANSFERKIT_DATA"
CACHE_ENV_VAR = "TRANSFERKIT_CACHE"
APP = "transferkit"


def user_data_dir() -> Path:
    """The per-user data folder (platformdirs): ``$XDG_DATA_HOME/transferkit`` or ``~/.local/share/transferkit``
    on Linux, ``~/Library/Application Support/transferkit`` on macOS, ``%LOCALAPPDATA%\\transferkit`` on Windows."""
    from platformdirs import user_data_path

    return Path(user_data_path(APP, appauthor=False))


def cache_root() -> Path:
    """The cache folder: ``$TRANSFERKIT_CACHE``, else the per-user cache folder (platformdirs):
    ``$XDG_CACHE_HOME/transferkit`` or ``~/.cache/transferkit`` on Linux, ``~/Library/Caches/transferkit``
    on macOS, ``%LOCALAPPDATA%\\transferkit\\Cache`` on Windows."""
    env = os.environ.get(CACHE_ENV_VAR)
    if env:
        return Path(env)
    from platformdirs import user_cache_path

    return Path(user_cache_path(APP, appauthor=False))


def data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The data root: ``root`` if given, else ``$TRANSFERKIT_DATA``, else ``<user data folder>/data``
    (:func:`user_data_dir`), where ``transferkit datasets download NAME`` puts the named sets."""
    if root is not None:
        return Path(root)
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return user_data_dir() / "data"


def dataset_dir(folder: str, root: str | os.PathLike[str] | None = None, files: tuple[str, ...] = ()) -> Path:
    """``<root>/<folder>``, checked to contain ``files``; a clear error says how to fix it."""
    base = data_root(root) / folder
    missing = [f for f in files if not (base / f).exists()]
    if not base.is_dir() or missing:
        what = f"missing {missing}" if base.is_dir() else "folder not found"
        raise DataArgumentError(f"data set files not found at {base} ({what}). Get them with `transferkit datasets "
                                f"download NAME` (names: `transferkit datasets`), or pass --data-root DIR or set "
                                f"{ENV_VAR}=DIR, where DIR contains the folder {folder!r}")
    return base

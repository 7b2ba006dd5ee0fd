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


SPEC_KEYS: dict[str, str] = {"label": "label_column", "text": "text_column"}
"""Parameters a file spec may carry (``file.csv?label=diagnosis&text=body``) and the reader option each sets."""


def split_data_spec(spec: str) -> tuple[str, dict[str, str]]:
    """``"file.csv?label=diagnosis&text=body"`` -> ``("file.csv", {"label_column": "diagnosis", "text_column": "body"})``.

    A spec without ``?`` (or an existing file whose name holds one) has no parameters. An unknown key, an
    empty value or a key given twice raises :class:`~transferkit.errors.DataArgumentError`.
    """
    if "?" not in spec or Path(spec).exists():
        return spec, {}
    from urllib.parse import parse_qsl

    base, _, query = spec.partition("?")
    out: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key not in SPEC_KEYS:
            raise DataArgumentError(f"{spec}: unknown data parameter {key!r}; a file spec takes "
                                    f"{', '.join(f'?{k}=NAME' for k in SPEC_KEYS)} (e.g. data.csv?label=diagnosis)")
        if not value.strip():
            raise DataArgumentError(f"{spec}: ?{key}= needs a column name")
        if SPEC_KEYS[key] in out:
            raise DataArgumentError(f"{spec}: ?{key}= is given twice")
        out[SPEC_KEYS[key]] = value.strip()
    return base, out


def data_spec(spec: str, label_column: str | None = None, text_column: str | None = None) -> str:
    """``spec`` with ``?label=``/``?text=`` added for the columns given (what ``--label-column`` and
    ``--text-column`` do); a column the spec already names differently raises
    :class:`~transferkit.errors.DataArgumentError`."""
    from urllib.parse import quote

    base, params = split_data_spec(spec)
    changed = False
    for key, value in (("label", label_column), ("text", text_column)):
        if value is None:
            continue
        have = params.get(SPEC_KEYS[key])
        if have is not None and have != value:
            raise DataArgumentError(f"{spec} names the {key} column {have!r}, but --{key}-column says {value!r}: "
                                    "give it once")
        changed |= have is None
        params[SPEC_KEYS[key]] = value
    if not changed:
        return spec
    keys = {v: k for k, v in SPEC_KEYS.items()}
    return base + "?" + "&".join(f"{keys[k]}={quote(v, safe='')}" for k, v in params.items())

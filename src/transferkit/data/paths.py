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

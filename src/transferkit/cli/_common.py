"""Helpers shared by CLI commands: error reporting and option parsing."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.markup import escape

from transferkit.cli._app import err_console
from transferkit.errors import TransferkitError

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(fn: F) -> F:
    """Turn transferkit errors (bad data, missing weights, unknown names...) into a red message and exit code 2.

    :class:`~transferkit.errors.UnknownName` (a typo in a backbone, strategy, score... name) is a
    user error like the others: its plain message lists the closest and the known names.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (TransferkitError, FileNotFoundError, KeyError, ValueError) as exc:
            if os.environ.get("TRANSFERKIT_DEBUG"):
                raise
            plain_key_error = isinstance(exc, KeyError) and not isinstance(exc, TransferkitError) and exc.args
            msg = exc.args[0] if plain_key_error else str(exc)
            err_console.print(f"[bold red]error:[/] {escape(str(msg))}", markup=True, highlight=False)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def set_data_root(data_root: str | None) -> None:
    """Make ``--data-root`` visible to every loader (as ``TRANSFERKIT_DATA``)."""
    if data_root:
        os.environ["TRANSFERKIT_DATA"] = data_root


DATA_ROOT_OPTION = typer.Option(None, "--data-root", help="Folder holding the named data sets "
                                "(default: $TRANSFERKIT_DATA, else ../shared/data or ./data).")
RUNS_OPTION = typer.Option(None, "--runs", help="Folder for run folders (default: $TRANSFERKIT_RUNS or ./runs).")

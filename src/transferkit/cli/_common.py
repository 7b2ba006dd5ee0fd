"""Helpers shared by CLI commands: error reporting, shared options, and the common ending of a run."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.text import Text
from typer.exceptions import TyperException

from transferkit.cli._app import console, err_console
from transferkit.errors import TransferkitError

F = TypeVar("F", bound=Callable[..., Any])


EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_DATA = 0, 1, 2, 3
"""Exit codes: success, internal error (a bug), usage error, bad data or model file."""

REPORT = ("this is a bug in transferkit, not in your data: please report it (the command line and the output of "
          "the same command with TRANSFERKIT_DEBUG=1, which adds the traceback)")


def exit_code(exc: BaseException) -> int:
    """The exit code of an exception that ended a command (see :data:`EXIT_OK` ...)."""
    if isinstance(exc, TransferkitError):
        return int(exc.exit_code)
    if isinstance(exc, OSError) and not isinstance(exc, (ConnectionError, TimeoutError)):
        return EXIT_USAGE  # a path that does not exist or cannot be written, a full disk: fixable by the user
    return EXIT_INTERNAL


def friendly_errors(fn: F) -> F:
    """End a command on an error with one red line and its exit code, never a traceback.

    Exit codes: 2 for a usage error (:class:`~transferkit.errors.UsageError`,
    :class:`~transferkit.errors.UnknownName`, a plain :class:`~transferkit.errors.TransferkitError`,
    a path that cannot be read or written), 3 for bad data or a bad model file
    (:class:`~transferkit.errors.DataError`, :class:`~transferkit.errors.BackboneError`), 1 for
    anything else: a bug, shown as an internal error with a line asking to report it. With
    ``TRANSFERKIT_DEBUG=1`` the traceback is printed first; the exit code stays the same.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, TyperException):
            raise  # typer's own endings: typer.Exit(n) from a command, usage errors (BadParameter) it prints
        except KeyboardInterrupt:
            err_console.print(Text("interrupted", style="bold red"))
            raise typer.Exit(130) from None
        except Exception as exc:  # noqa: BLE001 - the one place every error becomes a message and an exit code
            raise typer.Exit(report_error(exc)) from None

    return wrapper  # type: ignore[return-value]


def report_error(exc: BaseException) -> int:
    """Print ``exc`` as the CLI does (traceback first under ``TRANSFERKIT_DEBUG=1``) and return its exit code."""
    code = exit_code(exc)
    if os.environ.get("TRANSFERKIT_DEBUG", "") not in ("", "0"):
        import traceback

        err_console.print(Text("".join(traceback.format_exception(exc)).rstrip()), highlight=False)
    if code == EXIT_INTERNAL:
        if isinstance(exc, MemoryError):
            err_console.print(Text.assemble(("error:", "bold red"), " out of memory; use fewer samples "
                                            "(--max-samples) or a smaller --batch-size"), highlight=False)
            return code
        err_console.print(Text.assemble(("internal error:", "bold red"), f" {type(exc).__name__}: {exc}"),
                          highlight=False)
        err_console.print(Text(REPORT), highlight=False)
        return code
    err_console.print(Text.assemble(("error:", "bold red"), " ", str(exc)), highlight=False)
    return code


def say(message: object) -> None:
    """Print one progress line (``· message``); the message is never parsed as markup."""
    console.print(Text.assemble(("·", "dim"), " ", str(message)))


def rule(command: str, rest: str) -> None:
    """A rule with the command in bold and ``rest`` (user strings: paths, specs) printed literally."""
    console.rule(Text.assemble((f"transferkit {command}", "bold"), rest))


def set_data_root(data_root: str | None) -> None:
    """Make ``--data-root`` visible to every loader (as ``TRANSFERKIT_DATA``)."""
    if data_root:
        os.environ["TRANSFERKIT_DATA"] = data_root




def finish_run(run_dir: str | os.PathLike[str], results: dict[str, Any], mlflow: str | None = None,
               started: float | None = None) -> Path:
    """End a command that produced results: :func:`transferkit.reports.run.finish_run` on the CLI's console.

    ``started``: the ``time.perf_counter()`` at the start of the run, to print how long it took.
    """
    from transferkit.reports.run import finish_run as finish

    seconds = None if started is None else time.perf_counter() - started
    return finish(run_dir, results, mlflow, console, seconds=seconds)

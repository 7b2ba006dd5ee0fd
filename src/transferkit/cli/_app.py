"""The typer application object shared by every command module.

Every command registered with ``@app.command(...)`` gets the options all commands share
(``-q/--quiet``, ``-v/--verbose``, ``-c/--config FILE``; see :mod:`transferkit.cli._shared`), and its
help shows an option's value by name (``--seed N``), not as a type tag. This module imports
typer and rich only: ``transferkit --help`` and ``--version`` stay fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from transferkit._version import __version__
from transferkit.cli._console import console, err_console

__all__ = ["App", "Command", "Group", "app", "console", "err_console", "version_text"]


class _Option(TyperOption):
    """An option whose help shows ``--name VALUE`` (its metavar, else N, X or its name), not a type tag."""

    def display_type_rich(self, ctx: typer.Context) -> str | None:
        if self.is_flag or self.count:
            return None
        if self.metavar:
            return self.metavar
        kind = self.display_type(ctx)  # typer's tag: <int>, <float range>, <str>, ...
        return "N" if kind.startswith("<int") else "X" if kind.startswith("<float") else (self.name or "value").upper()


class _Argument(TyperArgument):
    """An argument shown by its upper-case name, without a type tag."""

    def display_type_rich(self, ctx: typer.Context) -> str | None:
        return None


def _untagged(params: list[Any]) -> list[Any]:
    for p in params:
        if isinstance(p, TyperOption) and not isinstance(p, _Option):
            p.__class__ = _Option
        elif isinstance(p, TyperArgument) and not isinstance(p, _Argument):
            if p.metavar is None:
                p.metavar = (p.name or "value").upper()
            p.__class__ = _Argument
    return params


class Command(TyperCommand):
    """A typer command whose options print as ``--seed N`` in help (no ``<int>``/``<bool>`` tags)."""

    def get_params(self, ctx: typer.Context) -> list[Any]:
        return _untagged(super().get_params(ctx))


class Group(TyperGroup):
    """The ``transferkit`` group, its options printed like :class:`Command`'s."""

    def get_params(self, ctx: typer.Context) -> list[Any]:
        return _untagged(super().get_params(ctx))


class App(typer.Typer):
    """``typer.Typer`` whose commands share options (quiet, verbose, config) and print help without type tags.

    A group of sub-commands (``transferkit datasets download``) is ``App(shared_callback=True)``: its
    callback, the group's own command, gets the shared options too.
    """

    def __init__(self, *args: Any, shared_callback: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **{"cls": Group, **kwargs})
        self.shared_callback = shared_callback

    def callback(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        register = super().callback(*args, **kwargs)
        if not self.shared_callback:
            return register

        def decorator(f: Callable[..., Any]) -> Callable[..., Any]:
            from transferkit.cli._shared import with_shared_options

            register(with_shared_options(f, scoped=False))
            return f

        return decorator

    def command(self, name: str | None = None, *, cls: type[TyperCommand] | None = None,
                **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        register = super().command(name, cls=cls or Command, **kwargs)

        def decorator(f: Callable[..., Any]) -> Callable[..., Any]:
            from transferkit.cli._shared import with_shared_options

            register(with_shared_options(f))
            return f

        return decorator


app = App(
    name="transferkit",
    help="Choose a pretrained model, transfer it, and prove that reuse helped.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def version_text() -> str:
    """``transferkit X.Y.Z (Python 3.11.9)``: what ``--version`` prints."""
    return f"transferkit {__version__} (Python {sys.version.split()[0]})"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(version_text())
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", "-V", is_eager=True, callback=_print_version,
                                 help="Print the version and exit."),
) -> None:
    """Choose a pretrained model, transfer it, and prove that reuse helped.

    Every command has --help; `transferkit --install-completion` adds tab completion to your shell.
    """

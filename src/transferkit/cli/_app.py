"""The typer application object shared by every command module."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(
    name="transferkit",
    help="Choose a pretrained model, transfer it, and prove that reuse helped.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# markup=False: no string the CLI prints is parsed as rich markup, so a file, column or class name
# such as ``data[/x].csv`` or ``[bold]`` prints literally (styles come from rich.text.Text parts)
console = Console(markup=False)
err_console = Console(stderr=True, markup=False)

"""The consoles every command prints to (standard output and standard error)."""

from __future__ import annotations

from rich.console import Console

# markup=False: no string the CLI prints is parsed as rich markup, so a file, column or class name
# such as ``data[/x].csv`` or ``[bold]`` prints literally (styles come from rich.text.Text parts)
console = Console(markup=False)
err_console = Console(stderr=True, markup=False)

"""Command-line interface: a thin layer over the Python API.

Each command lives in its own module and registers itself on :data:`app`; adding a command is
one new module and one import line below.
"""

from __future__ import annotations

from transferkit.cli._app import app, console
from transferkit.cli import _main  # noqa: F401  (registers the entry point behaviour)

# command modules (one import line each)
from transferkit.cli import info_cmds  # noqa: F401,E402

__all__ = ["app", "console"]

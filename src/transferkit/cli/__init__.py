"""Command-line interface: a thin layer over the Python API.

Each command lives in its own module and registers itself on :data:`app`; adding a command is
one new module and one import line below.
"""

from __future__ import annotations

from transferkit.cli._app import app, console

# command modules: one import line each (they register on `app`)
from transferkit.cli import demo_cmd, info_cmds  # noqa: E402,F401,I001
from transferkit.cli import pretrain_cmd  # noqa: E402,F401,I001

__all__ = ["app", "console"]

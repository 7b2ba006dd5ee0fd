"""Command-line interface: a thin layer over the Python API.

Each command lives in its own module and registers itself on :data:`app`; adding a command is
one new module and one import line below.
"""

from __future__ import annotations

# command modules: one import line each (they register on `app`)
from transferkit.cli import (  # noqa: E402,F401,I001  # noqa: E402,F401,I001
    adapt_cmd,  # noqa: E402,F401,I001
    agents_cmd,  # noqa: E402,F401,I001
    biosignals_cmd,  # noqa: E402,F401,I001
    demo_cmd,
    fit_cmd,  # noqa: E402,F401,I001
    info_cmds,
    multitask_cmd,  # noqa: E402,F401,I001
    pretrain_cmd,  # noqa: E402,F401,I001
    rank_cmd,
    report_cmd,
    similarity_cmd,
)
from transferkit.cli._app import app, console

__all__ = ["app", "console"]

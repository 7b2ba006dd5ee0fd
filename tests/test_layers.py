"""The package's floors: `lint-imports` keeps the contracts in pyproject.toml ([tool.importlinter]).

Each floor imports only the floors below it, no sibling modules import each other in a circle, and
no module imports the package root. A failure prints import-linter's report: it names the import,
its line, and the chain that climbs back up.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    exe = Path(sys.executable).parent / "lint-imports"
    assert exe.exists(), f"{exe} not found: install the test extra (pip install -e '.[test]')"
    env = dict(os.environ)
    # lint this checkout's source, whatever copy of transferkit the environment has installed
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [str(exe), "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"lint-imports failed (exit {proc.returncode}):\n{out}"
    assert "0 broken" in out, out


def test_engine_and_runner_functions_stay_short():
    """The loop and the runner are read top to bottom: no function in training/ or experiments/ over 80 lines."""
    import ast

    long = []
    for folder in ("training", "experiments"):
        for path in sorted((ROOT / "src" / "transferkit" / folder).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    n = node.end_lineno - node.lineno + 1
                    if n > 80:
                        long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({n} lines)")
    assert not long, "split these functions:\n" + "\n".join(long)

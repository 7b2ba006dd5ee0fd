"""Helpers for tests that run the CLI in a child process and stop it (Ctrl-C, kill -9), and the tiny
multi-task config on the real heart-disease hospitals that several test files share."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def tiny_heart(seeds: int = 2, epochs: int = 3, metric: str = "accuracy") -> str:
    """A two-hospital multi-task config (tabular MLP trunk, two weightings), small enough for the default run."""
    return f"""
name: tiny-heart
backbone: tabmlp?hidden=16
tasks:
  - {{name: hungarian, data: "heart-disease:hungarian"}}
  - {{name: va, data: "heart-disease:va", head: mlp}}
weightings: [equal, uncertainty]
seeds: {seeds}
epochs: {epochs}
metric: {metric}
threads: 1
"""


def start_cli(args: list[str], runs: Path) -> subprocess.Popen:
    """``transferkit ARGS`` in a child process with one BLAS thread, writing run folders under ``runs``."""
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""), "OMP_NUM_THREADS": "1",
           "TRANSFERKIT_RUNS": str(runs), "COLUMNS": "200", "TRANSFERKIT_DATA": str(DATA)}
    # SIGINT back to its default: a test session started in the background inherits it ignored, and a
    # Python started with SIGINT ignored never raises KeyboardInterrupt
    return subprocess.Popen([sys.executable, "-m", "transferkit.cli", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def cells_done(runs: Path) -> int:
    """How many cells the run under ``runs`` has journaled."""
    found = list(runs.glob("*/checkpoint/cells.json"))
    return len(json.loads(found[0].read_text())) if found else 0


def stop_after(proc: subprocess.Popen, runs: Path, cells: int, sig: int) -> None:
    """Send ``sig`` to ``proc`` as soon as ``cells`` cells are journaled, and wait for it to end."""
    t0 = time.time()
    while cells_done(runs) < cells:
        assert proc.poll() is None, proc.communicate()[0]
        assert time.time() - t0 < 300, "the run did not get far enough"
        time.sleep(0.01)
    assert proc.poll() is None, "the run finished before it could be stopped"
    proc.send_signal(sig)
    proc.wait(60)

"""A fit in two processes (gloo backend on localhost, CPU) gives the same results format."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = "from transferkit.cli import app\napp()\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_fit_in_two_gloo_processes(tmp_path: Path) -> None:
    script = tmp_path / "tk.py"
    script.write_text(SCRIPT)
    runs = tmp_path / "runs"
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(_free_port()), str(script), "fit", "--target", "breast-cancer", "--source",
           "breast-cancer", "--backbone", "tabmlp?hidden=16", "--strategy", "finetune", "--budgets", "10",
           "--seeds", "2", "--epochs", "3", "--source-epochs", "2", "--quiet", "--runs", str(runs)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    runs_made = list(runs.iterdir())
    assert len(runs_made) == 1, "only the main process writes a run folder"
    res = json.loads((runs_made[0] / "results.json").read_text())
    comp = res["sections"]["comparison"]
    assert comp["seeds"] == [0, 1] and len(comp["transfer"]["per_seed"]) == 2
    assert {"diff", "verdict", "metrics", "time_to_scratch_best"} <= set(comp)
    assert "label_efficiency" in res["sections"]
    assert res["config"]["num_processes"] == 2

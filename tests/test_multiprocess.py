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


UNFREEZE_SCRIPT = '''
import hashlib, json, sys
import numpy as np, torch
from accelerate import PartialState
from transferkit.backbones import create_backbone
from transferkit.data import load_dataset
from transferkit.strategies import GradualUnfreeze
from transferkit.training import TrainConfig, TransferModel

state = PartialState(cpu=True)
d = load_dataset("breast-cancer")
torch.manual_seed(0)
b = create_backbone("tabmlp?hidden=16,16", d)
b.fit_preprocessing(d.x)
m = TransferModel(b, 2)
first = m.backbone.layer_groups()[0]
w0 = torch.cat([p.detach().reshape(-1).clone() for p in first.parameters()])
s = GradualUnfreeze(epochs_per_stage=1)
s.fit(m, d, None, TrainConfig(epochs=4, lr=1e-2, patience=None, progress=False, batch_size=16))
w1 = torch.cat([p.detach().reshape(-1) for p in first.parameters()])
digest = hashlib.sha256(b"".join(v.detach().numpy().tobytes() for v in m.state_dict().values())).hexdigest()
out = {"rank": state.process_index, "digest": digest, "first_group_moved": float((w1 - w0).abs().max())}
open(sys.argv[1] + f"/rank{state.process_index}.json", "w").write(json.dumps(out))
'''


@pytest.mark.slow
def test_gradual_unfreezing_keeps_processes_in_sync(tmp_path: Path) -> None:
    """Layers unfrozen after DDP wrapped the model still get averaged gradients: both ranks end equal."""
    script = tmp_path / "unfreeze.py"
    script.write_text(UNFREEZE_SCRIPT)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(_free_port()), str(script), str(tmp_path)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    r0, r1 = (json.loads((tmp_path / f"rank{i}.json").read_text()) for i in (0, 1))
    assert r0["first_group_moved"] > 0, "the first layer group was never unfrozen: the test would prove nothing"
    assert r0["digest"] == r1["digest"]

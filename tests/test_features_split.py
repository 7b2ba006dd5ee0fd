"""Feature extraction split over processes: each extracts a block, the blocks join into one cache entry
that equals a one-process run; in one process ``split`` changes nothing."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from accelerate import PartialState
from typer.testing import CliRunner

from transferkit.backbones import create_backbone
from transferkit.cli import app
from transferkit.data import load_dataset
from transferkit.features import FeatureCache, extract_features
from transferkit.features.extract import _forward_all
from transferkit.features.shard import shard_bounds

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(cache: Path) -> dict[str, str]:
    """CPU only (gloo), one thread per process, this checkout's sources, the given feature cache."""
    path = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1", "PYTHONPATH": path,
            "TRANSFERKIT_CACHE": str(cache)}


class _Rank:
    """Process ``rank`` of ``world`` for Accelerate's own ``split_between_processes`` (no process group)."""

    split_between_processes = PartialState.split_between_processes

    def __init__(self, rank: int, world: int) -> None:
        self.process_index, self.num_processes = rank, world


@pytest.mark.parametrize("n", [1, 3, 2007])
@pytest.mark.parametrize("world", [2, 3, 4])
def test_blocks_cover_every_row_once_in_order(n: int, world: int) -> None:
    bounds = [shard_bounds(n, _Rank(r, world)) for r in range(world)]
    rows = np.concatenate([np.arange(a, b) for a, b in bounds])
    assert rows.tolist() == list(range(n))
    sizes = [b - a for a, b in bounds]
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)


def test_a_block_equals_the_same_rows_of_the_whole(data_root: Path) -> None:
    ds = load_dataset("usps@test").subset(np.arange(150))
    bb = create_backbone("zoo:mnist-cnn", ds)
    whole = _forward_all(bb, ds, 32, False, bb.device)
    parts = [_forward_all(bb, ds, 32, False, bb.device, rows=r) for r in ((0, 75), (75, 150), (150, 150))]
    assert parts[2].shape == (0, bb.num_features)
    np.testing.assert_allclose(np.concatenate(parts), whole, rtol=1e-5, atol=1e-6)


def test_split_in_one_process_changes_nothing(data_root: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """`python -m transferkit features` in one process: the same entry and features as the library call."""
    ds = load_dataset("usps@test").subset(np.arange(200))
    bb = create_backbone("zoo:mnist-cnn", ds)
    plain = extract_features(bb, ds, cache=tmp_path / "a", progress=False)
    split = extract_features(bb, ds, cache=tmp_path / "b", progress=False, split=True)
    assert np.array_equal(plain, split)
    assert [p.name for p in (tmp_path / "a").iterdir()] == [p.name for p in (tmp_path / "b").iterdir()]
    monkeypatch.setenv("TRANSFERKIT_CACHE", str(tmp_path / "cli"))
    r = CliRunner().invoke(app, ["features", "--data", "usps@test", "-b", "zoo:mnist-cnn", "-o", str(tmp_path / "f")])
    assert r.exit_code == 0, r.output
    assert "processes" not in r.output
    full = extract_features(bb, load_dataset("usps@test"), cache=tmp_path / "c", progress=False)
    with np.load(tmp_path / "f.npz") as z:
        assert np.array_equal(z["x"], full)
    assert sorted(p.name for p in (tmp_path / "cli" / "features").iterdir()) == \
        sorted(p.name for p in (tmp_path / "c").iterdir())


@pytest.mark.slow
def test_accelerate_launch_two_processes_write_one_entry_equal_to_one_process(data_root: Path,
                                                                              tmp_path: Path) -> None:
    """`accelerate launch -m transferkit features` in 2 CPU processes: one cache entry, the one-process features."""
    out = tmp_path / "two.npz"
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
              "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
              "--main_process_port", str(_free_port()), "-m", "transferkit", "features", "--data", "usps@test",
              "--backbone", "zoo:mnist-cnn", "--batch-size", "128", "-o", str(out), "-v"]
    r = subprocess.run(launch, env=_env(tmp_path / "cache"), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    text = " ".join((r.stdout + r.stderr).split())
    assert "process 0 of 2 extracted rows 0:1004 of 2007" in text, text[-3000:]
    assert "process 1 of 2 extracted rows 1004:2007 of 2007" in text, text[-3000:]
    assert "2 processes" in r.stdout and r.stdout.count("saved") == 1  # only the main process prints and writes
    ds = load_dataset("usps@test")
    one = extract_features(create_backbone("zoo:mnist-cnn", ds), ds, cache=tmp_path / "one", progress=False)
    entries = sorted(p.name for p in (tmp_path / "cache" / "features").iterdir())
    assert entries == sorted(p.name for p in (tmp_path / "one").iterdir())  # one entry, same key; no parts left
    cached = FeatureCache(tmp_path / "cache" / "features").load(entries[0].removesuffix(".npy"), len(ds))
    assert cached is not None
    np.testing.assert_allclose(cached, one, rtol=1e-5, atol=1e-6)
    with np.load(out) as z:
        assert np.array_equal(z["x"], cached)


SCRIPT = '''
import json, sys
import numpy as np, torch
from accelerate import PartialState
from transferkit.backbones import create_backbone
from transferkit.data import load_dataset
from transferkit.errors import DataError
from transferkit.features import extract_features

state = PartialState(cpu=True)
r = state.process_index
d = load_dataset("usps@test").subset(np.arange(301))
torch.manual_seed(r)  # each process draws other random weights
b = create_backbone("smallcnn", d)
before = b.fingerprint()
f = extract_features(b, d, cache=False, progress=False, split=True, batch_size=64)
alone = extract_features(b, d, cache=False, progress=False, batch_size=64)  # this process alone, its weights now
np.save(sys.argv[1] + f"/rank{r}.npy", f)
try:
    extract_features(b, d.subset(np.arange(100 + r)), cache=False, progress=False, split=True)
    error = ""
except DataError as exc:
    error = str(exc)
out = {"before": before, "after": b.fingerprint(), "alone": bool(np.allclose(alone, f, rtol=1e-5, atol=1e-6)),
       "error": error}
open(sys.argv[1] + f"/rank{r}.json", "w").write(json.dumps(out))
state.wait_for_everyone()
state.destroy_process_group()
'''


@pytest.mark.slow
def test_torchrun_without_cache_gives_every_process_the_main_weights_and_all_rows(data_root: Path,
                                                                                  tmp_path: Path) -> None:
    """Random weights differ per process: the main one's are used; the blocks meet in memory (no cache)."""
    script = tmp_path / "split.py"
    script.write_text(SCRIPT)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(_free_port()), str(script), str(tmp_path)]
    r = subprocess.run(cmd, env=_env(tmp_path / "cache"), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    r0, r1 = (json.loads((tmp_path / f"rank{i}.json").read_text()) for i in (0, 1))
    assert r0["before"] != r1["before"], "the processes drew the same weights: the test would prove nothing"
    assert r0["after"] == r1["after"] == r0["before"]
    assert r0["alone"] and r1["alone"]  # what one process computes with the main process's weights
    f0, f1 = np.load(tmp_path / "rank0.npy"), np.load(tmp_path / "rank1.npy")
    assert f0.shape == (301, 128) and np.array_equal(f0, f1)
    assert "[100, 101]" in r0["error"] and r0["error"] == r1["error"]  # every process refuses other data
    assert not (tmp_path / "cache").exists()  # cache=False wrote nothing

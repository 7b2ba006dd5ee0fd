"""Crash tests of issue 17: a writer killed with SIGKILL mid-write, and processes racing on one cache key.

The promises (``transferkit.features.cache``): a reader never sees a torn entry, a killed writer's
temporary file is removed on the next use (never a live writer's), and the rerun completes with the
right features.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and fork-free subprocesses: POSIX only")

SRC = str(Path(__file__).resolve().parents[1] / "src")
KEY = "a" * 64
# the cache module alone, without transferkit.features' __init__ (which imports torch): children start fast
LOAD_CACHE = """
    import importlib.util, sys
    spec = importlib.util.spec_from_file_location("tk_cache", sys.argv[-1])
    cache = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cache)
"""
CACHE_FILE = str(Path(SRC) / "transferkit" / "features" / "cache.py")


def _python(code: str, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for(path: Path, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    t0 = time.monotonic()
    while not path.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the child ended early ({proc.returncode}): {err.decode()[-2000:]}")
        if time.monotonic() - t0 > timeout:
            proc.kill()
            pytest.fail("the child never reached the point to kill it at")
        time.sleep(0.05)


# a child that starts a cache write, writes half of the bytes, says so, and waits to be killed
HALF_WRITE = LOAD_CACHE + """
    import time
    from pathlib import Path
    import numpy as np

    folder, ready = Path(sys.argv[1]), Path(sys.argv[2])

    def half_save(f, arr, allow_pickle=False):
        data = arr.tobytes()
        f.write(data[: len(data) // 2])
        f.flush()
        ready.touch()
        time.sleep(600)

    cache.np.save = half_save
    cache.FeatureCache(folder).store(sys.argv[3], np.ones((1000, 64), dtype=np.float32))
"""


def test_kill_during_a_cache_write_leaves_no_entry_and_the_rerun_cleans_up(tmp_path: Path) -> None:
    from transferkit.features import FeatureCache
    from transferkit.features import cache as cache_mod

    folder, ready = tmp_path / "cache", tmp_path / "ready"
    proc = _python(HALF_WRITE, str(folder), str(ready), KEY, CACHE_FILE)
    _wait_for(ready, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    temps = list(folder.glob(".*.tmp"))
    assert len(temps) == 1 and temps[0].stat().st_size > 0  # the half-written temp file is all that is left
    assert not (folder / f"{KEY}.npy").exists()  # no torn entry under the real name
    cache_mod._CLEANED.clear()  # noqa: SLF001 - forget the once-a-minute throttle of earlier tests
    cache = FeatureCache(folder)
    assert cache.load(KEY, 1000) is None  # a miss, not half an array
    assert not list(folder.glob(".*.tmp"))  # the dead writer's temp file is gone
    want = np.ones((1000, 64), dtype=np.float32)
    cache.store(KEY, want)  # the rerun completes
    np.testing.assert_array_equal(cache.load(KEY, 1000), want)


def test_kill_during_extract_features_then_rerun(tmp_path: Path) -> None:
    """End to end: a feature extraction killed while it stores its result is simply done again."""
    import torch

    from transferkit.backbones import create_backbone
    from transferkit.features import cache as cache_mod
    from transferkit.features import extract_features

    folder, ready = tmp_path / "cache", tmp_path / "ready"
    code = HALF_WRITE.replace(
        'cache.FeatureCache(folder).store(sys.argv[3], np.ones((1000, 64), dtype=np.float32))',
        "import torch\n"
        "    from transferkit.backbones import create_backbone\n"
        "    from transferkit.features import extract_features\n"
        "    torch.manual_seed(0)\n"
        "    bb = create_backbone('tabmlp?in_features=3&hidden=8')\n"
        "    x = np.linspace(0, 1, 300, dtype=np.float32).reshape(100, 3)\n"
        "    extract_features(bb, x, cache=str(folder), progress=False)",
    )
    proc = _python(code, str(folder), str(ready), KEY, CACHE_FILE)
    _wait_for(ready, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert not list(folder.glob("*.npy")) and len(list(folder.glob(".*.tmp"))) == 1
    cache_mod._CLEANED.clear()  # noqa: SLF001
    torch.manual_seed(0)  # the same weights as the killed run: the same cache key
    bb = create_backbone("tabmlp?in_features=3&hidden=8")
    x = np.linspace(0, 1, 300, dtype=np.float32).reshape(100, 3)
    feats = extract_features(bb, x, cache=str(folder), progress=False)
    fresh = extract_features(bb, x, cache=False, progress=False)
    np.testing.assert_array_equal(feats, fresh)
    assert len(list(folder.glob("*.npy"))) == 1 and not list(folder.glob(".*.tmp"))
    again = extract_features(bb, x, cache=str(folder), progress=False)
    np.testing.assert_array_equal(again, fresh)  # read from the cache this time


def test_a_torn_entry_under_the_real_name_is_a_miss(tmp_path: Path) -> None:
    """Should a file ever be cut short in place (a copy, a full disk), it is not read as features."""
    from transferkit.features import FeatureCache

    cache = FeatureCache(tmp_path)
    path = cache.store(KEY, np.ones((500, 16), dtype=np.float32))
    path.write_bytes(path.read_bytes()[:1000])
    assert cache.load(KEY, 500) is None and not path.exists()


# writers that store the same key over and over, each with its own constant value
WRITER = LOAD_CACHE + """
    from pathlib import Path
    import numpy as np

    folder, value, rounds = Path(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    cache = cache.FeatureCache(folder)
    arr = np.full((2000, 256), value, dtype=np.float32)  # 2 MB: long enough writes to overlap
    for _ in range(rounds):
        cache.store(sys.argv[4], arr)
"""


def test_processes_racing_on_one_cache_key_never_show_a_torn_entry(tmp_path: Path) -> None:
    from transferkit.features import FeatureCache

    folder = tmp_path / "cache"
    writers = [_python(WRITER, str(folder), str(v), "5", KEY, CACHE_FILE) for v in (1.0, 2.0, 3.0)]
    cache = FeatureCache(folder)
    seen: set[float] = set()
    reads = 0
    deadline = time.monotonic() + 300
    while any(w.poll() is None for w in writers):
        assert time.monotonic() < deadline, "the writers never finished"
        arr = cache.load(KEY, 2000)
        if arr is not None:
            reads += 1
            values = np.unique(arr)
            assert arr.shape == (2000, 256) and len(values) == 1, "a torn or mixed entry was read"
            seen.add(float(values[0]))
        time.sleep(0.002)  # leave the writers some CPU on a small machine
    for w in writers:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0, err.decode()[-2000:]
    final = cache.load(KEY, 2000)
    assert final is not None and len(np.unique(final)) == 1 and float(final[0, 0]) in (1.0, 2.0, 3.0)
    assert seen <= {1.0, 2.0, 3.0}
    assert not list(folder.glob(".*.tmp"))  # every writer renamed or removed its own temp file

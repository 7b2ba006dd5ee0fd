"""`transferkit cache info|clear`, the cache folder's place (TRANSFERKIT_CACHE, XDG_CACHE_HOME) and the user
data folder as the default data root."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from transferkit._io import temp_path
from transferkit.cli import app
from transferkit.data.paths import cache_root, data_root
from transferkit.features.cache import FeatureCache, cache_info, clear_cache, default_cache_dir, parse_age

runner = CliRunner()
DAY = 86400.0


@pytest.fixture()
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No TRANSFERKIT_CACHE/DATA; XDG folders in tmp_path."""
    monkeypatch.delenv("TRANSFERKIT_CACHE", raising=False)
    monkeypatch.delenv("TRANSFERKIT_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    return tmp_path


def _fill(root: Path) -> dict[str, Path]:
    """Two feature entries (one written 40 days ago) and a converted weights file (10 days ago)."""
    cache = FeatureCache(root / "features")
    new = cache.store("new", np.ones((3, 2), np.float32))
    old = cache.store("old", np.zeros((5, 2), np.float32))
    w = root / "weights" / "lite0.safetensors"
    w.parent.mkdir(parents=True)
    w.write_bytes(b"x" * 1000)
    now = time.time()
    os.utime(old, (now - 40 * DAY, now - 40 * DAY))
    os.utime(w, (now - 10 * DAY, now - 10 * DAY))
    return {"new": new, "old": old, "weights": w}


def test_cache_and_data_folders_follow_xdg_when_no_transferkit_variable_is_set(xdg: Path) -> None:
    if os.name != "posix" or os.uname().sysname == "Darwin":
        pytest.skip("XDG folders are the Linux/BSD convention")
    assert cache_root() == xdg / "xdg-cache" / "transferkit"
    assert default_cache_dir() == xdg / "xdg-cache" / "transferkit" / "features"
    assert FeatureCache().directory == default_cache_dir()
    assert data_root() == xdg / "xdg-data" / "transferkit" / "data"


def test_transferkit_variables_win_over_xdg(xdg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRANSFERKIT_CACHE", str(xdg / "mine"))
    monkeypatch.setenv("TRANSFERKIT_DATA", str(xdg / "data"))
    assert cache_root() == xdg / "mine"
    assert data_root() == xdg / "data"
    assert data_root(xdg / "explicit") == xdg / "explicit"


def test_cache_info_counts_every_part(tmp_path: Path) -> None:
    files = _fill(tmp_path)
    info = cache_info(tmp_path)
    assert info["files"] == 3
    assert info["parts"]["features"]["files"] == 2 and info["parts"]["weights"]["files"] == 1
    assert info["bytes"] == sum(p.stat().st_size for p in files.values())
    assert info["parts"]["features"]["oldest"] < time.time() - 39 * DAY


def test_clear_older_than_keeps_recent_files_and_live_writers_temp_files(tmp_path: Path) -> None:
    files = _fill(tmp_path)
    live = temp_path(tmp_path / "features" / "x.npy")  # this process's: a live writer
    live.write_bytes(b"being written")
    old_size = files["old"].stat().st_size
    n, size = clear_cache(tmp_path, older_than_s=30 * DAY)
    assert (n, size) == (1, old_size)
    assert not files["old"].exists() and files["new"].exists() and files["weights"].exists()
    assert live.exists()
    clear_cache(tmp_path, parts=("weights",))
    assert not files["weights"].exists() and files["new"].exists()
    clear_cache(tmp_path)
    assert not files["new"].exists() and live.exists()


def test_cache_commands(xdg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRANSFERKIT_CACHE", str(xdg / "c"))
    files = _fill(xdg / "c")
    res = runner.invoke(app, ["cache", "info"])
    assert res.exit_code == 0, res.output
    assert "features" in res.output and "weights" in res.output and str(xdg / "c")[:20] in res.output
    res = runner.invoke(app, ["cache", "clear", "--older-than", "7d"])
    assert res.exit_code == 0 and "removed 2 file(s)" in res.output, res.output
    assert files["new"].exists() and not files["old"].exists() and not files["weights"].exists()
    res = runner.invoke(app, ["cache", "clear", "--older-than", "soon"])
    assert res.exit_code == 2 and "30d" in res.output
    assert runner.invoke(app, ["cache", "clear"]).exit_code == 0
    assert not files["new"].exists()


def test_parse_age() -> None:
    assert parse_age("30d") == 30 * DAY and parse_age("12h") == 12 * 3600 and parse_age("90") == 90
    assert parse_age("1.5w") == 1.5 * 7 * DAY

"""transferkit._io, the ground-floor writer: atomic writes, JSON-ready values, results.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from transferkit import _io
from transferkit.reports import run


def test_atomic_writes_round_trip_and_leave_no_temp_files(tmp_path):
    _io.atomic_write_text(tmp_path / "sub" / "a.txt", "héllo\n")
    _io.atomic_write_bytes(tmp_path / "sub" / "b.bin", b"\x00\x01")
    assert (tmp_path / "sub" / "a.txt").read_text(encoding="utf-8") == "héllo\n"
    assert (tmp_path / "sub" / "b.bin").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["a.txt", "b.bin"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "a.txt"
    _io.atomic_write_text(path, "old")
    with pytest.raises(TypeError):
        _io.atomic_write_bytes(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_to_jsonable_and_results_round_trip(tmp_path):
    @dataclass
    class Row:
        x: np.float32
        path: Path

    res = _io.new_results("fit", sections={"rows": [Row(np.float32(0.5), Path("a/b"))], "nan": float("nan")})
    data = _io.to_jsonable(res)
    assert data["sections"] == {"rows": [{"x": 0.5, "path": "a/b"}], "nan": None}
    run_dir = _io.make_run_dir("fit", root=tmp_path)
    _io.atomic_write_text(run_dir / "results.json", json.dumps(data))
    assert _io.read_results(run_dir) == data


def test_reports_run_keeps_its_old_names():
    for name in ("SCHEMA", "atomic_write_text", "make_run_dir", "new_results", "read_results", "to_jsonable"):
        assert getattr(run, name) is getattr(_io, name)

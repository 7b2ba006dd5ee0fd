"""`transferkit rank` / `transferkit similarity` end to end, and rank() through real backbones."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from transferkit.transferability import logme, rank

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A CLI runner with run folders and the feature cache under ``tmp_path``."""
    from typer.testing import CliRunner

    from transferkit.cli import app

    monkeypatch.setenv("TRANSFERKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TRANSFERKIT_RUNS", str(tmp_path / "runs"))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args))

    return invoke


def _results(tmp_path: Path, command: str) -> dict:
    (folder,) = [p for p in (tmp_path / "runs").iterdir() if command in p.name]
    return json.loads((folder / "results.json").read_text())


def test_rank_through_backbones_and_raw_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRANSFERKIT_CACHE", str(tmp_path / "cache"))
    from transferkit.data import load_dataset

    data = load_dataset("breast-cancer")
    table = rank(["raw", ("mlp", "tabmlp?hidden=16")], data, scores=("logme", "h_score", "leep"))
    assert {r.model for r in table.rows} == {"raw", "mlp"}
    raw = next(r for r in table.rows if r.model == "raw")
    assert raw.scores["logme"] == pytest.approx(logme(data.x.reshape(len(data), -1), data.y), abs=1e-12)
    mlp = next(r for r in table.rows if r.model == "mlp")
    assert mlp.num_features == 16 and mlp.fingerprint
    assert all(r.scores["leep"] is None for r in table.rows)  # no source heads
    best = max(table.rows, key=lambda r: r.scores["logme"])
    assert table.rows[0] is best


def test_rank_cli_writes_results(cli, tmp_path: Path) -> None:
    res = cli(
        "rank",
        "--target",
        "breast-cancer",
        "--models",
        "raw,tabmlp?hidden=32,16",
        "--scores",
        "logme,h_score",
    )
    assert res.exit_code == 0, res.output
    assert "logme" in res.output
    out = _results(tmp_path, "rank")
    sec = out["sections"]["ranking"]
    assert sec["scores"] == ["logme", "h_score", "combined"] and sec["rank_by"] == "combined"
    assert [r["rank"] for r in sec["rows"]] == [1, 2]
    assert {r["model"] for r in sec["rows"]} == {"raw", "tabmlp?hidden=32,16"}
    assert sec["rows"][0]["combined"] >= sec["rows"][1]["combined"]
    rec = sec["recommendation"]
    assert rec["model"] == sec["rows"][0]["model"] and rec["text"] in " ".join(res.output.split())
    assert {r["kind"] for r in sec["rows"]} == {"raw", "random"}
    assert len(sec["explanations"]) == 3 and "higher is better" in sec["explanations"][0]
    assert out["command"] == "rank" and out["data"]["target"]["name"] == "breast-cancer"


def test_rank_cli_unknown_score_is_a_clear_error(cli) -> None:
    res = cli("rank", "--target", "breast-cancer", "--models", "raw", "--scores", "logmee")
    assert res.exit_code == 2
    out = " ".join(res.output.split())
    assert "unknown transferability score 'logmee'; did you mean 'logme'?" in out and "Traceback" not in out


def test_similarity_cli_on_real_domains(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not (DATA / "office_caltech10_surf").is_dir():
        pytest.skip(f"Office-Caltech10 SURF data not found under {DATA}")
    monkeypatch.setenv("TRANSFERKIT_DATA", str(DATA))
    res = cli(
        "similarity",
        "--source", "office-caltech10-surf:amazon",
        "--target", "office-caltech10-surf:dslr",
        "--backbone", "raw",
        "--permutations", "20",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    sec = _results(tmp_path, "similarity")["sections"]["similarity"]
    assert set(sec["measures"]) == {"mmd", "proxy_a", "coral", "frechet"}
    assert 0 < sec["measures"]["mmd"]["p_value"] <= 1
    assert all(np.isfinite(m["value"]) for m in sec["measures"].values())
    rel = sec["label_relation"]
    assert len(rel["source_classes"]) == 10 and len(rel["matrix"][0]) == len(rel["target_classes"]) == 10
    assert sec["class_conditional"]["mmd"]["mean"] is not None


def test_similarity_cli_rejects_mismatched_raw_sizes(cli) -> None:
    if not (DATA / "mnist").is_dir() or not (DATA / "usps").is_dir():
        pytest.skip(f"MNIST/USPS not found under {DATA}")
    res = cli(
        "similarity",
        "--source",
        "mnist@test",
        "--target",
        "usps@test",
        "--backbone",
        "raw",
        "--max-samples",
        "200",
    )
    assert res.exit_code == 2
    assert "differ in size" in res.output

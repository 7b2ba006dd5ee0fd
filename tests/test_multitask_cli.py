"""`transferkit multitask CONFIG.yaml` end to end on the real heart-disease hospitals, and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _runs import DATA, tiny_heart

TINY = tiny_heart(seeds=2, epochs=2, metric="balanced_accuracy")



@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A CLI runner with run folders under ``tmp_path``."""
    from typer.testing import CliRunner

    from transferkit.cli import app

    monkeypatch.setenv("TRANSFERKIT_RUNS", str(tmp_path / "runs"))
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_multitask_command_writes_the_section_and_prints_the_table(cli, tmp_path: Path) -> None:
    if not (DATA / "uci_heart_disease").is_dir():
        pytest.skip(f"UCI heart disease data not found under {DATA}")
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(TINY)
    r = cli("multitask", str(cfg), "--data-root", str(DATA), "--quiet", "--seeds", "2")
    assert r.exit_code == 0, r.output
    assert "Δm %" in r.output and "hungarian" in r.output and "uncertainty" in r.output
    (folder,) = list((tmp_path / "runs").iterdir())
    assert folder.name.endswith("multitask-tiny-heart")
    res = json.loads((folder / "results.json").read_text())
    mt = res["sections"]["multitask"]
    assert res["schema"] == "transferkit.results/1" and res["command"] == "multitask"
    assert mt["tasks"] == ["hungarian", "va"] and mt["metric"] == "balanced_accuracy"
    assert set(mt["delta_m"]) == {"equal", "uncertainty"}
    for row in mt["rows"]:
        assert set(row["diff_ci"]) == set(row["negative"]) == {"equal", "uncertainty"}
        assert all(len(ci) == 2 for ci in row["diff_ci"].values())
    assert res["config"]["tasks"][1]["head"] == "mlp" and res["seeds"] == [0, 1]


def test_multitask_command_reports_config_errors_cleanly(cli, tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(TINY.replace("weightings: [equal, uncertainty]", "weightings: [equal, wishful]"))
    r = cli("multitask", str(cfg))
    assert r.exit_code == 2
    assert "unknown multi-task weighting 'wishful'" in " ".join(r.output.split()) and "Traceback" not in r.output
    r = cli("multitask", str(tmp_path / "nowhere.yaml"))
    assert r.exit_code == 2 and "not found" in " ".join(r.output.split())

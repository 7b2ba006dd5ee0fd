"""The demo end to end (reduced), through the CLI, writing a run folder."""

import json
import os
from pathlib import Path

from typer.testing import CliRunner

from transferkit.cli import app
from transferkit.demo import DemoConfig, run_demo


def test_demo_transfer_beats_scratch_at_two_labels_per_class():
    res = run_demo(DemoConfig(seeds=2, budgets=(2,), source_epochs=10, target_epochs=20, progress=False))
    comp = res["sections"]["comparison"]
    assert res["schema"] == "transferkit.results/1" and res["seeds"] == [0, 1]
    assert comp["transfer"]["mean"] > comp["scratch"]["mean"] + 0.15
    assert comp["diff"]["ci_low"] <= comp["diff"]["mean"] <= comp["diff"]["ci_high"]
    assert res["models"]["pretrained"]["source_val_accuracy"] > 0.9
    json.dumps(res, allow_nan=False)


def test_demo_is_the_same_on_every_run():
    """Seeded end to end: the pre-trained model, the new heads and both arms repeat exactly."""
    import torch

    cfg = DemoConfig(seeds=2, budgets=(2,), source_epochs=2, target_epochs=3, progress=False)
    runs = []
    for noise in (1, 2):
        torch.manual_seed(noise)  # whatever the global random state was before
        torch.rand(noise * 7)
        comp = run_demo(cfg)["sections"]["comparison"]
        runs.append((comp["transfer"]["per_seed"], comp["scratch"]["per_seed"]))
    assert runs[0] == runs[1]


def test_demo_cli_writes_results(tmp_path, monkeypatch):
    runner = CliRunner()
    result = runner.invoke(app, ["demo", "--seeds", "2", "--budgets", "2", "--runs", str(tmp_path), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "verdict" in result.output.lower()
    (run,) = list(Path(tmp_path).iterdir())
    data = json.loads((run / "results.json").read_text())
    assert data["command"] == "demo" and data["sections"]["label_efficiency"]["budgets"] == [2]


def test_cli_lists_and_errors(tmp_path):
    runner = CliRunner()
    assert runner.invoke(app, ["models"]).exit_code == 0
    before = os.environ.get("TRANSFERKIT_DATA")
    out = runner.invoke(app, ["datasets", "--data-root", str(tmp_path)])
    assert out.exit_code == 0 and "missing" in out.output and "embedded" in out.output
    assert os.environ.get("TRANSFERKIT_DATA") == before  # --data-root does not leak into the next command
    bad = runner.invoke(app, ["features", "--data", "nope.csv", "--backbone", "minilm"])
    assert bad.exit_code == 2 and "does not exist" in bad.output

"""``transferkit pretrain`` and ``transferkit zoo`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from transferkit.backbones import create_backbone
from transferkit.cli import app
from transferkit.data import load_dataset
from transferkit.features import extract_features

runner = CliRunner()
TINY = "smallcnn?image_size=8&width=4&num_features=16"


def test_pretrain_writes_entry_and_run_then_loads_everywhere(tmp_path: Path) -> None:
    zoo, runs = tmp_path / "zoo", tmp_path / "runs"
    r = runner.invoke(app, ["pretrain", "--source", "digits", "--backbone", TINY, "--name", "digits-tiny",
                            "--zoo", str(zoo), "--epochs", "1", "--max-samples", "300", "--runs", str(runs), "--quiet"])
    assert r.exit_code == 0, r.output
    assert "test_accuracy" in r.output and "zoo:digits-tiny" in r.output
    card = json.loads((zoo / "digits-tiny" / "card.json").read_text())
    assert card["source"]["n_used"] == 300 and "subset of 300 of 1797" in card["source"]["subsample"]
    (run_dir,) = list(runs.iterdir())
    res = json.loads((run_dir / "results.json").read_text())
    assert res["command"] == "pretrain" and res["schema"].startswith("transferkit.results/")
    sec = res["sections"]["pretrain"]
    assert set(sec) >= {"source", "metrics", "card"}
    assert sec["card"]["weights"]["sha256"] == card["weights"]["sha256"]
    assert sec["metrics"]["test_accuracy"] == card["metrics"]["test_accuracy"]
    # the entry is a backbone like any other
    bb = create_backbone(f"zoo:digits-tiny?dir={zoo}")
    f = extract_features(bb, load_dataset("digits").subset(np.arange(20)), cache=False, progress=False)
    assert f.shape == (20, 16)
    r = runner.invoke(app, ["zoo", "--zoo", str(zoo)])
    assert r.exit_code == 0 and "digits-tiny" in r.output and "mnist-cnn" in r.output


def test_pretrain_self_supervised_and_errors(tmp_path: Path) -> None:
    zoo = tmp_path / "zoo"
    r = runner.invoke(app, ["pretrain", "--source", "digits", "--backbone", TINY, "--name", "dn",
                            "--objective", "denoise", "--zoo", str(zoo), "--epochs", "1", "--max-samples", "200",
                            "--runs", str(tmp_path / "runs"), "--quiet"])
    assert r.exit_code == 0, r.output
    assert json.loads((zoo / "dn" / "card.json").read_text())["head"] is None
    r = runner.invoke(app, ["pretrain", "--source", "digits", "--backbone", TINY, "--name", "Bad Name",
                            "--zoo", str(zoo), "--runs", str(tmp_path / "runs")])
    assert r.exit_code == 2 and "not valid" in r.output
    r = runner.invoke(app, ["pretrain", "--source", "digits", "--backbone", "tabmlp?in_features=64", "--name", "x",
                            "--zoo", str(zoo), "--runs", str(tmp_path / "runs")])
    assert r.exit_code == 2 and "table inputs" in r.output
    r = runner.invoke(app, ["features", "--backbone", f"zoo:nothing?dir={zoo}", "--data", "digits"])
    assert r.exit_code == 2 and "no zoo entry 'nothing'" in r.output

"""``transferkit fit``: run folder with results.json, the tables, and a clear error without pre-trained weights."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("typer")
from typer.testing import CliRunner  # noqa: E402

from transferkit.cli import app  # noqa: E402

runner = CliRunner()
FAST = ["--backbone", "tabmlp?hidden=16", "--budgets", "5,all", "--seeds", "2", "--epochs", "3", "--source-epochs",
        "2", "--quiet", "--scratch-min-steps", "0"]


def test_fit_writes_results_with_comparison_and_label_efficiency(tmp_path: Path) -> None:
    r = runner.invoke(app, ["fit", "--target", "breast-cancer", "--source", "breast-cancer", "--strategy",
                            "linear_probe", "--others", "finetune", "--runs", str(tmp_path), *FAST])
    assert r.exit_code == 0, r.output
    (run,) = list(tmp_path.iterdir())
    res = json.loads((run / "results.json").read_text())
    assert res["command"] == "fit" and res["seeds"] == [0, 1]
    sec = res["sections"]
    comp = sec["comparison"]
    assert comp["budget"] == 5 and comp["verdict"] in ("positive", "inconclusive", "negative", "insufficient test data",
                                                        "baseline failed to train")
    assert comp["interval_method"].startswith("hierarchical paired bootstrap") and "classical" in comp["others"]
    assert {"transfer", "scratch", "diff", "advice", "metrics", "time_to_scratch_best", "source_only"} <= set(comp)
    le = sec["label_efficiency"]
    n_all = res["comparisons_by_budget"][1]["n_labelled"]
    assert le["budgets"] == [10, n_all] and n_all > 100  # 5 per class of 2 classes, then the whole training split
    assert le["budget_labels"] == ["5 labels per class", "all labels"]
    assert "expected a number" not in (run / "report.html").read_text()  # the curve is drawn, not an error box
    assert "curves" in sec and len(sec["confusion_matrix"]["matrix"]) == 2
    assert res["models"]["pretrained_on_source"]["source_val_accuracy"] > 0.5
    assert "Label efficiency" in r.output and "Verdict at 5 labels per class" in r.output


def test_fit_without_pretrained_weights_says_what_is_needed(tmp_path: Path) -> None:
    r = runner.invoke(app, ["fit", "--target", "breast-cancer", "--runs", str(tmp_path), *FAST])
    assert r.exit_code == 2
    text = " ".join(r.output.split())
    assert "pre-trained backbone is needed" in text and "--source" in text and "zoo:" in text
    assert not any(tmp_path.iterdir())


def test_fit_rejects_unknown_strategy_and_budget(tmp_path: Path) -> None:
    r = runner.invoke(app, ["fit", "--target", "breast-cancer", "--source", "breast-cancer", "--strategy", "magic",
                            "--runs", str(tmp_path), *FAST])
    assert r.exit_code == 2 and "unknown strategy 'magic'" in r.output and "Traceback" not in r.output
    bad = [a if a != "5,all" else "five" for a in FAST]
    r = runner.invoke(app, ["fit", "--target", "breast-cancer", "--source", "breast-cancer", "--runs", str(tmp_path),
                            *bad])
    assert r.exit_code == 2 and "label budget" in r.output


def test_base_seed_moves_the_paired_seeds_and_the_split(tmp_path: Path) -> None:
    """``--seed 7 --seeds 2`` runs seeds 7 and 8: other labelled subsets and test splits than seeds 0 and 1."""
    args = ["fit", "--target", "breast-cancer", "--source", "breast-cancer", "--strategy", "linear_probe",
            "--no-classical", *FAST]
    got = {}
    for seed in (0, 7):
        out = tmp_path / str(seed)
        r = runner.invoke(app, [*args, "--seed", str(seed), "--runs", str(out)])
        assert r.exit_code == 0, r.output
        (run,) = list(out.iterdir())
        got[seed] = json.loads((run / "results.json").read_text())
    assert got[0]["seeds"] == [0, 1] and got[7]["seeds"] == [7, 8]
    assert got[7]["config"]["seed"] == 7
    ex0, ex7 = (g["comparisons_by_budget"][0]["examples"] for g in (got[0], got[7]))
    assert ex0 != ex7  # each seed draws its own test split
    r = runner.invoke(app, [*args, "--seed", "-1", "--runs", str(tmp_path / "bad")])
    assert r.exit_code == 2 and "--seed" in r.output

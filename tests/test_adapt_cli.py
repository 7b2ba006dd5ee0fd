"""``transferkit adapt``: run folder, results section, verdict, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from transferkit.cli import adapt_cmd  # noqa: F401  (registers the command)
from transferkit.cli._app import app


@pytest.fixture(autouse=True)
def _one_blas_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def run(args: list[str], tmp_path: Path):
    return CliRunner().invoke(app, ["adapt", *args, "--runs", str(tmp_path)])


def test_adapt_writes_the_adaptation_section(data_root, tmp_path: Path) -> None:
    res = run(
        [
            "--source",
            "office-caltech10-surf:dslr",
            "--target",
            "office-caltech10-surf:webcam",
            "--method",
            "coral",
            "--seeds",
            "2",
            "--target-labels",
            "3",
            "--data-root",
            str(data_root),
        ],
        tmp_path,
    )
    assert res.exit_code == 0, res.output
    assert "verdict" in res.output and "source-only" in res.output
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    data = json.loads((run_dir / "results.json").read_text())
    assert data["command"] == "adapt" and data["seeds"] == [0, 1]
    sec = data["sections"]["adaptation"]
    assert sec["method"] == "coral"
    assert {r["model"] for r in sec["rows"]} == {"source-only", "coral"}
    assert len(sec["rows"]) == 4
    for r in sec["rows"]:
        assert 0.0 <= r["target_accuracy"] <= 1.0
        assert set(r["selection_scores"]) == {
            "source_val_accuracy",
            "importance_weighted_accuracy",
            "prediction_entropy",
            "soft_neighborhood_density",
            "iwcv_loss",
            "dev_risk",
            "da_bound",
        }
    assert sec["verdict"] in {"adaptation helped", "negative transfer", "inconclusive"}
    assert sec["recommended"] in {"source-only", "coral"}
    assert sec["advice"] and set(sec["caveats"]) >= {"prediction_entropy", "target_val_accuracy"}
    # the test rows are disjoint from the adaptation pool: about 30 % of webcam's 295 rows
    n_test, n_pool = data["data"]["target_test"]["n"], data["data"]["target"]["n"]
    assert n_test + n_pool == 295 and 80 <= n_test <= 95


def test_adapt_without_target_labels_is_unverified(data_root, tmp_path: Path) -> None:
    res = run(
        [
            "--source",
            "office-caltech10-surf:webcam",
            "--target",
            "office-caltech10-surf:dslr",
            "--method",
            "tca",
            "--seeds",
            "1",
            "--data-root",
            str(data_root),
        ],
        tmp_path,
    )
    assert res.exit_code == 0, res.output
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    sec = json.loads((run_dir / "results.json").read_text())["sections"]["adaptation"]
    # without target labels the label-free decision either keeps source-only or names its choice
    assert (sec["verdict"], sec["recommended"]) in {("unverified", "source-only"), ("label-free choice", "tca")}
    assert "--target-labels" in sec["advice"]


def test_adapt_runs_a_deep_method_on_digits(data_root, tmp_path: Path) -> None:
    res = run(
        [
            "--source",
            "usps@test",
            "--target",
            "usps@test",
            "--method",
            "dann",
            "--seeds",
            "1",
            "--steps",
            "3",
            "--batch-size",
            "16",
            "--data-root",
            str(data_root),
        ],
        tmp_path,
    )
    assert res.exit_code == 0, res.output
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    sec = json.loads((run_dir / "results.json").read_text())["sections"]["adaptation"]
    assert sec["kind"] == "deep" and {r["model"] for r in sec["rows"]} == {"source-only", "dann"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--method", "no-such-method"], "unknown adaptation method"),
        (["--method", "coral", "--seeds", "0"], "--seeds"),
        (["--method", "coral", "--target-labels", "-1"], "--target-labels"),
    ],
)
def test_adapt_bad_input_exits_2_with_a_message(data_root, tmp_path: Path, args: list[str], message: str) -> None:
    res = run(
        [
            "--source",
            "office-caltech10-surf:dslr",
            "--target",
            "office-caltech10-surf:webcam",
            *args,
            "--data-root",
            str(data_root),
        ],
        tmp_path,
    )
    assert res.exit_code == 2
    assert message in res.output

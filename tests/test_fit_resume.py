"""Runs that survive: Ctrl-C leaves a report marked incomplete, kill -9 loses at most one cell, and
``transferkit fit --resume RUN`` ends with the figures of an uninterrupted run."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from _runs import cells_done, start_cli, stop_after

ARGS = ["fit", "--target", "breast-cancer", "--source", "breast-cancer", "--backbone", "tabmlp?hidden=16",
        "--strategy", "auto", "--budgets", "5,all", "--seeds", "2", "--epochs", "2", "--source-epochs", "1",
        "--scratch-min-steps", "0"]


def _figures(run: Path) -> dict:
    res = json.loads((run / "results.json").read_text())

    def strip(o):  # everything but wall-clock times
        if isinstance(o, dict):
            return {k: strip(v) for k, v in o.items() if k not in ("seconds", "created", "argv", "model", "resume")}
        if isinstance(o, list):
            return [strip(v) for v in o]
        return o

    card = json.loads((run / "model" / "model_card.json").read_text())
    return {"comparisons": strip(res["comparisons_by_budget"]), "curve": strip(res["sections"]["label_efficiency"]),
            "shipped": strip(res["sections"]["shipped"]), "weights": card["weights"]["sha256"],
            "models": strip(res["models"])}


def test_killed_and_interrupted_runs_resume_to_the_same_figures(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from transferkit.cli import app

    ref_runs, runs = tmp_path / "ref", tmp_path / "runs"
    r = CliRunner().invoke(app, [*ARGS, "--quiet", "--runs", str(ref_runs)])  # never stopped (in this process)
    assert r.exit_code == 0, r.output
    (ref_dir,) = list(ref_runs.iterdir())

    # Ctrl-C part-way: exit 130, the report is kept and marked incomplete
    p = start_cli(ARGS, runs)
    stop_after(p, runs, 3, signal.SIGINT)
    out = p.stdout.read()
    assert p.returncode == 130, out
    (run,) = list(runs.iterdir())
    res = json.loads((run / "results.json").read_text())
    assert res["status"]["complete"] is False and res["status"]["state"] == "interrupted (Ctrl-C)"
    assert res["status"]["resume"] == f"transferkit fit --resume {run}" and "shipped" not in res["sections"]
    assert "Incomplete run (interrupted (Ctrl-C))" in (run / "report.html").read_text()
    assert f"continue with: transferkit fit --resume {run}" in " ".join(out.split())

    # resume, then kill -9 part-way through the rest
    done_before = cells_done(runs)
    p = start_cli(["fit", "--resume", str(run)], runs)
    stop_after(p, runs, done_before + 4, signal.SIGKILL)
    assert p.returncode == -signal.SIGKILL
    assert json.loads((run / "results.json").read_text())["status"]["state"] == "running"

    # resume again to the end: the figures of the uninterrupted run
    p = start_cli(["fit", "--resume", str(run), "--quiet"], runs)
    out = p.communicate(timeout=600)[0]
    assert p.returncode == 0, out
    assert _figures(run) == _figures(ref_dir)
    assert "status" not in json.loads((run / "results.json").read_text())


def test_resume_refuses_what_it_cannot_continue(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from transferkit.cli import app

    r = CliRunner().invoke(app, ["fit", "--resume", str(tmp_path)])
    assert r.exit_code == 2 and "cannot be resumed" in " ".join(r.output.split())
    r = CliRunner().invoke(app, ["fit", "--budgets", "5"])
    assert r.exit_code != 0 and "--target and --backbone are needed" in " ".join(r.output.split())


@pytest.mark.parametrize("flags,message", [
    (["--seeds", "0"], "--seeds must be at least 1"),
    (["--epochs", "0"], "--epochs must be at least 1"),
    (["--batch-size", "0"], "--batch-size must be at least 1"),
    (["--budgets", "1000"], "budget 1000 labels per class is more than the training split has in any class"),
    (["--budgets", "5,5"], "listed twice"),
    (["--budgets", "5000total"], "asks for 5000 labelled examples"),
])
def test_every_option_is_checked_before_any_training(tmp_path: Path, flags: list[str], message: str) -> None:
    from typer.testing import CliRunner

    from transferkit.cli import app

    args = list(ARGS)
    for i in range(0, len(flags), 2):
        if flags[i] in args:
            args[args.index(flags[i]) + 1] = flags[i + 1]
        else:
            args += flags[i:i + 2]
    r = CliRunner().invoke(app, [*args, "--runs", str(tmp_path)])
    text = " ".join(r.output.split())
    assert r.exit_code == 2 and message in text, text
    # refused before the source pre-training and before the run folder is made (it is made once every
    # option has been checked); no wall-clock bound, which would only measure the machine
    assert "pre-training" not in text and not any(tmp_path.iterdir())


def test_a_budget_above_some_classes_is_labelled_with_what_it_is() -> None:
    import numpy as np

    from transferkit.data import Dataset
    from transferkit.errors import DataError
    from transferkit.experiments.fit import check_budgets

    y = np.array([0] * 19 + [1] * 50 + [2] * 8)
    d = Dataset(x=np.zeros((len(y), 2), dtype=np.float32), y=y, kind="table", class_names=("a", "b", "c"))
    labels = check_budgets([5, 20, "all", 0.5, "30total"], d)
    assert labels[0] == "5 labels per class"
    assert labels[1] == "20 labels per class (2 of 3 classes have fewer and use all theirs: 47 labels)"
    assert labels[2:] == ["all labels", "50% of the labels", "30 labels in all (stratified)"]
    with pytest.raises(DataError, match="more than the training split has in any class"):
        check_budgets([51], d)
    reg = Dataset(x=np.zeros((10, 2), dtype=np.float32), y=np.arange(10.0), kind="table", task="regression")
    with pytest.raises(DataError, match="needs a classification target"):
        check_budgets([5], reg)

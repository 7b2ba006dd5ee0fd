"""``fit --validation cv``: choices by K-fold cross-validation inside the budget, then every label trains.

Real data throughout (the breast-cancer and heart-disease tables), small budgets and few epochs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from transferkit.data import Dataset, TransferTask, cv_folds, load_dataset
from transferkit.errors import DataArgumentError
from transferkit.strategies.finetune import FineTune
from transferkit.training import TrainConfig

pytest.importorskip("typer")
from typer.testing import CliRunner  # noqa: E402

from transferkit.cli import app  # noqa: E402

runner = CliRunner()
CV = ["--target", "breast-cancer", "--source", "breast-cancer", "--backbone", "tabmlp?hidden=16", "--seeds", "2",
      "--epochs", "2", "--source-epochs", "2", "--quiet", "--scratch-min-steps", "0", "--no-classical"]


def test_folds_are_stratified_disjoint_and_cover_the_budget(data_root: Path) -> None:
    ds = load_dataset("heart-disease:cleveland")
    ids = ds.subset(np.arange(len(ds)))
    ids.x = np.arange(len(ds)).reshape(-1, 1)  # each row carries its index, to see where it went
    folds = cv_folds(ids, 4, seed=3)
    val = np.concatenate([va.x[:, 0] for _, va in folds])
    assert sorted(val.tolist()) == list(range(len(ds)))  # every example validates exactly once
    for tr, va in folds:
        assert not set(tr.x[:, 0]) & set(va.x[:, 0]) and len(tr) + len(va) == len(ds)
        share = np.bincount(va.y, minlength=2) / np.bincount(ds.y, minlength=2)
        assert np.all(np.abs(share - 0.25) < 0.02)  # each class is dealt evenly round the folds
    again = np.concatenate([va.x[:, 0] for _, va in cv_folds(ids, 4, seed=3)])
    assert np.array_equal(val, again) and not np.array_equal(val, np.concatenate(
        [va.x[:, 0] for _, va in cv_folds(ids, 4, seed=4)]))  # seeded: the seed deals other folds
    few = ds.subset(np.concatenate([np.flatnonzero(ds.y == 0)[:10], np.flatnonzero(ds.y == 1)[:3]]))
    with pytest.raises(DataArgumentError, match="at least 4 labelled examples of every class"):
        cv_folds(few, 4, seed=0)


class _Recorded(FineTune):
    """Fine-tuning that notes what every fit was given (the record is shared by the copies compare makes)."""

    calls: ClassVar[list[tuple[int, int | None, int, bool]]] = []

    def fit(self, model: Any, train_data: Dataset, val_data: Dataset | None, config: TrainConfig,
            callbacks: Any = (), accelerator: Any = None) -> Any:
        type(self).calls.append((len(train_data), None if val_data is None else len(val_data), config.epochs,
                                 config.keep_last))
        return super().fit(model, train_data, val_data, config, callbacks, accelerator)


def test_cv_chooses_on_folds_and_the_final_model_trains_on_every_budget_label(data_root: Path) -> None:
    from transferkit.experiments.compare import compare, pretrain_source

    ds = load_dataset("heart-disease:cleveland")
    src, _ = pretrain_source(ds, "tabmlp?hidden=16", TrainConfig(epochs=2, progress=False))
    task = TransferTask(target=ds, seed=0)
    _Recorded.calls.clear()
    cfg = TrainConfig(epochs=4, progress=False, patience=None)
    res = compare(task, src.backbone, _Recorded(), seeds=[0, 1], budget=12, config=cfg, validation="cv", cv_folds=3,
                  scratch_min_steps=0)
    budget = [task.seed_splits(12, s, holdout=False).train for s in (0, 1)]
    held = [task.seed_splits(12, s) for s in (0, 1)]
    assert [len(b) for b in budget] == [len(h.train) + len(h.val) for h in held] == [24, 24]  # the same labels
    assert res.n_labelled == 24  # the whole budget, as in holdout mode
    assert res.validation["mode"] == "cv" and res.validation["folds"] == 3
    folds, finals = _Recorded.calls[:3], _Recorded.calls[3]
    assert all(v == 8 and n == 16 and e == 4 and not last for n, v, e, last in folds)  # 2 folds train, 1 scores
    n, v, epochs, last = finals
    assert (n, v, last) == (24, None, True)  # no held-out split: every budget label trains the final model
    assert len(_Recorded.calls) == 8  # 3 folds + 1 refit per seed
    cv = res.validation["cv_scores"]["transfer"]
    assert cv == list(res.arms["transfer"].val_scores) and all(0.0 <= s <= 1.0 for s in cv)
    assert 1 <= epochs <= 4  # the refit trains the epoch count the folds' mean curve chose
    assert res.shipped is not None and res.shipped.selected_on == "3-fold CV" and "3-fold CV" in res.shipped.reason
    _Recorded.calls.clear()  # holdout, as before: one fit per seed on the training part, chosen on the held-out part
    hold = compare(task, src.backbone, _Recorded(), seeds=[0, 1], budget=12, config=cfg, scratch_min_steps=0)
    assert _Recorded.calls == [(len(h.train), len(h.val), 4, False) for h in held]
    assert hold.n_labelled == 24 and hold.validation == {"mode": "holdout"} and "cv" not in hold.strategy


def test_fit_cv_runs_end_to_end_and_names_the_mode(tmp_path: Path) -> None:
    r = runner.invoke(app, ["fit", *CV, "--strategy", "auto", "--budgets", "6", "--validation", "cv", "--cv-folds",
                            "3", "--runs", str(tmp_path)])
    assert r.exit_code == 0, r.output
    (run,) = list(tmp_path.iterdir())
    res = json.loads((run / "results.json").read_text())
    assert res["config"]["validation"] == "cv" and res["config"]["cv_folds"] == 3
    comp = res["sections"]["comparison"]
    assert comp["n_labelled"] == 12  # 6 per class, 2 classes: the whole budget
    v = comp["validation"]
    assert v["mode"] == "cv" and v["folds"] == 3 and len(v["cv_scores"]["transfer"]) == 2
    assert v["cv_mean"]["scratch"] == pytest.approx(np.mean(v["cv_scores"]["scratch"]))
    assert comp["transfer"]["val_per_seed"] == v["cv_scores"]["transfer"]
    auto = comp["strategy"]
    assert "3-fold CV" in auto["reason"] and len(auto["trials"]) == 4  # every candidate cross-validated
    cells = json.loads((run / "checkpoint" / "cells.json").read_text())
    assert {(c["n_train"], c["n_val"]) for c in cells.values()} == {(12, 0)}
    assert "3-fold CV" in res["sections"]["shipped"]["reason"]
    html = (run / "report.html").read_text()
    assert "3-fold cross-validation" in html and "mean 3-fold CV accuracy" in html  # the mode, the gate's scores
    assert "3-fold cross-validation" in " ".join(r.output.split())


def test_fold_check_errors_before_training(tmp_path: Path) -> None:
    r = runner.invoke(app, ["fit", *CV, "--budgets", "3", "--validation", "cv", "--runs", str(tmp_path)])
    text = " ".join(r.output.split())
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "at least 5 labelled examples of every class" in text and "--cv-folds 3" in text
    assert "--validation holdout" in text
    assert not any(tmp_path.iterdir())  # nothing ran
    r = runner.invoke(app, ["fit", *CV, "--budgets", "6", "--validation", "cv", "--patience", "2", "--runs",
                            str(tmp_path)])
    assert r.exit_code == 2 and "--patience" in r.output
    r = runner.invoke(app, ["fit", *CV, "--budgets", "6", "--validation", "kfold", "--runs", str(tmp_path)])
    assert r.exit_code == 2 and "holdout, cv" in r.output
    r = runner.invoke(app, ["fit", *CV, "--budgets", "6", "--validation", "cv", "--cv-folds", "1", "--runs",
                            str(tmp_path)])
    assert r.exit_code == 2 and "--cv-folds must be at least 2" in r.output


def test_holdout_is_the_default_and_unchanged(tmp_path: Path) -> None:
    out = {}
    for name, extra in (("default", []), ("holdout", ["--validation", "holdout"])):
        r = runner.invoke(app, ["fit", *CV, "--strategy", "finetune", "--budgets", "6", *extra, "--runs",
                                str(tmp_path / name)])
        assert r.exit_code == 0, r.output
        (run,) = list((tmp_path / name).iterdir())
        out[name] = json.loads((run / "results.json").read_text())
        cells = json.loads((run / "checkpoint" / "cells.json").read_text())
        assert all(c["n_val"] > 0 and "cv" not in c["info"] for c in cells.values())  # a held-out split chose
    a, b = (out[k]["sections"]["comparison"] for k in ("default", "holdout"))
    assert a["validation"] == b["validation"] == {"mode": "holdout"}
    assert (a["transfer"]["per_seed"], a["scratch"]["per_seed"]) == (b["transfer"]["per_seed"], b["scratch"]["per_seed"])
    assert "best mean validation" in out["default"]["sections"]["shipped"]["reason"]


@pytest.mark.slow
def test_a_stopped_cv_run_resumes_to_the_same_figures(tmp_path: Path) -> None:
    """auto's CV choice and scratch's CV learning rate come back from the journal, so the seed fitted after
    the resume is the seed an uninterrupted run fits."""
    from transferkit.experiments.fit import resume_fit, run_fit

    kw: dict[str, Any] = dict(budgets="6", seeds=2, source="breast-cancer", epochs=2, source_epochs=2,
                              scratch_min_steps=0, classical=False, validation="cv", cv_folds=3)
    whole = run_fit("breast-cancer", "tabmlp?hidden=16", "auto", run_dir=tmp_path / "whole", **kw)
    run_fit("breast-cancer", "tabmlp?hidden=16", "auto", run_dir=tmp_path / "stopped", **kw)
    cells_file = tmp_path / "stopped" / "checkpoint" / "cells.json"
    cells = json.loads(cells_file.read_text())
    cells_file.write_text(json.dumps({k: c for k, c in cells.items() if "seed=1" not in k}))  # stopped after seed 0
    resumed = resume_fit(tmp_path / "stopped")
    a, b = (r["sections"]["comparison"] for r in (whole, resumed))
    assert b["validation"] == a["validation"] and b["validation"]["mode"] == "cv"
    assert (b["transfer"]["per_seed"], b["scratch"]["per_seed"]) == (a["transfer"]["per_seed"], a["scratch"]["per_seed"])
    assert b["strategy"]["reason"] == a["strategy"]["reason"]

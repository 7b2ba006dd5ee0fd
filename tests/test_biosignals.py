"""Cross-subject transfer for signals: few-shot splits, the protocol on synthetic subjects, UCI HAR (slow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from transferkit.biosignals import (
    CrossSubjectConfig,
    label_efficiency,
    run_cross_subject,
    run_har,
    subject_few_shot_split,
)
from transferkit.data import Dataset
from transferkit.errors import DataError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _subjects(n_subjects: int = 4, per_class: int = 30, seed: int = 0) -> Dataset:
    """Synthetic 3-class, 3-channel signals: class = which channel oscillates; each subject has its own
    channel gains and offsets (the cross-subject shift)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 4 * np.pi, 32)
    xs, ys, gs = [], [], []
    for s in range(1, n_subjects + 1):
        gain, offset = rng.uniform(0.5, 2.0, size=(3, 1)), rng.normal(0, 2, size=(3, 1))
        for c in range(3):
            x = rng.normal(0, 0.3, size=(per_class, 3, 32))
            x[:, c, :] += np.sin(t + rng.uniform(0, np.pi, size=(per_class, 1)))
            xs.append(x * gain + offset)
            ys.append(np.full(per_class, c))
            gs.append(np.full(per_class, s))
    return Dataset(x=np.concatenate(xs).astype(np.float32), y=np.concatenate(ys), kind="signal",
                   class_names=("a", "b", "c"), groups=np.concatenate(gs), name="toy-subjects")


def test_few_shot_split_sizes_disjoint_and_nested() -> None:
    ds = _subjects(1, per_class=30)
    parts = subject_few_shot_split(ds, 5, seed=0, test_fraction=0.3, val_per_class=4)
    assert np.bincount(parts.train.y).tolist() == [5, 5, 5]
    assert np.bincount(parts.val.y).tolist() == [4, 4, 4]
    assert np.bincount(parts.test.y).tolist() == [9, 9, 9]
    rows = {p: {a.tobytes() for a in getattr(parts, p).x} for p in ("train", "val", "test")}
    assert not (rows["train"] & rows["val"]) and not (rows["train"] & rows["test"]) and not (rows["val"] & rows["test"])
    bigger = subject_few_shot_split(ds, 10, seed=0, test_fraction=0.3, val_per_class=4)
    assert rows["train"] < {a.tobytes() for a in bigger.train.x}  # nested: k = 10 adds to the k = 5 windows
    assert {a.tobytes() for a in bigger.test.x} == rows["test"]  # same test windows for every k of a seed
    assert {a.tobytes() for a in bigger.val.x} == rows["val"]
    other = subject_few_shot_split(ds, 5, seed=1, test_fraction=0.3, val_per_class=4)
    assert {a.tobytes() for a in other.test.x} != rows["test"]


def test_few_shot_split_errors() -> None:
    ds = _subjects(1, per_class=10)
    with pytest.raises(DataError, match="fewer than"):
        subject_few_shot_split(ds, 8, seed=0, test_fraction=0.3)
    with pytest.raises(DataError, match=">= 1"):
        subject_few_shot_split(ds, 0, seed=0)


def test_config_rejects_overlap_and_bad_norm() -> None:
    with pytest.raises(DataError, match="both source and target"):
        CrossSubjectConfig(source_subjects=(1, 2), target_subjects=(2, 3))
    with pytest.raises(DataError, match="norm"):
        CrossSubjectConfig(norm="zscore")


def test_protocol_on_synthetic_subjects(tmp_path) -> None:
    ds = _subjects(4, per_class=30)
    cfg = CrossSubjectConfig(source_subjects=(1, 2, 3), target_subjects=(4,), shots=(1, 5), seeds=2, norm="channel",
                             backbone="signalcnn?in_channels=3&width=8&num_features=16", source_epochs=8,
                             target_epochs=6, patience=6, val_per_class=3)
    res = run_har(ds, cfg)  # what `transferkit har` runs: run_cross_subject + the results dict
    sec = res["sections"]["biosignals"]
    assert res["command"] == "har" and res["seeds"] == [0, 1] and res["data"]["dataset"]["name"] == "toy-subjects"
    assert sec["source"]["val_accuracy"] > 0.8  # the shift is removed by per-subject normalisation
    assert [s["k"] for s in sec["summary"]] == [1, 5]
    for row in sec["per_subject"]:
        assert row["subject"] == 4 and len(row["transfer"]["per_seed"]) == 2
        assert row["verdict"] in ("positive", "inconclusive", "negative")
        # the source-only arm is the same model on the same test windows for every k of a seed
        assert row["source_only"]["per_seed"] == sec["per_subject"][0]["source_only"]["per_seed"]
    s1 = sec["summary"][0]
    assert sum(s1["verdict_counts"].values()) == 1
    assert s1["source_only"]["mean"] > 0.6
    le = label_efficiency(sec)
    assert le["budgets"] == [1, 5] and len(le["transfer"]["mean"]) == 2
    assert res["sections"]["label_efficiency"] == le

    from rich.console import Console

    from transferkit.reports.run import finish_run

    out = Console(record=True, width=200)
    finish_run(tmp_path, res, out=out)
    text = out.export_text()
    assert "Cross-subject transfer, toy-subjects: mean accuracy over 1 held-out subjects" in text
    assert (tmp_path / "results.json").exists() and (tmp_path / "report.html").exists()


@pytest.mark.parametrize("norm", ["channel", "channel+ea"])
def test_har_ships_one_model_per_subject_that_reproduces_it_on_raw_windows(tmp_path, norm: str) -> None:
    from transferkit.data.signal_transforms import normalize_dataset
    from transferkit.experiments.predict import load_model, run_predict

    ds = _subjects(4, per_class=30, seed=3)
    cfg = CrossSubjectConfig(source_subjects=(1, 2), target_subjects=(3, 4), shots=(1, 3), seeds=2, norm=norm,
                             backbone="signalcnn?in_channels=3&width=4&num_features=8", source_epochs=2,
                             target_epochs=2, patience=2, val_per_class=3)
    res = run_har(ds, cfg, run_dir=tmp_path / "run", save=tmp_path / "saved")
    sh = res["sections"]["shipped"]
    assert set(sh["subjects"]) == {"3", "4"} and sh["model"] == str(tmp_path / "run" / "models")
    for subject, d in sh["subjects"].items():
        folder = tmp_path / "run" / "models" / f"subject-{subject}"
        assert d["model"] == str(folder) and (tmp_path / "saved" / f"subject-{subject}" / "model_card.json").is_file()
        sm = load_model(folder)
        raw = ds.subset(np.flatnonzero(ds.groups == int(subject)))
        # the stored normalisation turns raw windows into exactly what the run trained and scored on
        assert np.array_equal(sm.input_transform(raw.x), normalize_dataset(raw, norm).x)
        card = sm.card
        assert card["input_transform"]["method"] == norm and card["evaluation"]["k_per_class"] == 3
        rows = np.asarray(card["evaluation"]["test_rows"])
        summary = run_predict(sm, raw.subset(rows), tmp_path / "p.csv")
        assert summary["accuracy"] == pytest.approx(d["test_seed"], abs=1e-12)
        row = next(r for r in res["sections"]["biosignals"]["per_subject"] if r["subject"] == int(subject)
                   and r["k"] == 3)
        assert row[d["arm"]]["per_seed"][res["seeds"].index(d["seed"])] == d["test_seed"]


def test_missing_subject_is_an_error() -> None:
    with pytest.raises(DataError, match="not in"):
        run_cross_subject(_subjects(2), CrossSubjectConfig(source_subjects=(1,), target_subjects=(9,)))


@pytest.mark.slow
def test_har_cross_subject_small() -> None:
    if not (DATA / "uci_har_adatime").exists():
        pytest.skip(f"UCI HAR is not at {DATA / 'uci_har_adatime'}")
    from transferkit.data import load_dataset

    cfg = CrossSubjectConfig(source_subjects=(1, 2, 3, 4, 5), target_subjects=(21,), shots=(1, 10), seeds=2,
                             norm="ea", source_epochs=5, target_epochs=8)
    sec = run_cross_subject(load_dataset("uci-har", root=DATA), cfg)
    assert sec["source"]["val_accuracy"] > 0.8
    assert sec["summary"][0]["source_only"]["mean"] > 1 / 6 + 0.2  # well above chance across people
    assert sec["summary"][-1]["transfer"]["mean"] > 0.7


@pytest.mark.slow
def test_har_per_subject_model_on_uci_har_raw_windows(tmp_path) -> None:
    if not (DATA / "uci_har_adatime").exists():
        pytest.skip(f"UCI HAR is not at {DATA / 'uci_har_adatime'}")
    from typer.testing import CliRunner

    from transferkit.cli import app
    from transferkit.data import load_dataset
    from transferkit.experiments.predict import load_model, run_predict

    cfg = CrossSubjectConfig(source_subjects=(1, 2, 3, 4, 5), target_subjects=(21,), shots=(5,), seeds=2,
                             norm="channel", source_epochs=3, target_epochs=4)
    res = run_har(load_dataset("uci-har", root=DATA), cfg, run_dir=tmp_path / "run")
    d = res["sections"]["shipped"]["subjects"]["21"]
    sm = load_model(d["model"])
    raw = load_dataset("uci-har:21", root=DATA)  # the subject's raw windows, as a user has them
    test = raw.subset(np.asarray(sm.card["evaluation"]["test_rows"]))
    assert run_predict(sm, test, tmp_path / "p.csv")["accuracy"] == pytest.approx(d["test_seed"], abs=1e-12)
    assert sm.card["evaluation"]["data"] == "uci-har:21"
    r = CliRunner().invoke(app, ["predict", d["model"], "uci-har:21", "--data-root", str(DATA), "--out",
                                 str(tmp_path / "all.csv")])
    assert r.exit_code == 0 and f"{len(raw)} predictions written" in " ".join(r.output.split()), r.output

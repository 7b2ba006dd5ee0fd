"""``transferkit adapt`` ships the recommended model: loadable by ``tk.load_model`` and ``transferkit predict``,
whose predictions on the run's target test rows give back the report's figure; shallow methods as fitted
estimators (safetensors + JSON, no pickle), deep methods as networks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from transferkit.cli import app


@pytest.fixture(autouse=True)
def _one_blas_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def _adapt(tmp_path: Path, *args: str) -> tuple[Path, dict]:
    r = CliRunner().invoke(app, ["adapt", *args, "--quiet", "--runs", str(tmp_path / "runs")])
    assert r.exit_code == 0, r.output
    (run,) = list((tmp_path / "runs").iterdir())
    return run, json.loads((run / "results.json").read_text())


def _test_rows(source: str, target: str, labels: int):
    from transferkit.adaptation.run import _data

    return _data(source, target, None, labels)[2]


def test_shallow_adapt_ships_the_recommended_estimator_and_predict_gives_the_reported_figure(data_root,
                                                                                               tmp_path: Path) -> None:
    from transferkit.experiments.predict import ShippedEstimator, load_model

    src, tgt = "office-caltech10-surf:dslr", "office-caltech10-surf:webcam"
    run, res = _adapt(tmp_path, "--source", src, "--target", tgt, "--method", "coral", "--seeds", "2",
                      "--target-labels", "3", "--save", str(tmp_path / "saved"))
    sh, sec = res["sections"]["shipped"], res["sections"]["adaptation"]
    assert sh["arm"] == sec["recommended"] and sh["model"] == str(run / "model")
    # the weights are the recommended model's seed with the best target validation accuracy, never a test figure
    val = {r["seed"]: r["target_val_accuracy"] for r in sec["rows"] if r["model"] == sh["arm"]}
    assert val[sh["seed"]] == max(val.values()) and sh["select_metric"] == "target_val_accuracy"
    sm = load_model(run / "model")
    assert isinstance(sm, ShippedEstimator) and len(sm.classes_) == 10
    assert not list(run.rglob("*.pkl")) and not list(run.rglob("*.pickle"))
    test = _test_rows(src, tgt, 3)
    out = tmp_path / "pred.csv"
    r = CliRunner().invoke(app, ["predict", str(tmp_path / "saved"), str(_csv(test, tmp_path)), "--out", str(out)])
    assert r.exit_code == 0, r.output
    rows = out.read_text().splitlines()
    assert len(rows) == len(test) + 1 and rows[0].startswith("row_id,label,p_back_pack")
    acc = float(np.mean([line.split(",")[1] == line.split(",")[-1] for line in rows[1:]]))
    assert acc == pytest.approx(sh["test_seed"], abs=1e-12)  # the report's figure for the shipped weights
    assert sm.predict(test).tolist() == [line.split(",")[1] for line in rows[1:]]
    assert sm.embed(test).shape == (len(test), 800)
    card = json.loads((run / "model" / "model_card.json").read_text())
    assert card["format"] == "estimator" and card["selection"]["verdict"] == sec["verdict"]
    assert set(card["selection"]["label_free_choice"]) == set(sec["label_free_choice"])
    md = (run / "model" / "MODEL_CARD.md").read_text()
    assert "## Selection evidence" in md and "Caveat of prediction_entropy" in md and "CORAL" in md


def _csv(ds, tmp_path: Path) -> Path:
    """A labelled feature table as a user would have it (columns by name, a label column)."""
    import pandas as pd

    df = pd.DataFrame(ds.x, columns=[f"f{i}" for i in range(ds.x.shape[1])])
    df["label"] = [ds.class_names[i] for i in ds.y]
    path = tmp_path / "webcam_test.csv"
    df.to_csv(path, index=False)
    return path


def test_unverified_adapt_ships_source_only_and_says_why(data_root, tmp_path: Path) -> None:
    from transferkit.experiments.predict import load_model

    src, tgt = "office-caltech10-surf:webcam", "office-caltech10-surf:dslr"
    run, res = _adapt(tmp_path, "--source", src, "--target", tgt, "--method", "tca", "--seeds", "1")
    sh = res["sections"]["shipped"]
    assert sh["arm"] == "source-only" and sh["select_metric"] == "importance_weighted_accuracy"
    assert "unverified" in sh["headline"] and "label-free scores chose" in sh["reason"]
    sm = load_model(run / "model")
    test = _test_rows(src, tgt, 0)
    pred = sm.predict(test)
    truth = np.asarray(test.class_names, dtype=object)[test.y]
    assert float(np.mean(pred == truth)) == pytest.approx(sh["test_seed"], abs=1e-12)
    assert "SourceOnly" in sm.card["estimator"]["class"]
    pytest.importorskip("onnx")
    r = CliRunner().invoke(app, ["export", str(run / "model"), "--format", "onnx"])
    assert r.exit_code == 2 and "ONNX export does not cover" in " ".join(r.output.split()), r.output


def test_deep_adapt_ships_a_network_that_predicts_and_transfers_again(data_root, tmp_path: Path) -> None:
    from transferkit.backbones import create_backbone
    from transferkit.experiments.predict import ShippedModel, load_model, run_predict

    src, tgt = "mnist-usps-jda:mnist", "mnist-usps-jda:usps"
    run, res = _adapt(tmp_path, "--source", src, "--target", tgt, "--method", "dann", "--seeds", "2", "--steps", "20",
                      "--batch-size", "16", "--target-labels", "2")
    sh = res["sections"]["shipped"]
    sm = load_model(run / "model")
    assert isinstance(sm, ShippedModel) and sm.card["architecture"]["provider"] == "lenet"
    test = _test_rows(src, tgt, 2)
    summary = run_predict(sm, test, tmp_path / "p.csv")
    assert summary["accuracy"] == pytest.approx(sh["test_seed"], abs=1e-12)
    row = next(r for r in res["sections"]["adaptation"]["rows"] if r["model"] == sh["arm"] and r["seed"] == sh["seed"])
    assert row["target_accuracy"] == sh["test_seed"]
    bb = create_backbone(f"model:{run / 'model'}")  # the shipped network is a backbone for the next transfer
    assert bb.num_features == 500 and bb.input_kind == "image"


def test_every_shallow_method_round_trips_exactly_and_only_known_classes_load(tmp_path: Path) -> None:
    from transferkit.adaptation._info import SHALLOW_METHODS
    from transferkit.adaptation.shallow import stack_domains
    from transferkit.errors import BackboneError
    from transferkit.experiments.estimator_folder import load_estimator_folder, rebuild_estimator, save_estimator

    rng = np.random.default_rng(0)
    xs = rng.normal(size=(80, 6))
    ys = (xs[:, 0] + 0.3 * xs[:, 1] > 0).astype(int) + (xs[:, 2] > 1)
    xt = rng.normal(size=(60, 6)) * 1.5 + 0.5
    for name in SHALLOW_METHODS.names():
        kwargs = {"kernel": "rbf"} if name == "tca" else {}
        est = SHALLOW_METHODS.get(name)(**kwargs).fit(*stack_domains(xs, ys, xt))
        save_estimator(tmp_path / name, est, {"name": name}, class_names=["a", "b", "c"])
        back, card = load_estimator_folder(tmp_path / name)
        assert np.array_equal(back.predict_proba(xt), est.predict_proba(xt)), name
        assert card["class_names"] == ["a", "b", "c"]
    # a card can only name scikit-learn or transferkit shallow-adaptation classes
    for bad in ("os.system", "subprocess.Popen", "transferkit.cli.app"):
        with pytest.raises(BackboneError, match="is not one a model folder may hold"):
            rebuild_estimator({"class": bad, "params": {}, "fitted": {}}, {})
    # an edited weights file is refused like any model folder
    w = tmp_path / "coral" / "model.safetensors"
    data = bytearray(w.read_bytes())
    data[-3] ^= 0xFF
    w.write_bytes(bytes(data))
    with pytest.raises(BackboneError, match="does not match its card"):
        load_estimator_folder(tmp_path / "coral")

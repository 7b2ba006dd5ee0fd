"""Semi-supervised DA: ``--target-labels N`` train (half of each class) and select (the other half), never both."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from transferkit.adaptation import SHALLOW_METHODS
from transferkit.adaptation.run import split_target_labels
from transferkit.adaptation.shallow import stack_domains
from transferkit.cli import adapt_cmd  # noqa: F401  (registers the command)
from transferkit.cli._app import app
from transferkit.data import load_dataset
from transferkit.data.splits import per_class_indices
from transferkit.errors import DataError


@pytest.fixture(autouse=True)
def _one_thread():
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield


def test_split_halves_each_class_and_never_overlaps() -> None:
    y = np.array([0] * 5 + [1] * 4 + [2] * 1)
    tr, sel = split_target_labels(y, seed=0)
    assert set(tr).isdisjoint(sel) and sorted([*tr, *sel]) == list(range(len(y)))
    assert [int(np.sum(y[tr] == c)) for c in (0, 1, 2)] == [2, 2, 0]  # floor half; a lone example only selects
    np.testing.assert_array_equal(tr, split_target_labels(y, seed=0)[0])
    assert any(not np.array_equal(tr, split_target_labels(y, seed=s)[0]) for s in range(1, 5))


def _office(pair: tuple[str, str], data_root: Path):
    s = load_dataset(f"office-caltech10-surf:{pair[0]}", root=data_root)
    t = load_dataset(f"office-caltech10-surf:{pair[1]}", root=data_root)
    return s, t


@pytest.mark.parametrize("method", ["source_only", "coral", "importance_weighting"])
def test_shallow_labelled_target_rows_join_the_classifier(data_root: Path, method: str) -> None:
    s, t = _office(("amazon", "webcam"), data_root)
    few = per_class_indices(t.y, 2, seed=0)
    X, y, sd = stack_domains(s.x, s.y, t.x)
    plain = SHALLOW_METHODS.get(method)().fit(X, y, sd)
    semi = SHALLOW_METHODS.get(method)().fit(X, y, sd, labelled_target=(t.x[few], t.y[few]))
    # the labelled rows train: the model changes and fits them better than without them
    assert not np.allclose(plain.predict_proba(t.x), semi.predict_proba(t.x))
    assert np.mean(semi.predict(t.x[few]) == t.y[few]) > np.mean(plain.predict(t.x[few]) == t.y[few])
    assert semi.labelled_weight_ == pytest.approx(0.5 * len(s.y) / len(few))
    if method == "importance_weighting":  # the method's own weights stay source-only
        assert len(semi.source_weights_) == len(s.y)


def test_shallow_labelled_rows_are_repeated_for_a_classifier_without_weights(data_root: Path) -> None:
    from sklearn.neighbors import KNeighborsClassifier

    s, t = _office(("amazon", "webcam"), data_root)
    few = per_class_indices(t.y, 1, seed=0)
    X, y, sd = stack_domains(s.x, s.y, t.x)
    knn = SHALLOW_METHODS.get("coral")(base_estimator=KNeighborsClassifier(1))
    knn.fit(X, y, sd, labelled_target=(t.x[few], t.y[few]), labelled_weight=3)
    assert len(knn.estimator_._fit_X) == len(s.y) + 3 * len(few)
    with pytest.raises(DataError, match="classes the source does not have"):
        knn.fit(X, y, sd, labelled_target=(t.x[few], t.y[few] + 100))


def test_deep_loop_trains_on_the_labelled_target_stream(data_root: Path) -> None:
    from transferkit.adaptation import DEEP_METHODS
    from transferkit.adaptation.deep import AdaptationNetwork, DeepConfig, LeNet, predict_outputs, train_adaptation

    src = load_dataset("mnist-usps-jda:mnist", root=data_root)
    tgt = load_dataset("mnist-usps-jda:usps", root=data_root)
    prep = LeNet(image_size=16).prepare
    xs, xt = prep(src.x[:600]), prep(tgt.x)
    few = per_class_indices(tgt.y, 3, seed=0)
    rest = np.setdiff1d(np.arange(len(tgt.y)), few)
    acc = {}
    for use in (False, True):
        torch.manual_seed(0)
        net = AdaptationNetwork(LeNet(image_size=16), 10)
        res = train_adaptation(net, DEEP_METHODS.get("dann")(), xs, src.y[:600], xt,
                               DeepConfig(steps=120, batch_size=32, log_every=60),
                               labelled_target=(xt[few], tgt.y[few]) if use else None)
        assert ("target_labelled_ce" in res.history[-1]) == use
        acc[use] = float(np.mean(predict_outputs(net, xt[rest])[1].argmax(1) == tgt.y[rest]))
    # 30 labelled USPS digits move the network: better on the other USPS digits than without them
    assert acc[True] > acc[False] + 0.02, acc


def test_adapt_cli_splits_the_target_labels_and_trains_on_half(data_root: Path, tmp_path: Path) -> None:
    out = {}
    for flag in ("--train-on-target-labels", "--select-only"):
        runs = tmp_path / flag
        res = CliRunner().invoke(app, ["adapt", "--source", "office-caltech10-surf:amazon", "--target",
                                       "office-caltech10-surf:webcam", "--method", "coral", "--seeds", "1",
                                       "--target-labels", "4", flag, "--data-root", str(data_root),
                                       "--runs", str(runs)])
        assert res.exit_code == 0, res.output
        (run_dir,) = [p for p in runs.iterdir() if p.is_dir()]
        out[flag] = json.loads((run_dir / "results.json").read_text())
    on, off = out["--train-on-target-labels"], out["--select-only"]
    use = on["sections"]["adaptation"]["target_labels_use"]
    assert use["train_on_target_labels"] and on["config"]["train_on_target_labels"] is True
    assert set(use["train_rows"]).isdisjoint(use["select_rows"])  # training examples never select
    assert len(use["train_rows"]) == len(use["select_rows"]) == 20  # 4 per class, 10 classes: 2 + 2
    assert on["data"]["target_val"]["n"] == 20 and on["data"]["target_train"]["n"] == 20
    assert off["data"]["target_val"]["n"] == 40 and off["data"]["target_train"] is None
    assert off["sections"]["adaptation"]["target_labels_use"]["train_rows"] == []
    # the same 40 examples in both runs; the verdict's evidence is only the select half
    assert sorted(use["train_rows"] + use["select_rows"]) == \
        off["sections"]["adaptation"]["target_labels_use"]["select_rows"]
    for r in on["sections"]["adaptation"]["rows"]:
        assert r["target_val_accuracy"] is not None
    acc = {name: {r["model"]: r["target_accuracy"] for r in d["sections"]["adaptation"]["rows"]}
           for name, d in (("on", on), ("off", off))}
    # training on 20 labelled webcam images lifts both models on the held-out webcam test rows
    assert acc["on"]["source-only"] > acc["off"]["source-only"] and acc["on"]["coral"] > acc["off"]["coral"], acc
    assert on["sections"]["adaptation"]["target_only"]["n_target_labels"] == 40  # target-only: every label


def test_adapt_fits_with_one_blas_thread_and_cells_read_raw_images(images, tiny_cnn) -> None:
    """Shallow methods on raw images: each cell's probabilities go through the frozen encoder (the CLI's test
    accuracy reads them), and the fits run on one BLAS thread (many spin-waiting threads made a shared
    2-core machine ~10x slower)."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from transferkit.adaptation import adapt

    src, tgt = images(60, seed=0), images(60, seed=1)
    seen: list[tuple[int, float]] = []

    def on_cell(c) -> None:
        blas = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
        seen.append((max(blas), float(np.mean(c.proba(tgt.x).argmax(1) == tgt.y))))

    with threadpool_limits(2, user_api="blas"):
        adapt(src, tgt.x, "coral", backbone=tiny_cnn, on_cell=on_cell)
        assert max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas") == 2  # restored
    assert len(seen) == 2 and all(n == 1 for n, _ in seen)
    assert all(0.0 <= acc <= 1.0 for _, acc in seen)

"""Shallow domain adaptation: behaviour on shifts where the answer is known, real features, bad input."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from transferkit.adaptation import SHALLOW_METHODS, MethodInfo
from transferkit.adaptation.api import adapt
from transferkit.adaptation.selection import (
    adaptation_verdict,
    importance_weighted_accuracy,
    prediction_entropy,
    select,
    soft_neighborhood_density,
)
from transferkit.adaptation.shallow import (
    CORAL,
    JDA,
    KMM,
    TCA,
    ImportanceWeighting,
    JointReweight,
    SourceOnly,
    SubspaceAlignment,
    domain_classifier_weights,
    kmm_weights,
    stack_domains,
)
from transferkit.errors import DataError, UnknownName


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Two shared cores: oversubscribed BLAS threads make eigen-solvers 10x slower."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def blobs(n: int, centers: np.ndarray, scale: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points per centre, isotropic noise."""
    x = np.vstack([c + scale * rng.standard_normal((n, len(c))) for c in centers])
    y = np.repeat(np.arange(len(centers)), n)
    return x, y


def translated(seed: int = 0, shift: float = 4.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two classes split along x1; the target is the source moved by ``shift`` along x1 and scaled."""
    rng = np.random.default_rng(seed)
    centers = np.array([[-1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    xs, ys = blobs(150, centers, 0.5, rng)
    xt, yt = blobs(150, centers, 0.5, rng)
    xt = xt * np.array([2.0, 1.0, 1.0]) + np.array([shift, 0.0, 0.0])
    return xs, ys, xt, yt


def test_registry_lists_every_method_with_info() -> None:
    expected = {
        "source_only",
        "coral",
        "subspace_alignment",
        "importance_weighting",
        "kmm",
        "tca",
        "jda",
        "joint_reweight",
    }
    assert expected <= set(SHALLOW_METHODS.names())
    for entry in SHALLOW_METHODS:
        assert isinstance(entry.info, MethodInfo) and entry.info.reference
    assert any(e.info.against_negative_transfer for e in SHALLOW_METHODS)


def test_coral_with_centring_fixes_a_translation_and_without_it_does_not() -> None:
    xs, ys, xt, yt = translated()
    X, y, sd = stack_domains(xs, ys, xt)
    so = SourceOnly().fit(X, y, sd).score(xt, yt)
    centred = CORAL().fit(X, y, sd).score(xt, yt)
    uncentred = CORAL(center=False).fit(X, y, sd).score(xt, yt)
    assert so < 0.65
    assert centred > 0.95
    assert uncentred < 0.65


def test_subspace_alignment_fixes_a_translation() -> None:
    xs, ys, xt, yt = translated(seed=1)
    X, y, sd = stack_domains(xs, ys, xt)
    so = SourceOnly().fit(X, y, sd).score(xt, yt)
    assert SubspaceAlignment(n_components=2).fit(X, y, sd).score(xt, yt) > so + 0.3


def test_tca_shrinks_the_gap_between_domain_means() -> None:
    rng = np.random.default_rng(2)
    xs = rng.standard_normal((100, 5))
    xt = rng.standard_normal((100, 5)) + np.array([0, 0, 0, 0, 6.0])
    ys = (xs[:, 0] > 0).astype(int)
    X, y, sd = stack_domains(xs, ys, xt)
    tca = TCA(n_components=3).fit(X, y, sd)
    zs = tca.transform(xs, sample_domain=np.ones(100, dtype=np.int64))
    zt = tca.transform(xt)
    raw_gap = np.linalg.norm(xs.mean(0) - xt.mean(0)) / xs.std()
    emb_gap = np.linalg.norm(zs.mean(0) - zt.mean(0)) / zs.std()
    assert emb_gap < 0.2 * raw_gap
    assert tca.score(xt, (xt[:, 0] > 0).astype(int)) > 0.8  # the class direction survived


def test_importance_weights_follow_the_true_density_ratio() -> None:
    rng = np.random.default_rng(3)
    xs = rng.normal(0.0, 1.0, (600, 1))
    xt = rng.normal(1.0, 0.5, (600, 1))
    w = domain_classifier_weights(xs, xt, C=1.0)
    true = np.exp(-((xs[:, 0] - 1) ** 2) / (2 * 0.25)) / 0.5 / np.exp(-(xs[:, 0] ** 2) / 2)
    assert np.corrcoef(np.log(w), np.log(true))[0, 1] > 0.85
    assert w.mean() == pytest.approx(1.0)
    assert w.max() <= 10.0 + 1e-9


def test_kmm_weighted_source_mean_moves_to_the_target_mean() -> None:
    rng = np.random.default_rng(4)
    xs = rng.normal(0.0, 1.0, (300, 2))
    xt = rng.normal(0.7, 0.6, (200, 2))
    w = kmm_weights(xs, xt)
    assert np.all(w >= 0)
    before = np.linalg.norm(xs.mean(0) - xt.mean(0))
    after = np.linalg.norm((w[:, None] * xs).sum(0) / w.sum() - xt.mean(0))
    assert after < 0.3 * before


def test_reweighting_estimators_pass_weights_to_the_classifier() -> None:
    rng = np.random.default_rng(5)
    xs, ys = blobs(100, np.array([[-1.0, 0.0], [1.0, 0.0]]), 0.7, rng)
    xt = rng.normal([0.8, 0.0], 0.4, (80, 2))
    X, y, sd = stack_domains(xs, ys, xt)
    for est in (ImportanceWeighting(), KMM(), JointReweight()):
        est.fit(X, y, sd)
        assert est.source_weights_ is not None and len(est.source_weights_) == 200
        assert est.source_weights_.std() > 0  # not the trivial all-ones weighting


def test_joint_reweight_downweights_a_source_class_absent_from_the_target() -> None:
    """Partial transfer: source class 2 does not exist in the target, a cause of negative transfer."""
    rng = np.random.default_rng(6)
    centers = np.array([[-3.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    xs, ys = blobs(100, centers, 0.8, rng)
    xt, _ = blobs(100, centers[:2], 0.8, rng)
    X, y, sd = stack_domains(xs, ys, xt)
    w = JointReweight().fit(X, y, sd).source_weights_
    assert w[ys == 2].mean() < 0.3 * w[ys != 2].mean()


def test_target_labels_in_y_are_never_read() -> None:
    xs, ys, xt, yt = translated(seed=7)
    X = np.vstack([xs, xt])
    sd = np.r_[np.ones(len(xs), dtype=np.int64), -2 * np.ones(len(xt), dtype=np.int64)]
    masked = np.r_[ys, -np.ones(len(xt), dtype=np.int64)]
    leaked = np.r_[ys, yt]
    for name in ("coral", "jda", "joint_reweight", "importance_weighting"):
        cls = SHALLOW_METHODS.get(name)
        a = cls().fit(X, masked, sd).predict_proba(xt)
        b = cls().fit(X, leaked, sd).predict_proba(xt)
        np.testing.assert_allclose(a, b)


def test_sample_domain_is_inferred_from_masked_labels() -> None:
    xs, ys, xt, yt = translated(seed=8)
    X, y, sd = stack_domains(xs, ys, xt)
    a = CORAL().fit(X, y).predict(xt)
    b = CORAL().fit(X, y, sd).predict(xt)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "X, y, sd, match",
    [
        (np.array([[np.nan, 1.0], [0.0, 1.0], [1.0, 1.0]]), [0, 1, -1], None, "NaN"),
        (np.zeros(4), [0, 1, -1, -1], None, "2-D"),
        (np.zeros((4, 2)), [0, 1, -1], None, "rows but"),
        (np.zeros((4, 2)), [0, 1, 0, 1], None, "no target rows"),
        (np.zeros((4, 2)), [0, 0, -1, -1], None, "single class"),
        (np.zeros((4, 2)), [0, 1, -1, -1], [1, 0, -2, -2], "ambiguous"),
        (np.zeros((4, 2)), [0, 1, -1, -1], [1, 1, -2], "entries"),
        (np.zeros((4, 2)), [0, 1.5, -1, -1], [1, 1, -2, -2], "integers"),
    ],
)
def test_bad_input_gets_a_clear_error(X, y, sd, match) -> None:
    with pytest.raises(DataError, match=match):
        CORAL().fit(X, y, sd)


def test_predict_checks_width_and_fit_state() -> None:
    xs, ys, xt, _ = translated()
    with pytest.raises(DataError, match="not fitted"):
        CORAL().predict(xt)
    est = CORAL().fit(*stack_domains(xs, ys, xt))
    with pytest.raises(DataError, match="features"):
        est.predict(xt[:, :2])


def test_label_free_scores_and_their_blind_spot() -> None:
    confident = np.eye(3)[np.arange(30) % 3]
    uniform = np.full((30, 3), 1 / 3)
    collapsed = np.tile([1.0, 0.0, 0.0], (30, 1))
    assert prediction_entropy(confident) > prediction_entropy(uniform)
    # the caveat in action: a model that predicts one class for everything scores as well as a perfect one
    assert prediction_entropy(collapsed) == pytest.approx(prediction_entropy(confident))
    assert np.isfinite(soft_neighborhood_density(confident))
    y = np.array([0, 1, 1])
    p = np.eye(2)[[0, 1, 0]]
    assert importance_weighted_accuracy(y, p, np.array([1.0, 1.0, 0.0])) == 1.0
    assert importance_weighted_accuracy(y, p, np.array([0.0, 0.0, 1.0])) == 0.0
    assert select({"source-only": {"s": 1.0}, "coral": {"s": 1.0}}, "s") == "source-only"
    assert select({"source-only": {"s": 0.5}, "coral": {"s": 1.0}}, "s") == "coral"


def test_verdict_says_negative_transfer_and_recommends_source_only() -> None:
    rng = np.random.default_rng(0)
    good = (rng.random((3, 40)) < 0.9).astype(float)
    bad = (rng.random((3, 40)) < 0.4).astype(float)
    v = adaptation_verdict("coral", bad, good)
    assert v.verdict == "negative transfer" and v.recommended == "source-only"
    assert "worse than source-only" in v.advice
    v = adaptation_verdict("coral", good, bad)
    assert v.verdict == "adaptation helped" and v.recommended == "coral"
    v = adaptation_verdict("coral", good[:, :3], good[:, 3:6])
    assert v.verdict == "inconclusive"
    assert adaptation_verdict("coral", None, None).verdict == "unverified"


def test_adapt_flags_harmful_adaptation_with_a_few_target_labels() -> None:
    """SA with one component keeps the high-variance, class-irrelevant axis: adaptation hurts."""
    rng = np.random.default_rng(9)
    n = 200
    ys = np.repeat([0, 1], n // 2)
    xs = np.c_[np.where(ys == 1, 1.0, -1.0) + 0.3 * rng.standard_normal(n), 5 * rng.standard_normal(n)]
    yt = np.repeat([0, 1], n // 2)
    xt = np.c_[np.where(yt == 1, 1.0, -1.0) + 0.3 * rng.standard_normal(n), 5 * rng.standard_normal(n)]
    val = np.r_[0:5, 100:105]
    res = adapt((xs, ys), xt, "subspace_alignment", n_components=1, target_val=(xt[val], yt[val]), seeds=[0, 1, 2])
    assert res.verdict.verdict == "negative transfer"
    assert res.verdict.recommended == "source-only"
    rows = res.evaluate(xt, yt)
    acc = {r["model"]: r["target_accuracy"] for r in rows if r["seed"] == 0}
    assert acc["source-only"] > acc["subspace_alignment"] + 0.2
    assert {
        "source_val_accuracy",
        "importance_weighted_accuracy",
        "prediction_entropy",
        "soft_neighborhood_density",
        "iwcv_loss",
        "dev_risk",
        "da_bound",
    } == set(rows[0]["selection_scores"])
    assert set(res.caveats) >= set(rows[0]["selection_scores"])


def test_adapt_never_takes_target_test_labels() -> None:
    params = set(inspect.signature(adapt).parameters)
    assert not any("test" in p for p in params)
    xs, ys, xt, yt = translated(seed=10)
    from transferkit.data.dataset import Dataset

    names = ("a", "b")
    real = Dataset(x=xt, y=yt, kind="table", class_names=names)
    junk = Dataset(x=xt, y=np.zeros_like(yt), kind="table", class_names=names)
    a = adapt((xs, ys), real, "coral").rows
    b = adapt((xs, ys), junk, "coral").rows
    assert a == b


def test_adapt_rejects_unknown_methods_and_the_baseline_as_method() -> None:
    xs, ys, xt, _ = translated()
    with pytest.raises(UnknownName, match="unknown adaptation method 'no-such-method'; known: .*coral.*dann"):
        adapt((xs, ys), xt, "no-such-method")
    with pytest.raises(UnknownName, match="did you mean 'coral'"):
        adapt((xs, ys), xt, "corall")
    with pytest.raises(DataError, match="baseline"):
        adapt((xs, ys), xt, "source_only")


@pytest.fixture(scope="module")
def office(data_root):
    from transferkit.data import load_dataset

    return {d: load_dataset(f"office-caltech10-surf:{d}", data_root) for d in ("dslr", "webcam")}


def test_office_caltech_dslr_to_webcam(office) -> None:
    """Real SURF features, the smallest pair: JDA beats source-only (0.858 vs 0.776 measured)."""
    s, t = office["dslr"], office["webcam"]
    X, y, sd = stack_domains(s.x, s.y, t.x)
    so = SourceOnly().fit(X, y, sd).score(t.x, t.y)
    jda = JDA().fit(X, y, sd).score(t.x, t.y)
    assert 0.65 < so < 0.9
    assert jda > so + 0.03

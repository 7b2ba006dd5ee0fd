"""Label-free selection: IWCV, DEV, the ensemble-agreement check and the decision rule."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import softmax
from scipy.stats import norm, spearmanr

from transferkit.adaptation import adapt
from transferkit.adaptation.decision import SOURCE_ONLY, DecisionRule, decide, ensemble_agreement
from transferkit.adaptation.selection_validators import (
    dev_risk,
    dev_risk_from_losses,
    feature_space_weights,
    iwcv_loss,
)
from transferkit.errors import DataError


def covariate_shift(seed: int, n: int = 4000) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Source x ~ N(0, 1), target x ~ N(1, 1); a fixed loss that grows with x, and the true ratio."""
    rng = np.random.default_rng(seed)
    xs = rng.normal(0.0, 1.0, n)
    xt = rng.normal(1.0, 1.0, n)
    loss = lambda x: np.log1p(np.exp(x))  # noqa: E731  (a smooth loss larger on the target side)
    true_w = norm.pdf(xs, 1.0, 1.0) / norm.pdf(xs, 0.0, 1.0)
    return xs, xt, loss(xs), true_w


def test_feature_space_weights_track_the_true_density_ratio() -> None:
    xs, xt, _, true_w = covariate_shift(0, 1500)
    w = feature_space_weights(xs[:, None], xt[:, None], random_state=0)
    assert w.mean() == pytest.approx(1.0)
    assert spearmanr(w, true_w)[0] > 0.95  # a monotone ratio is recovered (up to the clip)


def test_iwcv_and_dev_estimate_the_target_risk_under_covariate_shift() -> None:
    """Weighted source losses estimate the target loss (the plain mean does not); DEV's control variate
    has a lower variance than the same raw weights without it."""
    target_risk = float(np.mean(np.log1p(np.exp(np.random.default_rng(99).normal(1.0, 1.0, 200000)))))
    plain, raw, iw, dev = [], [], [], []
    for seed in range(12):
        xs, xt, ls, _ = covariate_shift(seed, 500)
        w = feature_space_weights(xs[:, None], xt[:, None], random_state=seed, normalize=False)
        plain.append(ls.mean())
        raw.append(float(np.mean(w * ls)))
        iw.append(iwcv_loss(np.zeros(len(ls), int), np.c_[np.exp(-ls), 1 - np.exp(-ls)], w))
        dev.append(dev_risk_from_losses(ls, w))
    assert abs(np.mean(plain) - target_risk) > 0.4
    assert abs(np.mean(iw) - target_risk) < 0.15 and abs(np.mean(dev) - target_risk) < 0.15
    assert np.std(dev) < np.std(raw)  # the control variate cuts the variance


def test_dev_with_constant_weights_is_the_plain_mean_loss() -> None:
    rng = np.random.default_rng(1)
    y = np.arange(30) % 3
    p = softmax(rng.normal(size=(30, 3)), axis=1)
    plain = float(np.mean(-np.log(p[np.arange(30), y])))
    assert dev_risk(y, p, np.ones(30)) == pytest.approx(plain)
    assert iwcv_loss(y, p, np.full(30, 2.0)) == pytest.approx(plain)  # weights are normalised to mean 1
    with pytest.raises(DataError, match="weights"):
        dev_risk(y, p, np.ones(29))
    with pytest.raises(DataError, match="class indices"):
        iwcv_loss(np.full(30, 3), p, np.ones(30))


def test_ensemble_agreement_counts_agreement_with_the_mean_vote() -> None:
    a = np.eye(3)[[0, 1, 2, 0]]
    b = np.eye(3)[[0, 1, 2, 1]]
    c = np.eye(3)[[2, 2, 2, 2]] * 0.9 + 0.1 / 3
    agree = ensemble_agreement({"a": a, "b": b, "c": c})
    assert agree["a"] > agree["c"] and agree["b"] > agree["c"]
    with pytest.raises(DataError):
        ensemble_agreement({"a": a})
    with pytest.raises(DataError, match="shape"):
        ensemble_agreement({"a": a, "b": b[:3]})


def scores(dev: float, agree: float, src: float = 0.9) -> dict[str, float]:
    return {"dev_risk": dev, "iwcv_loss": dev, "ensemble_agreement": agree, "source_val_accuracy": src}


def test_decide_keeps_source_only_without_strong_evidence() -> None:
    rule = DecisionRule(margins={"dev_risk": 0.05, "ensemble_agreement": 0.02}, min_votes=2)
    base = scores(1.0, 0.80)
    weak = {SOURCE_ONLY: base, "a": scores(0.98, 0.81)}  # better, but inside both margins
    assert decide(weak, rule).choice == SOURCE_ONLY
    one_vote = {SOURCE_ONLY: base, "a": scores(0.5, 0.79)}
    assert decide(one_vote, rule).choice == SOURCE_ONLY
    strong = {SOURCE_ONLY: base, "a": scores(0.9, 0.85), "b": scores(0.7, 0.90)}
    d = decide(strong, rule)
    assert d.choice == "b" and set(d.eligible) == {"a", "b"} and "dev_risk" in d.votes["b"]
    forgot = {SOURCE_ONLY: base, "a": scores(0.7, 0.90, src=0.5)}  # the guard: it lost the source task
    assert decide(forgot, DecisionRule(margins=rule.margins, min_votes=2, max_source_val_drop=0.05)).choice == \
        SOURCE_ONLY
    with pytest.raises(DataError, match="source-only"):
        decide({"a": base})


def test_decide_ignores_missing_or_non_finite_scores() -> None:
    rule = DecisionRule(margins={"dev_risk": 0.0, "ensemble_agreement": 0.0}, min_votes=1)
    cands = {SOURCE_ONLY: scores(1.0, 0.8), "nan": scores(float("nan"), float("nan")), "missing": {}}
    assert decide(cands, rule).choice == SOURCE_ONLY


def shifted_blobs(seed: int, shift: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = np.array([[-1.5, 0.0, 0.0, 0.0], [1.5, 0.0, 0.0, 0.0], [0.0, 2.5, 0.0, 0.0]])
    ys = np.repeat(np.arange(3), 120)
    yt = np.repeat(np.arange(3), 120)
    xs = centers[ys] + 0.6 * rng.standard_normal((360, 4))
    xt = (centers[yt] + 0.6 * rng.standard_normal((360, 4))) * np.array([1.5, 0.7, 1.0, 1.0]) + shift
    return xs, ys, xt, yt


@pytest.mark.slow
def test_adapt_auto_captures_the_gain_on_office_caltech(data_root) -> None:
    """Caltech -> Webcam (a pair the rule was tuned on), scores averaged over three source splits: the
    chosen model is several points above source-only (JDA: 49.4 vs 44.9 in the benchmark)."""
    from transferkit.data import load_dataset

    src = load_dataset("office-caltech10-surf:caltech", data_root)
    tgt = load_dataset("office-caltech10-surf:webcam", data_root)
    res = adapt(src, tgt.x, "auto", seeds=[0, 1, 2], refit=False)
    rows = res.evaluate(tgt.x, tgt.y)
    acc = {m: float(np.mean([r["target_accuracy"] for r in rows if r["model"] == m])) for m in {r["model"] for r in rows}}
    assert len(acc) == 8 and res.decision is not None and res.verdict.verdict == "label-free choice"
    assert res.decision.choice == res.verdict.recommended != SOURCE_ONLY
    assert acc[res.decision.choice] > acc[SOURCE_ONLY] + 0.03
    assert all({"dev_risk", "iwcv_loss", "da_bound", "ensemble_agreement"} <= set(r["selection_scores"])
               for r in res.rows)


def test_large_translation_is_a_known_blind_spot_and_costs_little() -> None:
    """Disjoint supports: the density-ratio validators cannot see that source-only is wrong (the known
    failure), so the gain is missed; the decision still lands within 2 points of source-only."""
    xs, ys, xt, yt = shifted_blobs(0, 3.0)
    res = adapt((xs, ys), xt, "auto", seeds=[0])
    acc = {r["model"]: r["target_accuracy"] for r in res.evaluate(xt, yt)}
    assert max(acc.values()) > acc[SOURCE_ONLY] + 0.3  # CORAL / SA would have fixed it
    assert acc[res.decision.choice] >= acc[SOURCE_ONLY] - 0.02
    scores = {r["model"]: r["selection_scores"] for r in res.rows}
    assert scores["coral"]["da_bound"] < scores[SOURCE_ONLY]["da_bound"] - 0.5  # the bound does see it


def test_adapt_auto_keeps_source_only_when_there_is_no_shift() -> None:
    xs, ys, xt, yt = shifted_blobs(1, 0.0)
    xt = xs + 0.01 * np.random.default_rng(2).standard_normal(xs.shape)  # the same domain
    res = adapt((xs, ys), xt, ["coral", "tca", "importance_weighting"], seeds=[0])
    acc = {r["model"]: r["target_accuracy"] for r in res.evaluate(xt, ys)}
    assert acc[res.decision.choice] >= acc[SOURCE_ONLY] - 0.01  # nothing to gain, and nothing lost


@pytest.mark.slow
def test_adapt_works_on_raw_text_through_a_frozen_encoder(data_root) -> None:
    """Raw SMS strings in: MiniLM features inside, predictions on new raw strings out."""
    from transferkit.data import load_dataset

    sms = load_dataset("sms-spam", data_root)
    x, y = np.asarray(sms.x), np.asarray(sms.y)
    short = np.flatnonzero(np.array([len(t) for t in x]) < 40)
    long_ = np.flatnonzero(np.array([len(t) for t in x]) > 120)
    rng = np.random.default_rng(0)
    s = np.r_[rng.choice(short[y[short] == 0], 40, replace=False), short[y[short] == 1][:10]]
    t = np.r_[rng.choice(long_[y[long_] == 0], 40, replace=False), long_[y[long_] == 1][:20]]
    res = adapt((list(x[s]), y[s]), list(x[t]), ["coral", "tca"], seeds=[0])
    rows = res.evaluate(list(x[t]), y[t])
    assert {r["model"] for r in rows} == {SOURCE_ONLY, "coral", "tca"}
    assert all(0.5 < r["target_accuracy"] <= 1.0 for r in rows)  # far above chance on 2:1 ham:spam
    assert res.predict_proba(list(x[t[:3]]), SOURCE_ONLY, 0).shape == (3, 2)


def test_target_only_comparison_trains_on_the_labels_alone() -> None:
    from transferkit.adaptation.target_only import target_only_comparison

    xs, ys, xt, yt = shifted_blobs(3, 0.5)
    few = np.r_[0:5, 120:125, 240:245]
    res = adapt((xs, ys), xt, "coral", target_val=(xt[few], yt[few]), seeds=[0, 1])
    rec = target_only_comparison(res, (xt[few], yt[few]), xt, yt)
    assert rec["available"] and rec["n_target_labels"] == 15 and rec["recommended"] == res.verdict.recommended
    assert 0.5 < rec["target_only_accuracy"] <= 1.0 and rec["gain_ci"][0] <= rec["gain_over_target_only"]
    one_class = target_only_comparison(res, (xt[:5], yt[:5]), xt, yt)
    assert not one_class["available"] and "single class" in one_class["why"]

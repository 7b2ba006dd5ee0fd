"""NCTI and ETran: the authors' values on fixed inputs, a direct recomputation, and the set-level combination.

Reference vectors: the authors' public code run on the seeded blobs below (float64):
NCTI from BUserName/NCTI ``metrics.NCTI_Score`` (returns seli, ncc, vc) and the combination of
``evaluate_metric_group1_cpu.py``; ETran from mgholamikn/ETran ``metrics.LDA_Score`` and
``metrics.Energy_Score(X, 0.5, 'bot')`` and the combination of ``tw.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from scipy.special import softmax

from transferkit.errors import DataError
from transferkit.transferability import SCORES, etran, ncti
from transferkit.transferability._etran import energy, etran_combine, etran_terms
from transferkit.transferability._ncti import ncti_combine, ncti_terms

CASES = [(300, 80, 3, 0, 1.0), (300, 80, 3, 1, 0.05), (240, 100, 4, 2, 0.3)]
# (seli, ncc, vc) of NCTI_Score; the first case hits the 1e-10 shrinkage floor (scikit-learn's svd solver)
NCTI_REFERENCE = [(52.99076937814544, 0.7995252246749049, 3.6409996972686924),
                  (47.71815078028577, 0.7444224166608016, 3.611362147216999),
                  (65.97737450173445, 0.7431572410042883, 3.7265213422032653)]
# (LDA_Score, Energy_Score(X, 0.5, 'bot'))
ETRAN_REFERENCE = [(0.7550462335652982, 4.41970613515665),
                   (0.33516462086521076, 4.366419551513611),
                   (0.31874425677029367, 4.581069215922928)]


def blobs(n: int, d: int, c: int, seed: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % c
    means = rng.standard_normal((c, d))
    means *= 1.5 / np.linalg.norm(means, axis=1, keepdims=True)
    return (rng.standard_normal((n, d)) + means[y]) * scale, y


def hand_ncti(x: np.ndarray, y: np.ndarray, dim: int = 64) -> tuple[float, float, float]:
    """The paper's three terms written out: PCA by SVD, a shrunk LDA from a generalised eigenproblem."""
    classes = np.unique(y)
    n, c = len(y), len(classes)
    xc = x - x.mean(0)
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    k = min(dim, *x.shape)
    z = xc @ vt[:k].T
    sh = max(np.exp(-(s[:k] ** 2 / (n - 1))[:32].sum()), 1e-10)
    sh = 0.0 if sh == 1e-10 else sh
    priors = np.array([np.mean(y == q) for q in classes])
    means = np.array([z[y == q].mean(0) for q in classes])

    def shrunk(m: np.ndarray) -> np.ndarray:
        return (1 - sh) * m + sh * np.trace(m) / k * np.eye(k)

    sw = shrunk(sum(p * np.cov(z[y == q].T, bias=True) for p, q in zip(priors, classes)))
    ev, v = scipy.linalg.eigh(shrunk(np.cov(z.T, bias=True)) - sw, sw)
    v = v[:, np.argsort(ev)[::-1]]
    low = z @ v[:, :c - 1]
    coef = means @ v @ v.T
    p = softmax(z @ coef.T - 0.5 * np.diag(means @ coef.T) + np.log(priors), axis=1)
    seli = np.linalg.svd(low - low.mean(0), compute_uv=False).sum()
    vc = np.log(sum(np.linalg.svd(p[y == q], compute_uv=False).sum() for q in classes))
    return float(seli), float(p[np.arange(n), y].mean()), float(vc)


def authors_way_lda(x: np.ndarray, y: np.ndarray) -> float:
    """ETran's LDA term the way its code computes it: eigh of Sw'^-1 Sb (adaptive shrinkage), all directions."""
    classes = np.unique(y)
    d = x.shape[1]
    priors = np.array([np.mean(y == q) for q in classes])
    means = np.array([x[y == q].mean(0) for q in classes])
    sw = sum(p * np.cov(x[y == q].T, bias=True) for p, q in zip(priors, classes))
    s = max(np.exp(-5 * np.linalg.eigvalsh(sw).max()), 1e-10)
    sw_s = (1 - s) * sw + s * np.trace(sw) / d * np.eye(d)
    st = np.cov(x.T, bias=True)
    st_s = (1 - s) * st + s * np.trace(st) / d * np.eye(d)
    _, v = np.linalg.eigh(np.linalg.inv(sw_s) @ (st_s - sw_s))
    coef = means @ v @ v.T
    p = softmax(x @ coef.T - 0.5 * np.diag(means @ coef.T) + np.log(priors), axis=1)
    return float(p[np.arange(len(y)), y].mean())


@pytest.mark.parametrize(("case", "ref"), list(zip(CASES, NCTI_REFERENCE)))
def test_ncti_terms_match_the_authors_code_and_a_direct_recomputation(case: tuple, ref: tuple) -> None:
    x, y = blobs(*case)
    t = ncti_terms(x, y)
    assert (t["seli"], t["ncc"], t["vc"]) == pytest.approx(ref, rel=1e-9)
    assert hand_ncti(x, y) == pytest.approx(ref, rel=1e-9)
    assert ncti(x, y) == pytest.approx(ref[1], rel=1e-12)


@pytest.mark.parametrize(("case", "ref"), list(zip(CASES, ETRAN_REFERENCE)))
def test_etran_terms_match_the_authors_code_and_their_lda_is_nearest_mean(case: tuple, ref: tuple) -> None:
    x, y = blobs(*case)
    t = etran_terms(x, y)
    assert (t["lda"], t["energy"]) == pytest.approx(ref, rel=1e-9)
    assert authors_way_lda(x, y) == pytest.approx(ref[0], rel=1e-7)
    assert etran(x, y) == t["lda"]
    # energy: mean logsumexp over the lowest 0.5% of the samples (one sample of 300 / 240)
    lse = np.log(np.exp(x).sum(axis=1))
    assert t["energy"] == pytest.approx(np.sort(lse)[0], rel=1e-12)


def test_set_level_combinations_follow_the_authors_scripts() -> None:
    terms = [ncti_terms(*blobs(*c)) for c in CASES]
    mm = {k: np.array([t[k] for t in terms]) for k in ("seli", "ncc", "vc")}
    mm = {k: (v - v.min()) / (v.max() - v.min()) for k, v in mm.items()}
    np.testing.assert_allclose(ncti_combine(terms), mm["ncc"] + mm["seli"] - mm["vc"], atol=1e-12)
    ref = np.array(ETRAN_REFERENCE)
    lda, en = ((ref[:, i] - ref[:, i].min()) / np.ptp(ref[:, i]) for i in (0, 1))
    et = etran_combine([{"lda": a, "energy": b} for a, b in ETRAN_REFERENCE])
    np.testing.assert_allclose(et, 0.85 * lda + 0.15 * en, atol=1e-12)
    assert etran_combine([{"lda": 0.5, "energy": 1.0}]) == [0.0]  # one candidate: nothing to scale against


def test_registered_with_their_set_level_combination() -> None:
    for name in ("ncti", "etran"):
        info = SCORES.info(name)
        assert info.input == "features" and info.higher_is_better and info.caveat
        assert info.terms is not None and info.combine is not None


def test_better_separated_features_score_higher() -> None:
    rng = np.random.default_rng(5)
    y = np.arange(200) % 2
    x = rng.standard_normal((200, 70))
    sep = x + 3.0 * y[:, None]
    assert ncti(sep, y) > ncti(x, y) and etran(sep, y) > etran(x, y)
    a, b = ncti_combine([ncti_terms(sep, y), ncti_terms(x, y)])
    assert a > b


def test_bad_inputs_are_clear_errors() -> None:
    with pytest.raises(DataError, match="more samples"):
        ncti(np.ones((2, 3)) + np.eye(2, 3), [0, 1])
    with pytest.raises(DataError, match="only 1 distinct"):
        etran(np.random.default_rng(0).random((5, 3)), [1] * 5)
    with pytest.raises(DataError, match="NaN"):
        energy(np.array([[np.nan, 1.0]]))


@pytest.mark.parametrize("value", [341.8, 3e38])
def test_ncti_refuses_features_with_no_within_class_spread(value: float) -> None:
    """Every row the same point (found by the fuzz test): a clear DataError, not a scipy error."""
    x = np.zeros((6, 4))
    x[:, 3] = value
    with pytest.raises(DataError, match="ncti"):
        ncti(x, np.array([0, 1, 0, 1, 0, 1]))
    x = np.repeat(np.eye(2, 4), 3, axis=0)  # each class one point: no spread inside a class
    with pytest.raises(DataError, match="within"):
        ncti(x, np.array([0, 0, 0, 1, 1, 1]))

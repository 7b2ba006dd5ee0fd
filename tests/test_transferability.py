"""Transferability scores: reference values, a slow direct LogME, registry contracts, rank, tau."""

from __future__ import annotations

import numpy as np
import pytest

from transferkit.errors import DataError
from transferkit.transferability import (
    SCORES,
    Candidate,
    h_score,
    leep,
    logme,
    nce,
    rank,
    transrate,
    weighted_kendall_tau,
)

# ----------------------------------------------------------------------------- helpers


def blobs(n: int = 240, d: int = 12, c: int = 4, sep: float = 2.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian class blobs: class means ``sep`` apart along random directions."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % c
    rng.shuffle(y)
    means = rng.standard_normal((c, d))
    means *= sep / np.linalg.norm(means, axis=1, keepdims=True)
    return rng.standard_normal((n, d)) + means[y], y


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def score_inputs(name: str, f: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The input a score wants, derived from the same synthetic features."""
    kind = SCORES.info(name).input
    probs = softmax(f[:, :6])
    if kind == "probs":
        return probs
    if kind == "preds":
        return probs.argmax(axis=1)
    return f


def direct_logme(f: np.ndarray, t: np.ndarray, iters: int = 5000) -> float:
    """Slow, obvious LogME of one target: full D x D matrices, direct log-determinant and
    inverse, evidence maximised by MacKay's fixed point until it stops moving."""
    n, d = f.shape
    ftf = f.T @ f
    fty = f.T @ t
    alpha, beta = 1.0, 1.0
    for _ in range(iters):
        a = alpha * np.eye(d) + beta * ftf
        a_inv = np.linalg.inv(a)
        m = beta * a_inv @ fty
        gamma = d - alpha * np.trace(a_inv)  # = sum_i beta s_i / (alpha + beta s_i)
        new_alpha = gamma / (m @ m)
        new_beta = (n - gamma) / np.sum((t - f @ m) ** 2)
        done = abs(new_alpha / new_beta - alpha / beta) <= 1e-13 * (alpha / beta)
        alpha, beta = new_alpha, new_beta
        if done:
            break
    a = alpha * np.eye(d) + beta * ftf
    m = beta * np.linalg.solve(a, fty)
    _, logdet = np.linalg.slogdet(a)
    ev = (
        d / 2 * np.log(alpha)
        + n / 2 * np.log(beta)
        - n / 2 * np.log(2 * np.pi)
        - beta / 2 * np.sum((t - f @ m) ** 2)
        - alpha / 2 * (m @ m)
        - logdet / 2
    )
    return float(ev / n)


# ----------------------------------------------------------------------------- LogME


@pytest.mark.parametrize(
    ("n", "d", "c", "seed"),
    [(60, 8, 3, 0), (30, 50, 3, 1), (12, 40, 3, 6), (80, 20, 5, 3)],
    ids=["N>D", "N<D", "N<<D", "5-class"],
)
def test_logme_matches_slow_direct_evaluation(n: int, d: int, c: int, seed: int) -> None:
    f, y = blobs(n, d, c, sep=2.5, seed=seed)
    expected = np.mean([direct_logme(f, (y == k).astype(float)) for k in range(c)])
    assert logme(f, y) == pytest.approx(expected, abs=1e-8)


def test_logme_rank_deficient_features_match_direct() -> None:
    f, y = blobs(70, 6, 3, seed=4)
    f = np.hstack([f, f[:, :3], np.zeros((70, 2))])  # duplicated and empty columns: rank 6 of 11
    expected = np.mean([direct_logme(f, (y == k).astype(float)) for k in range(3)])
    assert logme(f, y) == pytest.approx(expected, abs=1e-8)


def test_logme_keeps_the_zero_eigenvalue_term_when_n_below_d() -> None:
    """The reference drops (D - k) log(alpha) / (2N); the direct value includes it."""
    f, y = blobs(20, 60, 2, sep=3.0, seed=5)
    t = (y == 0).astype(float)
    exact = direct_logme(f, t)
    sigma = np.linalg.eigvalsh(f @ f.T)
    from transferkit.transferability._logme import max_evidence, spectral_projections

    s, x2, t2 = spectral_projections(f, t[:, None])
    _, alpha, _ = max_evidence(s, x2, t2, 20, 60)
    dropped = exact - (60 - len(sigma)) * np.log(alpha[0]) / (2 * 20)
    assert logme(f, np.where(y == 0, "a", "b")) == pytest.approx(np.mean([exact, direct_logme(f, 1 - t)]), abs=1e-8)
    assert abs(dropped - exact) > 1e-3  # the missing term matters at this size


def test_logme_regression_one_and_many_targets_match_direct() -> None:
    rng = np.random.default_rng(6)
    f = rng.standard_normal((50, 7))
    w = rng.standard_normal((7, 2))
    targets = f @ w + 0.3 * rng.standard_normal((50, 2))
    one = logme(f, targets[:, 0], regression=True)
    assert one == pytest.approx(direct_logme(f, targets[:, 0]), abs=1e-8)
    both = logme(f, targets, regression=True)
    assert both == pytest.approx(np.mean([direct_logme(f, targets[:, j]) for j in range(2)]), abs=1e-8)


def test_logme_sklearn_digits_reference_value() -> None:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    assert logme(x / 16.0, y) == pytest.approx(0.270278, abs=1e-6)
    # one-hot targets as regression give exactly the classification score
    assert logme(x / 16.0, np.eye(10)[y], regression=True) == pytest.approx(logme(x / 16.0, y), abs=1e-12)


def test_logme_absent_class_does_not_inflate() -> None:
    f, y = blobs(90, 5, 3, seed=7)
    gappy = np.array([0, 5, 9])[y]  # labels 0, 5, 9: the reference would score 10 targets
    assert logme(f, gappy) == pytest.approx(logme(f, y), abs=1e-12)


def test_logme_reaches_a_maximum_far_out() -> None:
    """Labels unrelated to the features: the maximum lies at alpha -> infinity; our value must be at
    least what many fixed-point steps reach."""
    rng = np.random.default_rng(8)
    f = rng.standard_normal((300, 40))
    y = rng.integers(0, 2, 300)
    t = (y == 0).astype(float)
    slow = direct_logme(f, t, iters=3000)
    from transferkit.transferability._logme import max_evidence, spectral_projections

    s, x2, t2 = spectral_projections(f, t[:, None])
    ev, _, _ = max_evidence(s, x2, t2, 300, 40)
    assert ev[0] >= slow - 1e-9


# ----------------------------------------------------------------------------- LEEP, NCE, H-score


def test_leep_perfect_and_uniform_predictions() -> None:
    rng = np.random.default_rng(9)
    c = 5
    y = rng.integers(0, c, 400)
    perfect = np.eye(8)[y]  # target label copied into a source slot
    assert leep(perfect, y) == pytest.approx(0.0, abs=1e-12)
    uniform = np.full((400, 8), 1 / 8)
    prior = np.bincount(y) / len(y)
    assert leep(uniform, y) == pytest.approx(np.sum(prior * np.log(prior)), abs=1e-12)
    balanced = np.arange(400) % c
    random_probs = softmax(rng.standard_normal((400, 8)) * 0.1)
    assert leep(random_probs, balanced) == pytest.approx(np.log(1 / c), abs=0.01)


def test_leep_equals_nce_for_hard_predictions() -> None:
    rng = np.random.default_rng(10)
    z = rng.integers(0, 6, 300)
    y = (z + (rng.random(300) < 0.3) * rng.integers(0, 4, 300)) % 4
    assert leep(np.eye(6)[z], y) == pytest.approx(nce(z, y), abs=1e-12)
    assert nce(z, y) <= 0


def test_h_score_within_bounds() -> None:
    for d, c, sep in [(12, 4, 2.0), (3, 8, 4.0), (20, 2, 0.0), (6, 5, 50.0)]:
        f, y = blobs(300, d, c, sep=sep, seed=d + c)
        h = h_score(f, y)
        assert -1e-9 <= h <= min(d, c - 1) + 1e-9
    f, y = blobs(300, 6, 5, sep=50.0)
    assert h_score(f, y) > 0.95 * 4  # well separated classes approach the bound C - 1


def test_transrate_nonnegative_and_grows_with_separation() -> None:
    values = [transrate(*blobs(200, 8, 3, sep=s, seed=11)) for s in (0.0, 1.0, 3.0)]
    assert min(values) >= 0
    assert values[0] < values[1] < values[2]


# ----------------------------------------------------------------------------- registry contracts

ALL_SCORES = [e.name for e in SCORES]


def test_registry_lists_every_score() -> None:
    expected = {
        "logme",
        "leep",
        "nce",
        "nleep",
        "h_score",
        "regularized_h_score",
        "gbc",
        "transrate",
        "knn_accuracy",
        "linear_probe_accuracy",
    }
    assert expected <= set(ALL_SCORES)
    for e in SCORES:
        assert e.info.input in ("features", "probs", "preds")
        assert isinstance(e.info.higher_is_better, bool)


@pytest.mark.parametrize("name", ALL_SCORES)
def test_score_finite_and_invariant_to_order_and_relabelling(name: str) -> None:
    fn = SCORES.get(name)
    f, y = blobs(150, 8, 3, sep=2.0, seed=12)
    x = score_inputs(name, f, y)
    base = fn(x, y)
    assert isinstance(base, float) and np.isfinite(base)
    perm = np.random.default_rng(13).permutation(len(y))
    assert fn(x[perm], y[perm]) == pytest.approx(base, rel=1e-7, abs=1e-9)
    renamed = np.array(["zebra", "ant", "moth"], dtype=object)[y]  # a different class order
    assert fn(x, renamed) == pytest.approx(base, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("name", ALL_SCORES)
def test_score_rejects_bad_input(name: str) -> None:
    fn = SCORES.get(name)
    f, y = blobs(60, 8, 3, seed=14)
    x = score_inputs(name, f, y)
    with pytest.raises(DataError, match="class"):
        fn(x, np.zeros(len(y), dtype=int))
    with pytest.raises(DataError, match="same length|labels"):
        fn(x, y[:-3])
    if SCORES.info(name).input != "preds":
        bad = x.astype(float).copy()
        bad[3, 1] = np.nan
        with pytest.raises(DataError, match="NaN"):
            fn(bad, y)


@pytest.mark.parametrize("name", [n for n in ALL_SCORES if SCORES.info(n).input == "features"])
def test_feature_scores_prefer_separable_features(name: str) -> None:
    fn = SCORES.get(name)
    weak = fn(*blobs(150, 8, 3, sep=0.3, seed=15))
    strong = fn(*blobs(150, 8, 3, sep=4.0, seed=15))
    better = strong > weak if SCORES.info(name).higher_is_better else strong < weak
    assert better, (name, weak, strong)


# ----------------------------------------------------------------------------- rank and tau


def test_weighted_kendall_tau_reference_values() -> None:
    assert weighted_kendall_tau([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert weighted_kendall_tau([1, 2, 3, 4], [40, 30, 20, 10]) == pytest.approx(-1.0)
    assert weighted_kendall_tau([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]) == pytest.approx(-0.56695, abs=1e-5)
    with pytest.raises(DataError):
        weighted_kendall_tau([1, 2], [1, 2, 3])


def test_rank_precomputed_candidates_orders_by_main_score() -> None:
    rng = np.random.default_rng(16)
    _, y = blobs(200, 10, 4, seed=16)
    good = blobs(200, 10, 4, sep=4.0, seed=16)[0]
    poor = rng.standard_normal((200, 10))
    probs = softmax(np.eye(4)[y] * 3 + rng.standard_normal((200, 4)))
    table = rank(
        [Candidate("poor", poor), Candidate("good", good, source_probs=probs)],
        None,
        scores=("logme", "h_score", "leep"),
        labels=y,
    )
    assert [r.model for r in table.rows] == ["good", "poor"]
    assert [r.rank for r in table.rows] == [1, 2]
    assert table.rank_by == "combined"  # the rank aggregation orders the table by default
    poor_row = table.rows[1]
    assert poor_row.scores["leep"] is None and any("source classifier" in n for n in poor_row.notes)
    assert table.rows[0].scores["leep"] == pytest.approx(leep(probs, y))
    section = table.to_section()
    assert section["scores"] == ["logme", "h_score", "leep", "combined"]
    assert set(section["rows"][0]) >= {"model", "fingerprint", "logme", "h_score", "leep", "rank"}
    frame = table.to_frame()
    assert list(frame["model"]) == ["good", "poor"]


def test_rank_lower_is_better_and_rank_by() -> None:
    _, y = blobs(120, 6, 3, seed=17)
    a = blobs(120, 6, 3, sep=0.5, seed=17)[0]
    b = blobs(120, 6, 3, sep=5.0, seed=17)[0]
    table = rank(
        [Candidate("a", a), Candidate("b", b)],
        None,
        scores=("logme", "knn_accuracy"),
        rank_by="knn_accuracy",
        labels=y,
    )
    assert table.rank_by == "knn_accuracy"
    assert table.best().model == "b"


def test_rank_rejects_unknown_score_and_bad_shapes() -> None:
    _, y = blobs(50, 4, 2, seed=18)
    with pytest.raises(KeyError, match="known"):
        rank([Candidate("a", np.ones((50, 3)))], None, scores=("nope",), labels=y)
    with pytest.raises(DataError, match="rows"):
        rank([Candidate("a", np.random.default_rng(0).standard_normal((40, 3)))], None, labels=y)


def test_stratified_sample_keeps_proportions_and_every_class() -> None:
    from transferkit.transferability._validate import stratified_sample

    y = np.repeat(np.arange(10), [352, 241, 165, 166, 166, 126, 139, 172, 129, 151])
    for size in (10, 100, len(y) - 7):  # len(y) - 7: fewer left-out rows than classes
        idx = stratified_sample(y, size, seed=1)
        assert len(idx) == len(np.unique(idx)) == size
        counts = np.bincount(y[idx], minlength=10)
        assert counts.min() >= 1
        assert np.all(np.abs(counts - size * np.bincount(y) / len(y)) <= 1.0)

"""Similarity measures: registry contracts, known values, MMD test, class-conditional, label relation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from transferkit.errors import DataError
from transferkit.similarity import (
    DISTANCES,
    class_conditional,
    coral_distance,
    frechet_distance,
    label_relation,
    label_relation_from_features,
    median_bandwidth,
    mmd,
    mmd_test,
    proxy_a_distance,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ALL = [e.name for e in DISTANCES]


def sample(n: int, d: int = 6, shift: float = 0.0, seed: int = 0) -> np.ndarray:
    """Gaussian sample; ``shift`` moves the mean and stretches the spread (a planted shift)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)) * (1.0 + 0.5 * shift) + shift


def test_registry_has_the_four_measures() -> None:
    assert {"mmd", "proxy_a", "coral", "frechet"} <= set(ALL)


@pytest.mark.parametrize("name", ALL)
def test_distance_near_zero_for_same_distribution_and_grows_with_shift(name: str) -> None:
    fn = DISTANCES.get(name)
    same = fn(sample(300, seed=1), sample(300, seed=2))
    shifted = [fn(sample(300, seed=1), sample(300, shift=s, seed=2)) for s in (0.5, 1.0, 2.0)]
    assert all(np.isfinite([same, *shifted]))
    assert abs(same) < 0.2 * shifted[0], (name, same, shifted)
    assert shifted[0] < shifted[1] < shifted[2], (name, shifted)


@pytest.mark.parametrize("name", ALL)
def test_distance_invariant_to_row_order_and_symmetric(name: str) -> None:
    fn = DISTANCES.get(name)
    a, b = sample(120, seed=3), sample(150, shift=0.7, seed=4)
    base = fn(a, b)
    perm = np.random.default_rng(5).permutation(len(a))
    assert fn(a[perm], b) == pytest.approx(base, rel=1e-9, abs=1e-12)
    if DISTANCES.info(name).symmetric and not DISTANCES.info(name).randomized:
        assert fn(b, a) == pytest.approx(base, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", ALL)
def test_distance_rejects_bad_input(name: str) -> None:
    fn = DISTANCES.get(name)
    a = sample(40)
    with pytest.raises(DataError, match="columns"):
        fn(a, sample(40, d=5))
    bad = a.copy()
    bad[0, 0] = np.inf
    with pytest.raises(DataError, match="NaN or infinite"):
        fn(bad, a)


def test_frechet_equals_mean_gap_for_translated_copy_and_coral_is_zero() -> None:
    a = sample(200, seed=6)
    delta = np.array([1.0, -2.0, 0.5, 0.0, 0.0, 3.0])
    assert frechet_distance(a, a + delta) == pytest.approx(np.sum(delta**2), rel=1e-6)
    assert coral_distance(a, a + delta) == pytest.approx(0.0, abs=1e-15)


def test_frechet_matches_closed_form_for_diagonal_gaussians() -> None:
    rng = np.random.default_rng(7)
    a = rng.standard_normal((400, 3))
    b = rng.standard_normal((400, 3)) * 2.0 + 1.0
    ca, cb = np.cov(a.T), np.cov(b.T)
    from scipy.linalg import sqrtm

    expected = np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(ca + cb - 2 * np.real(sqrtm(ca @ cb)))
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-8)


def test_mmd_unbiased_matches_direct_formula() -> None:
    a, b = sample(30, d=3, seed=8), sample(25, d=3, shift=0.5, seed=9)
    bw = 1.3
    k = lambda x, y: np.exp(-np.sum((x[:, None] - y[None]) ** 2, axis=2) / (2 * bw**2))  # noqa: E731
    kxx, kyy, kxy = k(a, a), k(b, b), k(a, b)
    m, n = len(a), len(b)
    expected = (
        (kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2 * kxy.mean()
    )
    assert mmd(a, b, bandwidth=bw, estimator="unbiased") == pytest.approx(expected, rel=1e-12)


def test_mmd_median_bandwidth_multi_kernel_and_linear_estimator() -> None:
    a, b = sample(400, seed=10), sample(400, shift=1.0, seed=11)
    z = np.vstack([a, b])
    d = np.sqrt(np.sum((z[:, None] - z[None]) ** 2, axis=2))
    assert median_bandwidth(z) == pytest.approx(np.median(d[np.triu_indices(len(z), 1)]))
    assert mmd(a, b, multi_kernel=True) > 0.05
    lin = mmd(a, b, estimator="linear")
    quad = mmd(a, b, estimator="unbiased")
    assert lin == pytest.approx(quad, rel=0.5)  # the O(n) estimate is noisier, same target


def test_mmd_permutation_p_values() -> None:
    shifted = mmd_test(sample(150, seed=12), sample(150, shift=0.6, seed=13), n_permutations=200)
    assert shifted.p_value is not None and shifted.p_value < 0.01
    null = [mmd_test(sample(80, seed=s), sample(80, seed=100 + s), n_permutations=100, seed=s) for s in range(12)]
    ps = np.array([r.p_value for r in null])
    assert ps.min() >= 1 / 101 and ps.max() <= 1
    assert 0.2 < ps.mean() < 0.8  # roughly uniform under the null
    assert mmd_test(sample(50), sample(50, seed=1), n_permutations=0).p_value is None


def test_proxy_a_bounds() -> None:
    assert proxy_a_distance(sample(200, seed=14), sample(200, shift=8.0, seed=15)) == pytest.approx(2.0)
    assert 0.0 <= proxy_a_distance(sample(200, seed=14), sample(200, seed=15)) < 0.5


def test_class_conditional_sees_a_shift_hidden_in_one_class() -> None:
    rng = np.random.default_rng(16)
    ys = np.repeat(["cat", "dog", "eel"], 60)
    yt = np.repeat(["cat", "dog", "fox"], 60)
    xs = rng.standard_normal((180, 4))
    xt = rng.standard_normal((180, 4))
    xt[yt == "dog"] += 2.0
    cc = class_conditional("mmd", xs, ys, xt, yt)
    assert set(cc.per_class) == {"cat", "dog"}
    assert cc.per_class["dog"] > 10 * abs(cc.per_class["cat"])
    assert cc.only_source == ["eel"] and cc.only_target == ["fox"]
    assert cc.mean == pytest.approx((cc.per_class["cat"] + cc.per_class["dog"]) / 2)
    with pytest.raises(DataError, match="share no class"):
        class_conditional("coral", xs, ys, xt, np.repeat(["x", "y", "z"], 60))


def test_label_relation_table() -> None:
    rng = np.random.default_rng(17)
    y = rng.integers(0, 3, 300)
    probs = np.full((300, 4), 0.02)
    probs[np.arange(300), y] = 0.94  # source class k stands for target class k; class 3 unused
    rel = label_relation(probs, np.array(["a", "b", "c"])[y], source_classes=["A", "B", "C", "D"])
    assert rel.target_classes == ["a", "b", "c"]
    assert np.allclose(rel.matrix.sum(axis=1), 1.0)
    assert np.argmax(rel.matrix[:3], axis=1).tolist() == [0, 1, 2]
    assert rel.source_mass[3] == pytest.approx(0.02)
    assert [m[0] for m in rel.best_matches(min_mass=0.05)] == sorted(
        ["A", "B", "C"], key=lambda s: -rel.source_mass[["A", "B", "C"].index(s)]
    )
    d = rel.to_dict()
    assert len(d["matrix"]) == 4 and len(d["matrix"][0]) == 3


def test_label_relation_from_features_reports_head_accuracy() -> None:
    rng = np.random.default_rng(18)
    ys, yt = rng.integers(0, 3, 200), rng.integers(0, 3, 200)
    means = np.eye(3, 5) * 4
    rel = label_relation_from_features(
        rng.standard_normal((200, 5)) + means[ys], ys, rng.standard_normal((200, 5)) + means[yt], yt
    )
    assert rel.accuracy is not None and rel.accuracy > 0.9
    assert np.all(np.diag(rel.matrix) > 0.8)


def test_office_caltech_domains_real_data() -> None:
    if not (DATA / "office_caltech10_surf").is_dir():
        pytest.skip(f"Office-Caltech10 SURF data not found under {DATA}")
    from transferkit.data import load_dataset

    a = load_dataset("office-caltech10-surf:amazon", root=DATA)
    w = load_dataset("office-caltech10-surf:webcam", root=DATA)
    # this release standardises each domain: per-feature means agree exactly
    assert np.allclose(a.x.mean(axis=0), 0, atol=1e-4) and np.allclose(w.x.mean(axis=0), 0, atol=1e-4)
    names = np.array(a.class_names)
    cc = class_conditional("mmd", a.x, names[a.y], w.x, names[w.y], min_count=10)
    assert cc.mean is not None and cc.mean > 0
    rel = label_relation_from_features(a.x, names[a.y], w.x, names[w.y])
    assert rel.accuracy is not None and rel.accuracy > 1 / 10  # better than chance across domains

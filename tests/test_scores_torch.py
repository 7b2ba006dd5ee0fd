"""Scores and distances on torch: equal to the numpy float64 versions they replaced, device choice,
the CUDA code path (run on the CPU), no copies of the caller's data, and the guards."""

from __future__ import annotations

import _legacy_scores as legacy
import numpy as np
import pytest
import torch

from transferkit._compute import moments, resolve_device
from transferkit.errors import UsageError
from transferkit.similarity import coral_distance, frechet_distance, mmd_test
from transferkit.transferability import (
    DEFAULT_SCORES,
    SCORES,
    Candidate,
    gbc,
    h_score,
    knn_accuracy,
    leep,
    linear_probe_accuracy,
    logme,
    nleep,
    rank,
    sfda,
)
from transferkit.transferability._etran import etran_terms
from transferkit.transferability._guard import collect_notes, score_limits
from transferkit.transferability._knn import neighbours
from transferkit.transferability._ncti import ncti_terms
from transferkit.transferability._ped import ped, potential_energy_descent

# (N, D, C): tall, wide (D > N), square-ish, many classes
SHAPES = [(150, 8, 3), (300, 80, 5), (40, 100, 3), (100, 100, 4), (1500, 64, 40)]


def blobs(n: int, d: int, c: int, seed: int = 0, dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % c
    rng.shuffle(y)
    return (rng.standard_normal((n, d)) + 0.4 * y[:, None] + 3.0).astype(dtype), y


def close(new: float, old: float) -> bool:
    return abs(new - old) <= 1e-5 * abs(old) + 1e-12


@pytest.mark.parametrize(("n", "d", "c"), SHAPES)
@pytest.mark.parametrize("name", ["h_score", "regularized_h_score", "gbc", "transrate"])
def test_feature_scores_equal_the_numpy_versions(name: str, n: int, d: int, c: int) -> None:
    x, y = blobs(n, d, c, seed=n + d)
    new, old = SCORES.get(name)(x, y), getattr(legacy, name)(x, y)
    assert close(new, old), (new, old)
    if name == "gbc":
        new, old = gbc(x, y, gaussian="diagonal"), legacy.gbc(x, y, gaussian="diagonal")
        assert close(new, old), (new, old)


@pytest.mark.parametrize(("n", "d", "c"), SHAPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sfda_ncti_etran_equal_the_numpy_versions(n: int, d: int, c: int, dtype: type) -> None:
    x, y = blobs(n, d, c, seed=n + d, dtype=dtype)
    x *= 0.3  # small scale: SFDA's adaptive shrinkage and NCTI's are off their floors
    assert close(sfda(x, y), legacy.sfda(x, y))
    for new, old in ((ncti_terms(x, y), legacy.ncti_terms(x, y)), (etran_terms(x, y), legacy.etran_terms(x, y))):
        for key in old:
            assert close(new[key], old[key]), (key, new[key], old[key])
    x = x / 0.3 * 4.0  # large scale: NCTI at its 1e-10 floor (scikit-learn's svd solver), SFDA at 1e-10
    assert close(sfda(x, y), legacy.sfda(x, y))
    if n <= 64 + c:  # fewer rows than PCA directions: the former version kept round-off as directions
        return
    assert close(ncti_terms(x, y)["seli"], legacy.ncti_terms(x, y)["seli"])
    assert close(ncti_terms(x, y)["ncc"], legacy.ncti_terms(x, y)["ncc"])
    assert close(ncti_terms(x, y)["vc"], legacy.ncti_terms(x, y)["vc"])


@pytest.mark.parametrize(("n", "d", "c"), SHAPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_ped_equals_the_numpy_version(n: int, d: int, c: int, dtype: type) -> None:
    x, y = blobs(n, d, c, seed=n + 2 * d, dtype=dtype)
    moved = legacy.potential_energy_descent(x, y)
    assert np.abs(moved - x).max() > 0.01  # the classes overlap: PED moves them
    np.testing.assert_allclose(potential_energy_descent(x, y), moved, rtol=1e-10, atol=1e-10)
    assert close(ped(x, y), logme(moved, y))  # LogME from the shifted Gram matrix, without the moved copy
    ref = blobs(n, d, c, seed=1, dtype=dtype)[0] * 1.3
    assert close(ped(x, y, reference=ref), logme(legacy.potential_energy_descent(x, y, ref), y))


@pytest.mark.parametrize(("n", "d", "c"), SHAPES)
def test_knn_equals_the_numpy_version(n: int, d: int, c: int) -> None:
    x, y = blobs(n, d, c, seed=n)
    assert knn_accuracy(x, y) == pytest.approx(_legacy_knn(x, y), abs=1e-12)
    x32 = x.astype(np.float32)
    assert knn_accuracy(x32, y) == pytest.approx(_legacy_knn(x32.astype(np.float64), y), abs=1e-12)


def _legacy_knn(f: np.ndarray, y: np.ndarray, k: int = 5) -> float:
    """Leave-one-out k-NN by full float64 distance matrices (the former implementation's method)."""
    sq = np.einsum("ij,ij->i", f, f)
    d2 = sq[:, None] + sq[None, :] - 2.0 * f @ f.T
    np.fill_diagonal(d2, np.inf)
    nb = np.argsort(d2, axis=1, kind="stable")[:, :k]
    lab = y[nb]
    counts = (lab[:, :, None] == lab[:, None, :]).sum(axis=2)
    pred = lab[np.arange(len(f)), np.argmax(counts == counts.max(axis=1, keepdims=True), axis=1)]
    return float(np.mean(pred == y))


def test_knn_neighbours_are_exact_with_many_ties_and_invariant_to_order() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(0, 3, (400, 4)).astype(np.float32)  # only 81 distinct rows: distances tie a lot
    y = rng.integers(0, 3, 400)
    base = knn_accuracy(x, y)
    perm = rng.permutation(400)
    assert knn_accuracy(x[perm], y[perm]) == base
    assert knn_accuracy(x, np.array(["z", "a", "m"])[y]) == base
    # the distances of the neighbours found are the k smallest float64 distances
    rank_ = np.arange(400)
    nb = neighbours(x, np.arange(400), 5, rank_, torch.device("cpu"))
    d2 = ((x[:, None, :].astype(np.float64) - x[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(d2, np.inf)
    np.testing.assert_array_equal(np.take_along_axis(d2, nb, axis=1), np.sort(d2, axis=1)[:, :5])


def test_knn_above_the_pair_budget_estimates_on_stratified_queries_with_a_note() -> None:
    x, y = blobs(600, 10, 3, seed=5)
    exact = knn_accuracy(x, y)
    with score_limits(max_pairs=20_000, min_queries=200), collect_notes() as notes:
        approx = knn_accuracy(x, y)
        perm = np.random.default_rng(0).permutation(600)
        again = knn_accuracy(x[perm], y[perm])
    assert approx == again  # the query subset is chosen by content, not position
    assert abs(approx - exact) < 0.1
    assert "200 of 600" in notes[0] and "95% interval" in notes[0]


@pytest.mark.parametrize(("n", "d", "c"), SHAPES)
def test_logme_float32_features_equal_float64_computation(n: int, d: int, c: int) -> None:
    x, y = blobs(n, d, c, seed=d)
    x32 = x.astype(np.float32)
    assert logme(x32, y) == pytest.approx(logme(x32.astype(np.float64), y), rel=1e-10)


def test_leep_equals_the_numpy_version_without_copies() -> None:
    rng = np.random.default_rng(1)
    z = rng.standard_normal((500, 12))
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    y = rng.integers(0, 4, 500)
    assert close(leep(p, y), legacy.leep(p, y))
    assert close(leep(p.astype(np.float32), y), legacy.leep(p.astype(np.float32), y))


@pytest.mark.parametrize(("ns", "nt", "d"), [(100, 120, 6), (30, 40, 100), (300, 200, 40)])
def test_distances_equal_the_numpy_versions(ns: int, nt: int, d: int) -> None:
    rng = np.random.default_rng(ns)
    a, b = rng.standard_normal((ns, d)), 1.2 * rng.standard_normal((nt, d)) + 0.3
    assert close(coral_distance(a, b), legacy.coral(a, b))
    assert close(frechet_distance(a, b), legacy.frechet(a, b))  # d > n takes the n_S x n_T route
    for est in ("unbiased", "linear"):
        new, old = mmd_test(a, b, estimator=est, n_permutations=40), legacy.mmd_test(a, b, estimator=est,
                                                                                    n_permutations=40)
        assert close(new.value, old.value) and new.p_value == old.p_value


def test_scores_never_modify_the_callers_array() -> None:
    x, y = blobs(300, 20, 4)
    before = x.copy()
    for name in ("logme", "h_score", "regularized_h_score", "gbc", "transrate", "knn_accuracy", "sfda", "ncti",
                 "etran", "ped"):
        SCORES.get(name)(x, y)
    coral_distance(x, x[::-1] + 1.0)
    np.testing.assert_array_equal(x, before)


def test_moments_read_a_memory_map_in_bounded_chunks(tmp_path) -> None:
    x, y = blobs(5000, 16, 3, dtype=np.float32)
    path = tmp_path / "f.npy"
    np.save(path, x)
    mm = np.load(path, mmap_mode="r")
    mom = moments(mm, y, 3, device=torch.device("cpu"))
    xc = x.astype(np.float64) - x.astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(mom.gram.numpy(), xc.T @ xc, rtol=1e-10)
    assert h_score(mm, y) == pytest.approx(legacy.h_score(x, y), rel=1e-10)
    assert sfda(mm, y) == pytest.approx(legacy.sfda(x, y), rel=1e-10)
    assert ncti_terms(mm, y)["vc"] == pytest.approx(legacy.ncti_terms(x, y)["vc"], rel=1e-10)


def test_device_choice_explicit_env_and_unavailable(monkeypatch) -> None:
    assert resolve_device("cpu").type == "cpu"
    monkeypatch.setenv("TRANSFERKIT_DEVICE", "cpu")
    assert resolve_device().type == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(UsageError, match="no CUDA"):
        resolve_device("cuda")
    with pytest.raises(UsageError, match="unknown device"):
        resolve_device("tpu-ish")


def test_the_cuda_linear_algebra_path_gives_the_same_scores(monkeypatch) -> None:
    """On CUDA the eigendecompositions run in torch; force that path on the CPU and compare."""
    x, y = blobs(400, 30, 5)
    expected = {s: SCORES.get(s)(x, y) for s in ("logme", "h_score", "regularized_h_score", "gbc", "transrate",
                                                 "sfda", "ncti", "ped")}
    a, b = x[:200], x[200:] + 0.5
    fre = frechet_distance(a, b)
    monkeypatch.setenv("TRANSFERKIT_TORCH_LINALG", "1")
    for name, value in expected.items():
        assert SCORES.get(name)(x, y) == pytest.approx(value, rel=1e-9), name
    assert frechet_distance(a, b) == pytest.approx(fre, rel=1e-9)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here")
def test_scores_on_cuda_equal_cpu() -> None:  # pragma: no cover - needs a GPU
    x, y = blobs(2000, 64, 10, dtype=np.float32)
    for name in ("logme", "regularized_h_score", "knn_accuracy", "gbc", "sfda", "etran"):
        assert SCORES.get(name)(x, y, device="cuda") == pytest.approx(SCORES.get(name)(x, y, device="cpu"), rel=1e-6)


def test_nleep_and_linear_probe_subsample_above_max_rows_with_a_note() -> None:
    x, y = blobs(900, 6, 3, seed=2)
    with score_limits(max_rows=300), collect_notes() as notes:
        v1 = nleep(x, y)
        p1 = linear_probe_accuracy(x, y)
        perm = np.random.default_rng(1).permutation(900)
        assert nleep(x[perm], y[perm]) == pytest.approx(v1, rel=1e-7)
    assert np.isfinite(v1) and 0.0 <= p1 <= 1.0
    assert any("nleep" in n and "300 of 900" in n for n in notes)
    assert any("linear_probe_accuracy" in n and "300 of 900" in n for n in notes)


def test_rank_records_guard_notes_and_limits_in_results() -> None:
    x, y = blobs(500, 8, 3)
    with score_limits(max_pairs=10_000, min_queries=100):
        table = rank([Candidate("a", x), Candidate("b", x[:, :4])], None, labels=y,
                     scores=("logme", "knn_accuracy"))
    assert all(any("knn_accuracy: estimated" in n for n in r.notes) for r in table.rows)
    with pytest.raises(UsageError, match="unknown score limit"):
        with score_limits(max_bananas=3):
            pass


def test_cli_score_limits_parse_and_reject() -> None:
    from transferkit.cli.rank_cmd import parse_limits

    assert parse_limits("max_rows=50000, max_pairs=4e9,warn_seconds=30") == {
        "max_rows": 50000, "max_pairs": 4_000_000_000, "warn_seconds": 30.0}
    assert parse_limits("") == {}
    with pytest.raises(UsageError, match="key=number"):
        parse_limits("max_rows")


def test_run_rank_saves_the_limits_in_force() -> None:
    from transferkit.data import Dataset
    from transferkit.transferability import run_rank

    x, y = blobs(120, 6, 3)
    ds = Dataset(x=x.astype(np.float32), y=y, kind="table", class_names=("a", "b", "c"), name="blobs")
    results = run_rank(ds, ["raw"], ["logme", "knn_accuracy"], limits={"max_pairs": 5000, "min_queries": 50})
    section = results["sections"]["ranking"]
    assert section["limits"]["max_pairs"] == 5000 and section["limits"]["max_rows"] == 20_000
    assert "knn_accuracy: estimated on a class-stratified subset of 50 of 120" in section["rows"][0]["notes"]


def test_rank_scaling_benchmark_child_measures_every_default_score() -> None:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "rank_scaling.py"
    spec = importlib.util.spec_from_file_location("rank_scaling", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = bench.child(400, 16, 4)  # rank's default scores
    assert set(out["scores"]) == {"check_rows", *DEFAULT_SCORES}
    assert all(m["cpu_s"] >= 0 and m["peak_rss"] > 0 for m in out["scores"].values())
    assert out["scores"]["knn_accuracy"]["value"] == pytest.approx(knn_accuracy(*bench.make_blobs(400, 16, 4)))
    assert bench.exponent(1.0, 10.0, 1000, 10000) == pytest.approx(1.0)

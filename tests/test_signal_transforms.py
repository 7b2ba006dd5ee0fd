"""Per-group signal transforms: channel standardisation and Euclidean alignment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from transferkit.data import Dataset
from transferkit.data.signal_transforms import (
    channel_standardize,
    euclidean_align,
    inverse_sqrt_psd,
    mean_covariance,
    normalize_dataset,
    normalize_signals,
)
from transferkit.errors import DataError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _subjects(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three 'subjects' whose channels are mixed and scaled differently (like electrode placement)."""
    rng = np.random.default_rng(seed)
    xs, gs = [], []
    for s in range(3):
        mix = rng.normal(size=(4, 4)) + 2 * np.eye(4)
        src = rng.normal(size=(30, 4, 64)) * (1 + s)
        xs.append(np.einsum("cd,ndt->nct", mix, src) + s)
        gs.append(np.full(30, s + 1))
    return np.concatenate(xs), np.concatenate(gs)


def test_ea_makes_each_subject_mean_covariance_identity() -> None:
    x, g = _subjects()
    out = euclidean_align(x, g)
    assert out.shape == x.shape and out.dtype == np.float32
    for s in np.unique(g):
        before = mean_covariance(x[g == s])
        assert np.abs(before - np.eye(4)).max() > 0.5  # the raw data was far from aligned
        np.testing.assert_allclose(mean_covariance(out[g == s]), np.eye(4), atol=1e-4)


def test_ea_is_per_group_and_label_free() -> None:
    x, g = _subjects()
    full = euclidean_align(x, g)
    alone = euclidean_align(x[g == 2], g[g == 2])  # a new subject alone gets the same transform
    np.testing.assert_allclose(full[g == 2], alone, atol=1e-5)
    one = euclidean_align(x, None)  # one group: only the pooled covariance becomes I
    np.testing.assert_allclose(mean_covariance(one), np.eye(4), atol=1e-4)
    assert np.abs(mean_covariance(one[g == 3]) - np.eye(4)).max() > 0.1


def test_ea_centering_and_shrinkage() -> None:
    x, g = _subjects()
    c = euclidean_align(x, g, center=True)
    np.testing.assert_allclose(c.mean(axis=2), 0, atol=1e-4)
    s = euclidean_align(x, g, shrinkage=0.5)
    assert np.isfinite(s).all() and not np.allclose(s, euclidean_align(x, g))
    with pytest.raises(DataError, match="shrinkage"):
        euclidean_align(x, g, shrinkage=1.0)


def test_inverse_sqrt_psd() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(size=(5, 5))
    m = a @ a.T + np.eye(5)
    r = inverse_sqrt_psd(m)
    np.testing.assert_allclose(r @ m @ r, np.eye(5), atol=1e-8)
    with pytest.raises(DataError, match="constant"):
        inverse_sqrt_psd(np.zeros((3, 3)))


def test_channel_standardize_per_group() -> None:
    x, g = _subjects()
    out = channel_standardize(x, g)
    for s in np.unique(g):
        blk = out[g == s]
        np.testing.assert_allclose(blk.mean(axis=(0, 2)), 0, atol=1e-4)
        np.testing.assert_allclose(blk.std(axis=(0, 2)), 1, atol=1e-4)
    const = np.ones((4, 2, 8))
    np.testing.assert_allclose(channel_standardize(const), 0)  # constant channel: centred, no division by 0


def test_normalize_signals_methods_and_errors() -> None:
    x, g = _subjects()
    np.testing.assert_allclose(normalize_signals(x, g, "none"), x.astype(np.float32))
    both = normalize_signals(x, g, "channel+ea")
    for s in np.unique(g):
        np.testing.assert_allclose(mean_covariance(both[g == s]), np.eye(4), atol=1e-4)
    with pytest.raises(DataError, match="unknown signal normalisation"):
        normalize_signals(x, g, "zscore")
    with pytest.raises(DataError, match=r"\(N, C, T\)"):
        euclidean_align(x[:, :, 0], g)
    with pytest.raises(DataError, match="one group id per trial"):
        channel_standardize(x, g[:-1])
    bad = x.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(DataError, match="NaN"):
        euclidean_align(bad, g)


def test_normalize_dataset() -> None:
    x, g = _subjects()
    ds = Dataset(x=x.astype(np.float32), y=np.arange(len(x)) % 2, kind="signal", groups=g, name="toy",
                 class_names=("a", "b"))
    out = normalize_dataset(ds, "ea")
    assert out.meta["signal_norm"] == "ea" and len(out) == len(ds)
    np.testing.assert_array_equal(out.y, ds.y)
    np.testing.assert_allclose(mean_covariance(out.x[g == 1]), np.eye(4), atol=1e-4)
    with pytest.raises(DataError, match="group ids"):
        normalize_dataset(Dataset(x=x.astype(np.float32), y=None, kind="signal"), "ea")
    with pytest.raises(DataError, match="kind 'signal'"):
        normalize_dataset(Dataset(x=np.zeros((3, 2)), y=None, kind="table"), "ea")


def test_ea_on_uci_har_subjects() -> None:
    if not (DATA / "uci_har_adatime").exists():
        pytest.skip(f"UCI HAR is not at {DATA / 'uci_har_adatime'}")
    from transferkit.data import load_dataset

    ds = load_dataset("uci-har:1-3", root=DATA)
    out = normalize_dataset(ds, "ea")
    for s in (1, 2, 3):
        np.testing.assert_allclose(mean_covariance(out.x[ds.groups == s]), np.eye(9), atol=1e-3)

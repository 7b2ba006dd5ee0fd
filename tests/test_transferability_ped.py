"""PED: the authors' values on fixed inputs, and the promises of the potential-energy step."""

from __future__ import annotations

import numpy as np
import pytest
from test_transferability_sfda import blobs  # the same generator the SFDA reference values used

from transferkit.errors import DataError
from transferkit.transferability import SCORES, logme, ped, sfda
from transferkit.transferability._ped import potential_energy_descent

# Reference: lixiaotong97/PED, metrics.py at commit e5af6e79779cbbf16c3c1b4e1961fa74c9a282d2, run
# unchanged with its ``utils.iterative_A`` copied beside it (their utils.py imports model code this
# check does not need): ``PED_Score(X, y, general_X=G, exit_ratio=0.5, time_step=0.1, type=T,
# nsigma=0.6, constant=1.0)`` (the defaults of their evaluate_metric_cpu.py), with the moved
# features captured by wrapping ``metrics.LogME_Score``. All runs took the full 6 steps.
# digits = load_digits().data / 16 with its labels, G = the same features.
REF_DIGITS_LOGME = 0.30981646288450226
REF_DIGITS_SFDA = 0.835322353417577
REF_DIGITS_SFDA_SHRINKAGE = 0.20034213373576223  # their SFDA's power-iteration shrinkage on the moved features
REF_DIGITS_MOVED_SUM = 35106.33425352462
REF_DIGITS_MOVED_ABS_SHIFT = 819.0882915710844  # sum |moved - original|
REF_DIGITS_ROW0 = [0.0, -1.4645970572858824e-05, 0.3134598894402263, 0.8148070909260253]
REF_DIGITS_ROW5 = [0.0, 0.0023647694957627356, 0.7656771216125504, 0.6292200290540902]
# blobs(120, 6, 3, sep=1.0, seed=0) below, G = the same features
REF_BLOBS_LOGME = -0.7259196223474159
REF_BLOBS_SFDA = 0.4122847269199345
REF_BLOBS_SFDA_SHRINKAGE = 0.0014597629196843726
REF_BLOBS_MOVED_SUM = -68.68883605910675
REF_BLOBS_ROW0 = [0.5429221195982312, 0.8778036228990717, 0.5991721443655935, 1.5026593892622406]
# target = digits[:900], G = digits[900:] (a separate reference set, as the paper's ImageNet features)
REF_SPLIT_LOGME = 0.2976037704068048
REF_SPLIT_MOVED_SUM = 17715.717302937956
REF_SPLIT_ROW7 = [0.4378693768488102, 0.4388698869674515, 0.2515884806922976, 0.6992899190848295]  # columns 10:14


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return x / 16.0, y


def test_registered_as_a_feature_score() -> None:
    info = SCORES.info("ped")
    assert info.input == "features" and info.task == "classification" and info.higher_is_better
    assert info.terms is None  # a per-model score, not relative to the candidate set


def test_moved_features_match_the_authors_code(digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = digits
    moved = potential_energy_descent(x, y)
    assert moved.sum() == pytest.approx(REF_DIGITS_MOVED_SUM, rel=1e-12)
    assert np.abs(moved - x).sum() == pytest.approx(REF_DIGITS_MOVED_ABS_SHIFT, rel=1e-10)
    np.testing.assert_allclose(moved[0, :4], REF_DIGITS_ROW0, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(moved[5, :4], REF_DIGITS_ROW5, rtol=1e-10, atol=1e-14)
    bx, by = blobs(120, 6, 3, sep=1.0, seed=0)
    bmoved = potential_energy_descent(bx, by)
    assert bmoved.sum() == pytest.approx(REF_BLOBS_MOVED_SUM, rel=1e-12)
    np.testing.assert_allclose(bmoved[0, :4], REF_BLOBS_ROW0, rtol=1e-12)


def test_scores_match_the_authors_code(digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = digits
    # our LogME maximises the evidence exactly, theirs takes at most 11 fixed-point steps: ~1e-9 apart
    assert ped(x, y) == pytest.approx(REF_DIGITS_LOGME, abs=1e-8)
    moved = potential_energy_descent(x, y)
    assert sfda(moved, y, shrinkage=REF_DIGITS_SFDA_SHRINKAGE) == pytest.approx(REF_DIGITS_SFDA, abs=1e-10)
    # the default SFDA takes the exact largest eigenvalue for its shrinkage (see _sfda.py)
    assert abs(ped(x, y, base="sfda") - REF_DIGITS_SFDA) < 2e-3
    bx, by = blobs(120, 6, 3, sep=1.0, seed=0)
    assert ped(bx, by) == pytest.approx(REF_BLOBS_LOGME, abs=1e-8)
    bmoved = potential_energy_descent(bx, by)
    assert sfda(bmoved, by, shrinkage=REF_BLOBS_SFDA_SHRINKAGE) == pytest.approx(REF_BLOBS_SFDA, abs=1e-10)


def test_separate_reference_features_match_the_authors_code(digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = digits
    moved = potential_energy_descent(x[:900], y[:900], reference=x[900:])
    assert moved.sum() == pytest.approx(REF_SPLIT_MOVED_SUM, rel=1e-12)
    np.testing.assert_allclose(moved[7, 10:14], REF_SPLIT_ROW7, rtol=1e-10)
    assert ped(x[:900], y[:900], reference=x[900:]) == pytest.approx(REF_SPLIT_LOGME, abs=1e-8)
    with pytest.raises(DataError, match="columns"):
        ped(x[:900], y[:900], reference=x[900:, :10])


def test_pushes_overlapping_classes_apart_and_raises_logme() -> None:
    x, y = blobs(150, 6, 3, sep=1.0, seed=3)
    moved = potential_energy_descent(x, y)

    def gap(f: np.ndarray) -> float:
        means = np.array([f[y == k].mean(axis=0) for k in range(3)])
        return float(np.linalg.norm(means[:, None] - means[None], axis=2).sum())

    assert gap(moved) > gap(x)
    # within-class structure is kept: every class moves rigidly
    for k in range(3):
        shift = moved[y == k] - x[y == k]
        np.testing.assert_allclose(shift, np.broadcast_to(shift[0], shift.shape), atol=1e-12)
    assert ped(x, y) > logme(x, y)


def test_far_apart_classes_do_not_move() -> None:
    x, y = blobs(90, 4, 3, sep=60.0, seed=4)
    np.testing.assert_allclose(potential_energy_descent(x, y), x, rtol=0, atol=1e-12)
    assert ped(x, y) == pytest.approx(logme(x, y), abs=1e-12)


def test_identical_class_means_give_finite_values() -> None:
    # the reference divides by the distance between class means (NaN when two coincide)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((80, 5))
    y = np.arange(80) % 2
    x[y == 1] = x[y == 0]  # both classes have exactly the same samples, hence the same mean
    moved = potential_energy_descent(x, y)
    assert np.all(np.isfinite(moved))
    assert np.isfinite(ped(x, y))


def test_rejects_unknown_base() -> None:
    x, y = blobs(60, 4, 3, sep=1.0, seed=6)
    with pytest.raises(DataError, match="base"):
        ped(x, y, base="leep")  # type: ignore[arg-type]

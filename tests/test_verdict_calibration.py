"""Calibration of the verdict: no effect gives few false calls, a planted effect is found.

The simulation works at the level the verdict sees: per seed, a fresh test split whose examples
differ in difficulty (shared by both arms, so the arms are paired), a training-randomness effect
per arm and seed, and per-example correctness. Each comparison goes through the same function the
runner uses (:func:`~transferkit.experiments.verdicts.cell_difference`). One end-to-end null check
runs two copies of the same recipe through the runner on real digits.
"""

from __future__ import annotations

import numpy as np
import pytest

from transferkit.evaluation.bootstrap import metric_from_predictions
from transferkit.experiments.records import CellResult
from transferkit.experiments.verdicts import cell_difference

N_SIM = 200


def _comparison(rng: np.random.Generator, effect: float, seeds: int = 5, n_test: int = 200, seed_sd: float = 0.25,
                difficulty_sd: float = 1.0, base: float = 0.75) -> str:
    """One simulated transfer-vs-scratch comparison; ``effect`` is added to transfer's log-odds of being right."""
    cells_t, cells_s = [], []
    for s in range(seeds):
        y = rng.integers(0, 2, n_test)
        logit = np.log(base / (1 - base)) + rng.normal(0, difficulty_sd, n_test)  # the seed's own test split
        preds = []
        for shift in (effect, 0.0):
            right = rng.random(n_test) < 1 / (1 + np.exp(-(logit + rng.normal(0, seed_sd) + shift)))
            preds.append(np.where(right, y, 1 - y))
        for arm, p, out in (("transfer", preds[0], cells_t), ("scratch", preds[1], cells_s)):
            m = {"accuracy": metric_from_predictions("accuracy", y, p, 2)}
            out.append(CellResult(arm, s, m, float("nan"), 80, 20, test_y=tuple(y.tolist()),
                                  test_pred=tuple(p.tolist())))
    return cell_difference("transfer", "scratch", cells_t, cells_s, "accuracy", True, 2, n_boot=1000).verdict


def _rate(effect: float, seed: int, **kw: float) -> float:
    rng = np.random.default_rng(seed)
    verdicts = [_comparison(rng, effect, **kw) for _ in range(N_SIM)]
    if effect == 0:  # a false call: either direction ("insufficient test data" makes no call)
        return float(np.mean([v in ("positive", "negative") for v in verdicts]))
    return float(np.mean([v == ("positive" if effect > 0 else "negative") for v in verdicts]))


@pytest.mark.parametrize("kw", [{}, {"seeds": 3, "n_test": 60}, {"seeds": 2, "n_test": 30, "seed_sd": 0.1}])
def test_no_effect_gives_at_most_five_percent_false_calls(kw: dict) -> None:
    false_calls = _rate(0.0, 11, **kw)
    print(f"false-call rate {false_calls:.3f} over {N_SIM} null comparisons ({kw or 'default'})")
    assert false_calls <= 0.05


def test_training_noise_alone_is_called_at_the_nominal_rate() -> None:
    # the limit where training randomness swamps test noise (large test split, unstable seeds): any exact
    # 95% interval calls 5% of null comparisons there; 200 draws put 5% within about +-3 points
    false_calls = _rate(0.0, 13, seed_sd=0.6, n_test=1000)
    print(f"false-call rate {false_calls:.3f} over {N_SIM} null comparisons, training noise dominant")
    assert false_calls <= 0.08


@pytest.mark.slow  # 800 simulated comparisons
def test_planted_effects_are_found_and_power_grows_with_size() -> None:
    # log-odds shifts at 75% base accuracy: 0.3 ~ +5, 0.6 ~ +9, 1.0 ~ +14 points, -1.0 ~ -19 points of accuracy
    powers = {eff: _rate(eff, 12) for eff in (0.3, 0.6, 1.0, -1.0)}
    print("power (5 seeds, 200 test examples per seed):", {k: round(v, 3) for k, v in powers.items()})
    assert powers[1.0] >= 0.9 and powers[-1.0] >= 0.9
    assert powers[0.3] < powers[0.6] < powers[1.0]


def test_same_recipe_twice_through_the_runner_is_not_called() -> None:
    from sklearn.datasets import load_digits
    from sklearn.linear_model import SGDClassifier

    from transferkit.data import Dataset, TransferTask
    from transferkit.experiments.runner import Arm, Fitted, Split, run_budget

    d = load_digits()  # 1797 real 8x8 handwritten digits (shipped with scikit-learn)
    task = TransferTask(target=Dataset(x=(d.images[:, None] / 16).astype(np.float32), y=d.target, kind="image",
                                       class_names=tuple(str(i) for i in range(10)), name="digits"))

    def recipe(offset: int):  # the same recipe; only its random stream differs between the two arms
        def fit(train, val, seed):  # type: ignore[no-untyped-def]
            clf = SGDClassifier(loss="log_loss", random_state=1000 * offset + seed, max_iter=30, tol=None)
            clf.fit(train.x.reshape(len(train), -1), train.y)
            return Fitted(lambda d: clf.predict_proba(d.x.reshape(len(d), -1)))
        return fit

    def splits(b, seed):  # type: ignore[no-untyped-def]
        s = task.seed_splits(b, seed)
        return Split(s.train, s.val, s.test)

    arms = [Arm("transfer", "recipe A", "transfer", recipe(1)), Arm("scratch", "recipe A again", "baseline", recipe(2))]
    res = run_budget(splits, arms, [0, 1, 2, 3, 4], 20, "accuracy", 10, ship=False)
    assert res.verdict == "inconclusive", res.diff
    assert res.diff is not None and res.diff.method.startswith("hierarchical paired bootstrap")
    assert -1 <= res.diff.estimate.ci_low < 0 < res.diff.estimate.ci_high <= 1
    assert res.n_labelled == 200  # 20 labels per class in all: training and validation together
    # results.json alone is enough to compute the interval again (what a report can re-check)
    import json

    from transferkit.experiments.verdicts import interval_from_section

    again = interval_from_section(json.loads(json.dumps(res.section())))
    assert again is not None and again.to_dict() == res.diff.to_dict()

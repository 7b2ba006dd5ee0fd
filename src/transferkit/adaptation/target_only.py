"""The few-label baseline: a model trained on the labelled target examples alone, beside the adapted one.

With ``--target-labels N`` the user owns ``N`` labelled target examples per class. Adaptation is
only worth it if the chosen model also beats what those labels give on their own.
:func:`target_only_comparison` trains the base classifier on them (shallow and text runs: in the
same feature space the shallow methods read) and compares it with the recommended model on the
held-out target *test* rows, example by example (paired t-interval over examples). This is an
evaluation after every choice was made, never an input to a choice.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone

from transferkit.adaptation.api import AdaptationResult
from transferkit.adaptation.shallow._base import check_features, default_base_estimator
from transferkit.evaluation.stats import paired_difference


def target_only_comparison(result: AdaptationResult, target_val: tuple[Any, Any], x_test: Any, y_test: Any,
                           base_estimator: Any = None) -> dict[str, Any]:
    """Test accuracy of a target-only model and the paired difference ``recommended - target-only``.

    Returns a record with ``available: False`` (and why) for deep runs, or when the labelled
    examples hold fewer than two classes.
    """
    xv, yv = target_val
    yv = result.encode(yv, "target_val")
    if result.kind != "shallow":
        return {"available": False, "why": "a target-only network is not trained for deep runs (use the "
                "shallow methods on frozen features for this comparison)"}
    if len(np.unique(yv)) < 2:
        return {"available": False, "why": "the labelled target examples hold a single class"}
    prep = (lambda x: check_features(x)) if result.prepare is None else (lambda x: check_features(result.prepare(x)))
    est = clone(base_estimator) if base_estimator is not None else default_base_estimator()
    est.fit(prep(xv), yv)
    y = result.encode(y_test)
    xt = prep(x_test)
    # the model's classes are the labelled examples' classes; map back to the source class indices
    pred_to = est.classes_[est.predict_proba(xt).argmax(1)]
    target_only_correct = (pred_to == y).astype(float)
    rec = result.verdict.recommended
    seeds = sorted({r["seed"] for r in result.rows if r["model"] == rec})
    rec_correct = np.mean([(result.predict_proba(x_test, rec, s).argmax(1) == y) for s in seeds], axis=0)
    diff = paired_difference(rec_correct, target_only_correct)
    verdict = "recommended model better" if diff.ci_low > 0 else (
        "target-only better" if diff.ci_high < 0 else "inconclusive")
    return {"available": True, "recommended": rec, "n_target_labels": int(len(yv)),
            "target_only_accuracy": float(target_only_correct.mean()), "recommended_accuracy": float(rec_correct.mean()),
            "gain_over_target_only": diff.mean, "gain_ci": [diff.ci_low, diff.ci_high], "verdict": verdict}

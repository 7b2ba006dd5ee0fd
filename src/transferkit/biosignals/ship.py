"""Ship ``transferkit har``'s per-subject models: one model folder per held-out subject.

Decision: ``RUN/models/subject-<id>/`` for every target subject (and ``--save DIR/subject-<id>``),
each an ordinary model folder (``tk.load_model``, ``transferkit predict``). Each holds the never-worse
gate's choice for that subject at its largest k (transfer, scratch or the source model as it is,
chosen on the subject's validation windows, the best-validation seed's weights) and that
subject's normalisation: the per-channel statistics and the Euclidean-alignment matrix computed
from the subject's own unlabelled windows during the run, stored with the weights
(:class:`~transferkit.backbones.shipped.InputTransform`) and applied to raw windows before the
network. So ``predict`` on the subject's raw windows (``uci-har:21``) gives exactly the predictions
the run scored; predicting the test windows the card lists (``evaluation.test_rows``, positions
among the subject's windows in data-set order) gives back the card's test accuracy. A new session
of the same person is normalised with the statistics of the calibration session; recompute them
(rerun ``har``) when the sensors moved.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from transferkit.backbones.shipped import InputTransform
from transferkit.data.dataset import Dataset
from transferkit.data.signal_transforms import channel_standardize, inverse_sqrt_psd, mean_covariance
from transferkit.data.splits import stratified_indices
from transferkit.experiments.records import BudgetResult, Estimate


def subject_transform(x: np.ndarray, method: str, subject: int) -> InputTransform | None:
    """The normalisation ``method`` of one subject's raw windows ``(N, C, T)`` as stored statistics (None: none).

    The statistics are computed the way :func:`~transferkit.data.signal_transforms.normalize_signals`
    computes them, so applying the transform to these windows gives the same float32 values.
    """
    if method == "none":
        return None
    arr = np.asarray(x, dtype=np.float32)
    arrays: dict[str, np.ndarray] = {}
    if method in ("channel", "channel+ea"):
        block = arr.astype(np.float64)
        std = block.std(axis=(0, 2))
        arrays["mean"], arrays["scale"] = block.mean(axis=(0, 2)), np.where(std > 1e-8, std, 1.0)
        arr = channel_standardize(arr)
    if method in ("ea", "channel+ea"):
        arrays["matrix"] = inverse_sqrt_psd(mean_covariance(arr.astype(np.float64)))
    return InputTransform("signal_norm", method, arrays, {"subject": int(subject), "windows": len(x)})


def ship_subjects(root: str | os.PathLike[str], kept: list[tuple[int, BudgetResult, Dataset]], cfg: Any,
                  results: dict[str, Any], save: Any = None) -> dict[str, Any]:
    """Write one model folder per subject under ``root`` (and ``save``); returns the ``shipped`` section."""
    from transferkit.experiments.shipping import ship_budget

    root = Path(root)
    subjects: dict[str, Any] = {}
    for subject, budget, raw in kept:
        sh = budget.shipped
        if sh is None or budget.shipped_model is None:
            continue
        folder = root / f"subject-{subject}"
        test_rows = stratified_indices(raw.y, len(raw), (1 - cfg.test_fraction, cfg.test_fraction), int(sh.seed or 0))[1]
        extra = {"subject": subject, "evaluation": {
            "data": f"{results['data']['dataset']['name'].split(':')[0]}:{subject}", "seed": sh.seed,
            "k_per_class": budget.budget, "test_rows": [int(i) for i in np.sort(test_rows)],
            "note": "positions among the subject's windows in data-set order; predicting these raw windows gives "
                    "the test accuracy above"}}
        ship_budget(folder, budget, raw, results, name=f"subject {subject}",
                    save=Path(save) / folder.name if save is not None else None,
                    input_transform=subject_transform(raw.x, cfg.norm, subject), extra=extra)
        subjects[str(subject)] = {**sh.to_dict(), "model": str(folder)}
    tests = [s["test_seed"] for s in subjects.values() if s.get("test_seed") is not None]
    arms = sorted({s["name"] for s in subjects.values()})
    return {"headline": f"This run ships {len(subjects)} per-subject models (one folder per held-out subject), "
                        f"each with its subject's normalisation: {', '.join(arms)}.",
            "reason": "per subject, the never-worse gate at its largest k: the arm with the best mean validation "
                      "accuracy on that subject's validation windows, its best-validation seed",
            "name": "per-subject models", "role": "", "seed": None, "verdict": "", "metric": "accuracy",
            "test": Estimate.of(tests).to_dict(), "test_seed": None, "val": {}, "model": str(root),
            **({"saved_to": str(save)} if save is not None else {}), "subjects": subjects}


__all__ = ["ship_subjects", "subject_transform"]

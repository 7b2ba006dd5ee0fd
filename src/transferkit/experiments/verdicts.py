"""From finished cells to a verdict that holds up: test-set noise, enough evidence, a baseline that trained.

:func:`cell_difference` turns two arms' cells over paired seeds into a
:class:`~transferkit.experiments.records.Difference` whose interval is the hierarchical paired
bootstrap of :mod:`transferkit.evaluation.bootstrap` (seeds, then the test examples of each seed,
both arms on the same examples) when the cells carry their per-example predictions, and whose
verdict is :func:`~transferkit.evaluation.stats.comparison_verdict`. :func:`disagreement` says when
the chosen metric and accuracy / balanced accuracy point different ways.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from transferkit.evaluation.bootstrap import SUPPORTED, SeedPredictions, hierarchical_bootstrap
from transferkit.evaluation.stats import BASELINE_FAILED, INSUFFICIENT, comparison_verdict, paired_difference
from transferkit.experiments.records import CellResult, Difference, Estimate, value_range

MIN_TEST_PER_CLASS = 10
"""Fewer test examples than this in any class (any seed) and the comparison makes no call."""


def min_class_count(cells: Sequence[CellResult], num_classes: int) -> int | None:
    """The fewest test examples of any class over ``cells`` (None: regression, or no labels kept)."""
    counts = [np.bincount(np.asarray(c.test_y, dtype=int), minlength=num_classes).min()
              for c in cells if c.test_y and not isinstance(c.test_y[0], (list, float))]
    return int(min(counts)) if counts else None


def baseline_trained(cells: Sequence[CellResult]) -> bool:
    """False when every cell of a baseline recorded a chance level and its best validation score never rose
    above it by more than luck gives a chance-level model on that many examples (``chance_margin``)."""
    judged = [c for c in cells if c.info.get("chance_val") is not None and np.isfinite(c.val_score)]
    if not judged:
        return True
    return any(c.val_score > c.info["chance_val"] + c.info.get("chance_margin", 0.0) for c in judged)


def cell_difference(a: str, b: str, cells_a: Sequence[CellResult], cells_b: Sequence[CellResult], metric: str,
                    higher_is_better: bool, num_classes: int, *, min_test_per_class: int = MIN_TEST_PER_CLASS,
                    baseline_ok: bool = True, n_boot: int = 2000) -> Difference:
    """``a`` against ``b`` over paired cells (same seeds, same test examples per seed)."""
    scores_a = [c.metrics.get(metric, np.nan) for c in cells_a]
    scores_b = [c.metrics.get(metric, np.nan) for c in cells_b]
    have = all(c.test_pred and c.test_y for c in (*cells_a, *cells_b))
    if have and metric in SUPPORTED:
        groups = [SeedPredictions(np.asarray(x.test_y), np.asarray(x.test_pred), np.asarray(y.test_pred))
                  for x, y in zip(cells_a, cells_b)]
        k = num_classes if metric not in ("mae", "rmse", "r2") else None
        seed = int(sum(c.seed for c in cells_a)) + 7919 * len(cells_a)  # the same interval on every re-run
        bi = hierarchical_bootstrap(groups, metric, higher_is_better=higher_is_better, value_range=value_range(metric),
                                    num_classes=k, n_boot=n_boot, rng=seed)
        est, method = Estimate(bi.mean, bi.ci_low, bi.ci_high, bi.per_seed), bi.method
    else:  # no per-example predictions (an old record) or a metric of scores (AUROC): seeds only
        d = paired_difference(scores_a, scores_b, higher_is_better=higher_is_better)
        est = Estimate(d.mean, d.ci_low, d.ci_high, tuple(d.per_seed))
        method = "paired Student-t interval over seeds (test-set noise not included)"
    verdict = comparison_verdict(est.ci_low if est.ci_low is not None else -np.inf,
                                 est.ci_high if est.ci_high is not None else np.inf, n_seeds=len(cells_a),
                                 min_class_count=min_class_count([*cells_a, *cells_b], num_classes),
                                 min_test_per_class=min_test_per_class, baseline_trained=baseline_ok)
    return Difference(a, b, est, verdict, method)


def disagreement(metric: str, higher_is_better: bool, a: dict[str, float], b: dict[str, float],
                 b_name: str = "scratch") -> str:
    """A sentence when the mean improvement on ``metric`` and on accuracy / balanced accuracy differ in sign."""
    if metric in ("accuracy", "balanced_accuracy") or metric not in a or metric not in b:
        return ""
    sign = 1.0 if higher_is_better else -1.0
    main = sign * (a[metric] - b[metric])
    out = []
    for other in ("accuracy", "balanced_accuracy"):
        if other in a and other in b and np.isfinite(a[other]) and np.isfinite(b[other]):
            d = a[other] - b[other]
            if abs(main) > 1e-9 and abs(d) > 1e-9 and np.sign(d) != np.sign(main):
                out.append(f"{other} {a[other]:.3f} vs {b[other]:.3f}")
    if not out:
        return ""
    side = "transfer" if main > 0 else b_name
    return (f"Metrics disagree: {metric} favours {side} ({a[metric]:.3f} vs {b[metric]:.3f}) but "
            + " and ".join(out) + f" favour{'s' if len(out) == 1 else ''} the other side; read the verdict with care.")


def insufficient_note(count: int | None, min_test_per_class: int) -> str:
    """What the ``insufficient test data`` verdict rests on, in words."""
    if count is None:
        return ""
    return (f"The smallest class has {count} test example{'s' if count != 1 else ''} "
            f"(at least {min_test_per_class} needed).")


def describe_no_call(verdict: str, details: dict[str, Any]) -> str:
    """A line on why a comparison made no call (empty for the other verdicts)."""
    if verdict == INSUFFICIENT:
        return insufficient_note(details.get("min_class_count"), int(details.get("min_test_per_class", 10)))
    if verdict == BASELINE_FAILED:
        return "Scratch's best validation score stayed at the chance level on every seed."
    return ""


def differences(arms: Sequence[tuple[str, str]], seeds: Sequence[int], cells: dict[tuple[int, str], CellResult],
                metric: str, higher_is_better: bool, num_classes: int,
                min_test_per_class: int = MIN_TEST_PER_CLASS) -> tuple[Difference | None, dict[str, Difference]]:
    """Transfer against the baseline (the verdict) and against every other arm, over their common seeds.

    ``arms``: ``(key, role)`` pairs in order; the first ``transfer`` arm is compared with the others.
    """
    tk = next((k for k, r in arms if r == "transfer"), None)
    diff: Difference | None = None
    versus: dict[str, Difference] = {}
    for key, role in arms:
        if tk is None or key == tk:
            continue
        common = [s for s in seeds if (s, tk) in cells and (s, key) in cells]
        if not common:
            continue
        other = [cells[(s, key)] for s in common]
        d = cell_difference(tk, key, [cells[(s, tk)] for s in common], other, metric, higher_is_better,
                            num_classes, min_test_per_class=min_test_per_class,
                            baseline_ok=baseline_trained(other) if role == "baseline" else True)
        if role == "baseline" and diff is None:
            diff = d
        else:
            versus[key] = d
    return diff, versus


def verdict_notes(diff: Difference | None, cells: dict[tuple[int, str], CellResult], transfer: Any, baseline: Any,
                  metric: str, higher_is_better: bool, num_classes: int, min_test_per_class: int) -> list[str]:
    """Lines shown beside the verdict: why no call was made, and metrics that disagree."""
    notes = []
    if diff is not None:
        own = [c for (s, k), c in cells.items() if k in (diff.a, diff.b)]
        line = describe_no_call(diff.verdict, {"min_class_count": min_class_count(own, num_classes),
                                               "min_test_per_class": min_test_per_class})
        if line:
            notes.append(line)
        if len(diff.estimate.per_seed) == 1:
            notes.append("One seed: the interval covers test-set noise only; run at least 2 seeds for a verdict.")
    if transfer is not None and baseline is not None:
        line = disagreement(metric, higher_is_better, transfer.metrics, baseline.metrics)
        if line:
            notes.append(line)
    return notes


def classical_note(versus: dict[str, Difference], name: str, metric: str) -> str:
    """The classical baseline's own verdict in words (empty when it did not run)."""
    d = versus.get("classical")
    if d is None or d.estimate.mean is None:
        return ""

    def f(v: float | None) -> str:
        return "?" if v is None or not np.isfinite(v) else f"{v:+.3f}"

    e = d.estimate
    return (f"Against the classical baseline ({name}): transfer {f(e.mean)} {metric} [{f(e.ci_low)}, {f(e.ci_high)}], "
            f"verdict {d.verdict}.")


def examples_of(arms: Sequence[Any], seeds: Sequence[int], cells: dict[tuple[int, str], CellResult],
                num_classes: int = 0) -> dict[str, Any]:
    """Per-example test labels and every arm's predictions per seed (results.json's ``examples``), so the
    interval can be computed again from the results alone."""
    done = [s for s in seeds if any((s, a.key) in cells and cells[(s, a.key)].test_y for a in arms)]
    y = [next(list(cells[(s, a.key)].test_y) for a in arms if (s, a.key) in cells and cells[(s, a.key)].test_y)
         for s in done]
    pred = {a.key: [list(cells[(s, a.key)].test_pred) if (s, a.key) in cells else None for s in done] for a in arms}
    return {"seeds": done, "y": y, "pred": pred, "num_classes": num_classes} if done else {}


def interval_from_section(section: dict[str, Any], other: str = "scratch",
                          min_test_per_class: int = MIN_TEST_PER_CLASS) -> Difference | None:
    """The transfer-vs-``other`` difference computed again from a comparison section's ``examples``
    (results.json alone): the same interval and verdict the run reported (None without examples)."""
    ex = section.get("examples") or {}
    pred = ex.get("pred") or {}
    key = other
    if not ex.get("seeds") or "transfer" not in pred or key not in pred:
        return None
    metric, k = str(section["metric"]), int(ex.get("num_classes") or 0)

    def cells(arm: str) -> list[CellResult]:
        return [CellResult(arm, int(s), {}, float("nan"), 0, 0, test_y=tuple(y), test_pred=tuple(p))
                for s, y, p in zip(ex["seeds"], ex["y"], pred[arm]) if p is not None]

    failed = other == "scratch" and section.get("verdict") == BASELINE_FAILED  # judged on validation, not here
    return cell_difference("transfer", key, cells("transfer"), cells(key), metric,
                           bool(section.get("higher_is_better", True)), k, min_test_per_class=min_test_per_class,
                           baseline_ok=not failed)


def chance_score(select_metric: str, train_y: np.ndarray, val_y: np.ndarray, num_classes: int) -> float:
    """The validation score a model gets without learning: the better of always predicting the training
    majority class and guessing at the training class frequencies (mean of 20 seeded draws)."""
    from transferkit.evaluation.metrics import validation_score

    counts = np.bincount(np.asarray(train_y, dtype=int), minlength=num_classes).astype(np.float64)
    eye = np.eye(num_classes)
    scores = [validation_score(select_metric, val_y, eye[np.full(len(val_y), int(counts.argmax()))])]
    rng = np.random.default_rng(0)
    draws = [validation_score(select_metric, val_y, eye[rng.choice(num_classes, len(val_y), p=counts / counts.sum())])
             for _ in range(20)]
    return float(max(scores[0], np.mean(draws)))

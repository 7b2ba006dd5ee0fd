"""The ``comparison`` and ``label_efficiency`` sections: transfer against scratch, and the verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from transferkit.reports._values import (
    Num,
    ReportError,
    TableInfo,
    _dict,
    _labels,
    _need,
    _num,
    _nums,
    is_fraction_metric,
    kv_table,
)

# ----------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class ArmInfo:
    """One arm of a paired comparison (transfer, scratch or source-only): scores per seed and mean."""

    role: str
    name: str
    per_seed: tuple[Num, ...]
    mean: Num


@dataclass(frozen=True)
class ComparisonInfo:
    """Transfer against the same budget from scratch over paired seeds, with the verdict in words."""

    metric: str
    higher_is_better: bool
    seeds: tuple[str, ...]
    arms: tuple[ArmInfo, ...]
    diff_mean: Num  # improvement of transfer over scratch: positive = transfer better
    ci_low: Num
    ci_high: Num
    diff_per_seed: tuple[Num, ...]
    verdict: str
    sentence: str
    advice: str
    points: bool
    metrics: TableInfo | None = None  # other metrics: one row per metric, one column per arm
    time_to_scratch_best: TableInfo | None = None
    budget: str = ""
    method: str = ""  # how the interval was computed (results.json's ``interval_method``)
    validation: str = ""  # how choices inside the budget were made, in words (cv mode: with the CV scores)


def validation_sentence(d: dict[str, Any]) -> str:
    """``comparison["validation"]`` in words: the cv mode with each arm's mean CV score ("" for holdout)."""
    v = d.get("validation") or {}
    if not isinstance(v, dict) or v.get("mode") != "cv":
        return ""
    names = {"transfer": (d.get("transfer") or {}).get("name"), "scratch": (d.get("scratch") or {}).get("name"),
             "source_only": (d.get("source_only") or {}).get("name"),
             **{k: (a or {}).get("name") for k, a in (d.get("others") or {}).items()}}
    means = ", ".join(f"{names.get(k) or k} {m:.3f}" for k, m in (v.get("cv_mean") or {}).items() if m is not None)
    return (f"Choices inside the budget (strategy, learning rates, epochs, the model shipped) were made by "
            f"{v.get('folds')}-fold cross-validation; no label was held out, every final model trained on the whole "
            f"budget." + (f" Mean CV score: {means}." if means else ""))


def _arm(d: dict[str, Any], role: str, n: int | None, where: str = "comparison") -> ArmInfo:
    a = _dict(_need(d, role, where), f"{where}.{role}")
    per = _nums(a["per_seed"], f"{where}.{role}.per_seed", n) if "per_seed" in a else ()
    mean = _num(a.get("mean"), f"{where}.{role}.mean")
    if mean is None and any(v is not None for v in per):
        mean = sum(v for v in per if v is not None) / sum(v is not None for v in per)
    return ArmInfo(role=role, name=str(a.get("name", role)), per_seed=per, mean=mean)


def verdict_sentence(verdict: str, metric: str, diff: Num, lo: Num, hi: Num, n_seeds: int, points: bool,
                     higher_is_better: bool) -> str:
    """The verdict in words with its interval, e.g. ``Transfer helped: +4.1 points accuracy, 95% CI ...``.

    ``diff``/``lo``/``hi`` are the improvement of transfer over scratch (as
    :func:`transferkit.evaluation.stats.paired_difference` orients it): positive always means transfer
    did better, also for lower-is-better metrics, where it is ``scratch - transfer``.
    """
    head = {"positive": "Transfer helped", "negative": "Transfer hurt (negative transfer)",
            "inconclusive": "No clear difference", "insufficient test data": "No verdict (insufficient test data)",
            "baseline failed to train": "No verdict (the baseline failed to train)"}.get(verdict, f"Verdict {verdict!s}")

    def num(v: Num) -> str:
        if v is None:
            return "?"
        return f"{100 * v:+.1f}" if points else f"{v:+.3g}"

    unit = f"points {metric}" if points else metric
    if not higher_is_better:
        unit += " improvement (lower is better)"
    text = f"{head}: {num(diff)} {unit}"
    if lo is not None or hi is not None:
        text += f", 95% CI [{num(lo)}, {num(hi)}]"
    text += f" over {n_seeds} paired seed{'s' if n_seeds != 1 else ''}"
    if verdict == "inconclusive" and lo is not None and hi is not None and lo <= 0 <= hi:
        text += "; the interval includes zero"
    return text + "."


def infer_verdict(lo: Num, hi: Num) -> str:
    """Verdict from the interval of the improvement over scratch, for results that carry none."""
    if lo is not None and lo > 0:
        return "positive"
    if hi is not None and hi < 0:
        return "negative"
    return "inconclusive"


def parse_comparison(d: Any) -> ComparisonInfo:
    """Check and convert a ``comparison`` section."""
    d = _dict(d, "comparison")
    metric = str(d.get("metric", "score"))
    hib = bool(d.get("higher_is_better", True))
    seeds = _labels(d.get("seeds", []), "comparison.seeds")
    n = len(seeds) or None
    roles = ["transfer", "scratch"] + (["source_only"] if d.get("source_only") is not None else [])
    others = _dict(d.get("others") or {}, "comparison.others")
    arms = tuple(_arm(d, r, n) for r in roles) + tuple(
        _arm(others, str(k), n, "comparison.others") for k in others)
    diff = _dict(d.get("diff", {}), "comparison.diff")
    dmean = _num(diff.get("mean"), "comparison.diff.mean")
    lo = _num(diff.get("ci_low"), "comparison.diff.ci_low")
    hi = _num(diff.get("ci_high"), "comparison.diff.ci_high")
    if lo is not None and hi is not None and lo > hi:
        raise ReportError(f"comparison.diff: ci_low {lo} is above ci_high {hi}")
    if "per_seed" in diff:
        dper = _nums(diff["per_seed"], "comparison.diff.per_seed", n)
    else:  # improvement per seed, from the arms when both have every seed
        t, s = arms[0].per_seed, arms[1].per_seed
        sign = 1.0 if hib else -1.0
        dper = tuple(None if a is None or b is None else sign * (a - b) for a, b in zip(t, s, strict=False))
        dper = dper if len(t) == len(s) else ()
    if dmean is None and arms[0].mean is not None and arms[1].mean is not None:
        dmean = (arms[0].mean - arms[1].mean) * (1 if hib else -1)
    verdict = str(d.get("verdict") or infer_verdict(lo, hi))
    values = [v for a in arms for v in (*a.per_seed, a.mean)]
    points = is_fraction_metric(metric, values)
    n_seeds = len(seeds) or len(dper) or max((len(a.per_seed) for a in arms), default=0)
    mdict = _dict(d.get("metrics") or {}, "comparison.metrics")
    metrics = None
    if mdict:
        cols = tuple(dict.fromkeys(str(a) for v in mdict.values() for a in _dict(v, "comparison.metrics.*")))
        names = {a.role: a.name for a in arms}
        body = tuple((str(k), *(_num(v.get(c), f"comparison.metrics.{k}.{c}") for c in cols))
                     for k, v in mdict.items())
        metrics = TableInfo(("metric", *(names.get(c, c) for c in cols)), body)
    tts = d.get("time_to_scratch_best")
    return ComparisonInfo(metric=metric, higher_is_better=hib, seeds=seeds, arms=arms, diff_mean=dmean, ci_low=lo,
                          ci_high=hi, diff_per_seed=dper, verdict=verdict,
                          sentence=verdict_sentence(verdict, metric, dmean, lo, hi, n_seeds, points, hib),
                          advice=str(d.get("advice") or ""), points=points, metrics=metrics,
                          time_to_scratch_best=kv_table(tts) if tts else None,
                          budget=str(d.get("budget_label") or d.get("budget") or ""),
                          method=str(d.get("interval_method") or (d.get("diff") or {}).get("method") or ""),
                          validation=validation_sentence(d))


# ----------------------------------------------------------------------------- label efficiency


@dataclass(frozen=True)
class BandInfo:
    """A mean curve with its confidence band, one value per label budget."""

    name: str
    mean: tuple[Num, ...]
    ci_low: tuple[Num, ...]
    ci_high: tuple[Num, ...]


@dataclass(frozen=True)
class LabelEfficiencyInfo:
    """Transfer vs scratch over label budgets, with per-budget verdicts and the crossover budget."""

    metric: str
    budgets: tuple[float, ...]
    bands: tuple[BandInfo, ...]
    verdicts: tuple[str, ...]
    crossover: Num
    diff: BandInfo | None = None  # improvement of transfer over scratch per budget, with its CI
    budget_label: str = "labels"


def _band(d: dict[str, Any], role: str, n: int) -> BandInfo:
    b = _dict(_need(d, role, "label_efficiency"), f"label_efficiency.{role}")
    mean = _nums(_need(b, "mean", f"label_efficiency.{role}"), f"label_efficiency.{role}.mean", n)
    lo = _nums(b.get("ci_low", [None] * n), f"label_efficiency.{role}.ci_low", n)
    hi = _nums(b.get("ci_high", [None] * n), f"label_efficiency.{role}.ci_high", n)
    return BandInfo(name=str(b.get("name", role)), mean=mean, ci_low=lo, ci_high=hi)


def parse_label_efficiency(d: Any) -> LabelEfficiencyInfo:
    """Check and convert a ``label_efficiency`` section."""
    d = _dict(d, "label_efficiency")
    budgets = _nums(_need(d, "budgets", "label_efficiency"), "label_efficiency.budgets")
    if not budgets or any(b is None or b <= 0 for b in budgets):
        raise ReportError("label_efficiency.budgets: need one or more positive label counts")
    n = len(budgets)
    bands = tuple(_band(d, r, n) for r in ("transfer", "scratch"))
    verdicts = _labels(d.get("verdicts", []), "label_efficiency.verdicts")
    if verdicts and len(verdicts) != n:
        raise ReportError(f"label_efficiency.verdicts: has {len(verdicts)} entries for {n} budgets")
    diff = None
    if d.get("diff") is not None:
        rows = d["diff"]
        if not isinstance(rows, list) or len(rows) != n:
            raise ReportError(f"label_efficiency.diff: expected one entry per budget ({n})")
        rows = [_dict(r, f"label_efficiency.diff[{i}]") for i, r in enumerate(rows)]
        cols = {k: tuple(_num(r.get(k), f"label_efficiency.diff[{i}].{k}") for i, r in enumerate(rows))
                for k in ("mean", "ci_low", "ci_high")}
        diff = BandInfo("transfer - scratch", cols["mean"], cols["ci_low"], cols["ci_high"])
    return LabelEfficiencyInfo(metric=str(d.get("metric", "score")),
                               budgets=tuple(float(b) for b in budgets if b is not None), bands=bands,
                               verdicts=verdicts, crossover=_num(d.get("crossover"), "label_efficiency.crossover"),
                               diff=diff, budget_label=str(d.get("budget_label") or "labels"))

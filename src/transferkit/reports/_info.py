"""Plain data objects built from ``results.json``: the tested half of the report.

:func:`build_report_info` turns a results dict into a :class:`ReportInfo` made of small frozen
dataclasses, one per known section, each checked on the way in (lengths agree, matrices are
rectangular, numbers are numbers). The HTML page (``reports/html.py``) and the terminal table
(``reports/terminal.py``) only lay these objects out. A known section that does not parse is kept as a
:class:`TableInfo` with the reason, so one malformed section never costs the rest of the report, and an
unknown section becomes a generic table so new commands show up without changes here.
"""

from __future__ import annotations

import math
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from transferkit.errors import TransferkitError

Num = float | None

SECTION_TITLES: dict[str, str] = {
    "comparison": "Did transfer help?",
    "label_efficiency": "Label efficiency",
    "ranking": "Backbone ranking",
    "similarity": "Source / target similarity",
    "curves": "Training curves",
    "confusion_matrix": "Confusion matrix",
    "multitask": "Multi-task results",
    "adaptation": "Domain adaptation",
    "pretrain": "Pre-training",
}
"""Known section keys, in the order the report shows them, with their headings."""

_FRACTION_HINTS = ("acc", "f1", "auc", "precision", "recall", "top1", "top5", "iou", "map", "jaccard")


class ReportError(TransferkitError, ValueError):
    """A results section does not have the shape the report expects; the message names the field."""


# ----------------------------------------------------------------------------- checked readers


def _num(v: Any, where: str) -> Num:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ReportError(f"{where}: expected a number or null, got {type(v).__name__} {v!r:.60}")
    f = float(v)
    return f if math.isfinite(f) else None


def _nums(v: Any, where: str, length: int | None = None) -> tuple[Num, ...]:
    if not isinstance(v, (list, tuple)):
        raise ReportError(f"{where}: expected a list of numbers, got {type(v).__name__}")
    out = tuple(_num(x, f"{where}[{i}]") for i, x in enumerate(v))
    if length is not None and len(out) != length:
        raise ReportError(f"{where}: has {len(out)} values but {length} were expected")
    return out


def _dict(v: Any, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise ReportError(f"{where}: expected an object, got {type(v).__name__}")
    return v


def _need(d: dict[str, Any], key: str, where: str) -> Any:
    if key not in d:
        raise ReportError(f"{where}: missing field {key!r}")
    return d[key]


def _labels(v: Any, where: str) -> tuple[str, ...]:
    if not isinstance(v, (list, tuple)):
        raise ReportError(f"{where}: expected a list of names, got {type(v).__name__}")
    return tuple("" if x is None else str(x) for x in v)


def _matrix(v: Any, where: str, nrows: int, ncols: int) -> tuple[tuple[Num, ...], ...]:
    if not isinstance(v, (list, tuple)) or len(v) != nrows:
        n = len(v) if isinstance(v, (list, tuple)) else type(v).__name__
        raise ReportError(f"{where}: expected {nrows} rows (one per label), got {n}")
    return tuple(_nums(row, f"{where}[{i}]", ncols) for i, row in enumerate(v))


# ----------------------------------------------------------------------------- formatting


def fmt(v: Any, digits: int = 4) -> str:
    """A number as short text (``digits`` significant digits); ``None``/NaN as an en dash."""
    if v is None:
        return "\u2013"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            return "\u2013"
        if v != 0 and (abs(v) >= 10**digits or abs(v) < 10 ** -(digits - 1)):
            return f"{v:.{digits - 1}e}"
        return f"{v:.{digits}g}"
    return str(v)


def is_fraction_metric(metric: str, values: list[Num]) -> bool:
    """True for accuracy-like metrics stored in [0, 1]: differences are then shown in points (x100)."""
    name = metric.lower()
    if not any(h in name for h in _FRACTION_HINTS) or "loss" in name or "error" in name:
        return False
    vals = [v for v in values if v is not None]
    return bool(vals) and all(0.0 <= v <= 1.0 for v in vals)


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


def _arm(d: dict[str, Any], role: str, n: int | None, where: str = "comparison") -> ArmInfo:
    a = _dict(_need(d, role, where), f"{where}.{role}")
    per = _nums(a["per_seed"], f"{where}.{role}.per_seed", n) if "per_seed" in a else ()
    mean = _num(a.get("mean"), f"{where}.{role}.mean")
    if mean is None and any(v is not None for v in per):
        mean = sum(v for v in per if v is not None) / sum(v is not None for v in per)
    return ArmInfo(role=role, name=str(a.get("name", role)), per_seed=per, mean=mean)


def verdict_sentence(
    verdict: str, metric: str, diff: Num, lo: Num, hi: Num, n_seeds: int, points: bool, higher_is_better: bool
) -> str:
    """The verdict in words with its interval, e.g. ``Transfer helped: +4.1 points accuracy, 95% CI ...``.

    ``diff``/``lo``/``hi`` are the improvement of transfer over scratch (as
    :func:`transferkit.evaluation.stats.paired_difference` orients it): positive always means transfer
    did better, also for lower-is-better metrics, where it is ``scratch - transfer``.
    """
    head = {
        "positive": "Transfer helped",
        "negative": "Transfer hurt (negative transfer)",
        "inconclusive": "No clear difference",
    }.get(verdict, f"Verdict {verdict!s}")

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
    return ComparisonInfo(
        metric=metric, higher_is_better=hib, seeds=seeds, arms=arms, diff_mean=dmean, ci_low=lo, ci_high=hi,
        diff_per_seed=dper, verdict=verdict,
        sentence=verdict_sentence(verdict, metric, dmean, lo, hi, n_seeds, points, hib),
        advice=str(d.get("advice") or ""), points=points, metrics=metrics,
        time_to_scratch_best=kv_table(tts) if tts else None, budget=str(d.get("budget") or ""),
    )


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
    return LabelEfficiencyInfo(
        metric=str(d.get("metric", "score")), budgets=tuple(float(b) for b in budgets if b is not None),
        bands=bands, verdicts=verdicts, crossover=_num(d.get("crossover"), "label_efficiency.crossover"),
    )


# ----------------------------------------------------------------------------- curves, ranking


@dataclass(frozen=True)
class CurveInfo:
    """Per-epoch training loss and validation score of one run."""

    name: str
    epoch: tuple[Num, ...]
    train_loss: tuple[Num, ...]
    val_score: tuple[Num, ...]


def parse_curves(d: Any) -> tuple[CurveInfo, ...]:
    """Check and convert a ``curves`` section (run name -> per-epoch lists)."""
    out = []
    for name, c in _dict(d, "curves").items():
        c = _dict(c, f"curves.{name}")
        loss = _nums(c.get("train_loss", []), f"curves.{name}.train_loss")
        val = _nums(c.get("val_score", []), f"curves.{name}.val_score")
        n = max(len(loss), len(val))
        epoch = _nums(c.get("epoch", list(range(1, n + 1))), f"curves.{name}.epoch")
        for key, seq in (("train_loss", loss), ("val_score", val)):
            if seq and len(seq) != len(epoch):
                raise ReportError(f"curves.{name}.{key}: {len(seq)} values for {len(epoch)} epochs")
        out.append(CurveInfo(name=str(name), epoch=epoch, train_loss=loss, val_score=val))
    return tuple(out)


@dataclass(frozen=True)
class RankingInfo:
    """Candidate backbones with their transferability scores, best first."""

    scores: tuple[str, ...]
    rank_by: str
    models: tuple[str, ...]
    values: tuple[tuple[Num, ...], ...]
    ranks: tuple[int | None, ...]
    higher_is_better: tuple[bool, ...] = ()
    extra_columns: tuple[str, ...] = ()
    extras: tuple[tuple[Any, ...], ...] = ()  # per row, the values of extra_columns
    notes: tuple[str, ...] = ()
    target: str = ""


def parse_ranking(d: Any) -> RankingInfo:
    """Check and convert a ``ranking`` section; rows come out sorted by rank."""
    d = _dict(d, "ranking")
    rows = _need(d, "rows", "ranking")
    if not isinstance(rows, list):
        raise ReportError("ranking.rows: expected a list of rows")
    scores = _labels(d.get("scores") or [], "ranking.scores")
    if not scores:
        keys = (k for r in rows if isinstance(r, dict) for k in r if k not in ("model", "rank"))
        scores = tuple(dict.fromkeys(str(k) for k in keys))
    rank_by = str(d.get("rank_by") or (scores[0] if scores else ""))
    if rank_by and rank_by not in scores:
        raise ReportError(f"ranking.rank_by: {rank_by!r} is not one of the scores {list(scores)}")
    parsed = []
    for i, r in enumerate(rows):
        r = _dict(r, f"ranking.rows[{i}]")
        vals = tuple(_num(r.get(s), f"ranking.rows[{i}].{s}") for s in scores)
        rank = r.get("rank")
        if rank is not None and (isinstance(rank, bool) or not isinstance(rank, int)):
            raise ReportError(f"ranking.rows[{i}].rank: expected an integer, got {rank!r:.40}")
        parsed.append((str(_need(r, "model", f"ranking.rows[{i}]")), vals, rank, r))
    parsed.sort(key=lambda t: (t[2] is None, t[2] if t[2] is not None else 0))
    known = {"model", "rank", *scores}
    extra = tuple(dict.fromkeys(str(k) for p in parsed for k in p[3] if k not in known))
    hib = d.get("higher_is_better")
    hib_t = tuple(bool(hib.get(s, True)) for s in scores) if isinstance(hib, dict) else ()
    notes = d.get("notes") or []
    return RankingInfo(
        scores=scores, rank_by=rank_by, models=tuple(p[0] for p in parsed),
        values=tuple(p[1] for p in parsed), ranks=tuple(p[2] for p in parsed), higher_is_better=hib_t,
        extra_columns=extra, extras=tuple(tuple(p[3].get(c) for c in extra) for p in parsed),
        notes=tuple(str(x) for x in notes) if isinstance(notes, list) else (str(notes),),
        target=str(d.get("target") or ""),
    )


# ----------------------------------------------------------------------------- similarity, confusion


@dataclass(frozen=True)
class MatrixInfo:
    """A labelled matrix (rows x columns), e.g. a confusion matrix or a label relation."""

    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]
    values: tuple[tuple[Num, ...], ...]


@dataclass(frozen=True)
class MeasureInfo:
    """One similarity / domain-shift measure."""

    name: str
    value: Num
    p_value: Num
    note: str


@dataclass(frozen=True)
class ClassDistanceInfo:
    """One distance measured class by class (classes present on both sides), with their sizes."""

    measure: str
    mean: Num
    classes: tuple[str, ...]
    values: tuple[Num, ...]
    counts: tuple[tuple[Any, Any], ...]  # (n source, n target) per class
    only_source: tuple[str, ...] = ()
    only_target: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class SimilarityInfo:
    """Similarity measures between source and target, per class, and how their labels relate."""

    measures: tuple[MeasureInfo, ...]
    label_relation: MatrixInfo | None
    class_conditional: tuple[ClassDistanceInfo, ...] = ()


def _class_distance(name: str, cc: Any) -> ClassDistanceInfo:
    w = f"similarity.class_conditional.{name}"
    cc = _dict(cc, w)
    if cc.get("error"):
        return ClassDistanceInfo(str(name), None, (), (), (), error=str(cc["error"]))
    per = _dict(cc.get("per_class") or {}, f"{w}.per_class")
    counts = _dict(cc.get("counts") or {}, f"{w}.counts")
    pairs = []
    for c in per:
        n = counts.get(c)
        pairs.append(tuple(n[:2]) if isinstance(n, (list, tuple)) and len(n) >= 2 else (None, None))
    return ClassDistanceInfo(
        measure=str(cc.get("measure") or name), mean=_num(cc.get("mean"), f"{w}.mean"),
        classes=tuple(str(c) for c in per),
        values=tuple(_num(v, f"{w}.per_class.{c}") for c, v in per.items()),
        counts=tuple(pairs), only_source=_labels(cc.get("only_source") or [], f"{w}.only_source"),
        only_target=_labels(cc.get("only_target") or [], f"{w}.only_target"),
        skipped=_labels(cc.get("skipped") or [], f"{w}.skipped"),
    )


def parse_similarity(d: Any) -> SimilarityInfo:
    """Check and convert a ``similarity`` section."""
    d = _dict(d, "similarity")
    measures = []
    for name, m in _dict(d.get("measures") or {}, "similarity.measures").items():
        if not isinstance(m, dict):
            m = {"value": m}
        w = f"similarity.measures.{name}"
        measures.append(MeasureInfo(str(name), _num(m.get("value"), w), _num(m.get("p_value"), w),
                                    str(m.get("note") or "")))
    rel = d.get("label_relation")
    relation = None
    if rel is not None:
        rel = _dict(rel, "similarity.label_relation")
        rows = _labels(_need(rel, "source_classes", "similarity.label_relation"), "source_classes")
        cols = _labels(_need(rel, "target_classes", "similarity.label_relation"), "target_classes")
        relation = MatrixInfo(rows, cols, _matrix(_need(rel, "matrix", "similarity.label_relation"),
                                                  "similarity.label_relation.matrix", len(rows), len(cols)))
    ccs = tuple(_class_distance(str(k), v)
                for k, v in _dict(d.get("class_conditional") or {}, "similarity.class_conditional").items())
    return SimilarityInfo(measures=tuple(measures), label_relation=relation, class_conditional=ccs)


@dataclass(frozen=True)
class ConfusionInfo:
    """A confusion matrix (rows: true label, columns: predicted) and the accuracy it implies."""

    matrix: MatrixInfo
    accuracy: Num
    model: str = ""


def parse_confusion(d: Any) -> ConfusionInfo:
    """Check and convert a ``confusion_matrix`` section (square, one row/column per label)."""
    d = _dict(d, "confusion_matrix")
    labels = _labels(_need(d, "labels", "confusion_matrix"), "confusion_matrix.labels")
    m = _matrix(_need(d, "matrix", "confusion_matrix"), "confusion_matrix.matrix", len(labels), len(labels))
    total = sum(v for row in m for v in row if v is not None)
    diag = sum(m[i][i] or 0.0 for i in range(len(labels)))
    return ConfusionInfo(MatrixInfo(labels, labels, m), diag / total if total > 0 else None,
                         str(d.get("model") or ""))


# ----------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class TableInfo:
    """A generic table: used for unknown sections, adaptation and pre-training details."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    note: str = ""


def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def _flat_row(r: Any) -> Any:
    """``{"a": {"x": 1}}`` -> ``{"a x": 1}`` for nested dicts of plain values (one level)."""
    if not isinstance(r, dict):
        return r
    out: dict[str, Any] = {}
    for k, v in r.items():
        if isinstance(v, dict) and v and all(_scalar(x) for x in v.values()):
            out.update({f"{k} {kk}": x for kk, x in v.items()})
        else:
            out[str(k)] = v
    return out


def rows_table(rows: Any, where: str) -> TableInfo:
    """A list of dicts as a table (columns: the union of keys, in first-seen order)."""
    if not isinstance(rows, list):
        raise ReportError(f"{where}: expected a list of rows")
    rows = [_flat_row(r) for r in rows]
    cols = tuple(dict.fromkeys(str(k) for r in rows if isinstance(r, dict) for k in r))
    if not cols:
        return TableInfo(("value",), tuple((r,) for r in rows))
    body = tuple(tuple(r.get(c) if isinstance(r, dict) else None for c in cols) for r in rows)
    return TableInfo(cols, body)


def kv_table(d: Any, key: str = "field", note: str = "") -> TableInfo:
    """Any JSON value as a two-column table (nested values stay nested, rendered recursively)."""
    if isinstance(d, dict):
        return TableInfo((key, "value"), tuple((str(k), v) for k, v in d.items()), note)
    if isinstance(d, list) and d and all(isinstance(r, dict) for r in d):
        t = rows_table(d, key)
        return TableInfo(t.columns, t.rows, note)
    return TableInfo(("value",), ((d,),), note)


@dataclass(frozen=True)
class MultitaskInfo:
    """Per-task scores, single-task vs each multi-task weighting, and Delta-m per weighting."""

    tasks: tuple[str, ...]
    weightings: tuple[str, ...]
    rows: tuple[tuple[str, Num, tuple[Num, ...], Num, Num, bool], ...]  # task, single, multi.., lo, hi, neg
    delta_m: tuple[tuple[str, Num], ...]


def parse_multitask(d: Any) -> MultitaskInfo:
    """Check and convert a ``multitask`` section."""
    d = _dict(d, "multitask")
    rows = _need(d, "rows", "multitask")
    if not isinstance(rows, list):
        raise ReportError("multitask.rows: expected a list of rows")
    keys = (k for r in rows if isinstance(r, dict) for k in r if str(k).startswith("multi_"))
    ws = tuple(dict.fromkeys(keys))
    out = []
    for i, r in enumerate(rows):
        w = f"multitask.rows[{i}]"
        r = _dict(r, w)
        ci = r.get("diff_ci") or [None, None]
        lo, hi = _nums(ci, f"{w}.diff_ci", 2)
        out.append((str(_need(r, "task", w)), _num(r.get("single"), f"{w}.single"),
                    tuple(_num(r.get(k), f"{w}.{k}") for k in ws), lo, hi, bool(r.get("negative", False))))
    dm = tuple((str(k), _num(v, f"multitask.delta_m.{k}"))
               for k, v in _dict(d.get("delta_m") or {}, "multitask.delta_m").items())
    tasks = _labels(d.get("tasks") or [r[0] for r in out], "multitask.tasks")
    weightings = tuple(str(k)[len("multi_") :] for k in ws)
    return MultitaskInfo(tasks=tasks, weightings=weightings, rows=tuple(out), delta_m=dm)


@dataclass(frozen=True)
class AdaptationInfo:
    """A domain-adaptation run: method, result rows, verdict and advice."""

    method: str
    table: TableInfo
    verdict: str
    advice: str


def parse_adaptation(d: Any) -> AdaptationInfo:
    """Check and convert an ``adaptation`` section."""
    d = _dict(d, "adaptation")
    return AdaptationInfo(str(d.get("method", "")), rows_table(d.get("rows", []), "adaptation.rows"),
                          str(d.get("verdict") or ""), str(d.get("advice") or ""))


@dataclass(frozen=True)
class PretrainInfo:
    """A pre-training run: what it trained on, its metrics and the model card it saved."""

    source: TableInfo
    metrics: tuple[tuple[str, Num], ...]
    card: TableInfo


def parse_pretrain(d: Any) -> PretrainInfo:
    """Check and convert a ``pretrain`` section."""
    d = _dict(d, "pretrain")
    metrics = tuple((str(k), _num(v, f"pretrain.metrics.{k}"))
                    for k, v in _dict(d.get("metrics") or {}, "pretrain.metrics").items()
                    if not isinstance(v, (dict, list)))
    return PretrainInfo(kv_table(d.get("source")), metrics, kv_table(d.get("card") or {}))


# ----------------------------------------------------------------------------- whole report

_PARSERS = {
    "comparison": parse_comparison,
    "label_efficiency": parse_label_efficiency,
    "ranking": parse_ranking,
    "similarity": parse_similarity,
    "curves": parse_curves,
    "confusion_matrix": parse_confusion,
    "multitask": parse_multitask,
    "adaptation": parse_adaptation,
    "pretrain": parse_pretrain,
}


@dataclass(frozen=True)
class SectionInfo:
    """One section of the report: its key, heading, an HTML id and its parsed content."""

    key: str
    title: str
    anchor: str
    content: Any  # one of the *Info objects above, a tuple of CurveInfo, or a TableInfo
    known: bool


@dataclass(frozen=True)
class DataRow:
    """One data set used by the run, as the reproducibility block lists it."""

    role: str
    name: str
    n: Any
    classes: str
    fingerprint: str


@dataclass(frozen=True)
class ReproInfo:
    """What is needed to run the same thing again: command line, versions, seeds, data and models."""

    command: str
    created: str
    versions: tuple[tuple[str, str], ...]
    seeds: tuple[str, ...]
    data: tuple[DataRow, ...]
    models: tuple[tuple[str, str, str], ...]  # name, fingerprint, other details
    other_data: TableInfo | None = None  # data fields that are not data set descriptions (splits...)
    config: TableInfo | None = None  # the command's settings (results["config"])


@dataclass(frozen=True)
class ReportInfo:
    """Everything the HTML page and the terminal summary show, as plain checked data."""

    command: str
    schema: str
    repro: ReproInfo
    sections: tuple[SectionInfo, ...] = field(default_factory=tuple)


def _classes_text(classes: Any, limit: int = 12) -> str:
    if not classes:
        return ""
    if isinstance(classes, (list, tuple)):
        names = [str(c) for c in classes]
        more = f", \u2026 ({len(names)} in all)" if len(names) > limit else ""
        return ", ".join(names[:limit]) + more
    return str(classes)


def _is_description(d: Any) -> bool:
    return isinstance(d, dict) and ("fingerprint" in d or "n" in d)


def _data_rows(data: Any) -> tuple[tuple[DataRow, ...], TableInfo | None]:
    """Data set descriptions as rows; anything else under ``data`` (splits, ...) as a side table."""
    if not isinstance(data, dict) or not data:
        return (), None
    items = [("data", data)] if _is_description(data) else list(data.items())
    out, rest = [], []
    for role, desc in items:
        if _is_description(desc):
            out.append(DataRow(str(role), str(desc.get("name") or ""), desc.get("n"),
                               _classes_text(desc.get("classes")), str(desc.get("fingerprint") or "")))
        else:
            rest.append((str(role), _compact(desc)))
    return tuple(out), (TableInfo(("field", "value"), tuple(rest)) if rest else None)


def _compact(v: Any, depth: int = 0) -> Any:
    """Other data fields, shortened: nested data set descriptions dropped (listed already), flat dicts
    of plain values written on one line (``a: x=1, y=2; b: 3``)."""
    if isinstance(v, dict):
        kept = {k: _compact(x, depth + 1) for k, x in v.items() if not _is_description(x)}
        if all(_scalar(x) for x in kept.values()):
            if depth == 0:
                return "; ".join(f"{k}: {fmt(x)}" for k, x in kept.items())
            return ", ".join(f"{k}={fmt(x)}" for k, x in kept.items())
        return kept
    return v


def _models(models: Any) -> tuple[tuple[str, str, str], ...]:
    if not isinstance(models, dict):
        return ()
    out = []
    for name, fp in models.items():
        details = ""
        if isinstance(fp, dict):
            details = ", ".join(f"{k}={fmt(v)}" for k, v in fp.items() if k != "fingerprint")
            fp = fp.get("fingerprint")
        out.append((str(name), "" if fp is None else str(fp), details))
    return tuple(out)


def command_line(argv: Any, command: str) -> str:
    """The exact command as a shell-quoted line (``transferkit <command>`` when argv is missing)."""
    if isinstance(argv, (list, tuple)) and argv:
        return shlex.join(str(a) for a in argv)
    return f"transferkit {command}".strip()


def anchor_for(key: str) -> str:
    """An HTML id for a section key (letters, digits, dash and underscore only)."""
    return "sec-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", key).strip("-") or "x")


def build_section(key: str, value: Any) -> SectionInfo:
    """Parse one section; an unknown or malformed one becomes a generic :class:`TableInfo`."""
    title = SECTION_TITLES.get(key, key.replace("_", " ").capitalize() or "Section")
    parser = _PARSERS.get(key)
    if parser is None:
        return SectionInfo(key, title, anchor_for(key), kv_table(value), known=False)
    try:
        return SectionInfo(key, title, anchor_for(key), parser(value), known=True)
    except Exception as exc:  # a malformed section must not cost the rest of the report
        why = str(exc) if isinstance(exc, ReportError) else f"{type(exc).__name__}: {exc}"
        return SectionInfo(key, title, anchor_for(key), kv_table(value, note=f"Shown as raw data: {why}"),
                           known=False)


def build_report_info(results: dict[str, Any]) -> ReportInfo:
    """Turn a results dict (the content of ``results.json``) into a :class:`ReportInfo`."""
    if not isinstance(results, dict):
        raise ReportError(f"results: expected an object, got {type(results).__name__}")
    command = str(results.get("command") or "run")
    versions = results.get("versions") if isinstance(results.get("versions"), dict) else {}
    seeds = results.get("seeds") if isinstance(results.get("seeds"), list) else []
    data_rows, other_data = _data_rows(results.get("data"))
    config = results.get("config")
    repro = ReproInfo(
        command=command_line(results.get("argv"), command), created=str(results.get("created") or ""),
        versions=tuple((str(k), str(v)) for k, v in versions.items()), seeds=tuple(str(s) for s in seeds),
        data=data_rows, models=_models(results.get("models")), other_data=other_data,
        config=kv_table(config, "setting") if isinstance(config, dict) and config else None,
    )
    sections = results.get("sections") or {}
    if not isinstance(sections, dict):
        raise ReportError(f"results.sections: expected an object, got {type(sections).__name__}")
    order = {k: i for i, k in enumerate(SECTION_TITLES)}
    keys = sorted(sections, key=lambda k: (order.get(k, len(order)), list(sections).index(k)))
    used: set[str] = set()
    built = []
    for k in keys:
        s = build_section(str(k), sections[k])
        anchor = s.anchor
        while anchor in used:  # two keys that slug to the same id
            anchor += "-x"
        used.add(anchor)
        built.append(SectionInfo(s.key, s.title, anchor, s.content, s.known))
    return ReportInfo(command=command, schema=str(results.get("schema") or ""), repro=repro,
                      sections=tuple(built))

"""The other known sections: curves, ranking, similarity, confusion matrix, multi-task, adaptation,
pre-training."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from transferkit.reports._values import (
    Num,
    ReportError,
    TableInfo,
    _dict,
    _labels,
    _matrix,
    _need,
    _num,
    _nums,
    kv_table,
    rows_table,
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
    recommendation: tuple[str, ...] = ()  # the recommendation, then the note when scores disagree
    explanations: tuple[str, ...] = ()  # one line per score column


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
    return RankingInfo(scores=scores, rank_by=rank_by, models=tuple(p[0] for p in parsed),
                       values=tuple(p[1] for p in parsed), ranks=tuple(p[2] for p in parsed), higher_is_better=hib_t,
                       extra_columns=extra, extras=tuple(tuple(p[3].get(c) for c in extra) for p in parsed),
                       notes=tuple(str(x) for x in notes) if isinstance(notes, list) else (str(notes),),
                       target=str(d.get("target") or ""), recommendation=_reading(d.get("recommendation")),
                       explanations=tuple(str(x) for x in d.get("explanations") or [] if x))


def _reading(rec: Any) -> tuple[str, ...]:
    """The recommendation's sentence and its disagreement note, as written by ``rank``."""
    if not isinstance(rec, dict):
        return ()
    return tuple(str(rec[k]) for k in ("text", "disagreement") if rec.get(k))


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
    reading: str = ""


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
    source_accuracy: Num = None
    source_reading: str = ""
    notes: tuple[str, ...] = ()


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
    return ClassDistanceInfo(measure=str(cc.get("measure") or name), mean=_num(cc.get("mean"), f"{w}.mean"),
                             classes=tuple(str(c) for c in per),
                             values=tuple(_num(v, f"{w}.per_class.{c}") for c, v in per.items()), counts=tuple(pairs),
                             only_source=_labels(cc.get("only_source") or [], f"{w}.only_source"),
                             only_target=_labels(cc.get("only_target") or [], f"{w}.only_target"),
                             skipped=_labels(cc.get("skipped") or [], f"{w}.skipped"))


def parse_similarity(d: Any) -> SimilarityInfo:
    """Check and convert a ``similarity`` section."""
    d = _dict(d, "similarity")
    measures = []
    for name, m in _dict(d.get("measures") or {}, "similarity.measures").items():
        if not isinstance(m, dict):
            m = {"value": m}
        w = f"similarity.measures.{name}"
        measures.append(MeasureInfo(str(name), _num(m.get("value"), w), _num(m.get("p_value"), w),
                                    str(m.get("note") or ""), str(m.get("reading") or "")))
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
    src = _dict(d.get("source_model") or {}, "similarity.source_model")
    return SimilarityInfo(measures=tuple(measures), label_relation=relation, class_conditional=ccs,
                          source_accuracy=_num(src.get("accuracy"), "similarity.source_model.accuracy"),
                          source_reading=str(src.get("reading") or ""),
                          notes=tuple(str(n) for n in d.get("notes") or ()))


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


@dataclass(frozen=True)
class MultitaskInfo:
    """Per-task scores, single-task vs each multi-task weighting, and Delta-m per weighting."""

    tasks: tuple[str, ...]
    weightings: tuple[str, ...]
    # task, single, multi per weighting, (lo, hi) per weighting, negative per weighting
    rows: tuple[tuple[str, Num, tuple[Num, ...], tuple[tuple[Num, Num], ...], tuple[bool, ...]], ...]
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
        names = [k[len("multi_"):] for k in ws]
        ci, neg = r.get("diff_ci") or {}, r.get("negative") or {}
        if not isinstance(ci, dict):  # one interval for a single weighting
            ci = dict.fromkeys(names, ci)
        if not isinstance(neg, dict):
            neg = dict.fromkeys(names, neg)
        cis = tuple(_nums(ci.get(n) or [None, None], f"{w}.diff_ci.{n}", 2) for n in names)
        out.append((str(_need(r, "task", w)), _num(r.get("single"), f"{w}.single"),
                    tuple(_num(r.get(k), f"{w}.{k}") for k in ws), cis, tuple(bool(neg.get(n)) for n in names)))
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
    details: TableInfo | None = None  # every other field (gain and its CI, caveats, notes, ...)


def parse_adaptation(d: Any) -> AdaptationInfo:
    """Check and convert an ``adaptation`` section."""
    d = _dict(d, "adaptation")
    rest = {k: v for k, v in d.items() if k not in ("method", "rows", "verdict", "advice")}
    return AdaptationInfo(str(d.get("method", "")), rows_table(d.get("rows", []), "adaptation.rows"),
                          str(d.get("verdict") or ""), str(d.get("advice") or ""),
                          kv_table(rest) if rest else None)


@dataclass(frozen=True)
class PretrainInfo:
    """A pre-training run: what it trained on, its metrics and the model card it saved."""

    source: TableInfo
    metrics: tuple[tuple[str, Num], ...]
    card: TableInfo
    curve: CurveInfo | None = None  # the per-epoch history, when there is one
    details: TableInfo | None = None  # other fields (where the entry was saved, ...)


def parse_pretrain(d: Any) -> PretrainInfo:
    """Check and convert a ``pretrain`` section (``history``: per-epoch dicts, drawn as a curve)."""
    d = _dict(d, "pretrain")
    metrics = tuple((str(k), _num(v, f"pretrain.metrics.{k}"))
                    for k, v in _dict(d.get("metrics") or {}, "pretrain.metrics").items()
                    if not isinstance(v, (dict, list)))
    curve = None
    hist = d.get("history")
    if isinstance(hist, list) and hist and all(isinstance(h, dict) for h in hist):
        col = {k: [h.get(k) for h in hist] for k in ("epoch", "train_loss", "val_score")}
        if not any(v is not None for v in col["epoch"]):
            col["epoch"] = list(range(1, len(hist) + 1))
        curve = parse_curves({"pre-training": col})[0]
    shown = ("source", "metrics", "history")
    card = {k: v for k, v in _dict(d.get("card") or {}, "pretrain.card").items() if k not in shown}
    rest = {k: v for k, v in d.items() if k not in (*shown, "card")}
    return PretrainInfo(kv_table(d.get("source")), metrics, kv_table(card), curve,
                        kv_table(rest) if rest else None)

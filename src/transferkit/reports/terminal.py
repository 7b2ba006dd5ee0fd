"""The terminal summary: the same results as the HTML report, as rich tables.

Every cell is a :class:`rich.text.Text`, never a markup string, so a class called ``[bold]x`` or
``[link=...]`` prints literally.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from transferkit.reports import _info as I

_VERDICT_STYLE = {"positive": "bold green", "negative": "bold red", "inconclusive": "bold yellow"}


def _t(v: Any, style: str = "") -> Text:
    if isinstance(v, (dict, list, tuple)):
        v = str(v)
        if len(v) > 80:
            v = v[:79] + "\u2026"
    return Text(I.fmt(v), style=style)


def _table(title: str, columns: Sequence[Any], rows: Sequence[Sequence[Any]]) -> Table:
    t = Table(title=Text(title, style="bold"), title_justify="left", show_edge=False, pad_edge=False)
    for c in columns:
        t.add_column(Text(str(c)))
    for r in rows:
        t.add_row(*(_t(v) for v in r))
    return t


def _comparison(c: I.ComparisonInfo) -> list[Any]:
    rows = [(a.name, a.mean, min((v for v in a.per_seed if v is not None), default=None),
             max((v for v in a.per_seed if v is not None), default=None)) for a in c.arms]
    title = f"{c.metric} over {len(c.seeds) or 'the'} seeds"
    out: list[Any] = [_table(title, ("arm", "mean", "min", "max"), rows)]
    out.append(Text(c.sentence, style=_VERDICT_STYLE.get(c.verdict, "bold")))
    if c.advice:
        out.append(Text(c.advice))
    return out


def _label_efficiency(le: I.LabelEfficiencyInfo) -> list[Any]:
    bands = [*le.bands, *([le.diff] if le.diff else [])]
    cols = [le.budget_label, *(b.name for b in bands)] + (["verdict"] if le.verdicts else [])
    rows = []
    for i, b in enumerate(le.budgets):
        cells: list[Any] = [int(b) if float(b).is_integer() else b]
        cells += [f"{I.fmt(x.mean[i])} [{I.fmt(x.ci_low[i])}, {I.fmt(x.ci_high[i])}]" for x in bands]
        rows.append(cells + ([le.verdicts[i]] if le.verdicts else []))
    cross = "no crossover"
    if le.crossover is not None:
        cross = f"crossover at {I.fmt(le.crossover)} {le.budget_label}"
    return [_table(f"Label efficiency ({le.metric}; {cross})", cols, rows)]


def _section(s: I.SectionInfo) -> list[Any]:
    c = s.content
    if isinstance(c, I.ComparisonInfo):
        return _comparison(c)
    if isinstance(c, I.LabelEfficiencyInfo):
        return _label_efficiency(c)
    if isinstance(c, I.RankingInfo):
        rows = [(rk, m, *v) for m, v, rk in zip(c.models, c.values, c.ranks, strict=True)]
        return [_table(f"{s.title} (by {c.rank_by})", ("rank", "model", *c.scores), rows)]
    if isinstance(c, I.SimilarityInfo):
        out = [_table(s.title, ("measure", "value", "p-value", "note"),
                      [(m.name, m.value, m.p_value, m.note) for m in c.measures])]
        for cc in c.class_conditional:
            if cc.error:
                out.append(Text(f"{cc.measure} per class: {cc.error}", style="dim"))
                continue
            rows = [(k, v, *n) for k, v, n in zip(cc.classes, cc.values, cc.counts, strict=True)]
            out.append(_table(f"{cc.measure} per class (weighted mean {I.fmt(cc.mean)})",
                              ("class", "value", "n source", "n target"), rows[:30]))
        return out
    if isinstance(c, I.ConfusionInfo):
        m = c.matrix
        out: list[Any] = [Text(f"{s.title}: accuracy {I.fmt(c.accuracy)}", style="bold")]
        if len(m.row_labels) <= 10:
            out.append(_table("", ("true \\ predicted", *m.col_labels),
                              [(lab, *v) for lab, v in zip(m.row_labels, m.values, strict=True)]))
        return out
    if isinstance(c, I.MultitaskInfo):
        rows = [(t, single, *multi, *(f"[{I.fmt(lo)}, {I.fmt(hi)}]" for lo, hi in cis),
                 ", ".join(w for w, n in zip(c.weightings, neg) if n) or "no")
                for t, single, multi, cis, neg in c.rows]
        cols = ("task", "single", *(f"multi ({w})" for w in c.weightings),
                *(f"diff 95% CI ({w})" for w in c.weightings), "negative")
        out = [_table(s.title, cols, rows)]
        if c.delta_m:
            out.append(_table("\u0394m per weighting", ("weighting", "\u0394m"), c.delta_m))
        return out
    if isinstance(c, I.AdaptationInfo):
        out = [_table(f"{s.title}: {c.method}", c.table.columns, c.table.rows)]
        if c.verdict:
            out.append(Text(f"Verdict: {c.verdict}", style=_VERDICT_STYLE.get(c.verdict, "bold")))
        if c.advice:
            out.append(Text(c.advice))
        return out
    if isinstance(c, I.PretrainInfo):
        out = [_table(s.title, ("metric", "value"), c.metrics)]
        if c.details:
            out.append(_table("", c.details.columns, c.details.rows))
        return out
    if isinstance(c, tuple):  # training curves
        rows = []
        for cu in c:
            vals = [v for v in cu.val_score if v is not None]
            rows.append((cu.name, len(cu.epoch), vals[-1] if vals else None, max(vals) if vals else None))
        return [_table(s.title, ("run", "epochs", "final val score", "best val score"), rows)]
    if isinstance(c, I.TableInfo):
        out = [_table(s.title, c.columns, c.rows[:20])]
        if c.note:
            out.append(Text(c.note, style="dim"))
        return out
    return [Text(f"{s.title}: (no summary)")]


def summary_renderables(results: dict[str, Any]) -> list[Any]:
    """The renderables :func:`print_summary` prints, for callers that lay them out themselves."""
    info = I.build_report_info(results)
    out: list[Any] = [Text(f"transferkit {info.command}", style="bold underline")]
    for s in info.sections:
        try:
            out.extend(_section(s))
        except Exception as exc:  # the summary must not fail after a finished run
            out.append(Text(f"{s.title}: could not be summarised ({type(exc).__name__}: {exc})", style="red"))
    seeds = ", ".join(info.repro.seeds) or "none recorded"
    out.append(Text(f"seeds: {seeds}; command: {info.repro.command}", style="dim"))
    return out


def print_summary(results: dict[str, Any], console: Console | None = None) -> None:
    """Print a rich summary of a results dict (the same content as the HTML report, as tables)."""
    console = console or Console()
    for r in summary_renderables(results):
        console.print(r)
        if isinstance(r, Table):
            console.print()

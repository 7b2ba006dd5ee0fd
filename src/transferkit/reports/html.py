"""The HTML report: one self-contained page (inline CSS and SVG, no script, no external request).

:func:`render_report` lays out the plain objects of :mod:`transferkit.reports._info`; every piece of
text that came from the user (class, model, file and column names, section keys) goes through
:func:`html.escape`, and the page's Content-Security-Policy forbids scripts and remote loads as a
second line of defence. :func:`write_report` writes ``report.html`` from a results dict, or
rebuilds it from a run folder's ``results.json``.
"""

from __future__ import annotations

import html
import os
import warnings
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from transferkit._io import atomic_write_text, read_results, to_jsonable
from transferkit._version import __version__
from transferkit.reports import _info as I

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def e(v: Any) -> str:
    """Escape any value for HTML text or attribute content."""
    return html.escape("" if v is None else str(v), quote=True)


def _css() -> str:
    return resources.files("transferkit.reports").joinpath("report.css").read_text(encoding="utf-8")


def _cell(v: Any, depth: int = 0) -> str:
    """One table cell's content: numbers formatted, nested dicts/lists as nested tables, all escaped."""
    if isinstance(v, dict):
        if depth >= 3:
            return f"<code>{e(v)}</code>"
        return table(("field", "value"), [(k, x) for k, x in v.items()], depth=depth + 1)
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(x, dict) for x in v) and depth < 3:
            t = I.rows_table(list(v), "value")
            return table(t.columns, t.rows, depth=depth + 1)
        return e(", ".join(I.fmt(x) if not isinstance(x, (dict, list)) else str(x) for x in v))
    return e(I.fmt(v))


def table(columns: Sequence[Any], rows: Sequence[Sequence[Any]], depth: int = 0,
          row_class: Callable[[int], str] | None = None) -> str:
    """An escaped HTML table; numeric cells are right-aligned."""
    numeric = [all(_is_num(r[j]) or r[j] is None for r in rows if j < len(r)) for j in range(len(columns))]
    head = "".join(f'<th class="num">{e(c)}</th>' if numeric[j] and j else f"<th>{e(c)}</th>"
                   for j, c in enumerate(columns))
    body = []
    for i, r in enumerate(rows):
        cells = "".join(
            (f'<td class="num">{_cell(v, depth)}</td>' if j < len(numeric) and numeric[j] and _is_num(v)
             else f"<td>{_cell(v, depth)}</td>")
            for j, v in enumerate(r)
        )
        cls = row_class(i) if row_class else ""
        body.append(f'<tr class="{e(cls)}">{cells}</tr>' if cls else f"<tr>{cells}</tr>")
    return (f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _figure(make: Callable[..., str | list[str]], *args: Any, caption: str = "") -> str:
    """Draw a plot; a failure becomes a visible note instead of costing the whole report."""
    try:
        svgs = make(*args)
    except Exception as exc:  # a plot must never cost the report
        warnings.warn(f"report plot {make.__name__} failed: {exc}", RuntimeWarning, stacklevel=2)
        return f'<p class="warn">Plot not drawn ({e(type(exc).__name__)}: {e(exc)}).</p>'
    svgs = [svgs] if isinstance(svgs, str) else svgs
    cap = f"<figcaption>{e(caption)}</figcaption>" if caption else ""
    return "".join(f'<figure class="plot">{s}{cap}</figure>' for s in svgs)


def _verdict_box(verdict: str, sentence: str, advice: str) -> str:
    kind = verdict if verdict in ("positive", "negative", "inconclusive") else "other"
    adv = f'<span class="advice">{e(advice)}</span>' if advice else ""
    return f'<div class="verdict verdict-{kind}"><strong>{e(sentence)}</strong>{adv}</div>'


def _comparison(c: I.ComparisonInfo) -> str:
    out = [_verdict_box(c.verdict, c.sentence, c.advice)]
    if c.budget:
        out.append(f'<p class="note">Budget: {e(c.budget)}.</p>')
    if c.method:
        out.append(f'<p class="note">Interval: {e(c.method)}.</p>')
    if c.validation:
        out.append(f'<p class="note">{e(c.validation)}</p>')
    out.append(_figure(plots_mod().comparison_plot, c,
                       caption="Each dot is one seed; the same seed is joined across arms."))
    seeds = c.seeds or tuple(str(i) for i in range(max(len(a.per_seed) for a in c.arms)))
    gain = "transfer \u2212 scratch" if c.higher_is_better else "improvement (scratch \u2212 transfer)"
    cols = ["seed", *(a.name for a in c.arms), gain]
    rows: list[list[Any]] = []
    for i, s in enumerate(seeds):
        rows.append([s, *(a.per_seed[i] if i < len(a.per_seed) else None for a in c.arms),
                     c.diff_per_seed[i] if i < len(c.diff_per_seed) else None])
    rows.append(["mean", *(a.mean for a in c.arms), c.diff_mean])
    direction = "higher" if c.higher_is_better else "lower"
    out.append(f"<h3>{e(c.metric)} per seed ({direction} is better)</h3>" + table(cols, rows))
    if c.metrics:
        out.append("<h3>Other metrics (means)</h3>" + table(c.metrics.columns, c.metrics.rows))
    if c.time_to_scratch_best:
        t = c.time_to_scratch_best
        out.append("<h3>Time to reach scratch's best validation score</h3>" + table(t.columns, t.rows))
    return "".join(out)


def _label_efficiency(le: I.LabelEfficiencyInfo) -> str:
    cross = (f"Crossover: from {I.fmt(le.crossover)} {le.budget_label} on, training from scratch catches up "
             "with transfer." if le.crossover is not None else "No crossover within the label budgets tried.")
    bands = [*le.bands, *([le.diff] if le.diff else [])]
    cols = [le.budget_label, *(f"{b.name} mean [95% CI]" for b in bands)]
    cols += ["verdict"] if le.verdicts else []
    rows = []
    for i, budget in enumerate(le.budgets):
        cells: list[Any] = [int(budget) if float(budget).is_integer() else budget]
        for b in bands:
            cells.append(f"{I.fmt(b.mean[i])} [{I.fmt(b.ci_low[i])}, {I.fmt(b.ci_high[i])}]")
        if le.verdicts:
            cells.append(le.verdicts[i])
        rows.append(cells)
    cap = f"{le.metric} vs {le.budget_label}; shaded: 95% confidence band."
    return (_figure(plots_mod().label_efficiency_plot, le, caption=cap) + f'<p class="note">{e(cross)}</p>'
            + table(cols, rows))


def _ranking(r: I.RankingInfo) -> str:
    rows = [(rank, m, *vals, *ex) for m, vals, rank, ex in
            zip(r.models, r.values, r.ranks, r.extras or [()] * len(r.models), strict=True)]
    heads = [f"{s} ({'higher' if h else 'lower'} is better)" for s, h in zip(r.scores, r.higher_is_better,
                                                                            strict=True)] or list(r.scores)
    plot = _figure(plots_mod().ranking_bars, r) if r.models else ""
    target = f'<p class="note">Target: {e(r.target)}.</p>' if r.target else ""
    notes = "".join(f'<p class="note">{e(n)}</p>' for n in r.notes)
    reading = "".join(f"<p><strong>{e(n)}</strong></p>" for n in r.recommendation)
    if r.explanations:
        reading += "<ul>" + "".join(f'<li class="note">{e(x)}</li>' for x in r.explanations) + "</ul>"
    return target + reading + plot + table(("rank", "model", *heads, *r.extra_columns), rows) + notes


def _similarity(s: I.SimilarityInfo) -> str:
    rows = [(m.name, m.value, m.p_value, m.reading or m.note, m.note if m.reading else "") for m in s.measures]
    anything = s.measures or s.label_relation or s.class_conditional
    out = "".join(f'<p class="warn">{e(n)}</p>' for n in s.notes)
    if s.source_reading:
        out += f"<p><strong>Source model on the target:</strong> {e(s.source_reading)}</p>"
    out += _figure(plots_mod().similarity_plot, s) if anything else ""
    out += table(("measure", "value", "p-value", "reading", "definition"), rows)
    for cc in s.class_conditional:
        out += f"<h3>{e(cc.measure)} per class (weighted mean {e(I.fmt(cc.mean))})</h3>"
        if cc.error:
            out += f'<p class="warn">Not computed: {e(cc.error)}</p>'
            continue
        out += table(("class", cc.measure, "n source", "n target"),
                     [(c, v, *n) for c, v, n in zip(cc.classes, cc.values, cc.counts, strict=True)])
        for label, names in (("Only in source", cc.only_source), ("Only in target", cc.only_target),
                             ("Skipped (too few examples)", cc.skipped)):
            if names:
                out += f'<p class="note">{e(label)}: {e(", ".join(names))}</p>'
    if s.label_relation is not None and len(s.label_relation.row_labels) > 30:
        out += '<p class="note">The heat map shows the 30 source classes with the strongest relation.</p>'
    return out


def _curves(curves: tuple[I.CurveInfo, ...]) -> str:
    rows = []
    for c in curves:
        vals = [v for v in c.val_score if v is not None]
        last_loss = next((v for v in reversed(c.train_loss) if v is not None), None)
        rows.append((c.name, len(c.epoch), last_loss, vals[-1] if vals else None,
                     max(vals) if vals else None))
    return (_figure(plots_mod().curves_plot, curves) if curves else "") + table(
        ("run", "epochs", "final train loss", "final val score", "best val score"), rows)


def _confusion(c: I.ConfusionInfo) -> str:
    model = f" of {c.model}" if c.model else ""
    acc = f'<p class="note">Accuracy{e(model)} implied by the matrix: {e(I.fmt(c.accuracy))}.</p>'
    m = c.matrix
    rows = [(lab, *vals) for lab, vals in zip(m.row_labels, m.values, strict=True)]
    tab = (table(("true \\ predicted", *m.col_labels), rows) if len(rows) <= 30
           else '<p class="note">More than 30 classes: the full matrix is in results.json.</p>')
    return _figure(plots_mod().heatmap, m, "Confusion matrix", "predicted", "true") + acc + tab


def _multitask(mt: I.MultitaskInfo) -> str:
    cols = ["task", "single", *(f"multi ({w})" for w in mt.weightings),
            *(f"diff 95% CI ({w})" for w in mt.weightings), "negative transfer"]
    rows = [(t, s, *multi, *(f"[{I.fmt(lo)}, {I.fmt(hi)}]" for lo, hi in cis),
             ", ".join(w for w, n in zip(mt.weightings, neg) if n) or "no")
            for t, s, multi, cis, neg in mt.rows]
    out = table(cols, rows, row_class=lambda i: "neg" if any(mt.rows[i][4]) else "")
    if mt.delta_m:
        out += "<h3>\u0394m per weighting (mean relative change vs single-task)</h3>" + table(
            ("weighting", "\u0394m"), mt.delta_m)
    return out


def _adaptation(a: I.AdaptationInfo) -> str:
    out = f'<p>Method: <code>{e(a.method)}</code></p>' if a.method else ""
    if a.verdict or a.advice:
        out += _verdict_box(a.verdict, f"Verdict: {a.verdict}" if a.verdict else "", a.advice)
    out += table(a.table.columns, a.table.rows)
    if a.details:
        out += "<h3>Details</h3>" + table(a.details.columns, a.details.rows)
    return out


def _pretrain(p: I.PretrainInfo) -> str:
    curve = _figure(plots_mod().curves_plot, (p.curve,)) if p.curve and p.curve.epoch else ""
    details = table(p.details.columns, p.details.rows) if p.details else ""
    return (curve + details + "<h3>Source</h3>" + table(p.source.columns, p.source.rows)
            + ("<h3>Metrics</h3>" + table(("metric", "value"), p.metrics) if p.metrics else "")
            + ("<h3>Model card</h3>" + table(p.card.columns, p.card.rows) if p.card.rows else ""))


def _shipped(s: I.ShippedInfo) -> str:
    kind = "negative" if s.verdict == "negative" and s.role == "baseline" else "positive"
    seed = f", seed {s.seed}" if s.seed is not None else ""
    test = (f"Test {s.metric} of the shipped arm: {I.fmt(s.test_mean)} [{I.fmt(s.test_ci[0])}, "
            f"{I.fmt(s.test_ci[1])}] over seeds; of the shipped weights{seed}: {I.fmt(s.test_seed)} "
            "(read after the choice).")
    out = [f'<div class="verdict verdict-{kind}"><strong>{e(s.headline)}</strong>'
           f'<span class="advice">Why: {e(s.reason)}.</span></div>', f'<p class="note">{e(test)}</p>']
    if s.by_test_verdict:
        out.append('<p class="warn">Validation preferred the transfer model; the negative test verdict overrode it, '
                   "so the shipped test figure is not an unbiased estimate.</p>")
    if s.model:
        out.append(f'<p>Model folder: <code>{e(s.model)}</code> (load with <code>transferkit predict</code> or '
                   "<code>tk.load_model</code>).</p>")
    out.append(table(s.validation.columns, s.validation.rows))
    return "".join(out)


def _generic(t: I.TableInfo) -> str:
    note = f'<p class="note">{e(t.note)}</p>' if t.note else ""
    return note + table(t.columns, t.rows)


_RENDER: dict[type, Callable[[Any], str]] = {
    I.ComparisonInfo: _comparison,
    I.LabelEfficiencyInfo: _label_efficiency,
    I.RankingInfo: _ranking,
    I.SimilarityInfo: _similarity,
    tuple: _curves,
    I.ConfusionInfo: _confusion,
    I.MultitaskInfo: _multitask,
    I.AdaptationInfo: _adaptation,
    I.PretrainInfo: _pretrain,
    I.TableInfo: _generic,
    I.ShippedInfo: _shipped,
}


def plots_mod() -> Any:
    """The plotting module, imported on first use (matplotlib is slow to import)."""
    from transferkit.reports import plots

    return plots


def _repro(r: I.ReproInfo, schema: str) -> str:
    out = ["<h3>Command</h3>", f'<pre class="cmd"><code>{e(r.command)}</code></pre>']
    out.append(f'<p class="note">Seeds: {e(", ".join(r.seeds) or "none recorded")}. Created {e(r.created)}. '
               f"Results schema {e(schema)}.</p>")
    if r.data:
        out.append("<h3>Data</h3>" + table(("role", "name", "examples", "classes", "fingerprint"),
                                           [(d.role, d.name, d.n, d.classes, d.fingerprint) for d in r.data]))
    if r.other_data:
        out.append(table(r.other_data.columns, r.other_data.rows))
    if r.models:
        out.append("<h3>Models</h3>" + table(("model", "fingerprint", "details"), r.models))
    if r.config:
        out.append("<h3>Settings</h3>" + table(r.config.columns, r.config.rows))
    if r.versions:
        out.append("<h3>Versions</h3>" + table(("package", "version"), r.versions))
    return "".join(out)


def render_report(results: dict[str, Any]) -> str:
    """The whole page for a results dict (the content of ``results.json``) as an HTML string."""
    info = I.build_report_info(results)
    title = f"transferkit {info.command} report"
    toc = "".join(f'<a href="#{e(s.anchor)}">{e(s.title)}</a>' for s in info.sections)
    toc += '<a href="#sec-reproducibility">Reproducibility</a>'
    body = []
    for s in info.sections:
        render = _RENDER.get(type(s.content), _generic)
        try:
            inner = render(s.content)
        except Exception as exc:  # never lose the page over one section
            warnings.warn(f"report section {s.key!r} failed: {exc}", RuntimeWarning, stacklevel=2)
            why = f"{e(type(exc).__name__)}: {e(exc)}"
            inner = (f'<p class="warn">This section could not be laid out ({why}); '
                     "its data is in results.json.</p>")
        body.append(f'<section id="{e(s.anchor)}"><h2>{e(s.title)}</h2>{inner}</section>')
    if info.status:
        body.insert(0, f'<div class="verdict verdict-inconclusive"><strong>{e(info.status)}</strong></div>')
    if not info.sections:
        body.append('<p class="note">This run recorded no result sections.</p>')
    body.append(f'<section id="sec-reproducibility"><h2>Reproducibility</h2>{_repro(info.repro, info.schema)}'
                "</section>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}</title><style>{_css()}</style></head><body>"
        f'<header class="top"><h1>{e(title)}</h1><div class="sub"><code>{e(info.repro.command)}</code> '
        f"&middot; {e(info.repro.created)}</div><nav class=\"toc\">{toc}</nav></header>"
        f"<main>{''.join(body)}</main>"
        f"<footer>Made by transferkit {e(__version__)}. This page is self-contained and works offline."
        "</footer></body></html>\n"
    )


def write_report(run_dir: str | os.PathLike[str], results: dict[str, Any] | None = None) -> Path:
    """Write ``report.html`` into ``run_dir``; returns the page's path.

    The page is rendered from ``results`` (a results dict, held in memory by the command that just
    ran), or, when None, from the folder's ``results.json`` (``transferkit report RUN``).
    """
    run_dir = Path(run_dir)
    page = render_report(read_results(run_dir) if results is None else to_jsonable(results))
    out = run_dir / "report.html"
    atomic_write_text(out, page)
    return out

"""The terminal summary: the same results as the HTML report, as rich tables.

Two levels: :func:`print_summary` lays out every section of any results dict (what
``transferkit report RUN`` prints), and :func:`print_run_summary` prints a command's own tables
(``fit``, ``demo``, ``adapt``, ``har``, ``agents``, ``multitask``, ``pretrain``, ``rank``,
``similarity``; :data:`RUN_SUMMARIES`), falling back to the generic summary. The tables are public
(:func:`comparison_table`, :func:`har_table`, :func:`agents_table`, ...) for scripts that print
results themselves. One colour per verdict everywhere: :data:`VERDICT_STYLE`.

Every cell that holds text from the data (class, model, task, variant names) is a
:class:`rich.text.Text`, never a markup string, so a class called ``[bold]x`` or ``[link=...]``
prints literally.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

from transferkit.reports import _info as I
from transferkit.reports._compare import validation_sentence

VERDICT_STYLE: dict[str, str] = {"positive": "bold green", "inconclusive": "bold yellow", "negative": "bold red"}
"""The terminal colour of each verdict (transfer vs baseline); every table and sentence uses it."""

# verdict words of other front ends, mapped onto the three above
_VERDICT_KIND = {"adaptation helped": "positive", "negative transfer": "negative"}


def verdict_style(verdict: Any, default: str = VERDICT_STYLE["inconclusive"]) -> str:
    """The style of a verdict: ``positive`` green, ``negative`` red, ``inconclusive`` yellow.

    Adaptation's ``adaptation helped`` / ``negative transfer`` map onto positive / negative; any
    other word (``unverified``...) gets ``default``.
    """
    return VERDICT_STYLE.get(_VERDICT_KIND.get(verdict, verdict), default) if isinstance(verdict, str) else default


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
    out.append(Text(c.sentence, style=verdict_style(c.verdict, "bold")))
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
        return _ranking(s.title, c)
    if isinstance(c, I.SimilarityInfo):
        out = [Text(f"note: {n}", style="yellow") for n in c.notes]
        out.append(_table(s.title, ("measure", "value", "p-value", "reading"),
                          [(m.name, m.value, m.p_value, m.reading or m.note) for m in c.measures]))
        if c.source_reading:
            out.append(Text(f"Source model on the target: {c.source_reading}", style="bold"))
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
            out.append(Text(f"Verdict: {c.verdict}", style=verdict_style(c.verdict, "bold")))
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
    _print(summary_renderables(results), console or Console(markup=False))


def _print(renderables: list[Any], console: Console) -> None:
    for r in renderables:
        console.print(r)
        if isinstance(r, Table):
            console.print()


# --------------------------------------------------------------------------- the commands' own tables


def _f(v: Any, spec: str = ".3f") -> str:
    """``v`` formatted with ``spec``; None (a non-finite value in ``results.json``) as ``-``."""
    return "-" if v is None else format(v, spec)


def _ci(d: dict[str, Any], spec: str = "+.3f") -> str:
    """``mean [low, high]`` of a difference record."""
    if d.get("mean") is None:
        return "-"
    return f"{_f(d['mean'], spec)} [{_f(d.get('ci_low'), spec)}, {_f(d.get('ci_high'), spec)}]"


def _verdict(v: Any) -> Text:
    return Text(str(v), style=verdict_style(v))


def _line(*parts: str | tuple[str, str]) -> Text:
    """One line of text from plain and ``(text, style)`` parts (data never parsed as markup)."""
    return Text.assemble(*parts)


def comparison_table(section: dict[str, Any], title: str) -> Table:
    """A transfer-vs-scratch comparison section: each arm's mean and its score per seed."""
    t = Table(title=Text(title))
    t.add_column("model")
    t.add_column(Text(f"test {section['metric']} (mean)"), justify="right")
    t.add_column("per seed", justify="left")
    arms = [section["transfer"], section["scratch"], *(section.get("others") or {}).values()]
    for arm in arms:
        t.add_row(Text(str(arm["name"])), _f(arm["mean"]), "  ".join(_f(v) for v in arm["per_seed"]))
    return t


def _verdict_sentence(comp: dict[str, Any]) -> Text:
    word = " transfer." if comp["verdict"] in VERDICT_STYLE else "."
    method = f" Interval: {comp['interval_method']}." if comp.get("interval_method") else ""
    method += f" {validation_sentence(comp)}" if validation_sentence(comp) else ""
    return _line((f"Verdict at {comp['budget_label']}:", "bold"), " ", (str(comp["verdict"]),
                 verdict_style(comp["verdict"])), f"{word} {comp.get('advice') or ''}{method}")


def _demo_run(results: dict[str, Any]) -> list[Any]:
    """``transferkit demo``: every section, then the label-efficiency table, the models and the verdict."""
    out = summary_renderables(results)
    le = results["sections"]["label_efficiency"]
    table = Table(title="Label efficiency: test accuracy on digits 5-9 (mean over seeds)")
    for col in ("labels/class", "transfer", "scratch", "transfer - scratch [95% CI]", "verdict"):
        table.add_column(col, justify="right" if col != "verdict" else "left")
    for i, b in enumerate(le["budgets"]):
        table.add_row(str(b), _f(le["transfer"]["mean"][i]), _f(le["scratch"]["mean"][i]), _ci(le["diff"][i]),
                      _verdict(le["verdicts"][i]))
    out.append(table)
    comp = results["sections"]["comparison"]
    out.append(comparison_table(comp, f"At {comp['budget_label']} (all models)"))
    out.append(_verdict_sentence(comp))
    if le.get("crossover") is not None:
        out.append(_line("Transfer stops helping clearly at ", (str(le["crossover"]), "bold"), " labels per class."))
    return out


def _fit_run(results: dict[str, Any]) -> list[Any]:
    """``transferkit fit``: label efficiency over the budgets, all models at the first budget, the verdict."""
    le = results["sections"]["label_efficiency"]
    comps = results["comparisons_by_budget"]
    head = shipped_lines(results)
    t = Table(title=Text(f"Label efficiency: test {le['metric']} (mean over {len(results['seeds'])} seeds)"))
    for col in ("budget", "transfer", "scratch", "transfer - scratch [95% CI]", "verdict", "strategy"):
        t.add_column(col, justify="left" if col in ("verdict", "strategy", "budget") else "right")
    for i, label in enumerate(le["budget_labels"]):
        chosen = comps[i]["transfer"]["name"].split(" + ", 1)[-1]
        t.add_row(Text(str(label)), _f(le["transfer"]["mean"][i]), _f(le["scratch"]["mean"][i]), _ci(le["diff"][i]),
                  _verdict(le["verdicts"][i]), Text(chosen))
    out: list[Any] = [t]
    comp = results["sections"]["comparison"]
    table = comparison_table(comp, f"At {comp['budget_label']} (all models)")
    if "source_only" in comp:
        so = comp["source_only"]
        table.add_row(Text(str(so["name"])), _f(so["mean"]), "(same model every seed)")
    out.append(table)
    for c in comps:
        reason = (c.get("strategy") or {}).get("reason")
        if reason:
            out.append(_line((f"auto at {c['budget_label']}:", "dim"), f" {reason}"))
    speed = [s["transfer"]["epochs"] for s in comp.get("time_to_scratch_best") or []]
    if speed:
        reached = [e for e in speed if e is not None]
        median = f" (median {sorted(reached)[len(reached) // 2]:.0f} epochs/fits)" if reached else ""
        out.append(Text(f"Transfer reached scratch's best validation score in {len(reached)}/{len(speed)} seeds"
                        f"{median}."))
    out.append(_verdict_sentence(comp))
    out.append(Text(f"Label efficiency: {le['summary']}."))
    model = ((results.get("sections") or {}).get("shipped") or {}).get("model")
    return [*head, *out, *([Text(f"Shipped model: {model}", style="bold")] if model else [])]


def shipped_lines(results: dict[str, Any]) -> list[Any]:
    """The run's status (when incomplete) and the shipped model's headline, reason and folder."""
    from transferkit.reports._shipped import status_line

    out: list[Any] = []
    st = status_line(results)
    if st:
        out.append(Text(st, style="bold yellow"))
    sh = (results.get("sections") or {}).get("shipped")
    if isinstance(sh, dict) and sh.get("headline"):
        neg = sh.get("verdict") == "negative" and sh.get("role") == "baseline"
        out.append(Text(str(sh["headline"]), style="bold red" if neg else "bold green"))
        t = sh.get("test") or {}
        seed = f" (seed {sh['seed']})" if sh.get("seed") is not None else ""
        out.append(Text(f"Why: {sh.get('reason')}. Test {sh.get('metric')}: {_f(t.get('mean'))} "
                        f"[{_f(t.get('ci_low'))}, {_f(t.get('ci_high'))}] over seeds; shipped weights{seed}: "
                        f"{_f(sh.get('test_seed'))}."))
        if sh.get("model"):
            out.append(Text(f"Model: {sh['model']}"))
    return out


def har_table(section: dict[str, Any]) -> Table:
    """Cross-subject transfer: mean test accuracy over held-out subjects per k, and subjects per verdict."""
    st = section["settings"]
    t = Table(title=Text(f"Cross-subject transfer, {section['dataset']}: mean accuracy over "
                         f"{len(st['target_subjects'])} held-out subjects (norm={st['norm']}, {st['seeds']} seeds each)"))
    for col in ("k/class", "transfer", "scratch", "source-only", "transfer - scratch [95% CI, subjects]",
                "subjects +/~/-"):
        t.add_column(col, justify="right")
    for s in section["summary"]:
        d, c = s["diff_over_subjects"], s["verdict_counts"]
        t.add_row(str(s["k"]), _f(s["transfer"]["mean"]), _f(s["scratch"]["mean"]), _f(s["source_only"]["mean"]),
                  Text(_ci(d), style=verdict_style(d["verdict"])),
                  _line(f"{c['positive']}/{c['inconclusive']}/",
                        (str(c["negative"]), VERDICT_STYLE["negative"] if c["negative"] else "dim")))
    return t


def _har_run(results: dict[str, Any]) -> list[Any]:
    """``transferkit har``: the per-k table and which subjects saw negative transfer."""
    section = results["sections"]["biosignals"]
    out: list[Any] = [har_table(section)]
    for s in section["summary"]:
        if s["negative_subjects"]:
            out.append(_line(("negative transfer", VERDICT_STYLE["negative"]), f" at k={s['k']} for subjects "
                             f"{s['negative_subjects']}: for them, scratch training was better."))
    return out


def _ttt(d: dict[str, Any]) -> str:
    if d["reached"] == 0:
        return "not reached"
    s = f"{d['mean_reached']:.0f}"
    return s if d["reached"] == d["of"] else f"{s} ({d['reached']}/{d['of']} seeds)"


def agents_table(section: dict[str, Any]) -> Table:
    """RL transfer per variant: jumpstart, time to threshold, AUC, transfer ratio, asymptotic return, verdict."""
    st = section["settings"]
    t = Table(title=Text(f"{st['algo'].upper()} on {section['env_id']}: source [{section['source']['variant']}] -> "
                         f"target variants, {st['seeds']} seeds, {st['target_steps']} target steps"))
    for col in ("variant", "jumpstart [95% CI]", f"steps to {st['threshold']:g}: transfer / scratch",
                "AUC transfer / scratch", "transfer ratio", "asymptotic transfer / scratch", "verdict (AUC)"):
        t.add_column(col, justify="right")
    for r in section["variants"]:
        tt, auc, asym = r["time_to_threshold"], r["auc"], r["asymptotic"]
        ratio = r["transfer_ratio"]["ratio_of_means"]
        t.add_row(Text(str(r["variant"])), _ci(r["jumpstart"], "+.1f"), f"{_ttt(tt['transfer'])} / {_ttt(tt['scratch'])}",
                  f"{_f(auc['transfer'], '.1f')} / {_f(auc['scratch'], '.1f')}",
                  "n/a" if ratio is None else f"{ratio:+.2f}",
                  f"{_f(asym['transfer'], '.1f')} / {_f(asym['scratch'], '.1f')}", _verdict(r["verdict"]))
    return t


def _agents_run(results: dict[str, Any]) -> list[Any]:
    """``transferkit agents``: the per-variant table and the variants where transfer hurt."""
    section = results["sections"]["agents"]
    out: list[Any] = [agents_table(section)]
    bad = VERDICT_STYLE["negative"]
    for r in section["variants"]:
        if r["verdict"] == "negative":
            out.append(_line((f"negative transfer on {r['variant']}:", bad), " the source agent's weights made "
                             f"learning worse (AUC {_f(r['auc']['diff']['mean'], '+.1f')}). {r['advice']}"))
        if r["jumpstart"]["verdict"] == "negative":
            out.append(_line((f"negative jumpstart on {r['variant']}:", bad), " the source policy starts worse than an "
                             f"untrained one there ({_f(r['jumpstart']['mean'], '+.1f')} return); judge it by the "
                             f"area under the curve (verdict: {r['verdict']})."))
    return out


def multitask_table(section: dict[str, Any]) -> Table:
    """Per-task test scores (single vs each weighting) with the paired difference and its 95% CI."""
    ws = list(section.get("delta_m", {}))
    metric = section["metric"] if isinstance(section["metric"], str) else "per-task metric"
    t = Table(title=Text(f"Test {metric} per task (mean over seeds); diff = multi - single [95% CI]"))
    t.add_column("task")
    t.add_column("single", justify="right")
    for w in ws:
        t.add_column(Text(w), justify="right")
    for row in section["rows"]:
        cells: list[Any] = [Text(str(row["task"])), _f(row["single"])]
        for w in ws:
            lo, hi = row["diff_ci"][w]
            cells.append(Text(f"{_f(row[f'multi_{w}'])}\n{_f(row['diff'][w], '+.3f')} [{_f(lo, '+.2f')}, "
                              f"{_f(hi, '+.2f')}]", style=verdict_style(row["verdict"][w])))
        t.add_row(*cells)
    dm = section.get("delta_m", {})
    ci = section.get("delta_m_ci", {})
    t.add_section()
    t.add_row("Δm % (lower = better)", "",
              *(f"{_f(dm[w], '+.2f')} [{_f(ci[w][0], '+.1f')}, {_f(ci[w][1], '+.1f')}]" for w in ws))
    return t


def metrics_table(rows: list[dict[str, Any]], arms: list[str]) -> Table:
    """The other metrics (accuracy, balanced accuracy, AUROC...) per task and arm."""
    t = Table(title="Other test metrics (mean over seeds)")
    for c in ("task", "metric", *arms):
        t.add_column(Text(c), justify="left" if c in ("task", "metric") else "right")
    for r in rows:
        t.add_row(Text(str(r["task"])), Text(str(r["metric"])), *(_f(r.get(a)) for a in arms))
    return t


def _multitask_run(results: dict[str, Any]) -> list[Any]:
    """``transferkit multitask``: gain per task and weighting, the other metrics, and negative transfer."""
    section = results["sections"]["multitask"]
    if "delta_m" not in section:
        return []
    arms = ["single", *(f"multi_{w}" for w in section["delta_m"])]
    out: list[Any] = [multitask_table(section), metrics_table(results["sections"]["multitask_metrics"], arms),
                      Text(section["delta_m_note"], style="dim")]
    negatives = [(r["task"], w) for r in section["rows"] for w, neg in r["negative"].items() if neg]
    if negatives:
        out.append(_line(("Negative transfer", VERDICT_STYLE["negative"]), " (multi-task worse, whole 95% CI below 0): "
                         + ", ".join(f"{t} with {w}" for t, w in negatives)))
    else:
        out.append(Text("No task shows significant negative transfer (no 95% CI wholly below 0)."))
    return out


def adaptation_table(section: dict[str, Any]) -> Table:
    """One line per model: mean target test accuracy, target validation accuracy, mean selection scores."""
    table = Table(title=Text(f"adaptation: {section['method']} vs source-only"))
    table.add_column("model")
    table.add_column("target acc (test)", justify="right")
    if section["target_labels_per_class"]:
        table.add_column("target val acc", justify="right")
    score_names = list(section["rows"][0]["selection_scores"])
    for s in score_names:
        table.add_column(Text(s.replace("_", " ")), justify="right")
    for model in dict.fromkeys(r["model"] for r in section["rows"]):
        rs = [r for r in section["rows"] if r["model"] == model]
        acc = [r["target_accuracy"] for r in rs]
        cells: list[Any] = [Text(str(model)), f"{np.mean(acc):.3f} ± {np.std(acc):.3f}"]
        if section["target_labels_per_class"]:
            cells.append(f"{np.mean([r['target_val_accuracy'] for r in rs]):.3f}")
        cells += [f"{np.mean([r['selection_scores'][s] for r in rs]):.3f}" for s in score_names]
        table.add_row(*cells)
    return table


def _adapt_run(results: dict[str, Any]) -> list[Any]:
    """``transferkit adapt``: the models side by side, the label-free choices, the verdict and advice."""
    section = results["sections"]["adaptation"]
    return [adaptation_table(section),
            Text(f"label-free choice per score: {section['label_free_choice']}"),
            _line((f"verdict: {section['verdict']}", verdict_style(section["verdict"])),
                  f" - recommended model: {section['recommended']}"),
            Text(str(section["advice"])), *_adapt_extras(section)]


def _adapt_extras(section: dict[str, Any]) -> list[Any]:
    """The label-free decision and, with target labels, the comparison with a target-only model."""
    out: list[Any] = []
    dec = section.get("decision")
    if isinstance(dec, dict):
        out.append(Text(f"label-free decision: {dec.get('choice')} ({dec.get('reason')})"))
    to = section.get("target_only")
    if isinstance(to, dict) and to.get("available"):
        lo, hi = to["gain_ci"]
        out.append(Text(f"vs a target-only model on the {to['n_target_labels']} labelled examples: "
                        f"{to['recommended']} {to['recommended_accuracy']:.3f} vs target-only "
                        f"{to['target_only_accuracy']:.3f} on the test rows ({to['gain_over_target_only']:+.3f} "
                        f"[{lo:+.3f}, {hi:+.3f}]): {to['verdict']}"))
    elif isinstance(to, dict):
        out.append(Text(f"target-only comparison: {to.get('why')}", style="dim"))
    return out


def _fmt4(v: object) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def _pretrain_run(results: dict[str, Any]) -> list[Any]:
    """``transferkit pretrain``: the source metrics of the new zoo entry, where it is and how to use it."""
    sec = results["sections"]["pretrain"]
    card = sec["card"]
    name = Path(sec["entry"]).name
    t = Table(title=Text(f"zoo:{name} ({card['objective']} on {card['source']['dataset']})"))
    t.add_column("source metric")
    t.add_column("value", justify="right")
    for k, v in card["metrics"].items():
        if k != "primary":
            t.add_row(Text(k + (" (primary)" if k == card["metrics"].get("primary") else "")), _fmt4(v))
    out: list[Any] = [t]
    if card["training"].get("resumed"):
        out.append(Text("resumed from an interrupted run", style="dim"))
    w = card["weights"]
    out.append(Text(f"entry:   {sec['entry']} (weights sha256 {w['sha256'][:16]}..., {w['bytes'] / 1e6:.2f} MB)"))
    zoo = Path(sec["entry"]).parent
    out.append(Text(f"use it:  --backbone zoo:{name} with TRANSFERKIT_ZOO={zoo} (or --backbone 'zoo:{name}?dir={zoo}')"))
    return out


def _rank_run(results: dict[str, Any]) -> list[Any]:
    """``transferkit rank``: the notes on skipped scores, then the ranking."""
    sec = results["sections"]["ranking"]
    notes = [Text(f"{r['model']}: {r['notes']}", style="dim") for r in sec["rows"] if r.get("notes")]
    notes += [Text(str(n), style="dim") for n in sec.get("notes") or []]
    return [*notes, *summary_renderables(results)]


def _ranking(title: str, c: I.RankingInfo) -> list[Any]:
    """The ranking table (with each candidate's kind: pretrained, random or raw), the recommendation, the
    note when scores disagree, and one line per score."""
    kinds = c.extras and "kind" in c.extra_columns
    k = c.extra_columns.index("kind") if kinds else 0
    rows = [(rk, m, *([ex[k]] if kinds else []), *v)
            for m, v, rk, ex in zip(c.models, c.values, c.ranks, c.extras or [()] * len(c.models), strict=True)]
    out: list[Any] = [_table(f"{title} (by {c.rank_by})", ("rank", "model", *(["kind"] if kinds else []), *c.scores),
                             rows)]
    for i, line in enumerate(c.recommendation):
        out.append(Text(line if i == 0 else f"note: {line}", style="bold" if i == 0 else "yellow"))
    out += [Text(f"  {line}", style="dim") for line in c.explanations]
    return out


def relation_table(rel: dict[str, Any], max_rows: int = 20) -> Table:
    """For each source class (heaviest first): its mass and the target classes it stands for."""
    mass = np.asarray(rel["source_mass"])
    order = np.argsort(-mass, kind="stable")[:max_rows]
    acc = rel.get("accuracy")
    title = "Label relation P(target | source); source model = backbone + linear head fitted on source"
    if acc is not None:
        title += f"; its accuracy on target {acc:.3f}"
    t = Table(title=Text(title))
    for col in ("source class", "mass", "most likely target", "P", "second", "P"):
        t.add_column(col, justify="right" if col in ("mass", "P") else "left")
    targets = rel["target_classes"]
    for z in order:
        row = np.asarray(rel["matrix"][z])
        first, second = np.argsort(-row, kind="stable")[:2] if len(row) > 1 else (0, 0)
        t.add_row(
            Text(str(rel["source_classes"][z])),
            f"{mass[z]:.3f}",
            Text(str(targets[first])),
            f"{row[first]:.2f}",
            Text(str(targets[second])) if len(row) > 1 else "-",
            f"{row[second]:.2f}" if len(row) > 1 else "-",
        )
    return t


def _similarity_run(results: dict[str, Any]) -> list[Any]:
    """``transferkit similarity``: per-class notes, the label relation, then the measures."""
    section = results["sections"]["similarity"]
    out: list[Any] = []
    for name, cc in section["class_conditional"].items():
        for key in ("only_source", "only_target", "skipped"):
            if cc.get(key):
                out.append(Text(f"{name} per class, {key.replace('_', ' ')}: {', '.join(map(str, cc[key]))}",
                                style="dim"))
    if section.get("label_relation") is not None:
        out.append(relation_table(section["label_relation"]))
    return [*out, *summary_renderables(results)]


RUN_SUMMARIES: dict[str, Callable[[dict[str, Any]], list[Any]]] = {
    "adapt": _adapt_run,
    "agents": _agents_run,
    "demo": _demo_run,
    "fit": _fit_run,
    "har": _har_run,
    "multitask": _multitask_run,
    "pretrain": _pretrain_run,
    "rank": _rank_run,
    "similarity": _similarity_run,
}
"""The summary each command prints when it finishes, by ``results["command"]``."""


def run_summary_renderables(results: dict[str, Any]) -> list[Any]:
    """What a finished command prints: its own tables (:data:`RUN_SUMMARIES`), else every section."""
    own = RUN_SUMMARIES.get(str(results.get("command")))
    if own is None:
        return summary_renderables(results)
    try:
        return own(results)
    except Exception as exc:  # the summary must not fail after a finished run
        note = Text(f"the {results.get('command')} summary failed ({type(exc).__name__}: {exc}); all sections:",
                    style="red")
        return [note, *summary_renderables(results)]


def print_run_summary(results: dict[str, Any], console: Console | None = None) -> None:
    """Print what a command prints when it finishes (see :func:`run_summary_renderables`)."""
    _print(run_summary_renderables(results), console or Console(markup=False))

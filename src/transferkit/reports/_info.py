"""Plain data objects built from ``results.json``: the tested half of the report.

:func:`build_report_info` turns a results dict into a :class:`ReportInfo` made of small frozen
dataclasses, one per known section, each checked on the way in (lengths agree, matrices are
rectangular, numbers are numbers). The HTML page (``reports/html.py``) and the terminal table
(``reports/terminal.py``) only lay these objects out. A known section that does not parse is kept as a
:class:`TableInfo` with the reason, so one malformed section never costs the rest of the report, and an
unknown section becomes a generic table so new commands show up without changes here.
"""

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from transferkit.reports._compare import (
    ArmInfo,
    BandInfo,
    ComparisonInfo,
    LabelEfficiencyInfo,
    infer_verdict,
    parse_comparison,
    parse_label_efficiency,
    verdict_sentence,
)
from transferkit.reports._sections import (
    AdaptationInfo,
    ClassDistanceInfo,
    ConfusionInfo,
    CurveInfo,
    MatrixInfo,
    MeasureInfo,
    MultitaskInfo,
    PretrainInfo,
    RankingInfo,
    SimilarityInfo,
    parse_adaptation,
    parse_confusion,
    parse_curves,
    parse_multitask,
    parse_pretrain,
    parse_ranking,
    parse_similarity,
)
from transferkit.reports._shipped import ShippedInfo, parse_shipped, status_line
from transferkit.reports._values import (
    Num,
    ReportError,
    TableInfo,
    _scalar,
    fmt,
    is_fraction_metric,
    kv_table,
    rows_table,
)

__all__ = [
    "SECTION_TITLES",
    "AdaptationInfo",
    "ArmInfo",
    "BandInfo",
    "ClassDistanceInfo",
    "ComparisonInfo",
    "ConfusionInfo",
    "CurveInfo",
    "DataRow",
    "LabelEfficiencyInfo",
    "MatrixInfo",
    "MeasureInfo",
    "MultitaskInfo",
    "Num",
    "PretrainInfo",
    "RankingInfo",
    "ReportError",
    "ReportInfo",
    "ReproInfo",
    "SectionInfo",
    "ShippedInfo",
    "SimilarityInfo",
    "TableInfo",
    "anchor_for",
    "build_report_info",
    "build_section",
    "command_line",
    "fmt",
    "infer_verdict",
    "is_fraction_metric",
    "kv_table",
    "parse_adaptation",
    "parse_comparison",
    "parse_confusion",
    "parse_curves",
    "parse_label_efficiency",
    "parse_multitask",
    "parse_pretrain",
    "parse_ranking",
    "parse_shipped",
    "parse_similarity",
    "rows_table",
    "verdict_sentence",
]

_SECTIONS = {
    "shipped": ("The model this run ships", parse_shipped),
    "comparison": ("Did transfer help?", parse_comparison),
    "label_efficiency": ("Label efficiency", parse_label_efficiency),
    "ranking": ("Backbone ranking", parse_ranking),
    "similarity": ("Source / target similarity", parse_similarity),
    "curves": ("Training curves", parse_curves),
    "confusion_matrix": ("Confusion matrix", parse_confusion),
    "multitask": ("Multi-task results", parse_multitask),
    "adaptation": ("Domain adaptation", parse_adaptation),
    "pretrain": ("Pre-training", parse_pretrain),
}
SECTION_TITLES: dict[str, str] = {k: title for k, (title, _) in _SECTIONS.items()}
"""Known section keys, in the order the report shows them, with their headings."""
_PARSERS = {k: parse for k, (_, parse) in _SECTIONS.items()}


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
    status: str = ""  # empty for a finished run; else what is missing (a stopped or running run)


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
    repro = ReproInfo(command=command_line(results.get("argv"), command), created=str(results.get("created") or ""),
                      versions=tuple((str(k), str(v)) for k, v in versions.items()), seeds=tuple(str(s) for s in seeds),
                      data=data_rows, models=_models(results.get("models")), other_data=other_data,
                      config=kv_table(config, "setting") if isinstance(config, dict) and config else None)
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
                      sections=tuple(built), status=status_line(results))

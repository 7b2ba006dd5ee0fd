"""Checked readers, number formatting and generic tables shared by the report's section parsers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from transferkit.errors import TransferkitError

Num = float | None

_FRACTION_HINTS = ("acc", "f1", "auc", "precision", "recall", "top1", "top5", "iou", "map", "jaccard")


class ReportError(TransferkitError, ValueError):
    """A results section does not have the shape the report expects; the message names the field.

    Bad data (a damaged or hand-edited results.json): exit code 3 on the command line."""

    exit_code = 3


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

"""The ``shipped`` section (the never-worse gate's choice and the model folder) and a run's status line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from transferkit.reports._values import Num, TableInfo, _dict, _need, _num


@dataclass(frozen=True)
class ShippedInfo:
    """Which arm's model the run ships, why, its validation and test figures, and where it is."""

    headline: str
    name: str
    role: str
    seed: Any
    budget: str
    reason: str
    verdict: str
    metric: str
    test_mean: Num
    test_ci: tuple[Num, Num]
    test_seed: Num
    by_test_verdict: bool
    model: str
    validation: TableInfo  # candidate arm -> mean best-validation score


def parse_shipped(d: Any) -> ShippedInfo:
    """Check and convert a ``shipped`` section."""
    d = _dict(d, "shipped")
    t = _dict(d.get("test") or {}, "shipped.test")
    sel = str(d.get("select_metric") or "score")
    val = _dict(d.get("val") or {}, "shipped.val")
    rows = tuple((str(k), _num(v, f"shipped.val.{k}")) for k, v in val.items())
    return ShippedInfo(
        headline=str(_need(d, "headline", "shipped")), name=str(d.get("name") or ""), role=str(d.get("role") or ""),
        seed=d.get("seed"), budget=str(d.get("budget_label") or d.get("budget") or ""),
        reason=str(d.get("reason") or ""), verdict=str(d.get("verdict") or ""), metric=str(d.get("metric") or ""),
        test_mean=_num(t.get("mean"), "shipped.test.mean"),
        test_ci=(_num(t.get("ci_low"), "shipped.test.ci_low"), _num(t.get("ci_high"), "shipped.test.ci_high")),
        test_seed=_num(d.get("test_seed"), "shipped.test_seed"), by_test_verdict=bool(d.get("by_test_verdict")),
        model=str(d.get("model") or ""),
        validation=TableInfo(("arm", f"mean {_on(d.get('selected_on'))} {sel}"), rows),
    )


def _on(selected_on: Any) -> str:
    """The gate's score in words: ``best validation``, or ``5-fold CV`` in cv mode."""
    return "best validation" if selected_on in (None, "", "validation") else str(selected_on)


def status_line(results: dict[str, Any]) -> str:
    """``""`` for a finished run; for a stopped or running one, what is missing and how to go on."""
    st = results.get("status")
    if not isinstance(st, dict) or st.get("complete", True):
        return ""
    done, total = st.get("cells_done"), st.get("cells_total")
    why = str(st.get("state") or "incomplete")
    out = f"Incomplete run ({why}): {done} of {total} cells done; the figures below cover those cells only."
    if st.get("resume"):
        out += f" Continue with: {st['resume']}"
    return out

"""Figures for the HTML report: matplotlib (Agg) drawn to inline SVG with real ``<text>`` elements.

Each function takes the plain objects of :mod:`transferkit.reports._info` and returns an SVG string
ready to be placed in the page (no XML prolog, no external references). matplotlib escapes text for
XML itself; :func:`mpl_text` additionally stops user-supplied names from being read as mathtext
(``$...$``), and :func:`to_svg` refuses output that would carry a script or an external link.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg", force=False)

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from transferkit.reports._info import (  # noqa: E402
    ComparisonInfo,
    CurveInfo,
    LabelEfficiencyInfo,
    MatrixInfo,
    Num,
    RankingInfo,
    SimilarityInfo,
)

TRANSFER = "#1f77b4"
SCRATCH = "#ff7f0e"
SOURCE = "#7f7f7f"
_RC = {
    "svg.fonttype": "none",  # text stays text: searchable, selectable, and checked as escaped
    "svg.hashsalt": "transferkit",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}
_MAX_LABEL = 40


def mpl_text(s: object, limit: int = _MAX_LABEL) -> str:
    """A user-supplied name as literal matplotlib text: ``$`` escaped, newlines flattened, long names cut."""
    t = re.sub(r"\s+", " ", str(s))
    if len(t) > limit:
        t = t[: limit - 1] + "\u2026"
    return t.replace("$", r"\$")


def _wrap(name: str, width: int = 18, lines: int = 3) -> str:
    """A long name on up to ``lines`` lines of about ``width`` characters (for tick labels)."""
    parts = textwrap.wrap(re.sub(r"\s+", " ", str(name)), width) or [""]
    if len(parts) > lines:
        parts = [*parts[: lines - 1], parts[lines - 1][: width - 1] + "\u2026"]
    return "\n".join(mpl_text(p, width + 1) for p in parts)


def to_svg(fig: Figure) -> str:
    """Render ``fig`` as an inline SVG element (prolog stripped) and close it."""
    buf = io.StringIO()
    try:
        with plt.rc_context(_RC):  # svg.* settings are read when saving
            fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    finally:
        plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    low = svg.lower()
    external = re.search(r"""href=["'](?!#|data:image/png;base64,)""", low)
    if "<script" in low or "<foreignobject" in low or external:
        raise RuntimeError("refusing an SVG with a script, foreignObject or external link")
    return svg


def _fig(w: float, h: float) -> tuple[Figure, plt.Axes]:
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(w, h))
    return fig, ax


def _xy(xs: Sequence[Num], ys: Sequence[Num]) -> tuple[list[float], list[float]]:
    pts = [(x, y) for x, y in zip(xs, ys, strict=False) if x is not None and y is not None]
    return [p[0] for p in pts], [p[1] for p in pts]


def ranking_bars(info: RankingInfo) -> str:
    """Horizontal bars of the ranking score, best model on top."""
    j = info.scores.index(info.rank_by)
    vals = [row[j] for row in info.values]
    n = len(info.models)
    with plt.rc_context(_RC):
        fig, ax = _fig(6.4, 0.9 + 0.32 * n)
        ys = list(range(n))[::-1]
        bars = ax.barh(ys, [0.0 if v is None else v for v in vals], color=TRANSFER, height=0.6)
        ax.set_yticks(ys, [mpl_text(m) for m in info.models])
        for b, v in zip(bars, vals, strict=True):
            neg = v is not None and v < 0
            ax.annotate(f"{v:.4g}" if v is not None else "n/a",
                        (b.get_width(), b.get_y() + b.get_height() / 2),
                        xytext=(-3 if neg else 3, 0), textcoords="offset points", va="center", fontsize=8,
                        ha="right" if neg else "left")
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlabel(mpl_text(info.rank_by) + " (higher ranks first)")
        ax.grid(axis="y", visible=False)
        return to_svg(fig)


def heatmap(m: MatrixInfo, title: str, xlabel: str, ylabel: str, annotate: bool = True) -> str:
    """A labelled heat map with the value written in each cell (when the matrix is small enough)."""
    nr, nc = len(m.row_labels), len(m.col_labels)
    data = [[math.nan if v is None else v for v in row] for row in m.values]
    with plt.rc_context(_RC):
        fig, ax = _fig(min(2.0 + 0.45 * nc, 11), min(1.6 + 0.4 * nr, 11))
        im = ax.imshow(data, cmap="Blues", aspect="auto")
        ax.grid(False)
        cols = [mpl_text(c, 24) for c in m.col_labels]
        tilt = nc > 4 or sum(len(c) for c in cols) > 7 * nc
        ax.set_xticks(range(nc), cols, rotation=35 if tilt else 0, ha="right" if tilt else "center",
                      rotation_mode="anchor")
        ax.set_yticks(range(nr), [mpl_text(r, 24) for r in m.row_labels])
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        finite = [v for row in data for v in row if not math.isnan(v)]
        top = max(finite, default=0.0)
        if annotate and nr * nc <= 400:
            for i, row in enumerate(data):
                for k, v in enumerate(row):
                    if not math.isnan(v):
                        ax.text(k, i, f"{v:.3g}", ha="center", va="center", fontsize=7,
                                color="white" if v > 0.6 * top else "black")
        return to_svg(fig)


def similarity_plot(info: SimilarityInfo) -> list[str]:
    """One small panel per measure (each on its own scale), plus the label relation as a heat map."""
    out = []
    ms = [m for m in info.measures if m.value is not None]
    if ms:
        with plt.rc_context(_RC):
            fig, axes = plt.subplots(len(ms), 1, figsize=(6.4, 0.3 + 0.55 * len(ms)), squeeze=False)
            for ax, m in zip(axes[:, 0], ms, strict=True):
                ax.barh([0], [m.value], color=TRANSFER, height=0.5)
                ax.axvline(0, color="black", lw=0.8)
                ax.set_yticks([0], [mpl_text(m.name, 24)])
                lim = abs(m.value) * 1.25 or 1.0
                ax.set_xlim(-lim if m.value < 0 else 0.0, lim if m.value > 0 else 1.0)
                p = "" if m.p_value is None else f"  (p = {m.p_value:.3g})"
                ax.text(1.0, 0.5, f" {m.value:.4g}{p}", transform=ax.transAxes, va="center", fontsize=8)
                ax.grid(axis="y", visible=False)
            fig.tight_layout()
            out.append(to_svg(fig))
    for cc in info.class_conditional:
        pts = [(c, v) for c, v in zip(cc.classes, cc.values, strict=True) if v is not None]
        if pts:
            out.append(class_bars(cc.measure, pts, cc.mean))
    if info.label_relation is not None:
        out.append(heatmap(top_rows(info.label_relation), "How source classes relate to target classes",
                           "target class", "source class"))
    return out


def class_bars(measure: str, pts: Sequence[tuple[str, float]], mean: Num, limit: int = 40) -> str:
    """Per-class distance as horizontal bars (largest first, at most ``limit`` classes) with the mean."""
    pts = sorted(pts, key=lambda p: -p[1])[:limit]
    with plt.rc_context(_RC):
        fig, ax = _fig(6.4, 0.9 + 0.25 * len(pts))
        ys = list(range(len(pts)))[::-1]
        ax.barh(ys, [p[1] for p in pts], color=SCRATCH, height=0.6)
        ax.set_yticks(ys, [mpl_text(p[0], 30) for p in pts])
        if mean is not None:
            ax.axvline(mean, color="black", ls="--", lw=1, label=f"weighted mean {mean:.3g}")
            ax.legend(fontsize=7)
        ax.set_xlabel(f"{mpl_text(measure)} between source and target, per class")
        ax.grid(axis="y", visible=False)
        return to_svg(fig)


def top_rows(m: MatrixInfo, limit: int = 30) -> MatrixInfo:
    """At most ``limit`` rows of ``m``: those with the largest entry, in their original order."""
    if len(m.row_labels) <= limit:
        return m
    peak = [max((v for v in row if v is not None), default=-math.inf) for row in m.values]
    keep = sorted(sorted(range(len(peak)), key=lambda i: -peak[i])[:limit])
    return MatrixInfo(tuple(m.row_labels[i] for i in keep), m.col_labels, tuple(m.values[i] for i in keep))


def curves_plot(curves: Sequence[CurveInfo]) -> str:
    """Training loss and validation score per epoch, one line per run."""
    with plt.rc_context(_RC):
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(9.0, 3.2))
        for c in curves:
            x, y = _xy(c.epoch, c.train_loss)
            if x:
                a1.plot(x, y, marker="o", ms=3, label=mpl_text(c.name))
            x, y = _xy(c.epoch, c.val_score)
            if x:
                a2.plot(x, y, marker="o", ms=3, label=mpl_text(c.name))
        a1.set_title("training loss")
        a2.set_title("validation score")
        for a in (a1, a2):
            a.set_xlabel("epoch")
            a.xaxis.set_major_locator(MaxNLocator(integer=True))
            if a.get_legend_handles_labels()[0]:
                a.legend(fontsize=7)
        fig.tight_layout()
        return to_svg(fig)


def label_efficiency_plot(info: LabelEfficiencyInfo) -> str:
    """Score against number of labels, transfer vs scratch, with 95% confidence bands (log x axis)."""
    means = [v for b in info.bands for v in b.mean if v is not None]
    unit = bool(means) and all(0.0 <= v <= 1.0 for v in means)  # a score in [0, 1]: bands clipped to it
    lo_cap, hi_cap = (0.0, 1.0) if unit else (-math.inf, math.inf)
    with plt.rc_context(_RC):
        fig, ax = _fig(6.4, 3.6)
        for band, color in zip(info.bands, (TRANSFER, SCRATCH), strict=True):
            x, y = _xy(info.budgets, band.mean)
            ax.plot(x, y, marker="o", ms=4, color=color, label=mpl_text(band.name))
            pts = [(b, max(lo, lo_cap), min(hi, hi_cap))
                   for b, lo, hi in zip(info.budgets, band.ci_low, band.ci_high, strict=True)
                   if lo is not None and hi is not None]
            if pts:
                ax.fill_between([p[0] for p in pts], [p[1] for p in pts], [p[2] for p in pts], color=color,
                                alpha=0.2, lw=0, label=f"{mpl_text(band.name)} 95% CI")
        if info.crossover is not None:
            ax.axvline(info.crossover, color="black", ls="--", lw=1, label="crossover")
        if min(info.budgets) > 0 and max(info.budgets) / min(info.budgets) >= 8:
            ax.set_xscale("log")
            ax.minorticks_off()
        if len(info.budgets) <= 12:
            ax.set_xticks(info.budgets, [fmt_budget(b) for b in info.budgets])
        ax.set_xlabel(mpl_text(info.budget_label))
        ax.set_ylabel(mpl_text(info.metric))
        ax.legend(fontsize=7)
        return to_svg(fig)


def fmt_budget(b: float) -> str:
    """A label budget as a tick label (whole numbers without a decimal point)."""
    return str(int(b)) if float(b).is_integer() else f"{b:g}"


def comparison_plot(info: ComparisonInfo) -> str:
    """Left: each seed's score per arm, paired seeds joined. Right: per-seed differences, mean and 95% CI."""
    with plt.rc_context(_RC):
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(9.0, 3.4), gridspec_kw={"width_ratios": [3, 2]})
        colors = {"transfer": TRANSFER, "scratch": SCRATCH, "source_only": SOURCE}
        n = max(len(a.per_seed) for a in info.arms)
        for i in range(n):
            pts = [(k, a.per_seed[i]) for k, a in enumerate(info.arms) if i < len(a.per_seed)]
            x, y = _xy([p[0] for p in pts], [p[1] for p in pts])
            a1.plot(x, y, color="#bbbbbb", lw=0.8, zorder=1)
        for k, a in enumerate(info.arms):
            ys = [v for v in a.per_seed if v is not None]
            a1.scatter([k] * len(ys), ys, color=colors.get(a.role, SOURCE), zorder=2, s=18)
            if a.mean is not None:
                a1.plot([k - 0.25, k + 0.25], [a.mean, a.mean], color="black", lw=2, zorder=3)
        a1.set_xticks(range(len(info.arms)), [_wrap(a.name) for a in info.arms], fontsize=8)
        a1.set_xlim(-0.6, len(info.arms) - 0.4)
        a1.set_ylabel(mpl_text(info.metric))
        a1.set_title("score per seed (bar: mean)")
        scale = 100.0 if info.points else 1.0
        diffs = [v * scale for v in info.diff_per_seed if v is not None]
        a2.scatter(diffs, [0.0] * len(diffs), color="#555555", s=18, zorder=2, label="per seed")
        if info.diff_mean is not None:
            lo = info.ci_low if info.ci_low is not None else info.diff_mean
            hi = info.ci_high if info.ci_high is not None else info.diff_mean
            m = info.diff_mean * scale
            a2.errorbar([m], [0.5], xerr=[[m - lo * scale], [hi * scale - m]], fmt="o", color="black",
                        capsize=4, label="mean, 95% CI")
        a2.axvline(0, color="red", lw=1, ls="--")
        a2.set_ylim(-0.5, 1.0)
        a2.set_yticks([])
        unit = ("points " if info.points else "") + mpl_text(info.metric)
        gain = "transfer \u2212 scratch" if info.higher_is_better else "scratch \u2212 transfer (lower wins)"
        a2.set_xlabel(f"{unit}: {gain}")
        a2.set_title("difference")
        a2.legend(fontsize=7, loc="upper left")
        fig.tight_layout()
        return to_svg(fig)

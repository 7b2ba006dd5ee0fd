"""Read a score table: one combined ranking over several scores, a recommendation, and what each score means.

No transferability score wins everywhere (Agostinelli et al., ECCV 2022, "How stable are
transferability metrics evaluations?"), so ``rank`` orders candidates by a rank aggregation over
the scores it computed: each score ranks the candidates in its own direction, the positions are
scaled to ``[0, 1]`` (1 = that score's best, 0 = its worst, ties share the average) and averaged
(a normalised Borda count). :func:`recommend` then names the top model and says how sure the
table is: the *margin* of the winner over the runner-up on that scale, and the *agreement*, the
share of scores whose own first choice is the winner, with the mean Kendall tau between the scores'
orderings. When scores pick different winners, a note says which score prefers which model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np
from scipy.stats import kendalltau, rankdata

from transferkit.transferability._info import SCORES

COMBINED = "combined"

# what can make a score mislead, for the scores registered without a ``ScoreInfo.caveat``
CAVEATS: dict[str, str] = {
    "logme": "assumes a linear head on frozen features; compare values only on the same target",
    "regularized_h_score": "a linear view of class separation; does not see how fine-tuning changes features",
    "h_score": "unstable with many feature dimensions and few samples (prefer regularized_h_score)",
    "knn_accuracy": "depends on the features' scale and dimension; small targets make it noisy",
    "linear_probe_accuracy": "the slowest score; measures frozen features, not fine-tuning",
    "leep": "needs the model's own source classifier; ignores the features themselves",
    "nce": "needs the source classifier; uses only its hard predictions",
    "nleep": "fits a Gaussian mixture on the features: slow and sensitive to dimension",
    "gbc": "diagonal Gaussian classes; overlap grows with dimension",
    "transrate": "a coding-rate estimate that depends on the feature dimension",
    "sfda": "not scale-invariant: the Fisher shrinkage depends on the features' scale",
}


def explain(score: str) -> str:
    """One line: what ``score`` measures, which way is better, and its caveat."""
    if score == COMBINED:
        return (f"{COMBINED}: mean position of the model in every score's ranking, scaled to [0, 1]; higher is "
                "better (1 = first by every score); it inherits the scores' blind spots")
    info = SCORES.info(score)
    direction = "higher is better" if info.higher_is_better else "lower is better"
    caveat = info.caveat or CAVEATS.get(SCORES.canonical(score), "")
    return f"{SCORES.canonical(score)}: {info.summary}; {direction}" + (f"; caveat: {caveat}" if caveat else "")


def positions(values: Sequence[float | None], higher_is_better: bool) -> list[float | None]:
    """Each value's place in ``[0, 1]`` among the others (1 = best; ties share the average; None stays None)."""
    idx = [i for i, v in enumerate(values) if v is not None]
    out: list[float | None] = [None] * len(values)
    if len(idx) < 2:
        for i in idx:
            out[i] = 1.0
        return out
    v = np.array([values[i] for i in idx], dtype=np.float64)
    r = rankdata(-v if higher_is_better else v, method="average")  # 1 = best
    for i, ri in zip(idx, r, strict=True):
        out[i] = float((len(idx) - ri) / (len(idx) - 1))
    return out


def combined_scores(table: Sequence[Mapping[str, float | None]], scores: Sequence[str]) -> list[float | None]:
    """The normalised Borda count of every row of ``table`` (one mapping score -> value per candidate)."""
    per_score = [positions([row.get(s) for row in table], SCORES.info(s).higher_is_better) for s in scores]
    out: list[float | None] = []
    for i in range(len(table)):
        got = [p[i] for p in per_score if p[i] is not None]
        out.append(float(np.mean(got)) if got else None)
    return out


def _orderings_agreement(table: Sequence[Mapping[str, float | None]], scores: Sequence[str]) -> float | None:
    """Mean Kendall tau between the orderings of every pair of scores (on the candidates both scored)."""
    taus = []
    for a, b in combinations(scores, 2):
        pairs = [(r[a], r[b]) for r in table if r.get(a) is not None and r.get(b) is not None]
        if len(pairs) < 2:
            continue
        x = [p[0] if SCORES.info(a).higher_is_better else -p[0] for p in pairs]
        y = [p[1] if SCORES.info(b).higher_is_better else -p[1] for p in pairs]
        t = kendalltau(x, y).statistic
        if np.isfinite(t):
            taus.append(float(t))
    return float(np.mean(taus)) if taus else None


def recommend(models: Sequence[str], table: Sequence[Mapping[str, float | None]], scores: Sequence[str],
              kinds: Sequence[str] | None = None) -> dict[str, Any]:
    """The recommendation of a ranked table (rows best first, ``table[i]`` holding ``combined`` too).

    Returns ``model``, ``runner_up``, ``margin``, ``agreement`` (share of scores whose first choice is
    ``model``), ``score_tau`` (mean Kendall tau between the scores), ``confidence`` (high, moderate or
    low), ``first_choices`` (score -> its own best model), ``disagreement`` (a note or None) and ``text``.
    """
    kinds = list(kinds or ["pretrained"] * len(models))
    top = models[0]
    firsts: dict[str, str] = {}
    for s in scores:
        vals = [(r.get(s), m) for r, m in zip(table, models, strict=True) if r.get(s) is not None]
        if vals:
            hib = SCORES.info(s).higher_is_better
            firsts[s] = max(vals, key=lambda t: t[0] if hib else -t[0])[1]
    agreement = float(np.mean([m == top for m in firsts.values()])) if firsts else None
    margin = None
    if len(models) > 1 and table[0].get(COMBINED) is not None and table[1].get(COMBINED) is not None:
        margin = float(table[0][COMBINED] - table[1][COMBINED])
    tau = _orderings_agreement(table, scores)
    if len(models) == 1:
        confidence = "none (one candidate)"
    elif agreement is None or margin is None:
        confidence = "low"
    elif agreement >= 0.75 and margin >= 0.25:
        confidence = "high"
    elif agreement >= 0.5 and margin >= 0.1:
        confidence = "moderate"
    else:
        confidence = "low"
    disagreement = None
    if len(set(firsts.values())) > 1:
        by_model: dict[str, list[str]] = {}
        for s, m in firsts.items():
            by_model.setdefault(m, []).append(s)
        parts = "; ".join(f"{', '.join(ss)} prefer{'s' if len(ss) == 1 else ''} {m}" for m, ss in by_model.items())
        disagreement = (f"the scores disagree on the best model ({parts}); the combined ranking weighs every score "
                        "equally: if you can, fine-tune the top two and compare on validation data")
    text = f"recommended: {top}"
    if margin is not None:
        text += f" (combined {table[0][COMBINED]:.2f}, {margin:+.2f} over {models[1]})"
    if agreement is not None:
        text += f"; {sum(m == top for m in firsts.values())} of {len(firsts)} scores rank it first"
    text += f"; how sure: {confidence}"
    if kinds[0] == "random":
        text += ". Its weights are random: nothing pretrained scored better, so expect no gain from transfer"
    elif kinds[0] == "raw":
        text += ". It is the raw inputs: no candidate's features beat the inputs themselves"
    return {"model": top, "runner_up": models[1] if len(models) > 1 else None, "margin": margin,
            "agreement": agreement, "score_tau": tau, "confidence": confidence, "first_choices": firsts,
            "disagreement": disagreement, "text": text}

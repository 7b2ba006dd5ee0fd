"""Rank candidate backbones for a target data set with transferability scores, and recommend one.

By default the table is ordered by the combined ranking (a rank aggregation over the computed
scores, see :mod:`transferkit.transferability.recommend`) and carries a recommendation: the top
model, how sure the table is and a note when the scores disagree. Candidates with random weights
(built-in nets without ``?weights=``) are created with ``seed``, so their scores, fingerprints and
cached features repeat from run to run; features and source-classifier probabilities are cached
on disk, so a second ``rank`` on the same inputs runs no forward pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from transferkit.errors import DataArgumentError, DataError
from transferkit.transferability._guard import collect_notes, score_limits
from transferkit.transferability._info import SCORES
from transferkit.transferability._validate import check_probs, check_rows, stratified_sample
from transferkit.transferability.recommend import COMBINED, combined_scores, explain, recommend

DEFAULT_SCORES: tuple[str, ...] = (
    "logme", "regularized_h_score", "knn_accuracy", "sfda", "ncti", "etran", "ped")


@dataclass
class Candidate:
    """A candidate model given by its features on the target data (no backbone needed).

    Attributes:
        name: how the model is shown in the table.
        features: ``(N, D)`` features of the target samples, in the target's order.
        source_probs: optional ``(N, C_s)`` softmax of the model's own source classifier on the
            target samples; needed by LEEP and NCE.
        fingerprint: optional identity of the weights (shown and saved with the results).
        kind: ``pretrained``, ``random`` (random weights: a floor, not a model to transfer) or
            ``raw`` (the inputs themselves); shown in the table and the recommendation.
    """

    name: str
    features: Any
    source_probs: Any = None
    fingerprint: str | None = None
    kind: str = "pretrained"

    def __repr__(self) -> str:
        """One line with the array shapes, never the arrays."""
        probs = "" if self.source_probs is None else f", source_probs {_shape(self.source_probs)}"
        return f"Candidate({self.name!r}, features {_shape(self.features)}{probs})"


def _shape(a: Any) -> str:
    return "x".join(map(str, np.shape(a)))


@dataclass
class RankRow:
    """One candidate's scores and rank (1 = best by the ranking score)."""

    model: str
    fingerprint: str | None
    scores: dict[str, float | None]
    rank: int = 0
    num_features: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    kind: str = "pretrained"
    terms: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class RankTable:
    """Rows sorted best first by ``rank_by``, with the scores that were computed.

    ``scores`` lists the computed scores and, when two or more were, ``combined`` last (the rank
    aggregation); ``recommendation`` is :func:`~transferkit.transferability.recommend.recommend`'s
    record; ``explanations`` one line per score column.
    """

    rows: list[RankRow]
    scores: list[str]
    rank_by: str
    target: str = "target"
    notes: list[str] = field(default_factory=list)
    recommendation: dict[str, Any] = field(default_factory=dict)
    explanations: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        """One line: the candidates best first with the ranking score."""
        def score(v: float | None) -> str:
            return "-" if v is None else f"{v:.4g}"

        rows = ", ".join(f"{r.rank}. {r.model} {score(r.scores.get(self.rank_by))}" for r in self.rows)
        return f"RankTable({self.target!r} by {self.rank_by}: {rows})"

    def best(self) -> RankRow:
        """The top-ranked candidate."""
        return self.rows[0]

    def to_frame(self) -> Any:
        """A pandas DataFrame with one row per candidate (``model``, scores, ``rank``)."""
        import pandas as pd

        return pd.DataFrame(
            [{"model": r.model, **{s: r.scores.get(s) for s in self.scores}, "rank": r.rank} for r in self.rows])

    def to_section(self) -> dict[str, Any]:
        """The ``results["sections"]["ranking"]`` record of ``results.json``."""
        rows = []
        for r in self.rows:
            row: dict[str, Any] = {"model": r.model, "fingerprint": r.fingerprint}
            row.update({s: r.scores.get(s) for s in self.scores})
            row.update({"rank": r.rank, "kind": r.kind, "num_features": r.num_features, "seconds": r.seconds,
                        "notes": r.notes})
            rows.append(row)
        higher = {s: True if s == COMBINED else bool(SCORES.info(s).higher_is_better) for s in self.scores}
        return {"target": self.target, "scores": list(self.scores), "rank_by": self.rank_by, "higher_is_better": higher,
                "rows": rows, "notes": list(self.notes), "recommendation": dict(self.recommendation),
                "explanations": list(self.explanations)}


FeatureFn = Callable[[Any, Any], Any]


def rank(candidates: Sequence[Any], target: Any, scores: Sequence[str] = DEFAULT_SCORES, *, rank_by: str | None = None,
         labels: Sequence[Hashable] | np.ndarray | None = None, max_samples: int | None = None, seed: int = 0,
         extract: FeatureFn | None = None) -> RankTable:
    """Score every candidate on the target data, rank them and recommend one.

    Args:
        candidates: backbone spec strings (``"minilm"``, ``"timm:resnet18"``; ``"raw"`` means
            the flattened inputs themselves), ``Backbone`` objects, ``(name, spec or Backbone)``
            pairs to choose the shown name, or :class:`Candidate` records holding precomputed
            features.
        target: a ``Dataset`` or a data spec string (``"sms-spam"``); with only
            :class:`Candidate` records it may be None when ``labels`` are given.
        scores: registered score names (see ``SCORES.names()``).
        rank_by: what orders the table: ``"combined"`` (default with two or more scores: the rank
            aggregation over them) or one score's name.
        labels: target labels when ``target`` carries none (the precomputed-features path).
        max_samples: use a class-stratified random subset of this many target samples.
        seed: seed of that subset and of candidates with random weights (built-in nets without
            ``?weights=``), so their scores repeat and their features are cached.
        extract: ``(backbone, dataset) -> features``; default ``transferkit.features.extract_features``
            (cached on disk).

    Scores that need a source classifier's predictions (LEEP, NCE) are computed only for
    candidates that provide them (``Candidate.source_probs``, or a backbone method
    ``source_probs(dataset)``, cached on disk); for the others the value is None with a note.
    Scores defined relative to the candidate set (NCTI, ETran: ``ScoreInfo.combine``) are
    combined over the candidates after all were scored.
    """
    names = [SCORES.entry(s).name for s in scores]
    if not names:
        raise DataArgumentError("give at least one score (see transferkit.transferability.SCORES.names())")
    if rank_by is not None and rank_by.strip().lower() == COMBINED:
        main = COMBINED
    else:
        main = SCORES.entry(rank_by).name if rank_by else (COMBINED if len(names) > 1 else names[0])
    if main not in names and main != COMBINED:
        names.append(main)
    if not candidates:
        raise DataArgumentError("give at least one candidate model to rank")

    dataset = _load_target(target)
    y, regression, subset, dataset = _target_labels(dataset, labels, max_samples, seed)
    table_notes: list[str] = []
    usable = []
    for s in names:
        if regression and SCORES.info(s).task == "classification":
            table_notes.append(f"{s} skipped: it needs class labels and the target is a regression task")
        else:
            usable.append(s)
    target_name = dataset.name if dataset is not None else "target"
    rows = [_score_candidate(c, dataset, subset, extract, seed, y, names, usable, regression, target_name,
                             alone=len(candidates) == 1) for c in candidates]
    _combine_over_candidates(rows, usable)
    columns = list(names)
    if main == COMBINED or len(usable) > 1:
        for r, v in zip(rows, combined_scores([r.scores for r in rows], usable), strict=True):
            r.scores[COMBINED] = v
        columns.append(COMBINED)
    higher = True if main == COMBINED else SCORES.info(main).higher_is_better

    def key(r: RankRow) -> tuple[int, float]:
        v = r.scores.get(main)
        if v is None:
            return (1, 0.0)
        return (0, -v if higher else v)

    rows.sort(key=key)
    for i, r in enumerate(rows, start=1):
        r.rank = i
    rec = recommend([r.model for r in rows], [r.scores for r in rows], usable, [r.kind for r in rows])
    if main != COMBINED:
        rec["text"] += f" (by {main} alone)"
    return RankTable(rows=rows, scores=columns, rank_by=main, target=target_name, notes=table_notes,
                     recommendation=rec, explanations=[explain(s) for s in columns])


def _target_labels(dataset: Any, labels: Any, max_samples: int | None,
                   seed: int) -> tuple[np.ndarray, bool, np.ndarray | None, Any]:
    """(labels, regression?, subset indices or None, dataset restricted to the subset)."""
    if labels is None:
        if dataset is None or dataset.y is None:
            raise DataError("the target data set has no labels; ranking needs labelled target samples")
        y = np.asarray(dataset.y)
        regression = dataset.task == "regression"
        if not regression:
            dataset.require_labels(2)  # a one-class target: say which data set, before any score runs
    else:
        y = np.asarray(labels)
        regression = y.dtype.kind == "f" and dataset is not None and dataset.task == "regression"
    subset = _subset(y, max_samples, seed, regression)
    if subset is not None:
        y = y[subset]
        if dataset is not None:
            dataset = dataset.subset(subset)
    return y, regression, subset, dataset


def _score_candidate(cand: Any, dataset: Any, subset: np.ndarray | None, extract: FeatureFn | None, seed: int,
                     y: np.ndarray, names: list[str], usable: list[str], regression: bool, target_name: str,
                     alone: bool) -> RankRow:
    """One candidate's row: its features, then every score (per-model terms for set-level scores)."""
    need_probs = any(SCORES.info(s).input != "features" for s in usable)
    name, feats, probs, fp, notes, kind = _materialise(cand, dataset, subset, extract, seed, need_probs)
    f = check_rows(feats, f"features of {name}")  # float32 stays float32: no N x D float64 copy
    if f.shape[0] != len(y):
        raise DataError(f"{name}: {f.shape[0]} feature rows but {len(y)} target labels")
    row = RankRow(model=name, fingerprint=fp, scores={}, num_features=int(f.shape[1]), notes=notes, kind=kind)
    for s in names:
        if s not in usable:
            row.scores[s] = None
            continue
        info = SCORES.info(s)
        fn = SCORES.get(s)
        t0 = time.perf_counter()
        if info.input != "features" and probs is None:
            row.scores[s] = None
            row.notes.append(f"{s} skipped: {name} has no source classifier head")
            continue
        try:
            with collect_notes() as guard_notes:  # subsamples and long-run estimates (transferability._guard)
                if info.input == "features":
                    if info.terms is not None and not alone:
                        row.terms[s] = info.terms(np.asarray(f, dtype=np.float64), y)
                        value = float("nan")  # filled in over the candidate set
                    else:
                        # a score registered for regression targets takes ``regression=True`` (ScoreInfo.task)
                        value = (fn(f, y, regression=True) if (regression and info.task != "classification")
                                 else fn(f, y))
                else:
                    p = check_probs(probs, f"source_probs of {name}")
                    value = fn(p, y) if info.input == "probs" else fn(p.argmax(axis=1), y)
            row.notes.extend(guard_notes)
        except DataError as exc:  # a score sees only arrays: say which target and model
            exc.args = (f"{s} of {name} on {target_name}: {exc}", *exc.args[1:])
            raise
        row.seconds[s] = round(time.perf_counter() - t0, 4)
        row.scores[s] = float(value)
    if kind == "random":
        row.notes.append(f"random weights (seed {seed}): a floor to beat, not a pretrained model")
    return row


def _combine_over_candidates(rows: list[RankRow], usable: list[str]) -> None:
    """Fill in set-level scores (``ScoreInfo.combine``) from every candidate's terms."""
    for s in usable:
        combine = SCORES.info(s).combine
        have = [r for r in rows if s in r.terms]
        if combine is None or not have:
            continue
        for r, v in zip(have, combine([r.terms[s] for r in have]), strict=True):
            r.scores[s] = float(v)


def run_rank(
    target: Any,
    models: Sequence[Any],
    scores: Sequence[str] = DEFAULT_SCORES,
    *,
    rank_by: str | None = None,
    max_samples: int | None = None,
    seed: int = 0,
    limits: dict[str, float] | None = None,
    batch_size: int = 64,
    workers: int = 0,
) -> dict[str, Any]:
    """What ``transferkit rank`` runs: :func:`rank` of ``models`` on ``target``, as a results dict.

    ``limits`` changes the guard limits of super-linear scores (see
    :class:`transferkit.transferability._guard.Limits`); those in force are saved in the results.
    ``batch_size`` and ``workers`` (DataLoader worker processes) are those of the feature extraction;
    they do not change the features.

    ``target`` is a data spec or a ``Dataset``; ``models`` are backbone specs (``"raw"``: the
    inputs themselves) or anything else :func:`rank` takes. The ``ranking`` section holds one row
    per model (scores, rank, fingerprint, feature count, seconds and notes, flattened for the report).
    """
    from transferkit._io import new_results

    for s in [*scores, *([rank_by] if rank_by else [])]:
        SCORES.canonical(s)  # an unknown name fails now, before any feature extraction
    dataset = _load_target(target)
    with score_limits(**(limits or {})) as in_force:
        table = rank(models, dataset, scores=scores, rank_by=rank_by, max_samples=max_samples, seed=seed,
                     extract=_extractor(batch_size, workers))
    section = table.to_section()
    section["limits"] = asdict(in_force)
    for row in section["rows"]:  # flat values render best in the report
        row["seconds"] = round(sum(row["seconds"].values()), 3)
        row["notes"] = "; ".join(row["notes"])
    results = new_results(
        "rank",
        seeds=[seed],
        data={"target": dataset.describe(), "max_samples": max_samples},
        models={r.model: {"fingerprint": r.fingerprint, "num_features": r.num_features} for r in table.rows},
    )
    results["sections"]["ranking"] = section
    return results


RAW = "raw"


def _extractor(batch_size: int, workers: int) -> FeatureFn | None:
    """:func:`~transferkit.features.extract_features` with this batch size and worker count (None: its defaults)."""
    if batch_size == 64 and workers == 0:
        return None
    from functools import partial

    from transferkit.features import extract_features

    return partial(extract_features, batch_size=batch_size, num_workers=workers)


def raw_features(dataset: Any) -> np.ndarray:
    """The inputs of a numeric data set, flattened to ``(N, D)``: the no-backbone baseline."""
    x = np.asarray(dataset.x)
    if x.dtype == object or not np.issubdtype(x.dtype, np.number):
        raise DataError(f"'raw' needs numeric inputs, but {getattr(dataset, 'name', 'the data')} holds "
                        f"{getattr(dataset, 'kind', 'non-numeric')} inputs: pick a backbone that reads them")
    flat = x.reshape(len(x), -1)  # a view, also of a memory map
    return flat if flat.dtype in (np.float32, np.float64) else flat.astype(np.float32)


def _load_target(target: Any) -> Any:
    if target is None:
        return None
    if isinstance(target, str):
        from transferkit.data import load_dataset

        return load_dataset(target)
    return target


def _subset(y: np.ndarray, max_samples: int | None, seed: int, regression: bool) -> np.ndarray | None:
    if max_samples is None or max_samples >= len(y):
        return None
    if max_samples < 2:
        raise DataArgumentError("max_samples must be at least 2")
    if regression:
        return np.sort(np.random.default_rng(seed).choice(len(y), size=max_samples, replace=False))
    return stratified_sample(y, max_samples, seed)


def _materialise(cand: Any, dataset: Any, subset: np.ndarray | None, extract: FeatureFn | None,
                 seed: int = 0, need_probs: bool = True) -> tuple[str, Any, Any, str | None, list[str], str]:
    """(name, features, source_probs, fingerprint, notes, kind) for one candidate (source_probs only with
    ``need_probs``: a second pass over the target that no feature-based score reads)."""
    if isinstance(cand, Candidate):
        feats, probs = np.asarray(cand.features), cand.source_probs
        if subset is not None:
            feats = feats[subset]
            probs = None if probs is None else np.asarray(probs)[subset]
        return cand.name, feats, probs, cand.fingerprint, [], cand.kind
    if dataset is None:
        raise DataError("backbone candidates need a target data set to extract features from")
    label = None
    if isinstance(cand, tuple) and len(cand) == 2 and isinstance(cand[0], str):
        label, cand = cand
    if isinstance(cand, str) and cand.strip().lower() == RAW:
        return label or RAW, raw_features(dataset), None, None, ["the inputs themselves, no backbone"], "raw"
    import torch

    from transferkit.backbones import Backbone, create_backbone

    kind = "random" if isinstance(cand, str) and is_random_spec(cand) else "pretrained"
    if isinstance(cand, Backbone):
        backbone = cand
    else:
        with torch.random.fork_rng(devices=[]):  # random weights repeat with the seed; the caller's RNG is untouched
            torch.manual_seed(seed)
            backbone = create_backbone(str(cand), data=dataset)
    if extract is None:
        from transferkit.features import extract_features as extract
    feats = extract(backbone, dataset)
    probs = source_probs(backbone, dataset) if need_probs else None
    name = label or (cand if isinstance(cand, str) else getattr(backbone, "spec", type(backbone).__name__))
    return str(name), feats, probs, backbone.fingerprint()[:16], [], kind


def is_random_spec(spec: str) -> bool:
    """Whether a backbone spec gives random weights (a built-in net without ``?weights=``)."""
    from transferkit.backbones import BACKBONES, parse_backbone_spec

    provider, _, query = parse_backbone_spec(spec)
    return provider in BACKBONES and not BACKBONES.info(provider).pretrained_by_default and "weights" not in query


def source_probs(backbone: Any, dataset: Any) -> np.ndarray | None:
    """The backbone's source-classifier softmax on ``dataset`` (``backbone.source_probs``), cached on disk.

    The cache key is the backbone's fingerprint and preprocessing and the data's fingerprint, as for
    features; None when the backbone has no source classifier.
    """
    head = getattr(backbone, "source_probs", None)
    if not callable(head):
        return None
    from transferkit.features.cache import FeatureCache, cache_key

    store = FeatureCache()
    key = cache_key({"v": 1, "what": "source_probs", "backbone": backbone.fingerprint(),
                     "prep": backbone.preprocess_config(), "data": dataset.fingerprint(), "n": len(dataset)})
    hit = store.load(key, len(dataset))
    if hit is not None:
        return hit
    probs = head(dataset)
    if probs is not None:
        store.store(key, np.asarray(probs, dtype=np.float32))
    return probs

"""``measure_similarity``: how far apart a source and a target data set are, seen by one backbone.

What ``transferkit similarity`` runs, as a function: subsample both sides (class-stratified),
extract features with the backbone (or take the raw inputs), compute the registered distances, the
class-conditional ones and the label relation, and return the results dict.
:func:`similarity_section` is the same record from two feature arrays you already have.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from transferkit.errors import DataArgumentError, DataError, TransferkitError
from transferkit.similarity._checks import check_pair
from transferkit.similarity._info import DISTANCES
from transferkit.similarity._mmd import mmd_test
from transferkit.similarity.class_conditional import class_conditional
from transferkit.similarity.label_relation import label_relation_from_features
from transferkit.similarity.reading import (
    STANDARDIZE_MODES,
    measure_context,
    read_measure,
    source_accuracy,
    standardize_pair,
)
from transferkit.transferability._validate import stratified_sample

DEFAULT_MEASURES: tuple[str, ...] = ("mmd", "proxy_a", "coral", "frechet")


def stratified_subset(y: np.ndarray | None, n: int, max_samples: int | None, seed: int) -> np.ndarray | None:
    """Indices of a (class-stratified when labelled) random subset, or None to keep everything."""
    if max_samples is None or max_samples >= n:
        return None
    if y is None or len(np.unique(y)) < 2:
        return np.sort(np.random.default_rng(seed).choice(n, max_samples, replace=False))
    return stratified_sample(y, max_samples, seed)


def similarity_section(
    xs: np.ndarray,
    xt: np.ndarray,
    ys: np.ndarray | None,
    yt: np.ndarray | None,
    *,
    source_classes: tuple[str, ...] | None = None,
    target_classes: tuple[str, ...] | None = None,
    measures: tuple[str, ...] = DEFAULT_MEASURES,
    class_measures: tuple[str, ...] = ("mmd",),
    permutations: int = 200,
    seed: int = 0,
    standardize: str = "auto",
) -> dict[str, Any]:
    """The ``results["sections"]["similarity"]`` record for two feature samples (and labels).

    ``standardize``: ``auto`` z-scores both sides with their pooled statistics when the feature
    columns differ in scale by more than 50x (and says so in ``notes``), ``always`` or ``never``.
    Every measure carries a plain ``reading`` of its value.
    """
    xs, xt = check_pair(xs, xt, min_rows=1)
    xs, xt, prep = standardize_pair(xs, xt, standardize)
    out: dict[str, Any] = {"measures": {}, "class_conditional": {}, "label_relation": None, "preprocessing": prep,
                           "notes": [prep["note"]] if prep.get("note") else []}
    context = measure_context(xs, xt) if measures else {}
    for name in measures:
        entry = DISTANCES.entry(name)
        if entry.name == "mmd":
            r = mmd_test(xs, xt, n_permutations=permutations, seed=seed)
            note = f"{r.estimator} estimator, bandwidth {r.bandwidth:.4g}, {permutations} permutations"
            rec = {"value": r.value, "p_value": r.p_value, "note": note}
        else:
            kwargs = {"seed": seed} if entry.info.randomized else {}
            rec = {"value": float(entry.obj(xs, xt, **kwargs)), "p_value": None, "note": entry.info.summary}
        rec["reading"] = read_measure(entry.name, rec["value"], rec["p_value"], context,
                                      summary=entry.info.summary, value_range=entry.info.value_range)
        out["measures"][entry.name] = rec
    if ys is None or yt is None:
        return out
    s_names = np.array(source_classes, dtype=object)[ys] if source_classes else ys
    t_names = np.array(target_classes, dtype=object)[yt] if target_classes else yt
    for name in class_measures:
        try:
            cc = class_conditional(name, xs, s_names, xt, t_names, min_count=10)
        except DataError as exc:
            out["class_conditional"][name] = {"error": str(exc)}
            continue
        out["class_conditional"][name] = cc.to_dict()
    if len(np.unique(ys)) >= 2:
        rel = label_relation_from_features(xs, s_names, xt, t_names)
        out["label_relation"] = rel.to_dict()
    return out


def _labels(ds: Any) -> np.ndarray | None:
    if ds.y is None or ds.task != "classification":
        return None
    return np.asarray(ds.y)


def _names(v: str | Sequence[str]) -> tuple[str, ...]:
    return tuple(m.strip() for m in (v.split(",") if isinstance(v, str) else v) if m.strip())


def measure_similarity(
    source: Any,
    target: Any,
    backbone: str = "raw",
    *,
    measures: str | Sequence[str] = DEFAULT_MEASURES,
    class_measures: str | Sequence[str] = ("mmd",),
    max_samples: int | None = 2000,
    permutations: int = 200,
    seed: int = 0,
    batch_size: int = 64,
    workers: int = 0,
    standardize: str = "auto",
) -> dict[str, Any]:
    """Domain distances between ``source`` and ``target`` features, per class, and their label relation.

    Args:
        source, target: data sets (named sets such as ``"mnist@test"``, paths, or ``Dataset`` objects).
        backbone: the backbone spec whose features are compared; ``"raw"`` compares the inputs themselves.
        measures: registered distances (see ``transferkit.similarity.DISTANCES``).
        class_measures: distances computed class by class (empty: none).
        max_samples: a random (class-stratified) subset of this many per side; None or 0 keeps everything.
        permutations: permutations of the MMD test.
        batch_size, workers: batch size and DataLoader worker processes of the feature extraction (they
            do not change the features).
        standardize: ``auto`` (z-score both sides with pooled statistics when the feature columns
            differ in scale by more than 50x, with a note), ``always`` or ``never``.

    Returns the results dict (``results["sections"]["similarity"]`` holds ``measures`` (each with a
    plain ``reading``), ``class_conditional``, ``label_relation``, ``preprocessing``, ``notes`` and,
    when the backbone is a source model whose classifier knows target classes by name,
    ``source_model``: its accuracy on the target and on the source sample), the same that
    ``transferkit similarity`` writes.
    """
    from transferkit._io import new_results
    from transferkit.backbones import create_backbone
    from transferkit.data import load_dataset
    from transferkit.features import extract_features
    from transferkit.transferability.rank import RAW, raw_features

    names, per_class = _names(measures), _names(class_measures)
    for m in names + per_class:
        DISTANCES.canonical(m)  # an unknown name fails now, before any feature extraction
    if standardize not in STANDARDIZE_MODES:  # so does a bad mode
        raise DataArgumentError(f"--standardize must be one of {', '.join(STANDARDIZE_MODES)}, got {standardize!r}")
    ds, dt = load_dataset(source), load_dataset(target)
    if ds.kind != dt.kind:
        raise TransferkitError(f"source is {ds.kind} data but target is {dt.kind} data: one backbone cannot read both")
    limit = max_samples or None
    keep_s = stratified_subset(_labels(ds), len(ds), limit, seed)
    keep_t = stratified_subset(_labels(dt), len(dt), limit, seed)
    ds = ds if keep_s is None else ds.subset(keep_s)
    dt = dt if keep_t is None else dt.subset(keep_t)
    if backbone.strip().lower() == RAW:
        model = None
        xs, xt = raw_features(ds), raw_features(dt)
        if xs.shape[1] != xt.shape[1]:
            raise DataArgumentError(
                f"raw inputs of {ds.name} and {dt.name} differ in size ({xs.shape[1]} vs {xt.shape[1]} values): "
                "pick a backbone that maps both to the same features (it resizes images)"
            )
    else:
        model = create_backbone(backbone, data=ds)
        xs = np.asarray(extract_features(model, ds, batch_size=batch_size, num_workers=workers), dtype=np.float64)
        xt = np.asarray(extract_features(model, dt, batch_size=batch_size, num_workers=workers), dtype=np.float64)
    try:
        section = similarity_section(
            xs,
            xt,
            _labels(ds),
            _labels(dt),
            source_classes=ds.class_names,
            target_classes=dt.class_names,
            measures=names,
            class_measures=per_class,
            permutations=permutations,
            seed=seed,
            standardize=standardize,
        )
    except DataError as exc:  # say which data sets (a measure sees only arrays)
        exc.args = (f"source {ds.name}, target {dt.name}: {exc}", *exc.args[1:])
        raise
    results = new_results(
        "similarity",
        seeds=[seed],
        data={"source": ds.describe(), "target": dt.describe(), "max_samples": max_samples},
        models={
            backbone: {
                "fingerprint": model.fingerprint()[:16] if model is not None else None,
                "num_features": int(xs.shape[1]),
            }
        },
    )
    if model is not None:
        section["source_model"] = source_model_accuracy(model, ds, dt)
    results["sections"]["similarity"] = section
    return results


def source_model_accuracy(model: Any, ds: Any, dt: Any) -> dict[str, Any] | None:
    """The backbone's own source classifier on the target (and source) samples, when its classes are named.

    None when the backbone has no classifier head, or the target is unlabelled. Probabilities come
    from the on-disk cache ``rank`` uses (no second forward pass on a repeated run).
    """
    from transferkit.transferability.rank import source_probs

    classes = getattr(model, "source_classes", None)
    if not classes or _labels(dt) is None:
        return None
    probs = source_probs(model, dt)
    if probs is None:
        return None
    out = source_accuracy(probs, tuple(classes), np.asarray(dt.class_names, dtype=object)[dt.y])
    if out["accuracy"] is not None and _labels(ds) is not None:
        on_source = source_accuracy(source_probs(model, ds), tuple(classes), np.asarray(ds.class_names, dtype=object)[ds.y])
        out["source_accuracy"] = on_source["accuracy"]
        if on_source["accuracy"] is not None:
            out["reading"] += f"; on the source sample {on_source['accuracy']:.1%}"
    return out

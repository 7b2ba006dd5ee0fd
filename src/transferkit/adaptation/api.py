"""``adapt(source, target, method=...)``: one call, source-only beside the adapted model.

For every seed the source is split into train and validation parts; source-only and the chosen
method are both trained on the source-train rows (plus the unlabelled target rows), and both get
the same label-free selection scores. When a few labelled target examples are given
(``target_val``), they score both models and decide the verdict. Semi-supervised DA: other
labelled target examples (``target_train``, which must not overlap ``target_val``) train every
model, source-only included, beside the source rows. Target *test* labels never enter this
module: ``adapt`` takes target inputs only, and evaluation is a separate call.

With a ``journal`` (:class:`~transferkit.experiments.journal.RunJournal`) every finished
(seed, model) cell is stored (its selection scores and its fitted model) and read back instead of
fitted again, so a killed run resumes where it stopped; every cell is seeded by its own seed, so
the resumed run ends with the figures of an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from transferkit.adaptation._info import DEEP_METHODS, SHALLOW_METHODS
from transferkit.adaptation.candidates import DEFAULT_CANDIDATES, model_features
from transferkit.adaptation.decision import (
    AGREEMENT,
    PAIR_RULE,
    Decision,
    decide,
    ensemble_agreement,
    label_free_verdict,
)
from transferkit.adaptation.frozen import encode_frozen, encoder_for
from transferkit.adaptation.selection import (
    CAVEATS,
    LABEL_FREE_SCORES,
    Verdict,
    adaptation_verdict,
    select,
    selection_score,
    target_val_accuracy,
)
from transferkit.adaptation.selection_validators import domain_probe, feature_space_weights
from transferkit.adaptation.shallow import stack_domains
from transferkit.adaptation.shallow._base import TARGET_ID, check_features
from transferkit.data.dataset import Dataset
from transferkit.data.splits import stratified_indices
from transferkit.errors import DataArgumentError, DataError, UnknownName

SOURCE_ONLY = "source-only"


@dataclass(frozen=True)
class AdaptCell:
    """One finished (seed, model) cell of :func:`adapt`, as ``on_cell`` receives it."""

    model_name: str
    seed: int
    model: Any
    row: dict[str, Any]
    restored: bool  # read back from the journal instead of fitted
    done: int
    total: int
    proba: Callable[[Any], np.ndarray] = field(repr=False, default=lambda x: np.zeros((0, 0)))
    """Class probabilities of this cell's model on target inputs (as :meth:`AdaptationResult.predict_proba`)."""


@dataclass
class AdaptationResult:
    """Scores of source-only and the adapted model per seed, the verdict and the fitted models."""

    method: str
    kind: str
    rows: list[dict[str, Any]]
    verdict: Verdict
    label_free_choice: dict[str, str]
    caveats: dict[str, str]
    models: dict[tuple[str, int], Any] = field(default_factory=dict, repr=False)
    prepare: Any = field(default=None, repr=False)
    classes: Any = field(default=None, repr=False)
    """The source label values, sorted; the models' class ``i`` is ``classes[i]`` (None: indices)."""
    decision: Decision | None = None
    """The label-free decision (:mod:`transferkit.adaptation.decision`): source-only unless the evidence is strong."""

    def encode(self, y: Any, what: str = "y_test") -> np.ndarray:
        """Labels as the models' class indices; a label the source never had is a :class:`DataError`."""
        return _encode(np.asarray(y).ravel(), self.classes, what)

    def predict_proba(self, x: Any, model: str, seed: int) -> np.ndarray:
        """Class probabilities of one trained model (``source-only`` or the method) on target inputs."""
        return _target_proba(self.kind, self.models[(model, seed)], self.prepare)(x)

    def evaluate(self, x_test: Any, y_test: Any) -> list[dict[str, Any]]:
        """Rows with ``target_accuracy`` on a labelled target *test* set (after all selection)."""
        y = self.encode(y_test)
        out = []
        for row in self.rows:
            p = self.predict_proba(x_test, row["model"], row["seed"])
            if len(p) != len(y):
                raise DataError(f"{len(p)} test inputs but {len(y)} test labels")
            if self.classes is not None and p.shape[1] != len(self.classes):
                raise DataError(f"the {row['model']} model predicts {p.shape[1]} classes but the source has "
                                f"{len(self.classes)}: every class needs examples in the source training rows")
            out.append({**row, "target_accuracy": float(np.mean(p.argmax(1) == y))})
        return out


def _target_proba(kind: str, model: Any, prepare: Any) -> Callable[[Any], np.ndarray]:
    """Class probabilities of a fitted model on target inputs (shallow: rows are target rows)."""
    if kind == "shallow":  # raw text/images (``prepare``: the frozen encoder) or feature rows
        return lambda x: model.predict_proba(check_features(x if prepare is None else prepare(x)))

    def deep(x: Any) -> np.ndarray:
        from transferkit.adaptation.deep import predict_outputs

        return predict_outputs(model, prepare(x))[1]

    return deep


def _encode(y: np.ndarray, classes: np.ndarray | None, what: str) -> np.ndarray:
    """Raw labels -> indices into ``classes`` (sorted source labels); unknown labels raise."""
    if classes is None:
        return y
    try:
        idx = np.clip(np.searchsorted(classes, y), 0, len(classes) - 1)
        known = classes[idx] == y
    except TypeError as exc:  # labels of another type than the source's (str vs int)
        raise DataError(f"{what}: labels of type {y.dtype} cannot be compared with the source labels "
                        f"({classes.dtype}); encode both the same way") from exc
    if not np.all(known):
        unknown = sorted({str(v) for v in y[~known]})
        raise DataError(f"{what}: labels {unknown[:5]} are not among the source classes "
                        f"{[str(c) for c in classes[:20]]}; the adapted models can only predict source classes")
    return idx.astype(np.int64)


def _classes(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct source labels and the index of each label among them."""
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise DataError("source labels contain NaN or infinity: drop or fill those rows first")
    try:
        classes, idx = np.unique(y, return_inverse=True)
    except TypeError as exc:
        raise DataError("source labels mix types (e.g. numbers and strings): encode them one way") from exc
    return classes, idx.astype(np.int64)


def _xy(data: Any, what: str, need_labels: bool) -> tuple[Any, np.ndarray | None, str]:
    if isinstance(data, Dataset):
        if need_labels:
            data.require_labels(2)
        return data.x, (data.y if need_labels else None), data.kind
    if isinstance(data, tuple):
        if len(data) != 2:
            raise DataError(f"{what} must be a Dataset or an (x, y) pair")
        x, y = data
        y = None if y is None else np.asarray(y).ravel()
        if y is not None and len(y) != len(x):
            raise DataError(f"{what}: {len(x)} inputs but {len(y)} labels")
        if need_labels and y is None:
            raise DataError(f"{what} needs labels")
        return x, y if need_labels else None, _kind_of(x)
    if need_labels:
        raise DataError(f"{what} must be a labelled Dataset or an (x, y) pair")
    x = data if isinstance(data, list) else np.asarray(data)
    return x, None, _kind_of(x)


def _kind_of(x: Any) -> str:
    """``text`` for a list/1-D array of strings, ``table`` for 2-D arrays, else ``image``."""
    arr = np.asarray(x, dtype=object) if isinstance(x, list) else np.asarray(x)
    if arr.ndim == 1 and len(arr) and isinstance(arr.flat[0], str):
        return "text"
    return "table" if arr.ndim == 2 else "image"


def _is_deep(method: str, kind: str, backbone: Any) -> bool:
    if method not in SHALLOW_METHODS or backbone is not None or kind != "table":
        import transferkit.adaptation.deep  # noqa: F401  (registers the deep methods; needs torch)
    in_shallow, in_deep = method in SHALLOW_METHODS, method in DEEP_METHODS
    if not in_shallow and not in_deep:
        known = set(SHALLOW_METHODS.names()) | set(DEEP_METHODS.names())
        aliases = {a for reg in (SHALLOW_METHODS, DEEP_METHODS) for e in reg for a in e.aliases}
        raise UnknownName("adaptation method", method, known, aliases=aliases)
    if in_shallow and in_deep:
        return backbone is not None or kind != "table"
    return in_deep


def adapt(source: Any, target: Any, method: str | Sequence[str] = "coral", *, target_val: Any = None,
          target_train: Any = None, seeds: tuple[int, ...] | list[int] = (0,), val_fraction: float = 0.2, backbone: Any = None,
          deep_config: Any = None, base_estimator: Any = None, refit: bool = True, journal: Any = None,
          on_cell: Callable[[AdaptCell], None] | None = None, workers: int = 0, blas_threads: int | None = 1,
          **method_params: Any) -> AdaptationResult:
    """Adapt from a labelled ``source`` to an unlabelled ``target``, with source-only alongside.

    Args:
        source: labelled source (``Dataset`` or ``(x, y)``).
        target: target inputs (``Dataset`` or array); any labels it carries are ignored.
        method: a name from ``SHALLOW_METHODS`` (feature tables; raw text or images through a
            frozen encoder) or ``DEEP_METHODS`` (images, signals, or any data with ``backbone``);
            a list of names, or ``"auto"`` (every shallow candidate of
            :data:`~transferkit.adaptation.candidates.DEFAULT_CANDIDATES`): all are trained and the
            label-free decision (or the labelled ``target_val``) picks one.
        target_val: optional few labelled target examples (``Dataset`` or ``(x, y)``), used for
            selection and the verdict only.
        target_train: optional few labelled target examples that train every model (source-only
            included) beside the source: deep methods add their cross-entropy to the loss
            (``DeepConfig.target_label_weight``), shallow methods add them to the classifier's
            training rows (:func:`~transferkit.adaptation.shallow._base.labelled_target_weight`).
            Keep them apart from ``target_val`` (:func:`~transferkit.adaptation.run.split_target_labels`).
        seeds: one run of each model per seed (source split, initialisation).
        val_fraction: share of the source held out for the label-free scores.
        backbone: deep methods: ``"lenet"`` (default for images), a ``create_backbone`` spec, or
            a backbone module.
        deep_config: a :class:`~transferkit.adaptation.deep.DeepConfig` (steps, lr, ...); with its
            ``checkpoint_dir`` each (model, seed) run checkpoints into ``<checkpoint_dir>/<method>-seed<seed>``
            and ``resume`` continues each one (finished runs are loaded, not retrained).
        base_estimator: shallow methods: the classifier after adaptation.
        refit: shallow methods: refit on all source rows after scoring (several candidates: only
            source-only and the reported method; the others keep their source-train fit).
        journal: where finished (seed, model) cells and their models are kept (resume after a kill).
        on_cell: called after every (seed, model) cell with an :class:`AdaptCell`.
        workers: DataLoader worker processes of the frozen-encoder feature extraction (shallow methods on
            raw inputs).
        blas_threads: threads of numpy's and scipy's BLAS while the models are fitted and scored
            (None: the library default). One by default: the matrices are small (rows x features),
            and on a shared 2-core machine multi-threaded OpenBLAS spin-waited the same
            ``adapt(..., "auto")`` (1,000 + 1,000 images) from 24 s to 270 s. Torch's own threads
            (encoders, deep methods) are not affected.
        **method_params: passed to the method's constructor.
    """
    xs, ys, kind = _xy(source, "source", need_labels=True)
    # any labels (1..20, strings) -> class indices 0..K-1; the identity for indices already contiguous
    classes, ys = _classes(np.asarray(ys))
    xt, _, _ = _xy(target, "target", need_labels=False)  # target labels dropped here
    xv = yv = xl = yl = None
    if target_val is not None:
        xv, yv, _ = _xy(target_val, "target_val", need_labels=True)
        yv = _encode(np.asarray(yv), classes, "target_val")
    if target_train is not None:
        xl, yl, _ = _xy(target_train, "target_train", need_labels=True)
        yl = _encode(np.asarray(yl), classes, "target_train")
    if not 0.0 < val_fraction < 0.9:
        raise DataArgumentError("val_fraction must be in (0, 0.9)")
    if len(seeds) == 0:
        raise DataArgumentError("give at least one seed")
    names = _method_names(method)
    deep = _is_deep(names[0], kind, backbone)
    keys = list(dict.fromkeys((DEEP_METHODS if deep else SHALLOW_METHODS).entry(m).name for m in names))
    if "source_only" in keys:
        raise DataArgumentError("method is the source-only baseline, which every run includes anyway: pick a method")
    encode = None
    if not deep and kind != "table":  # shallow methods on raw inputs: frozen-encoder features first
        encoder = encoder_for(kind, backbone)
        xs, xt, xv, xl = encode_frozen([xs, xt, xv, xl], kind, encoder, workers=workers)
        encode = partial(_encode_one, kind=kind, encoder=encoder)
    runner = (_DeepRunner(xs, xt, xv, backbone, deep_config, kind) if deep
              else _ShallowRunner(xs, xt, xv, base_estimator))
    runner.set_labelled(xl, yl)
    prepare = getattr(runner, "prepare", encode)  # raw target inputs -> what the models read (None: as they are)
    rows: list[dict[str, Any]] = []
    models: dict[tuple[str, int], Any] = {}
    val_correct: dict[str, list[np.ndarray]] = {}
    pairs = ((SOURCE_ONLY, "source_only"), *((k, k) for k in keys))
    refit_cell = refit and runner.kind == "shallow" and len(keys) == 1  # several: refit after the decision
    with _blas_threads(blas_threads):  # small matrices: one thread (see blas_threads)
        for seed in seeds:
            tr, va = stratified_indices(np.asarray(ys), len(ys), (1 - val_fraction, val_fraction), seed)[:2]
            weights: list[np.ndarray] = []  # computed once per seed, only when a cell of it is fitted
            for name, key in pairs:
                ck = f"seed={int(seed)}|model={name}"
                rec = journal.record(ck) if journal is not None else None
                if rec is not None:
                    model, row, vc = runner.restore(journal.model(ck)), rec["row"], rec.get("val_correct")
                else:
                    weights = weights or [runner.iw_weights(tr, va, seed)]
                    params = method_params if key != "source_only" else {}
                    model = runner.fit(key, tr, ys, seed, params)
                    row, vc = _score_cell(runner, model, name, seed, ys, tr, va, weights[0], yv)
                    if refit_cell:
                        model = runner.fit(key, np.arange(len(ys)), ys, seed, params)
                    if journal is not None:  # the model first: a cell on record always has its model
                        journal.put_model(ck, runner.storable(model))
                        journal.put_record(ck, {"row": row, "val_correct": vc})
                if vc is not None:
                    val_correct.setdefault(name, []).append(np.asarray(vc, dtype=float))
                models[(name, int(seed))] = model
                rows.append(row)
                if on_cell is not None:
                    on_cell(AdaptCell(name, int(seed), model, row, rec is not None, len(rows), len(seeds) * len(pairs),
                                      _target_proba(runner.kind, model, prepare)))
            if len(pairs) >= 3:  # the ensemble check needs several adapted candidates
                seed_models = {n: models[(n, int(seed))] for n, _ in pairs}
                agreement = ensemble_agreement({n: runner.proba(m, "target", None) for n, m in seed_models.items()})
                for row in rows[-len(pairs):]:
                    row["selection_scores"][AGREEMENT] = agreement[row["model"]]
        mean_scores = {m: {k: float(np.mean([r["selection_scores"][k] for r in rows if r["model"] == m]))
                           for k in rows[0]["selection_scores"]} for m, _ in pairs}
        choice = {score: select({m: {score: v[score]} for m, v in mean_scores.items()}, score, SOURCE_ONLY)
                  for score in LABEL_FREE_SCORES}
        decision = decide(mean_scores, None if len(keys) > 1 else PAIR_RULE)
        method_key = _reported_method(keys, decision, val_correct)
        if refit and runner.kind == "shallow" and len(keys) > 1:  # source-only and the reported method on all rows
            for seed in seeds:
                for name, key in ((SOURCE_ONLY, "source_only"), (method_key, method_key)):
                    models[(name, int(seed))] = runner.fit(key, np.arange(len(ys)), ys, seed,
                                                           method_params if key != "source_only" else {})
    if xv is not None:
        verdict = adaptation_verdict(method_key, val_correct[method_key], val_correct[SOURCE_ONLY])
    else:
        verdict = label_free_verdict(method_key, decision)
    caveats = {k: CAVEATS[k] for k in (*LABEL_FREE_SCORES, *(["target_val_accuracy"] if xv is not None else []))}
    return AdaptationResult(method_key, "deep" if deep else "shallow", rows, verdict, choice, caveats, models,
                            prepare, classes, decision)


def _blas_threads(n: int | None) -> Any:
    """A context that limits numpy's/scipy's BLAS to ``n`` threads (None: no limit)."""
    from contextlib import nullcontext

    from threadpoolctl import threadpool_limits

    return nullcontext() if n is None else threadpool_limits(limits=int(n), user_api="blas")


def _encode_one(x: Any, kind: str, encoder: Any) -> np.ndarray:
    return encode_frozen([x], kind, encoder)[0]  # type: ignore[return-value]


def _method_names(method: str | Sequence[str]) -> list[str]:
    """``"auto"`` -> the default shallow candidates; a name -> [name]; a list -> the list."""
    if isinstance(method, str):
        return list(DEFAULT_CANDIDATES) if method == "auto" else [method]
    names = [str(m) for m in method]
    if not names:
        raise DataArgumentError("give at least one adaptation method")
    return names


def _reported_method(keys: list[str], decision: Decision, val_correct: dict[str, list[np.ndarray]]) -> str:
    """The adapted candidate the verdict is about: the best on labelled target examples when there are
    some, else the decision's choice, else (source-only chosen) the candidate with the most votes."""
    if len(keys) == 1:
        return keys[0]
    if val_correct:
        return max(keys, key=lambda k: float(np.mean(val_correct[k])))
    if decision.choice != SOURCE_ONLY:
        return decision.choice
    return max(keys, key=lambda k: len(decision.votes.get(k, [])))


def _score_cell(runner: Any, model: Any, name: str, seed: int, ys: np.ndarray, tr: np.ndarray, va: np.ndarray,
                weights: np.ndarray, yv: np.ndarray | None) -> tuple[dict[str, Any], list[float] | None]:
    """A fitted cell's label-free scores (and target validation accuracy): its row, and which validation
    examples it got right."""
    p_val = runner.proba(model, "source_val", va)
    p_t = runner.proba(model, "target", None)
    fw, gap = domain_probe(*runner.features(model, va), random_state=seed)  # DEV and the bound: model's features
    scores = {score: selection_score(score, y_val=ys[va], proba_val=p_val, weights=weights, proba_target=p_t,
                                     feature_weights=fw, domain_gap=gap, seed=seed) for score in LABEL_FREE_SCORES}
    row: dict[str, Any] = {"model": name, "seed": int(seed), "selection_scores": scores}
    if yv is None:
        return row, None
    p_v = runner.proba(model, "target_val", None)
    row["target_val_accuracy"] = target_val_accuracy(yv, p_v)
    return row, (p_v.argmax(1) == yv).astype(float).tolist()


class _ShallowRunner:
    """Feature arrays in, scikit-learn style estimators out."""

    kind = "shallow"

    def __init__(self, xs: Any, xt: Any, xv: Any, base_estimator: Any) -> None:
        self.xs = check_features(xs, "source features")
        self.xt = check_features(xt, "target features")
        if self.xs.shape[1] != self.xt.shape[1]:
            raise DataError(f"source has {self.xs.shape[1]} features, target {self.xt.shape[1]}")
        self.xv = None if xv is None else check_features(xv, "target_val features")
        self.base = base_estimator
        self.labelled: tuple[np.ndarray, np.ndarray] | None = None

    def set_labelled(self, xl: Any, yl: np.ndarray | None) -> None:
        """Labelled target rows that join every model's training rows (None: none)."""
        self.labelled = None if xl is None else (check_features(xl, "target_train features"), yl)

    def iw_weights(self, tr: np.ndarray, va: np.ndarray, seed: int) -> np.ndarray:
        return feature_space_weights(self.xs[va], self.xt, random_state=seed)

    def features(self, model: Any, va: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Held-out source rows and target rows in the model's adapted feature space (for DEV)."""
        return model_features(model, self.xs[va], True), model_features(model, self.xt, False)

    def fit(self, key: str, idx: np.ndarray, ys: np.ndarray, seed: int, params: dict[str, Any]) -> Any:
        cls = SHALLOW_METHODS.get(key)
        est = cls(base_estimator=self.base, **params)
        if "random_state" in est.get_params():
            est.set_params(random_state=seed)
        X, y, sd = stack_domains(self.xs[idx], ys[idx], self.xt)
        return est.fit(X, y, sd, labelled_target=self.labelled)

    def storable(self, model: Any) -> Any:
        return model

    def restore(self, model: Any) -> Any:
        return model

    def proba(self, model: Any, part: str, idx: np.ndarray | None) -> np.ndarray:
        if part == "source_val":
            return model.predict_proba(self.xs[idx], sample_domain=np.ones(len(idx), dtype=np.int64))
        x = self.xt if part == "target" else self.xv
        return model.predict_proba(x, sample_domain=np.full(len(x), TARGET_ID))


class _DeepRunner:
    """Images (or any backbone input) in, trained networks out, one shared loop."""

    kind = "deep"

    def __init__(self, xs: Any, xt: Any, xv: Any, backbone: Any, deep_config: Any, kind: str) -> None:
        from transferkit.adaptation.deep import DeepConfig

        self.backbone_spec = backbone
        self.kind = kind
        shape = np.shape(xs)
        self.image_size = int(min(28, max(16, shape[-1]))) if len(shape) == 4 else 28
        self.config = deep_config or DeepConfig()
        self.prepare = self._new_backbone().prepare
        self.raw_text = (xs, xt) if kind == "text" else None  # IWCV's density ratio reads frozen features
        self.xs, self.xt = self.prepare(xs), self.prepare(xt)
        self.xv = None if xv is None else self.prepare(xv)
        self.labelled: tuple[Any, np.ndarray] | None = None

    def set_labelled(self, xl: Any, yl: np.ndarray | None) -> None:
        """Labelled target examples whose cross-entropy joins every model's loss (None: none)."""
        self.labelled = None if xl is None else (self.prepare(xl), yl)

    def _new_backbone(self) -> Any:
        """A fresh backbone (a copy of a module given as the backbone); text backbones packed for the loop."""
        import copy

        from transferkit.adaptation.deep import LeNet
        from transferkit.adaptation.deep._nets import PackedText
        from transferkit.backbones import create_backbone

        spec = self.backbone_spec
        if self.kind == "text":  # fine-tune the encoder (default: the one the shallow methods read frozen)
            inner = create_backbone(encoder_for("text", spec)) if spec is None or isinstance(spec, str) else spec
            return PackedText(inner if isinstance(spec, str) or spec is None else copy.deepcopy(inner))
        if spec is None or spec == "lenet":
            if self.kind != "image":
                raise DataError("deep methods on non-image data need a backbone (e.g. backbone='tabmlp')")
            return LeNet(image_size=self.image_size)
        if isinstance(spec, str):
            return create_backbone(spec)
        return copy.deepcopy(spec)

    def iw_weights(self, tr: np.ndarray, va: np.ndarray, seed: int) -> np.ndarray:
        if self.raw_text is not None:  # token ids are no feature space: the pretrained encoder's features
            fs, ft = encode_frozen([[self.raw_text[0][i] for i in va], self.raw_text[1]], "text",
                                   encoder_for("text", self.backbone_spec))
            return feature_space_weights(fs, ft, random_state=seed)  # type: ignore[arg-type]
        flat = lambda t: t.reshape(len(t), -1).numpy()  # noqa: E731
        return feature_space_weights(flat(self.xs[va]), flat(self.xt), random_state=seed)

    def fit(self, key: str, idx: np.ndarray, ys: np.ndarray, seed: int, params: dict[str, Any]) -> Any:
        import dataclasses

        import torch

        from transferkit.adaptation.deep import AdaptationNetwork, train_adaptation

        torch.manual_seed(seed)
        net = AdaptationNetwork(self._new_backbone(), int(np.max(ys)) + 1)
        cfg = dataclasses.replace(self.config, seed=seed)
        if cfg.checkpoint_dir is not None:  # one folder per model and seed; resume skips the finished ones
            cfg = dataclasses.replace(cfg, checkpoint_dir=str(Path(cfg.checkpoint_dir) / f"{key}-seed{seed}"))
        train_adaptation(net, DEEP_METHODS.get(key)(**params), self.xs[idx], ys[idx], self.xt, cfg,
                         labelled_target=self.labelled)
        return net

    def storable(self, net: Any) -> Any:
        """The network as a :class:`TransferModel` (backbone + linear head), the form model folders hold."""
        return as_transfer_model(net)

    def restore(self, model: Any) -> Any:
        """A stored :class:`TransferModel` back as the adaptation network."""
        from transferkit.adaptation.deep import AdaptationNetwork
        from transferkit.adaptation.deep._nets import PackedText

        net = AdaptationNetwork(PackedText(model.backbone) if self.kind == "text" else model.backbone,
                                model.num_outputs)
        net.head = model.head
        return net.eval()

    def features(self, model: Any, va: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Held-out source rows and target rows as the network's features (for DEV)."""
        from transferkit.adaptation.deep import predict_outputs

        return predict_outputs(model, self.xs[va])[0], predict_outputs(model, self.xt)[0]

    def proba(self, model: Any, part: str, idx: np.ndarray | None) -> np.ndarray:
        from transferkit.adaptation.deep import predict_outputs

        x = self.xs[idx] if part == "source_val" else (self.xt if part == "target" else self.xv)
        return predict_outputs(model, x)[1]


def as_transfer_model(net: Any, class_names: tuple[str, ...] | None = None) -> Any:
    """A deep adaptation network (backbone + linear head) as a :class:`~transferkit.backbones.TransferModel`
    sharing its modules: what is saved as a model folder and predicts with ``tk.load_model``."""
    from transferkit.adaptation.deep._nets import PackedText
    from transferkit.backbones import TransferModel

    backbone = net.backbone.inner if isinstance(net.backbone, PackedText) else net.backbone  # text: the encoder
    return TransferModel(backbone, net.num_classes, head=net.head, class_names=class_names)

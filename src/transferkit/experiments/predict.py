"""Use a shipped model: ``tk.load_model(path)`` and what ``transferkit predict`` runs.

:func:`load_model` reads and verifies a model folder (:mod:`~transferkit.backbones.shipped`) and
returns a :class:`ShippedModel` with ``predict`` (label names, or values for regression),
``predict_proba`` (class probabilities) and ``embed`` (backbone features); a folder of another
format gives a :class:`ShippedEstimator` (a shallow adaptation method on feature tables, from
``transferkit adapt``) or a :class:`ShippedMultitask` (a trunk with a head per task, from
``transferkit multitask``: ``predict(data, task="name")``), with the same methods. Each takes a
:class:`~transferkit.data.Dataset`, a data spec or path in any supported format (labels optional), or
an array / a list of strings, and refuses data of the wrong kind or shape with a message that says
what the model reads. :func:`run_predict` writes ``predictions.csv`` (row id, label, one probability
column per class, or values).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from transferkit._io import temp_path
from transferkit.backbones import TransferModel, to_device
from transferkit.backbones.shipped import load_model_folder
from transferkit.data import Dataset, load_dataset, split_data_spec
from transferkit.data.public import is_named
from transferkit.errors import DataArgumentError, DataError

Progress = Callable[[int, int], None]


class _Shipped:
    """What every shipped model shares: its card, what it reads, and the checks on data given to it."""

    def __init__(self, card: dict[str, Any], path: str | os.PathLike[str]) -> None:
        self.card, self.path = card, Path(path)
        self.task = str(card.get("task", "classification"))
        names = card.get("class_names")
        self.classes_ = tuple(names) if names else None
        arch = card.get("architecture") or {}
        self.input = dict(card.get("input") or {"kind": arch.get("input_kind")})

    def __repr__(self) -> str:
        what = f"{len(self.classes_)} classes" if self.classes_ else f"{self.card.get('num_outputs')} values"
        return f"{type(self).__name__}({str(self.path)!r}, {self.input.get('kind')} -> {self.task}, {what})"

    # ------------------------------------------------------------------ data
    def dataset(self, data: Any) -> Dataset:
        """``data`` as a :class:`Dataset` this model can read, or a :class:`DataError` saying why not."""
        kind = self.input.get("kind")
        if isinstance(data, Dataset):
            ds = data
        elif isinstance(data, (str, os.PathLike)):
            ds = read_for_prediction(str(data), self.input)
        elif isinstance(data, (list, tuple)) and data and all(isinstance(t, str) for t in data) and kind == "text":
            ds = Dataset(x=np.array(list(data), dtype=object), y=None, kind="text", name="texts")
        else:
            arr = np.asarray(data)
            if arr.dtype == object or arr.dtype.kind in "US":
                if kind != "text":
                    raise DataError(f"this model reads {kind} inputs, not text")
                ds = Dataset(x=arr.astype(object).ravel(), y=None, kind="text", name="texts")
            else:
                want = {"table": 2, "signal": 3, "image": 4}.get(str(kind))
                if want is not None and arr.ndim == want - 1:
                    arr = arr[None]  # one example
                ds = Dataset(x=arr.astype(np.float32), y=None, kind=str(kind), name="array")  # type: ignore[arg-type]
        self.check(ds)
        return ds

    def check(self, ds: Dataset) -> None:
        """Refuse data of another kind, or of a shape the model cannot read."""
        kind, shape = self.input.get("kind"), self.input.get("shape")
        if ds.kind != kind:
            raise DataError(f"{ds.name!r} is {ds.kind} data but this model reads {kind} inputs"
                            + (f" of shape {tuple(shape)}" if shape else "") + f" (model {self.path})")
        if ds.x.dtype == object or not shape:
            return
        got = tuple(ds.x.shape[1:])
        if ds.kind in ("table", "signal") and got[:1] != tuple(shape)[:1]:
            what = "columns" if ds.kind == "table" else "channels"
            names = self.input.get("feature_names")
            hint = f"; the columns it was trained on: {', '.join(map(str, names[:20]))}" if names else ""
            raise DataError(f"{ds.name!r} has {got[0]} {what} but this model reads {shape[0]} (inputs of shape "
                            f"{tuple(shape)}, got {got}){hint}")
        if ds.kind == "image" and len(got) != 3:
            raise DataError(f"{ds.name!r}: images must be (N, C, H, W), got {ds.x.shape}")


class ShippedModel(_Shipped):
    """A verified shipped model: ``predict``, ``predict_proba``, ``embed``, and its card.

    Attributes:
        model: the :class:`~transferkit.backbones.TransferModel` (eval mode, on the CPU).
        card: the model card (``model_card.json``).
        classes_: label names in output order (None for regression).
        task: ``classification`` or ``regression``.
        path: the model folder.
        input_transform: a fixed transform of raw inputs stored with the model (a subject's signal
            normalisation, for ``transferkit har`` models), or None.
    """

    def __init__(self, model: TransferModel, card: dict[str, Any], path: str | os.PathLike[str]) -> None:
        super().__init__(card, path)
        self.model = model
        self.input_transform = getattr(model, "input_transform", None)

    # ------------------------------------------------------------------ outputs
    @torch.no_grad()
    def _run(self, data: Any, features: bool, batch_size: int, progress: Progress | None) -> np.ndarray:
        ds = self.dataset(data)
        m = self.model.eval()
        dev = next(m.parameters()).device
        outs = []
        n = len(ds)
        for start in range(0, n, batch_size):
            x = ds.x[start:start + batch_size]
            if self.input_transform is not None:
                x = self.input_transform(x)
            inputs = to_device(m.backbone.prepare(x), dev)
            z = m.backbone.forward_features(inputs)
            outs.append((z if features else m.head(z)).float().cpu().numpy())
            if progress is not None:
                progress(min(start + batch_size, n), n)
        width = m.backbone.num_features if features else m.num_outputs
        return np.concatenate(outs) if outs else np.zeros((0, width), dtype=np.float32)

    def outputs(self, data: Any, batch_size: int = 256, progress: Progress | None = None) -> np.ndarray:
        """Raw outputs ``(N, outputs)``: logits, or regression values (in the targets' units)."""
        out = self._run(data, False, batch_size, progress)
        est = self.card.get("estimator") or {}
        if self.task == "regression" and "y_mean" in est:  # a saved TransferRegressor learns standardised targets
            out = out * np.asarray(est["y_scale"], dtype=np.float32) + np.asarray(est["y_mean"], dtype=np.float32)
        return out

    def predict_proba(self, data: Any, batch_size: int = 256, progress: Progress | None = None) -> np.ndarray:
        """Class probabilities ``(N, classes)`` in the order of :attr:`classes_` (classification only)."""
        if self.task != "classification":
            raise DataError("predict_proba needs a classification model; this one predicts values (use predict)")
        return torch.softmax(torch.from_numpy(self.outputs(data, batch_size, progress)), 1).numpy()

    def predict(self, data: Any, batch_size: int = 256, progress: Progress | None = None) -> np.ndarray:
        """Label names (classification) or values (regression; ``(N,)`` for one target)."""
        out = self.outputs(data, batch_size, progress)
        if self.task == "classification":
            return np.asarray(self.classes_ or [str(i) for i in range(out.shape[1])], dtype=object)[out.argmax(1)]
        return out[:, 0] if out.shape[1] == 1 else out

    def embed(self, data: Any, batch_size: int = 256, progress: Progress | None = None) -> np.ndarray:
        """Backbone features ``(N, num_features)``: what the head reads (for search, clustering, the next transfer)."""
        return self._run(data, True, batch_size, progress)


class ShippedEstimator(_Shipped):
    """A shipped scikit-learn style estimator (format ``estimator``): a shallow adaptation method on feature tables.

    Rows are treated as target-domain rows (the domain the model was adapted to). ``embed`` gives the
    adapted representation the classifier reads (``transform``), where the estimator has one.
    """

    def __init__(self, estimator: Any, card: dict[str, Any], path: str | os.PathLike[str]) -> None:
        super().__init__(card, path)
        self.estimator = estimator

    def _each(self, fn: Callable[[np.ndarray], np.ndarray], data: Any, batch_size: int,
              progress: Progress | None) -> np.ndarray:
        ds = self.dataset(data)
        x = np.asarray(ds.x, dtype=np.float64)
        outs = []
        for start in range(0, len(x), batch_size):
            outs.append(np.asarray(fn(x[start:start + batch_size])))
            if progress is not None:
                progress(min(start + batch_size, len(x)), len(x))
        return np.concatenate(outs) if outs else np.zeros((0, int(self.card.get("num_outputs") or 0)))

    def predict_proba(self, data: Any, batch_size: int = 4096, progress: Progress | None = None) -> np.ndarray:
        """Class probabilities ``(N, classes)`` in the order of :attr:`classes_`."""
        return self._each(self.estimator.predict_proba, data, batch_size, progress)

    def outputs(self, data: Any, batch_size: int = 4096, progress: Progress | None = None) -> np.ndarray:
        """Log class probabilities (what ``predict_proba`` exponentiates)."""
        return np.log(np.clip(self.predict_proba(data, batch_size, progress), 1e-300, None))

    def predict(self, data: Any, batch_size: int = 4096, progress: Progress | None = None) -> np.ndarray:
        """Label names."""
        p = self.predict_proba(data, batch_size, progress)
        return np.asarray(self.classes_ or [str(i) for i in range(p.shape[1])], dtype=object)[p.argmax(1)]

    def embed(self, data: Any, batch_size: int = 4096, progress: Progress | None = None) -> np.ndarray:
        """The adapted features the classifier reads (the inputs themselves for reweighting methods)."""
        if not hasattr(self.estimator, "transform"):
            raise DataError(f"{type(self.estimator).__name__} has no feature map to embed with")
        return self._each(self.estimator.transform, data, batch_size, progress)


class ShippedMultitask(_Shipped):
    """A shipped multi-task model (format ``multitask``): one trunk, one head per task.

    ``predict(data, task="name")``, ``predict_proba(data, task=...)`` and ``outputs`` answer for one
    task (the only one when there is one); :meth:`task_model` gives that task's model as a
    :class:`ShippedModel`; ``embed`` gives the shared trunk's features.
    """

    def __init__(self, trunk: Any, heads: dict[str, torch.nn.Module], card: dict[str, Any],
                 path: str | os.PathLike[str]) -> None:
        super().__init__({**card, "task": "multitask"}, path)
        self.trunk, self.heads = trunk, heads
        self.tasks = tuple(heads)

    def __repr__(self) -> str:
        return f"ShippedMultitask({str(self.path)!r}, {self.input.get('kind')} -> tasks {', '.join(self.tasks)})"

    def task_model(self, task: str | None) -> ShippedModel:
        """The model of one task (the trunk with that task's head), as a :class:`ShippedModel`."""
        if task is None:
            if len(self.tasks) != 1:
                raise DataArgumentError(f"this multi-task model has tasks {', '.join(self.tasks)}: say which one "
                                        "(task=NAME, or --task NAME)")
            task = self.tasks[0]
        if task not in self.heads:
            raise DataArgumentError(f"unknown task {task!r}: this model has tasks {', '.join(self.tasks)}")
        info = self.card["tasks"][task]
        names = info.get("class_names")
        model = TransferModel(self.trunk, int(info["num_outputs"]), head=self.heads[task], task=str(info["task"]),
                              class_names=tuple(names) if names is not None else None).eval()
        card = {**self.card, **info, "head": self.card["heads"][task], "task_name": task}
        return ShippedModel(model, card, self.path)

    def outputs(self, data: Any, task: str | None = None, batch_size: int = 256,
                progress: Progress | None = None) -> np.ndarray:
        """Raw outputs of ``task``'s head."""
        return self.task_model(task).outputs(data, batch_size, progress)

    def predict_proba(self, data: Any, task: str | None = None, batch_size: int = 256,
                      progress: Progress | None = None) -> np.ndarray:
        """Class probabilities of ``task`` (a classification task)."""
        return self.task_model(task).predict_proba(data, batch_size, progress)

    def predict(self, data: Any, task: str | None = None, batch_size: int = 256,
                progress: Progress | None = None) -> np.ndarray:
        """Label names (classification) or values (regression) of ``task``."""
        return self.task_model(task).predict(data, batch_size, progress)

    def embed(self, data: Any, batch_size: int = 256, progress: Progress | None = None) -> np.ndarray:
        """The shared trunk's features."""
        return self.task_model(self.tasks[0]).embed(data, batch_size, progress)


AnyShipped = ShippedModel | ShippedEstimator | ShippedMultitask


def read_for_prediction(spec: str, input_info: dict[str, Any]) -> Dataset:
    """Read data to predict on: a named set as it is; a file or folder with labels optional (tables: the
    model's columns by name when the file has them)."""
    if is_named(spec):
        return load_dataset(spec)
    kwargs: dict[str, Any] = {"require_labels": False}
    p = Path(split_data_spec(spec)[0])  # without its ?label= / ?text= parameters
    names = input_info.get("feature_names")
    if input_info.get("kind") == "table" and p.suffix.lower() in (".csv", ".tsv", ".parquet", ".jsonl") and names:
        import pandas as pd

        cols = list(pd.read_csv(p, nrows=0, sep="\t" if p.suffix.lower() == ".tsv" else ",").columns) \
            if p.suffix.lower() in (".csv", ".tsv") else []
        if not cols or all(str(n) in cols for n in names):
            kwargs["feature_columns"] = [str(n) for n in names]
    if input_info.get("kind") == "image" and p.is_dir():
        kwargs["load"] = False  # paths: decoded batch by batch, and their names become row ids
    return load_dataset(spec, **kwargs)


def load_model(path: str | os.PathLike[str]) -> AnyShipped:
    """Load and verify a shipped model folder (``RUN/model`` of a fit, adapt, multitask or har run, or ``--save DIR``).

    Returns a :class:`ShippedModel`, a :class:`ShippedEstimator` or a :class:`ShippedMultitask`
    after the folder's format; each has ``predict``, ``predict_proba`` and ``embed``.
    """
    from transferkit.backbones.shipped import load_multitask_folder, model_format, read_model_card

    fmt = model_format(read_model_card(path))
    if fmt == "estimator":
        from transferkit.experiments.estimator_folder import load_estimator_folder

        est, card = load_estimator_folder(path)
        return ShippedEstimator(est, card, path)
    if fmt == "multitask":
        trunk, heads, card = load_multitask_folder(path)
        return ShippedMultitask(trunk, heads, card, path)
    model, card = load_model_folder(path)
    return ShippedModel(model, card, path)


def run_predict(model: str | os.PathLike[str] | AnyShipped, data: Any, out: str | os.PathLike[str] = "predictions.csv",
                batch_size: int = 256, progress: Progress | None = None, task: str | None = None) -> dict[str, Any]:
    """Predict ``data`` with a shipped ``model`` and write ``out`` (CSV); returns a summary.

    Columns: ``row_id`` (the row's index, or the image file for image folders), ``label`` and one
    ``p_<class>`` column per class (classification), or ``value`` / ``value_<i>`` (regression), and
    ``true_label`` when the data carry labels. The summary holds the number of rows, the file, and
    the accuracy of the predictions against those labels when there are any. ``task``: the task to
    predict with a multi-task model (needed when it has several).
    """
    sm = model if isinstance(model, (ShippedModel, ShippedEstimator, ShippedMultitask)) else load_model(model)
    if isinstance(sm, ShippedMultitask):
        sm = sm.task_model(task)
    elif task is not None:
        raise DataArgumentError(f"--task {task!r}: {sm.path} is not a multi-task model (it has one task)")
    ds = sm.dataset(data)
    probs = sm.predict_proba(ds, batch_size, progress) if sm.task == "classification" else None
    raw = sm.outputs(ds, batch_size, progress) if probs is None else probs
    files = ds.meta.get("files") if isinstance(ds.meta.get("files"), list) else None
    root = Path(str(ds.meta.get("path", ""))) if files else None
    ids = [str(Path(f).relative_to(root)) if root is not None else f for f in files] if files and \
        len(files) == len(ds) else list(range(len(ds)))
    truth = None
    if ds.y is not None and ds.task == "classification" and ds.class_names is not None:
        truth = [ds.class_names[i] for i in ds.y]
    elif ds.y is not None:
        truth = ds.y.tolist()
    summary: dict[str, Any] = {"rows": len(ds), "file": str(out), "model": str(sm.path), "data": ds.name,
                               **({"task": sm.card["task_name"]} if "task_name" in sm.card else {})}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(out)  # unique per writer, named so that a killed writer's leftover is recognised
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        if probs is not None:
            names = list(sm.classes_ or [str(i) for i in range(raw.shape[1])])
            labels = np.asarray(names, dtype=object)[raw.argmax(1)]
            w.writerow(["row_id", "label", *(f"p_{n}" for n in names), *(["true_label"] if truth else [])])
            for i in range(len(ds)):
                w.writerow([ids[i], labels[i], *(f"{p:.6g}" for p in probs[i]), *([truth[i]] if truth else [])])
            if truth is not None:
                summary["accuracy"] = float(np.mean([str(a) == str(b) for a, b in zip(labels, truth)]))
        else:
            cols = ["value"] if raw.shape[1] == 1 else [f"value_{j}" for j in range(raw.shape[1])]
            w.writerow(["row_id", *cols, *(["true_value"] if truth else [])])
            for i in range(len(ds)):
                w.writerow([ids[i], *(f"{v:.6g}" for v in raw[i]), *([truth[i]] if truth else [])])
            if truth is not None:
                y = np.asarray(truth, dtype=float).reshape(len(ds), -1)
                summary["rmse"] = float(np.sqrt(np.mean((raw.reshape(len(ds), -1) - y) ** 2)))
    tmp.replace(out)
    return summary


__all__ = ["AnyShipped", "ShippedEstimator", "ShippedModel", "ShippedMultitask", "load_model", "read_for_prediction",
           "run_predict"]

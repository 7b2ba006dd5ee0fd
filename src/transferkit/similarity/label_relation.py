"""Which target classes the source model already knows: empirical P(target class | source class)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from transferkit.errors import DataError
from transferkit.similarity._checks import check_pair, label_strings
from transferkit.transferability._leep import empirical_conditional
from transferkit.transferability._validate import check_labels, check_probs


@dataclass
class LabelRelation:
    """``matrix[z, y]`` = P(target class y | source class z), as LEEP estimates it.

    ``source_mass[z]`` is the share of target samples the source model assigns to ``z`` (rows
    with no mass carry no information). A row concentrated on one target class means the source
    class already stands for that target class. ``accuracy``: when class names are shared, the
    fraction of target samples whose most likely source class carries their own label's name.
    """

    source_classes: list[str]
    target_classes: list[str]
    matrix: np.ndarray
    source_mass: np.ndarray
    accuracy: float | None = None

    def best_matches(self, min_mass: float = 0.0) -> list[tuple[str, str, float, float]]:
        """``(source class, most likely target class, P(target | source), mass)`` by falling mass."""
        order = np.argsort(-self.source_mass, kind="stable")
        out = []
        for z in order:
            if self.source_mass[z] <= min_mass:
                continue
            y = int(np.argmax(self.matrix[z]))
            out.append((self.source_classes[z], self.target_classes[y], float(self.matrix[z, y]),
                        float(self.source_mass[z])))
        return out

    def top(self, k: int) -> LabelRelation:
        """Only the ``k`` source classes with the most mass (for sources with many classes)."""
        keep = np.sort(np.argsort(-self.source_mass, kind="stable")[:k])
        return LabelRelation([self.source_classes[i] for i in keep], list(self.target_classes), self.matrix[keep],
                             self.source_mass[keep])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``source_classes``, ``target_classes``, ``matrix``, ``source_mass``)."""
        return {"source_classes": list(self.source_classes), "target_classes": list(self.target_classes),
                "matrix": np.round(self.matrix, 6).tolist(), "source_mass": np.round(self.source_mass, 6).tolist(),
                "accuracy": self.accuracy}


def label_relation(source_probs: Any, target_labels: Sequence[Hashable] | np.ndarray, *,
                   source_classes: Sequence[str] | None = None,
                   target_classes: Sequence[str] | None = None) -> LabelRelation:
    """P(target class | source class) from source-model probabilities ``(N, C_s)`` on target data.

    ``target_labels`` may be any hashables; their sorted distinct values (or ``target_classes``,
    naming the sorted distinct labels) name the columns.
    """
    probs = check_probs(source_probs)
    labels = np.asarray(target_labels)
    y, c = check_labels(labels, probs.shape[0], name="target labels", min_classes=1)
    if target_classes is None:
        first = {int(i): labels[j] for j, i in reversed(list(enumerate(y.tolist())))}
        target_classes = [str(first[i]) for i in range(c)]
    elif len(target_classes) != c:
        raise DataError(f"{len(target_classes)} target class names for {c} distinct target labels")
    if source_classes is None:
        source_classes = [str(i) for i in range(probs.shape[1])]
    elif len(source_classes) != probs.shape[1]:
        raise DataError(f"{len(source_classes)} source class names but source_probs has {probs.shape[1]} columns")
    return LabelRelation(source_classes=[str(s) for s in source_classes], target_classes=[str(t) for t in target_classes],
                         matrix=empirical_conditional(probs, y, c), source_mass=probs.mean(axis=0))


def label_relation_from_features(source_features: Any, source_labels: Sequence[Hashable] | np.ndarray,
                                 target_features: Any, target_labels: Sequence[Hashable] | np.ndarray, *,
                                 c_reg: float = 1.0) -> LabelRelation:
    """Label relation when the source model is a backbone plus a linear head fitted on source data.

    An L2 logistic regression is trained on the source features and labels; its probabilities on
    the target features play the source model's predictions. Features are centred on the source
    mean and divided by one global scale, not standardised per column: per-column scaling turns
    columns that are nearly constant in the source (such as MNIST's empty border) into huge
    values on a target where they vary.
    """
    from sklearn.linear_model import LogisticRegression

    xs, xt = check_pair(source_features, target_features, min_rows=1)
    ys_raw = np.asarray(source_labels)
    ys, _ = check_labels(ys_raw, xs.shape[0], name="source labels")
    names = {int(i): str(ys_raw[j]) for j, i in reversed(list(enumerate(ys.tolist())))}
    centre = xs.mean(axis=0)
    scale = float(np.sqrt(np.mean((xs - centre) ** 2))) or 1.0
    head = LogisticRegression(C=c_reg, max_iter=3000).fit((xs - centre) / scale, ys)
    probs = head.predict_proba((xt - centre) / scale)
    source_names = [names[i] for i in range(probs.shape[1])]
    rel = label_relation(probs, target_labels, source_classes=source_names)
    target_names = label_strings(target_labels)
    if set(source_names) & set(target_names.tolist()):
        predicted = np.array(source_names, dtype=object)[probs.argmax(axis=1)]
        rel.accuracy = float(np.mean(predicted == target_names))
    return rel

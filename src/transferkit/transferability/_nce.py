"""NCE: negative conditional entropy of target labels given source predictions (Tran et al., ICCV 2019)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from transferkit.errors import DataError
from transferkit.transferability._info import SCORES, ScoreInfo
from transferkit.transferability._validate import check_labels, encode


@SCORES.register("nce", info=ScoreInfo(input="preds", summary="negative conditional entropy -H(Y | source prediction)"))
def nce(source_preds: Sequence[Hashable] | np.ndarray, labels: Sequence[Hashable] | np.ndarray) -> float:
    """``-H(Y | Z)`` for hard source predictions ``z`` (any hashables) and target labels (``<= 0``)."""
    preds = np.asarray(source_preds)
    if preds.ndim == 2 and preds.shape[1] > 1:
        raise DataError("nce takes hard source predictions of shape (N,); for probabilities (N, C_s) pass "
                        "probs.argmax(axis=1), or use leep")
    z = encode(preds, name="source_preds")
    y, c = check_labels(labels, len(z))
    cs = int(z.max()) + 1
    joint = np.zeros((cs, c))
    np.add.at(joint, (z, y), 1.0)
    joint /= len(y)
    pz = joint.sum(axis=1, keepdims=True)
    nz = joint > 0
    cond = np.divide(joint, pz, out=np.ones_like(joint), where=pz > 0)
    return float(np.sum(joint[nz] * np.log(cond[nz])))

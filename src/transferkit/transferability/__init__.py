"""Transferability scores: predict, without fine-tuning, how well a pretrained model will transfer.

Every score is a plain function ``score(inputs, labels) -> float`` registered in :data:`SCORES`
with a :class:`ScoreInfo` (input kind, task kind, higher-is-better). :func:`rank` scores candidate
backbones on a target data set; :func:`weighted_kendall_tau` checks a ranking against measured
accuracies.
"""

from __future__ import annotations

from transferkit.transferability._etran import etran
from transferkit.transferability._gbc import gbc
from transferkit.transferability._hscore import h_score
from transferkit.transferability._info import SCORES, ScoreInfo
from transferkit.transferability._knn import knn_accuracy
from transferkit.transferability._leep import leep
from transferkit.transferability._linear_probe import linear_probe_accuracy
from transferkit.transferability._logme import logme
from transferkit.transferability._nce import nce
from transferkit.transferability._ncti import ncti
from transferkit.transferability._nleep import nleep
from transferkit.transferability._ped import ped
from transferkit.transferability._reg_hscore import regularized_h_score
from transferkit.transferability._sfda import sfda
from transferkit.transferability._transrate import transrate
from transferkit.transferability.kendall import weighted_kendall_tau
from transferkit.transferability.rank import DEFAULT_SCORES, Candidate, RankRow, RankTable, rank, run_rank

__all__ = [
    "DEFAULT_SCORES",
    "SCORES",
    "Candidate",
    "RankRow",
    "RankTable",
    "ScoreInfo",
    "etran",
    "gbc",
    "h_score",
    "knn_accuracy",
    "leep",
    "linear_probe_accuracy",
    "logme",
    "nce",
    "ncti",
    "nleep",
    "ped",
    "rank",
    "regularized_h_score",
    "run_rank",
    "sfda",
    "transrate",
    "weighted_kendall_tau",
]

"""Biosignals: cross-subject transfer for multichannel signals (UCI HAR; EEG/EMG in the same layout)."""

from transferkit.biosignals.har import (
    DEFAULT_BACKBONE,
    CrossSubjectConfig,
    label_efficiency,
    pretrain_source,
    run_cross_subject,
    run_har,
)
from transferkit.biosignals.splits import subject_few_shot_split

__all__ = [
    "DEFAULT_BACKBONE",
    "CrossSubjectConfig",
    "label_efficiency",
    "pretrain_source",
    "run_cross_subject",
    "run_har",
    "subject_few_shot_split",
]

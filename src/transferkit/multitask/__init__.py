"""Multi-task learning: one shared trunk, named heads, loss weighting and gradient surgery, and the
gain per task measured against single-task models of the same backbone and budget.

Python API::

    from transferkit.multitask import load_config, run_multitask
    results = run_multitask(load_config("examples/multitask_heart.yaml"))
"""

from transferkit.multitask.api import resume_multitask, run_multitask
from transferkit.multitask.config import (
    MultitaskConfig,
    MultitaskConfigError,
    TaskSpec,
    WeightingSpec,
    config_from_dict,
    load_config,
)
from transferkit.multitask.data import TaskData
from transferkit.multitask.evaluate import DELTA_M_NOTE, compare_tasks, delta_m
from transferkit.multitask.loop import (
    MultiTaskResult,
    MultiTaskTrainConfig,
    MultiTaskTrainer,
    predict_task,
    task_loss,
    task_metrics,
    train_multitask,
)
from transferkit.multitask.model import HeadSpec, MultiTaskModel
from transferkit.multitask.sampler import (
    SAMPLERS,
    TASK_SAMPLERS,
    SamplerInfo,
    TaskSampler,
    allocate,
    task_probabilities,
)
from transferkit.multitask.weightings import WEIGHTINGS, Weighting, WeightingInfo, get_weighting

__all__ = [
    "DELTA_M_NOTE",
    "SAMPLERS",
    "TASK_SAMPLERS",
    "WEIGHTINGS",
    "HeadSpec",
    "MultiTaskModel",
    "MultiTaskResult",
    "MultiTaskTrainConfig",
    "MultiTaskTrainer",
    "MultitaskConfig",
    "MultitaskConfigError",
    "SamplerInfo",
    "TaskData",
    "TaskSampler",
    "TaskSpec",
    "Weighting",
    "WeightingInfo",
    "WeightingSpec",
    "allocate",
    "compare_tasks",
    "config_from_dict",
    "delta_m",
    "get_weighting",
    "load_config",
    "predict_task",
    "resume_multitask",
    "run_multitask",
    "task_loss",
    "task_metrics",
    "task_probabilities",
    "train_multitask",
]

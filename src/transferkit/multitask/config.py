"""Multi-task run settings: frozen dataclasses loaded from YAML and validated with clear errors.

A config file::

    name: heart-hospitals
    backbone: tabmlp?hidden=64,32
    tasks:
      - {name: cleveland, data: "heart-disease:cleveland"}
      - {name: va, data: "heart-disease:va", budget: 0.5}
    weightings: [equal, uncertainty, {name: dwa, temperature: 2}, pcgrad]
    seeds: 5
    epochs: 60
    metric: balanced_accuracy
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from transferkit.data.public import is_named
from transferkit.errors import TransferkitError, UnknownName
from transferkit.evaluation.metrics import METRICS, metric_names
from transferkit.multitask.sampler import TASK_SAMPLERS

# the registered metrics a multi-task run reports, per task kind (binary-only ones such as f1 left out)
CLASS_METRICS: tuple[str, ...] = metric_names("classification")
REG_METRICS: tuple[str, ...] = metric_names("regression")


def multitask_metric(name: str, context: str = "") -> str:
    """The registered name of a metric a multi-task run can use; :class:`UnknownName` otherwise."""
    key = METRICS.canonical(name) if name in METRICS else name
    allowed = (*CLASS_METRICS, *REG_METRICS)
    if key not in allowed:
        raise UnknownName("multi-task metric", name, allowed, context)
    return key


class MultitaskConfigError(TransferkitError, ValueError):
    """A multi-task config is missing something or holds a bad value; the message says what to fix."""


@dataclass(frozen=True)
class TaskSpec:
    """One task: its name (the head's name), data spec, head kind, label budget and metric.

    ``budget`` keeps labels of ``k`` training rows per class (int), a fraction (float), or ``all``;
    the other training rows become unlabelled (masked out of the loss). ``metric`` defaults to
    the run's ``metric`` (classification) or ``rmse`` (regression). ``max_rows`` keeps a fixed
    stratified random subset (seed 0) of a large data set before the per-seed splits.
    """

    name: str
    data: str
    head: str = "linear"
    budget: int | float | str = "all"
    metric: str | None = None
    max_rows: int | None = None

    def __post_init__(self) -> None:
        import re

        where = f"task {self.name!r}"
        if not isinstance(self.name, str) or not re.match(r"^[A-Za-z0-9_-]+$", self.name):
            raise MultitaskConfigError(f"task name {self.name!r}: use letters, digits, '-' and '_' only")
        if not isinstance(self.data, str) or not self.data.strip():
            raise MultitaskConfigError(f"{where}: 'data' must be a data spec such as heart-disease:va or a file path")
        if self.head not in ("linear", "mlp"):
            raise MultitaskConfigError(f"{where}: head must be 'linear' or 'mlp', got {self.head!r}")
        b = self.budget
        ok = (b == "all" or (isinstance(b, int) and not isinstance(b, bool) and b >= 1)
              or (isinstance(b, float) and 0 < b <= 1))
        if not ok:
            raise MultitaskConfigError(
                f"{where}: budget must be 'all', labels per class (int >= 1) or a fraction in (0, 1], got {b!r}")
        if self.max_rows is not None and (not isinstance(self.max_rows, int) or self.max_rows < 10):
            raise MultitaskConfigError(f"{where}: max_rows must be an integer >= 10 or null, got {self.max_rows!r}")
        if self.metric is not None:
            object.__setattr__(self, "metric", multitask_metric(self.metric, f"{where}: metric"))


@dataclass(frozen=True)
class WeightingSpec:
    """A registered weighting name and its options (e.g. ``dwa`` with ``temperature``)."""

    name: str
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def label(self) -> str:
        """The name used in result keys (``multi_<label>``)."""
        return self.name

    def create(self) -> Any:
        """A fresh weighting object."""
        from transferkit.multitask.weightings import get_weighting

        return get_weighting(self.name, **dict(self.options))


@dataclass(frozen=True)
class MultitaskConfig:
    """Everything a ``transferkit multitask`` run needs."""

    backbone: str
    tasks: tuple[TaskSpec, ...]
    weightings: tuple[WeightingSpec, ...] = (WeightingSpec("equal"),)
    seeds: tuple[int, ...] = (0, 1, 2)
    epochs: int = 60
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int | None = 15
    sampler: str = "proportional"
    temperature: float = 2.0
    class_weight: str | None = None
    max_grad_norm: float | None = 5.0
    metric: str = "accuracy"
    report_metrics: tuple[str, ...] = ("accuracy", "balanced_accuracy", "auroc")
    val_size: float = 0.2
    test_size: float = 0.3
    single_task: bool = True
    name: str = "multitask"
    data_root: str | None = None
    threads: int | None = None
    progress: bool = False

    def __post_init__(self) -> None:
        from transferkit.multitask.weightings import WEIGHTINGS

        if not isinstance(self.backbone, str) or not self.backbone:
            raise MultitaskConfigError(
                "'backbone' must be a backbone spec such as tabmlp or signalcnn (see `transferkit models`)")
        if len(self.tasks) < 2:
            raise MultitaskConfigError(f"a multi-task run needs at least 2 tasks, got {len(self.tasks)}")
        names = [t.name for t in self.tasks]
        if len(set(names)) != len(names):
            raise MultitaskConfigError(f"task names must be unique, got {names}")
        if not self.weightings:
            raise MultitaskConfigError("give at least one weighting (e.g. weightings: [equal])")
        labels = [w.label for w in self.weightings]
        if len(set(labels)) != len(labels):
            raise MultitaskConfigError(f"weightings are listed twice: {labels}")
        for w in self.weightings:
            WEIGHTINGS.canonical(w.name, context="weightings")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise MultitaskConfigError(f"seeds must be distinct integers, got {list(self.seeds)}")
        if self.single_task and len(self.seeds) < 2:
            raise MultitaskConfigError(
                "the multi-task vs single-task comparison needs at least 2 seeds for a confidence interval")
        for key in ("epochs", "batch_size"):
            v = getattr(self, key)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise MultitaskConfigError(f"{key} must be an integer >= 1, got {v!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise MultitaskConfigError(f"lr must be > 0, got {self.lr!r}")
        if self.patience is not None and (not isinstance(self.patience, int) or self.patience < 1):
            raise MultitaskConfigError(f"patience must be an integer >= 1 or null, got {self.patience!r}")
        object.__setattr__(self, "sampler", TASK_SAMPLERS.canonical(self.sampler, context="sampler"))
        if not self.temperature > 0:
            raise MultitaskConfigError("temperature must be > 0")
        if self.class_weight not in (None, "balanced"):
            raise MultitaskConfigError("class_weight must be null or 'balanced'")
        object.__setattr__(self, "metric", multitask_metric(self.metric, "metric"))
        object.__setattr__(self, "report_metrics",
                           tuple(multitask_metric(m, "report_metrics") for m in self.report_metrics))
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise MultitaskConfigError(f"threads must be an integer >= 1 or null, got {self.threads!r}")
        if not (0 < self.val_size < 1 and 0 < self.test_size < 1 and self.val_size + self.test_size < 1):
            raise MultitaskConfigError("val_size and test_size must be in (0, 1) with a sum below 1")

    def train_config(self, seed: int) -> Any:
        """The training settings of one seed."""
        from transferkit.multitask.loop import MultiTaskTrainConfig

        return MultiTaskTrainConfig(
            epochs=self.epochs, batch_size=self.batch_size, lr=float(self.lr), weight_decay=float(self.weight_decay),
            patience=self.patience, seed=seed, sampler=self.sampler, temperature=float(self.temperature),
            max_grad_norm=self.max_grad_norm, class_weight=self.class_weight, progress=self.progress)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for results.json): every setting but ``data_root`` and ``progress``, ``name`` first."""
        out: dict[str, Any] = {"name": self.name}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "tasks":
                v = [{g.name: getattr(t, g.name) for g in fields(t)} for t in v]
            elif f.name == "weightings":
                v = [{"name": w.name, **dict(w.options)} for w in v]
            elif isinstance(v, tuple):
                v = list(v)
            if f.name not in ("name", "data_root", "progress"):
                out[f.name] = v
        return out


_TOP_KEYS = {f.name for f in fields(MultitaskConfig)} - {"progress"}
_TASK_KEYS = {f.name for f in fields(TaskSpec)}


def _weighting(entry: Any, i: int) -> WeightingSpec:
    if isinstance(entry, str):
        return WeightingSpec(entry.strip().lower())
    if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
        opts = tuple(sorted((str(k), v) for k, v in entry.items() if k != "name"))
        return WeightingSpec(entry["name"].strip().lower(), opts)
    raise MultitaskConfigError(
        f"weightings[{i}]: give a name (equal) or a mapping with 'name' and options, got {entry!r}")


def _check_keys(d: Mapping[str, Any], allowed: set[str], required: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise MultitaskConfigError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")
    for key in required:
        if key not in d:
            raise MultitaskConfigError(f"{where}: missing '{key}'")


def _task(entry: Any, i: int, base_dir: Path | None) -> TaskSpec:
    if not isinstance(entry, Mapping):
        raise MultitaskConfigError(f"tasks[{i}]: expected a mapping with at least 'name' and 'data', got {entry!r}")
    _check_keys(entry, _TASK_KEYS, ("name", "data"), f"tasks[{i}]")
    d = dict(entry)
    d["name"] = str(d["name"])
    data = str(d["data"])
    if base_dir is not None and not is_named(data) and not Path(data).is_absolute() and (base_dir / data).exists():
        data = str(base_dir / data)
    d["data"] = data
    return TaskSpec(**d)


def config_from_dict(d: Mapping[str, Any], base_dir: str | Path | None = None, **overrides: Any) -> MultitaskConfig:
    """A validated :class:`MultitaskConfig` from plain data (as read from YAML); ``overrides`` win."""
    if not isinstance(d, Mapping):
        raise MultitaskConfigError(f"a multi-task config must be a mapping of settings, got {type(d).__name__}")
    d = {**d, **{k: v for k, v in overrides.items() if v is not None}}
    base_seed = d.pop("seed", None)
    _check_keys(d, _TOP_KEYS, ("backbone", "tasks"), "config")
    if not isinstance(d["tasks"], list):
        raise MultitaskConfigError("'tasks' must be a list of {name, data, ...} mappings")
    base = Path(base_dir) if base_dir is not None else None
    kw: dict[str, Any] = dict(d)
    kw["tasks"] = tuple(_task(t, i, base) for i, t in enumerate(d["tasks"]))
    ws = d.get("weightings", ["equal"])
    if isinstance(ws, str):
        ws = [w.strip() for w in ws.split(",") if w.strip()]
    if not isinstance(ws, list):
        raise MultitaskConfigError("'weightings' must be a list of names")
    kw["weightings"] = tuple(_weighting(w, i) for i, w in enumerate(ws))
    seeds = d.get("seeds", 3)
    if isinstance(seeds, bool) or not isinstance(seeds, (int, list)):
        raise MultitaskConfigError(f"'seeds' must be a count or a list of integers, got {seeds!r}")
    if isinstance(seeds, int):
        if seeds < 1:
            raise MultitaskConfigError("'seeds' must be >= 1")
        seeds = list(range(seeds))
    if not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise MultitaskConfigError(f"'seeds' must hold integers, got {seeds!r}")
    kw["seeds"] = tuple(seeds) if base_seed is None else _from_base(base_seed, len(seeds))
    if "report_metrics" in kw:
        rm = kw["report_metrics"]
        kw["report_metrics"] = tuple([rm] if isinstance(rm, str) else rm)
    for key in ("lr", "weight_decay", "temperature", "val_size", "test_size"):
        if key in kw:
            try:
                kw[key] = float(kw[key])
            except (TypeError, ValueError):
                raise MultitaskConfigError(f"{key} must be a number, got {kw[key]!r}") from None
    return MultitaskConfig(**kw)


def _from_base(seed: Any, n: int) -> tuple[int, ...]:
    """``seed, seed + 1, ..., seed + n - 1``: the seeds of base seed ``seed`` (``seed:`` or ``--seed``)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise MultitaskConfigError(f"'seed' (the base seed) must be an integer in 0..2**32-1, got {seed!r}")
    return tuple(range(seed, seed + n))


def load_config(path: str | Path, **overrides: Any) -> MultitaskConfig:
    """Read and validate a YAML config file; ``overrides`` (e.g. ``seeds=2``) replace its values.

    A base seed (``seed: S`` in the file or ``seed=S``) makes the seeds ``S, S + 1, ...`` (as many as
    ``seeds`` says); without one, ``seeds`` is a count (``0..N-1``) or the list of seeds.
    """
    import yaml

    p = Path(path)
    if p.exists() and not p.is_file():
        raise MultitaskConfigError(f"config file {p} is not a regular file (a folder, pipe or device)")
    if not p.is_file():
        raise MultitaskConfigError(f"config file {p} not found")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise MultitaskConfigError(f"{p} is not valid YAML: {exc}") from None
    if data is None:
        raise MultitaskConfigError(f"{p} is empty: give at least 'backbone' and 'tasks'")
    return config_from_dict(data, p.parent, **overrides)

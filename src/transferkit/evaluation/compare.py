"""``compare``: a transfer strategy against the same architecture trained from scratch, over paired seeds.

Per seed the two arms get the same labelled target examples, the same validation examples and
the same training budget; each keeps its best validation epoch. Only the final models touch the
test split. The per-seed difference (transfer minus scratch, on the chosen metric) gives a 95%
confidence interval and the verdict: positive, inconclusive, or negative transfer (the whole
interval below zero).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from transferkit.backbones import Backbone, create_backbone
from transferkit.data import Dataset, TransferTask, label_budget
from transferkit.errors import DataError
from transferkit.evaluation.metrics import HIGHER_IS_BETTER, classification_metrics, confusion, regression_metrics
from transferkit.evaluation.stats import VERDICT_ADVICE, paired_difference
from transferkit.training import TrainConfig, TrainResult, TransferModel, predict, train

STRATEGY_ADVICE = {
    "linear_probe": "try lp_ft or finetune with a small learning rate when more labels are available",
    "finetune": "try l2sp or lp_ft (they keep closer to the pre-trained weights), or freeze the first layer groups",
    "lp_ft": "try a smaller learning rate for the fine-tuning stage, or the linear probe alone",
}


@dataclass
class Comparison:
    """One budget's transfer-vs-scratch result; :meth:`section` is its ``results.json`` form."""

    metric: str
    higher_is_better: bool
    seeds: list[int]
    budget: Any
    budget_label: str
    transfer: dict[str, Any]
    scratch: dict[str, Any]
    diff: dict[str, Any]
    verdict: str
    advice: str
    metrics: dict[str, dict[str, float]]
    time_to_scratch_best: list[dict[str, Any]]
    others: dict[str, dict[str, Any]] = field(default_factory=dict)
    source_only: dict[str, Any] | None = None
    strategy: dict[str, Any] = field(default_factory=dict)
    curves: dict[str, Any] = field(default_factory=dict)
    confusion_matrix: dict[str, Any] | None = None
    n_labelled: int = 0  # labelled training examples (mean over seeds)

    def section(self) -> dict[str, Any]:
        """The ``results["sections"]["comparison"]`` dict (curves and confusion matrix are separate sections)."""
        out = asdict(self)
        out.pop("curves")
        out.pop("confusion_matrix")
        if out["source_only"] is None:
            out.pop("source_only")
        return out


def _budget_label(budget: Any) -> str:
    if budget == "all" or budget is None:
        return "all labels"
    if isinstance(budget, float):
        return f"{budget:.0%} of the labels"
    if isinstance(budget, str) and budget.endswith("total"):
        return f"{budget[: -len('total')]} labels in all (stratified)"
    return f"{budget} labels per class"


def default_metric(data: Dataset) -> str:
    """``rmse`` for regression; ``macro_f1`` when the smallest class is under 30% of the largest; else ``accuracy``."""
    if data.task == "regression":
        return "rmse"
    counts = np.bincount(data.y, minlength=max(data.num_classes, 1))
    counts = counts[counts > 0]
    return "macro_f1" if counts.min() < 0.3 * counts.max() else "accuracy"


def _select_metric(metric: str, task: str) -> str:
    if task == "regression":
        return "neg_rmse"
    return metric if metric in ("accuracy", "balanced_accuracy", "macro_f1") else "accuracy"


def task_metrics(data: Dataset, out: np.ndarray, num_outputs: int) -> dict[str, float]:
    """Classification (accuracy, balanced accuracy, macro-F1, AUROC; F1 of class 1 when binary) or
    regression (MAE, RMSE, R²) metrics of raw outputs."""
    if data.task == "regression":
        return regression_metrics(data.y, out)
    m = classification_metrics(data.y, out, num_outputs)
    if num_outputs == 2:
        from sklearn.metrics import f1_score

        m["f1"] = float(f1_score(data.y, out.argmax(1), pos_label=1, zero_division=0))
    return m


def time_to_reach(history: list[dict[str, float]], target: float) -> dict[str, float | None]:
    """Epochs and seconds until a validation score first reaches ``target`` (None if never)."""
    for h in history:
        if h.get("val_score", -np.inf) >= target - 1e-12:
            return {"epochs": h["epoch"], "seconds": h["seconds"]}
    return {"epochs": None, "seconds": None}


def _arm(name: str, scores: list[float]) -> dict[str, Any]:
    return {"name": name, "per_seed": [float(s) for s in scores], "mean": float(np.mean(scores))}


def _as_task(target: TransferTask | Dataset) -> TransferTask:
    if isinstance(target, TransferTask):
        return target
    if isinstance(target, Dataset):
        return TransferTask(target=target)
    raise TypeError("target must be a TransferTask or a Dataset")


def pretrain_source(source: Dataset | TransferTask, backbone: str | Backbone, config: TrainConfig | None = None,
                    progress: bool = False) -> tuple[TransferModel, TrainResult]:
    """Train ``backbone`` + a head on a labelled source data set (best epoch on a source validation split)."""
    import torch

    cfg = config or TrainConfig(epochs=10, lr=2e-3, batch_size=64, patience=3, progress=progress)
    task = source if isinstance(source, TransferTask) else TransferTask(target=source, test_size=0.0, val_size=0.1)
    sp = task.target_splits
    torch.manual_seed(cfg.seed)  # the same source model on every run
    bb = create_backbone(backbone, data=sp.train) if isinstance(backbone, str) else backbone
    bb.fit_preprocessing(sp.train.x)
    model = TransferModel(bb, max(sp.train.num_classes, 1) if sp.train.task == "classification" else 1,
                          task=sp.train.task, class_names=sp.train.class_names)
    res = train(model, sp.train, sp.val, cfg)
    return model, res


def compare(
    target: TransferTask | Dataset,
    backbone: str | Backbone | TransferModel,
    strategy: Any = "auto",
    *,
    seeds: int | Sequence[int] = 5,
    budget: int | float | str = "all",
    config: TrainConfig | None = None,
    lr: float | None = None,
    scratch_lr: float | None = None,
    metric: str | None = None,
    others: Sequence[Any] = (),
    keep_source_head: bool | str = "auto",
    scratch: bool = True,
    on_step: Callable[[str], None] | None = None,
) -> Comparison:
    """Run ``strategy`` and the scratch baseline over paired seeds at one label ``budget``.

    Args:
        target: a :class:`TransferTask` (its target splits are used) or a target :class:`Dataset`.
        backbone: the pre-trained backbone (object or spec), or a source :class:`TransferModel`; with a
            source model whose class names equal the target's, its zero-label accuracy is reported as
            ``source_only`` and its head is kept (``keep_source_head="auto"``).
        strategy: a strategy name or object (``auto`` chooses on validation, once per budget).
        seeds: number of paired seeds (or the seed values).
        budget: labelled target examples per class (int), a fraction (float) or ``"all"``; the
            validation split is cut to the same budget (few labels means few validation labels too).
        config: epochs, batch size, patience... (``lr`` and ``seed`` are set per arm/seed).
        lr, scratch_lr: learning rates (default: each strategy's own default for the backbone).
        metric: the compared test metric (default :func:`default_metric`).
        others: extra strategies reported beside transfer (e.g. ``["linear_probe", "l2sp"]``).
        scratch: False skips the baseline (then there is no verdict: it is reported as inconclusive).
    """
    from transferkit.strategies import Scratch, get_strategy

    task = _as_task(target)
    say = on_step or (lambda m: None)
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    if not seed_list:
        raise ValueError("need at least one seed")
    sp = task.target_splits
    test = sp.test
    if len(test) == 0:
        raise DataError("the target has no test split: give target_test or a test_size > 0")
    source_model = backbone if isinstance(backbone, TransferModel) else None
    bb = source_model.backbone if source_model is not None else (
        create_backbone(backbone, data=sp.train) if isinstance(backbone, str) else backbone)
    kind = sp.train.task
    k = sp.train.num_classes if kind == "classification" else (1 if np.ndim(sp.train.y) == 1 else sp.train.y.shape[1])
    names = sp.train.class_names
    shared = source_model is not None and kind == "classification" and source_model.class_names == names
    keep_head = shared and keep_source_head in (True, "auto")
    metric = metric or default_metric(sp.train)
    if metric not in HIGHER_IS_BETTER and metric != "f1":
        raise ValueError(f"unknown metric {metric!r}; use one of {sorted(HIGHER_IS_BETTER)} or f1")
    hib = HIGHER_IS_BETTER.get(metric, True)
    base_cfg = replace(config or TrainConfig(progress=False), select_metric=_select_metric(metric, kind))

    def new_model(seed: int) -> TransferModel:
        import torch

        torch.manual_seed(seed)  # the new head starts the same on every run of this seed
        head = copy.deepcopy(source_model.head) if keep_head and source_model is not None else "linear"
        return TransferModel(copy.deepcopy(bb), k, head=head, task=kind, class_names=names)

    main = get_strategy(copy.deepcopy(strategy) if not isinstance(strategy, str) else strategy)
    extra = [get_strategy(copy.deepcopy(o) if not isinstance(o, str) else o) for o in others]
    arms: dict[str, list[dict[str, float]]] = {"transfer": [], "scratch": [], **{f"o{i}": [] for i in range(len(extra))}}
    speed: list[dict[str, Any]] = []
    curves: dict[str, Any] = {}
    cm = None
    n_labelled: list[int] = []
    for seed in seed_list:
        tr = task.target_train(budget, seed=seed)
        n_labelled.append(len(tr))
        va = label_budget(sp.val, budget, seed=seed)
        say(f"{_budget_label(budget)}, seed {seed}: {len(tr)} training and {len(va)} validation examples")
        probe_model = new_model(seed)
        cfg = replace(base_cfg, seed=seed, lr=lr or main.default_lr(probe_model))
        t0 = time.perf_counter()
        t_res = main.fit(probe_model, tr, va, cfg)
        out = main.predict(probe_model, test)
        arms["transfer"].append(task_metrics(test, out, k))
        if seed == seed_list[0]:
            curves[f"transfer ({main.name}, seed {seed})"] = t_res.curve()
            if kind == "classification":
                cm = {"labels": list(names or range(k)), "matrix": confusion(test.y, out, k),
                      "model": f"transfer ({main.name}), {_budget_label(budget)}, seed {seed}"}
        say(f"  transfer ({main.name}): val {t_res.best_score:.3f} in {time.perf_counter() - t0:.0f}s")
        if scratch:
            sm = new_model(seed)
            sm.head = TransferModel(sm.backbone, k, task=kind).head
            s_strat = Scratch()
            s_res = s_strat.fit(sm, tr, va, replace(cfg, lr=scratch_lr or s_strat.default_lr(sm)))
            arms["scratch"].append(task_metrics(test, predict(sm, test), k))
            speed.append({"seed": seed, "scratch_best_val": s_res.best_score,
                          "scratch_best_epoch": s_res.best_epoch,
                          "transfer": time_to_reach(t_res.history, s_res.best_score),
                          "scratch": time_to_reach(s_res.history, s_res.best_score)})
            if seed == seed_list[0]:
                curves[f"scratch (seed {seed})"] = s_res.curve()
            say(f"  scratch: val {s_res.best_score:.3f}")
        for i, st in enumerate(extra):
            om = new_model(seed)
            st.fit(om, tr, va, replace(cfg, lr=st.default_lr(om)))
            arms[f"o{i}"].append(task_metrics(test, st.predict(om, test), k))

    def scores(key: str) -> list[float]:
        return [m[metric] for m in arms[key]]

    t_scores = scores("transfer")
    if scratch:
        s_scores = scores("scratch")
        d = paired_difference(t_scores, s_scores, higher_is_better=hib)
        diff = {"mean": d.mean, "ci_low": d.ci_low, "ci_high": d.ci_high, "per_seed": list(d.per_seed)}
        verdict = d.verdict
    else:
        s_scores, diff, verdict = [], {"mean": None, "ci_low": None, "ci_high": None, "per_seed": []}, "inconclusive"
    chosen = main.describe()
    chosen_name = (chosen.get("chosen") or {}).get("name", main.name) if main.name == "auto" else main.name
    advice = VERDICT_ADVICE[verdict]
    if verdict != "positive" and chosen_name in STRATEGY_ADVICE:
        advice += f" Next: {STRATEGY_ADVICE[chosen_name]}."
    metric_names = ("mae", "rmse", "r2") if kind == "regression" else tuple(arms["transfer"][0])
    arm_keys = ["transfer", *(["scratch"] if scratch else []), *[f"o{i}" for i in range(len(extra))]]
    arm_names = {"transfer": "transfer", "scratch": "scratch", **{f"o{i}": s.name for i, s in enumerate(extra)}}
    metrics = {name: {arm_names[a]: float(np.nanmean([m[name] for m in arms[a]])) for a in arm_keys}
               for name in metric_names}
    comp = Comparison(
        metric=metric, higher_is_better=hib, seeds=seed_list, budget=budget, budget_label=_budget_label(budget),
        transfer=_arm(f"{bb.spec} + {main.name}" + (f" -> {chosen_name}" if chosen_name != main.name else ""),
                      t_scores),
        scratch=_arm(f"{bb.spec} from scratch", s_scores) if scratch else {"name": "scratch (skipped)",
                                                                           "per_seed": [], "mean": None},
        diff=diff, verdict=verdict, advice=advice, metrics=metrics, time_to_scratch_best=speed,
        others={s.name: _arm(f"{bb.spec} + {s.name}", scores(f"o{i}")) for i, s in enumerate(extra)},
        strategy=chosen, curves=curves, confusion_matrix=cm, n_labelled=int(round(float(np.mean(n_labelled)))),
    )
    if shared and source_model is not None:
        src = task_metrics(test, predict(source_model, test), k)
        comp.source_only = {**_arm("source model, zero target labels", [src[metric]] * len(seed_list)),
                            "metrics": src}
        comp.metrics = {n: {**v, "source_only": src.get(n, float("nan"))} for n, v in comp.metrics.items()}
    return comp

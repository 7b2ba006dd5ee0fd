"""``auto``: pick a strategy and learning rate on the validation split, and say why.

Candidates depend on the backbone (transformers get small learning rates, and no full
fine-tuning on a CPU when there is much data, because it is slow) and on the data. The default
search is successive halving: every candidate trains on a small share of the budget, the better
half on validation goes on, and so on until one candidate has the whole budget. A network trained
by the loop continues from its checkpoint instead of starting again; SetFit (its budget is pairs)
starts again with more pairs, a rung's pairs passing no more texts than that rung's fine-tuning
does; the linear probe trains in full at once (it is cheap).
``auto?search=full`` trains every candidate in full instead. The first ``fit`` makes the choice;
later fits (other seeds) reuse it, so every seed runs the same recipe. The test split is never seen.
"""

from __future__ import annotations

import copy
import math
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from transferkit.data.dataset import Dataset
from transferkit.strategies._base import Strategy, is_transformer
from transferkit.strategies._info import STRATEGIES, StrategyInfo
from transferkit.strategies.linear_probe import LinearProbe
from transferkit.strategies.setfit import SetFit
from transferkit.training import TrainConfig, TrainResult, TransferModel

Candidate = tuple[str, dict[str, Any], float | None]  # strategy name, its options, lr (None: linear probe)


def default_candidates(model: TransferModel, n_train: int, cpu: bool | None = None) -> tuple[list[Candidate], str]:
    """Candidate (strategy, options, lr) triples for this backbone and data size, and why these."""
    cpu = (not torch.cuda.is_available()) if cpu is None else cpu
    cands: list[Candidate] = [("linear_probe", {}, None)]
    if is_transformer(model):
        if cpu and n_train > 256:
            return cands, (f"transformer backbone on CPU with {n_train} training examples: fine-tuning candidates "
                           "skipped for time (pass candidates=... to include them)")
        cands += [("lp_ft", {}, 2e-5), ("finetune", {}, 5e-5)]
        if model.backbone.input_kind == "text" and model.task == "classification":
            cands.append(("setfit", {}, 2e-5))
            return cands, ("text encoder: probe, LP-FT, fine-tuning at small learning rates, and SetFit's contrastive "
                           "pairs (strong with few labels)")
        return cands, "transformer backbone: probe, LP-FT and fine-tuning at small learning rates"
    cands += [("finetune", {}, 3e-3), ("finetune", {}, 1e-3), ("lp_ft", {}, 3e-4)]
    return cands, "small network: probe, fine-tuning at two learning rates, LP-FT"


SEARCHES = ("halving", "full")


def rung_shares(n: int) -> list[float]:
    """Budget shares of the successive-halving rungs for ``n`` candidates: ``1/2**R, ..., 1/2, 1``,
    ``R = ceil(log2 n)``, so the better half of the candidates goes on from one rung to the next."""
    rungs = math.ceil(math.log2(n)) if n > 1 else 0
    return [2.0 ** (r - rungs) for r in range(rungs + 1)]


def best_possible(metric: str) -> float:
    """The highest validation score ``metric`` can give (1 for accuracy or F1, 0 for ``neg_rmse``; inf if unknown)."""
    from transferkit.evaluation.metrics import METRICS

    key = "rmse" if metric == "neg_rmse" else metric
    if key not in METRICS:
        return math.inf
    info = METRICS.info(key)
    low, high = info.value_range
    return float(high) if info.higher_is_better else -float(low)


@dataclass
class _Trial:
    """One candidate during the search: its strategy, the model it trains and where it stands."""

    index: int
    name: str
    options: dict[str, Any]
    lr: float | None
    strategy: Strategy
    model: TransferModel | None = None
    result: TrainResult | None = None
    done: bool = False
    seconds: float = 0.0

    @property
    def score(self) -> float:
        """Best validation score so far (-inf before any training)."""
        return self.result.best_score if self.result is not None else -math.inf

    def label(self) -> str:
        """``finetune@0.003`` style name."""
        return self.name + (f"@{self.lr:g}" if self.lr else "")


def _pairs(strat: SetFit, n_train: int) -> int:
    """The contrastive pairs a full SetFit fit draws for ``n_train`` examples."""
    return min(strat.max_pairs, 2 * strat.num_iterations * n_train)


def _train_share(trial: _Trial, share: float, model: TransferModel, train_data: Dataset, val_data: Dataset,
                 config: TrainConfig, folder: Path, callbacks: Any, accelerator: Any) -> dict[str, Any]:
    """Train ``trial`` up to ``share`` of its budget; returns what this rung spent, for the record.

    The probe trains in full (its budget has no share); SetFit starts again from ``model`` with
    ``share`` of its pairs, counted so that a rung's pairs pass no more texts than the same share of
    ``config.epochs`` epochs of fine-tuning does (SetFit's full pair stage can cost many times that;
    the whole of it is trained once, when SetFit is the last candidate left); anything else continues from its checkpoint in ``folder`` up to
    ``floor(share * epochs)`` epochs, at least one (a fresh copy of ``model`` resumes it, as a stopped
    run would, so the last rung gives the weights of a fit alone); with a learning-rate schedule other
    than ``constant`` it starts again instead (the schedule spans the whole fit).
    """
    strat, cfg = trial.strategy, replace(config, lr=trial.lr or config.lr)
    budget: dict[str, Any]
    if isinstance(strat, LinearProbe) and type(strat).fit is LinearProbe.fit:
        share, budget = 1.0, {"budget": "full (a probe has no epochs)"}
    elif isinstance(strat, SetFit):
        full = _pairs(strat, len(train_data))
        if share < 1.0:  # a rung's pairs pass as many texts as the same share of fine-tuning, at most its own
            common = min(full, config.epochs * len(train_data) // 2)
            strat = copy.copy(strat)
            strat.max_pairs, strat.pair_results = max(2, math.ceil(share * common)), []
        budget = {"pairs": _pairs(strat, len(train_data)), "of_pairs": full}
    else:
        epochs = max(1, int(share * config.epochs))  # rounded down: 15 epochs give rungs of 3, 7 and 15
        share = epochs / config.epochs
        cfg = replace(cfg, epochs=epochs)
        if config.schedule == "constant":  # a schedule over all the epochs could not go on from a rung's end
            cfg = replace(cfg, checkpoint_dir=str(folder / f"candidate-{trial.index}"), resume=True,
                          checkpoint_every=config.epochs)  # only the rung's end is needed to go on from
        budget = {"epochs": epochs, "of_epochs": config.epochs}
    t0 = time.perf_counter()
    trial.model = copy.deepcopy(model)
    trial.result = strat.fit(trial.model, train_data, val_data, cfg, callbacks, accelerator)
    spent = time.perf_counter() - t0
    trial.seconds += spent
    trial.done, trial.strategy = share >= 1.0, (trial.strategy if share < 1.0 else strat)
    return {"strategy": trial.name, "options": trial.options, "lr": trial.lr, **budget,
            "val_score": trial.score, "best_epoch": trial.result.best_epoch, "seconds": spent}


@STRATEGIES.register("auto", info=StrategyInfo("choose a strategy and learning rate on the validation split "
                                               "(successive halving; auto?search=full trains every candidate)"))
class Auto(Strategy):
    """Select among ``candidates`` on validation, then behave as the chosen strategy.

    Args:
        candidates: ``(name, options, lr)`` triples; ``None`` picks :func:`default_candidates`.
        search: ``halving`` (default: successive halving, see the module docstring) or ``full`` (every
            candidate trains its whole budget).

    Attributes:
        trials: one row per candidate and rung trained: strategy, options, lr, budget, validation score.
        rungs: (halving) per rung: its budget share, every live candidate's validation score, who went on.
    """

    name = "auto"

    def __init__(self, candidates: list[Candidate] | None = None, search: str = "halving") -> None:
        if search not in SEARCHES:
            raise ValueError(f"auto's search must be one of {list(SEARCHES)}, got {search!r} "
                             "(e.g. auto?search=full)")
        self.candidates = candidates
        self.search = search
        self.chosen: Strategy | None = None
        self.chosen_lr: float | None = None
        self.choice: dict[str, Any] | None = None
        self.reason = ""
        self.trials: list[dict[str, Any]] = []
        self.rungs: list[dict[str, Any]] = []

    def fit(self, model: TransferModel, train_data: Dataset, val_data: Dataset | None, config: TrainConfig,
            callbacks: Any = (), accelerator: Any = None) -> TrainResult:
        """First call: search the candidates on copies of ``model`` and keep the best; later calls reuse the choice."""
        from transferkit.strategies import get_strategy

        if self.chosen is not None:
            lr = self.chosen_lr or config.lr
            return self.chosen.fit(model, train_data, val_data, replace(config, lr=lr), callbacks, accelerator)
        if val_data is None:
            raise ValueError("auto needs a validation split to choose on")
        cands, why = self.options(model, len(train_data))
        strategies = [get_strategy(name, **opts) for name, opts, _ in cands]  # names, or strategy objects
        trials = [_Trial(i, s.name, dict(opts), lr, s) for i, (s, (_, opts, lr)) in enumerate(zip(strategies, cands))]
        with tempfile.TemporaryDirectory(prefix="transferkit-auto-") as tmp:
            shares = rung_shares(len(trials)) if self.search == "halving" else [1.0]
            best = self._search(trials, shares, model, train_data, val_data, config, Path(tmp), callbacks, accelerator)
        assert best.model is not None and best.result is not None
        self.chosen, self.chosen_lr = best.strategy, best.lr
        self.choice = {"strategy": best.name, "options": best.options, "lr": best.lr}
        model.backbone, model.head = best.model.backbone, best.model.head
        self.reason = self._why(best, trials, config.select_metric, why)
        best.result.config["auto_reason"] = self.reason
        return best.result

    def _search(self, trials: list[_Trial], shares: list[float], model: TransferModel, train_data: Dataset,
                val_data: Dataset, config: TrainConfig, folder: Path, callbacks: Any, accelerator: Any) -> _Trial:
        """Train the live candidates rung by rung, keep the better half each time; the best at the end.

        Halving only: a candidate that finished its whole budget at the best score the metric allows
        cannot be beaten (ties go to the earlier candidate), so the later candidates are dropped untrained.
        """
        live = list(trials)
        top = best_possible(config.select_metric) if self.search == "halving" else math.inf  # full: train them all
        for r, share in enumerate(shares):
            for t in list(live):
                ceiling = next((c for c in live if c.done and c.score >= top - 1e-12), None)
                if ceiling is not None and t.index > ceiling.index:
                    live.remove(t)
                    self.rungs.append({"rung": r, "dropped": t.label(), "because": (
                        f"{ceiling.label()} reached the best possible validation score {top:g}")})
                elif not t.done:
                    self.trials.append({"rung": r, **_train_share(t, share, model, train_data, val_data, config,
                                                                  folder, callbacks, accelerator)})
            ranked = sorted(live, key=lambda t: (-t.score, t.index))  # ties: the earlier candidate
            keep = ranked[:math.ceil(len(live) / 2)] if r < len(shares) - 1 else ranked[:1]
            if len(shares) > 1:
                self.rungs.append({"rung": r, "share": share,
                                   "val_scores": {t.label(): t.score for t in ranked},
                                   "kept": [t.label() for t in keep]})
            live = sorted(keep, key=lambda t: t.index)
            if all(t.done for t in live):
                break
        return min(live, key=lambda t: (-t.score, t.index))

    def _why(self, best: _Trial, trials: list[_Trial], metric: str, why: str) -> str:
        """The reason line: the pick, its validation score, the others' last scores and the search."""
        others = ", ".join(f"{t.label()} {t.score:.3f}" + ("" if t.done else " (partly trained)")
                           for t in sorted(trials, key=lambda t: (-t.score, t.index)) if t is not best)
        rungs = sum("share" in r for r in self.rungs)
        search = f"successive halving over {rungs} rungs" if rungs else "every candidate in full"
        return (f"picked {best.name}" + (f" (lr {best.lr:g})" if best.lr else "") +
                f": best validation {metric} {best.score:.3f}" + (f" vs {others}" if others else "") +
                f"; search: {search}; candidates: {why}")

    def options(self, model: TransferModel, n_train: int) -> tuple[list[Candidate], str]:
        """The candidates to choose among for ``model`` and ``n_train`` training examples, and why these."""
        return (self.candidates, "given candidates") if self.candidates else default_candidates(model, n_train)

    def take(self, strategy: Strategy, cand: Candidate, score: float, why: str, select_metric: str,
             on: str = "validation") -> None:
        """Adopt ``strategy`` (candidate ``cand``, scoring ``score`` on ``on``) after :attr:`trials`, and say why.

        :meth:`fit` calls this after trying every candidate on the validation split; cross-validation
        (which fits the candidates itself) calls it with the candidates' mean fold scores as ``val_score``.
        """
        self.chosen, self.chosen_lr = strategy, cand[2]
        self.choice = {"strategy": strategy.name, "options": dict(cand[1]), "lr": cand[2]}
        ranking = sorted(self.trials, key=lambda t: -t["val_score"])
        others = ", ".join(f"{t['strategy']}" + (f"@{t['lr']:g}" if t["lr"] else "") + f" {t['val_score']:.3f}"
                           for t in ranking[1:])
        self.reason = (f"picked {cand[0]}" + (f" (lr {cand[2]:g})" if cand[2] else "") +
                       f": best {on} {select_metric} {score:.3f}" + (f" vs {others}" if others else "") +
                       f"; candidates: {why}")

    def refit_choice(self, row: int, config: TrainConfig) -> tuple[Strategy, TrainConfig]:
        """What the chosen strategy refits with (at its learning rate); auto must have chosen already."""
        from dataclasses import replace

        if self.chosen is None:
            raise ValueError("auto has not chosen a strategy yet: fit it (or cross-validate it) first")
        return self.chosen.refit_choice(row, replace(config, lr=self.chosen_lr or config.lr))

    def restore(self, described: dict[str, Any]) -> None:
        """Take back the choice a first fit made, from its :meth:`describe` (resuming a run that was stopped)."""
        from transferkit.strategies import get_strategy

        trials = list(described.get("trials") or [])
        choice = described.get("choice")
        if not trials and not choice:
            return
        if self.chosen is None:
            if not isinstance(choice, dict):  # a record from before the choice was written down
                best = 0
                for i, t in enumerate(trials):  # the first strictly best validation score
                    if t["val_score"] > trials[best]["val_score"] + 1e-9:
                        best = i
                choice = trials[best]
            self.chosen = get_strategy(choice["strategy"], **(choice.get("options") or {}))
            self.chosen_lr, self.reason, self.trials = choice.get("lr"), str(described.get("reason", "")), trials
            self.choice = {k: choice.get(k) for k in ("strategy", "options", "lr")}
            self.rungs = list(described.get("rungs") or [])
        if isinstance(described.get("chosen"), dict):
            self.chosen.restore(described["chosen"])  # what the chosen strategy's last fit learned

    def predict(self, model: TransferModel, data: Dataset, batch_size: int = 256) -> Any:
        """Predict as the chosen strategy does."""
        return (self.chosen or super()).predict(model, data, batch_size)

    def describe(self) -> dict[str, Any]:
        """The search, the choice, its learning rate, the reason, every trial and (halving) every rung."""
        return {"name": self.name, "search": self.search, "chosen": self.chosen.describe() if self.chosen else None,
                "choice": self.choice, "chosen_lr": self.chosen_lr, "reason": self.reason, "trials": self.trials,
                "rungs": self.rungs}

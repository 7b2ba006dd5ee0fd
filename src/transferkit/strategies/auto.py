"""``auto``: pick a strategy and learning rate on the validation split, and say why.

Candidates depend on the backbone (transformers get small learning rates, and no full
fine-tuning on a CPU when there is much data, because it is slow) and on the data. Each
candidate trains on the training labels; the one with the best validation score wins. The first
``fit`` makes the choice; later fits (other seeds) reuse it, so every seed runs the same recipe.
The test split is never seen.
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from transferkit.data.dataset import Dataset
from transferkit.strategies._base import Strategy, is_transformer
from transferkit.strategies._info import STRATEGIES, StrategyInfo
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


@STRATEGIES.register("auto", info=StrategyInfo("choose a strategy and learning rate on the validation split"))
class Auto(Strategy):
    """Select among ``candidates`` on validation, then behave as the chosen strategy.

    Args:
        candidates: ``(name, options, lr)`` triples; ``None`` picks :func:`default_candidates`.
    """

    name = "auto"

    def __init__(self, candidates: list[Candidate] | None = None) -> None:
        self.candidates = candidates
        self.chosen: Strategy | None = None
        self.chosen_lr: float | None = None
        self.reason = ""
        self.trials: list[dict[str, Any]] = []

    def fit(self, model: TransferModel, train_data: Dataset, val_data: Dataset | None, config: TrainConfig,
            callbacks: Any = (), accelerator: Any = None) -> TrainResult:
        """First call: try every candidate on copies of ``model`` and keep the best; later calls reuse the choice."""
        from dataclasses import replace

        from transferkit.strategies import get_strategy

        if self.chosen is not None:
            lr = self.chosen_lr or config.lr
            return self.chosen.fit(model, train_data, val_data, replace(config, lr=lr), callbacks, accelerator)
        if val_data is None:
            raise ValueError("auto needs a validation split to choose on")
        cands, why = self.options(model, len(train_data))
        best: tuple[float, int, Strategy, TransferModel, TrainResult] | None = None
        for i, (name, opts, lr) in enumerate(cands):
            strat = get_strategy(name, **opts)
            trial_model = copy.deepcopy(model)
            res = strat.fit(trial_model, train_data, val_data, replace(config, lr=lr or config.lr), callbacks,
                            accelerator)
            self.trials.append({"strategy": name, "options": opts, "lr": lr, "val_score": res.best_score,
                                "best_epoch": res.best_epoch, "seconds": res.seconds})
            if best is None or res.best_score > best[0] + 1e-9:
                best = (res.best_score, i, strat, trial_model, res)
        assert best is not None
        score, i, strat, trial_model, res = best
        self.take(strat, cands[i], score, why, config.select_metric)
        model.backbone, model.head = trial_model.backbone, trial_model.head
        res.config["auto_reason"] = self.reason
        return res

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
        if not trials:
            return
        if self.chosen is None:
            best = 0
            for i, t in enumerate(trials):  # the same rule as fit: the first strictly best validation score
                if t["val_score"] > trials[best]["val_score"] + 1e-9:
                    best = i
            t = trials[best]
            self.chosen = get_strategy(t["strategy"], **(t.get("options") or {}))
            self.chosen_lr, self.reason, self.trials = t.get("lr"), str(described.get("reason", "")), trials
        if isinstance(described.get("chosen"), dict):
            self.chosen.restore(described["chosen"])  # what the chosen strategy's last fit learned

    def predict(self, model: TransferModel, data: Dataset, batch_size: int = 256) -> Any:
        """Predict as the chosen strategy does."""
        return (self.chosen or super()).predict(model, data, batch_size)

    def describe(self) -> dict[str, Any]:
        """The choice, its learning rate, the reason and every trial's validation score."""
        return {"name": self.name, "chosen": self.chosen.describe() if self.chosen else None,
                "chosen_lr": self.chosen_lr, "reason": self.reason, "trials": self.trials}

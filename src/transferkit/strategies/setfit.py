"""``setfit``: contrastive fine-tuning of a sentence encoder on pairs, then a logistic head (SetFit).

Tunstall et al., "Efficient Few-Shot Learning Without Prompts" (arXiv 2209.11055, 2022). Stage 1
trains the encoder so that the cosine similarity of two labelled examples' embeddings is 1 when
they share a class and 0 when they do not (mean squared error, balanced pairs); a few labels give
many pairs. Stage 2 is the :class:`LinearProbe` on the new embeddings (optionally self-trained on
unlabelled target examples). Stage 1 is a :class:`PairTrainer` run through the one training loop
(:func:`transferkit.training.fit`), in one process (no data parallelism). Defaults follow SetFit's:
20 pair iterations per example, batch 16, body learning rate 2e-5 with 10 % warm-up, one epoch.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from transferkit.backbones import Backbone, to_device
from transferkit.data.dataset import Dataset
from transferkit.errors import DataError
from transferkit.strategies._base import Strategy
from transferkit.strategies._info import STRATEGIES, StrategyInfo
from transferkit.strategies.linear_probe import LinearProbe
from transferkit.training import TrainConfig, Trainer, TrainResult, TransferModel, fit, set_trainable


def contrastive_pairs(y: np.ndarray, num_pairs: int, seed: int) -> np.ndarray:
    """``(num_pairs, 3)`` rows ``(i, j, same)``: half same-class pairs, half different-class pairs.

    Anchors are drawn uniformly over examples; partners from the anchor's class (same) or from the
    other classes (different). Classes with a single example never anchor a same-class pair.
    """
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    by_class = {c: np.flatnonzero(y == c) for c in np.unique(y)}
    if len(by_class) < 2:
        raise DataError("contrastive pairs need at least two classes")
    can_pair = np.flatnonzero([len(by_class[c]) >= 2 for c in y])
    if not len(can_pair):
        raise DataError("contrastive pairs need a class with at least two examples")
    rows = []
    for k in range(num_pairs):
        if k % 2 == 0:
            i = int(rng.choice(can_pair))
            members = by_class[y[i]]
            j = int(rng.choice(members[members != i]))
            rows.append((i, j, 1))
        else:
            i = int(rng.integers(len(y)))
            j = int(rng.choice(np.flatnonzero(y != y[i])))
            rows.append((i, j, 0))
    return np.asarray(rows, dtype=np.int64)


def _random_streams() -> dict[str, Any]:
    """The states of torch's (CPU and CUDA), numpy's and Python's global random generators."""
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def _set_random_streams(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if state["cuda"] is not None:
        torch.cuda.set_rng_state_all(state["cuda"])


class PairTrainer(Trainer):
    """SetFit's stage 1 for :func:`fit`: the encoder learns cosine similarity 1 for same-class pairs, 0 otherwise.

    Batches are ``batch_size`` pairs in an order drawn per epoch from one numpy generator seeded
    with ``seed``; the last epoch is kept. Dropout draws continue the caller's random streams (the
    loop's seeding is undone in :meth:`setup`), as the pair stage always has, so SetFit results
    stay the same.
    """

    name = "setfit"
    keep_last = True

    def __init__(self, backbone: Backbone, data: Dataset, pairs: np.ndarray, batch_size: int, seed: int) -> None:
        super().__init__()
        self.backbone, self.data, self.pairs, self.batch_size = backbone, data, pairs, batch_size
        self.rng, self.orders = np.random.default_rng(seed), []
        self.device = backbone.device
        self.streams = _random_streams()

    def modules(self) -> dict[str, nn.Module]:
        """The encoder."""
        return {"backbone": self.backbone}

    def setup(self, device: torch.device) -> None:
        """Back to the caller's random streams, then the encoder to ``device``."""
        _set_random_streams(self.streams)
        self.device = device
        super().setup(device)

    def param_groups(self, lr: float, weight_decay: float) -> list[dict[str, Any]]:
        """The encoder's trainable parameters."""
        return [{"params": [p for p in self.backbone.parameters() if p.requires_grad], "lr": lr,
                 "weight_decay": weight_decay, "name": "encoder"}]

    def num_steps(self, epoch: int) -> int:
        """Batches of pairs per epoch."""
        return math.ceil(len(self.pairs) / self.batch_size)

    def batches(self, epoch: int) -> Iterator[np.ndarray]:
        """Rows ``(i, j, same)`` of the pairs, shuffled per epoch."""
        while len(self.orders) <= epoch:
            self.orders.append(self.rng.permutation(len(self.pairs)))
        order = self.orders[epoch]
        for start in range(0, len(order), self.batch_size):
            yield self.pairs[order[start:start + self.batch_size]]

    def step(self, batch: np.ndarray) -> tuple[torch.Tensor, dict[str, Any]]:
        """Squared error between the pairs' cosine similarity and their same-class indicator."""
        x = np.concatenate([self.data.x[batch[:, 0]], self.data.x[batch[:, 1]]])
        emb = self.backbone.forward_features(to_device(self.backbone.prepare(x), self.device)).float()
        cos = F.cosine_similarity(emb[: len(batch)], emb[len(batch):])
        loss = F.mse_loss(cos, torch.as_tensor(batch[:, 2], dtype=torch.float32, device=self.device))
        return loss, {"n": len(batch)}


@STRATEGIES.register("setfit", info=StrategyInfo("contrastive fine-tuning of a sentence encoder on pairs of labelled "
                                                 "examples, then a logistic head (SetFit)"), aliases=("contrastive",))
class SetFit(Strategy):
    """Stage 1: cosine-similarity pair loss on the encoder; stage 2: :class:`LinearProbe` on its embeddings.

    Args:
        num_iterations: pairs per labelled example (SetFit's ``num_iterations``; 2 x this x N pairs).
        max_pairs: upper bound on the number of pairs (keeps large label budgets affordable).
        epochs: passes over the pairs.
        batch_size: pairs per step.
        lr: encoder learning rate (default 2e-5).
        head, unlabeled, self_training_rounds, confidence: passed to the :class:`LinearProbe` stage.
        encoder_rounds: rounds of self-training for the encoder (needs ``unlabeled``): a probe on
            the current encoder labels ``unlabeled``; the examples it is at least ``confidence``
            sure of join the labelled ones, and the contrastive stage runs again on pairs drawn
            from them all. Pseudo-labels never come from the test split unless you pass it.

    Attributes:
        pair_results: the :class:`TrainResult` of each contrastive stage of the last :meth:`fit`
            (each one a :class:`PairTrainer` run through :func:`transferkit.training.fit`).
    """

    name = "setfit"

    def __init__(self, num_iterations: int = 20, max_pairs: int = 2560, epochs: int = 1, batch_size: int = 16,
                 lr: float | None = None, head: str = "logistic", unlabeled: Dataset | None = None,
                 self_training_rounds: int = 0, confidence: float = 0.9, encoder_rounds: int = 0) -> None:
        if num_iterations < 1 or max_pairs < 2 or epochs < 1 or batch_size < 1:
            raise ValueError("num_iterations, epochs and batch_size must be >= 1 and max_pairs >= 2")
        if encoder_rounds < 0 or (encoder_rounds and (unlabeled is None or len(unlabeled) == 0)):
            raise ValueError("encoder_rounds must be >= 0 and needs unlabeled examples (unlabeled=...)")
        self.encoder_rounds, self.unlabeled, self.confidence = int(encoder_rounds), unlabeled, confidence
        self.num_iterations, self.max_pairs, self.epochs, self.batch_size = num_iterations, max_pairs, epochs, batch_size
        self.lr = lr
        self.pair_results: list[TrainResult] = []
        self.probe = LinearProbe(head=head, unlabeled=unlabeled, self_training_rounds=self_training_rounds,
                                 confidence=confidence)

    def setup(self, model: TransferModel) -> None:
        """The encoder trains in stage 1."""
        set_trainable(model.backbone, True)

    def default_lr(self, model: TransferModel) -> float:
        """SetFit's body learning rate."""
        return 2e-5

    def _train_body(self, model: TransferModel, data: Dataset, config: TrainConfig, result: TrainResult) -> None:
        """One contrastive stage through :func:`fit`; its epochs join ``result.history`` as ``pair_loss`` rows."""
        backbone = model.backbone
        pairs = contrastive_pairs(data.y, min(self.max_pairs, 2 * self.num_iterations * len(data)), config.seed)
        lr = self.lr or self.default_lr(model)
        pair_config = TrainConfig(
            epochs=self.epochs, batch_size=self.batch_size, lr=lr, weight_decay=0.01, patience=None, seed=config.seed,
            max_grad_norm=None, schedule="linear_warmup", warmup=0.1, progress=config.progress,
            mixed_precision="auto" if config.mixed_precision in ("auto", "bf16") else "no",
            device="cuda" if backbone.device.type == "cuda" else "cpu")
        res = fit(PairTrainer(backbone, data, pairs, self.batch_size, config.seed), pair_config)
        self.pair_results.append(res)
        offset = result.history[-1]["seconds"] if result.history else 0.0
        for h in res.history:
            result.history.append({"epoch": float(len(result.history) + 1), "pair_loss": h["train_loss"],
                                   "seconds": offset + h["seconds"]})
        result.config.update(pairs=result.config.get("pairs", 0) + len(pairs), body_lr=lr)

    def fit(self, model: TransferModel, train_data: Dataset, val_data: Dataset | None, config: TrainConfig,
            callbacks: Any = (), accelerator: Any = None) -> TrainResult:
        """Contrastive stage, then the probe; the result holds both stages (probe rows after the pair epochs)."""
        if model.task != "classification":
            raise DataError("setfit is for classification; use finetune or lp_ft for regression")
        if train_data.y is None:
            raise DataError(f"training data {train_data.name!r} has no labels")
        t0 = time.perf_counter()
        self.setup(model)
        self.pair_results = []
        result = TrainResult(config={"select_metric": config.select_metric})
        self._train_body(model, train_data, config, result)
        if self.encoder_rounds:
            self.self_train_encoder(model, train_data, val_data, config, self.encoder_rounds, result)
        probe = self.probe.fit(model, train_data, val_data, config)
        for h in probe.history:
            result.history.append({**h, "epoch": float(len(result.history) + 1),
                                   "seconds": h["seconds"] + result.history[-1]["seconds"]})
        result.best_score, result.best_epoch = probe.best_score, len(result.history)
        result.config.update(probe=probe.config)
        result.seconds = time.perf_counter() - t0
        return result

    def refit_choice(self, row: int, config: TrainConfig) -> tuple[SetFit, TrainConfig]:
        """The validation rows are the probe stage's C values: the same SetFit with the probe's C of ``row``."""
        import copy

        fixed = copy.copy(self)
        fixed.probe, _ = self.probe.refit_choice(row, config)
        return fixed, config

    def self_train_encoder(self, model: TransferModel, train_data: Dataset, val_data: Dataset | None,
                           config: TrainConfig, rounds: int = 1, result: TrainResult | None = None) -> TrainResult:
        """Self-training rounds for an encoder already tuned on ``train_data`` (``fit`` calls this).

        Each round: a probe labels ``self.unlabeled``, the confident examples join the labelled
        ones, and the contrastive stage runs again on pairs drawn from all of them.
        """
        if self.unlabeled is None:
            raise ValueError("encoder self-training needs unlabeled examples (unlabeled=...)")
        result = result or TrainResult(config={"select_metric": config.select_metric})
        infos = []
        for r in range(rounds):
            augmented, info = self._pseudo_labelled(model, train_data, val_data, config)
            infos.append(info)
            self.setup(model)  # the probe froze the encoder
            self._train_body(model, augmented, replace(config, seed=config.seed + 1000 * (r + 1)), result)
        result.config["encoder_self_training"] = {"unlabeled": len(self.unlabeled), "rounds": infos,
                                                  "confidence": self.confidence}
        return result

    def _pseudo_labelled(self, model: TransferModel, train_data: Dataset, val_data: Dataset | None,
                         config: TrainConfig) -> tuple[Dataset, dict[str, Any]]:
        """The labelled examples plus the unlabelled ones a probe on the current encoder is sure of."""
        assert self.unlabeled is not None
        probe = LinearProbe(head=self.probe.head)
        probe.fit(model, train_data, val_data, config)
        with torch.no_grad():
            proba = torch.softmax(torch.as_tensor(probe.predict(model, self.unlabeled)), 1).numpy()
        keep = proba.max(1) >= self.confidence
        pseudo = proba.argmax(1)[keep]
        x = np.concatenate([np.asarray(train_data.x, dtype=object), np.asarray(self.unlabeled.x, dtype=object)[keep]])
        y = np.concatenate([train_data.y, pseudo]).astype(np.int64)
        data = Dataset(x=x, y=y, kind=train_data.kind, class_names=train_data.class_names,
                       name=f"{train_data.name}+pseudo")
        return data, {"pseudo_labels": int(keep.sum()),
                      "per_class": np.bincount(pseudo, minlength=model.num_outputs).tolist()}

    def predict(self, model: TransferModel, data: Dataset, batch_size: int = 256) -> np.ndarray:
        """Head outputs on the tuned encoder's (cached) embeddings."""
        return self.probe.predict(model, data, batch_size)

    def describe(self) -> dict[str, Any]:
        """Name, pair settings and the probe's settings."""
        return {"name": self.name, "num_iterations": self.num_iterations, "max_pairs": self.max_pairs,
                "epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr, "encoder_rounds": self.encoder_rounds,
                "probe": self.probe.describe()}

"""``auto``'s successive halving: it selects on validation, records every rung, and the full search stays."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import torch

from transferkit.backbones import create_backbone
from transferkit.data import Dataset
from transferkit.strategies import Auto, FineTune, Strategy, get_strategy
from transferkit.strategies.auto import best_possible, rung_shares
from transferkit.training import TrainConfig, TrainResult, TransferModel, predict

SPEC = "smallcnn?image_size=8&width=4&num_features=8"
CFG = TrainConfig(epochs=4, batch_size=16, progress=False)


def model() -> TransferModel:
    torch.manual_seed(0)
    return TransferModel(create_backbone(SPEC), 3, class_names=("top", "bottom", "left"))


class TrainsOnValidation(FineTune):
    """Planted: fits the validation examples instead of the training ones, so it is best on validation
    and poor on the training labels (the validation labels below are a different labelling)."""

    name = "trains_on_validation"

    def fit(self, model: TransferModel, train_data: Dataset, val_data: Dataset | None, config: TrainConfig,
            callbacks: Any = (), accelerator: Any = None) -> TrainResult:
        return super().fit(model, val_data, val_data, config, callbacks, accelerator)


class Fixed(Strategy):
    """A stub that trains nothing and reports a fixed validation score (counts its fits)."""

    def __init__(self, name: str, score: float) -> None:
        self.name, self.score, self.fits = name, score, 0

    def fit(self, model: TransferModel, train_data: Dataset, val_data: Dataset | None, config: TrainConfig,
            callbacks: Any = (), accelerator: Any = None) -> TrainResult:
        self.fits += 1
        return TrainResult(best_epoch=config.epochs, best_score=self.score)


def relabelled(data: Dataset) -> Dataset:
    """The same images with every label moved to the next class: what fits training does badly here."""
    return Dataset(x=data.x, y=(data.y + 1) % 3, kind=data.kind, class_names=data.class_names)


def blank(n: int) -> Dataset:
    """``n`` black images in three classes (for the stubs, which never look at them)."""
    return Dataset(x=np.zeros((n, 1, 8, 8), np.float32), y=np.arange(n) % 3, kind="image",
                   class_names=("top", "bottom", "left"))


def accuracy(m: TransferModel, data: Dataset) -> float:
    return float(np.mean(predict(m, data).argmax(1) == data.y))


def test_rung_shares_halve_the_candidates_up_to_the_whole_budget() -> None:
    assert rung_shares(1) == [1.0]
    assert rung_shares(2) == [0.5, 1.0]
    assert rung_shares(4) == [0.25, 0.5, 1.0]
    assert rung_shares(5) == [0.125, 0.25, 0.5, 1.0]
    assert best_possible("accuracy") == 1.0 and best_possible("neg_rmse") == 0.0


def test_halving_picks_the_candidate_planted_best_on_validation_and_records_every_rung(images) -> None:
    train, val = images(60, 0), relabelled(images(30, 1))
    planted = TrainsOnValidation()
    cands = [("finetune", {}, 3e-2), ("finetune", {"freeze": "backbone"}, 1e-9), (planted, {}, 3e-2)]
    auto = Auto(candidates=cands)
    m = model()
    res = auto.fit(m, train, val, TrainConfig(epochs=4, batch_size=8, progress=False))
    assert auto.chosen is planted and auto.choice is not None and auto.choice["lr"] == 3e-2
    # the pick is good on validation and no better than chance on the training labels: chosen on validation
    assert accuracy(m, val) == pytest.approx(res.best_score) and accuracy(m, train) < 0.5 < accuracy(m, val)
    # three rungs: 1, 2 then 4 epochs; three candidates, then the better two, then one
    rungs = [r for r in auto.rungs if "share" in r]
    assert [r["share"] for r in rungs] == [0.25, 0.5, 1.0]
    assert [len(r["val_scores"]) for r in rungs] == [3, 2, 1] and [len(r["kept"]) for r in rungs] == [2, 1, 1]
    assert rungs[0]["kept"][0] == rungs[1]["kept"][0] == "trains_on_validation@0.03"
    assert rungs[0]["val_scores"]["trains_on_validation@0.03"] > rungs[0]["val_scores"]["finetune@0.03"]
    assert [(t["rung"], t["epochs"]) for t in auto.trials] == [(0, 1), (0, 1), (0, 1), (1, 2), (1, 2), (2, 4)]
    # every score in the record is the best validation score of that candidate so far
    for r in rungs:
        for label, score in r["val_scores"].items():
            rows = [t for t in auto.trials if t["rung"] == r["rung"] and label.startswith(t["strategy"])
                    and label.endswith(f"@{t['lr']:g}")]
            assert any(abs(t["val_score"] - score) < 1e-12 for t in rows)
    # the survivor continued from its checkpoint: one history of 4 epochs, not 1 + 2 + 4, and the very
    # weights of the same candidate trained alone (the checkpoint holds the optimiser, batch order and RNG)
    assert len(res.history) == 4 and res.resumed_from == 2
    alone = model()
    TrainsOnValidation().fit(alone, train, val, TrainConfig(epochs=4, batch_size=8, lr=3e-2, progress=False))
    for k, v in alone.state_dict().items():
        assert torch.equal(v, m.state_dict()[k]), k
    assert res.best_score == pytest.approx(max(h["val_score"] for h in res.history))
    assert "successive halving over 3 rungs" in auto.reason


def test_the_record_survives_describe_and_restore() -> None:
    a, b = Fixed("a", 0.5), Fixed("b", 0.7)
    auto = Auto(candidates=[(a, {}, None), (b, {}, None)])
    auto.fit(model(), blank(6), blank(3), CFG)
    described = json.loads(json.dumps(auto.describe()))
    assert described["search"] == "halving" and described["choice"]["strategy"] == "b"
    assert [r["kept"] for r in described["rungs"]] == [["b"], ["b"]]
    assert described["rungs"][0]["val_scores"] == {"b": 0.7, "a": 0.5}
    fresh = Auto()
    fresh.restore({**described, "choice": {"strategy": "finetune", "options": {"freeze": 1}, "lr": 1e-3},
                   "chosen": None})
    assert isinstance(fresh.chosen, FineTune) and fresh.chosen.freeze == 1 and fresh.chosen_lr == 1e-3
    assert fresh.rungs == described["rungs"]


def test_a_finished_candidate_at_the_best_possible_score_drops_the_later_ones() -> None:
    first, later = Fixed("first", 1.0), Fixed("later", 1.0)
    data = blank(6)
    auto = Auto(candidates=[("linear_probe", {}, None), (first, {}, None), (later, {}, None)])
    cfg = TrainConfig(epochs=1, batch_size=16, progress=False)
    auto.fit(model(), data, data, cfg)
    # a stub counts as trained in full at epochs=1, so ``first`` is done at 1.0 and ``later`` never trains
    assert auto.choice is not None and auto.choice["strategy"] == "first"
    assert later.fits == 0 and any(r.get("dropped") == "later" for r in auto.rungs)
    full = Auto(candidates=[("linear_probe", {}, None), (Fixed("first", 1.0), {}, None), (Fixed("later", 1.0), {}, None)],
                search="full")
    full.fit(model(), data, data, cfg)
    assert full.choice == auto.choice


def test_the_full_search_is_still_reachable(images) -> None:
    train, val = images(60, 0), images(30, 1)
    auto = get_strategy("auto?search=full", candidates=[("finetune", {}, 3e-3), ("linear_probe", {}, None),
                                                        ("lp_ft", {}, 3e-4)])
    assert isinstance(auto, Auto) and auto.search == "full"
    auto.fit(model(), train, val, CFG)
    assert [(t["strategy"], t.get("epochs")) for t in auto.trials] == [("finetune", 4), ("linear_probe", None),
                                                                       ("lp_ft", 4)]
    assert auto.rungs == [] and "every candidate in full" in auto.reason
    with pytest.raises(ValueError, match="search must be one of"):
        get_strategy("auto?search=quick")
    with pytest.raises(ValueError, match="does not take the options"):
        get_strategy("auto?serch=full")


def test_strategy_names_carry_options() -> None:
    assert get_strategy("l2sp?alpha=0.5").alpha == 0.5
    assert get_strategy("finetune?freeze=2").freeze == 2
    assert get_strategy("finetune?freeze=backbone", freeze="none").freeze == "none"  # keywords win


def test_setfit_rungs_pass_no_more_texts_than_fine_tuning_and_the_last_has_all_its_pairs() -> None:
    from transferkit.strategies import SetFit

    class CountsPairs(SetFit):
        """A SetFit that records the pairs it was given instead of training."""

        def fit(self, model: TransferModel, train_data: Dataset, val_data: Dataset | None, config: TrainConfig,
                callbacks: Any = (), accelerator: Any = None) -> TrainResult:
            return TrainResult(best_epoch=1, best_score=0.9)

    auto = Auto(candidates=[(CountsPairs(), {}, None), (Fixed("other", 0.1), {}, None)])
    auto.fit(model(), blank(6), blank(3), CFG)
    # 6 examples: SetFit's own budget is 2 x 20 x 6 = 240 pairs; 4 epochs of fine-tuning pass 24 texts = 12 pairs
    rows = [t for t in auto.trials if t["strategy"] == "setfit"]
    assert [(t["rung"], t["pairs"], t["of_pairs"]) for t in rows] == [(0, 6, 240), (1, 240, 240)]
    assert auto.choice is not None and auto.choice["strategy"] == "setfit"


@pytest.mark.parametrize("spec", ["auto?search=bogus", "finetune?bogus=1"])
def test_a_bad_strategy_option_is_a_usage_error_not_a_crash(spec: str) -> None:
    """`fit --strategy auto?search=bogus` once ended as "a bug in transferkit"; it is the user's option."""
    from transferkit.errors import UsageError
    from transferkit.strategies import get_strategy

    with pytest.raises(UsageError, match="bogus"):
        get_strategy(spec)

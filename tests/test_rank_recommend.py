"""`rank` recommends: combined ranking by default, how sure, disagreement notes, random candidates seeded,
marked and cached, and a second identical `rank` runs no forward pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from transferkit.transferability import Candidate, rank
from transferkit.transferability.recommend import COMBINED, combined_scores, explain, positions, recommend


def blobs(n: int, d: int, c: int, sep: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % c
    means = rng.standard_normal((c, d))
    means *= sep / np.linalg.norm(means, axis=1, keepdims=True)
    return rng.standard_normal((n, d)) + means[y], y


def test_positions_and_the_combined_borda_count() -> None:
    assert positions([3.0, 1.0, 2.0], True) == [1.0, 0.0, 0.5]
    assert positions([3.0, 1.0, 2.0], False) == [0.0, 1.0, 0.5]
    assert positions([1.0, 1.0, None], True) == [0.5, 0.5, None]
    table = [{"logme": 1.0, "knn_accuracy": 0.2}, {"logme": 0.5, "knn_accuracy": 0.9}, {"logme": 0.0, "knn_accuracy": 0.1}]
    # a: 1 and 0.5 -> 0.75; b: 0.5 and 1 -> 0.75; c: 0 and 0 -> 0
    assert combined_scores(table, ["logme", "knn_accuracy"]) == [0.75, 0.75, 0.0]


def test_recommendation_margin_agreement_and_disagreement_note() -> None:
    models = ["a", "b", "c"]
    agree = [{"logme": 3.0, "sfda": 0.9, COMBINED: 1.0}, {"logme": 2.0, "sfda": 0.5, COMBINED: 0.5},
             {"logme": 1.0, "sfda": 0.1, COMBINED: 0.0}]
    rec = recommend(models, agree, ["logme", "sfda"])
    assert rec["model"] == "a" and rec["margin"] == 0.5 and rec["agreement"] == 1.0
    assert rec["confidence"] == "high" and rec["disagreement"] is None and rec["score_tau"] == pytest.approx(1.0)
    split = [{"logme": 3.0, "sfda": 0.5, COMBINED: 0.75}, {"logme": 2.0, "sfda": 0.9, COMBINED: 0.75},
             {"logme": 1.0, "sfda": 0.1, COMBINED: 0.0}]
    rec = recommend(models, split, ["logme", "sfda"], kinds=["random", "pretrained", "raw"])
    assert rec["confidence"] == "low" and rec["agreement"] == 0.5
    assert "logme prefers a" in rec["disagreement"] and "sfda prefers b" in rec["disagreement"]
    assert "random" in rec["text"]


def test_explanations_say_what_direction_and_caveat() -> None:
    for s in ("logme", "sfda", "ncti", "etran", "leep", COMBINED):
        line = explain(s)
        assert line.startswith(s) and ("higher is better" in line) and (s == COMBINED or "caveat" in line)


def test_rank_orders_by_combined_scores_and_applies_set_level_scores() -> None:
    _, y = blobs(150, 12, 3, 1.0, seed=3)
    good, mid, poor = (blobs(150, 12, 3, sep, seed=3)[0] for sep in (6.0, 2.0, 0.0))
    table = rank([Candidate("poor", poor, kind="random"), Candidate("good", good), Candidate("mid", mid)], None,
                 scores=("logme", "knn_accuracy", "ncti", "etran"), labels=y)
    assert [r.model for r in table.rows] == ["good", "mid", "poor"] and table.rank_by == COMBINED
    assert table.scores[-1] == COMBINED and table.rows[0].scores[COMBINED] == 1.0
    # NCTI and ETran are min-max scaled over the set: the best model gets the top of their range
    for s, lo, hi in (("ncti", -1.0, 2.0), ("etran", 0.0, 1.0)):
        vals = [r.scores[s] for r in table.rows]
        assert lo <= min(vals) and max(vals) <= hi and vals[0] == max(vals)
    rec = table.recommendation
    assert rec["model"] == "good" and rec["confidence"] == "high" and rec["agreement"] == 1.0
    assert table.rows[-1].kind == "random" and table.to_section()["rows"][-1]["kind"] == "random"
    assert len(table.explanations) == 5
    # one score orders the table on request; alone, a set-level score is its per-model term
    by = rank([Candidate("mid", mid), Candidate("good", good)], None, scores=("logme", "sfda"), labels=y,
              rank_by="sfda")
    assert by.rank_by == "sfda" and by.best().model == "good" and COMBINED in by.scores
    alone = rank([Candidate("good", good)], None, scores=("ncti",), labels=y)
    assert 0 < alone.best().scores["ncti"] <= 1 and alone.recommendation["confidence"].startswith("none")


@pytest.fixture
def forward_counter():
    calls = {"n": 0}

    def hook(module, args, output):  # noqa: ANN001, ANN202
        calls["n"] += 1

    handle = torch.nn.modules.module.register_module_forward_hook(hook)
    yield calls
    handle.remove()


def test_second_rank_runs_no_forward_pass_and_random_candidates_repeat(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forward_counter: dict) -> None:
    monkeypatch.setenv("TRANSFERKIT_CACHE", str(tmp_path))
    from transferkit.data import load_dataset

    data = load_dataset("usps@test")
    models = ["zoo:mnist-cnn", "smallcnn?image_size=16&width=8&num_features=32", "raw"]
    first = rank(models, data, scores=("logme", "leep", "knn_accuracy"), max_samples=120, seed=4)
    assert forward_counter["n"] > 0
    zoo = next(r for r in first.rows if r.model == "zoo:mnist-cnn")
    assert zoo.scores["leep"] is not None  # the zoo model's source head gave probabilities
    kinds = {r.model: r.kind for r in first.rows}
    assert kinds == {"zoo:mnist-cnn": "pretrained", models[1]: "random", "raw": "raw"}
    rand = next(r for r in first.rows if r.kind == "random")
    assert any("random weights (seed 4)" in n for n in rand.notes)
    forward_counter["n"] = 0
    second = rank(models, data, scores=("logme", "leep", "knn_accuracy"), max_samples=120, seed=4)
    assert forward_counter["n"] == 0  # features and source probabilities both came from the cache
    assert [(r.model, r.fingerprint, r.scores) for r in second.rows] == [
        (r.model, r.fingerprint, r.scores) for r in first.rows]
    other = rank([models[1]], data, scores=("logme",), max_samples=120, seed=5)
    assert other.rows[0].fingerprint != rand.fingerprint  # another seed, other random weights

"""Hand-built results dicts covering every report section (shared by the report tests)."""

from __future__ import annotations

from typing import Any

from transferkit.reports.run import SCHEMA

HOSTILE = "<script>alert(1)</script>"


def full_results(hostile: str = HOSTILE) -> dict[str, Any]:
    """A results dict with every known section, one unknown section, and a hostile class name."""
    classes = ["ham", hostile, "a & b", "$5 prize$"]
    seeds = [0, 1, 2, 3, 4]
    transfer = [0.91, 0.93, 0.92, 0.94, 0.90]
    scratch = [0.87, 0.89, 0.88, 0.90, 0.86]
    res: dict[str, Any] = dict(
        schema=SCHEMA,
        command="fit",
        created="2026-11-28T18:00:00+00:00",
        versions={"transferkit": "0.1.0", "python": "3.11", "torch": "2.14.1"},
        argv=["transferkit", "fit", "data/my file.csv", "--label-column", hostile, "--seeds", "5"],
        seeds=seeds,
        data={"target": {"name": "sms <spam>", "n": 5574, "classes": classes, "fingerprint": "abc123"},
              "source": {"name": "source set", "n": 100, "classes": ["x", "y"], "fingerprint": "def456"},
              "splits": {"target_splits": {"train": 40, "val": 20, "test": 5514}, "seed": 0}},
        models={"resnet18<b>": "f00d", "scratch": {"spec": "small_cnn", "fingerprint": "beef", "epochs": 3}},
        config={"labels_per_class": 10, "epochs": 15, "strategy": "finetune"},
    )
    res["sections"] = {
        "shipped": {
            "arm": "transfer", "name": f"transfer ({hostile})", "role": "transfer", "seed": 3,
            "budget": 10, "budget_label": "10 labels per class", "reason": "best mean validation accuracy",
            "headline": f"This run ships the transfer model ({hostile}) at 10 labels per class.",
            "select_metric": "accuracy", "val": {"transfer": 0.9, "scratch": 0.85}, "metric": "accuracy",
            "higher_is_better": True, "test": {"mean": 0.92, "ci_low": 0.9, "ci_high": 0.94, "per_seed": transfer},
            "test_seed": 0.94, "verdict": "positive", "by_test_verdict": False, "model": f"runs/x/model {hostile}",
        },
        "comparison": {
            "metric": "accuracy", "higher_is_better": True, "seeds": seeds,
            "transfer": {"name": "transfer (resnet18)", "per_seed": transfer, "mean": sum(transfer) / 5},
            "scratch": {"name": "scratch", "per_seed": scratch, "mean": sum(scratch) / 5},
            "source_only": {"name": "source only", "per_seed": [0.5, 0.52, 0.49, 0.51, 0.5], "mean": 0.504},
            "others": {"linear_probe": {"name": "linear probe", "per_seed": [0.8, 0.82, 0.81, 0.8, 0.79],
                                        "mean": 0.804}},
            "budget": "10 labels per class",
            "diff": {"mean": 0.04, "ci_low": 0.02, "ci_high": 0.062,
                     "per_seed": [t - s for t, s in zip(transfer, scratch, strict=False)]},
            "verdict": "positive", "advice": "Keep the pretrained backbone.",
            "metrics": {"macro_f1": {"transfer": 0.9, "scratch": 0.85, "linear_probe": 0.8}},
            "time_to_scratch_best": [{"seed": 0, "scratch_best_val": 0.88,
                                      "transfer": {"epochs": 2, "seconds": 1.5},
                                      "scratch": {"epochs": 10, "seconds": 7.0}}],
        },
        "label_efficiency": {
            "metric": "accuracy", "budgets": [10, 50, 100, 500, 1000],
            "transfer": {"mean": [0.6, 0.75, 0.82, 0.9, 0.92], "ci_low": [0.55, 0.72, 0.8, 0.89, 0.91],
                         "ci_high": [0.65, 0.78, 0.84, 0.91, 0.93]},
            "scratch": {"mean": [0.3, 0.5, 0.7, 0.88, 0.92], "ci_low": [0.25, 0.45, 0.66, 0.86, 0.91],
                        "ci_high": [0.35, 0.55, 0.74, 0.9, 0.93]},
            "verdicts": ["positive", "positive", "positive", "inconclusive", "inconclusive"],
            "crossover": 500, "budget_label": "labelled target examples",
            "diff": [{"mean": m, "ci_low": m - 0.02, "ci_high": m + 0.02}
                     for m in (0.3, 0.25, 0.12, 0.02, 0.0)],
        },
        "curves": {
            "transfer seed 0": {"epoch": [1, 2, 3], "train_loss": [0.9, 0.5, 0.3],
                                "val_score": [0.8, 0.88, 0.9]},
            hostile: {"epoch": [1, 2, 3], "train_loss": [1.2, 0.9, 0.7], "val_score": [0.6, 0.7, None]},
        },
        "ranking": {
            "target": "sms", "scores": ["logme", "leep"], "rank_by": "logme",
            "higher_is_better": {"logme": True, "leep": True},
            "rows": [{"model": "vit_small", "fingerprint": "aa", "logme": 1.2, "leep": -0.5, "rank": 2,
                      "seconds": 0.5, "notes": ""},
                     {"model": hostile, "fingerprint": "bb", "logme": 1.7, "leep": -0.4, "rank": 1,
                      "seconds": 0.7, "notes": "fastest"},
                     {"model": "mobilenet", "fingerprint": "cc", "logme": -0.3, "leep": -0.9, "rank": 3,
                      "seconds": 0.2, "notes": ""}],
            "notes": ["scores computed on 40 labelled examples"],
        },
        "similarity": {
            "measures": {"mmd": {"value": 0.12, "p_value": 0.01, "note": "kernel two-sample"},
                         "proxy_a": {"value": 1.4, "p_value": None, "note": "2(1-2 err)"}},
            "class_conditional": {
                "mmd": {"measure": "mmd", "mean": 0.2, "per_class": {"ham": 0.1, hostile: 0.3},
                        "counts": {"ham": [40, 50], hostile: [12, 30]}, "only_source": ["x"],
                        "only_target": ["a & b"], "skipped": ["$5 prize$"]},
                "coral": {"error": "needs at least 10 examples per class"},
            },
            "label_relation": {"source_classes": ["x", "y"], "target_classes": classes,
                               "matrix": [[0.7, 0.1, 0.1, 0.1], [0.2, 0.5, 0.2, 0.1]]},
        },
        "confusion_matrix": {"labels": classes, "model": "transfer (seed 0)",
                             "matrix": [[50, 2, 0, 1], [3, 40, 1, 0], [0, 0, 20, 2], [1, 0, 3, 30]]},
        "multitask": {
            "tasks": ["digits", hostile],
            "rows": [{"task": "digits", "single": 0.9, "multi_equal": 0.92, "multi_uncertainty": 0.93,
                      "diff_ci": [0.01, 0.04], "negative": False},
                     {"task": hostile, "single": 0.8, "multi_equal": 0.7, "multi_uncertainty": 0.75,
                      "diff_ci": [-0.12, -0.03], "negative": True}],
            "delta_m": {"equal": -4.1, "uncertainty": -1.2},
        },
        "adaptation": {"method": "dann", "kind": "deep",
                       "rows": [{"model": "source only", "seed": 0, "target_accuracy": 0.6,
                                 "selection_scores": {"entropy": 0.9}},
                                {"model": "dann", "seed": 0, "target_accuracy": 0.7,
                                 "selection_scores": {"entropy": 0.5}}],
                       "verdict": "positive", "advice": "DANN helped on the target.",
                       "gain_ci": [0.02, 0.15], "caveats": ["few target labels"]},
        "pretrain": {"source": {"name": "mnist", "n": 60000}, "metrics": {"val_accuracy": 0.99, "epochs": 3},
                     "card": {"name": "tk-mnist-cnn", "license": "MIT", "classes": classes,
                              "history": [{"epoch": 1, "train_loss": 0.5}]},
                     "entry": "zoo/tk-mnist-cnn",
                     "history": [{"epoch": 1, "train_loss": 0.5, "val_score": 0.9},
                                 {"epoch": 2, "train_loss": 0.3, "val_score": 0.95}]},
        "my_new_command": {"column <i>name</i>": hostile, "nested": {"k": [1, 2, 3]},
                           "rows": [{"a": 1, hostile: 2}]},
    }
    return res

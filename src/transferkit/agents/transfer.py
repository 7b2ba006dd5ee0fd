"""RL transfer across physics variants with Stable-Baselines3: source agent -> target variants vs scratch.

One call of :func:`run_agents`:

1. Train a source agent (PPO or DQN, small MLP) on the source variant.
2. For every target variant and seed: a fresh agent with the same hyperparameters, once with the
   source agent's network weights copied in (policy and value networks; the optimiser starts
   fresh) and once from random initialisation (scratch), each trained ``target_steps``
   environment steps. Both are evaluated (deterministic actions, ``eval_episodes`` episodes) at
   step 0 and every ``eval_every`` steps: the learning curves.
3. From the paired curves: jumpstart, time to threshold, area under the curve (mean return over
   training), transfer ratio and asymptotic return, with paired 95 % CIs over seeds and the verdict
   on the area (negative = the source hurt on that variant). Source training time is not counted
   (the "target-task time" scenario of Taylor & Stone 2009).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from transferkit.agents.metrics import area_under_curve, asymptotic_return, time_to_threshold, transfer_ratio
from transferkit.agents.variants import AgentsError, Variant, parse_variant

ALGOS = ("ppo", "dqn")


@dataclass(frozen=True)
class AgentsConfig:
    """Settings of an RL transfer run; defaults: 4 CartPole variants x 5 seeds x 2 arms x 12k steps."""

    env_id: str = "CartPole-v1"
    source: str = "default"
    variants: tuple[str, ...] = ("length=1.0", "gravity=19.6", "length=0.1", "force_mag=3")
    seeds: int = 5
    algo: str = "ppo"
    source_steps: int = 50_000
    target_steps: int = 12_000
    eval_every: int = 1_500
    eval_episodes: int = 3
    n_envs: int = 8
    net_arch: tuple[int, ...] = (64, 64)
    learning_rate: float = 1e-3
    threshold: float | None = None  # default: the environment's reward_threshold (475 for CartPole-v1)
    transfer: str = "all"  # all: policy + value networks; policy: the actor only (PPO)
    deterministic_eval: bool | None = None  # default: greedy for DQN, sampled actions for PPO
    torch_threads: int = 1
    n_jobs: int = 1  # target runs in parallel worker processes
    seed: int = 0  # base seed: the target runs use seeds seed..seed+seeds-1 (the source agent keeps its own)

    def __post_init__(self) -> None:
        if self.algo not in ALGOS:
            raise AgentsError(f"algo must be one of {ALGOS}, got {self.algo!r}")
        if self.transfer not in ("all", "policy"):
            raise AgentsError("transfer must be 'all' (policy + value) or 'policy' (actor only)")
        if self.transfer == "policy" and self.algo != "ppo":
            raise AgentsError("transfer='policy' needs algo='ppo' (DQN has one Q-network)")
        if self.seeds < 1 or self.n_envs < 1 or self.eval_episodes < 1 or self.n_jobs < 1:
            raise AgentsError("seeds, n_envs, eval_episodes and n_jobs must be >= 1")
        if self.eval_every < 1 or self.target_steps < self.eval_every or self.source_steps < 1:
            raise AgentsError("need source_steps >= 1 and target_steps >= eval_every >= 1")
        if not self.variants:
            raise AgentsError("give at least one target variant")
        if not 0 <= self.seed < 2**32:
            raise AgentsError(f"seed must be in 0..2**32-1, got {self.seed}")

    @property
    def seed_values(self) -> list[int]:
        """The seeds of the target runs: ``seed, seed + 1, ..., seed + seeds - 1``."""
        return list(range(self.seed, self.seed + self.seeds))


def _require_sb3() -> Any:
    try:
        import gymnasium  # noqa: F401
        import stable_baselines3
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise AgentsError("game agents need the optional extra: pip install 'transferkit[agents]' "
                          "(stable-baselines3 and gymnasium)") from exc
    return stable_baselines3


def _make_agent(cfg: AgentsConfig, variant: Variant, seed: int) -> Any:
    from stable_baselines3 import DQN, PPO
    from stable_baselines3.common.env_util import make_vec_env

    lr = cfg.learning_rate
    if cfg.algo == "ppo":
        env = make_vec_env(variant.make, n_envs=cfg.n_envs, seed=seed)
        # rl-zoo's tuned CartPole-v1 PPO settings, scaled to a short run
        return PPO("MlpPolicy", env, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20,
                   ent_coef=0.0, learning_rate=lambda p: lr * p, clip_range=0.2, seed=seed, device="cpu",
                   policy_kwargs={"net_arch": list(cfg.net_arch)}, verbose=0)
    env = make_vec_env(variant.make, n_envs=1, seed=seed)
    return DQN("MlpPolicy", env, learning_rate=lr / 4, buffer_size=50_000, learning_starts=1_000, batch_size=64,
               gamma=0.99, target_update_interval=500, train_freq=4, gradient_steps=1, exploration_fraction=0.2,
               exploration_final_eps=0.05, seed=seed, device="cpu",
               policy_kwargs={"net_arch": list(cfg.net_arch)}, verbose=0)


def evaluate(agent: Any, variant: Variant, episodes: int, seed: int, deterministic: bool = True) -> float:
    """Mean return of ``episodes`` episodes on ``variant`` (run side by side)."""
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy

    env = make_vec_env(variant.make, n_envs=episodes, seed=seed)
    try:
        mean, _ = evaluate_policy(agent, env, n_eval_episodes=episodes, deterministic=deterministic)
    finally:
        env.close()
    return float(mean)


def learn_with_curve(agent: Any, variant: Variant, steps: int, every: int, episodes: int,
                     eval_seed: int, deterministic: bool = True) -> dict[str, list[float]]:
    """Train ``agent`` for ``steps`` environment steps, evaluating at 0 and every ``every`` steps."""
    from stable_baselines3.common.callbacks import BaseCallback

    def score(model: Any) -> float:
        return evaluate(model, variant, episodes, eval_seed, deterministic)

    curve: dict[str, list[float]] = {"steps": [0.0], "returns": [score(agent)]}

    class _Curve(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.next = every

        def _on_step(self) -> bool:
            if self.num_timesteps >= self.next and self.num_timesteps < steps:
                curve["steps"].append(float(self.num_timesteps))
                curve["returns"].append(score(self.model))
                self.next += every
            return True

    agent.learn(total_timesteps=steps, callback=_Curve(), reset_num_timesteps=True)
    curve["steps"].append(float(agent.num_timesteps))
    curve["returns"].append(score(agent))
    return curve


def transfer_weights(source: Any, target: Any, parts: str = "all") -> list[str]:
    """Copy the source agent's network weights into ``target`` (same architecture); returns the keys copied.

    ``parts="all"`` copies every network (PPO: shared extractor, actor, critic; DQN: Q and target
    Q); ``"policy"`` only the actor (PPO ``mlp_extractor.policy_net`` and ``action_net``).
    """
    state = source.policy.state_dict()
    if parts == "policy":
        state = {k: v for k, v in state.items()
                 if k.startswith(("mlp_extractor.policy_net", "action_net", "features_extractor", "pi_features"))}
    missing = set(state) - set(target.policy.state_dict())
    if missing:
        raise AgentsError(f"source and target networks differ (keys {sorted(missing)[:3]}...): use the same net_arch")
    target.policy.load_state_dict(state, strict=False)
    return sorted(state)


def _greedy(cfg: AgentsConfig) -> bool:
    return cfg.algo == "dqn" if cfg.deterministic_eval is None else cfg.deterministic_eval


def target_run(cfg: AgentsConfig, variant: Variant, seed: int, source_state: dict[str, Any] | None,
               ) -> dict[str, list[float]]:
    """One target run: a fresh agent (with ``source_state`` weights copied in, or scratch when None)."""
    import torch

    torch.set_num_threads(cfg.torch_threads)
    agent = _make_agent(cfg, variant, seed)
    if source_state is not None:
        holder = _make_agent(cfg, variant, seed)
        holder.policy.load_state_dict(source_state)
        transfer_weights(holder, agent, cfg.transfer)
    return learn_with_curve(agent, variant, cfg.target_steps, cfg.eval_every, cfg.eval_episodes, 10_000 + seed,
                            _greedy(cfg))


def _run_jobs(cfg: AgentsConfig, jobs: list[tuple[Variant, int, dict[str, Any] | None]],
              ) -> list[dict[str, list[float]]]:
    if cfg.n_jobs <= 1:
        return [target_run(cfg, v, s, st) for v, s, st in jobs]
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=cfg.n_jobs, mp_context=mp.get_context("spawn")) as pool:
        futures = [pool.submit(target_run, cfg, v, s, st) for v, s, st in jobs]
        return [f.result() for f in futures]


def _threshold(cfg: AgentsConfig) -> float:
    if cfg.threshold is not None:
        return float(cfg.threshold)
    import gymnasium as gym

    t = gym.spec(cfg.env_id).reward_threshold
    if t is None:
        raise AgentsError(f"{cfg.env_id} has no reward_threshold: pass threshold=...")
    return float(t)


def _paired(a: list[float], b: list[float]) -> dict[str, Any]:
    from transferkit.evaluation import paired_difference

    d = paired_difference(a, b)
    return {"mean": d.mean, "ci_low": d.ci_low, "ci_high": d.ci_high, "verdict": d.verdict,
            "per_seed": list(d.per_seed)}


def summarize_variant(curves_t: list[dict[str, list[float]]], curves_s: list[dict[str, list[float]]],
                      threshold: float, budget: int) -> dict[str, Any]:
    """The five transfer metrics from paired transfer/scratch curves (one pair per seed)."""
    from transferkit.evaluation import VERDICT_ADVICE, mean_ci

    auc_t = [area_under_curve(c["steps"], c["returns"]) for c in curves_t]
    auc_s = [area_under_curve(c["steps"], c["returns"]) for c in curves_s]
    start_t, start_s = [c["returns"][0] for c in curves_t], [c["returns"][0] for c in curves_s]
    asym_t, asym_s = [asymptotic_return(c["returns"]) for c in curves_t], [asymptotic_return(c["returns"])
                                                                          for c in curves_s]
    ttt_t = [time_to_threshold(c["steps"], c["returns"], threshold) for c in curves_t]
    ttt_s = [time_to_threshold(c["steps"], c["returns"], threshold) for c in curves_s]
    ratios = [transfer_ratio(a, b) for a, b in zip(auc_t, auc_s, strict=True)]
    auc = _paired(auc_t, auc_s)

    def ttt(vals: list[float | None]) -> dict[str, Any]:
        hit = [v for v in vals if v is not None]
        censored = [budget if v is None else v for v in vals]
        return {"per_seed": vals, "reached": len(hit), "of": len(vals),
                "mean_reached": float(np.mean(hit)) if hit else None,
                "mean_censored": float(np.mean(censored)), "censored_is_lower_bound": len(hit) < len(vals)}

    verdict = auc["verdict"]
    return {
        "jumpstart": _paired(start_t, start_s),
        "initial_return": {"transfer": mean_ci(start_t)[0], "scratch": mean_ci(start_s)[0]},
        "auc": {"transfer": float(np.mean(auc_t)), "scratch": float(np.mean(auc_s)), "diff": auc},
        "transfer_ratio": {"mean": float(np.nanmean(ratios)) if np.isfinite(ratios).any() else None,
                           "ratio_of_means": transfer_ratio(float(np.mean(auc_t)), float(np.mean(auc_s))),
                           "per_seed": ratios},
        "asymptotic": {"transfer": float(np.mean(asym_t)), "scratch": float(np.mean(asym_s)),
                       "diff": _paired(asym_t, asym_s)},
        "time_to_threshold": {"threshold": threshold, "transfer": ttt(ttt_t), "scratch": ttt(ttt_s)},
        "verdict": verdict, "advice": VERDICT_ADVICE[verdict],
    }


def run_agents(cfg: AgentsConfig | None = None, on_step: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Train the source agent, transfer to each variant over seeds, and return the ``agents`` section."""
    _require_sb3()
    from transferkit.training.loop import torch_threads

    cfg = cfg or AgentsConfig()
    say = on_step or (lambda msg: None)
    source = parse_variant(cfg.env_id, cfg.source)
    targets = [parse_variant(cfg.env_id, v) for v in cfg.variants]
    threshold = _threshold(cfg)
    t0 = time.perf_counter()
    with torch_threads(cfg.torch_threads):
        say(f"training the source {cfg.algo.upper()} agent on {cfg.env_id} [{source.label}] "
            f"for {cfg.source_steps} steps")
        src_agent = _make_agent(cfg, source, seed=12345)
        src_curve = learn_with_curve(src_agent, source, cfg.source_steps, max(cfg.source_steps // 10, 1),
                                     cfg.eval_episodes, 999, _greedy(cfg))
        say(f"source agent: return {src_curve['returns'][-1]:.1f} on its own world "
            f"({time.perf_counter() - t0:.0f} s)")
        state = {k: v.detach().cpu() for k, v in src_agent.policy.state_dict().items()}
        jobs = [(v, seed, arm) for v in targets for seed in cfg.seed_values for arm in ("transfer", "scratch")]
        say(f"{len(jobs)} target runs of {cfg.target_steps} steps ({cfg.n_jobs} worker(s))")
        curves = _run_jobs(cfg, [(v, seed, state if arm == "transfer" else None) for v, seed, arm in jobs])
        rows = []
        for v in targets:
            mine = [(seed, arm, c) for (tv, seed, arm), c in zip(jobs, curves, strict=True) if tv is v]
            curves_t = [c for _, arm, c in mine if arm == "transfer"]
            curves_s = [c for _, arm, c in mine if arm == "scratch"]
            summary = summarize_variant(curves_t, curves_s, threshold, cfg.target_steps)
            rows.append({"variant": v.label, "params": v.params, **summary,
                         "curves": {"transfer": curves_t, "scratch": curves_s}})
            say(f"[{v.label}] jumpstart {summary['jumpstart']['mean']:+.1f}, AUC transfer "
                f"{summary['auc']['transfer']:.1f} vs scratch {summary['auc']['scratch']:.1f}, "
                f"verdict {summary['verdict']} ({time.perf_counter() - t0:.0f} s)")
    negative = [r["variant"] for r in rows if r["verdict"] == "negative"]
    worse_start = [r["variant"] for r in rows if r["jumpstart"]["verdict"] == "negative"]
    return {
        "env_id": cfg.env_id, "source": {"variant": source.label, "final_return": src_curve["returns"][-1],
                                         "curve": src_curve},
        "settings": {**asdict(cfg), "threshold": threshold, "scenario": "target-task time (source training "
                     "not counted)", "evaluation": f"{cfg.eval_episodes} episodes per point, "
                     f"{'greedy' if _greedy(cfg) else 'sampled'} actions",
                     "auc": "trapezoidal area / steps (mean evaluation return over training)",
                     "asymptotic": "mean of the last 3 evaluations"},
        "variants": rows, "negative_transfer": negative, "negative_jumpstart": worse_start,
        "seconds": time.perf_counter() - t0}


def run_agents_experiment(cfg: AgentsConfig | None = None,
                          on_step: Callable[[str], None] | None = None) -> dict[str, Any]:
    """What ``transferkit agents`` runs: :func:`run_agents`, as a results dict (section ``agents``)."""
    from transferkit._io import new_results

    cfg = cfg or AgentsConfig()
    section = run_agents(cfg, on_step=on_step)
    res = new_results("agents", seeds=cfg.seed_values)
    res["config"] = section["settings"]
    res["data"] = {"env": cfg.env_id, "source": section["source"]["variant"],
                   "targets": [r["variant"] for r in section["variants"]]}
    res["models"] = {"source_agent": {"algo": cfg.algo, "net_arch": list(cfg.net_arch),
                                      "final_return": section["source"]["final_return"]}}
    res["sections"]["agents"] = section
    return res

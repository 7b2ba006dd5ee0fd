"""Game agents recipe: a CartPole agent transferred to worlds with different physics (Stable-Baselines3).

    python examples/game_agents_cartpole.py [--small]

Needs the optional extra ``agents`` (stable-baselines3, gymnasium). A PPO agent (MLP 64-64) is
trained on the standard CartPole-v1; its policy and value networks initialise agents for a
longer pole (length 1.0), stronger gravity (19.6) and a very short pole (length 0.1), each
trained for a short budget against agents trained from scratch with the same settings and seeds.
Printed per variant: jumpstart, steps to the 475 threshold, area under the learning curve,
transfer ratio, asymptotic return and the paired verdict.

This is a reduced version of ``transferkit agents`` (3 seeds, 30k source and 8k target steps).

Expected figure (measured, default size, 222 s): jumpstart / AUC transfer vs scratch / transfer
ratio: length 1.0: +463.7 / 320.4 vs 83.1 / +2.86; gravity 19.6: +481.8 / 500.0 vs 72.6 / +5.89;
length 0.1: +163.8 / 459.3 vs 152.7 / +2.01; all positive; transfer reaches 475 at step 0 (length
1.0, gravity) or 2,000 steps (length 0.1), scratch never within 8,000 steps. The length-1.0
jumpstart depends on the source agent: the 50k-step source of ``transferkit agents`` starts
below an untrained agent there (see examples/README.md).
"""

from __future__ import annotations

import argparse
import time


def main(argv: list[str] | None = None) -> dict:
    """Run the recipe; returns the ``agents`` results section."""
    from rich.console import Console

    from transferkit.agents import AgentsConfig, run_agents
    from transferkit.reports.terminal import agents_table

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--small", action="store_true", help="a tiny run (1 variant, 2 seeds, a few thousand steps)")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    if args.small:
        cfg = AgentsConfig(variants=("length=1.0",), seeds=2, source_steps=3000, target_steps=1000,
                           eval_every=500, eval_episodes=2)
    else:
        cfg = AgentsConfig(variants=("length=1.0", "gravity=19.6", "length=0.1"), seeds=3, source_steps=30_000,
                           target_steps=8000, eval_every=1000, eval_episodes=3, n_jobs=2)
    section = run_agents(cfg, on_step=print)
    Console().print(agents_table(section))
    for r in section["variants"]:
        if r["verdict"] == "negative":
            print(f"negative transfer on {r['variant']}: {r['advice']}")
        if r["jumpstart"]["verdict"] == "negative":
            print(f"negative jumpstart on {r['variant']}: the source policy starts worse than an untrained one")
    print(f"done in {time.perf_counter() - t0:.0f} s")
    return section


if __name__ == "__main__":
    main()

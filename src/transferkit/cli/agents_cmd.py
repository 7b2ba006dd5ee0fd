"""``transferkit agents``: RL transfer across physics variants (Stable-Baselines3, optional extra)."""

from __future__ import annotations

import time

import typer
from rich.markup import escape
from rich.table import Table

from transferkit.cli._app import app, console
from transferkit.cli._common import RUNS_OPTION, friendly_errors

_STYLE = {"positive": "green", "inconclusive": "yellow", "negative": "bold red"}


def _ttt(d: dict) -> str:
    if d["reached"] == 0:
        return "not reached"
    s = f"{d['mean_reached']:.0f}"
    return s if d["reached"] == d["of"] else f"{s} ({d['reached']}/{d['of']} seeds)"


def agents_table(section: dict) -> Table:
    """Jumpstart, time to threshold, AUC, transfer ratio, asymptotic return and verdict per variant."""
    st = section["settings"]
    t = Table(title=f"{st['algo'].upper()} on {section['env_id']}: source {escape('[' + section['source']['variant'] + ']')} -> "
                    f"target variants, {st['seeds']} seeds, {st['target_steps']} target steps")
    for col in ("variant", "jumpstart [95% CI]", f"steps to {st['threshold']:g}: transfer / scratch",
                "AUC transfer / scratch", "transfer ratio", "asymptotic transfer / scratch", "verdict (AUC)"):
        t.add_column(col, justify="right")
    for r in section["variants"]:
        j, tt = r["jumpstart"], r["time_to_threshold"]
        ratio = r["transfer_ratio"]["ratio_of_means"]
        t.add_row(escape(r["variant"]), f"{j['mean']:+.1f} [{j['ci_low']:+.1f}, {j['ci_high']:+.1f}]",
                  f"{_ttt(tt['transfer'])} / {_ttt(tt['scratch'])}",
                  f"{r['auc']['transfer']:.1f} / {r['auc']['scratch']:.1f}",
                  "n/a" if ratio is None else f"{ratio:+.2f}",
                  f"{r['asymptotic']['transfer']:.1f} / {r['asymptotic']['scratch']:.1f}",
                  f"[{_STYLE[r['verdict']]}]{r['verdict']}[/]")
    return t


@app.command("agents")
@friendly_errors
def agents(
    env: str = typer.Option("CartPole-v1", "--env", help="Gymnasium id: CartPole-v1, Acrobot-v1, MountainCar-v0."),
    source: str = typer.Option("default", help="Source physics, e.g. default or length=0.5."),
    variants: str = typer.Option("length=1.0,gravity=19.6,length=0.1,force_mag=3",
                                 help="Target physics, comma-separated name=value (join several with ';')."),
    seeds: int = typer.Option(5, help="Paired seeds per variant."),
    algo: str = typer.Option("ppo", help="ppo or dqn."),
    source_steps: int = typer.Option(50_000, help="Environment steps for the source agent."),
    steps: int = typer.Option(12_000, "--steps", help="Environment steps per target run (transfer and scratch)."),
    eval_every: int = typer.Option(1_500, help="Evaluate the greedy policy every this many steps."),
    eval_episodes: int = typer.Option(3, help="Episodes per evaluation point."),
    threshold: float = typer.Option(None, help="Return for time-to-threshold (default: the env's, 475 for "
                                               "CartPole-v1)."),
    transfer: str = typer.Option("all", help="all (policy + value networks) or policy (actor only, PPO)."),
    n_jobs: int = typer.Option(1, "--n-jobs", help="Target runs in parallel worker processes."),
    runs: str = RUNS_OPTION,
    quiet: bool = typer.Option(False, "--quiet", help="Less output."),
) -> None:
    """Train a source agent, transfer its networks to changed-physics worlds, and measure jumpstart, time to
    threshold, area under the curve, transfer ratio and asymptotic return against scratch."""
    from transferkit.agents import AgentsConfig, run_agents
    from transferkit.reports.run import make_run_dir, new_results, write_results

    cfg = AgentsConfig(env_id=env, source=source, variants=tuple(v for v in variants.split(",") if v.strip()),
                       seeds=seeds, algo=algo, source_steps=source_steps, target_steps=steps,
                       eval_every=eval_every, eval_episodes=eval_episodes, threshold=threshold, transfer=transfer,
                       n_jobs=n_jobs)
    t0 = time.perf_counter()
    section = run_agents(cfg, on_step=None if quiet else (lambda m: console.print(f"[dim]·[/] {escape(m)}")))
    res = new_results("agents", seeds=list(range(seeds)))
    res["config"] = section["settings"]
    res["data"] = {"env": env, "source": section["source"]["variant"],
                   "targets": [r["variant"] for r in section["variants"]]}
    res["models"] = {"source_agent": {"algo": algo, "net_arch": list(cfg.net_arch),
                                      "final_return": section["source"]["final_return"]}}
    res["sections"]["agents"] = section
    run_dir = make_run_dir("agents", runs)
    write_results(run_dir, res)
    console.print(agents_table(section))
    for r in section["variants"]:
        if r["verdict"] == "negative":
            console.print(f"[bold red]negative transfer on {escape(r['variant'])}:[/] the source agent's weights made "
                          f"learning worse (AUC {r['auc']['diff']['mean']:+.1f}). {r['advice']}")
        if r["jumpstart"]["verdict"] == "negative":
            console.print(f"[bold red]negative jumpstart on {escape(r['variant'])}:[/] the source policy starts "
                          f"worse than an untrained one there ({r['jumpstart']['mean']:+.1f} return); "
                          f"judge it by the area under the curve (verdict: {r['verdict']}).")
    console.print(f"Results: [bold]{run_dir}/results.json[/]; {time.perf_counter() - t0:.0f} s.")

"""Label-free model selection for domain adaptation: how much of the available gain does it capture?

Per pair, source-only and seven shallow methods (CORAL, SA, IW, KMM, TCA, JDA, joint reweighting)
are fitted on 80 % of the labelled source (stratified, seeded) and all unlabelled target rows; each
is scored label-free (source validation accuracy, importance-weighted accuracy, entropy, SND,
IWCV, DEV, ensemble agreement) and :func:`transferkit.adaptation.decision.decide` picks one, or
source-only. Target labels are read only afterwards, to print:

* ``source-only``: target accuracy of the source-only model;
* ``best``: the best target accuracy among the candidates (the oracle, for this table only);
* ``chosen``: target accuracy of the decided model;
* ``gain captured`` = (chosen - source-only) / (best - source-only), on pairs with at least 1 point
  of headroom; ``regret vs source-only`` = source-only - chosen (positive = worse than not adapting).

Pairs: Office-Caltech10 SURF (12), MNIST<->USPS (the JDA protocol's 2000 + 1800 16x16 digits,
raw pixels), UCI HAR cross-subject (AdaTime's first five subject scenarios; 9 channels x 128
windows summarised by per-channel statistics), and a text pair built from the SMS Spam Collection:
short messages (< median length) vs long ones, both directions, frozen all-MiniLM-L6-v2
embeddings (class-stratified subsample of 1,000 per side).

The rule's thresholds were tuned on the 12 Office-Caltech pairs only (seeds 0-2); every other pair
(digits, HAR, text) is held out and reported separately.

    python benchmarks/da_selection.py [--groups office digits har text] [--seed 0] [--cache runs/sel_seed0.json]
    python benchmarks/da_selection.py --from-cache runs/sel_seed0.json runs/sel_seed1.json runs/sel_seed2.json

``--cache`` stores per-candidate scores and accuracies, so ``--from-cache`` re-evaluates the rule
(over several seeds: one file each) without refitting.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from transferkit.adaptation import adapt  # noqa: E402
from transferkit.adaptation.decision import DecisionRule, decide  # noqa: E402
from transferkit.data import load_dataset  # noqa: E402

OFFICE = {"A": "amazon", "C": "caltech", "D": "dslr", "W": "webcam"}
TUNE_PREFIX = "office:"  # the rule was tuned on the 12 Office-Caltech pairs; every other pair is held out
HAR_PAIRS = ((2, 11), (6, 23), (7, 13), (9, 18), (12, 16))


def har_features(x: np.ndarray) -> np.ndarray:
    """Per-channel statistics of each window (mean, std, min, max, quartiles, mean |diff|, energy)."""
    q = np.percentile(x, [25, 50, 75], axis=2)
    feats = [x.mean(2), x.std(2), x.min(2), x.max(2), q[0], q[1], q[2], np.abs(np.diff(x, axis=2)).mean(2),
             (x**2).mean(2)]
    return np.concatenate(feats, axis=1)


def office_pairs(root: str | None) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """All 12 Office-Caltech pairs."""
    data = {}
    for k, d in OFFICE.items():
        ds = load_dataset(f"office-caltech10-surf:{d}", root)
        data[k] = (np.asarray(ds.x, dtype=float), np.asarray(ds.y))
    return [(f"office:{s}->{t}", *data[s], *data[t]) for s in OFFICE for t in OFFICE if s != t]


def digits_pairs(root: str | None) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """MNIST->USPS and USPS->MNIST of the JDA protocol, raw 16x16 pixels."""
    d = {k: load_dataset(f"mnist-usps-jda:{k}", root) for k in ("mnist", "usps")}
    flat = {k: (np.asarray(v.x, dtype=float).reshape(len(v.x), -1), np.asarray(v.y)) for k, v in d.items()}
    return [("digits:M->U", *flat["mnist"], *flat["usps"]), ("digits:U->M", *flat["usps"], *flat["mnist"])]


def har_pairs(root: str | None) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """UCI HAR cross-subject pairs: features standardised with statistics of both subjects' windows (no labels)."""
    out = []
    for s, t in HAR_PAIRS:
        a, b = load_dataset(f"uci-har:{s}", root), load_dataset(f"uci-har:{t}", root)
        fa, fb = har_features(np.asarray(a.x, float)), har_features(np.asarray(b.x, float))
        both = np.vstack([fa, fb])
        mu, sd = both.mean(0), both.std(0) + 1e-8
        out.append((f"har:{s}->{t}", (fa - mu) / sd, np.asarray(a.y), (fb - mu) / sd, np.asarray(b.y)))
    return out


def text_pairs(root: str | None, per_side: int = 1000) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """SMS short vs long messages, frozen MiniLM embeddings (cached by transferkit's feature cache)."""
    from transferkit.features import extract_features

    ds = load_dataset("sms-spam", root)
    feats = extract_features("minilm", ds, progress=False)
    length = np.array([len(t) for t in ds.x])
    y = np.asarray(ds.y)
    short = np.flatnonzero(length < np.median(length))
    long_ = np.flatnonzero(length >= np.median(length))
    rng = np.random.default_rng(0)

    def sub(idx: np.ndarray) -> np.ndarray:
        if len(idx) <= per_side:
            return idx
        # class-stratified subsample keeping each domain's own class balance
        keep = [rng.choice(idx[y[idx] == c], max(1, round(per_side * np.mean(y[idx] == c))), replace=False)
                for c in np.unique(y[idx])]
        return np.sort(np.concatenate(keep))

    s, lo = sub(short), sub(long_)
    return [("text:short->long", feats[s], y[s], feats[lo], y[lo]),
            ("text:long->short", feats[lo], y[lo], feats[s], y[s])]


GROUPS = {"office": office_pairs, "digits": digits_pairs, "har": har_pairs, "text": text_pairs}


def collect(groups: list[str], root: str | None, seed: int) -> list[dict]:
    """Run ``adapt(method="auto")`` on every pair; target accuracy read after all scoring."""
    rows = []
    for g in groups:
        for name, xs, ys, xt, yt in GROUPS[g](root):
            t0 = time.perf_counter()
            res = adapt((xs, ys), xt, "auto", seeds=[seed], refit=False)
            acc = {r["model"]: r["target_accuracy"] for r in res.evaluate(xt, yt)}  # labels read here only
            scores = {r["model"]: r["selection_scores"] for r in res.rows}
            rows.append({"pair": name, "seed": seed, "scores": scores, "acc": acc,
                         "seconds": time.perf_counter() - t0})
            print(f"{name}: " + " ".join(f"{k}={v:.3f}" for k, v in acc.items())
                  + f"  ({rows[-1]['seconds']:.1f}s)", flush=True)
    return rows


def average_seeds(rows: list[dict]) -> list[dict]:
    """One row per pair: each candidate's scores and accuracy averaged over the seeds, as
    ``adapt(..., seeds=[0, 1, 2])`` averages the scores before deciding (seed recorded as -1)."""
    out = []
    for pair in dict.fromkeys(r["pair"] for r in rows):
        rs = [r for r in rows if r["pair"] == pair]
        names = list(rs[0]["acc"])
        scores = {n: {k: float(np.mean([r["scores"][n][k] for r in rs])) for k in rs[0]["scores"][n]} for n in names}
        acc = {n: float(np.mean([r["acc"][n] for r in rs])) for n in names}
        out.append({"pair": pair, "seed": -1, "scores": scores, "acc": acc})
    return out


def evaluate(rows: list[dict], rule: DecisionRule) -> list[dict]:
    """Per pair: source-only, best, chosen, gain captured, regret."""
    out = []
    for r in rows:
        d = decide(r["scores"], rule)
        so, acc = r["acc"]["source-only"], r["acc"]
        best_name = max(acc, key=acc.get)
        best, chosen = acc[best_name], acc[d.choice]
        head = best - so
        out.append({"pair": r["pair"], "seed": r["seed"], "source_only": so, "best": best, "best_name": best_name, "chosen": chosen,
                    "choice": d.choice, "votes": len(d.votes.get(d.choice, [])),
                    "gain_captured": (chosen - so) / head if head >= 0.01 else None, "regret": so - chosen})
    return out


def by_pair(res: list[dict]) -> list[dict]:
    """Per pair, the seeds' results averaged (gain captured: mean over seeds with headroom; regret: worst seed)."""
    out = []
    for pair in dict.fromkeys(r["pair"] for r in res):
        rs = [r for r in res if r["pair"] == pair]
        gcs = [r["gain_captured"] for r in rs if r["gain_captured"] is not None]
        out.append({"pair": pair, "n": len(rs), "source_only": np.mean([r["source_only"] for r in rs]),
                    "best": np.mean([r["best"] for r in rs]), "chosen": np.mean([r["chosen"] for r in rs]),
                    "best_name": "/".join(dict.fromkeys(r["best_name"] for r in rs)),
                    "choice": "/".join(dict.fromkeys(r["choice"] for r in rs)),
                    "gain_captured": float(np.mean(gcs)) if gcs else None,
                    "regret": max(r["regret"] for r in rs)})
    return out


def table(res: list[dict], title: str) -> None:
    """Print the per-pair table (seeds averaged) and the summary line over every (pair, seed)."""
    print(f"\n{title}")
    if not res:
        print("(no pairs)")
        return
    seeds = sorted({r["seed"] for r in res})
    print(f"| pair | source-only | best (oracle) | chosen | gain captured | worst regret vs source-only |"
          f"  (accuracy %, mean of seeds {seeds})")
    print("|---|---|---|---|---|---|")
    for r in by_pair(res):
        gc = "n/a (<1 pt headroom)" if r["gain_captured"] is None else f"{100 * r['gain_captured']:.0f}%"
        print(f"| {r['pair']} | {100 * r['source_only']:.1f} | {100 * r['best']:.1f} ({r['best_name']}) | "
              f"{100 * r['chosen']:.1f} ({r['choice']}) | {gc} | {100 * r['regret']:+.1f} |")
    gcs = [r["gain_captured"] for r in res if r["gain_captured"] is not None]
    heads = sum(r["best"] - r["source_only"] for r in res if r["gain_captured"] is not None)
    got = sum(r["chosen"] - r["source_only"] for r in res if r["gain_captured"] is not None)
    print(f"mean gain captured: {100 * np.mean(gcs):.1f}% over {len(gcs)} (pair, seed) runs with headroom"
          f" (pooled: {100 * got / heads if heads > 0 else float('nan'):.1f}%);"
          f" worst regret: {100 * max(r['regret'] for r in res):+.1f} points;"
          f" mean accuracy source-only {100 * np.mean([r['source_only'] for r in res]):.1f},"
          f" chosen {100 * np.mean([r['chosen'] for r in res]):.1f},"
          f" oracle {100 * np.mean([r['best'] for r in res]):.1f}")


def main() -> None:
    """Collect (or load) the candidates' scores, apply the decision rule, print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--groups", nargs="*", default=list(GROUPS), choices=list(GROUPS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", default=None, help="write the per-candidate scores and accuracies here (JSON)")
    ap.add_argument("--from-cache", nargs="*", default=None,
                    help="read them from these files (one per seed) instead of fitting")
    ap.add_argument("--average-seeds", action="store_true",
                    help="decide on each candidate's scores averaged over the seeds (what adapt(seeds=[...]) does)")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    if args.from_cache:
        rows = []
        for path in args.from_cache:
            with open(path, encoding="utf-8") as f:
                rows += json.load(f)
    else:
        rows = collect(args.groups, args.data_root, args.seed)
        if args.cache:
            with open(args.cache, "w", encoding="utf-8") as f:
                json.dump(rows, f, indent=1)
    if args.average_seeds:
        rows = average_seeds(rows)
    rule = DecisionRule()
    res = evaluate(rows, rule)
    table([r for r in res if r["pair"].startswith(TUNE_PREFIX)], "TUNE pairs (the rule's thresholds were set on these)")
    table([r for r in res if not r["pair"].startswith(TUNE_PREFIX)], "HELD-OUT pairs (never used for tuning)")
    table(res, "ALL pairs")


if __name__ == "__main__":
    main()

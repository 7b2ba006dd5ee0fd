"""Does ranking predict reality? Transferability scores vs fine-tuned accuracy, on our own zoo.

Protocol (fixed before any result was seen):

* candidates (per target modality, 7 each), built with ``transferkit.pretraining.pretrain`` into
  ``--zoo`` (default ``runs/rank_vs_finetune_zoo``; entries already there are reused):

  - images (``smallcnn``, 16x16 grey): random initialisation (width 16); the starter
    ``zoo:mnist-cnn`` (supervised, 5000 MNIST images, 4 epochs); supervised on 600 MNIST images for
    1 epoch; SimCLR-style contrastive and denoising reconstruction on 1500 MNIST images (2 epochs
    each, labels unused); a narrow net (width 4) supervised on 2000 MNIST images, 3 epochs;
    supervised on scikit-learn's 8x8 digits (another source), 3 epochs.
  - signals (``signalcnn``): random initialisation (width 16); the starter ``zoo:har-cnn``
    (supervised, 3000 windows of HAR subjects 1-20, 6 epochs); supervised on 300 windows for
    1 epoch; contrastive and denoising on 1500 windows (2 epochs); a narrow net (width 4),
    2000 windows, 3 epochs; supervised on subjects 1-3 only, 3 epochs.

* targets: USPS (pool: ``usps@train``; 10 labelled images per class for training and another
  10 per class for validation, drawn per seed; test: the 2007 images of ``usps@test``), and
  UCI HAR subjects 21-30, never seen in pre-training (pool: their ``@train`` split, 10 + 10
  windows per class; test: their ``@test`` split).
* ground truth: each candidate fine-tuned with ``transferkit.training.train``: all layers train,
  a new linear head, AdamW lr 1e-3, batch 16, up to 20 epochs, the epoch with the best
  validation accuracy kept (patience 6); test accuracy averaged over ``--seeds`` (default 2:
  seed = label draw + head initialisation + batch order). Zoo backbones keep their source
  standardisation; the random signal net standardises with the target training data.
* scores: every registered transferability score on the frozen features of the labelled
  target samples a user has (train + validation, 20 per class); LEEP and NCE need a source
  classifier, so they are computed for the supervised candidates only (their tau is over those).
* agreement: weighted Kendall tau (``transferkit.transferability.weighted_kendall_tau``,
  scipy's hyperbolic weights) between each score and the mean fine-tuned accuracy, per target.

Real pretrained candidates (``--targets "usps (real, 10/class)" "breastmnist (real, 10/class)"``):
the same protocol on USPS and BreastMNIST with ImageNet EfficientNet-Lite0/1/2 (``efficientnet-lite``,
inputs upsampled to 32 px to fit a CPU budget), ``zoo:mnist-cnn``, a random ``smallcnn`` and the raw
pixels (no backbone: fine-tuned as a linear model on the pixels; its scores use the pixels).

Besides each score, the tables show two rank aggregations (``transferkit.transferability.recommend``,
the normalised Borda count ``rank`` orders by): ``combined (rank default)`` over ``rank``'s default
scores and ``combined (all)`` over every feature score. NCTI and ETran are min-max combinations over
the candidate set, computed as ``rank`` does.

Run: ``.venv/bin/python benchmarks/rank_vs_finetune.py [--seeds 2] [--zoo DIR] [--out FILE]``. The two
targets can also run as two processes (``--targets LABEL --out FILE`` each) and be printed together
with ``--merge FILE FILE``. ``--rescore FILE ...`` recomputes every score of saved runs on the same
labelled samples, keeping their fine-tuned accuracies (no fine-tuning: for a score added since).
CPU budget (measured on the 2-core build machine): building the 12 new candidates took about
27 minutes while the machine was heavily shared (load average ~22), and fine-tuning + scoring
with 2 seeds took 489 s once the load had dropped; the candidates are built once and reused.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from transferkit.backbones import create_backbone
from transferkit.backbones.zoo import find_entry
from transferkit.data import Dataset, load_dataset
from transferkit.errors import BackboneError
from transferkit.features import extract_features
from transferkit.pretraining import pretrain
from transferkit.training import TrainConfig, TransferModel, predict, train
from transferkit.transferability import DEFAULT_SCORES, SCORES, weighted_kendall_tau
from transferkit.transferability.rank import raw_features
from transferkit.transferability.recommend import combined_scores

console = Console()


@dataclass(frozen=True)
class Cand:
    """One candidate: a shown name, a backbone spec, and (if built here) its pre-training recipe."""

    name: str
    spec: str
    recipe: dict[str, Any] | None = None


IMG = "smallcnn?image_size=16&width=16&num_features=128"
SIG = "signalcnn?width=16&num_features=64"
IMAGE_CANDIDATES = [
    Cand("random init", IMG),
    Cand("MNIST sup 5000x4 (zoo:mnist-cnn)", "zoo:mnist-cnn"),
    Cand(
        "MNIST sup 600x1",
        "zoo:b-mnist-sup-short",
        {"backbone": IMG, "source": "mnist@train", "objective": "supervised", "max_samples": 600, "epochs": 1},
    ),
    Cand(
        "MNIST simclr 1500x2",
        "zoo:b-mnist-simclr",
        {"backbone": IMG, "source": "mnist@train", "objective": "simclr", "max_samples": 1500, "epochs": 2},
    ),
    Cand(
        "MNIST denoise 1500x2",
        "zoo:b-mnist-denoise",
        {"backbone": IMG, "source": "mnist@train", "objective": "denoise", "max_samples": 1500, "epochs": 2},
    ),
    Cand(
        "MNIST sup narrow(w4) 2000x3",
        "zoo:b-mnist-narrow",
        {
            "backbone": "smallcnn?image_size=16&width=4&num_features=32",
            "source": "mnist@train",
            "objective": "supervised",
            "max_samples": 2000,
            "epochs": 3,
        },
    ),
    Cand(
        "sklearn digits sup x3",
        "zoo:b-digits-sup",
        {"backbone": IMG, "source": "digits", "objective": "supervised", "max_samples": None, "epochs": 3},
    ),
]
SIGNAL_CANDIDATES = [
    Cand("random init", SIG),
    Cand("HAR 1-20 sup 3000x6 (zoo:har-cnn)", "zoo:har-cnn"),
    Cand(
        "HAR 1-20 sup 300x1",
        "zoo:b-har-sup-short",
        {"backbone": SIG, "source": "uci-har:1-20", "objective": "supervised", "max_samples": 300, "epochs": 1},
    ),
    Cand(
        "HAR 1-20 simclr 1500x2",
        "zoo:b-har-simclr",
        {"backbone": SIG, "source": "uci-har:1-20", "objective": "simclr", "max_samples": 1500, "epochs": 2},
    ),
    Cand(
        "HAR 1-20 denoise 1500x2",
        "zoo:b-har-denoise",
        {"backbone": SIG, "source": "uci-har:1-20", "objective": "denoise", "max_samples": 1500, "epochs": 2},
    ),
    Cand(
        "HAR 1-20 sup narrow(w4) 2000x3",
        "zoo:b-har-narrow",
        {
            "backbone": "signalcnn?width=4&num_features=16",
            "source": "uci-har:1-20",
            "objective": "supervised",
            "max_samples": 2000,
            "epochs": 3,
        },
    ),
    Cand(
        "HAR 1-3 sup x3",
        "zoo:b-har-subj1-3",
        {"backbone": SIG, "source": "uci-har:1-3", "objective": "supervised", "max_samples": None, "epochs": 3},
    ),
]
RAW = "raw"
REAL_IMAGE_CANDIDATES = [
    Cand("EfficientNet-Lite0 (ImageNet)", "efficientnet-lite:lite0?image_size=32"),
    Cand("EfficientNet-Lite1 (ImageNet)", "efficientnet-lite:lite1?image_size=32"),
    Cand("EfficientNet-Lite2 (ImageNet)", "efficientnet-lite:lite2?image_size=32"),
    Cand("MNIST sup 5000x4 (zoo:mnist-cnn)", "zoo:mnist-cnn"),
    Cand("random smallcnn", IMG),
    Cand("raw pixels", RAW),
]
TARGETS = {
    "usps (10/class)": ("usps@train", "usps@test", IMAGE_CANDIDATES),
    "HAR subjects 21-30 (10/class)": ("uci-har:21-30@train", "uci-har:21-30@test", SIGNAL_CANDIDATES),
    "usps (real, 10/class)": ("usps@train", "usps@test", REAL_IMAGE_CANDIDATES),
    "breastmnist (real, 10/class)": ("breastmnist@train", "breastmnist@test", REAL_IMAGE_CANDIDATES),
}
SCORE_NAMES = (
    "logme",
    "regularized_h_score",
    "h_score",
    "nleep",
    "gbc",
    "transrate",
    "knn_accuracy",
    "linear_probe_accuracy",
    "leep",
    "nce",
    "sfda",
    "ncti",
    "etran",
    "ped",
)
FEATURE_SCORES = tuple(s for s in SCORE_NAMES if SCORES.info(s).input == "features")
COMBINED = {
    "combined (rank default)": tuple(DEFAULT_SCORES),
    "combined (default without ped)": tuple(s for s in DEFAULT_SCORES if s != "ped"),
    "combined (all)": FEATURE_SCORES,
}


def build_candidates(cands: list[Cand], zoo: Path) -> None:
    """Pre-train the candidates that are not in ``zoo`` yet (same recipe -> reused)."""
    for c in cands:
        if c.recipe is None or c.spec == RAW:
            continue
        name = c.spec.split(":", 1)[1]
        try:
            card = json.loads((find_entry(name, zoo) / "card.json").read_text())
            if card["training"].get("recipe") == c.recipe:
                continue
        except BackboneError:
            pass
        t0 = time.perf_counter()
        r = dict(c.recipe)
        res = pretrain(
            r.pop("backbone"),
            r.pop("source"),
            r.pop("objective"),
            name=name,
            zoo_dir=zoo,
            seed=0,
            lr=2e-3,
            progress=False,
            **r,
        )
        card = res.card
        card["training"]["recipe"] = c.recipe  # remember the recipe so a later run can reuse the entry
        (res.entry / "card.json").write_text(json.dumps(card, indent=2) + "\n")
        m = card["metrics"]
        console.print(f"  built {name}: {m['primary']} {m[m['primary']]:.3f} ({time.perf_counter() - t0:.0f} s)")


def draw_labels(pool: Dataset, per_class: int, seed: int) -> tuple[Dataset, Dataset]:
    """``per_class`` training and ``per_class`` validation examples per class, disjoint, seeded."""
    rng = np.random.default_rng(seed)
    tr, va = [], []
    for c in np.unique(pool.y):
        idx = rng.permutation(np.flatnonzero(pool.y == c))[: 2 * per_class]
        tr.extend(idx[:per_class])
        va.extend(idx[per_class:])
    return pool.subset(np.sort(tr), f"{pool.name}/train"), pool.subset(np.sort(va), f"{pool.name}/val")


def backbone_for(c: Cand, zoo: Path, data: Dataset, seed: int) -> Any:
    torch.manual_seed(1000 + seed)
    spec = c.spec + (f"?dir={zoo}" if c.recipe is not None else "")
    bb = create_backbone(spec, data=data)
    bb.fit_preprocessing(data.x)  # random nets standardise with target data; zoo nets keep source statistics
    return bb


def finetune(c: Cand, zoo: Path, tr: Dataset, va: Dataset, te: Dataset, seed: int) -> float:
    """Test accuracy of the candidate fine-tuned (all layers, new head) on ``tr``, epoch chosen on ``va``.

    The raw pixels have no layers to tune: their "fine-tuning" is a logistic regression on the pixels,
    its regularisation chosen on ``va``.
    """
    if c.spec == RAW:
        from sklearn.linear_model import LogisticRegression

        fits = [LogisticRegression(C=C, max_iter=2000).fit(raw_features(tr), tr.y) for C in (0.01, 0.1, 1.0, 10.0)]
        best = max(fits, key=lambda m: m.score(raw_features(va), va.y))
        return float(best.score(raw_features(te), te.y))
    bb = backbone_for(c, zoo, tr, seed)
    torch.manual_seed(2000 + seed)
    model = TransferModel(bb, len(tr.class_names), "linear", class_names=tr.class_names)
    cfg = TrainConfig(epochs=20, batch_size=16, lr=1e-3, patience=6, seed=seed, progress=False)
    train(model, tr, va, cfg)
    return float(np.mean(predict(model, te).argmax(1) == te.y))


def scores_for(c: Cand, zoo: Path, labelled: Dataset) -> dict[str, float | None]:
    """Every score of the candidate's frozen features (and source head) on the labelled target data."""
    if c.spec == RAW:
        feats, probs = raw_features(labelled), None
    else:
        bb = backbone_for(c, zoo, labelled, 0)
        feats = extract_features(bb, labelled, cache=False, progress=False).astype(np.float64)
        probs_fn = getattr(bb, "source_probs", None)
        probs = probs_fn(labelled) if callable(probs_fn) else None
    out: dict[str, Any] = {"_terms": {}}
    for s in SCORE_NAMES:
        info = SCORES.info(s)
        try:
            if info.input == "features" and info.terms is not None:  # combined over the candidates later
                out["_terms"][s] = info.terms(feats, labelled.y)
                out[s] = None
            elif info.input == "features":
                out[s] = float(SCORES.get(s)(feats, labelled.y))
            elif probs is None:
                out[s] = None
            else:
                arg = probs if info.input == "probs" else probs.argmax(1)
                out[s] = float(SCORES.get(s)(arg, labelled.y))
        except Exception as exc:  # a score that cannot run here is reported, not hidden
            console.print(f"  [yellow]{s} failed for {c.name}: {exc}[/]")
            out[s] = None
    return out


def labelled_set(pool: Dataset) -> Dataset:
    """The labelled target samples the scores see: seed 0's training and validation draws."""
    tr0, va0 = draw_labels(pool, 10, 0)
    return Dataset(
        x=np.concatenate([tr0.x, va0.x]),
        y=np.concatenate([tr0.y, va0.y]),
        kind=pool.kind,
        class_names=pool.class_names,
        name=f"{pool.name}/labelled",
    )


def score_target(label: str, rows: list[dict[str, Any]], cands: list[Cand], zoo: Path, labelled: Dataset) -> dict:
    """Fill every row's ``scores`` (rows carry ``model`` and ``accuracy``) and return each score's tau."""
    by_name = {c.name: c for c in cands}
    for r in rows:
        r["scores"] = scores_for(by_name[r["model"]], zoo, labelled)
    for s in SCORE_NAMES:  # set-level scores (NCTI, ETran): min-max over the candidates, as `rank` does
        combine = SCORES.info(s).combine
        have = [r for r in rows if s in r["scores"]["_terms"]]
        if combine is not None and have:
            for r, v in zip(have, combine([r["scores"]["_terms"][s] for r in have]), strict=True):
                r["scores"][s] = float(v)
    for r in rows:
        r["scores"].pop("_terms")
    for name, members in COMBINED.items():
        for r, v in zip(rows, combined_scores([r["scores"] for r in rows], members), strict=True):
            r["scores"][name] = v
    taus: dict[str, dict[str, Any]] = {}
    acc = np.array([r["accuracy"] for r in rows])
    for s in (*SCORE_NAMES, *COMBINED):
        have = [i for i, r in enumerate(rows) if r["scores"][s] is not None]
        if len(have) < 3:
            taus[s] = {"tau_w": None, "n": len(have)}
            continue
        vals = np.array([rows[i]["scores"][s] for i in have])
        taus[s] = {"tau_w": weighted_kendall_tau(vals, acc[have]), "n": len(have)}
    return taus


def run_target(
    label: str, pool_spec: str, test_spec: str, cands: list[Cand], zoo: Path, seeds: int, data_root: str | None
) -> dict[str, Any]:
    pool, test = load_dataset(pool_spec, data_root), load_dataset(test_spec, data_root)
    rows = []
    for c in cands:
        t0 = time.perf_counter()
        accs = []
        for s in range(seeds):
            tr, va = draw_labels(pool, 10, s)
            accs.append(finetune(c, zoo, tr, va, test, s))
        rows.append({"model": c.name, "spec": c.spec, "accuracy": float(np.mean(accs)), "per_seed": accs,
                     "seconds": time.perf_counter() - t0})
        console.print(
            f"  {label} | {c.name}: fine-tuned test accuracy {np.mean(accs):.3f} "
            f"({', '.join(f'{a:.3f}' for a in accs)}) [{time.perf_counter() - t0:.0f} s]"
        )
    taus = score_target(label, rows, cands, zoo, labelled_set(pool))
    return {"target": label, "pool": pool_spec, "test": test_spec, "n_test": len(test), "rows": rows, "tau": taus}


def rescore(saved: dict[str, Any], zoo: Path, data_root: str | None) -> dict[str, Any]:
    """Recompute every score of a saved target on the same labelled samples, keeping its fine-tuned accuracies."""
    _, _, cands = TARGETS[saved["target"]]
    rows = [{k: r[k] for k in ("model", "spec", "accuracy", "per_seed", "seconds")} for r in saved["rows"]]
    taus = score_target(saved["target"], rows, cands, zoo, labelled_set(load_dataset(saved["pool"], data_root)))
    return {**saved, "rows": rows, "tau": taus}


def print_tables(results: list[dict[str, Any]]) -> None:
    for res in results:
        t = Table(title=f"{res['target']}: fine-tuned accuracy and scores (labelled target samples)")
        t.add_column("candidate")
        t.add_column("fine-tuned acc", justify="right")
        shown = [s for s in (*SCORE_NAMES, *COMBINED) if s in res["tau"]]
        for s in shown:
            t.add_column(s, justify="right")
        for r in sorted(res["rows"], key=lambda r: -r["accuracy"]):
            t.add_row(
                r["model"],
                f"{r['accuracy']:.3f}",
                *[("-" if r["scores"].get(s) is None else f"{r['scores'][s]:.3g}") for s in shown],
            )
        console.print(t)
    t = Table(title="Weighted Kendall tau between score and fine-tuned accuracy (n = candidates scored)")
    t.add_column("score")
    for res in results:
        t.add_column(res["target"], justify="right")
    t.add_column("mean", justify="right")
    best_single = None
    for s in (*SCORE_NAMES, *COMBINED):
        if not all(s in res["tau"] for res in results):
            continue
        vals = [res["tau"][s]["tau_w"] for res in results]
        cells = [
            ("n/a" if res["tau"][s]["tau_w"] is None else f"{res['tau'][s]['tau_w']:+.3f} (n={res['tau'][s]['n']})")
            for res in results
        ]
        ok = [v for v in vals if v is not None]
        t.add_row(s, *cells, f"{np.mean(ok):+.3f}" if len(ok) == len(vals) else "n/a")
        if s in SCORE_NAMES and len(ok) == len(vals) and (best_single is None or np.mean(ok) > best_single[1]):
            best_single = (s, float(np.mean(ok)))
    console.print(t)
    if best_single is not None:
        console.print(f"best single score by mean tau: {best_single[0]} ({best_single[1]:+.3f})")


def main() -> None:
    p = argparse.ArgumentParser(description="Transferability scores vs fine-tuned accuracy on our own zoo.")
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--zoo", type=Path, default=Path("runs/rank_vs_finetune_zoo"))
    p.add_argument("--out", type=Path, default=Path("runs/rank_vs_finetune.json"))
    p.add_argument("--data-root", default=None)
    p.add_argument("--targets", nargs="*", default=list(TARGETS), help="subset of the targets (by label)")
    p.add_argument("--merge", type=Path, nargs="*", default=None,
                   help="only print the tables of earlier runs' JSON files (e.g. one per target, run in parallel)")
    p.add_argument("--rescore", type=Path, nargs="*", default=None,
                   help="recompute the scores of earlier runs' JSON files on the same labelled samples, keeping "
                   "their fine-tuned accuracies (no fine-tuning; for a score added since)")
    args = p.parse_args()
    if args.rescore:
        t0 = time.perf_counter()
        results = [rescore(t, args.zoo, args.data_root) for f in args.rescore for t in json.loads(f.read_text())["targets"]]
        print_tables(results)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"rescored": [str(f) for f in args.rescore], "targets": results}, indent=2))
        console.print(f"{time.perf_counter() - t0:.0f} s; results in {args.out}")
        return
    if args.merge:
        print_tables([t for f in args.merge for t in json.loads(f.read_text())["targets"]])
        return
    t0 = time.perf_counter()
    results = []
    for label in args.targets:
        pool_spec, test_spec, cands = TARGETS[label]
        console.rule(f"[bold]{label}[/]: building candidates")
        build_candidates(cands, args.zoo)
        console.rule(f"[bold]{label}[/]: fine-tuning and scoring")
        results.append(run_target(label, pool_spec, test_spec, cands, args.zoo, args.seeds, args.data_root))
    print_tables(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"seeds": args.seeds, "targets": results, "seconds": time.perf_counter() - t0}, indent=2)
    )
    console.print(f"{time.perf_counter() - t0:.0f} s; results in {args.out}")


if __name__ == "__main__":
    main()

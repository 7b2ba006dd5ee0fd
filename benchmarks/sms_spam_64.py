"""SMS spam with 64 labelled messages: MiniLM transfer vs scratch vs TF-IDF, and the label-efficiency curve.

    python benchmarks/sms_spam_64.py                                  # 64 labels, 5 seeds
    python benchmarks/sms_spam_64.py --budgets 64total,256total,all --seeds 3 --out runs/sms-curve

Per seed: the SMS Spam Collection is split 65/15/20 (stratified, seeded; TransferTask); the test
fifth (1,115 messages, 149 spam) is only used to score final models. The labelled set is drawn
from the training part: ``64total`` is 64 messages in all, stratified (55 ham, 9 spam). Nothing
else is labelled: no validation labels; heads pick their regularisation by 3-fold
cross-validation inside the labelled set. The rest of the training part is available *without its
labels* to the self-training arms. Arms (all on the same messages per seed):

* ``setfit+st2`` SetFit on all-MiniLM-L6-v2 (contrastive pairs, then a logistic head), with the
  encoder self-trained too: a probe labels the unlabelled training messages, those it is >= 0.9
  sure of join the 64, and the contrastive stage runs once more on pairs drawn from them all; then
  the head is self-trained as in ``setfit+st``;
* ``setfit+st``  SetFit whose head only is self-trained on the unlabelled training messages
  (2 rounds, pseudo-labels with probability >= 0.9);
* ``setfit``     the same tuned encoder and head without self-training;
* ``probe``      frozen MiniLM embeddings + logistic head (``probe+st``: self-trained as above);
* ``tfidf``      word 1-2 gram TF-IDF + logistic regression (``tfidf+st``: self-trained as above);
* ``scratch``    the MiniLM architecture from random weights, trained on the same labels.

Score: F1 of the spam class on the test part. The paired differences (95 % t-interval over seeds)
of the recommended arm (``setfit+st2``) against scratch and against TF-IDF give the verdicts; over
several budgets they give the curve and the crossover. ``setfit+st2`` was added after a first run
on seeds 0-4 in which ``setfit+st`` reached 0.899: its figure is confirmed on seeds 5-9
(``--first-seed 5``), whose test splits that choice never saw.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

MAIN = "setfit+st2"
ARMS = ("setfit+st2", "setfit+st", "setfit", "probe+st", "probe", "tfidf+st", "tfidf", "scratch")


def tfidf_arm(train_x: list[str], train_y: np.ndarray, test_x: list[str], unlabeled: list[str] | None,
              seed: int, rounds: int = 2, confidence: float = 0.9) -> np.ndarray:
    """TF-IDF (fitted on the labelled messages) + logistic regression, C by 3-fold CV; optional self-training."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    xtr = vec.fit_transform(train_x)
    folds = int(min(3, np.bincount(train_y).min()))
    lr = LogisticRegression(max_iter=5000, class_weight="balanced")
    if folds >= 2:
        grid = GridSearchCV(lr, {"C": [0.1, 1.0, 10.0, 100.0]}, scoring="f1_macro",
                            cv=StratifiedKFold(folds, shuffle=True, random_state=seed)).fit(xtr, train_y)
        c = grid.best_params_["C"]
    else:
        c = 10.0
    est = LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit(xtr, train_y)
    if unlabeled:
        import scipy.sparse as sp

        xun = vec.transform(unlabeled)
        for _ in range(rounds):
            proba = est.predict_proba(xun)
            keep = proba.max(1) >= confidence
            est = LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit(
                sp.vstack([xtr, xun[keep]]), np.concatenate([train_y, est.classes_[proba.argmax(1)][keep]]))
    return est.predict(vec.transform(test_x))


def run_seed(sms: Any, budget: str, seed: int, args: argparse.Namespace) -> dict[str, float]:
    """All arms on one seed's split; returns spam F1 per arm."""
    from sklearn.metrics import f1_score

    from transferkit.backbones import create_backbone
    from transferkit.data import Dataset, TransferTask
    from transferkit.strategies import LinearProbe, SetFit, get_strategy
    from transferkit.training import TrainConfig, TransferModel

    task = TransferTask(target=sms, seed=seed)
    train_part, test = task.target_splits.train, task.target_splits.test
    lab = task.target_train(budget, seed=seed)
    lab_keys = set(lab.x.tolist())
    rest = np.array([i for i, m in enumerate(train_part.x) if m not in lab_keys])
    # the unlabelled pool: the other training messages, with their labels removed
    pool = Dataset(x=train_part.x[rest], y=None, kind="text", name="sms-spam/train (unlabelled)") if len(rest) else None
    spam = list(sms.class_names).index("spam")
    f1 = {}

    def score(name: str, pred: np.ndarray) -> None:
        f1[name] = float(f1_score(test.y, pred, pos_label=spam))
        print(f"    {name:<10} spam F1 {f1[name]:.3f}", flush=True)

    print(f"  seed {seed}: {len(lab)} labelled ({np.bincount(lab.y).tolist()} ham/spam), "
          f"{0 if pool is None else len(pool)} unlabelled, {len(test)} test", flush=True)
    cfg = TrainConfig(seed=seed, progress=args.progress, select_metric="macro_f1", class_weight="balanced",
                      patience=None)
    spec = f"minilm?max_length={args.max_length}"
    k = len(sms.class_names)

    def st_probe() -> LinearProbe:
        return LinearProbe(unlabeled=pool, self_training_rounds=2 if pool is not None else 0)

    # frozen MiniLM: probe, then probe + self-training on the same embeddings
    torch.manual_seed(seed)
    frozen = TransferModel(create_backbone(spec), k, class_names=sms.class_names)
    probe = LinearProbe()
    probe.fit(frozen, lab, None, cfg)
    score("probe", probe.predict(frozen, test).argmax(1))
    if pool is not None:
        p2 = st_probe()
        p2.fit(frozen, lab, None, cfg)
        score("probe+st", p2.predict(frozen, test).argmax(1))
    # SetFit: contrastive stage once, then heads with and without self-training on the tuned encoder
    torch.manual_seed(seed)
    tuned = TransferModel(create_backbone(spec), k, class_names=sms.class_names)
    sf = SetFit(max_pairs=args.max_pairs)
    t0 = time.perf_counter()
    sf.fit(tuned, lab, None, cfg)
    score("setfit", sf.predict(tuned, test).argmax(1))
    if pool is not None:
        p3 = st_probe()
        st = p3.fit(tuned, lab, None, cfg).config["self_training"]
        score("setfit+st", p3.predict(tuned, test).argmax(1))
        print(f"      ({time.perf_counter() - t0:.0f} s for SetFit; pseudo-labels per round: "
              f"{[r['per_class'] for r in st['rounds']]} ham/spam of {st['unlabeled']})", flush=True)
        # encoder self-training continues from the same tuned encoder (stage 1 is shared)
        sf.unlabeled = pool
        enc = sf.self_train_encoder(tuned, lab, None, cfg, rounds=1).config["encoder_self_training"]
        p4 = st_probe()
        p4.fit(tuned, lab, None, cfg)
        score("setfit+st2", p4.predict(tuned, test).argmax(1))
        print(f"      (encoder round on {[r['per_class'] for r in enc['rounds']]} pseudo-labelled ham/spam; "
              f"{time.perf_counter() - t0:.0f} s for all SetFit arms)", flush=True)
    else:
        f1["setfit+st"] = f1["setfit+st2"] = f1["setfit"]  # every message is labelled: nothing to self-train on
    # classical baseline
    score("tfidf", tfidf_arm(list(lab.x), lab.y, list(test.x), None, seed))
    if pool is not None:
        score("tfidf+st", tfidf_arm(list(lab.x), lab.y, list(test.x), list(pool.x), seed))
    else:
        f1["tfidf+st"] = f1["tfidf"]
    if pool is None:
        f1["probe+st"] = f1["probe"]
    # scratch: same architecture, random weights, same labels; fixed epochs (no validation labels)
    torch.manual_seed(seed)
    scratch_model = TransferModel(create_backbone(spec), k, class_names=sms.class_names)
    epochs = args.scratch_epochs if budget != "all" else args.scratch_epochs_all
    sc = get_strategy("scratch")
    sc.fit(scratch_model, lab, None, replace(cfg, epochs=epochs, lr=sc.default_lr(scratch_model), batch_size=32))
    score("scratch", sc.predict(scratch_model, test).argmax(1))
    return f1


def summarize(budget: str, per_seed: list[dict[str, float]]) -> dict[str, Any]:
    """Means, CIs and paired verdicts of the recommended arm against scratch and TF-IDF."""
    from transferkit.evaluation import mean_ci
    from transferkit.evaluation.stats import paired_difference, verdict

    out: dict[str, Any] = {"budget": budget, "seeds": len(per_seed), "per_seed": per_seed, "arms": {}, "vs": {}}
    for arm in ARMS:
        m, lo, hi = mean_ci([s[arm] for s in per_seed])
        out["arms"][arm] = {"mean": m, "ci_low": lo, "ci_high": hi}
    for other in ("scratch", "tfidf", "setfit", "probe"):
        d = paired_difference([s[MAIN] for s in per_seed], [s[other] for s in per_seed])
        out["vs"][other] = {"mean": d.mean, "ci_low": d.ci_low, "ci_high": d.ci_high,
                            "verdict": verdict(d.ci_low, d.ci_high)}
    return out


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Run every budget and print the table; writes JSON when ``--out`` is given."""
    from transferkit.data import load_dataset, parse_budget

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budgets", default="64total", help="comma-separated: 64total (stratified total), 10 (per class), all")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--first-seed", type=int, default=5, help="seeds run first-seed, first-seed+1, ... (0-4 were "
                   "used to develop the recommended arm)")
    p.add_argument("--max-length", type=int, default=64, help="MiniLM tokens per message (spam fits in 64)")
    p.add_argument("--max-pairs", type=int, default=2560, help="SetFit pairs (20 per labelled message, at most this)")
    p.add_argument("--scratch-epochs", type=int, default=20)
    p.add_argument("--scratch-epochs-all", type=int, default=4, help="scratch epochs when every label is used")
    p.add_argument("--out", type=Path, default=None, help="folder for results JSON (one file per budget)")
    p.add_argument("--progress", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    sms = load_dataset("sms-spam")
    from transferkit.backbones import create_backbone
    from transferkit.strategies import warm_features

    warm_features(create_backbone(f"minilm?max_length={args.max_length}"), sms)  # frozen embeddings, once (disk-cached)
    results = []
    for b in [parse_budget(x) for x in args.budgets.split(",") if x.strip()]:
        print(f"budget {b}:", flush=True)
        t0 = time.perf_counter()
        per_seed = [run_seed(sms, b, s, args) for s in range(args.first_seed, args.first_seed + args.seeds)]
        res = summarize(str(b), per_seed)
        res["seconds"] = time.perf_counter() - t0
        results.append(res)
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"sms_spam_{b}.json").write_text(json.dumps(res, indent=2))
    print(f"\nSMS spam: spam-class F1 on the test part (mean [95% CI] over seeds); recommended arm: {MAIN}")
    print(f"{'budget':<10}" + "".join(f"{a:>22}" for a in ARMS))
    for r in results:
        print(f"{r['budget']:<10}" + "".join(
            f"{r['arms'][a]['mean']:>8.3f} [{r['arms'][a]['ci_low']:.3f},{r['arms'][a]['ci_high']:.3f}]" for a in ARMS))
    print(f"\n{MAIN} minus each baseline (paired, 95% CI) and the verdict:")
    for r in results:
        print(f"{r['budget']:<10}" + "  ".join(f"vs {o}: {v['mean']:+.3f} [{v['ci_low']:+.3f}, {v['ci_high']:+.3f}] "
                                               f"{v['verdict']}" for o, v in r["vs"].items()))
    for other in ("scratch", "tfidf"):
        stop = next((r["budget"] for r in results if r["vs"][other]["verdict"] != "positive"), None)
        print(f"crossover vs {other}: " + (f"{MAIN} stops beating it clearly at {stop}" if stop else
                                          f"{MAIN} beats it clearly at every budget run"))
    return results


if __name__ == "__main__":
    main()

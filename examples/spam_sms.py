"""Spam detection recipe: SMS messages, pretrained MiniLM sentence features + logistic regression vs TF-IDF.

    python examples/spam_sms.py [--small]

The SMS Spam Collection (5,574 messages, 13 % spam) is split 50/50 (stratified, per seed). With
k labelled messages per class, and with the whole training half, two pipelines are trained:

* MiniLM: frozen all-MiniLM-L6-v2 sentence embeddings (transferred from pre-training on about a
  billion sentence pairs) + logistic regression;
* TF-IDF: word and bigram TF-IDF fitted on the same labelled messages + logistic regression.

Score: F1 of the spam class on the test half (mean over seeds).

Expected figure (measured, default size, 3 seeds, 104 s with cached MiniLM features): spam F1
MiniLM 0.431 vs TF-IDF 0.389 at 8 labels per class, 0.678 vs 0.610 at 32 per class, and with
the whole training half 0.916 vs 0.943: the pretrained features help when labels are few, and
TF-IDF catches up (and passes) once there are ~2,800 labelled messages.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main(argv: list[str] | None = None) -> dict:
    """Run the recipe; returns {budget: {pipeline: mean spam F1}}."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    from transferkit.data import label_budget, load_dataset, train_val_test_split
    from transferkit.features import extract_features

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--small", action="store_true", help="a reduced run (800 messages)")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    sms = load_dataset("sms-spam")
    if args.small:
        sms = sms.subset(np.sort(np.random.default_rng(0).permutation(len(sms))[:800]), "sms-spam[800]")
    budgets: tuple = (8, "all") if args.small else (8, 32, "all")
    seeds = 2 if args.small else 3
    emb = extract_features("minilm", sms, progress=False)  # cached on disk after the first run
    index = {m: i for i, m in enumerate(sms.x)}
    spam = list(sms.class_names).index("spam")
    out: dict = {}
    print(f"SMS spam ({len(sms)} messages): spam-class F1 on the held-out half, mean of {seeds} seeds")
    print(f"{'labels':>10} {'MiniLM+LR':>10} {'TF-IDF+LR':>10}")
    for b in budgets:
        res: dict[str, list[float]] = {"minilm": [], "tfidf": []}
        for seed in range(seeds):
            parts = train_val_test_split(sms, val_size=0.0, test_size=0.5, seed=seed)
            tr, te = label_budget(parts.train, b, seed=seed), parts.test
            itr, ite = [index[m] for m in tr.x], [index[m] for m in te.x]
            lr = LogisticRegression(max_iter=2000, class_weight="balanced")
            pred = lr.fit(emb[itr], tr.y).predict(emb[ite])
            res["minilm"].append(f1_score(te.y, pred, pos_label=spam))
            vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
            xtr = vec.fit_transform(list(tr.x))
            lr2 = LogisticRegression(max_iter=2000, class_weight="balanced", C=10.0)
            pred2 = lr2.fit(xtr, tr.y).predict(vec.transform(list(te.x)))
            res["tfidf"].append(f1_score(te.y, pred2, pos_label=spam))
        out[str(b)] = {k: float(np.mean(v)) for k, v in res.items()}
        label = f"{b}/class" if b != "all" else "all train"
        print(f"{label:>10} {out[str(b)]['minilm']:>10.3f} {out[str(b)]['tfidf']:>10.3f}")
    print(f"done in {time.perf_counter() - t0:.0f} s")
    return out


if __name__ == "__main__":
    main()

"""Text grouping recipe: cluster SMS messages with a pretrained encoder vs TF-IDF, scored against known labels.

    python examples/text_grouping_sms.py [--small]

No labels are used to group: k-means (k = 2) runs on (a) L2-normalised all-MiniLM-L6-v2 sentence
embeddings, (b) TF-IDF vectors, (c) TF-IDF reduced to 100 dimensions by truncated SVD (LSA). The
groups are then compared with the known ham/spam labels by the adjusted Rand index (ARI) and
normalised mutual information (NMI); mean over k-means seeds.

Expected figure (measured, default size, 5 k-means seeds, 223 s): MiniLM ARI 0.436 / NMI 0.356,
TF-IDF ARI 0.112 / NMI 0.117, TF-IDF + LSA ARI 0.406 / NMI 0.348: the pretrained encoder's groups
follow ham/spam best; raw TF-IDF barely does, and an SVD on TF-IDF recovers most of the gap.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main(argv: list[str] | None = None) -> dict:
    """Run the recipe; returns {representation: {"ari": ..., "nmi": ...}}."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
    from sklearn.preprocessing import normalize

    from transferkit.data import load_dataset
    from transferkit.features import extract_features

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--small", action="store_true", help="a reduced run (800 messages)")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    sms = load_dataset("sms-spam")
    if args.small:
        sms = sms.subset(np.sort(np.random.default_rng(0).permutation(len(sms))[:800]), "sms-spam[800]")
    seeds = 2 if args.small else 5
    k = len(sms.class_names)
    emb = normalize(extract_features("minilm", sms, progress=False))
    tfidf = TfidfVectorizer(sublinear_tf=True, min_df=2, stop_words="english").fit_transform(list(sms.x))
    lsa = normalize(TruncatedSVD(100, random_state=0).fit_transform(tfidf))
    reps = {"MiniLM embeddings": emb, "TF-IDF": tfidf, "TF-IDF + LSA(100)": lsa}
    out: dict = {}
    print(f"Grouping {len(sms)} SMS messages into {k} clusters (k-means, {seeds} seeds), vs the ham/spam labels")
    print(f"{'representation':>20} {'ARI':>7} {'NMI':>7}")
    for name, x in reps.items():
        ari, nmi = [], []
        for seed in range(seeds):
            lab = KMeans(k, n_init=5, random_state=seed).fit_predict(x)
            ari.append(adjusted_rand_score(sms.y, lab))
            nmi.append(normalized_mutual_info_score(sms.y, lab))
        out[name] = {"ari": float(np.mean(ari)), "nmi": float(np.mean(nmi))}
        print(f"{name:>20} {out[name]['ari']:>7.3f} {out[name]['nmi']:>7.3f}")
    print(f"done in {time.perf_counter() - t0:.0f} s")
    return out


if __name__ == "__main__":
    main()

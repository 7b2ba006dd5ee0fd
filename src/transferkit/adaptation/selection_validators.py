"""Risk-estimating validators: importance-weighted cross-validation (IWCV) and deep embedded validation (DEV).

Both estimate the *target* risk of a model from labelled held-out *source* rows, each row's loss
weighted by the density ratio ``w(x) = p_t(x) / p_s(x)``:

* **IWCV** (Sugiyama, Krauledat, Mueller, JMLR 2007): ``mean(w * loss)`` with ``w`` estimated in
  the input space (shared by every candidate).
* **DEV** (You, Wang, Long, Jordan, ICML 2019): the ratio is estimated in each candidate's own
  adapted feature space, and a control variate cuts the variance: with ``L = w * loss``,
  ``R = mean(L) + eta * mean(w) - eta`` and ``eta = -Cov(L, w) / Var(w)`` (``E[w] = 1``; the
  weights are the raw, unnormalised ratios).

Both are lower-is-better risks and register in :data:`~transferkit.adaptation.selection.SELECTION_SCORES`.
The density ratio comes from a cross-fitted, calibrated domain classifier
(:func:`feature_space_weights`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from transferkit.adaptation.selection import SELECTION_SCORES, SelectionScoreInfo, check_probabilities
from transferkit.adaptation.shallow._base import check_features
from transferkit.adaptation.shallow.importance_weighting import clip_weights
from transferkit.errors import DataError


def feature_space_weights(zs: Any, zt: Any, *, max_weight: float = 10.0, max_dim: int = 64, n_folds: int = 3,
                          random_state: int = 0, normalize: bool = True) -> np.ndarray:
    """Density ratio ``p_t(z) / p_s(z)`` at each source row ``zs``, from a calibrated domain classifier.

    Features are standardised and, above ``max_dim`` columns, reduced by PCA (fitted on both
    domains, no labels) so the classifier does not separate the domains by memorising noise.
    The classifier is a logistic regression; its scores are cross-fitted (no row is scored by a
    model that saw it) and calibrated by Platt scaling. The ratio is
    ``P(t|z)/P(s|z) * n_s/n_t``, clipped at ``max_weight`` and rescaled to mean 1; with
    ``normalize=False`` only clipped (DEV's control variate needs the raw ratios, whose mean is 1
    only in expectation).
    """
    ratio, _ = domain_probe(zs, zt, max_weight=np.inf, max_dim=max_dim, n_folds=n_folds, random_state=random_state)
    return clip_weights(ratio, max_weight) if normalize else np.minimum(ratio, max_weight)


def domain_probe(zs: Any, zt: Any, *, max_weight: float = 10.0, max_dim: int = 64, n_folds: int = 3,
                 random_state: int = 0) -> tuple[np.ndarray, float]:
    """Raw density ratios at the source rows and the proxy A-distance between the two sides, from one
    cross-fitted, calibrated domain classifier in these features.

    The proxy A-distance (Ben-David et al. 2007) is ``2 (1 - 2 err)`` with ``err`` the classifier's
    balanced cross-fitted error, clipped to ``[0, 2]``: 0 when the domains cannot be told apart,
    2 when they separate perfectly. The ratios are clipped at ``max_weight``, not rescaled.
    """
    zs = check_features(zs, "source features")
    zt = check_features(zt, "target features")
    if zs.shape[1] != zt.shape[1]:
        raise DataError(f"source features have {zs.shape[1]} columns, target features {zt.shape[1]}")
    p = cross_fitted_domain_probability(_domain_classifier(zs, zt, max_dim, random_state), zs, zt, n_folds,
                                        random_state)
    ps, pt = p[: len(zs)], p[len(zs):]
    err = 0.5 * (np.mean(ps >= 0.5) + np.mean(pt < 0.5))
    ratio = ps / (1 - ps) * (len(zs) / len(zt))
    return np.minimum(ratio, max_weight), float(np.clip(2 * (1 - 2 * err), 0.0, 2.0))


def _domain_classifier(zs: np.ndarray, zt: np.ndarray, max_dim: int, random_state: int) -> Any:
    steps: list[Any] = [StandardScaler()]
    # PCA is fitted inside the cross-fitting folds: at most ~60 % of the rows each
    k = min(max_dim, int(0.6 * (len(zs) + len(zt))) - 1)
    if zs.shape[1] > k >= 1:
        steps.append(PCA(k, random_state=random_state))
    return make_pipeline(*steps, LogisticRegression(C=0.1, max_iter=1000))


def cross_fitted_domain_probability(clf: Any, zs: np.ndarray, zt: np.ndarray, n_folds: int,
                                    random_state: int) -> np.ndarray:
    """Calibrated ``P(target | z)`` at every row (source rows first), each scored by a model that did not see it.

    The classifier's out-of-fold scores are calibrated by Platt scaling (a one-feature logistic
    regression of the domain on the score; Platt 1999), fitted on those out-of-fold scores.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    z = np.vstack([zs, zt])
    d = np.r_[np.zeros(len(zs), int), np.ones(len(zt), int)]
    folds = min(n_folds, len(zs), len(zt))
    if folds < 2:
        return np.clip(clf.fit(z, d).predict_proba(z)[:, 1], 1e-6, 1 - 1e-6)
    score = cross_val_predict(clf, z, d, cv=StratifiedKFold(folds, shuffle=True, random_state=random_state),
                              method="decision_function")
    platt = LogisticRegression(C=1e4, max_iter=1000).fit(score[:, None], d)
    return np.clip(platt.predict_proba(score[:, None])[:, 1], 1e-6, 1 - 1e-6)


def _row_losses(y: np.ndarray, proba: np.ndarray) -> np.ndarray:
    p = check_probabilities(proba)
    y = np.asarray(y).ravel()
    if len(y) != len(p):
        raise DataError(f"{len(y)} labels but {len(p)} predictions")
    if np.any(y < 0) or np.any(y >= p.shape[1]):
        raise DataError(f"labels must be class indices 0..{p.shape[1] - 1}")
    return -np.log(np.clip(p[np.arange(len(y)), y.astype(int)], 1e-6, 1.0))


def _check_weights(w: Any, n: int, normalize: bool = True) -> np.ndarray:
    w = np.asarray(w, dtype=float).ravel()
    if len(w) != n:
        raise DataError(f"{len(w)} weights for {n} rows")
    if np.any(w < 0) or not np.all(np.isfinite(w)) or w.sum() <= 0:
        raise DataError("importance weights must be finite, non-negative and not all zero")
    return w / w.mean() if normalize else w


@SELECTION_SCORES.register("iwcv_loss", info=SelectionScoreInfo(
    "weighted_source_val",
    "Importance-weighted cross-entropy on held-out source rows (Sugiyama et al. 2007), ratio from a "
    "domain classifier in the input space. Unbiased only under covariate shift with overlapping "
    "support; a mapping that moves both domains alike is judged by its source loss.",
    "held-out source log-loss weighted by p_t/p_s (input space)", higher_is_better=False))
def iwcv_loss(y_val: np.ndarray, proba_val: np.ndarray, weights: np.ndarray) -> float:
    """Importance-weighted mean log-loss on held-out source rows (lower is better; caveat: info record)."""
    losses = _row_losses(y_val, proba_val)
    return float(np.mean(_check_weights(weights, len(losses)) * losses))


def dev_risk_from_losses(losses: np.ndarray, weights: np.ndarray) -> float:
    """DEV's control-variate estimate ``mean(w l) + eta mean(w) - eta``, ``eta = -Cov(w l, w) / Var(w)``.

    ``weights`` are raw density ratios (``E[w] = 1`` under the source): rescaled to mean 1 they would
    make the control-variate term vanish.
    """
    w = _check_weights(weights, len(losses), normalize=False)
    wl = w * np.asarray(losses, dtype=float)
    var = float(np.var(w, ddof=1)) if len(w) > 1 else 0.0
    eta = 0.0 if var <= 1e-12 else -float(np.cov(wl, w, ddof=1)[0, 1]) / var
    return float(np.mean(wl) + eta * np.mean(w) - eta)


@SELECTION_SCORES.register("dev_risk", info=SelectionScoreInfo(
    "feature_weighted_source_val",
    "Deep embedded validation (You et al. ICML 2019): importance-weighted source loss with the ratio "
    "estimated in the model's own adapted features, plus a control variate. Still needs overlapping "
    "support and enough held-out source rows; a model whose features align the domains while "
    "mislabelling the target can fool it.",
    "control-variate weighted source loss, ratio in the adapted features", higher_is_better=False))
def dev_risk(y_val: np.ndarray, proba_val: np.ndarray, feature_weights: np.ndarray) -> float:
    """DEV risk of one model (lower is better; caveat: info record)."""
    return dev_risk_from_losses(_row_losses(y_val, proba_val), feature_weights)


@SELECTION_SCORES.register("da_bound", info=SelectionScoreInfo(
    "source_val_domain_gap",
    "Ben-David et al.'s domain-adaptation bound, estimated: held-out source error plus half the proxy "
    "A-distance between the domains in the model's own features. It rewards aligning the domains while "
    "keeping the source task, but ignores the joint-error term: an alignment that swaps classes across "
    "domains scores well and is wrong.",
    "held-out source error + half the proxy A-distance in the adapted features", higher_is_better=False))
def da_bound(y_val: np.ndarray, proba_val: np.ndarray, domain_gap: float) -> float:
    """Estimated target-error bound ``source error + proxy A-distance / 2`` (lower is better; caveat: info record)."""
    p = check_probabilities(proba_val)
    y = np.asarray(y_val).ravel()
    if len(y) != len(p):
        raise DataError(f"{len(y)} labels but {len(p)} predictions")
    gap = float(domain_gap)
    if not 0.0 <= gap <= 2.0:
        raise DataError(f"the proxy A-distance lies in [0, 2], got {gap}")
    return float(np.mean(p.argmax(1) != y) + gap / 2)

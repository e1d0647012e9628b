"""How well a score separates anomalies from normal items: the ROC curve and its area, and
the counts and rates of one threshold (higher scores = more anomalous, anomalies positive)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class RocCurve:
    """Points of the ROC curve, anomalies as the positive class; ``thresholds[i]`` flags
    items with a score >= it (sklearn's convention, first threshold is +inf), where
    ``at_threshold`` flags those strictly above its threshold."""

    false_positive_rate: np.ndarray
    true_positive_rate: np.ndarray
    thresholds: np.ndarray
    auroc: float


@dataclass(frozen=True)
class ThresholdReport:
    """Counts and rates when every item with a score above ``threshold`` is flagged
    anomalous. Precision is 0 when nothing is flagged (sklearn's convention)."""

    threshold: float
    precision: float
    recall: float
    f1: float
    false_positive_rate: float
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int



def auroc(scores: np.ndarray, is_anomaly: np.ndarray) -> float:
    """Probability that a random anomaly scores above a random normal item (ties count half)."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(is_anomaly, scores))


def roc_curve(scores: np.ndarray, is_anomaly: np.ndarray) -> RocCurve:
    from sklearn.metrics import roc_curve as sk_roc_curve

    fpr, tpr, thresholds = sk_roc_curve(is_anomaly, scores)
    return RocCurve(fpr, tpr, thresholds, auroc(scores, is_anomaly))


def at_threshold(scores: np.ndarray, is_anomaly: np.ndarray, threshold: float) -> ThresholdReport:
    """Precision, recall, F1 and false-positive rate of flagging items scoring above
    ``threshold``."""
    flagged = np.asarray(scores) > threshold
    truth = np.asarray(is_anomaly, dtype=bool)
    tp, fp = int((flagged & truth).sum()), int((flagged & ~truth).sum())
    fn, tn = int((~flagged & truth).sum()), int((~flagged & ~truth).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return ThresholdReport(float(threshold), precision, recall, f1, fp / (fp + tn) if fp + tn else 0.0,
                           tp, fp, fn, tn)


def threshold_for_fpr(scores: np.ndarray, is_anomaly: np.ndarray, target_fpr: float) -> float:
    """The lowest threshold among the normal items' scores at which at most ``target_fpr``
    of the normal items score above it (are flagged by ``at_threshold``)."""
    if not 0.0 <= target_fpr <= 1.0:
        raise ValueError(f"target_fpr must be between 0 and 1, got {target_fpr}")
    normal = np.sort(np.asarray(scores)[~np.asarray(is_anomaly, dtype=bool)])[::-1]
    allowed = math.floor(target_fpr * len(normal) + 1e-9)
    return float(normal[allowed]) if allowed < len(normal) else -math.inf

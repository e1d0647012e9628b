"""Our one-class AUROCs beside the published ones of Ruff et al. (ICML 2018), as rows for
the Anomalies page, ``anomaly --json`` and ``bench/anomaly_mnist.py``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from explorer.apps.anomaly import OneClassResult

# Ruff et al., "Deep One-Class Classification", ICML 2018, Table 1: MNIST test AUROC in
# percent with class k (index) normal and the other nine anomalous. Means 94.8 and 89.65.
RUFF_2018_MNIST: dict[str, tuple[float, ...]] = {
    "deep_svdd": (98.0, 99.7, 91.7, 91.9, 94.9, 88.5, 98.3, 94.6, 93.9, 96.5),
    "dcae": (97.6, 98.3, 85.4, 86.7, 86.5, 78.2, 94.6, 92.3, 86.5, 90.4),
}


@dataclass(frozen=True)
class PublishedAuroc:
    """Published AUROCs (as fractions) of Ruff et al. 2018 for one setting; None where the
    paper has no number for it (another data set, or several normal classes)."""

    deep_svdd: float | None
    dcae: float | None

    def as_columns(self) -> dict[str, float | None]:
        """The flat keys of tables and ``anomaly --json`` (kept for compatibility)."""
        return {"deep_svdd_auroc": self.deep_svdd, "dcae_auroc": self.dcae}


def reference_auroc(data_name: str, normal: tuple[int, ...]) -> PublishedAuroc:
    """The published AUROCs for ``normal`` as the normal class(es) of ``data_name``: only
    full MNIST with a single normal class has them."""
    if data_name != "mnist" or len(normal) != 1:
        return PublishedAuroc(None, None)
    return PublishedAuroc(*(RUFF_2018_MNIST[method][normal[0]] / 100 for method in ("deep_svdd", "dcae")))


def comparison_table(results: Sequence[OneClassResult]) -> list[dict[str, Any]]:
    """One row per normal class (our AUROC, the PCA baseline's, the published ones) and a
    ``mean`` row; a mean is None where a column has a missing value."""
    rows = [{"normal": ", ".join(r.normal_names), "auroc": r.auroc, "pca_auroc": r.pca_auroc,
             **reference_auroc(r.data_name, r.normal).as_columns()} for r in results]
    columns = [k for k in rows[0] if k != "normal"] if rows else []
    mean = {k: (None if any(row[k] is None for row in rows) else float(np.mean([row[k] for row in rows])))
            for k in columns}
    return [*rows, {"normal": "mean", **mean}]


def format_comparison_table(rows: Sequence[dict[str, Any]], title: str) -> str:
    """``comparison_table`` as aligned text in percent, with our gain over PCA in points and
    the ratio of PCA's error (1 - AUROC) to ours; ``-`` where a number does not exist."""
    header = ("normal", "ours", "PCA", "ours-PCA", "PCA/ours err", "Deep SVDD", "DCAE")
    lines = [title, "  ".join(f"{h:>12}" for h in header)]
    for row in rows:
        ours, pca = row["auroc"], row["pca_auroc"]
        both = ours is not None and pca is not None
        cells = [
            _cell(ours), _cell(pca), _cell(ours - pca if both else None),
            f"{(1 - pca) / (1 - ours):>12.2f}" if both and ours < 1 else f"{'-':>12}",
            _cell(row["deep_svdd_auroc"]), _cell(row["dcae_auroc"]),
        ]
        lines.append("  ".join([f"{row['normal']:>12}", *cells]))
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return f"{'-':>12}" if value is None else f"{100 * value:>12.1f}"

"""Neighbours and clusters in a latent space: which items sit next to which, how well the
codes classify by their neighbours, and how well they cluster by class."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.apps.metrics import clustering_scores, knn_accuracy
from explorer.errors import DataError
from explorer.training.jobs import Report


@dataclass(frozen=True)
class NeighbourReport:
    """kNN classification and clustering of test codes; ``confusion[i, j]`` counts test items
    of class ``i`` that the kNN classifier called ``j``. The ``*_raw`` and ``*_pca``
    accuracies are the same classifier on the inputs and on PCA with as many components."""

    k: int
    knn_accuracy: float
    confusion: np.ndarray
    clustering: dict[str, float]
    knn_accuracy_raw: float | None = None
    knn_accuracy_pca: float | None = None

    def as_dict(self) -> dict[str, float | int | None]:
        return {"k": self.k, "knn_accuracy": self.knn_accuracy, **self.clustering,
                "knn_accuracy_raw": self.knn_accuracy_raw, "knn_accuracy_pca": self.knn_accuracy_pca}


def check_labelled(y_train: np.ndarray | None, y_test: np.ndarray | None, k: int) -> None:
    """Clear errors for data kNN accuracy and clustering scores cannot be computed on."""
    if y_train is None or y_test is None:
        raise DataError("This data has no labels; kNN accuracy, ARI and NMI need labelled data.")
    if len(np.unique(y_test)) < 2:
        raise DataError("The test split holds a single class; clustering scores need at least two.")
    if k >= len(y_train):
        raise DataError(f"k = {k} needs more than {k} training items; this data has {len(y_train)}.")


def knn_predictions(z_train: np.ndarray, y_train: np.ndarray, z_test: np.ndarray, k: int) -> np.ndarray:
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(k).fit(z_train, y_train).predict(z_test)


def neighbour_report(z_train: np.ndarray, y_train: np.ndarray, z_test: np.ndarray, y_test: np.ndarray,
                     k: int = 5, x_train: np.ndarray | None = None, x_test: np.ndarray | None = None,
                     seed: int = 0, progress: Report | None = None) -> NeighbourReport:
    """kNN accuracy and confusion of the codes, k-means/GMM ARI and NMI of the test codes and,
    given the inputs ``x_*`` (flattened), the raw-input and same-size PCA baselines.
    ``progress`` hears each step as it starts."""
    from sklearn.decomposition import PCA
    from sklearn.metrics import confusion_matrix

    def step(fraction: float, text: str) -> None:
        if progress is not None:
            progress(fraction, text)

    check_labelled(y_train, y_test, k)
    baselines = x_train is not None and x_test is not None
    step(0.0, f"{k}-NN on the codes")
    predicted = knn_predictions(z_train, y_train, z_test, k)
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    confusion = confusion_matrix(y_test, predicted, labels=np.arange(n_classes))
    raw = pca = None
    if baselines:
        x_train, x_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
        # Shares of the time measured on MNIST (60,000 against 10,000): the raw inputs' k-NN,
        # every pixel of every item, takes two thirds of it.
        step(0.05, f"{k}-NN on the raw inputs")
        raw = knn_accuracy(x_train, y_train, x_test, y_test, k)
        step(0.7, f"{k}-NN on PCA of the inputs")
        components = min(z_test.shape[1], x_train.shape[1], len(x_train))
        reducer = PCA(components, random_state=seed).fit(x_train)
        pca = knn_accuracy(reducer.transform(x_train), y_train, reducer.transform(x_test), y_test, k)
    step(0.8 if baselines else 0.35, "k-means and a Gaussian mixture on the codes")
    clustering = clustering_scores(z_test, y_test, seed)
    step(1.0, "done")
    return NeighbourReport(k, float((predicted == y_test).mean()), confusion, clustering, raw, pca)


def nearest(z: np.ndarray, index: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` items nearest to item ``index`` in latent space (itself excluded), nearest
    first, with their Euclidean distances."""
    if not 0 <= index < len(z):
        raise DataError(f"Item {index} does not exist; pick one between 0 and {len(z) - 1}.")
    k = min(k, len(z) - 1)
    distance = np.linalg.norm(z - z[index], axis=1)
    distance[index] = np.inf
    order = np.argpartition(distance, k - 1)[:k] if k < len(z) - 1 else np.arange(len(z))
    order = order[np.argsort(distance[order], kind="stable")][:k]
    return order, distance[order]

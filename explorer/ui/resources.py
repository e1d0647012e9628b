"""Cached loaders. Configs and paths (with modification times) are the cache keys; models
and data sets are shared read-only resources, never trained in place."""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
import torch

from explorer.apps.metrics import reconstruction_sse
from explorer.apps.regularity import fit_judge
from explorer.config import DataConfig
from explorer.data import Dataset, load_dataset
from explorer.errors import DataError, DataNotFoundError
from explorer.figures.live import decoder_program
from explorer.figures.live_map import map_inverse
from explorer.latent import encode_all
from explorer.projection import (
    KnnProjector,
    Projection,
    ProjectionConfig,
    Projector,
    TrustIndex,
    UMAPProjector,
    project,
    warm_umap,
)
from explorer.store import catalog
from explorer.store.checkpoint import Checkpoint, load_checkpoint
from explorer.training.jobs import BackgroundJob, Report, SharedJobs, StopRequested, stopping_report


def stamp(path: Path) -> float:
    """Modification time of a checkpoint's weights: a re-saved run invalidates its caches."""
    weights = path / "model.safetensors"
    return weights.stat().st_mtime if weights.exists() else 0.0


@st.cache_resource(max_entries=8, show_spinner=False)
def model(path: str, mtime: float) -> Checkpoint:
    return load_checkpoint(path)


@dataclass(frozen=True)
class View:
    """What the map shows for one model: its display data and their codes."""

    data: Dataset
    z: np.ndarray
    logvar: np.ndarray | None
    note: str = ""

    @property
    def x(self) -> torch.Tensor:
        return self.data.x_test

    @property
    def labels(self) -> np.ndarray | None:
        return None if self.data.y_test is None else self.data.y_test.numpy()


@st.cache_resource(max_entries=4, show_spinner=False)
def dataset(cfg: DataConfig) -> Dataset:
    return load_dataset(cfg)


def display_dataset(ckpt: Checkpoint, display_name: str) -> tuple[Dataset, str]:
    """The data a model's map shows, with a note when it is a stand-in."""
    if ckpt.path is not None:
        stored = catalog.read_display_data(ckpt.path, ckpt.data.name)
        if stored is not None:
            return stored, ""
    if display_name == "mnist_sample":
        return dataset(DataConfig("mnist_sample")), "Showing the shipped 4,000-image MNIST test sample."
    try:
        return dataset(ckpt.data), ""
    except DataNotFoundError:
        if ckpt.data.name == "mnist":
            return (
                dataset(DataConfig("mnist_sample")),
                "Full MNIST is not on this machine; showing the shipped 4,000-image sample.",
            )
        raise
    except DataError as exc:
        raise DataError(f"The data this model was trained on cannot be loaded: {exc}") from None


@st.cache_resource(max_entries=8, show_spinner=False)
def view(path: str, mtime: float, display_name: str) -> View:
    ckpt = model(path, mtime)
    data, note = display_dataset(ckpt, display_name)
    precomputed = catalog.read_precomputed_codes(Path(path), len(data.x_test))
    if precomputed is not None and display_name == "mnist_sample":
        z, logvar = precomputed
    else:
        mu, lv = encode_all(ckpt.model, data.x_test, with_logvar=True)
        z, logvar = mu.numpy(), (None if lv is None else lv.numpy())
    gc.freeze()  # the model, data and codes live for the whole session: keep GC off them
    return View(data, z, logvar, note)


@st.cache_data(max_entries=16, show_spinner=False)
def reconstruction_errors(path: str, mtime: float, display_name: str) -> np.ndarray:
    v = view(path, mtime, display_name)
    return reconstruction_sse(model(path, mtime).model, v.x).numpy()


def judge_work(data: Dataset) -> Callable[[Report, Callable[[], bool]], Any]:
    """Training the classifier that judges decoded samples on ``data``'s training items, as
    work for ``shared_work`` (see ``regularity.fit_judge``; one sklearn fit, about 8 s on
    MNIST, so a Stop takes effect when it ends). The data are read here, in the page's thread."""
    x, y = data.x_train.numpy(), data.y_train.numpy()

    def work(report: Report, should_stop: Callable[[], bool]):
        report(0.0, f"training a classifier of {len(x):,} real items to judge samples")
        judge = fit_judge(x, y)
        if should_stop():
            raise StopRequested
        return judge

    return work


def judge_key(path: str, mtime: float, display_name: str) -> tuple:
    return ("judge", path, mtime, display_name)


@st.cache_resource
def shared_work() -> SharedJobs:
    """Every page's long work but the maps' (see ``ProjectionJobs``), by its inputs, shared by
    all sessions of this server."""
    return SharedJobs(32)


def overview_map(latent_dim: int) -> ProjectionConfig:
    """The map a page shows without projection controls: the codes themselves when they are
    2-D, else PCA (instant, exact to invert)."""
    return ProjectionConfig(method="raw" if latent_dim == 2 else "pca")


class ProjectionJobs:
    """Projections as background jobs (``BackgroundJob``, the runner every long piece of work
    uses), kept in memory (at most ``max_entries``) and shared by all sessions of this server,
    so a slow UMAP or t-SNE never blocks a page: the page shows PCA, the job's progress and a
    Stop, and switches when it is done. Slow fits run one at a time (on a 2-core laptop two
    at once would each take twice as long); a fast map is computed on the spot."""

    def __init__(self, max_entries: int = 16) -> None:
        self.jobs = SharedJobs(max_entries)
        self.slow_slot = threading.Lock()

    def submit(self, path: str, mtime: float, display_name: str, cfg: ProjectionConfig) -> BackgroundJob:
        """The job for this map: the one running or done, else a new one (after a failure or
        a stop, a fresh try)."""
        key = (path, mtime, display_name, cfg)
        job = self.jobs.current(key)
        if job is None:
            z = view(path, mtime, display_name).z  # read here, in the page's thread
            cache_dir = catalog.projection_cache_dir(Path(path), z, cfg)
            job = self.jobs.submit(key, self._work(z, cfg, cache_dir), name=f"projection-{cfg.method}")
        if not cfg.spec.slow:
            job.join()
        return job

    def _work(self, z: np.ndarray, cfg: ProjectionConfig, cache_dir: Path):
        def work(report: Report, should_stop) -> Projection:
            if not cfg.spec.slow:
                return project(z, cfg, cache_dir)
            report(0.0, f"{cfg.spec.label}: waiting for another map to finish")
            while not self.slow_slot.acquire(timeout=0.2):
                if should_stop():
                    raise StopRequested
            try:
                return project(z, cfg, cache_dir, on_progress=stopping_report(report, should_stop))
            finally:
                self.slow_slot.release()

        return work


@st.cache_resource
def projection_jobs() -> ProjectionJobs:
    return ProjectionJobs()


WARMUP_DELAY_S = 15.0


def _warm_umap_gently() -> None:
    # Let the first page render first, and yield the CPU to anything interactive: on a
    # 2-core laptop the compile takes minutes of one core.
    time.sleep(WARMUP_DELAY_S)
    if hasattr(os, "setpriority"):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)  # this thread only
    warm_umap(catalog.user_cache() / "numba")
    # numba leaves ~650k long-lived objects; without this every full GC on a slider move
    # walks them (370-450 ms pauses measured in bench/slider_latency.py).
    gc.freeze()


@st.cache_resource
def warm_umap_in_background() -> threading.Thread | None:
    """Compile UMAP's numba code once per server process, in the background, so a user who
    picks UMAP waits for the fit only. ``LATENT_EXPLORER_WARM_UMAP=0`` turns it off: a
    process that exits while numba compiles in a thread can abort in LLVM (short-lived
    processes such as test runs)."""
    if os.environ.get("LATENT_EXPLORER_WARM_UMAP", "1") == "0":
        return None
    thread = threading.Thread(target=_warm_umap_gently, name="umap-warmup", daemon=True)
    thread.start()
    return thread


@st.cache_resource(max_entries=16, show_spinner=False)
def click_inverse(path: str, mtime: float, display_name: str, cfg: ProjectionConfig) -> Projector:
    """What decodes a click on the map: the projection's own inverse, except for UMAP, whose
    inverse takes seconds per call (umap 0.5 recompiles and re-triangulates each time); a
    click needs the millisecond kNN inverse instead."""
    proj = projection(path, mtime, display_name, cfg)
    if isinstance(proj.projector, UMAPProjector):
        return KnnProjector(proj.embedding).fit(view(path, mtime, display_name).z)
    return proj.projector


@st.cache_resource(max_entries=16, show_spinner=False)
def trust_index(path: str, mtime: float, display_name: str, cfg: ProjectionConfig) -> TrustIndex:
    """Built once per map: a triangulation of thousands of points is not free."""
    proj = projection(path, mtime, display_name, cfg)
    return TrustIndex(proj.embedding)


@st.cache_resource(max_entries=8, show_spinner=False)
def page_program(path: str, mtime: float) -> dict[str, object] | str:
    """The decoder as the page runs it (``DecoderProgram.to_page``), or why it cannot."""
    program = decoder_program(model(path, mtime).model)
    return program if isinstance(program, str) else program.to_page()


@st.cache_resource(max_entries=16, show_spinner=False)
def page_map(path: str, mtime: float, display_name: str, cfg: ProjectionConfig) -> dict[str, object] | str:
    """The map's inverse and trust data as the page runs them (``live_map.map_inverse``)."""
    proj = projection(path, mtime, display_name, cfg)
    return map_inverse(click_inverse(path, mtime, display_name, cfg), proj.embedding,
                       view(path, mtime, display_name).z, trust_index(path, mtime, display_name, cfg))


def projection(path: str, mtime: float, display_name: str, cfg: ProjectionConfig,
               wait: float | None = None) -> Projection | None:
    """The projection, or None if it is still being computed after ``wait`` seconds
    (``None`` waits as long as it takes, through a stop another page asked for). A failed
    fit raises its error."""
    while True:
        job = projection_jobs().submit(path, mtime, display_name, cfg)
        job.join(wait)
        status = job.snapshot()
        if status.state == "done":
            return job.result
        job.raise_if_failed()
        if wait is not None:
            return None

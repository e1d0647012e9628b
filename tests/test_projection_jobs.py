"""Maps as background jobs shared by the server's sessions: slow fits one at a time, a fast
map never queued behind them, a stop while queued, a failure raised as it was."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

import explorer.ui.resources as resources
from explorer.errors import ProjectionError
from explorer.projection import ProjectionConfig


@pytest.fixture
def jobs(monkeypatch):
    running, seen = [], {"most": 0}
    lock = threading.Lock()
    release = threading.Event()

    def fake_project(z, cfg, cache_dir=None, on_progress=None):
        if cfg.method == "pca":
            return "pca map"
        with lock:
            running.append(cfg)
            seen["most"] = max(seen["most"], len(running))
        release.wait(10)
        with lock:
            running.remove(cfg)
        if cfg.seed == 13:
            raise ProjectionError("t-SNE needs at least 5 codes")
        return f"map {cfg.seed}"

    monkeypatch.setattr(resources, "view", lambda *args: SimpleNamespace(z=np.zeros((10, 3))))
    monkeypatch.setattr(resources.catalog, "projection_cache_dir", lambda *args: None)
    monkeypatch.setattr(resources, "project", fake_project)
    return SimpleNamespace(jobs=resources.ProjectionJobs(), seen=seen, release=release)


def test_slow_fits_run_one_at_a_time_and_a_fast_map_does_not_wait(jobs):
    first = jobs.jobs.submit("m", 0.0, "d", ProjectionConfig(method="tsne", seed=1))
    second = jobs.jobs.submit("m", 0.0, "d", ProjectionConfig(method="tsne", seed=2))
    time.sleep(0.3)
    assert "waiting for another map" in second.snapshot().text
    fast = jobs.jobs.submit("m", 0.0, "d", ProjectionConfig(method="pca"))
    assert fast.snapshot().state == "done" and fast.result == "pca map"  # while both slow ones wait
    jobs.release.set()
    first.join(10), second.join(10)
    assert (first.result, second.result) == ("map 1", "map 2") and jobs.seen["most"] == 1
    # Asked again: the finished job, not a new fit.
    assert jobs.jobs.submit("m", 0.0, "d", ProjectionConfig(method="tsne", seed=1)) is first


def test_a_map_stopped_while_queued_ends_stopped_and_is_retried_when_asked_again(jobs):
    jobs.jobs.submit("m", 0.0, "d", ProjectionConfig(method="tsne", seed=1))
    queued = jobs.jobs.submit("m", 0.0, "d", ProjectionConfig(method="tsne", seed=2))
    queued.stop()
    queued.join(5)
    assert queued.snapshot().state == "stopped" and queued.result is None
    again = jobs.jobs.submit("m", 0.0, "d", ProjectionConfig(method="tsne", seed=2))
    assert again is not queued
    jobs.release.set()
    again.join(10)
    assert again.result == "map 2"


def test_a_failed_fit_raises_its_own_error_on_the_page(jobs, monkeypatch):
    monkeypatch.setattr(resources, "projection_jobs", lambda: jobs.jobs)
    jobs.release.set()
    with pytest.raises(ProjectionError, match="at least 5 codes"):
        resources.projection("m", 0.0, "d", ProjectionConfig(method="tsne", seed=13))
    assert resources.projection("m", 0.0, "d", ProjectionConfig(method="tsne", seed=3), wait=5) == "map 3"

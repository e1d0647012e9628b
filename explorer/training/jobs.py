"""Long work in a background thread, so a page can keep drawing progress, answer a Stop
button, and let other sessions work meanwhile: ``TrainingJob`` for a model's training (its
loss curves and weights so far), ``BackgroundJob`` for any other work that reports a
fraction done. Pure Python: the UI only polls ``snapshot``."""

from __future__ import annotations

import copy
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Self

from explorer.config import TrainConfig
from explorer.data import Dataset
from explorer.errors import ExplorerError, TrainingDivergedError
from explorer.models import Autoencoder
from explorer.training.timeline import Timeline, TimelineRecorder
from explorer.training.train import History, StepInfo, fit


@dataclass
class JobStatus:
    state: str = "pending"  # pending, running, done, stopped, failed
    epoch: int = 0
    step: int = 0
    steps_per_epoch: int = 1
    step_losses: dict[str, list[float]] = field(default_factory=dict)
    history: History = field(default_factory=History)
    error: str | None = None
    started: float = field(default_factory=time.time)
    ended: float | None = None  # when it finished: a finished run's elapsed time stops

    @property
    def elapsed(self) -> float:
        return (self.ended if self.ended is not None else time.time()) - self.started

    @property
    def finished(self) -> bool:
        return self.state in ("done", "stopped", "failed")


class _ThreadJob(ABC):
    """Work on its own daemon thread (``_run``), with a Stop flag it checks and a lock for
    what it shares with the page."""

    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"latent-explorer-{name}", daemon=True)

    @abstractmethod
    def _run(self) -> None:
        """The work; it sets its outcome under ``_lock`` and must not raise."""

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)


class TrainingJob(_ThreadJob):
    """Runs ``fit`` on its own thread. The model is trained in place; after a stop or a
    divergence it holds the weights reached so far (the last finite ones), ready to save."""

    def __init__(self, model: Autoencoder, data: Dataset, cfg: TrainConfig, timeline: bool = False) -> None:
        self.model, self.data, self.cfg = model, data, cfg
        # Before the thread starts, so the timeline's first frame is the untrained encoder.
        self.recorder = TimelineRecorder(model, data, seed=cfg.seed) if timeline else None
        self.timeline: Timeline | None = None  # set when the run ends, if recorded
        self.status = JobStatus()
        super().__init__("train")

    def snapshot(self) -> JobStatus:
        """A consistent copy of the status for drawing (the thread keeps appending)."""
        with self._lock:
            return copy.deepcopy(self.status)

    def _on_step(self, info: StepInfo) -> None:
        with self._lock:
            self.status.epoch, self.status.step = info.epoch, info.step
            self.status.steps_per_epoch = info.steps_per_epoch
            # Each report is the mean over the steps since the last (see StepReporter).
            for name, value in info.losses.items():
                self.status.step_losses.setdefault(name, []).append(value)

    def _on_epoch(self, epoch: int, history: History) -> None:
        if self.recorder is not None:
            self.recorder.record(epoch)
        with self._lock:
            self.status.history = history

    def _run(self) -> None:
        with self._lock:
            self.status.state = "running"
        timeline = None
        try:
            history = fit(self.model, self.data, self.cfg, on_step=self._on_step,
                          on_epoch=self._on_epoch, should_stop=self._stop.is_set)
            state, error = ("stopped" if history.stop_reason == "stopped" else "done"), None
            timeline = None if self.recorder is None else self.recorder.finish()
        except TrainingDivergedError as exc:
            # The model keeps its last good weights, which can be saved: so can their timeline.
            history, state, error = exc.history, "failed", str(exc)
            timeline = None if self.recorder is None else self.recorder.finish()
        except ExplorerError as exc:
            history, state, error = self.status.history, "failed", str(exc)
        except Exception as exc:  # a thread must never die silently; show it to the user
            history, state, error = self.status.history, "failed", f"{type(exc).__name__}: {exc}"
        with self._lock:
            self.timeline = timeline
            self.status.history = history or self.status.history
            self.status.state, self.status.error = state, error
            self.status.ended = time.time()


Report = Callable[[float, str], None]  # (fraction done in [0, 1], what is happening)


class StopRequested(Exception):
    """Raised by work that sees ``should_stop()`` deep inside a call it does not own (a
    library's progress callback), to end there: the job ends stopped, not failed."""


def stopping_report(report: Report, should_stop: Callable[[], bool]) -> Report:
    """``report`` that raises ``StopRequested`` once a Stop was asked for, for work whose
    only way back to the caller is its progress callback."""

    def checked(fraction: float, text: str) -> None:
        if should_stop():
            raise StopRequested
        report(fraction, text)

    return checked


@dataclass(frozen=True)
class WorkStatus:
    state: str  # running, done, stopped, failed
    fraction: float
    text: str
    error: str | None
    elapsed: float

    @property
    def finished(self) -> bool:
        return self.state in ("done", "stopped", "failed")


class BackgroundJob(_ThreadJob):
    """Any long work on its own thread, with progress and Stop: ``work(report, should_stop)``
    calls ``report(fraction, text)`` as it goes, checks ``should_stop()`` between its steps
    (or raises ``StopRequested``), and returns its result. Stopped work's result is dropped
    (it is a part of the whole); a failure keeps its exception, for callers that re-raise it."""

    def __init__(self, work: Callable[[Report, Callable[[], bool]], Any], name: str = "work") -> None:
        self._work = work
        self._state, self._fraction, self._text, self._error = "running", 0.0, "starting…", None
        self._started, self._ended = time.time(), None
        self.result: Any = None
        self.exception: BaseException | None = None
        super().__init__(name)

    def snapshot(self) -> WorkStatus:
        with self._lock:
            elapsed = (self._ended if self._ended is not None else time.time()) - self._started
            return WorkStatus(self._state, self._fraction, self._text, self._error, elapsed)

    def raise_if_failed(self) -> None:
        """Raise the exception the work failed with, as it was (a failure always keeps one)."""
        if self.exception is not None:
            raise self.exception

    def _report(self, fraction: float, text: str) -> None:
        with self._lock:
            self._fraction, self._text = min(max(float(fraction), 0.0), 1.0), text

    def _run(self) -> None:
        result, error, exception = None, None, None
        try:
            result = self._work(self._report, self._stop.is_set)
        except StopRequested:
            pass
        except ExplorerError as exc:
            error, exception = str(exc), exc
        except Exception as exc:  # a thread must never die silently; show it to the user
            error, exception = f"{type(exc).__name__}: {exc}", exc
        stopped = error is None and self._stop.is_set()
        with self._lock:
            self.result, self.exception = (None if stopped else result), exception
            self._state = "failed" if error is not None else "stopped" if stopped else "done"
            self._error, self._ended = error, time.time()


class SharedJobs:
    """Background jobs by key (a page's inputs), shared by every session of a server and kept
    when done (at most ``max_entries``, the oldest dropped first), so a result computed once
    is there for the next visit and a second session joins a job already running instead of
    starting its own. A failed or stopped job is replaced by a fresh one on the next submit."""

    def __init__(self, max_entries: int = 32) -> None:
        self.max_entries = max_entries
        self._jobs: dict[Hashable, BackgroundJob] = {}
        self._lock = threading.Lock()

    def submit(self, key: Hashable, work: Callable[[Report, Callable[[], bool]], Any],
               name: str = "work") -> BackgroundJob:
        """The job for ``key``: the one running or done, else ``work`` started as a new one."""
        with self._lock:
            job = self._current(key)
            if job is None:
                job = BackgroundJob(work, name=name).start()
                self._jobs.pop(key, None)
                self._jobs[key] = job
                while len(self._jobs) > self.max_entries:
                    self._jobs.pop(next(iter(self._jobs)))
            return job

    def current(self, key: Hashable) -> BackgroundJob | None:
        """The job ``submit`` would return for ``key`` without starting one: running or done,
        else None (never submitted, dropped, failed or stopped)."""
        with self._lock:
            return self._current(key)

    def _current(self, key: Hashable) -> BackgroundJob | None:
        job = self._jobs.get(key)
        return None if job is None or job.snapshot().state in ("failed", "stopped") else job

    def running(self) -> list[BackgroundJob]:
        """The jobs not finished yet (to wait for them all, say before a server stops)."""
        with self._lock:
            return [job for job in self._jobs.values() if not job.snapshot().finished]

    def wait_for(self, key: Hashable, work: Callable[[Report, Callable[[], bool]], Any],
                 should_stop: Callable[[], bool], name: str = "work") -> Any:
        """From inside other work: the result of the job for ``key`` (submitted if need be),
        waiting for it while checking ``should_stop``; its failure is raised here."""
        while True:
            job = self.submit(key, work, name)
            while not job.snapshot().finished:
                if should_stop():
                    raise StopRequested
                job.join(0.1)
            if job.snapshot().state == "done":
                return job.result
            job.raise_if_failed()
            # stopped by someone else: submit runs it afresh

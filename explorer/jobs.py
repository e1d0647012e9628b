"""Training in a background thread, so a page can keep drawing progress, answer a Stop
button, and let other sessions work meanwhile. Pure Python: the UI only polls ``status``."""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field

from explorer.config import TrainConfig
from explorer.data import Dataset
from explorer.errors import ExplorerError, TrainingDivergedError
from explorer.models import Autoencoder
from explorer.timeline import Timeline, TimelineRecorder
from explorer.train import History, StepInfo, fit


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


class TrainingJob:
    """Runs ``fit`` on its own thread. The model is trained in place; after a stop or a
    divergence it holds the weights reached so far (the last finite ones), ready to save."""

    def __init__(self, model: Autoencoder, data: Dataset, cfg: TrainConfig, timeline: bool = False) -> None:
        self.model, self.data, self.cfg = model, data, cfg
        # Before the thread starts, so the timeline's first frame is the untrained encoder.
        self.recorder = TimelineRecorder(model, data, seed=cfg.seed) if timeline else None
        self.timeline: Timeline | None = None  # set when the run ends, if recorded
        self.status = JobStatus()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="latent-explorer-train", daemon=True)

    def start(self) -> TrainingJob:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

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

"""A page's long work (a ``BackgroundJob``) on screen: a live progress bar with Stop while it
runs, what became of it when it ended, and its result for the inputs it was started with.

Work a button starts belongs to its session (``start``/``result``); work a page needs just to
draw (a fit on the model and data it shows) is shared by all sessions and kept when done
(``shared_result``), so a second visit or a second browser gets it at once."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from typing import Any

import streamlit as st

from explorer.training.jobs import BackgroundJob, Report, SharedJobs

STOPPED_SHARED = "job_panel_stopped"  # the keys of shared work this session stopped
STARTED_SHARED = "job_panel_started"  # per page, the shared job this session started last
QUICK_S = 0.5  # shared work done within this shows no progress bar: no flash on fast work


def started_for(state_key: str, inputs: Hashable) -> bool:
    """Whether the page's latest work was started for ``inputs``."""
    stored = st.session_state.get(state_key)
    return stored is not None and stored[0] == inputs


def start(state_key: str, inputs: Hashable, work: Callable[[Report, Callable[[], bool]], Any]) -> None:
    """Run ``work`` in the background for ``inputs`` (the page's settings it depends on),
    unless work of this page is still running (a second click before the page redrew)."""
    if running(state_key):
        return
    st.session_state[state_key] = (inputs, BackgroundJob(work, name=state_key).start())


def running(state_key: str) -> bool:
    """Whether this page's work is still running."""
    stored = st.session_state.get(state_key)
    return stored is not None and not stored[1].snapshot().finished


def discard(state_key: str) -> None:
    """Stop this page's work if it runs and forget it, so the next ``start`` runs afresh."""
    stored = st.session_state.pop(state_key, None)
    if stored is not None:
        stored[1].stop()


def result(state_key: str, inputs: Hashable, stop_label: str = "Stop",
           again: str = "Press the button to start again.") -> Any | None:
    """The result of the work started for ``inputs``, once it is done; meanwhile its live
    progress and a Stop button (shown while it runs even when the settings have changed since,
    so it can always be stopped), after a stop or a failure a note saying so, else None."""
    stored = st.session_state.get(state_key)
    if stored is None:
        return None
    status = stored[1].snapshot()
    if not status.finished:
        _live(state_key, stop_label)
    elif stored[0] != inputs:
        return None
    elif status.state == "failed":
        st.error(status.error)
    elif status.state == "stopped":
        st.info(f"Stopped after {status.elapsed:.0f} s, {status.fraction:.0%} of the way; nothing "
                f"was kept. {again}")
    else:
        return stored[1].result
    return None


def shared_result(jobs: SharedJobs, key: Hashable, work: Callable[[Report, Callable[[], bool]], Any],
                  what: str, stop_label: str = "Stop") -> Any | None:
    """The result of the shared ``work`` for ``key`` (run in the background if no session has
    run it yet); meanwhile its live progress and a Stop, after a stop by this session a note
    and a button to run it again, else None. Its failure is raised here, for ``guarded``.
    Work this session started for other settings of the same page (``what``) and still
    running is stopped: on a 2-core laptop it would halve the speed of the work now wanted."""
    stopped: set = st.session_state.setdefault(STOPPED_SHARED, set())
    widget_key = f"shared_{hashlib.sha1(repr(key).encode()).hexdigest()[:12]}"
    if key in stopped:
        st.info(f"You stopped {what}; nothing was kept.")
        if st.button(f"Run {what} again", key=f"{widget_key}_again"):
            stopped.discard(key)
            st.rerun()
        return None
    running_or_done = jobs.current(key)
    job = jobs.submit(key, work, name=what)
    started: dict = st.session_state.setdefault(STARTED_SHARED, {})
    previous = started.get(what)
    if previous is not None and previous[0] != key:
        previous[1].stop()
        del started[what]
    if job is not running_or_done:  # this call started it
        started[what] = (key, job)
    job.join(QUICK_S)
    status = job.snapshot()
    if not status.finished:
        live_progress(job, f"{widget_key}_stop", stop_label, on_stop=lambda: stopped.add(key))
        return None
    job.raise_if_failed()
    if status.state == "stopped":  # by another session: run it afresh for this one
        st.rerun()
    return job.result


def _live(state_key: str, stop_label: str) -> None:
    live_progress(st.session_state[state_key][1], f"{state_key}_stop", stop_label)


@st.fragment(run_every=0.5)
def live_progress(job: BackgroundJob, stop_key: str, stop_label: str = "Stop",
                  on_stop: Callable[[], None] | None = None) -> None:
    """A running job's progress and Stop, redrawn while it lasts; when it ends, the whole
    page once, to show its result. ``on_stop`` runs when the button is pressed."""
    status = job.snapshot()
    if status.finished:
        st.rerun()
    st.progress(status.fraction, text=f"{status.text} · {status.elapsed:.0f} s")
    if st.button(stop_label, key=stop_key):
        job.stop()
        if on_stop is not None:
            on_stop()
        st.rerun()

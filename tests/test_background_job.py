"""Long work in the background: progress as it goes, Stop between steps, failures shown."""

from __future__ import annotations

import threading
import time

import pytest

from explorer.errors import ExplorerError
from explorer.training.jobs import BackgroundJob, stopping_report


def _finished(job: BackgroundJob):
    job.join(timeout=30)
    status = job.snapshot()
    assert status.finished, status
    return status


def test_finished_work_keeps_its_result_and_last_report():
    def work(report, should_stop):
        for i in range(4):
            report((i + 1) / 4, f"step {i + 1}")
        return "all four"

    job = BackgroundJob(work).start()
    status = _finished(job)
    assert (status.state, status.fraction, status.text, status.error) == ("done", 1.0, "step 4", None)
    assert job.result == "all four"


def test_a_stop_ends_the_work_between_steps_and_drops_its_part_result():
    started, steps = threading.Event(), []

    def work(report, should_stop):
        started.set()
        while not should_stop():
            steps.append(1)
            report(min(len(steps) / 1e6, 1.0), "working")
            threading.Event().wait(0.001)
        return "a part"

    job = BackgroundJob(work).start()
    assert started.wait(10)
    assert not job.snapshot().finished  # it runs until told to stop
    job.stop()
    status = _finished(job)
    assert status.state == "stopped" and job.result is None and steps


@pytest.mark.parametrize("error, shown", [
    (ExplorerError("The normal class has too few items."), "The normal class has too few items."),
    (RuntimeError("CUDA out of memory"), "RuntimeError: CUDA out of memory"),
])
def test_a_failure_is_a_state_with_a_message_not_a_dead_thread(error, shown):
    def work(report, should_stop):
        report(0.5, "half way")
        raise error

    job = BackgroundJob(work).start()
    status = _finished(job)
    assert (status.state, status.error, status.fraction) == ("failed", shown, 0.5) and job.result is None
    assert job.exception is error  # a caller can raise the failure as it was


def test_work_inside_a_library_call_stops_through_its_progress_callback():
    calls = []

    def library_fit(on_progress):  # a fit whose only way out is its progress callback
        for i in range(10_000):
            on_progress(i / 10_000, "iterating")
            calls.append(i)
            time.sleep(0.001)
        return "finished"

    job = BackgroundJob(lambda report, should_stop: library_fit(stopping_report(report, should_stop))).start()
    time.sleep(0.05)
    job.stop()
    status = _finished(job)
    assert status.state == "stopped" and status.error is None and job.result is None
    assert 0 < len(calls) < 10_000


def test_reports_are_kept_within_zero_and_one():
    job = BackgroundJob(lambda report, should_stop: report(7.0, "over")).start()
    assert _finished(job).fraction == 1.0

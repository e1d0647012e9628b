"""Long work in the background: progress as it goes, Stop between steps, failures shown."""

from __future__ import annotations

import threading
import time

import pytest

from explorer.errors import ExplorerError
from explorer.training.jobs import BackgroundJob, SharedJobs, StopRequested, stopping_report


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


def test_shared_work_runs_once_per_key_and_keeps_its_result():
    calls = []

    def work(report, should_stop):
        calls.append(1)
        return len(calls)

    jobs = SharedJobs(max_entries=2)
    first = jobs.submit("a", work)
    _finished(first)
    assert jobs.submit("a", work) is first and first.result == 1 and len(calls) == 1  # a second visit
    _finished(jobs.submit("b", work))
    _finished(jobs.submit("c", work))
    assert jobs.current("a") is None and jobs.current("b") is not None  # the oldest went first
    assert jobs.running() == []


def test_failed_or_stopped_shared_work_runs_afresh_on_the_next_submit():
    outcomes = iter([ValueError("first try"), None])

    def flaky(report, should_stop):
        error = next(outcomes)
        if error is not None:
            raise error
        return "second try"

    jobs = SharedJobs()
    failed = jobs.submit("k", flaky)
    assert _finished(failed).state == "failed"
    retry = jobs.submit("k", flaky)
    assert retry is not failed and _finished(retry).state == "done" and retry.result == "second try"

    gate = threading.Event()
    stopped = jobs.submit("s", lambda report, should_stop: gate.wait(30) and None)
    stopped.stop()
    gate.set()
    assert _finished(stopped).state == "stopped"
    assert jobs.submit("s", lambda report, should_stop: "again") is not stopped


def test_work_waiting_for_shared_work_gets_its_result_its_failure_or_a_stop():
    jobs = SharedJobs()
    assert jobs.wait_for("judge", lambda report, should_stop: 42, lambda: False) == 42
    assert jobs.wait_for("judge", lambda report, should_stop: 0, lambda: False) == 42  # kept, not rerun

    def broken(report, should_stop):
        raise ExplorerError("no labels to judge with")

    with pytest.raises(ExplorerError, match="no labels to judge with"):
        jobs.wait_for("broken", broken, lambda: False)

    gate = threading.Event()
    with pytest.raises(StopRequested):
        jobs.wait_for("slow", lambda report, should_stop: gate.wait(30), lambda: True)
    gate.set()
    _finished(jobs.current("slow"))  # the shared work itself went on: another page may need it
    assert jobs.current("slow").result is True

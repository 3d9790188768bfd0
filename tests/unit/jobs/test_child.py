"""The skeleton every job process shares: stop request, failure reason, status.json."""

from __future__ import annotations

import json
import signal

import pytest

from studio.errors import ConfigError, DataError
from studio.jobs.child import (
    Cancelled,
    JobProcess,
    StopRequest,
    failure_reason,
    is_out_of_memory,
    run_job,
)
from studio.jobs.run_folder import RunFolder

ADVICE = "Out of memory: do less."


def _job(work, **kw) -> JobProcess:
    return JobProcess(
        kind="evaluate",
        description="test job",
        work=work,
        oom_advice=ADVICE,
        config_label="test config",
        activity="testing",
        cancelled_reason=lambda run: "stopped early",
        **kw,
    )


@pytest.fixture(autouse=True)
def _keep_signal_handlers():
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_stop_request_from_the_file_a_signal_or_a_step(tmp_path):
    stop = StopRequest(tmp_path, stop_after_step=3)
    assert not stop.requested(step=2)
    assert stop.requested(step=3)
    stop.stop_after_step = None
    RunFolder(tmp_path).request_stop(1.0)
    assert stop.requested()
    with pytest.raises(Cancelled):
        stop.check()
    RunFolder(tmp_path).clear_stop()
    stop.install()
    assert signal.getsignal(signal.SIGTERM) == stop._on_signal
    stop._on_signal(signal.SIGTERM, None)
    assert stop.requested() and stop.signalled
    with pytest.raises(KeyboardInterrupt):  # a Ctrl-C after a stop was asked: quit now
        stop._on_signal(signal.SIGINT, None)


@pytest.mark.parametrize(
    "exc",
    [
        MemoryError(),
        RuntimeError("CUDA out of memory. Tried"),
        OSError(12, "Cannot allocate memory"),
        RuntimeError("DefaultCPUAllocator: can't allocate memory"),
    ],
)
def test_out_of_memory_is_detected_once_for_every_job(exc):
    assert is_out_of_memory(exc)
    assert failure_reason(exc, ADVICE) == ADVICE


def test_failure_reasons_are_one_line():
    assert not is_out_of_memory(ValueError("shape mismatch"))
    assert failure_reason(ValueError("bad\nmore"), ADVICE) == "ValueError: bad"
    assert failure_reason(DataError("Row 3\n is empty"), ADVICE) == "Row 3 is empty"
    reason = failure_reason(ConfigError(["a is wrong", "b is wrong"]), ADVICE, "test config")
    assert reason == "Invalid test config: a is wrong; b is wrong"


def _status(run_dir) -> dict:
    return json.loads((run_dir / "status.json").read_text())


def test_a_succeeded_job_writes_its_status_and_exits_0(tmp_path):
    (tmp_path / "status.json").write_text('{"status": "failed"}')  # the previous attempt's
    seen = {}

    def work(run, resume):
        seen["stale"] = run.status()
        seen["resume"] = resume
        return {"status": "succeeded", "reason": "done", "summary": {"n": 1}}

    assert run_job(_job(work), [str(tmp_path), "--resume"]) == 0
    assert seen == {"stale": None, "resume": True}
    assert _status(tmp_path) == {"status": "succeeded", "reason": "done", "summary": {"n": 1}}
    assert not (tmp_path / "status.json.tmp").exists()


@pytest.mark.parametrize(
    ("exc", "status", "reason", "code"),
    [
        (MemoryError(), "failed", ADVICE, 1),
        (ValueError("broken\ntraceback"), "failed", "ValueError: broken", 1),
        (ConfigError(["x must be 1"]), "failed", "Invalid test config: x must be 1", 1),
        (Cancelled(), "cancelled", "stopped early", 0),
        (KeyboardInterrupt(), "cancelled", "stopped early", 0),
    ],
)
def test_every_ending_writes_status_json(tmp_path, exc, status, reason, code):
    def work(run, resume):
        raise exc

    assert run_job(_job(work), [str(tmp_path)]) == code
    assert _status(tmp_path) == {"status": status, "reason": reason, "summary": {}}


def test_other_ranks_leave_status_json_to_the_main_process(tmp_path):
    def work(run, resume):
        return {"status": "succeeded", "reason": "", "summary": {}}

    assert run_job(_job(work, main_process=False), [str(tmp_path)]) == 0
    assert not (tmp_path / "status.json").exists()


def test_a_missing_run_folder_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        run_job(_job(lambda run, resume: {}), [str(tmp_path / "nowhere")])
    assert exit_.value.code == 2 and "is not a folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("cores", "env", "local", "expected"),
    [
        (2, "", "", 1),  # every core but one: the page keeps the other
        (8, "", "", 7),
        (8, "", "2", 3),  # two processes of one machine share the seven
        (8, "4", "", 4),  # STUDIO_TRAIN_THREADS
        (8, "4", "2", 2),
        (2, "4", "", 2),  # never more than the cores
    ],
)
def test_every_job_runs_with_the_threads_it_may_have(
    tmp_path, monkeypatch, cores, env, local, expected
):
    """Train and evaluate jobs alike leave the page a core, split between the processes of
    one machine; never a thread per core beside the page."""
    import torch

    monkeypatch.setattr("studio.settings.available_cores", lambda: cores)
    monkeypatch.setenv("STUDIO_TRAIN_THREADS", env)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", local)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    seen = []

    def work(run, resume):
        seen.append(torch.get_num_threads())
        return {"status": "succeeded", "reason": "", "summary": {}}

    try:
        assert run_job(_job(work), [str(tmp_path)]) == 0
    finally:
        torch.set_num_threads(before)
    assert seen == [expected]

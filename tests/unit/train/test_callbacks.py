"""The metrics callback and failure reasons, without training."""

from __future__ import annotations

import json
import math
import signal
from types import SimpleNamespace

import pytest

from studio.errors import ModelUnavailableError
from studio.jobs import child
from studio.jobs.child import StopRequest
from studio.train.callbacks import MetricsCallback, perplexity
from studio.train.main import OOM_ADVICE


def _state(step=4, max_steps=10):
    return SimpleNamespace(
        global_step=step, max_steps=max_steps, epoch=0.4, num_input_tokens_seen=800
    )


def _control():
    return SimpleNamespace(should_training_stop=False, should_save=False, should_evaluate=False)


def test_perplexity_overflows_to_inf():
    assert perplexity(1.0) == math.e
    assert perplexity(1e6) == math.inf and perplexity(float("nan")) == math.inf


def test_log_records_train_and_eval_lines(tmp_path):
    cb = MetricsCallback(tmp_path, StopRequest(tmp_path))
    cb.on_train_begin(None, _state(0), _control())
    cb.on_log(None, _state(), _control(), logs={"loss": 2.5, "learning_rate": 1e-3})
    cb.on_log(None, _state(), _control(), logs={"eval_loss": 2.0})
    lines = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [x["type"] for x in lines] == ["start", "train", "eval"]
    train = lines[1]
    assert train["step"] == 4 and train["total_steps"] == 10 and train["tokens_seen"] == 800
    assert train["memory_mb"] > 0 and train["eta_s"] >= 0
    assert lines[2]["perplexity"] == math.exp(2.0)


def test_nan_loss_stops_training(tmp_path):
    cb, control = MetricsCallback(tmp_path, StopRequest(tmp_path)), _control()
    cb.on_log(None, _state(), control, logs={"loss": float("nan")})
    assert control.should_training_stop and cb.nan_step == 4
    assert '"loss": "nan"' in (tmp_path / "metrics.jsonl").read_text()


def test_stop_file_saves_then_stops_and_skips_the_epoch_end_work(tmp_path):
    cb, control = MetricsCallback(tmp_path, StopRequest(tmp_path)), _control()
    cb.on_step_end(None, _state(), control)
    assert not control.should_training_stop
    (tmp_path / "STOP").touch()
    cb.on_step_end(None, _state(), control)
    assert control.should_training_stop and control.should_save and cb.cancelled
    end = _control()
    end.should_evaluate = end.should_save = True
    cb.on_epoch_end(None, _state(), end)
    assert not end.should_evaluate and not end.should_save


def failure_reason(exc: BaseException) -> str:
    """The reason a training job process gives for `exc` (studio.jobs.child decides)."""
    return child.failure_reason(exc, OOM_ADVICE, "run config")


def test_failure_reasons_are_one_actionable_line():
    assert failure_reason(RuntimeError("CUDA out of memory. Tried to allocate")) == OOM_ADVICE
    assert "batch size" in OOM_ADVICE and "max length" in OOM_ADVICE and "4-bit" in OOM_ADVICE
    assert (
        failure_reason(ModelUnavailableError("Weights of x\nare missing"))
        == "Weights of x are missing"
    )
    assert failure_reason(ValueError("bad thing\nmore")) == "ValueError: bad thing"


@pytest.mark.parametrize(
    "exc",
    [
        RuntimeError(
            "[enforce fail at alloc_cpu.cpp:121] data. DefaultCPUAllocator: can't "
            "allocate memory: you tried to allocate 8589934592 bytes. Error code 12 "
            "(Cannot allocate memory)"
        ),
        RuntimeError("DefaultCPUAllocator: not enough memory: you tried to allocate 1 bytes."),
        OSError(12, "Cannot allocate memory"),
        MemoryError(),
    ],
)
def test_cpu_out_of_memory_gets_the_advice(exc):
    assert failure_reason(exc) == OOM_ADVICE


def test_torch_out_of_memory_error_gets_the_advice():
    import torch

    assert failure_reason(torch.OutOfMemoryError("Tried to allocate 2.00 GiB")) == OOM_ADVICE

    class Subclass(torch.OutOfMemoryError):
        pass

    assert failure_reason(Subclass("x")) == OOM_ADVICE
    assert failure_reason(RuntimeError("shape mismatch")) == "RuntimeError: shape mismatch"


def test_first_ctrl_c_asks_to_stop_and_a_second_one_quits(tmp_path):
    stop = StopRequest(tmp_path)
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        stop.install()
        assert signal.getsignal(signal.SIGINT) == stop._on_signal
        assert signal.getsignal(signal.SIGTERM) == stop._on_signal
        stop._on_signal(signal.SIGINT, None)
        assert stop.requested() and stop.signalled
        stop._on_signal(signal.SIGTERM, None)  # a SIGTERM after it changes nothing
        with pytest.raises(KeyboardInterrupt):
            stop._on_signal(signal.SIGINT, None)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def test_only_the_main_process_writes_but_every_rank_stops(tmp_path):
    cb, control = MetricsCallback(tmp_path, StopRequest(tmp_path)), _control()
    other_rank = SimpleNamespace(**vars(_state(0)), is_world_process_zero=False)
    cb.on_train_begin(None, other_rank, control)
    cb.on_log(None, other_rank, control, logs={"loss": 2.5, "eval_loss": 2.0})
    assert not (tmp_path / "metrics.jsonl").exists()
    assert cb.last_train["loss"] == 2.5 and cb.last_eval["eval_loss"] == 2.0
    (tmp_path / "STOP").touch()
    cb.on_step_end(None, other_rank, control)
    assert control.should_training_stop and control.should_save

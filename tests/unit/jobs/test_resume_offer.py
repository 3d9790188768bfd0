"""Resume is offered only for a stopped train job that has a checkpoint to continue from."""

from __future__ import annotations

import signal

from studio.jobs.procs import killed_reason as _killed_reason
from studio.jobs.scheduler import can_resume


def _job(tmp_path, status="failed", kind="train"):
    return {"kind": kind, "status": status, "run_dir": str(tmp_path)}


def test_killed_job_without_checkpoint_is_not_resumable(tmp_path):
    assert not can_resume(_job(tmp_path))
    assert "Resume" not in _killed_reason(signal.SIGKILL, None)
    assert "no checkpoint" in _killed_reason(signal.SIGKILL, None)
    ckpt = tmp_path / "checkpoints" / "checkpoint-20"
    ckpt.mkdir(parents=True)
    assert not can_resume(_job(tmp_path))  # incomplete: no trainer_state.json yet
    (ckpt / "trainer_state.json").write_text("{}")
    assert can_resume(_job(tmp_path))
    assert "step 20" in _killed_reason(signal.SIGKILL, 20)
    assert not can_resume(_job(tmp_path, status="running"))
    assert not can_resume(_job(tmp_path, kind="import"))

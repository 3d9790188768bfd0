"""The evaluation the page re-attaches to after a reload: live first, else the newest."""

from __future__ import annotations

from studio.jobs.trained import latest_evaluation


def _eval(store, app_id, train_job_id, status):
    return store.create_job(
        app_id, None, "evaluate", {"train_job_id": train_job_id}, "", status=status
    )


def test_live_evaluation_wins_then_newest_finished(store, settings):
    app = store.create_app("a", owner=settings.owner)["id"]
    assert latest_evaluation(store, app, "train1") is None
    old = _eval(store, app, "train1", "succeeded")
    assert latest_evaluation(store, app, "train1")["id"] == old["id"]
    running = _eval(store, app, "train1", "running")
    newer = _eval(store, app, "train1", "failed")
    _eval(store, app, "train2", "queued")  # another model's evaluation is never picked
    assert latest_evaluation(store, app, "train1")["id"] == running["id"]
    store.update_job(running["id"], status="succeeded")
    assert latest_evaluation(store, app, "train1")["id"] == newer["id"]
    assert latest_evaluation(store, app, "train2")["status"] == "queued"

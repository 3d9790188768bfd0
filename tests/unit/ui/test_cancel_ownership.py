"""Cancelling a job as another user: the Evaluate tab's cancel stops only the caller's own
evaluations, the Train tab's only their own training jobs; anything else reads exactly like
a job that does not exist, changes nothing, and every cancel is in the app's activity."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import gradio as gr
import pytest
from gradio.context import LocalContext

from studio.jobs import JobRunner
from studio.ui.context import UIContext
from studio.ui.evaluate import handlers as evaluate_handlers
from studio.ui.train import handlers as train_handlers

MISSING = "0123456789ab"


@pytest.fixture
def team(settings, store):
    s = dataclasses.replace(settings, sign_in="users", admins=("root",))
    return UIContext(settings=s, store=store, runner=JobRunner(store, s))


def _as(user: str):
    return LocalContext.request.set(SimpleNamespace(username=user))


def _refusal(fn, *args) -> str:
    with pytest.raises(gr.Error) as err:
        fn(*args)
    return str(err.value)


def _same_as_missing(fn, ctx, job_id: str) -> None:
    theirs = _refusal(fn, ctx, job_id).replace(job_id, "<id>")
    missing = _refusal(fn, ctx, MISSING).replace(MISSING, "<id>")
    assert theirs == missing


def test_cancel_evaluation_touches_only_the_callers_own_evaluations(team, store):
    app = store.create_app("Ann's", owner="ann")
    train = store.create_job(app["id"], None, "train")
    evaluation = store.create_job(app["id"], None, "evaluate")
    token = _as("bob")
    try:
        for job in (train, evaluation):
            _same_as_missing(evaluate_handlers.cancel_eval, team, job["id"])
            _same_as_missing(train_handlers.cancel_job, team, job["id"])
    finally:
        LocalContext.request.reset(token)
    assert store.get_job(train["id"])["status"] == "queued"
    assert store.get_job(evaluation["id"])["status"] == "queued"
    token = _as("ann")
    try:
        # Each tab's cancel stops its own kind of job only, whoever owns it.
        _same_as_missing(evaluate_handlers.cancel_eval, team, train["id"])
        _same_as_missing(train_handlers.cancel_job, team, evaluation["id"])
        assert store.get_job(train["id"])["status"] == "queued"
        evaluate_handlers.cancel_eval(team, evaluation["id"])
    finally:
        LocalContext.request.reset(token)
    assert store.get_job(evaluation["id"])["status"] == "cancelled"
    token = _as("root")  # an administrator may stop anyone's job, and it is recorded
    try:
        train_handlers.cancel_job(team, train["id"])
    finally:
        LocalContext.request.reset(token)
    assert store.get_job(train["id"])["status"] == "cancelled"
    log = [(e["user"], e["action"], e["detail"]) for e in store.list_activity(app["id"])]
    assert ("ann", "cancelled", f"evaluation job {evaluation['id']}") in log
    assert ("root", "cancelled", f"training job {train['id']}") in log


def test_launch_commands_of_another_users_job_read_like_a_missing_one(team, store):
    app = store.create_app("Ann's", owner="ann")
    run = team.settings.app_dir(app["id"]) / "runs" / "x"
    train = store.create_job(app["id"], None, "train", run_dir=str(run))
    token = _as("bob")
    try:
        _same_as_missing(train_handlers.export_job, team, train["id"])
    finally:
        LocalContext.request.reset(token)
    token = _as("ann")
    try:
        assert str(run) in train_handlers.export_job(team, train["id"])
    finally:
        LocalContext.request.reset(token)

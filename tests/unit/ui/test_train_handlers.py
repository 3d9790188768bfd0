"""The Train tab's handlers called as plain functions (no page): the model list, the poll
that sends only what changed, row selection, and the job buttons' checks."""

from __future__ import annotations

import gradio as gr
import pandas as pd
import pytest

from studio.ui import train_handlers as h
from studio.ui.context import UIContext

SKIP = gr.skip()


class FakeRunner:
    """Records what the buttons ask of the job runner."""

    def __init__(self):
        self.calls = []

    def cancel(self, job_id):
        self.calls.append(("cancel", job_id))
        return {"status": "queued"}

    def resume(self, job_id):
        self.calls.append(("resume", job_id))


@pytest.fixture
def ctx(settings, store):
    return UIContext(settings=settings, store=store, runner=FakeRunner())


def _job(store, tmp_path):
    app = store.create_app("a")
    model = store.create_model(app["id"], "bot", "custom", "causal", None, {})
    job = store.create_job(app["id"], model["id"], "train", run_dir=str(tmp_path / "run"))
    return app, model, job


def test_model_list_keeps_the_choice_while_the_app_has_it(ctx, store, tmp_path):
    app, model, _ = _job(store, tmp_path)
    [(label, model_id)] = h.model_choices(ctx, app["id"])
    assert model_id == model["id"] and label.startswith("bot v1 (")
    assert h.refresh_models(ctx, app["id"], "gone").value == model["id"]
    assert h.model_choices(ctx, "") == [] and h.show_plan(ctx, "", model["id"]) == ""


def test_refresh_sends_everything_once_then_only_changes(ctx, store, tmp_path):
    app, _, job = _job(store, tmp_path)
    assert h.pick_job(ctx, app["id"], "") == job["id"]
    first = h.refresh(ctx, job["id"], app["id"], None)
    assert len(first) == h.N_LIVE_OUTPUTS
    status, progress, chart, log, table, cancel, resume, last = first
    assert job["id"] in status and table[0][0] == job["id"]
    assert cancel.interactive is True and resume.interactive is False  # queued, no checkpoint
    # The next poll, with the page showing what was sent: nothing to send.
    again = h.refresh(ctx, job["id"], app["id"], last, status, pd.DataFrame(table))
    assert list(again[:-1]) == [SKIP] * (h.N_LIVE_OUTPUTS - 1) and again[-1] == last
    # A crossed answer (the page shows something else): everything is sent again.
    crossed = h.refresh(ctx, job["id"], app["id"], last, "**Job other**", pd.DataFrame(table))
    assert crossed[0] == status and crossed[4] == table


def test_select_job_shows_the_clicked_row_and_ignores_a_stale_one(ctx, store, tmp_path):
    app, _, job = _job(store, tmp_path)
    table = pd.DataFrame([[job["id"], "bot v1"]])
    chosen, *shown = h.select_job(
        ctx, gr.SelectData(None, {"index": [0, 1], "value": "bot v1"}), table, app["id"], None, None
    )
    assert chosen == job["id"] and len(shown) == h.N_LIVE_OUTPUTS and job["id"] in shown[0]
    stale = h.select_job(
        ctx, gr.SelectData(None, {"index": [3, 0], "value": ""}), table, app["id"], None, None
    )
    assert list(stale) == [SKIP] * (1 + h.N_LIVE_OUTPUTS)


def test_job_buttons_check_before_asking_the_runner(ctx, store, tmp_path):
    with pytest.raises(gr.Error, match="Choose or create an app"):
        h.start_training(ctx, "", "m")
    app, _, job = _job(store, tmp_path)
    with pytest.raises(gr.Error, match="Choose a model configuration"):
        h.start_training(ctx, app["id"], "")
    with pytest.raises(gr.Error, match="No job selected to cancel"):
        h.cancel_job(ctx, "")
    with pytest.raises(gr.Error, match="No job selected to resume"):
        h.resume_job(ctx, "")
    with pytest.raises(gr.Error, match="No job selected"):
        h.export_job(ctx, "")
    h.cancel_job(ctx, job["id"])
    assert h.resume_job(ctx, job["id"])
    assert ctx.runner.calls == [("cancel", job["id"]), ("resume", job["id"])]

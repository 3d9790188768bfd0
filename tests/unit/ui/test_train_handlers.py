"""The Train tab's handlers called as plain functions (no page): the model list, the poll
that sends only what changed, row selection, and the job buttons' checks."""

from __future__ import annotations

import gradio as gr
import pandas as pd
import pytest

from studio.ui.context import UIContext
from studio.ui.train import handlers as h

SKIP = gr.skip()


class FakeRunner:
    """Records what the buttons ask of the job runner."""

    def __init__(self):
        self.calls = []

    def cancel(self, job_id):
        self.calls.append(("cancel", job_id))
        return {"status": "queued"}

    def resume(self, job_id, env=None):
        self.calls.append(("resume", job_id))
        self.env = env


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


def test_poll_answers_only_when_the_page_is_out_of_date(ctx, store, tmp_path):
    app, _, job = _job(store, tmp_path)
    # Nothing shown yet: the poll asks for a refresh.
    assert h.poll(ctx, job["id"], app["id"], None) != SKIP
    *_, table, _, _, last = h.refresh(ctx, job["id"], app["id"], None)
    status = last[2][0]
    # The page shows what was sent: a quiet tick sends nothing.
    assert h.poll(ctx, job["id"], app["id"], last, status, pd.DataFrame(table)) == SKIP
    # The job changed (it started): the poll asks for a refresh, which sends the new status.
    store.update_job(job["id"], status="running", started_at=1.0)
    assert h.poll(ctx, job["id"], app["id"], last, status, pd.DataFrame(table)) != SKIP
    again = h.refresh(ctx, job["id"], app["id"], last, status, pd.DataFrame(table))
    assert "running" in again[0] and again[-1][0] != last[0]


def test_only_a_running_jobs_ticking_duration_does_not_redraw_the_table(ctx, store, tmp_path):
    app, _, job = _job(store, tmp_path)
    *_, table, _, _, last = h.refresh(ctx, job["id"], app["id"], None)
    aged = [[*row[:-1], "9m59s"] for row in table]  # only the duration differs
    assert h._same_rows(table, aged) and not h._same_rows(
        table, [[*table[0][:2], "x", *table[0][3:]]]
    )


def test_select_job_answers_light_then_refresh_sends_the_chart_and_log(ctx, store, tmp_path):
    app, model, job = _job(store, tmp_path)
    other = store.create_job(app["id"], model["id"], "train", run_dir=str(tmp_path / "run2"))
    (tmp_path / "run2").mkdir()
    (tmp_path / "run2" / "train.log").write_text("step 1 of the other job\n")
    first = h.refresh(ctx, job["id"], app["id"], None)
    status, _, _, log, table, _, _, last = first
    page_table = pd.DataFrame(table)
    row = [r[0] for r in table].index(other["id"])
    chosen, new_status, progress, cancel, resume, kept = h.select_job(
        ctx,
        gr.SelectData(None, {"index": [row, 0], "value": other["id"]}),
        page_table,
        app["id"],
        last,
        status,
    )
    # The click's answer: the clicked job's status line and buttons, no chart or log.
    assert chosen == other["id"] and other["id"] in new_status and job["id"] not in new_status
    assert cancel.interactive is True and resume.interactive is False
    # It records that the page still shows the old chart and log, and clears the stamp...
    assert kept[0] is None and kept[2][3] == log and kept[2][0] == new_status
    # ...so the refresh that the job id's change runs sends the new log, not the status again.
    then = h.refresh(ctx, other["id"], app["id"], kept, new_status, page_table)
    assert then[0] == SKIP and "other job" in then[3] and then[4] == SKIP
    stale = h.select_job(
        ctx, gr.SelectData(None, {"index": [9, 0], "value": ""}), page_table, app["id"], None, None
    )
    assert list(stale) == [SKIP] * (1 + h.N_SELECT_OUTPUTS)


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
    assert ctx.runner.env is None  # no one signed in with Hugging Face: the server's token
    h.resume_job(ctx, job["id"], gr.OAuthToken(token="hf_user", scope="", expires_at=0))
    assert ctx.runner.env == {"HF_TOKEN": "hf_user"}


def test_train_refuses_a_second_run_of_a_configuration_that_is_training(ctx, store, tmp_path):
    app, model, job = _job(store, tmp_path)  # queued, of this model
    store.update_job(job["id"], status="running")
    with pytest.raises(gr.Error, match=f"Job {job['id']} is already running with this config"):
        h.start_training(ctx, app["id"], model["id"])
    assert [j["id"] for j in store.list_jobs(app["id"], kind="train")] == [job["id"]]

"""The Evaluate / Export tab's handlers called as plain functions: every export and the
Evaluate button refuse a missing app, a missing model and another app's model in words."""

from __future__ import annotations

import gradio as gr
import pytest

from studio.ui.context import UIContext
from studio.ui.evaluate import handlers as evaluate_handlers


@pytest.fixture
def ctx(settings, store):
    return UIContext(settings=settings, store=store)


def test_exports_need_an_app_and_a_model_of_that_app(ctx, store):
    mine, other = store.create_app("mine"), store.create_app("other")
    theirs = store.create_job(other["id"], None, "train", status="succeeded")
    with pytest.raises(gr.Error, match="Choose or create an app"):
        evaluate_handlers.export_adapter(ctx, "", theirs["id"])
    with pytest.raises(gr.Error, match="Choose a trained model first"):
        evaluate_handlers.export_merged(ctx, mine["id"], "")
    with pytest.raises(gr.Error, match="belongs to another app"):
        evaluate_handlers.export_gguf(ctx, mine["id"], theirs["id"], "Q8_0")
    with pytest.raises(gr.Error, match="belongs to another app"):
        evaluate_handlers.start(ctx, mine["id"], theirs["id"], None, None, ["perplexity"], 10, 8)
    with pytest.raises(gr.Error, match="No job with id"):
        evaluate_handlers.push_hub(ctx, mine["id"], "nope", "me/model", "token", False)
    with pytest.raises(gr.Error, match="Choose an adapter .zip"):
        evaluate_handlers.import_zip(ctx, mine["id"], None, "")
    assert store.list_jobs(mine["id"]) == []  # nothing was queued

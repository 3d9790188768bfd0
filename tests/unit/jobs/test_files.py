"""Run-folder readers the page polls, and the Train tab's pure views of them."""

from __future__ import annotations

import json
import math

from studio.jobs import job_progress, read_metrics, tail_log
from studio.ui.train.views import (
    budget_text,
    chart_frame,
    display_stamp,
    jobs_rows,
    pick_job_id,
    progress_html,
    status_markdown,
)


def _write(run, *records, partial=""):
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records) + partial)


def test_metrics_tolerate_a_partial_line_and_keep_the_newest_repeat(tmp_path):
    _write(
        tmp_path,
        {"type": "train", "step": 2, "loss": 3.0, "total_steps": 8},
        {"type": "train", "step": 4, "loss": 2.0, "total_steps": 8},
        {"type": "start", "step": 2, "total_steps": 8},
        {"type": "train", "step": 4, "loss": 1.9, "total_steps": 8, "eta_s": 5.0},
        {"type": "eval", "step": 4, "eval_loss": 1.5, "perplexity": "inf"},
        partial='{"type": "train", "step": 6, "lo',
    )
    metrics = read_metrics(tmp_path)
    assert [(m["type"], m["step"]) for m in metrics] == [
        ("train", 2),
        ("start", 2),
        ("train", 4),
        ("eval", 4),
    ]
    assert metrics[2]["loss"] == 1.9 and metrics[3]["perplexity"] == math.inf
    p = job_progress({"status": "running", "run_dir": str(tmp_path), "reason": ""}, metrics)
    assert (p["step"], p["total_steps"], p["fraction"], p["eta_s"]) == (4, 8, 0.5, 5.0)
    assert p["loss"] == 1.9 and p["eval_loss"] == 1.5 and p["perplexity"] == math.inf
    frame = chart_frame(metrics)
    assert set(frame["series"]) == {"train loss", "eval loss"} and len(frame) == 3
    assert "step 4 / 8 (50.0%)" in progress_html(p)
    assert "**running**" in status_markdown({"id": "j", "status": "running", "reason": ""}, p)
    assert read_metrics(tmp_path / "nowhere") == []


def test_tail_log_reads_only_the_end_and_resolves_carriage_returns(tmp_path):
    lines = [f"line {i}" for i in range(5000)] + ["10%\r50%\r100%"]
    (tmp_path / "train.log").write_text("\n".join(lines))
    tail = tail_log(tmp_path, n=3, max_bytes=2000).splitlines()
    assert tail == ["line 4998", "line 4999", "100%"]
    assert tail_log(tmp_path / "nowhere") == ""


def test_finished_job_uses_its_summary():
    job = {
        "id": "j1",
        "status": "succeeded",
        "reason": "",
        "run_dir": "",
        "model_id": "m",
        "created_at": 0.0,
        "started_at": 10.0,
        "finished_at": 70.0,
        "summary": {
            "steps": 6,
            "total_steps": 6,
            "train_loss": 1.0,
            "eval_loss": 2.0,
            "perplexity": math.exp(2.0),
        },
    }
    p = job_progress(job, [])
    assert p["fraction"] == 1.0 and p["eta_s"] == 0.0 and p["eval_loss"] == 2.0
    [row] = jobs_rows([job], {"m": "bot v1"})
    assert row[:6] == ["j1", "bot v1", "succeeded", "6/6", "1", "2"] and row[-1] == "1m00s"


def test_chart_axes_are_numeric_even_before_the_first_step():
    import gradio as gr

    plot = gr.LinePlot(x="step", y="value", color="series")
    for metrics in ([], [{"type": "train", "step": 1, "loss": 2.5}]):
        types = plot.postprocess(chart_frame(metrics)).model_dump()["datatypes"]
        assert types["step"] == types["value"] == "quantitative", types


def test_without_a_saved_job_the_live_one_is_shown():
    jobs = [
        {"id": "new", "status": "failed"},
        {"id": "q", "status": "queued"},
        {"id": "run", "status": "running"},
        {"id": "old", "status": "succeeded"},
    ]
    assert pick_job_id(jobs, "") == "run"
    assert pick_job_id(jobs, "old") == "old"  # the job this browser was watching
    assert pick_job_id(jobs, "gone") == "run"
    assert pick_job_id([j for j in jobs if j["id"] != "run"], "") == "q"
    assert pick_job_id(jobs[:1] + jobs[3:], "") == "new"
    assert pick_job_id([], "") == ""


def test_the_display_stamp_changes_only_with_the_job_or_its_files(tmp_path):
    job = {
        "id": "j",
        "status": "succeeded",
        "reason": "",
        "started_at": 1.0,
        "finished_at": 2.0,
        "run_dir": str(tmp_path),
    }
    _write(tmp_path, {"type": "train", "step": 2, "loss": 3.0, "total_steps": 8})
    first = display_stamp(job)
    assert display_stamp(dict(job)) == first  # a finished job: nothing to re-read or re-send
    with (tmp_path / "metrics.jsonl").open("a") as f:
        f.write(json.dumps({"type": "train", "step": 4, "loss": 2.0}) + "\n")
    assert display_stamp(job) != first
    assert display_stamp({**job, "status": "running"}) != display_stamp(job)
    assert display_stamp(None) == display_stamp(None) != display_stamp(job)


def test_chart_names_every_series_from_its_first_point():
    """Before the first evaluation the eval series is a NaN placeholder (the page fixes its
    series at the first data it draws; a series added later would never be drawn)."""
    frame = chart_frame([{"type": "train", "step": 1, "loss": 2.5}])
    assert list(frame["series"]) == ["train loss", "eval loss"]
    assert frame["value"].iloc[0] == 2.5 and math.isnan(frame["value"].iloc[1])
    assert chart_frame([]).empty  # nothing at all: the chart gets None (plot_value)


def test_classification_runs_chart_accuracy_and_show_the_time_budget():
    metrics = [
        {"type": "start", "step": 0, "total_steps": 90, "reports_accuracy": True},
        {
            "type": "budget",
            "step": 4,
            "total_steps": 40,
            "planned_steps": 90,
            "examples": 320,
            "epochs": 0.5,
            "budget_s": 600,
            "deadline": 1000.0,
        },
        {"type": "train", "step": 4, "loss": 2.5, "total_steps": 40},
    ]
    frame = chart_frame(metrics)
    assert list(frame["series"]) == ["train loss", "eval loss", "validation accuracy"]
    assert "validation accuracy" not in set(chart_frame(metrics[2:])["series"])
    metrics.append(
        {"type": "eval", "step": 4, "eval_loss": 1.0, "accuracy": 0.75, "accuracy_rows": 6}
    )
    assert chart_frame(metrics).query("series == 'validation accuracy'")["value"].tolist() == [0.75]
    p = job_progress({"status": "running", "run_dir": "", "reason": ""}, metrics)
    assert p["accuracy"] == 0.75 and p["budget"]["total_steps"] == 40
    text = budget_text(p["budget"], running=True, now=880.0)
    assert "40 steps chosen (of 90 planned)" in text and "320 examples" in text
    assert "0.5 epochs" in text and "2m00s left" in text
    assert "validation accuracy 0.750 on 6 rows" in status_markdown(
        {"id": "j", "status": "running", "reason": ""}, p
    )


def test_a_resumed_job_shows_the_progress_of_its_live_part(tmp_path):
    """The row of a resumed job still holds the stopped part's summary (step 8 of 20) until
    the resumed part ends; the page reads the live part from the run instead, with the pace
    (ETA, speed) of the part that is running."""
    _write(
        tmp_path,
        {"type": "start", "step": 0, "total_steps": 20, "time": 1.0},
        {"type": "train", "step": 8, "loss": 0.55, "total_steps": 20, "eta_s": 120.0},
        {"type": "start", "step": 8, "total_steps": 20, "time": 50.0},
    )
    stopped = {"steps": 8, "total_steps": 20, "train_loss": 0.5456}
    job = {"status": "running", "reason": "", "run_dir": str(tmp_path), "summary": stopped}
    p = job_progress(job)
    # Before the resumed part's first step: where it starts, and no ETA from the old pace.
    assert (p["step"], p["eta_s"], p["tokens_per_s"]) == (8, None, None)
    with (tmp_path / "metrics.jsonl").open("a") as f:
        f.write(
            json.dumps(
                {
                    "type": "train",
                    "step": 12,
                    "loss": 0.4,
                    "total_steps": 20,
                    "eta_s": 40.0,
                    "tokens_per_s": 99.0,
                }
            )
            + "\n"
        )
    p = job_progress(job)
    assert (p["step"], p["fraction"], p["eta_s"], p["loss"]) == (12, 0.6, 40.0, 0.4)
    assert "step 12 / 20 (60.0%)" in progress_html(p)
    [row] = jobs_rows([{**job, "id": "j", "created_at": 0.0}], {}, {"j": p})
    assert row[3] == "12/20"
    # Once it has stopped again, the summary it wrote is the truth.
    p = job_progress({**job, "status": "cancelled", "summary": {**stopped, "steps": 14}})
    assert p["step"] == 14

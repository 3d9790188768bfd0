"""RunFolder: every file of a run, named and read in one place."""

from __future__ import annotations

import json

from studio.jobs.run_folder import RunFolder


def test_paths_are_the_run_folder_contract(tmp_path):
    run = RunFolder(str(tmp_path))
    assert run.path == tmp_path
    assert run.config_path == tmp_path / "config.json"
    assert run.adapter_dir == tmp_path / "adapter"
    assert run.meta_path == tmp_path / "adapter" / "studio.json"
    assert run.status_path == tmp_path / "status.json"
    assert run.metrics_path == tmp_path / "metrics.jsonl"
    assert run.log_path == tmp_path / "train.log"
    assert run.results_path == tmp_path / "results.json"
    assert run.checkpoints_dir == tmp_path / "checkpoints"
    assert RunFolder(tmp_path) == run  # a value: equal folders are equal


def test_config_is_empty_when_missing_or_broken_and_round_trips(tmp_path):
    run = RunFolder(tmp_path / "new")
    assert run.config() == {} and not run.has_config()
    run.write_config({"kind": "train", "trainer": {"seed": 3}})
    assert run.has_config() and run.config() == {"kind": "train", "trainer": {"seed": 3}}
    run.config_path.write_text("{not json")
    assert run.config() == {}
    run.config_path.write_text("[1, 2]")
    assert run.config() == {}


def test_model_folder_meta_and_kind(tmp_path):
    run = RunFolder(tmp_path)
    assert not run.has_model() and run.meta() == {} and not run.holds_adapter()
    run.adapter_dir.mkdir()
    run.write_meta({"base_model": "b", "prompt_format": "chat"})
    assert run.has_model() and run.meta()["base_model"] == "b"
    assert not run.holds_adapter() and run.adapter_config() == {}  # full weights
    (run.adapter_dir / "adapter_config.json").write_text(json.dumps({"r": 8}))
    assert run.holds_adapter() and run.adapter_config() == {"r": 8}
    staged = tmp_path / "staged"
    staged.mkdir()
    run.write_meta({"method": "merged"}, folder=staged)
    assert json.loads((staged / "studio.json").read_text()) == {"method": "merged"}


def test_status_is_written_atomically_and_needs_a_status(tmp_path):
    run = RunFolder(tmp_path)
    assert run.status() is None
    run.write_status({"status": "succeeded", "reason": "", "summary": {"steps": 4}})
    assert run.status()["summary"] == {"steps": 4}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["status.json"]  # no .tmp left
    run.status_path.write_text(json.dumps({"reason": "no status key"}))
    assert run.status() is None
    run.status_path.write_text('{"status": "fail')  # half written: not a status
    assert run.status() is None
    run.clear_status()
    assert not run.status_path.exists()


def test_metrics_keep_the_newest_record_per_step_and_skip_a_half_line(tmp_path):
    run = RunFolder(tmp_path)
    assert run.metrics() == []
    run.append_metric({"type": "train", "step": 1, "loss": 2.0})
    run.append_metric({"type": "train", "step": 2, "loss": "nan"}, sync=True)
    run.append_metric({"type": "train", "step": 2, "loss": 1.5})  # logged again after a resume
    with run.metrics_path.open("a") as f:
        f.write('{"type": "train", "st')  # the line the child is writing right now
    records = run.metrics()
    assert [(r["step"], r["loss"]) for r in records] == [(1, 2.0), (2, 1.5)]
    every = run.metrics(latest_only=False)
    assert len(every) == 3 and every[1]["loss"] != every[1]["loss"]  # "nan" read as NaN


def test_log_tail_keeps_what_a_progress_bar_finally_showed(tmp_path):
    run = RunFolder(tmp_path)
    assert run.log_tail() == ""
    run.log_path.write_text("one\ntwo\r 50%\r100%\nthree\n")
    assert run.log_tail() == "one\n100%\nthree"
    assert run.log_tail(n=1) == "three"


def test_results_and_batch_csv(tmp_path):
    run = RunFolder(tmp_path)
    assert run.results() is None
    run.write_results({"n_examples": 3, "ppl": float("inf")})
    assert run.results()["n_examples"] == 3
    assert run.batch_csv == tmp_path / "batch.csv"


def test_only_complete_checkpoints_count(tmp_path):
    run = RunFolder(tmp_path)
    assert run.last_checkpoint() is None and run.last_checkpoint_step() is None
    for step, complete in ((5, True), (10, True), (15, False)):
        folder = run.checkpoints_dir / f"checkpoint-{step}"
        folder.mkdir(parents=True)
        if complete:
            (folder / "trainer_state.json").write_text("{}")
    (run.checkpoints_dir / "checkpoint-final").mkdir()  # not a step: ignored
    assert run.last_checkpoint_step() == 10
    assert run.last_checkpoint() == run.checkpoints_dir / "checkpoint-10"
    assert sorted(run.checkpoints()) == [5, 10]


def test_stop_request_file(tmp_path):
    run = RunFolder(tmp_path)
    assert not run.stop_path.exists()
    run.request_stop(123.0)
    assert run.stop_path.read_text() == "123.0"
    run.clear_stop()
    assert not run.stop_path.exists()

"""The evaluation entry point: `python -m studio.evaluate RUN_DIR`.

RUN_DIR/config.json is an EvalRun (studio.configs.eval_run) built by
studio.actions.start_evaluation (the job runner adds job_id / run_dir / kind). Writes
metrics.jsonl (progress), train.log, results.json, batch.csv and, always, status.json =
{"status", "reason", "summary"} (studio.jobs.child). Stop with `touch RUN_DIR/STOP`, SIGTERM
or Ctrl-C. Exit code 0 for succeeded/cancelled, 1 for failed. The job runner records the
results in the store.
"""

from __future__ import annotations

from studio.configs.eval_run import EvalRun
from studio.evaluate.run import evaluate, summary_of
from studio.jobs.child import JobProcess, StopRequest, exit_process, run_job
from studio.jobs.run_folder import RunFolder
from studio.store.job_states import EVALUATE, SUCCEEDED

OOM_ADVICE = (
    "Out of memory: lower the batch size or the number of examples, or evaluate on "
    "a machine with more memory."
)
STOP_NOTICE = "stopping after this batch, without results (Ctrl-C again quits at once)."


def evaluate_run(run: RunFolder, resume: bool) -> dict:  # noqa: ARG001 - evaluations restart
    """The evaluation job's work: score, write results.json, return the status dict."""
    cfg = EvalRun.from_json(run.config_path)
    cfg.run_dir = cfg.run_dir or str(run.path)
    stop = StopRequest(run.path, notice=STOP_NOTICE)
    stop.install()
    results = evaluate(run.path, cfg, stop=stop)
    return {
        "status": SUCCEEDED,
        "reason": f"Evaluated {results['n_examples']} examples.",
        "summary": summary_of(results),
    }


def main(argv: list[str] | None = None) -> int:
    job = JobProcess(
        kind=EVALUATE,
        description=__doc__.split("\n")[0],
        work=evaluate_run,
        oom_advice=OOM_ADVICE,
        config_label="evaluation config",
        activity="evaluation",
        resume_help="accepted; evaluations restart",
        cancelled_reason=lambda run: "Stopped on request; no results saved.",
    )
    return run_job(job, argv)


if __name__ == "__main__":
    exit_process(main())  # status.json is written: end without the slow teardown

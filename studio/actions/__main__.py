"""The use cases from a terminal: `python -m studio.actions COMMAND ...` on STUDIO_HOME.

    python -m studio.actions demo sentiment              # an app, a dataset version, a model
    python -m studio.actions train MODEL_ID --wait       # queue its training; run it to the end
    python -m studio.actions evaluate JOB_ID --wait      # an evaluation of a trained model
    python -m studio.actions export JOB_ID --format merged
    python -m studio.actions import ADAPTER.zip --app APP_ID [--base MODEL]

The same functions the page calls (studio.actions), as the local user: with sign-in off, every
row. A job queued here is run by the studio's job runner when the page is up; --wait runs it
here and prints its final status (exit code 1 when it failed). A mistake prints what to fix
and exits with code 2.
"""

from __future__ import annotations

import argparse
import sys
import time

from studio.actions.demo_app import create_demo_app
from studio.actions.export import FORMATS, GGUF_TYPES, export_model
from studio.actions.import_adapter import import_adapter
from studio.actions.ownership import Caller
from studio.actions.start_evaluation import start_evaluation
from studio.actions.start_training import start_training
from studio.data.samples import SAMPLES
from studio.errors import StudioError
from studio.jobs.scheduler import JobRunner
from studio.settings import Settings
from studio.store import Store
from studio.store.job_states import TERMINAL_STATUSES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m studio.actions",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="create a demo app").add_argument("sample", choices=SAMPLES)
    train = commands.add_parser("train", help="queue a saved model's training")
    train.add_argument("model_id")
    evaluate = commands.add_parser("evaluate", help="queue an evaluation of a trained model")
    evaluate.add_argument("job_id")
    evaluate.add_argument("--version", default=None, help="dataset version (default: its own)")
    for command in (train, evaluate):
        command.add_argument("--wait", action="store_true", help="run the job here to the end")
    export = commands.add_parser("export", help="export a trained model as a zip")
    export.add_argument("job_id")
    export.add_argument("--format", choices=FORMATS, default="adapter")
    export.add_argument("--qtype", choices=GGUF_TYPES, default="Q8_0")
    imported = commands.add_parser("import", help="import an adapter zip into an app")
    imported.add_argument("zip")
    imported.add_argument("--app", required=True)
    imported.add_argument("--base", default=None, help="the adapter's base model, if not known")
    return parser


def _wait(runner: JobRunner, store: Store, job_id: str) -> dict:
    """Run the job's process here (the runner's own loop) until it ends; its final row."""
    while (job := store.get_job(job_id))["status"] not in TERMINAL_STATUSES:
        runner.tick()
        time.sleep(runner.poll_s)
    return job


def run(argv: list[str], settings: Settings, store: Store) -> str:
    """What the command prints (a StudioError says what to fix)."""
    opts = _parser().parse_args(argv)
    caller, runner = Caller.local(settings), JobRunner(store, settings)
    if opts.command == "demo":
        made = create_demo_app(store, settings, caller, opts.sample)
        return (
            f"app {made['app']['id']} version {made['version']['id']} model {made['model']['id']}"
        )
    if opts.command == "import":
        job = import_adapter(store, settings, caller, opts.app, opts.zip, opts.base)
        return f"job {job['id']}"
    if opts.command == "train":
        app_id = store.model_of(caller.scope, opts.model_id)["app_id"]
        job = start_training(store, settings, runner, caller, app_id, opts.model_id)
    else:
        app_id = store.job_of(caller.scope, opts.job_id)["app_id"]
        if opts.command == "export":
            kind, qtype = opts.format, opts.qtype
            return str(export_model(store, settings, caller, app_id, opts.job_id, kind, qtype))
        job = start_evaluation(
            store, settings, runner, caller, app_id, opts.job_id, dataset_version_id=opts.version
        )
    if not opts.wait:
        return f"job {job['id']} queued"
    job = _wait(runner, store, job["id"])
    return f"job {job['id']} {job['status']}: {job.get('reason') or ''}".rstrip(": ")


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    settings.ensure_dirs()
    store = Store(settings.db_path, files_root=settings.apps_dir)
    try:
        said = run(sys.argv[1:] if argv is None else argv, settings, store)
    except StudioError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(said)
    return 1 if said.startswith("job ") and " failed" in said.split(":")[0] else 0


if __name__ == "__main__":
    sys.exit(main())

"""Run one evaluation: read RUN_DIR/config.json, score, write results.json and batch.csv.

Progress goes to RUN_DIR/metrics.jsonl as {"type": "progress", "step", "total", "phase"}; a
RUN_DIR/STOP file (or SIGTERM) stops between batches. At the end the results are stored with
store.add_evaluation when the config names a database (db_path).
"""

from __future__ import annotations

import json
import logging
import signal
import time
from pathlib import Path
from typing import Any

from studio.data.stats import normalise_label
from studio.errors import ConfigError, DataError
from studio.jobs.files import METRICS_FILE, STOP_FILE
from studio.settings import Settings
from studio.vocab.examples import Example

log = logging.getLogger("studio.evaluate")
RESULTS_FILE, BATCH_CSV = "results.json", "batch.csv"


class Cancelled(Exception):
    """A stop request arrived (STOP file or SIGTERM)."""


class Progress:
    """Counts work units, appends progress lines and checks for a stop request."""

    def __init__(self, run_dir: Path, total: int):
        self.run_dir, self.total, self.done, self.phase = run_dir, max(total, 1), 0, "loading"
        self.stop_requested = False
        self._last = 0.0

    def check(self) -> None:
        if self.stop_requested or (self.run_dir / STOP_FILE).exists():
            raise Cancelled()

    def write(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 0.5:  # the page polls every second or so
            return
        self._last = now
        rec = {"type": "progress", "step": min(self.done, self.total), "total": self.total,
               "total_steps": self.total, "phase": self.phase, "time": time.time()}  # fmt: skip
        with (self.run_dir / METRICS_FILE).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(rec) + "\n")

    def start(self, phase: str) -> None:
        self.phase = phase
        log.info("phase: %s", phase)
        self.write(force=True)

    def advance(self, n: int = 1) -> None:
        self.done += n
        self.write()
        self.check()


def read_examples(cfg: dict[str, Any]) -> list[Example]:
    """The examples to evaluate on (dataset split or uploaded prompts), at most max_examples."""
    from studio.evaluate.batch import read_prompts

    limit = int(cfg.get("max_examples") or 200)
    if cfg.get("prompts_file"):
        return read_prompts(cfg["prompts_file"], max_rows=limit)
    path = Path(cfg.get("examples") or "")
    if not path.is_file():
        raise DataError(f"The examples file {path} is missing; pick another dataset version.")
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                out.append(Example.from_dict(json.loads(line)))
            except (ValueError, TypeError) as exc:
                raise DataError(f"{path.name} line {n} is not a valid example ({exc}).") from exc
        if len(out) >= limit:
            break
    if not out:
        raise DataError(f"{path.name} has no examples; pick another dataset version.")
    return out


def _plan(cfg: dict, examples: list[Example], labels: list[str], has_base: bool) -> dict:
    metrics, n, passes = set(cfg["metrics"]), len(examples), 2 if has_base else 1
    labelled = [ex for ex in examples if ex.output.strip()]
    return {
        "perplexity": len(labelled) * passes if "perplexity" in metrics else 0,
        "classification": len(labelled) * len(labels) * passes
        if "classification" in metrics and labels else 0,
        "generate": n if metrics & {"text", "batch"} else 0,
    }  # fmt: skip


def evaluate(run_dir: Path, cfg: dict[str, Any], on_sigterm=None) -> dict[str, Any]:
    """Compute every requested metric; returns the results dict (also written to disk)."""
    from studio.evaluate.batch import compare, write_csv
    from studio.evaluate.classification import (
        classification_metrics,
        infer_labels,
        label_probabilities,
    )
    from studio.evaluate.pair import load_pair
    from studio.evaluate.perplexity import perplexity
    from studio.evaluate.textmetrics import text_metrics

    if not cfg.get("adapter_dir"):
        raise ConfigError("config.json has no adapter_dir: build it with build_eval_config.")
    settings = Settings.from_env(home=Path(cfg["studio_home"]),
                                 models_root=Path(cfg["models_dir"]) if cfg.get("models_dir") else None)  # fmt: skip
    examples = read_examples(cfg)
    labelled = [ex for ex in examples if ex.output.strip()]
    # The dataset stats list normalised labels ("neutral"), so answers are normalised alike.
    labels = list(dict.fromkeys(normalise_label(x) for x in cfg.get("labels") or []))
    labels = labels or infer_labels(labelled)
    if cfg.get("task") and cfg["task"] != "classification":
        labels = []
    # sklearn refuses a label set that none of the true answers belongs to.
    if not {normalise_label(ex.output) for ex in labelled} & set(labels):
        labels = []
    progress = Progress(run_dir, 1)
    if on_sigterm is not None:
        on_sigterm(progress)
    progress.start("loading model")
    pair = load_pair(cfg["adapter_dir"], settings)
    plan = _plan(cfg, examples, labels, pair.has_base)
    progress.total = max(sum(plan.values()), 1)
    bs = int(cfg.get("batch_size") or 8)
    results: dict[str, Any] = {"model_ref": cfg.get("model_ref"), "n_examples": len(examples),
                               "split": cfg.get("split") or "uploaded",
                               "dataset_version_id": cfg.get("dataset_version_id"),
                               "has_base": pair.has_base, "metrics": cfg["metrics"]}  # fmt: skip
    variants = [("tuned", None)] + ([("base", pair.base)] if pair.has_base else [])

    def each(fn):
        out = {}
        for name, ctx in variants:
            if ctx is None:
                out[name] = fn(pair.tuned, name)
            else:
                with ctx() as model:
                    out[name] = fn(model, name)
        return out

    def ticker():
        seen = [0]  # rows done so far in this pass; the callback reports a running count

        def tick(n_done: int) -> None:
            progress.advance(n_done - seen[0])
            seen[0] = n_done

        return tick

    if plan["perplexity"]:
        progress.start("perplexity")
        results["perplexity"] = each(lambda m, _: perplexity(
            m, pair.tokenizer, labelled, pair.meta, bs, ticker()))  # fmt: skip
    if plan["classification"]:
        progress.start("classification")
        y_true = [normalise_label(ex.output) for ex in labelled]
        results["classification"] = each(lambda m, _: classification_metrics(
            y_true, label_probabilities(m, pair.tokenizer, labelled, labels, pair.meta, bs,
                                        ticker()), labels))  # fmt: skip
    if plan["generate"]:
        progress.start("generating")
        rows = compare(pair, examples, int(cfg.get("max_new_tokens") or 32),
                       use_exact_match=bool(labels), on_row=lambda n: progress.advance())  # fmt: skip
        if "batch" in cfg["metrics"]:
            write_csv(rows, run_dir / BATCH_CSV)
            results["batch"] = {"rows": rows, "csv": BATCH_CSV}
        if "text" in cfg["metrics"]:
            with_ref = [r for r in rows if r["expected"]]
            refs = [r["expected"] for r in with_ref]
            text = {"tuned": text_metrics([r["tuned_output"] for r in with_ref], refs)}
            if pair.has_base:
                text["base"] = text_metrics([r["base_output"] for r in with_ref], refs)
            for v in text.values():
                v.pop("per_row", None)  # the batch table has them
            results["text"] = text
    progress.done = progress.total
    progress.start("done")
    (run_dir / RESULTS_FILE).write_text(json.dumps(results, indent=2, default=float))
    return results


def summary_of(results: dict[str, Any]) -> dict[str, Any]:
    """The few numbers the job row keeps (the full results are in results.json)."""
    out: dict[str, Any] = {"n_examples": results.get("n_examples", 0)}
    for name in ("tuned", "base"):
        ppl = (results.get("perplexity") or {}).get(name)
        if ppl:
            out[f"{name}_perplexity"] = ppl["perplexity"]
            out[f"{name}_cross_entropy"] = ppl["cross_entropy"]
        cls = (results.get("classification") or {}).get(name)
        if cls:
            out[f"{name}_accuracy"] = cls["accuracy"]
        text = (results.get("text") or {}).get(name)
        if text and text.get("n"):
            out[f"{name}_rougeL"] = text["rougeL"]
            out[f"{name}_bleu"] = text["bleu"]
    return out


def store_results(cfg: dict[str, Any], results: dict[str, Any]) -> None:
    """Record the evaluation in the store (listed per model in the page)."""
    if not cfg.get("db_path") or not cfg.get("app_id"):
        return
    from studio.store import Store

    store = Store(cfg["db_path"])
    results = {k: v for k, v in results.items() if k != "batch"}  # rows stay in results.json
    results["run_dir"] = cfg.get("run_dir", "")
    results["train_job_id"] = cfg.get("train_job_id")
    store.add_evaluation(cfg["app_id"], cfg.get("model_id"), "evaluate", results,
                         job_id=cfg.get("job_id"))  # fmt: skip


def install_sigterm(progress: Progress) -> None:
    """SIGTERM asks for a stop at the next batch, like the STOP file."""

    def handler(signum, frame):  # noqa: ARG001
        progress.stop_requested = True

    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (tests calling evaluate directly)
        pass

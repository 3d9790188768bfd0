"""Run one evaluation: score an EvalRun's model, write results.json and batch.csv.

Progress goes to RUN_DIR/metrics.jsonl as {"type": "progress", "step", "total", "phase"}; a
stop request (RUN_DIR/STOP, SIGTERM, Ctrl-C: studio.jobs.child.StopRequest) stops between
batches. The job runner records the results in the store once the process has exited.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from studio.configs.eval_run import EvalRun
from studio.data.example_files import ReadPolicy, read_examples
from studio.data.stats import normalise_label
from studio.errors import DataError
from studio.evaluate.batch import compare, read_prompts, write_csv
from studio.evaluate.pair import load_pair
from studio.evaluate.perplexity import perplexity
from studio.evaluate.textmetrics import text_metrics
from studio.jobs.child import StopRequest
from studio.jobs.run_folder import RunFolder
from studio.scoring.labels import classification_metrics, infer_labels, label_probabilities
from studio.vocab.examples import Example

log = logging.getLogger("studio.evaluate")


class Progress:
    """Counts work units, appends progress lines and checks for a stop request."""

    def __init__(self, run_dir: Path, total: int, stop: StopRequest | None = None):
        self.run = RunFolder(run_dir)
        self.total, self.done, self.phase = max(total, 1), 0, "loading"
        self.stop = stop or StopRequest(run_dir)
        self._last = 0.0

    def check(self) -> None:
        self.stop.check()

    def write(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 0.5:  # the page polls every second or so
            return
        self._last = now
        self.run.append_metric(
            {
                "type": "progress",
                "step": min(self.done, self.total),
                "total": self.total,
                "total_steps": self.total,
                "phase": self.phase,
                "time": time.time(),
            }
        )

    def start(self, phase: str) -> None:
        self.phase = phase
        log.info("phase: %s", phase)
        self.write(force=True)

    def advance(self, n: int = 1) -> None:
        self.done += n
        self.write()
        self.check()


def eval_examples(cfg: EvalRun) -> list[Example]:
    """The examples to evaluate on (dataset split or uploaded prompts), at most max_examples."""
    limit = cfg.max_examples
    if cfg.prompts_file:
        return read_prompts(cfg.prompts_file, max_rows=limit)
    path = Path(cfg.examples or "")
    out = read_examples(path, ReadPolicy(missing_ok=False, limit=limit))
    if not out:
        raise DataError(f"{path.name} has no examples; pick another dataset version.")
    return out


def _plan(cfg: EvalRun, examples: list[Example], labels: list[str], has_base: bool) -> dict:
    metrics, n, passes = set(cfg.metrics), len(examples), 2 if has_base else 1
    labelled = [ex for ex in examples if ex.output.strip()]
    return {
        "perplexity": len(labelled) * passes if "perplexity" in metrics else 0,
        "classification": len(labelled) * len(labels) * passes
        if "classification" in metrics and labels
        else 0,
        "generate": n if metrics & {"text", "batch"} else 0,
    }


def evaluate(
    run_dir: Path, cfg: EvalRun | dict[str, Any], stop: StopRequest | None = None
) -> dict[str, Any]:
    """Compute every requested metric; returns the results dict (also written to disk)."""
    cfg = cfg if isinstance(cfg, EvalRun) else EvalRun.from_dict(cfg)
    run = RunFolder(run_dir)
    settings = cfg.settings()
    examples = eval_examples(cfg)
    labelled = [ex for ex in examples if ex.output.strip()]
    # The dataset stats list normalised labels ("neutral"), so answers are normalised alike.
    labels = list(dict.fromkeys(normalise_label(x) for x in cfg.labels))
    labels = labels or infer_labels(labelled)
    if cfg.task and cfg.task != "classification":
        labels = []
    # sklearn refuses a label set that none of the true answers belongs to.
    if not {normalise_label(ex.output) for ex in labelled} & set(labels):
        labels = []
    progress = Progress(run_dir, 1, stop)
    progress.start("loading model")
    pair = load_pair(cfg.adapter_dir, settings)
    plan = _plan(cfg, examples, labels, pair.has_base)
    progress.total = max(sum(plan.values()), 1)
    bs = cfg.batch_size
    results: dict[str, Any] = {
        "model_ref": cfg.model_ref,
        "n_examples": len(examples),
        "split": cfg.split or "uploaded",
        "dataset_version_id": cfg.dataset_version_id,
        "has_base": pair.has_base,
        "metrics": cfg.metrics,
    }
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
        results["perplexity"] = each(
            lambda m, _: perplexity(m, pair.tokenizer, labelled, pair.meta, bs, ticker())
        )
    if plan["classification"]:
        progress.start("classification")
        y_true = [normalise_label(ex.output) for ex in labelled]
        results["classification"] = each(
            lambda m, _: classification_metrics(
                y_true,
                label_probabilities(m, pair.tokenizer, labelled, labels, pair.meta, bs, ticker()),
                labels,
            )
        )
    if plan["generate"]:
        progress.start("generating")
        rows = compare(
            pair,
            examples,
            cfg.max_new_tokens,
            use_exact_match=bool(labels),
            on_row=lambda n: progress.advance(),
        )
        if "batch" in cfg.metrics:
            write_csv(rows, run.batch_csv)
            results["batch"] = {"rows": rows, "csv": run.batch_csv.name}
        if "text" in cfg.metrics:
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
    run.write_results(results)
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

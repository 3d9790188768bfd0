"""Every template's whole flow on a tiny model of its architecture, one trained run shared
by the templates of one architecture and method (the same tiny model, tokenizer and method).

    flows = TemplateFlows(store, settings, cache, packaged_dir)
    case = flows.case("qwen3-1.7b-lora")     # the template's settings on its tiny model
    result = flows.result(case)              # its group's trained job and what followed

The training jobs of every group are submitted at once to the studio's own job runner
(`python -m studio.train` child processes, a few at a time), so the flows cost about as much
as the slowest few runs, not the sum of all of them.
"""

from __future__ import annotations

import json
import math
import os
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.actions.ownership import Caller
from studio.actions.save_model import save_model
from studio.actions.start_training import check_trainable
from studio.configs import CPU_ONLY
from studio.configs.defaults import default_dicts, default_hyper, trained_method
from studio.jobs.scheduler import JobRunner
from studio.jobs.trained import trained_model
from studio.store.job_states import ACTIVE_STATUSES
from studio.templates import TEMPLATES
from studio.vocab.examples import Example
from tests.support.examples import word_sentiment
from tests.tiny.models import family_of, tiny_model_dir
from tests.tiny.tokenizers import FAMILIES

# Few steps of short rows: the flow, not the learning, is under test here.
HYPER = {"max_length": 64, "batch_size": 4, "grad_accum": 1, "max_steps": 3, "epochs": 1.0}
HYPER.update(time_budget_min=0.0, warmup_steps=0, eval_every=0)
N_TRAIN, N_VALID, N_NEW = 16, 6, 6
GGUF_ARCHS = ("llama", "mistral")  # studio.export.gguf_writer.LLAMA_LIKE


@dataclass
class Case:
    """One template's settings, pointed at its tiny model."""

    key: str
    model_type: str
    base: str
    hyper: dict[str, Any]
    dicts: dict[str, dict]
    arch: str
    family: str
    method: str

    @property
    def group(self) -> str:
        """The templates that share a trained run: the same tiny architecture, tokenizer,
        model type and method (the first of them in the registry's order trains, with its
        own dicts; the others' dicts are validated on the same architecture)."""
        return json.dumps([self.arch, self.family, self.model_type, self.method])

    @property
    def gguf_expected(self) -> bool:
        """GGUF export writes Llama-layout models with byte-level BPE tokenizers."""
        byte_level = self.family == "smollm2" or FAMILIES[self.family].kind == "byte_level"
        return self.arch in GGUF_ARCHS and byte_level


@dataclass
class Result:
    """A group's trained job and what the rest of the flow gave."""

    job: dict
    status: dict
    log: str
    steps: dict[str, Any] = field(default_factory=dict)


def _examples(n: int, seed: int) -> list[Example]:
    return [
        Example(instruction=e.instruction, input=e.input[:60], output=e.output)
        for e in word_sentiment(n, seed)
    ]


class TemplateFlows:
    def __init__(self, store, settings, cache: Path, packaged_dir: Path, keys=None):
        self.store, self.settings = store, settings
        self.cache, self.packaged = cache, packaged_dir
        self.app = store.create_app("template-flows", owner=settings.owner)
        self.version = self._version()
        # Only the templates under test train (a -k selection trains its own groups only).
        self.cases = {key: self._case(key) for key in (keys or TEMPLATES)}
        self._jobs: dict[str, dict] | None = None
        self._results: dict[str, Result] = {}

    # -- settings ----------------------------------------------------------------------
    def _version(self) -> dict:
        train, valid = _examples(N_TRAIN, 1), _examples(N_VALID, 2)
        folder = self.store.app_dir(self.app["id"]) / "datasets" / "sentiment"
        folder.mkdir(parents=True)
        with self.store.transaction() as conn:
            ds = self.store.get_or_create_dataset(self.app["id"], "sentiment", conn=conn)
            version = self.store.add_dataset_version(
                conn,
                ds["id"],
                content_hash="tiny",
                path=str(folder),
                n_rows=N_TRAIN + N_VALID,
                n_accepted=N_TRAIN + N_VALID,
                valid_pct=25.0,
                stats={"task": "classification", "labels": ["negative", "positive"]},
            )
        for name, rows in (("train", train), ("valid", valid)):
            (folder / f"{name}.jsonl").write_text(
                "".join(json.dumps(e.to_dict()) + "\n" for e in rows)
            )
        return version

    def _case(self, key: str) -> Case:
        template = TEMPLATES[key]
        arch, family = family_of(template)
        scratch = template.method == "scratch"
        base = template.base_model if scratch else str(self._tiny(template))
        hyper = {**default_hyper(template, CPU_ONLY), **HYPER, "valid_pct": 25.0}
        hyper["base_model"] = base
        dicts = default_dicts(template, template.model_type, CPU_ONLY)
        dicts["model"]["base_model"] = base
        method = trained_method(template.method, base, dicts)
        return Case(key, template.model_type, base, hyper, dicts, arch, family, method)

    def _tiny(self, template) -> Path:
        return tiny_model_dir(template, self.cache, self.packaged)

    def case(self, key: str) -> Case:
        return self.cases[key]

    # -- training (all groups at once, through the job runner) ---------------------------
    def _submit_all(self) -> dict[str, dict]:
        runner = JobRunner(self.store, self.settings, poll_s=0.2)
        jobs = {}
        for case in self.cases.values():
            if case.group in jobs:
                continue
            saved = save_model(
                self.store,
                self.settings,
                Caller.local(self.settings),
                self.app["id"],
                case.key,
                case.key,
                case.model_type,
                self.version["id"],
                case.hyper,
                case.dicts,
                CPU_ONLY,
            )
            config = check_trainable(self.store, self.settings, saved["id"], CPU_ONLY)
            jobs[case.group] = runner.submit(self.app["id"], saved["id"], "train", config)
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            runner.tick()
            if not self.store.list_jobs(status=ACTIVE_STATUSES):
                break
            time.sleep(0.2)
        return {group: self.store.get_job(job["id"]) for group, job in jobs.items()}

    def trained(self, case: Case) -> Result:
        """The finished training job of the case's group (all groups train on first call)."""
        if self._jobs is None:
            self._jobs = self._submit_all()
        job = self._jobs[case.group]
        run = Path(job["run_dir"])
        status = json.loads((run / "status.json").read_text()) if job["run_dir"] else {}
        log = (run / "train.log").read_text()[-3000:] if (run / "train.log").is_file() else ""
        return Result(job, status, log)

    # -- the rest of the flow, once per group -------------------------------------------
    def result(self, case: Case) -> Result:
        if case.group not in self._results:
            result = self.trained(case)
            if result.job["status"] == "succeeded":
                result.steps = self._after_training(case, result.job)
            self._results[case.group] = result
        return self._results[case.group]

    def _after_training(self, case: Case, job: dict) -> dict[str, Any]:
        from studio.actions.start_evaluation import build_eval_config
        from studio.evaluate.run import evaluate
        from studio.export import export_adapter_zip, export_merged_zip, import_adapter_zip
        from studio.export.gguf import GGUFRefused, export_gguf_zip
        from studio.generate.engine import Engine
        from studio.generate.options import GenerationOptions
        from studio.generate.prompting import PromptInput

        out: dict[str, Any] = {}
        example = _examples(N_VALID, 2)[0]
        prompt = PromptInput(instruction=example.instruction, input=example.input)
        engine = Engine(self.settings, self.store)
        ref = f"job:{job['id']}"
        exact = engine.generate(ref, prompt, GenerationOptions(max_new_tokens=N_NEW))
        fast = engine.generate(
            ref, prompt, GenerationOptions(max_new_tokens=N_NEW, precision="fast")
        )
        base = engine.generate(f"base:{case.base}", prompt, GenerationOptions(max_new_tokens=N_NEW))
        out["generate"] = {"exact": exact, "fast": fast, "base": base}

        model = trained_model(self.store, job["id"])
        cfg = build_eval_config(
            self.store,
            self.settings,
            model,
            metrics=["perplexity", "classification"],
            max_new_tokens=2,
        )
        eval_dir = self.settings.tmp_dir / f"eval-{job['id']}"
        eval_dir.mkdir(parents=True)
        out["evaluate"] = evaluate(eval_dir, cfg)

        work = self.settings.tmp_dir / f"exports-{job['id']}"
        adapter_zip = export_adapter_zip(self.store, self.settings, model)
        out["adapter_zip"] = zipfile.ZipFile(adapter_zip).namelist()
        merged = _extract(export_merged_zip(self.store, self.settings, model), work / "m")
        out["merged"] = _merged_answer(merged, case, exact.prompt, self.settings)
        try:
            gguf = _extract(export_gguf_zip(self.store, self.settings, model), work / "g")
            out["gguf"] = sorted(p.name for p in gguf.iterdir())
        except GGUFRefused as exc:
            out["gguf"] = exc
        if "adapter_config.json" in out["adapter_zip"]:
            other = self.store.create_app(f"import-{job['id']}", owner=self.settings.owner)
            imported = import_adapter_zip(
                self.store, self.settings, other["id"], adapter_zip, confirmed_base=case.base
            )
            out["imported"] = engine.generate(
                f"job:{imported['id']}", prompt, GenerationOptions(max_new_tokens=N_NEW)
            )
        return out


def _extract(zip_path: Path, dest: Path) -> Path:
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(dest)
    return dest


def _merged_answer(folder: Path, case: Case, prompt: str, settings) -> str:
    """The merged export's greedy answer to the prompt the Generate tab sent."""
    from transformers import AutoTokenizer

    from studio.evaluate.generation import greedy
    from studio.models.loading import load_model

    model = load_model(str(folder), settings, model_type=case.model_type).eval()
    tok = AutoTokenizer.from_pretrained(folder)
    return greedy(model, tok, prompt, N_NEW, model_type=case.model_type)


def finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def train_threads_env() -> dict[str, str]:
    """One torch thread per training child: several run at once on a few cores."""
    return {"STUDIO_TRAIN_THREADS": "1", "OMP_NUM_THREADS": "1"}


def concurrency() -> int:
    return max(2, min(4, os.cpu_count() or 2))

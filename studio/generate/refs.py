"""Model refs for inference: "job:<id>" (a succeeded train or import job's model) and
"base:<ref>".

`resolve_spec` turns a ref into a ModelSpec (what to load and how to prompt it) without
loading anything; `list_models` gives every model a user can generate with (the UI's
dropdown, the HTTP API's /v1/models). No torch here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from studio.errors import ModelUnavailableError, NotFoundError
from studio.jobs.trained import trained_model, trained_models
from studio.models.resolve import PACKAGED_HUB_ID, PACKAGED_REF, model_availability
from studio.prompts.layout import PromptLayout
from studio.settings import Settings
from studio.store.job_states import IMPORT
from studio.templates import TEMPLATES

JOB_PREFIX = "job:"
BASE_PREFIX = "base:"


@dataclass(frozen=True)
class ModelSpec:
    ref: str  # the inference ref ("job:<id>" / "base:<x>")
    label: str  # readable name for the page
    model_type: str  # "causal" | "seq2seq"
    base_ref: str  # ref for studio.models.loading.load_model (base weights)
    adapter_dir: str = ""  # LoRA adapter folder, when the model is base + adapter
    full_dir: str = ""  # a fully trained model folder (method full / scratch)
    prompt_format: str = "sections"  # as in training (studio.json)
    max_length: int = 0  # the training max_length (0 = unknown)
    layout: PromptLayout = PromptLayout()  # section style + preamble of the training data

    @property
    def style(self) -> str:
        """The section style the Instruction mode renders with."""
        return self.layout.style

    @property
    def is_tuned(self) -> bool:
        return bool(self.adapter_dir or self.full_dir)

    @property
    def base_spec_ref(self) -> str:
        """The ref of the untuned base this model was trained from."""
        return BASE_PREFIX + self.base_ref


def _template_base(key: str) -> tuple[str, str, str] | None:
    """(base_model, model_type, the base's name) of a template key, or None if the registry
    lacks it."""
    template = TEMPLATES.get(key)
    if template is None or not template.base_model:
        return None
    return template.base_model, template.model_type, template.base_title


def known_base_refs(settings: Settings) -> set[str]:
    """What may follow "base:" in any ref: template keys, their base models, the packaged one."""
    known = {PACKAGED_REF, PACKAGED_HUB_ID}
    for t in TEMPLATES.values():
        if t.base_model and not t.base_model.startswith("scratch:"):
            known |= {t.key, t.base_model}
    return known


def trained_bases(store) -> set[str]:
    """The bases the studio's own trained and imported models were made from."""
    return {m.base_ref for m in trained_models(store) if m.base_ref}


def resolve_spec(ref: str, store, settings: Settings) -> ModelSpec:
    """What `ref` means; NotFoundError / ModelUnavailableError say how to fix a bad one.

    Any loadable base is resolved here (the page compares a tuned model with its own base);
    what a client may name over HTTP is narrowed by studio.api.request.known_model.
    """
    ref = (ref or "").strip()
    if ref.startswith(JOB_PREFIX):
        return _job_spec(ref[len(JOB_PREFIX) :], store)
    if ref.startswith(BASE_PREFIX):
        return _base_spec(ref[len(BASE_PREFIX) :], settings)
    raise NotFoundError(
        f"Unknown model {ref!r}: use 'job:<train job id>' for a trained model or "
        "'base:<template key or model>' for a base model (GET /v1/models lists them)."
    )


def ensure_reachable(ref: str, store, user: str | None, allow_folders: bool = True) -> None:
    """Refuse a model `user` may not use: someone else's trained model reads as "not found"
    (user=None: any), and with `allow_folders` False a base model named by a server folder
    is refused (sign-in on: users name templates or Hub ids, never paths on the server)."""
    ref = (ref or "").strip()
    if ref.startswith(JOB_PREFIX):
        job_id = ref[len(JOB_PREFIX) :]
        try:
            store.job_of(user, job_id)
        except NotFoundError:
            raise NotFoundError(
                f"No train or import job {job_id!r}; pick a trained model from the list."
            ) from None
    elif ref.startswith(BASE_PREFIX) and not allow_folders:
        inner = ref[len(BASE_PREFIX) :]
        if inner and _template_base(inner) is None and names_server_folder(inner):
            raise NotFoundError(
                "That base model names a folder on the server; with sign-in on only the "
                "studio's base models and Hub ids can be used (GET /v1/models lists them)."
            )


def names_server_folder(name: str) -> bool:
    """True when a model name is (or looks like) a path on this server, not a Hub id."""
    if name.startswith(("/", ".", "~", "\\")) or ".." in name:
        return True
    try:
        return Path(name).expanduser().exists()
    except OSError:
        return True


def _base_spec(inner: str, settings: Settings) -> ModelSpec:
    inner = inner or PACKAGED_REF
    model_type, label = "causal", f"{inner} (base)"
    template = _template_base(inner)
    if template is not None:
        inner_ref, model_type, title = template
        label = f"{title} (base)"
    else:
        inner_ref = inner
        if inner == PACKAGED_REF:
            label = "SmolLM2-135M-Instruct (base)"
        elif (Path(inner) / "config.json").is_file():
            label = f"{Path(inner).name} (base)"
            config = json.loads((Path(inner) / "config.json").read_text())
            model_type = "seq2seq" if config.get("is_encoder_decoder") else "causal"
    ok, reason = model_availability(inner_ref, settings)
    if not ok:
        raise ModelUnavailableError(f"Base model {inner!r} cannot be loaded here: {reason}")
    return ModelSpec(
        ref=BASE_PREFIX + inner, label=label, model_type=model_type, base_ref=inner_ref
    )


def _job_spec(job_id: str, store) -> ModelSpec:
    model = trained_model(store, job_id)
    return ModelSpec(
        ref=JOB_PREFIX + job_id,
        label=job_label(store, model.job, model.meta),
        model_type=model.model_type,
        base_ref=model.base_ref,
        adapter_dir=str(model.model_dir) if model.is_adapter else "",
        full_dir="" if model.is_adapter else str(model.model_dir),
        prompt_format=model.prompt_format,
        max_length=model.max_length,
        layout=model.layout,
    )


def job_label(store, job: dict, meta: dict | None = None) -> str:
    """'<model name> v<version> · job <id8>' when the model row exists."""
    name = ""
    if job.get("model_id"):
        try:
            model = store.get_model(job["model_id"])
            name = f"{model['name']} v{model['version']}"
        except Exception:
            name = ""
    if not name and job.get("kind") == IMPORT:
        params = job.get("params") or {}
        name = f"{params.get('name') or params.get('source') or 'adapter'} (imported)"
    if not name:
        name = (meta or {}).get("template") or "trained model"
    return f"{name} · job {job['id'][:8]}"


def list_models(
    store, settings: Settings, app_id: str | None = None, owner: str | None = None
) -> list[dict]:
    """[{id, name, kind, created}] for succeeded train / import jobs (of one app or all; of
    `owner`'s apps when given) and bases; imported adapters are listed as "trained" (they
    generate the same way)."""
    rows = []
    own = {a["id"] for a in store.list_apps(owner=owner)} if owner is not None else None
    for model in trained_models(store, app_id):
        job = model.job
        if own is not None and job["app_id"] not in own:
            continue
        rows.append(
            {
                "id": JOB_PREFIX + job["id"],
                "name": job_label(store, job),
                "kind": "trained",
                "created": int(job.get("finished_at") or job["created_at"]),
            }
        )
    rows.extend(base_models(settings))
    return rows


def base_models(settings: Settings) -> list[dict]:
    """The templates' base models that can load here (the packaged default at least)."""
    out, seen = [], set()
    for t in TEMPLATES.values():
        if not t.base_model or t.base_model in seen or t.base_model.startswith("scratch:"):
            continue
        if t.needs_cuda or not model_availability(t.base_model, settings)[0]:
            continue
        seen.add(t.base_model)
        out.append(
            {
                "id": BASE_PREFIX + t.key,
                "name": f"{t.base_title} (base)",  # the model, not the template ("… LoRA")
                "kind": "base",
                "created": 0,
            }
        )
    if not out and model_availability(PACKAGED_REF, settings)[0]:
        out.append(
            {
                "id": BASE_PREFIX + PACKAGED_REF,
                "name": "SmolLM2-135M-Instruct (base)",
                "kind": "base",
                "created": 0,
            }
        )
    return out

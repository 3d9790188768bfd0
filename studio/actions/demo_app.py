"""Create the demo app: an app made from one of sample_data/'s files in one click.

    made = create_demo_app(store, settings, caller, "sentiment")   # app, version, model

A demo app is exactly what a user would make by hand: an app, a dataset version from the
sample file (parsed and validated like any upload), and a model configuration from the
sample's template with settings small enough to train on a laptop CPU in a few minutes.
If any step fails, the half-made app is removed again.
"""

from __future__ import annotations

from pathlib import Path

from studio.actions.ownership import Caller
from studio.actions.save_model import save_model
from studio.configs.defaults import default_dicts, default_hyper
from studio.data.samples import SAMPLES
from studio.data.stats import default_tokenizer
from studio.data.versions import create_version
from studio.errors import StudioError
from studio.models.resolve import PACKAGED_HUB_ID
from studio.settings import Settings
from studio.store import Store
from studio.templates import get_template


def _unused_name(store: Store, owner: str, base: str) -> str:
    taken = {a["name"] for a in store.list_apps(owner=owner)}
    name, n = base, 2
    while name in taken:
        name, n = f"{base} ({n})", n + 1
    return name


def create_demo_app(store: Store, settings: Settings, caller: Caller, key: str) -> dict:
    """App + dataset version + saved model for sample `key`: {"app", "version", "model"}."""
    owner = caller.owner
    sample = SAMPLES.get(key)
    if sample is None:
        raise StudioError(f"There is no sample called {key!r}; pick one from the list.")
    if not sample.path.is_file():
        raise StudioError(f"The sample file {sample.file} is missing from sample_data/.")
    template = get_template(sample.template)
    app = store.create_app(
        _unused_name(store, owner, f"Demo: {sample.title}"),
        owner=owner,
        description=f"Made from sample_data/{sample.file}",
    )
    try:
        tokenizer, why = default_tokenizer(settings)
        version, _report = create_version(
            store,
            settings,
            app["id"],
            Path(sample.file).stem,
            [str(sample.path)],
            tokenizer=tokenizer,
            token_note=why,
            tokenizer_name=PACKAGED_HUB_ID.split("/")[-1],
        )
        hyper = {**default_hyper(template), **sample.hyper}
        hyper["valid_pct"] = version.get("valid_pct", hyper.get("valid_pct", 10.0))
        model = save_model(
            store,
            settings,
            caller,
            app["id"],
            f"{sample.key}-demo",
            template.key,
            sample.model_type,
            version["id"],
            hyper,
            default_dicts(template, sample.model_type),
        )
    except BaseException:
        store.delete_app(app["id"])  # nothing half-made is left behind
        raise
    store.log_activity(app["id"], owner, "created", f"demo app {app['name']} from sample {key}")
    return {"app": app, "version": version, "model": model}

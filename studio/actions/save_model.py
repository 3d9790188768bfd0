"""Save a model: the Models form's settings, validated, stored as a new model (or the next
version of one with the same name).

    model = save_model(store, settings, caller, app_id, "bot", "smollm2-135m-lora", "causal",
                       version_id, hyper, sections)   # ConfigError lists every problem
"""

from __future__ import annotations

from typing import Any

from studio.actions.ownership import Caller, owned_app, owned_version, refuse_server_folder
from studio.configs.hardware import Hardware
from studio.configs.saving import model_config
from studio.configs.validate import check
from studio.errors import StudioError
from studio.settings import Settings
from studio.store import Store
from studio.templates import get_template


def save_model(
    store: Store,
    settings: Settings,
    caller: Caller,
    app_id: str,
    name: str,
    template_key: str,
    model_type: str,
    dataset_version_id: str | None,
    hyper: dict[str, Any],
    sections: dict[str, dict],
    hardware: Hardware | None = None,
    parent_id: str | None = None,
) -> dict:
    """Validate, then create the model row (a new version when the name exists)."""
    owned_app(store, caller, app_id)
    if not (name or "").strip():
        raise StudioError("A model needs a name: type one in the Model name box.")
    refuse_server_folder(caller, hyper.get("base_model"))
    owned_version(store, caller, app_id, dataset_version_id)
    template = get_template(template_key)
    check(template, hyper, sections, hardware, model_type, settings)
    model = store.create_model(
        app_id,
        name.strip(),
        template.key,
        model_type,
        dataset_version_id,
        model_config(sections, hyper),
        parent_id=parent_id or None,
    )
    detail = f"model {model['name']} v{model['version']} ({model['id']})"
    store.log_activity(app_id, caller.owner, "saved", detail)
    return model

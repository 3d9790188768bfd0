"""Import an adapter: a LoRA adapter zip exported elsewhere becomes a model of the app that
Generate and Evaluate can use (checked by studio.export.importer before anything is kept).

    job = import_adapter(store, settings, caller, app_id, "/tmp/adapter.zip", base=None)
"""

from __future__ import annotations

from pathlib import Path

from studio.actions.ownership import Caller, owned_app, refuse_server_folder
from studio.errors import StudioError
from studio.export.importer import import_adapter_zip
from studio.jobs.limits import check_storage
from studio.settings import Settings


def import_adapter(
    store,
    settings: Settings,
    caller: Caller,
    app_id: str,
    zip_path: str | Path | None,
    base: str | None = None,
) -> dict:
    """The "import" job that holds the adapter (status succeeded)."""
    owned_app(store, caller, app_id)
    if not zip_path:
        raise StudioError("Choose an adapter .zip to import.")
    check_storage(store, settings, caller.owner)
    refuse_server_folder(caller, base)
    job = import_adapter_zip(store, settings, app_id, zip_path, base or None)
    store.log_activity(app_id, caller.owner, "imported", f"adapter as job {job['id']}")
    return job

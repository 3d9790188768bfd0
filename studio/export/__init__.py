"""Take a trained model away (adapter zip, merged model, Hub) or bring one in (adapter zip).

Public API:
    export_adapter_zip(store, settings, job_id) -> Path
    export_merged_zip(store, settings, job_id) -> Path
    push_to_hub(store, settings, job_id, repo_id, token, merged=False) -> url
    import_adapter_zip(store, settings, app_id, zip_path, confirmed_base=None) -> job row
    model_card(store, job) -> README.md text
Everything is written under settings.home/exports/<app_id>/. No torch at import time.
"""

from studio.export.adapter import export_adapter_zip, export_merged_zip
from studio.export.card import model_card
from studio.export.hub import push_to_hub
from studio.export.importer import import_adapter_zip
from studio.export.paths import exports_dir

__all__ = [
    "export_adapter_zip",
    "export_merged_zip",
    "exports_dir",
    "import_adapter_zip",
    "model_card",
    "push_to_hub",
]

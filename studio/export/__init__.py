"""Take a trained model away (adapter zip, merged model, Hub) or bring one in (adapter zip).

Public API:
    export_adapter_zip(store, settings, model) -> Path        # model: a jobs.trained.TrainedModel
    export_merged_zip(store, settings, model) -> Path
    export_gguf_zip(store, settings, model, qtype) -> Path    # (studio.export.gguf)
    push_to_hub(store, settings, model, repo_id, token, merged=False) -> url
    import_adapter_zip(store, settings, app_id, zip_path, confirmed_base=None) -> job row
    model_card(store, model) -> README.md text
The use cases around them (who may export what, the activity log): studio.actions.export.
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

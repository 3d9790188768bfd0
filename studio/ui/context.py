"""What every tab's builder receives: settings, the store, the job runner, shared components.

The current app lives in the browser (`browser_app`, a gr.BrowserState that survives a
reload) and is mirrored into `app_id`, a hidden textbox whose `.change` event every tab
listens to so its dropdowns follow the chosen app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.settings import Settings
from studio.store import Store


@dataclass
class UIContext:
    settings: Settings
    store: Store
    runner: Any = None  # studio.jobs.JobRunner; typed loosely so ui never imports heavy code
    app_id: Any = None  # gr.Textbox(visible="hidden"): the current app id ("" when none)
    browser_app: Any = None  # gr.BrowserState: the current app id, kept across reloads
    models_changed: Any = None  # gr.Textbox(visible="hidden"): bumped when a model is saved
    data_changed: Any = None  # gr.Textbox(visible="hidden"): bumped when a dataset version is added
    jobs_changed: Any = None  # gr.Textbox(visible="hidden"): bumped when a job is created
    extra: dict = field(default_factory=dict)

    def owner(self, request: Any = None) -> str:
        """The signed-in user's name, or the configured local owner when sign-in is off."""
        user = getattr(request, "username", None) if request is not None else None
        return user or self.settings.owner

    def current_app(self, app_id: str | None) -> dict | None:
        """The app row for an id from the page, or None when nothing (valid) is chosen."""
        if not app_id:
            return None
        try:
            return self.store.get_app(app_id)
        except Exception:
            return None

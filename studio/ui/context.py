"""What every tab's builder receives: settings, the store, the job runner, shared components.

The current app lives in the browser (`browser_app`, a gr.BrowserState that survives a
reload) and is mirrored into `app_id`, a hidden textbox whose `.change` event every tab
listens to so its dropdowns follow the chosen app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gradio.context import LocalContext

from studio.actions.ownership import Caller, refuse_server_folder
from studio.errors import NotFoundError, StudioError
from studio.generate.slots import GenerationSlots
from studio.jobs.limits import check_storage
from studio.settings import Settings
from studio.store import Store


class NotSignedInError(StudioError):
    """A request without a user while sign-in is on (normally refused before a handler)."""


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
    # tab id -> the gr.Timer that polls for that tab; it ticks only while its tab is shown
    polls: dict[str, Any] = field(default_factory=dict)
    # id(component) -> the kind of id its value is (studio.ui.id_guard checks each one)
    id_inputs: dict[int, str] = field(default_factory=dict)

    blocks: Any = None  # the gr.Blocks, once built
    uploads: Any = None  # studio.signin.uploads.UploadOwners with sign-in on: who sent each file
    slots: Any = None  # studio.generate.slots.GenerationSlots, shared with /v1

    def __post_init__(self):
        if self.slots is None:
            self.slots = GenerationSlots(self.settings.generate_workers, self.settings.signed_in)

    def carries(self, component: Any, kind: str) -> Any:
        """Declare that `component`'s value is an id of `kind` (app, version, model, job,
        ref, key, job_table, upload): every event that reads it has the id checked against its
        caller first (studio.ui.id_guard). Returns the component."""
        self.id_inputs[id(component)] = kind
        return component

    # -- who is asking: every handler's ownership goes through these -----------------
    def owner(self, request: Any = None) -> str:
        """The signed-in user's name, or the configured local owner when sign-in is off.

        Without `request`, the request of the Gradio event being handled is used, so helpers
        deep in a tab see the same user as its handler.
        """
        if request is None:
            request = LocalContext.request.get(None)
        user = getattr(request, "username", None) if request is not None else None
        if not self.settings.signed_in:
            return user or self.settings.owner
        if not user:  # fail closed: never fall back to a shared owner
            raise NotSignedInError("Sign in first (reload the page to reach the login).")
        return user

    def is_admin(self, request: Any = None) -> bool:
        return self.settings.signed_in and self.owner(request) in self.settings.admins

    def scope(self, request: Any = None) -> str | None:
        """The owner whose rows this request may touch; None = all (admin, or sign-in off,
        where the single local owner sees everything as before)."""
        if not self.settings.signed_in or self.is_admin(request):
            return None
        return self.owner(request)

    def current_app(self, app_id: str | None, request: Any = None) -> dict | None:
        """The app row for an id from the page, or None when nothing (valid, own) is chosen."""
        if not app_id:
            return None
        try:
            return self.store.app_of(self.scope(request), app_id)
        except NotFoundError:
            return None

    def app(self, app_id: str | None, request: Any = None) -> dict:
        """The app row, or NotFoundError (missing and not-yours read the same)."""
        return self.store.app_of(self.scope(request), app_id)

    def job(
        self, job_id: str | None, request: Any = None, kinds: tuple[str, ...] | None = None
    ) -> dict:
        """The job row, or NotFoundError (missing, not-yours and not-of-`kinds` read the same)."""
        return self.store.job_of(self.scope(request), job_id, kinds)

    def model(self, model_id: str | None, request: Any = None) -> dict:
        return self.store.model_of(self.scope(request), model_id)

    def version(self, version_id: str | None, request: Any = None) -> dict:
        return self.store.version_of(self.scope(request), version_id)

    def caller(self, request: Any = None) -> Caller:
        """Who asks, as the use cases (studio.actions) take it."""
        admin = self.is_admin(request)
        return Caller(
            self.owner(request), self.scope(request), not self.settings.signed_in or admin
        )

    def refuse_server_folder(self, name: str | None, what: str = "Base model") -> None:
        """With sign-in on, only administrators may name a folder on the server as a model."""
        refuse_server_folder(self.caller(), name, what)

    def check_storage(self, request: Any = None) -> None:
        """Refuse (LimitError) when the current user is at their storage limit (their
        uploads waiting in Gradio's cache count too)."""
        owner = self.owner(request)
        waiting = self.uploads.bytes_of(owner) if self.uploads is not None else 0
        check_storage(self.store, self.settings, owner, waiting)

    def cancel(self, job_id: str, kind: str, noun: str) -> dict:
        """Cancel the caller's own job of `kind` (an admin: anyone's; another user's, or a
        job of another kind, is "not found"), record it in the app's activity log, and
        return the job row as the runner left it."""
        app_id = self.job(job_id, kinds=(kind,))["app_id"]
        job = self.runner.cancel(job_id)
        self.audit(app_id, "cancelled", f"{noun} job {job_id}")
        return job

    def audit(self, app_id: str, action: str, detail: str = "", request: Any = None) -> None:
        """Record in the app's activity log that the current user did `action`."""
        self.store.log_activity(app_id, self.owner(request), action, detail)

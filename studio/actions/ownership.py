"""Who asks, and the one ownership guard every use case goes through.

    caller = Caller.local(settings)                     # the CLI, the benches: every row
    app = owned_app(store, caller, app_id)              # or StudioError: choose an app first
    job = owned_job(store, caller, app_id, job_id)      # someone else's reads as missing
    model = owned_model(store, caller, app_id, model_id)

The rule itself is the store's (studio.store.owners): `<thing>_of(scope, id)` returns the row
when the scope may see it and raises the same NotFoundError whether the id is missing or
someone else's. The guard adds what every use case asks next: is it one of the app the page
has chosen? Each answers in the words the page shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.errors import NotFoundError, StudioError
from studio.generate.refs import names_server_folder
from studio.settings import Settings

NO_APP = "Choose or create an app in the **Apps** tab first."


@dataclass(frozen=True)
class Caller:
    """Who runs a use case: the owner recorded with what they make (apps, activity, storage),
    whose rows they may touch (`scope`; None: every row, an administrator or sign-in off),
    and whether they may name a folder on the server as a model."""

    owner: str
    scope: str | None = None
    server_folders: bool = True

    @classmethod
    def local(cls, settings: Settings) -> Caller:
        """The local user of a studio without sign-in (the CLI, the benches)."""
        return cls(settings.owner, None, True)


def owned_app(store, caller: Caller, app_id: str | None) -> dict:
    """The app row, or StudioError(NO_APP) when none (of the caller's) is chosen."""
    if not app_id:
        raise StudioError(NO_APP)
    try:
        return store.app_of(caller.scope, app_id)
    except NotFoundError:
        raise StudioError(NO_APP) from None


def _in_app(row: dict, app_id: str | None, other_app: str) -> dict:
    if app_id is not None and row.get("app_id") != app_id:
        raise StudioError(other_app)
    return row


def owned_model(
    store,
    caller: Caller,
    app_id: str | None,
    model_id: str | None,
    missing: str = "Choose a model configuration first (save one in the Models tab).",
) -> dict:
    """The saved model row the caller may touch, in app `app_id` (None: any of theirs)."""
    if not model_id:
        raise StudioError(missing)
    row = store.model_of(caller.scope, model_id)  # someone else's is "not found"
    return _in_app(
        row, app_id, "That model configuration belongs to another app; pick one from the list."
    )


def owned_job(
    store,
    caller: Caller,
    app_id: str | None,
    job_id: str | None,
    missing: str = "Choose a trained model first (train one in the Train tab).",
) -> dict:
    """The job row the caller may touch, in app `app_id` (None: any of theirs)."""
    if not job_id:
        raise StudioError(missing)
    row = store.job_of(caller.scope, job_id)
    return _in_app(row, app_id, "That model belongs to another app; pick one from the list.")


def owned_version(store, caller: Caller, app_id: str, version_id: str | None) -> dict:
    """The dataset version row the caller may touch, one of app `app_id`'s."""
    if not version_id:
        raise StudioError(
            "Choose the dataset version to train on (add one in the Inputs tab if the list is "
            "empty)."
        )
    row = store.version_of(caller.scope, version_id)
    if not store.belongs_to_app("dataset_versions", version_id, app_id):
        raise StudioError(
            "That dataset version is not one of this app's; choose one from the list "
            "(refresh it after adding data in the Inputs tab)."
        )
    return row


def server_folder_problem(caller: Caller, name: str | None) -> str | None:
    """Why `name` may not be used as a model (with sign-in on, only administrators may name a
    folder on the server), or None when it may."""
    if name and not caller.server_folders and names_server_folder(name.strip()):
        return (
            "that name is a folder on the server; with sign-in on, use a template's "
            "model or a Hugging Face id (an administrator can add folders)."
        )
    return None


def refuse_server_folder(caller: Caller, name: str | None, what: str = "Base model") -> None:
    """With sign-in on, only administrators may name a folder on the server as a model."""
    if why := server_folder_problem(caller, name):
        raise StudioError(f"{what}: {why}")

"""The shared studio of the team tests (test_teams*.py): sign-in with a users file (ann,
bob and root, an administrator), an API key each, served by uvicorn for one test module."""

from __future__ import annotations

import pytest
from gradio_client import Client

from studio.settings import Settings
from studio.users import add_user
from tests.helpers import serve


@pytest.fixture(scope="module")
def studio(tmp_path_factory, models_cache):
    home = tmp_path_factory.mktemp("teams")
    patch = pytest.MonkeyPatch()
    patch.setenv("GRADIO_TEMP_DIR", str(home / "gradio"))
    users = home / "users.txt"
    add_user(users, "ann", "ann-password")
    add_user(users, "bob", "bob-password")
    add_user(users, "root", "root-password")
    import app

    settings = Settings.from_env(
        home=home / "home",
        models_root=models_cache,
        port=0,
        sign_in="users",
        users_file=users,
        admins=("root",),
    )
    fastapi_app, _, ctx = app.create_server(settings, start_runner=False)
    keys = {u: ctx.store.create_api_key(u, "test")[1] for u in ("ann", "bob", "root")}
    with serve(fastapi_app) as url:
        clients = {
            u: Client(url, verbose=False, headers={"Authorization": f"Bearer {k}"})
            for u, k in keys.items()
        }
        yield url, ctx, keys, clients
        for c in clients.values():
            c.close()
    patch.undo()

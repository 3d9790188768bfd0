"""Files and routes of a shared studio: exports are served to their app's owner, an
upload to its uploader, and no route answers a request without a user."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.integration.teams import file_data, raw_call


def _file_url(event_stream: str) -> str:
    """The /gradio_api/file= link of the file an event's answer carries."""
    import re

    found = re.search(r'"url": ?"([^"]+/gradio_api/file=[^"]+)"', event_stream)
    assert found, event_stream
    return found.group(1)


def test_exports_are_served_only_to_their_owner(studio, tiny_causal_dir):
    url, ctx, keys, _ = studio
    from tests.support.trained import make_trained_run

    run = make_trained_run(ctx.store, ctx.settings, tiny_causal_dir)
    with ctx.store.transaction() as conn:  # the trained run is ann's
        conn.execute("UPDATE apps SET owner = 'ann' WHERE id = ?", (run["app_id"],))
    out = raw_call(url, keys["ann"], "export_adapter", [run["app_id"], run["job_id"]])
    link = _file_url(out)
    served = link.split("/gradio_api/file=", 1)[1]
    # Served from the app's exports folder itself: no copy in Gradio's cache.
    assert served.startswith(str(ctx.settings.home / "exports" / run["app_id"]))
    with httpx.Client(timeout=60) as http:
        for user, status in (("ann", 200), ("root", 200), ("bob", 404)):
            r = http.get(link, headers={"Authorization": f"Bearer {keys[user]}"})
            assert r.status_code == status, (user, r.status_code)
        r = http.head(link, headers={"Authorization": f"Bearer {keys['bob']}"})
        assert r.status_code == 404
        # A path that walks out and back in is resolved before it is judged.
        sneaky = link.replace(run["app_id"], run["app_id"] + "/../" + run["app_id"])
        r = http.get(sneaky, headers={"Authorization": f"Bearer {keys['bob']}"})
        assert r.status_code == 404


def _send(url: str, key: str, name: str, data: bytes) -> str:
    """Upload a file the way gradio_client does; returns the server path it was stored at."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        r = http.post("/gradio_api/upload", files={"files": (name, data)})
        assert r.status_code == 200, r.text
        return r.json()[0]


def test_an_upload_is_readable_only_by_its_uploader(studio):
    url, ctx, keys, _ = studio
    path = _send(url, keys["bob"], "bob-notes.csv", b"text\nbob's private line\n")
    assert ctx.uploads.owner_of(path) == "bob"
    link = f"{url}/gradio_api/file={path}"
    with httpx.Client(timeout=60) as http:
        for user, status in (("bob", 200), ("root", 200), ("ann", 404)):
            r = http.get(link, headers={"Authorization": f"Bearer {keys[user]}"})
            assert r.status_code == status, (user, r.status_code)
    # Handed to an event by another user, the path reads like a file never uploaded.
    theirs = raw_call(url, keys["ann"], "detect_columns", [[file_data(path)], "", "", {}])
    missing_path = str(Path(path).parent.with_name("0" * 64) / Path(path).name)
    missing = raw_call(url, keys["ann"], "detect_columns", [[file_data(missing_path)], "", "", {}])
    assert "bob's private line" not in theirs

    def answer(stream: str) -> str:
        return stream.split("event: ", 2)[-1].replace(path, "P").replace(missing_path, "P")

    assert answer(theirs) == answer(missing)


def _routes(app, prefix: str = "") -> list[tuple[str, set]]:
    """(path, methods) of every route the server answers, mounted apps included."""
    found = []
    for route in app.routes:
        path = prefix + getattr(route, "path", "")
        inner = getattr(route, "app", None)
        included = getattr(route, "original_router", None)  # an included router (FastAPI)
        if included is not None:
            found += _routes(included, prefix + route.include_context.prefix)
        elif hasattr(inner, "routes") and not hasattr(route, "endpoint"):
            found += _routes(inner, path)
        elif getattr(route, "methods", None):
            found.append((path, set(route.methods)))
    return found


def test_no_route_answers_an_anonymous_request(studio):
    """Deny by default: every route of the server, Gradio's included, refuses a request
    without a user (401, or the login page for a browser), but the login routes."""
    import re

    import app as studio_app
    from studio.signin.middleware import is_public

    url, ctx, *_ = studio
    same_routes, _, _ = studio_app.create_server(ctx.settings, start_runner=False)
    answered = []
    with httpx.Client(base_url=url, timeout=5) as http:
        for path, methods in _routes(same_routes):
            if is_public(path) or path == "":  # the login routes; /v1 answers its own 401
                continue
            concrete = re.sub(r"\{[^}]+\}", "x", path) or "/"
            method = "GET" if "GET" in methods else sorted(methods)[0]
            try:
                with http.stream(method, concrete, headers={"accept": "application/json"}) as r:
                    status = r.status_code
            except httpx.ReadTimeout:
                status = "held open"
            if status == "held open" or (isinstance(status, int) and status < 300):
                answered.append((method, concrete, status))
    assert not answered, "\n".join(map(str, answered))

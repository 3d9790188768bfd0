"""The Settings panel's handlers: who you are, your API keys (create, list, revoke), the
studio's whole activity log for administrators, and the sign-in warning under the
page's title. Keys are made and revoked from a signed-in browser only, never by a
request that carries a key.
"""

from __future__ import annotations

import datetime as dt

import gradio as gr

from studio.errors import StudioError
from studio.signin import bearer_key
from studio.ui.apps.views import when
from studio.ui.common import user_errors
from studio.ui.context import UIContext


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts else "never"


def sign_in_banner(ctx: UIContext) -> str:
    """The line under the title: the loud warning when the studio is open to a network."""
    s = ctx.settings
    if not s.signed_in and not s.loopback:
        return (
            f"⚠️ **Sign-in is off and the studio listens on {s.host}**: anyone who reaches "
            "it can see, change and delete every app. Set `STUDIO_USERS` (or `hf_oauth` "
            "on a Space) — see the README, *Running a private team studio*."
        )
    return ""


def rows(ctx: UIContext, request: gr.Request | None):
    """The user's API keys as table rows (the secret is never among them)."""
    return [
        [k["id"], k["name"], k["prefix"] + "…", _when(k["created_at"]), _when(k["last_used_at"])]
        for k in ctx.store.list_api_keys(ctx.owner(request))
    ]


@user_errors
def show(ctx: UIContext, request: gr.Request = None):
    user = ctx.owner(request)
    line = (
        f"Signed in as **{user}**"
        if ctx.settings.signed_in
        else (f"Sign-in is off: everything belongs to **{user}**; keys are not needed.")
    )
    if ctx.settings.sign_in == "users":
        line += " · [Sign out](/logout)"
    admin = ctx.is_admin(request)
    if admin:
        line += " · administrator (sees every app)"
    return line, rows(ctx, request), studio_activity(ctx, request), gr.update(visible=admin)


def studio_activity(ctx: UIContext, request: gr.Request | None) -> list[list]:
    """The whole studio's activity for an administrator (every app, sign-ins, keys);
    nothing for anyone else."""
    if not ctx.is_admin(request):
        return []
    return [
        [when(e["created_at"]), e["user"], e["action"], e["app_name"], e["detail"]]
        for e in ctx.store.list_all_activity()
    ]


class KeyManagementError(StudioError):
    """Keys are made and revoked from a signed-in browser only."""


def _from_the_browser(ctx: UIContext, request: gr.Request | None) -> None:
    """Refuse a request authenticated by an API key: a leaked key must not mint keys that
    outlive its revocation, nor revoke its owner's other keys."""
    if ctx.settings.signed_in and request is not None and bearer_key(request) is not None:
        raise KeyManagementError(
            "API keys cannot create or revoke API keys: sign in with the browser and use "
            "Settings: account and API keys."
        )


@user_errors
def create_key(ctx: UIContext, name: str, request: gr.Request = None):
    _from_the_browser(ctx, request)
    row, secret = ctx.store.create_api_key(ctx.owner(request), name)
    ctx.audit("", "created API key", f"{row['id']} {row['name']}".strip(), request)
    return (
        gr.Textbox(value=secret, visible=True),
        rows(ctx, request),
        "",
        f"Created key **{row['id']}**. Send it as `Authorization: Bearer <key>`.",
    )


@user_errors
def revoke_key(ctx: UIContext, key_id: str, request: gr.Request = None):
    _from_the_browser(ctx, request)
    ctx.store.revoke_api_key(ctx.owner(request), (key_id or "").strip())
    ctx.audit("", "revoked API key", (key_id or "").strip(), request)
    return rows(ctx, request), "", gr.Textbox(value="", visible=False), f"Revoked {key_id}."

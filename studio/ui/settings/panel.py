"""The Settings panel: who you are, sign out, your API keys (create, list, revoke), and for
administrators the whole studio's activity.

A key is shown once, when it is made; the store keeps only its hash. Keys are what
/v1 and gradio_client calls send (`Authorization: Bearer tgs-...`) when sign-in is on.
"""

from __future__ import annotations

import gradio as gr

from studio.ui.common import bind
from studio.ui.context import UIContext
from studio.ui.settings import handlers as h

KEY_HEADERS = ["Id", "Name", "Starts with", "Created", "Last used"]
STUDIO_ACTIVITY_HEADERS = ["When", "Who", "What", "App", "Details"]


def build_settings_panel(ctx: UIContext) -> None:
    with gr.Accordion("Settings: account and API keys", open=False, elem_id="settings-panel"):
        who = gr.Markdown(elem_id="settings-who")
        if ctx.settings.sign_in == "hf":
            gr.LoginButton()
        with gr.Row():
            key_name = gr.Textbox(
                label="New key name (optional)", elem_id="settings-key-name", max_length=80, scale=3
            )
            create = gr.Button("Create API key", elem_id="settings-key-create", scale=1)
        shown = gr.Textbox(
            label="Your new key (copy it now: it is not shown again)",
            interactive=False,
            elem_id="settings-key-secret",
            buttons=["copy"],
            visible=False,
        )
        keys = gr.Dataframe(headers=KEY_HEADERS, interactive=False, elem_id="settings-keys")
        with gr.Row():
            revoke_id = gr.Textbox(
                label="Key id to revoke", elem_id="settings-key-revoke-id", scale=3
            )
            revoke = gr.Button("Revoke", variant="stop", elem_id="settings-key-revoke", scale=1)
        note = gr.Markdown(elem_id="settings-message")
        with gr.Accordion(
            "Studio activity (administrators)", open=False, visible=False
        ) as admin_box:
            everything = gr.Dataframe(
                headers=STUDIO_ACTIVITY_HEADERS,
                interactive=False,
                wrap=True,
                elem_id="settings-studio-activity",
            )
            reload = gr.Button("Refresh", size="sm", elem_id="settings-studio-activity-refresh")

    ctx.carries(revoke_id, "key")
    root = gr.context.Context.root_block
    if root is not None:
        root.load(
            bind(ctx, h.show),
            None,
            [who, keys, everything, admin_box],
            api_visibility="private",
            api_name="show",
        )
    reload.click(
        bind(ctx, h.studio_activity),
        None,
        [everything],
        api_visibility="private",
        api_name="studio_activity",
    )
    create.click(
        bind(ctx, h.create_key),
        [key_name],
        [shown, keys, key_name, note],
        api_visibility="private",
        api_name="create_key",
    )
    revoke.click(
        bind(ctx, h.revoke_key),
        [revoke_id],
        [keys, revoke_id, shown, note],
        api_visibility="private",
        api_name="revoke_key",
    )

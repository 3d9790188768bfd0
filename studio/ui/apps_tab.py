"""The Apps tab (being built; see the issue for this step)."""

from __future__ import annotations

import gradio as gr

from studio.ui.context import UIContext


def build_apps_tab(ctx: UIContext) -> None:
    with gr.Tab("Apps", id="apps"):
        gr.Markdown("## Apps")

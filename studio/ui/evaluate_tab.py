"""The Evaluate / Export tab (being built; see the issue for this step)."""

from __future__ import annotations

import gradio as gr

from studio.ui.context import UIContext


def build_evaluate_tab(ctx: UIContext) -> None:
    with gr.Tab("Evaluate / Export", id="evaluate"):
        gr.Markdown("## Evaluate / Export")

"""The Train tab (being built; see the issue for this step)."""

from __future__ import annotations

import gradio as gr

from studio.ui.context import UIContext


def build_train_tab(ctx: UIContext) -> None:
    with gr.Tab("Train", id="train"):
        gr.Markdown("## Train")

"""The Generate tab: try a trained (or base) model with every decoding strategy, streamed.

Modes: Instruction (the training prompt format, rendered live so the user sees exactly what
is sent), Free text, Chat (the model's chat template with the history). Compare runs the same
prompt through a tuned model and its real base (or a second model) side by side. Every
handler is also a Gradio API endpoint: /generate, /compare, /chat (see README).
No torch import here: the engine loads models on first use.
"""

from __future__ import annotations

import inspect

import gradio as gr

from studio.generate.fields import Field
from studio.generate.options import OPTION_TABLE
from studio.generate.strategies import STRATEGIES
from studio.ui.common import bind
from studio.ui.context import UIContext
from studio.ui.generate.form import (
    OPTION_FIELDS,
    STRATEGY_FIELDS,
    TOGGLED_FIELDS,
    named_parameters,
)
from studio.ui.generate.handlers import (
    N_STALE,
    chat,
    compare,
    follow_model,
    generate,
    on_tab,
    refresh_models,
    render_preview,
    show_mode,
)

STREAM_CONCURRENCY = 2  # streams at once per listener, so one user's stream blocks no one


def _widget(f: Field, visible: bool) -> gr.components.Component:
    """The form's widget for one option of the table (its range is the table's)."""
    common = {"label": f.label or f.name, "visible": visible, "elem_id": f"gen-{f.name}"}
    if f.choices:
        return gr.Radio(list(f.choices), value=f.default, **common)
    if f.kind is bool:
        return gr.Checkbox(value=f.default, **common)
    if f.kind is list:
        return gr.Textbox(lines=2, **common)
    if f.kind is type(None):  # the seed: a number box shows 0 when empty, which is a seed
        return gr.Textbox(value="", placeholder="random", max_lines=1, **common)
    low, high = f.slider
    step = f.step or (1 if f.kind is int else 0.05)
    return gr.Slider(low, high, value=f.default, step=step, **common)


# Options shown beside the strategy, not folded into Parameters: Speed (exact or the fast
# engine) changes an answer's wait several times over.
IN_VIEW = ("precision",)


def _param_widgets(names=None) -> dict[str, gr.components.Component]:
    """One widget per option (of `names`, default all): the common ones shown, each
    strategy's own shown with it."""
    return {
        name: _widget(f, name not in TOGGLED_FIELDS or name in STRATEGY_FIELDS["greedy"])
        for name, f in OPTION_TABLE.items()
        if names is None or name in names
    }


def with_request(fn):
    """`fn` told the page's gr.Request after its named inputs (Gradio passes it there), so a
    stream knows which browser session it belongs to."""
    sig = inspect.signature(fn)
    request = inspect.Parameter(
        "request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=gr.Request
    )
    fn.__signature__ = sig.replace(parameters=[*sig.parameters.values(), request])
    fn.__annotations__ = {**getattr(fn, "__annotations__", {}), "request": gr.Request}
    return fn


def _visibility(strategy: str) -> list:
    shown = set(STRATEGY_FIELDS.get(strategy, ()))
    toggled = TOGGLED_FIELDS
    return [gr.update(visible=name in shown) for name in toggled], toggled


def build_generate_tab(ctx: UIContext) -> None:
    with gr.Tab("Generate", id="generate") as tab:
        gr.Markdown(
            "## Generate\nTry a trained model (or a base model) with any decoding "
            "strategy. Compare runs the same prompt through the tuned model and its "
            "base side by side."
        )
        with gr.Row():
            model = gr.Dropdown(
                label="Model", choices=[], elem_id="gen-model", scale=4, allow_custom_value=True
            )
            refresh = gr.Button("Refresh list", size="sm", scale=1)
            mode = gr.Radio(
                ["Instruction", "Free text", "Chat"],
                value="Instruction",
                label="Mode",
                elem_id="gen-mode",
                scale=3,
            )
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Group() as inst_box:
                    instruction = gr.Textbox(
                        label="Instruction", lines=2, elem_id="gen-instruction"
                    )
                    input_text = gr.Textbox(label="Input", lines=4, elem_id="gen-input")
                    preview = gr.Textbox(
                        label="Prompt sent to the model (rendered as in training)",
                        interactive=False,
                        lines=3,
                        elem_id="gen-prompt-preview",
                    )
                text = gr.Textbox(
                    label="Text to continue", lines=6, visible=False, elem_id="gen-text"
                )
                with gr.Group(visible=False) as chat_box:
                    chatbot = gr.Chatbot(label="Conversation", elem_id="gen-chat", height=320)
                    message = gr.Textbox(label="Message", elem_id="gen-chat-message")
                    with gr.Row():
                        send = gr.Button("Send", variant="primary", elem_id="gen-chat-send")
                        clear = gr.Button("Clear conversation")
                # The buttons sit under the prompt, and the answer beside it, so both are
                # in view at 1000 px without scrolling.
                with gr.Row(elem_id="gen-actions") as actions:
                    run = gr.Button("Generate", variant="primary", elem_id="gen-run")
                    compare_run = gr.Button("Compare", elem_id="gen-compare-run")
                    compare_with = gr.Dropdown(
                        label="Compare with (empty = the model's own base)",
                        choices=[],
                        value=None,
                        elem_id="gen-compare-with",
                        allow_custom_value=True,
                    )
            with gr.Column(scale=2):
                stats = gr.Markdown(elem_id="gen-stats")
                output = gr.Textbox(label="Output", lines=8, elem_id="gen-output")
                strategy = gr.Radio(
                    list(STRATEGIES),
                    value="greedy",
                    label="Decoding strategy",
                    elem_id="gen-strategy",
                )
                params = _param_widgets(IN_VIEW)
                with gr.Accordion("Parameters", open=False):
                    params |= _param_widgets([n for n in OPTION_TABLE if n not in IN_VIEW])
        busy = gr.Markdown(elem_id="gen-cpu-note")
        with gr.Row():
            with gr.Column():
                left = gr.Textbox(label="Left: chosen model", lines=8, elem_id="gen-compare-left")
                left_stats = gr.Markdown(elem_id="gen-compare-left-stats")
            with gr.Column():
                right = gr.Textbox(
                    label="Right: its base (or the second model)",
                    lines=8,
                    elem_id="gen-compare-right",
                )
                right_stats = gr.Markdown(elem_id="gen-compare-right-stats")

    option_inputs = [strategy] + [params[n] for n in OPTION_FIELDS[1:]]

    listed = gr.State(None)  # the model choices last sent to this page
    ctx.carries(model, "ref")
    ctx.carries(compare_with, "ref")

    lists = [ctx.app_id, model, compare_with, listed]
    refresh_lists = bind(ctx, refresh_models)  # one listener function: one concurrency group
    for trigger in (ctx.app_id.change, ctx.jobs_changed.change, refresh.click):
        trigger(refresh_lists, lists, [model, compare_with, listed], api_visibility="private")

    tab.select(
        bind(ctx, on_tab),
        [*lists, busy],
        [model, compare_with, listed, busy],
        api_visibility="private",
        show_progress="hidden",
        api_name="on_tab",
    )

    stale = [output, stats, left, right, left_stats, right_stats]
    assert len(stale) == N_STALE

    mode.change(
        show_mode,
        [mode],
        [inst_box, text, chat_box, actions, *stale],
        api_visibility="private",
        api_name="show_mode",
    )

    prefilled = gr.State("")  # the instruction this tab last filled in for a model

    model.change(
        bind(ctx, follow_model),
        [model, instruction, prefilled],
        [*stale, instruction, prefilled, busy],
        api_visibility="private",
        show_progress="hidden",
        api_name="follow_model",
    )
    _, toggled = _visibility("greedy")
    strategy.change(
        lambda s: _visibility(s)[0],
        [strategy],
        [params[n] for n in toggled],
        api_visibility="private",
        api_name="lambda",
    )

    # One listener for all three fields: while a render runs, further edits queue a single
    # rerun with the latest values, so the preview always ends on what the form holds now.
    gr.on(
        [model.change, instruction.change, input_text.change],
        bind(ctx, render_preview),
        [model, instruction, input_text],
        [preview],
        api_visibility="private",
        trigger_mode="always_last",
        show_progress="hidden",
        api_name="render_preview",
    )

    run.click(
        with_request(
            named_parameters(
                bind(ctx, generate), ["model", "mode", "instruction", "input_text", "text"]
            )
        ),
        [model, mode, instruction, input_text, text, *option_inputs],
        [output, stats],
        api_name="generate",
        concurrency_limit=STREAM_CONCURRENCY,
    )

    compare_run.click(
        with_request(
            named_parameters(
                bind(ctx, compare),
                ["model", "compare_with", "mode", "instruction", "input_text", "text"],
            )
        ),
        [model, compare_with, mode, instruction, input_text, text, *option_inputs],
        [left, right, left_stats, right_stats],
        api_name="compare",
        concurrency_limit=STREAM_CONCURRENCY,
        show_progress_on=[left_stats, right_stats],
    )
    # A click on the other button while one streams stops that stream (its handler sees its
    # ticket stopped, says so and returns: streams.py); both listeners run at once.

    gr.on(
        [send.click, message.submit],
        named_parameters(bind(ctx, chat), ["model", "history", "message"]),
        [model, chatbot, message, *option_inputs],
        [chatbot, message, stats],
        api_name="chat",
        concurrency_limit=STREAM_CONCURRENCY,
        show_progress_on=[chatbot],
    )
    clear.click(
        lambda: ([], ""), None, [chatbot, stats], api_visibility="private", api_name="lambda"
    )

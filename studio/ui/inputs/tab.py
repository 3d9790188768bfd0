"""The Inputs tab: upload files or paste examples, map columns, create a dataset version,
see what was rejected and why, and preview the examples exactly as the model will see them.

The heavy part (the tokenizer for the token-length histogram: the base model the user picks,
SmolLM2 by default) loads lazily on the first upload and is cached
(studio.data.stats.stats_tokenizer); when it cannot load, the stats say why.
"""

from __future__ import annotations

import gradio as gr

from studio.data.readers import ACCEPTED_TEXT
from studio.data.shapes import SHAPES
from studio.models.resolve import PACKAGED_REF
from studio.ui.common import NO_APP, bind, hidden_until_file, user_errors
from studio.ui.context import UIContext
from studio.ui.inputs.handlers import (
    MAPPING_FIELDS,
    NONE_CHOICE,
    detect_columns,
    on_app,
    show_version,
    token_models,
    upload_dataset,
)
from studio.ui.inputs.preview import (
    PREVIEW_HEADERS,
    REJECT_HEADERS,
    VERSION_HEADERS,
    VERSION_WIDTHS,
)


def build_inputs_tab(ctx: UIContext) -> None:
    """The tab's layout and its wiring to its handlers (handlers.py)."""
    settings = ctx.settings

    with gr.Tab("Inputs", id="inputs"):
        gr.Markdown(
            "## Inputs\nUpload examples; each upload makes a new, immutable dataset "
            "version with its own train / validation split."
        )
        no_app = gr.Markdown(NO_APP, elem_id="inputs-no-app")
        with gr.Row():
            files = gr.File(
                label=f"Files ({ACCEPTED_TEXT})",
                file_count="multiple",
                type="filepath",
                elem_id="inputs-upload",
            )
            pasted = gr.Textbox(
                value="",
                label="…or paste examples (one per line, JSONL, or CSV)",
                lines=8,
                elem_id="inputs-paste",
            )
        with gr.Row():
            name = gr.Textbox(
                value="",
                label="Dataset name",
                elem_id="inputs-name",
                max_length=80,
                placeholder="defaults to the first file's name",
            )
            valid_pct = gr.Slider(
                0, 50, value=10, step=1, label="Validation share (%)", elem_id="inputs-valid-pct"
            )
            seed = gr.Number(42, precision=0, label="Split seed", elem_id="inputs-seed")
            count_with = gr.Dropdown(
                token_models(settings),
                value=PACKAGED_REF,
                label="Count tokens with (the base model you will train)",
                elem_id="inputs-tokenizer",
            )
        # Above the mapping step, which appears under it once a paste or a file is read: a
        # button that moved down while it was being pressed lost the click.
        submit = gr.Button("Create version", variant="primary", elem_id="inputs-submit")
        with gr.Accordion(
            "Column mapping", open=True, visible=False, elem_id="inputs-mapping"
        ) as mapping_box:
            detected_note = gr.Markdown()
            shape = gr.Dropdown(
                [(label, key) for key, label in SHAPES.items()],
                value="text",
                label="Shape",
                elem_id="inputs-shape",
            )
            with gr.Row():
                columns = {
                    f: gr.Dropdown(
                        [NONE_CHOICE],
                        value="",
                        label=f"{f.title()} column",
                        elem_id=f"inputs-col-{f}",
                    )
                    for f in MAPPING_FIELDS
                }
            instruction_text = gr.Textbox(
                value="",
                label="Instruction for every row (optional; prompt / sentence shapes)",
                elem_id="inputs-instruction-text",
            )
        detected = gr.State({})
        counts = gr.Markdown(elem_id="inputs-counts")
        rejects = gr.Dataframe(
            headers=REJECT_HEADERS,
            label="Rejected rows",
            wrap=True,
            interactive=False,
            elem_id="inputs-rejects",
        )
        rejects_file = hidden_until_file(
            gr.File(
                label="All rejected rows (rejects.csv)",
                interactive=False,
                elem_id="inputs-rejects-file",
                visible=False,  # until a version has rejected rows
            )
        )
        gr.Markdown("### Versions")
        # Wrapped, with widths that fit the page: a long "Read as" pushed the counts
        # (accepted, rejected, train, valid) out of sight.
        versions = gr.Dataframe(
            headers=VERSION_HEADERS,
            interactive=False,
            elem_id="inputs-versions",
            wrap=True,
            column_widths=VERSION_WIDTHS,
        )
        pick = gr.Dropdown(label="Preview version", choices=[], elem_id="inputs-version")
        # Fixed widths: the target column stays in view beside a long prompt.
        preview = gr.Dataframe(
            headers=PREVIEW_HEADERS,
            interactive=False,
            wrap=True,
            label="First examples",
            elem_id="inputs-preview",
            column_widths=["5%", "65%", "30%"],
        )
        stats_md = gr.Markdown(elem_id="inputs-stats")
        with gr.Row():
            hist = gr.BarPlot(
                x="tokens",
                y="examples",
                visible=False,
                label="Token length",
                elem_id="inputs-histogram",
            )
            label_plot = gr.BarPlot(
                x="label", y="examples", visible=False, label="Labels", elem_id="inputs-labels"
            )

    col_list = [columns[f] for f in MAPPING_FIELDS]

    files.change(
        bind(ctx, detect_columns),
        [files, pasted, instruction_text, detected],
        [mapping_box, detected_note, shape, *col_list, detected, instruction_text],
        api_name="detect_columns",
        show_progress_on=[detected_note],
    )
    # On change (the last one wins), not on blur: detection on blur showed the mapping while
    # the user was clicking Create version, moving the button away from under the pointer.
    # Not on input: the page fires a textbox's input on key presses only, so a paste (which
    # presses no key, or only Ctrl+V) got no mapping step.
    pasted.change(
        bind(ctx, detect_columns),
        [files, pasted, instruction_text, detected],
        [mapping_box, detected_note, shape, *col_list, detected, instruction_text],
        show_progress_on=[detected_note],
        trigger_mode="always_last",
        api_name="detect_columns",
    )

    submit.click(
        bind(ctx, upload_dataset),
        [
            ctx.app_id,
            files,
            pasted,
            name,
            valid_pct,
            seed,
            shape,
            *col_list,
            instruction_text,
            detected,
            count_with,
        ],
        [
            counts,
            rejects,
            rejects_file,
            versions,
            pick,
            preview,
            stats_md,
            hist,
            label_plot,
            ctx.data_changed,
        ],
        api_name="upload_dataset",
        show_progress_on=[counts],
    )

    ctx.app_id.change(
        bind(ctx, on_app),
        [ctx.app_id],
        [
            no_app,
            versions,
            pick,
            preview,
            stats_md,
            hist,
            label_plot,
            counts,
            rejects,
            rejects_file,
        ],
        api_name="refresh_inputs",
        show_progress_on=[counts],
    )
    ctx.carries(pick, "version")
    ctx.carries(files, "upload")
    pick.input(
        bind(ctx, user_errors(show_version)),
        [pick],
        [preview, stats_md, hist, label_plot],
        api_name="preview_version",
        show_progress_on=[stats_md],
    )
